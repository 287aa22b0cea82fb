package fakeaws

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

var ctx = context.Background()

// network makes a VPC with one public subnet in us-east-1a.
func network(t *testing.T, f *EC2) (vpc, subnet string) {
	t.Helper()
	v, err := f.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String("10.0.0.0/20"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	return *v.Vpc.VpcId, *s.Subnet.SubnetId
}

func group(t *testing.T, f *EC2, vpc, name string) string {
	t.Helper()
	out, err := f.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(vpc), GroupName: aws.String(name), Description: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.GroupId
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if awsx.ErrorCode(err) != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

func TestSecurityGroupsReferencedOrUsedCannotBeDeleted(t *testing.T) {
	f := NewEC2(NewCore())
	vpc, subnet := network(t, f)
	lb, web := group(t, f, vpc, "lb"), group(t, f, vpc, "web")
	_, err := f.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(vpc), GroupName: aws.String("web"), Description: aws.String("x")})
	wantCode(t, err, "InvalidGroup.Duplicate")

	fromLB := []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
		UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(lb), Description: aws.String("from the LB")}}}}
	if _, err := f.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: fromLB}); err != nil {
		t.Fatal(err)
	}
	_, err = f.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: fromLB})
	wantCode(t, err, "InvalidPermission.Duplicate")
	_, err = f.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(lb)})
	wantCode(t, err, "DependencyViolation")

	out, _ := f.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{web}})
	g := out.SecurityGroups[0]
	if len(g.IpPermissions) != 1 || *g.IpPermissions[0].UserIdGroupPairs[0].GroupId != lb || len(g.IpPermissionsEgress) != 1 {
		t.Fatalf("rules = %+v / %+v", g.IpPermissions, g.IpPermissionsEgress)
	}

	run, err := f.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(NewestJammyAMI), InstanceType: types.InstanceTypeT2Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet), SecurityGroupIds: []string{web}})
	if err != nil {
		t.Fatal(err)
	}
	id := *run.Instances[0].InstanceId
	rev, err := f.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: fromLB})
	if err != nil || len(rev.UnknownIpPermissions) != 0 {
		t.Fatalf("revoke: %v %+v", err, rev)
	}
	_, err = f.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(web)})
	wantCode(t, err, "DependencyViolation")
	_, err = f.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(subnet)})
	wantCode(t, err, "DependencyViolation")

	if _, err := f.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	_, err = f.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(web)})
	wantCode(t, err, "DependencyViolation") // still shutting down
	for i := 0; i < 3; i++ {
		_, _ = f.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	}
	for _, g := range []string{web, lb} {
		if _, err := f.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(g)}); err != nil {
			t.Fatalf("delete %s: %v", g, err)
		}
	}
}

func TestInstanceLifecycleAndTokens(t *testing.T) {
	f := NewEC2(NewCore())
	vpc, subnet := network(t, f)
	sg := group(t, f, vpc, "web")
	ud := "#!/bin/bash\necho 'MYAPPCTL-READY myapp-frontend 0123abcd'\n"
	in := &ec2.RunInstancesInput{ImageId: aws.String(NewestJammyAMI), InstanceType: types.InstanceTypeT2Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: aws.String(subnet), SecurityGroupIds: []string{sg}, ClientToken: aws.String("tok-1"),
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(ud)))}
	a, err := f.RunInstances(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := f.RunInstances(ctx, in)
	id := *a.Instances[0].InstanceId
	if *b.Instances[0].InstanceId != id {
		t.Error("same client token launched a second instance")
	}
	if a.Instances[0].State.Name != types.InstanceStateNamePending || a.Instances[0].MetadataOptions.HttpTokens != types.HttpTokensStateOptional {
		t.Errorf("new instance: %+v", a.Instances[0].State)
	}
	_, _ = f.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	out, _ := f.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{awsx.EC2Filter("instance-state-name", "running")}})
	if len(out.Reservations) != 1 {
		t.Fatalf("running instances: %+v", out.Reservations)
	}
	if ud, _ := f.InstanceUserData(id); !strings.Contains(ud, "MYAPPCTL-READY") {
		t.Errorf("user data %q", ud)
	}
	in.ClientToken, in.SubnetId = nil, aws.String("subnet-nope")
	_, err = f.RunInstances(ctx, in)
	wantCode(t, err, "InvalidSubnetID.NotFound")
}

func TestImagesKeepTheirSnapshots(t *testing.T) {
	f := NewEC2(NewCore())
	vpc, subnet := network(t, f)
	sg := group(t, f, vpc, "web")
	run, _ := f.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(NewestJammyAMI), InstanceType: types.InstanceTypeT2Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet), SecurityGroupIds: []string{sg}})
	id := *run.Instances[0].InstanceId
	_, err := f.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("frontend-AMI")})
	wantCode(t, err, "IncorrectInstanceState")
	_, _ = f.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	_, _ = f.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	tags := []types.TagSpecification{{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("frontend-AMI")}}},
		{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("frontend-AMI")}}}}
	img, err := f.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("frontend-AMI"), TagSpecifications: tags})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("frontend-AMI")})
	wantCode(t, err, "InvalidAMIName.Duplicate")
	if f.Reboots(id) != 1 {
		t.Errorf("reboots = %d", f.Reboots(id))
	}
	snaps, _ := f.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: []types.Filter{awsx.EC2Filter("tag:Name", "frontend-AMI")}})
	if len(snaps.Snapshots) != 1 {
		t.Fatalf("snapshots = %+v", snaps.Snapshots)
	}
	snap := snaps.Snapshots[0].SnapshotId
	_, err = f.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: snap})
	wantCode(t, err, "InvalidSnapshot.InUse")
	if _, err := f.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: img.ImageId}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: snap}); err != nil {
		t.Fatal(err)
	}
	if n := f.ComputeCount(); n["image"] != 0 || n["snapshot"] != 0 || n["instance"] != 1 {
		t.Errorf("count = %v", n)
	}
}

func TestCanonicalImagesAreFilteredByOwnerAndName(t *testing.T) {
	f := NewEC2(NewCore())
	out, err := f.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{CanonicalOwner}, Filters: []types.Filter{
		awsx.EC2Filter("name", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"), awsx.EC2Filter("architecture", "x86_64")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Images) != 3 {
		t.Errorf("got %d images, want the 3 Canonical jammy amd64 ones", len(out.Images))
	}
}
