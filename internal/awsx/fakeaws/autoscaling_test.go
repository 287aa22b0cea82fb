package fakeaws

import (
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// asgBed is a network, a target group a load balancer forwards to, and a
// launch template, for Auto Scaling tests.
type asgBed struct {
	c          *Cloud
	n          elbNet
	tg, ltID   string
	groupInput *autoscaling.CreateAutoScalingGroupInput
}

func newASGBed(t *testing.T) *asgBed {
	t.Helper()
	c := New()
	n := newELBNet(t, c)
	b := &asgBed{c: c, n: n, tg: elbCreateTG(t, c, n, "web-tg", 80)}
	lb, err := elbCreateLB(c, "web-lb", n.subA, n.subB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ELBV2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(80), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(b.tg)}}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web-template"),
		LaunchTemplateData: b.templateData("t2.micro", "v1"), TagSpecifications: awsx.StackTags("myapp", "test", "web-template").EC2Spec(ec2types.ResourceTypeLaunchTemplate)})
	if err != nil {
		t.Fatal(err)
	}
	b.ltID = *out.LaunchTemplate.LaunchTemplateId
	b.groupInput = &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web-asg"), MinSize: aws.Int32(1), MaxSize: aws.Int32(5),
		DesiredCapacity: aws.Int32(2), VPCZoneIdentifier: aws.String(n.subA + "," + n.subB), TargetGroupARNs: []string{b.tg},
		HealthCheckType: aws.String("ELB"), HealthCheckGracePeriod: aws.Int32(300),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(b.ltID), Version: aws.String("$Default")},
		Tags:           awsx.StackTags("myapp", "autoscaling", "web-asg").AutoScaling("web-asg")}
	return b
}

func (b *asgBed) templateData(instanceType, userData string) *ec2types.RequestLaunchTemplateData {
	return &ec2types.RequestLaunchTemplateData{ImageId: aws.String(NewestJammyAMI), InstanceType: ec2types.InstanceType(instanceType),
		SecurityGroupIds: []string{b.n.sg}, UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
		MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: ec2types.LaunchTemplateHttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(2)},
		TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{{ResourceType: ec2types.ResourceTypeInstance,
			Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("from-template")}, {Key: aws.String("tier"), Value: aws.String("web")}}}}}
}

func (b *asgBed) describe(t *testing.T) astypes.AutoScalingGroup {
	t.Helper()
	out, err := b.c.Autoscaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web-asg"}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("describe: %v %+v", err, out)
	}
	return out.AutoScalingGroups[0]
}

func (b *asgBed) healthyTargets(t *testing.T) int {
	t.Helper()
	out, err := b.c.ELBV2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(b.tg)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range out.TargetHealthDescriptions {
		if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			n++
		}
	}
	return n
}

func inService(g astypes.AutoScalingGroup) int {
	n := 0
	for _, in := range g.Instances {
		if in.LifecycleState == astypes.LifecycleStateInService {
			n++
		}
	}
	return n
}

