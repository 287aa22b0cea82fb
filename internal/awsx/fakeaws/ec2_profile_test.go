package fakeaws

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/myappctl/myappctl/internal/awsx"
)

func TestInstancesLaunchWithAnInstanceProfile(t *testing.T) {
	c := New()
	vpc, subnet := network(t, c.EC2)
	sg := group(t, c.EC2, vpc, "web")
	instanceRole(t, c.IAM, "s-frontend", "")
	arn := "arn:aws:iam::" + Account + ":instance-profile/s-frontend"
	run := func(spec *types.IamInstanceProfileSpecification) (*ec2.RunInstancesOutput, error) {
		return c.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(NewestJammyAMI), InstanceType: types.InstanceTypeT2Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet), SecurityGroupIds: []string{sg}, IamInstanceProfile: spec})
	}
	for _, c := range []struct {
		name string
		spec *types.IamInstanceProfileSpecification
		code string
	}{
		{"by name", &types.IamInstanceProfileSpecification{Name: aws.String("s-frontend")}, ""},
		{"by ARN", &types.IamInstanceProfileSpecification{Arn: aws.String(arn)}, ""},
		{"unknown name", &types.IamInstanceProfileSpecification{Name: aws.String("s-nope")}, "InvalidParameterValue"},
		{"unknown ARN", &types.IamInstanceProfileSpecification{Arn: aws.String(arn + "x")}, "InvalidParameterValue"},
		{"name and ARN", &types.IamInstanceProfileSpecification{Name: aws.String("s-frontend"), Arn: aws.String(arn)}, "InvalidParameterCombination"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := run(c.spec)
			if awsx.ErrorCode(err) != c.code {
				t.Fatalf("err = %v, want %q", err, c.code)
			}
			if c.code == "InvalidParameterValue" && !awsx.IsInstanceProfileNotVisible(err) {
				t.Errorf("%v is not recognised as a profile EC2 cannot see", err)
			}
			if err == nil {
				if p := out.Instances[0].IamInstanceProfile; p == nil || aws.ToString(p.Arn) != arn || !strings.HasPrefix(aws.ToString(p.Id), "AIPA") {
					t.Errorf("profile = %+v", p)
				}
			}
		})
	}
	byProfile := &ec2.DescribeInstancesInput{Filters: []types.Filter{awsx.EC2Filter("iam-instance-profile.arn", arn)}}
	out, err := c.EC2.DescribeInstances(ctx, byProfile)
	if err != nil || len(out.Reservations) != 2 || aws.ToString(out.Reservations[0].Instances[0].IamInstanceProfile.Arn) != arn {
		t.Errorf("by profile: %+v, %v", out.Reservations, err)
	}
	// A fresh profile is not seen by EC2 for the next launches, as while IAM propagates it.
	c.IAM.ProfilePropagationCalls = 2
	instanceRole(t, c.IAM, "s-backend", "")
	for i := range 3 {
		_, err := run(&types.IamInstanceProfileSpecification{Name: aws.String("s-backend")})
		if fresh := i < 2; awsx.IsInstanceProfileNotVisible(err) != fresh || !fresh && err != nil {
			t.Errorf("launch %d: %v", i+1, err)
		}
	}
}

func TestAutoScalingLaunchesWithTheTemplatesProfile(t *testing.T) {
	b := newASGBed(t)
	b.c.IAM.ProfilePropagationCalls = 1
	instanceRole(t, b.c.IAM, "web-profile", "")
	data := b.templateData("t2.micro", "v2")
	data.IamInstanceProfile = &types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String("web-profile")}
	if _, err := b.c.EC2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(b.ltID), LaunchTemplateData: data}); err != nil {
		t.Fatal(err)
	}
	versions, err := b.c.EC2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(b.ltID), Versions: []string{"2"}})
	if err != nil || aws.ToString(versions.LaunchTemplateVersions[0].LaunchTemplateData.IamInstanceProfile.Name) != "web-profile" {
		t.Fatalf("version 2: %+v, %v", versions, err)
	}
	b.groupInput.LaunchTemplate.Version = aws.String("2")
	// Auto Scaling checks the template's profile: not yet seen, then seen.
	_, err = b.c.Autoscaling.CreateAutoScalingGroup(ctx, b.groupInput)
	if awsx.ErrorCode(err) != "ValidationError" || !awsx.IsInstanceProfileNotVisible(err) || !strings.Contains(err.Error(), "valid fully-formed launch template") {
		t.Fatalf("a fresh profile: %v", err)
	}
	if _, err := b.c.Autoscaling.CreateAutoScalingGroup(ctx, b.groupInput); err != nil {
		t.Fatal(err)
	}
	g := b.describe(t)
	for range 4 {
		g = b.describe(t)
	}
	if inService(g) != 2 {
		t.Fatalf("instances: %+v", g.Instances)
	}
	out, _ := b.c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{aws.ToString(g.Instances[0].InstanceId)}})
	if p := out.Reservations[0].Instances[0].IamInstanceProfile; p == nil || !strings.HasSuffix(aws.ToString(p.Arn), ":instance-profile/web-profile") {
		t.Errorf("the group's instance has the profile %+v", p)
	}
	// A profile deleted under the group: its launches fail, as the group's status says.
	for _, call := range []func() error{
		func() error {
			_, err := b.c.IAM.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web-profile"), RoleName: aws.String("web-profile")})
			return err
		},
		func() error {
			_, err := b.c.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web-profile")})
			return err
		},
		func() error {
			_, err := b.c.Autoscaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web-asg"), DesiredCapacity: aws.Int32(3)})
			return err
		},
	} {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	if g = b.describe(t); !strings.Contains(aws.ToString(g.Status), "Invalid IAM Instance Profile name") || len(g.Instances) != 2 {
		t.Errorf("status %q, %d instances", aws.ToString(g.Status), len(g.Instances))
	}
}