func TestLaunchTemplateVersions(t *testing.T) {
	b := newASGBed(t)
	_, err := b.c.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web-template"), LaunchTemplateData: b.templateData("t2.micro", "x")})
	wantCode(t, err, "InvalidLaunchTemplateName.AlreadyExistsException")
	_, err = b.c.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"nope"}})
	if !awsx.IsNotFound(err) {
		t.Errorf("missing name: %v", err)
	}
	_, err = b.c.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{"lt-0123"}})
	if !awsx.IsNotFound(err) {
		t.Errorf("missing id: %v", err)
	}
	_, err = b.c.EC2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(b.ltID),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{UserData: aws.String("not base64!")}})
	wantCode(t, err, "InvalidUserData.Malformed")
	in := &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(b.ltID), ClientToken: aws.String("tok"), LaunchTemplateData: b.templateData("t3.micro", "v2")}
	v, err := b.c.EC2.CreateLaunchTemplateVersion(ctx, in)
	if err != nil || aws.ToInt64(v.LaunchTemplateVersion.VersionNumber) != 2 || aws.ToBool(v.LaunchTemplateVersion.DefaultVersion) {
		t.Fatalf("version: %+v %v", v, err)
	}
	if again, _ := b.c.EC2.CreateLaunchTemplateVersion(ctx, in); aws.ToInt64(again.LaunchTemplateVersion.VersionNumber) != 2 {
		t.Error("a repeated client token made another version")
	}
	_, err = b.c.EC2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(b.ltID), DefaultVersion: aws.String("7")})
	wantCode(t, err, "InvalidLaunchTemplateId.VersionNotFound")
	if _, err := b.c.EC2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(b.ltID), DefaultVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	vs, err := b.c.EC2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("web-template"), Versions: []string{"$Default", "$Latest", "1"}})
	if err != nil || len(vs.LaunchTemplateVersions) != 3 {
		t.Fatalf("versions: %v", err)
	}
	if d := vs.LaunchTemplateVersions[0]; aws.ToInt64(d.VersionNumber) != 2 || !aws.ToBool(d.DefaultVersion) || d.LaunchTemplateData.InstanceType != "t3.micro" {
		t.Errorf("$Default = %+v", d)
	}
	tagged, _ := b.c.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{Filters: awsx.StackFilters("myapp", "web-template")})
	if len(tagged.LaunchTemplates) != 1 {
		t.Errorf("by tags: %+v", tagged.LaunchTemplates)
	}
	if _, err := b.c.EC2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(b.ltID)}); err != nil {
		t.Fatal(err)
	}
	if n := b.c.EC2.ComputeCount()["launch-template"]; n != 0 {
		t.Errorf("%d templates left", n)
	}
}

func TestAutoScalingGroupLaunchesFromItsTemplateIntoItsTargetGroup(t *testing.T) {
	b := newASGBed(t)
	if _, err := b.c.Autoscaling.CreateAutoScalingGroup(ctx, b.groupInput); err != nil {
		t.Fatal(err)
	}
	_, err := b.c.Autoscaling.CreateAutoScalingGroup(ctx, b.groupInput)
	wantCode(t, err, "AlreadyExists")
	var g astypes.AutoScalingGroup
	for range 5 {
		g = b.describe(t)
	}
	if inService(g) != 2 || g.Instances[0].AvailabilityZone == g.Instances[1].AvailabilityZone || aws.ToString(g.Instances[0].LaunchTemplate.Version) != "1" {
		t.Fatalf("instances: %+v", g.Instances)
	}
	id := aws.ToString(g.Instances[0].InstanceId)
	ud, _ := b.c.EC2.InstanceUserData(id)
	out, _ := b.c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	in := out.Reservations[0].Instances[0]
	tags := awsx.EC2TagMap(in.Tags)
	if ud != "v1" || in.InstanceType != "t2.micro" || in.MetadataOptions.HttpTokens != ec2types.HttpTokensStateRequired ||
		tags["Name"] != "web-asg" || tags["tier"] != "web" || tags[awsx.TagStep] != "autoscaling" || tags["aws:autoscaling:groupName"] != "web-asg" {
		t.Errorf("instance %+v tags %v user data %q", in, tags, ud)
	}
	if n := b.healthyTargets(t); n != 2 {
		t.Errorf("%d healthy targets", n)
	}
	if n := b.c.CountCalls("RunInstances") + b.c.CountCalls("RegisterTargets"); n != 0 {
		t.Errorf("the group's own work shows as %d API calls", n)
	}
	// An instance terminated out of band is replaced.
	if _, err := b.c.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		g = b.describe(t)
	}
	if inService(g) != 2 || aws.ToString(g.Instances[0].InstanceId) == id && aws.ToString(g.Instances[1].InstanceId) == id {
		t.Errorf("not replaced: %+v", g.Instances)
	}
	byTag, _ := b.c.Autoscaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{
		{Name: aws.String("tag:" + awsx.TagStack), Values: []string{"myapp"}}, {Name: aws.String("tag:" + awsx.TagStep), Values: []string{"other"}}}})
	if len(byTag.AutoScalingGroups) != 0 {
		t.Errorf("tag filter matched %d", len(byTag.AutoScalingGroups))
	}
}

func TestInstanceRefreshReplacesOneAtATimeNewFirst(t *testing.T) {
	b := newASGBed(t)
	if _, err := b.c.Autoscaling.CreateAutoScalingGroup(ctx, b.groupInput); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		b.describe(t)
	}
	if _, err := b.c.EC2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(b.ltID), LaunchTemplateData: b.templateData("t3.micro", "v2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.c.EC2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(b.ltID), DefaultVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	_, err := b.c.Autoscaling.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web-asg"),
		Preferences: &astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(100), MaxHealthyPercentage: aws.Int32(100)}})
	wantCode(t, err, "ValidationError")
	prefs := &astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(100), MaxHealthyPercentage: aws.Int32(200), SkipMatching: aws.Bool(true)}
	start, err := b.c.Autoscaling.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web-asg"), Preferences: prefs})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.c.Autoscaling.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web-asg"), Preferences: prefs})
	wantCode(t, err, "InstanceRefreshInProgress")
	var seen []astypes.InstanceRefreshStatus
	for i := 0; i < 50; i++ {
		out, err := b.c.Autoscaling.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web-asg"),
			InstanceRefreshIds: []string{*start.InstanceRefreshId}})
		if err != nil {
			t.Fatal(err)
		}
		st := out.InstanceRefreshes[0].Status
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		if n := b.healthyTargets(t); n < 2 {
			t.Fatalf("step %d: %d healthy targets", i, n)
		}
		if g := b.describe(t); len(g.Instances) > 3 {
			t.Fatalf("step %d: %d instances", i, len(g.Instances))
		}
		if st == astypes.InstanceRefreshStatusSuccessful {
			break
		}
	}
	if len(seen) != 3 || seen[0] != astypes.InstanceRefreshStatusPending || seen[1] != astypes.InstanceRefreshStatusInProgress || seen[2] != astypes.InstanceRefreshStatusSuccessful {
		t.Fatalf("statuses %v", seen)
	}
	g := b.describe(t)
	for _, in := range g.Instances {
		if aws.ToString(in.LaunchTemplate.Version) != "2" {
			t.Errorf("%s runs version %s", aws.ToString(in.InstanceId), aws.ToString(in.LaunchTemplate.Version))
		}
	}
	if len(g.Instances) != 2 {
		t.Errorf("%d instances after the refresh", len(g.Instances))
	}
}

func TestForceDeleteTerminatesAndTheGroupGoesAway(t *testing.T) {
	b := newASGBed(t)
	if _, err := b.c.Autoscaling.CreateAutoScalingGroup(ctx, b.groupInput); err != nil {
		t.Fatal(err)
	}
	g := b.describe(t)
	_, err := b.c.Autoscaling.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web-asg")})
	wantCode(t, err, "ResourceInUse")
	if _, err := b.c.Autoscaling.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web-asg"), ForceDelete: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if g = b.describe(t); aws.ToString(g.Status) != "Delete in progress" || len(g.Instances) != 0 {
		t.Errorf("deleting group: %+v", g)
	}
	_, err = b.c.Autoscaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web-asg"), DesiredCapacity: aws.Int32(1)})
	wantCode(t, err, "ScalingActivityInProgress")
	for i := 0; i < 10 && len(b.c.Autoscaling.GroupNames()) > 0; i++ {
		_, _ = b.c.Autoscaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	}
	if names := b.c.Autoscaling.GroupNames(); len(names) != 0 {
		t.Fatalf("groups left: %v", names)
	}
	if n := b.c.EC2.ComputeCount()["instance"]; n != 0 {
		t.Errorf("%d instances left", n)
	}
	_, err = b.c.Autoscaling.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web-asg"), ForceDelete: aws.Bool(true)})
	wantCode(t, err, "ValidationError")
}
