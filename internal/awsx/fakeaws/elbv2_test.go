package fakeaws

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// elbNet is a VPC with subnets in us-east-1a, 1b and a second one in 1a.
type elbNet struct {
	vpc, sg           string
	subA, subB, subA2 string
}

func newELBNet(t *testing.T, c *Cloud) elbNet {
	t.Helper()
	ctx := context.Background()
	v, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	n := elbNet{vpc: *v.Vpc.VpcId}
	for _, s := range []struct {
		dst        *string
		cidr, zone string
	}{{&n.subA, "10.0.0.0/20", "us-east-1a"}, {&n.subB, "10.0.16.0/20", "us-east-1b"}, {&n.subA2, "10.0.32.0/20", "us-east-1a"}} {
		out, err := c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String(s.cidr), AvailabilityZone: aws.String(s.zone)})
		if err != nil {
			t.Fatal(err)
		}
		*s.dst = *out.Subnet.SubnetId
	}
	n.sg, _ = c.EC2.DefaultSecurityGroup(n.vpc)
	return n
}

func elbWantCode(t *testing.T, err error, code string) {
	t.Helper()
	if awsx.ErrorCode(err) != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func elbCreateTG(t *testing.T, c *Cloud, n elbNet, name string, port int32) string {
	t.Helper()
	out, err := c.ELBV2.CreateTargetGroup(context.Background(), &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(port), VpcId: aws.String(n.vpc), Tags: awsx.StackTags("myapp", "test", name).ELBV2()})
	if err != nil {
		t.Fatal(err)
	}
	return *out.TargetGroups[0].TargetGroupArn
}

func elbCreateLB(c *Cloud, name string, subnets ...string) (*elbv2.CreateLoadBalancerOutput, error) {
	return c.ELBV2.CreateLoadBalancer(context.Background(), &elbv2.CreateLoadBalancerInput{Name: aws.String(name), Subnets: subnets,
		Tags: awsx.StackTags("myapp", "test", name).ELBV2()})
}

func TestELBV2NamesAreCheckedAndUnique(t *testing.T) {
	c := New()
	n := newELBNet(t, c)
	ctx := context.Background()
	long := strings.Repeat("a", 33)
	_, err := c.ELBV2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(long), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(n.vpc)})
	elbWantCode(t, err, "ValidationError")
	_, err = elbCreateLB(c, long, n.subA, n.subB)
	elbWantCode(t, err, "ValidationError")
	_, err = elbCreateLB(c, "-bad", n.subA, n.subB)
	elbWantCode(t, err, "ValidationError")

	arn := elbCreateTG(t, c, n, "web", 80)
	if again := elbCreateTG(t, c, n, "web", 80); again != arn { // same settings: the same group, as in AWS
		t.Errorf("same-settings create made %s, want %s", again, arn)
	}
	_, err = c.ELBV2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8090), VpcId: aws.String(n.vpc)})
	elbWantCode(t, err, "DuplicateTargetGroupName")

	if _, err := elbCreateLB(c, "web-lb", n.subA, n.subB); err != nil {
		t.Fatal(err)
	}
	_, err = elbCreateLB(c, "web-lb", n.subA2, n.subB)
	elbWantCode(t, err, "DuplicateLoadBalancerName")
	if got := c.ELBV2.Count(); got["target-group"] != 1 || got["load-balancer"] != 1 {
		t.Errorf("count = %v", got)
	}
}

func TestELBV2LoadBalancerNeedsTwoZones(t *testing.T) {
	c := New()
	n := newELBNet(t, c)
	for _, subnets := range [][]string{{n.subA, n.subA2}, {n.subA}, nil} {
		_, err := elbCreateLB(c, "one-zone", subnets...)
		elbWantCode(t, err, "ValidationError")
		if !strings.Contains(err.Error(), "At least two subnets in two different Availability Zones must be specified") {
			t.Errorf("message = %v", err)
		}
	}
	_, err := elbCreateLB(c, "three", n.subA, n.subA2, n.subB)
	elbWantCode(t, err, "InvalidConfigurationRequest")
	_, err = elbCreateLB(c, "ghost", n.subA, "subnet-404")
	elbWantCode(t, err, "SubnetNotFound")
	_, err = c.ELBV2.CreateLoadBalancer(context.Background(), &elbv2.CreateLoadBalancerInput{Name: aws.String("nosg"), Subnets: []string{n.subA, n.subB}, SecurityGroups: []string{"sg-404"}})
	elbWantCode(t, err, "InvalidSecurityGroup")
	if got := c.ELBV2.Count()["load-balancer"]; got != 0 {
		t.Errorf("%d load balancers after rejected creates", got)
	}
}

func TestELBV2LoadBalancerLifecycle(t *testing.T) {
	c := New()
	c.ELBV2.ProvisioningDescribes = 2
	c.ELBV2.ENIDrain = 50 * time.Millisecond
	n := newELBNet(t, c)
	ctx := context.Background()
	out, err := elbCreateLB(c, "web-lb", n.subA, n.subB)
	if err != nil {
		t.Fatal(err)
	}
	lb := out.LoadBalancers[0]
	if !regexp.MustCompile(`^web-lb-\d+\.us-east-1\.elb\.amazonaws\.com$`).MatchString(*lb.DNSName) || lb.State.Code != types.LoadBalancerStateEnumProvisioning ||
		lb.Scheme != types.LoadBalancerSchemeEnumInternetFacing || len(lb.SecurityGroups) != 1 || lb.SecurityGroups[0] != n.sg || *lb.VpcId != n.vpc {
		t.Fatalf("created %+v", lb)
	}
	for i, want := range []types.LoadBalancerStateEnum{"provisioning", "provisioning", "active"} {
		d, err := c.ELBV2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{*lb.LoadBalancerArn}})
		if err != nil || d.LoadBalancers[0].State.Code != want {
			t.Fatalf("describe %d: %v %v, want %s", i+1, d, err, want)
		}
	}
	tg := elbCreateTG(t, c, n, "web", 80)
	if _, err := c.ELBV2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}}); err != nil {
		t.Fatal(err)
	}

	// In use: the subnet cannot go, before or (ENIs draining) just after the delete.
	_, err = c.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(n.subA)})
	elbWantCode(t, err, "DependencyViolation")
	if _, err := c.ELBV2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
		t.Fatal(err)
	}
	if got := c.ELBV2.Count(); got["listener"] != 0 || got["load-balancer"] != 0 {
		t.Errorf("after delete: %v", got)
	}
	_, err = c.ELBV2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{*lb.LoadBalancerArn}})
	elbWantCode(t, err, "LoadBalancerNotFound")
	_, err = c.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(n.subA)})
	elbWantCode(t, err, "DependencyViolation")
	if !strings.Contains(err.Error(), "network interfaces of deleted load balancer web-lb") {
		t.Errorf("message = %v", err)
	}
	time.Sleep(60 * time.Millisecond)
	if _, err := c.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(n.subA)}); err != nil {
		t.Errorf("after the drain: %v", err)
	}
	// Deleting again succeeds, as in AWS.
	if _, err := c.ELBV2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

func TestELBV2DeletedLoadBalancerLingers(t *testing.T) {
	c := New()
	c.ELBV2.VisibleAfterDelete = 2
	n := newELBNet(t, c)
	ctx := context.Background()
	out, _ := elbCreateLB(c, "web-lb", n.subA, n.subB)
	arn := out.LoadBalancers[0].LoadBalancerArn
	_, _ = c.ELBV2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: arn})
	for i := 0; i < 2; i++ {
		if _, err := c.ELBV2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{*arn}}); err != nil {
			t.Fatalf("describe %d after delete: %v", i+1, err)
		}
	}
	_, err := c.ELBV2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{*arn}})
	elbWantCode(t, err, "LoadBalancerNotFound")
}

func TestELBV2TargetGroupInUseByListener(t *testing.T) {
	c := New()
	n := newELBNet(t, c)
	ctx := context.Background()
	lb, _ := elbCreateLB(c, "web-lb", n.subA, n.subB)
	lbARN := lb.LoadBalancers[0].LoadBalancerArn
	tg := elbCreateTG(t, c, n, "web", 80)
	forward := []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}
	l, err := c.ELBV2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lbARN, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: forward})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ELBV2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lbARN, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(elbCreateTG(t, c, n, "other", 80))}}})
	elbWantCode(t, err, "DuplicateListener")
	d, _ := c.ELBV2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: lbARN})
	if len(d.TargetGroups) != 1 || *d.TargetGroups[0].TargetGroupArn != tg || d.TargetGroups[0].LoadBalancerArns[0] != *lbARN {
		t.Errorf("groups of the load balancer = %+v", d.TargetGroups)
	}
	_, err = c.ELBV2.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg)})
	elbWantCode(t, err, "ResourceInUse")
	if _, err := c.ELBV2.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: l.Listeners[0].ListenerArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ELBV2.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ELBV2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{tg}})
	elbWantCode(t, err, "TargetGroupNotFound")
	_, err = c.ELBV2.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: l.Listeners[0].ListenerArn})
	elbWantCode(t, err, "ListenerNotFound")
}

func elbTargetStates(t *testing.T, c *Cloud, tg string) map[string]string {
	t.Helper()
	out, err := c.ELBV2.DescribeTargetHealth(context.Background(), &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, d := range out.TargetHealthDescriptions {
		m[*d.Target.Id] = string(d.TargetHealth.State) + " " + string(d.TargetHealth.Reason) + " " + aws.ToString(d.TargetHealth.Description)
	}
	return m
}

func TestELBV2TargetHealth(t *testing.T) {
	c := New()
	n := newELBNet(t, c)
	ctx := context.Background()
	tg := elbCreateTG(t, c, n, "web", 80)
	targets := []types.TargetDescription{{Id: aws.String("i-1")}, {Id: aws.String("i-2")}}
	if _, err := c.ELBV2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: targets}); err != nil {
		t.Fatal(err)
	}
	if got := elbTargetStates(t, c, tg)["i-1"]; !strings.HasPrefix(got, "unused Target.NotInUse") {
		t.Errorf("without a listener: %s", got)
	}
	lb, _ := elbCreateLB(c, "web-lb", n.subA, n.subB)
	_, _ = c.ELBV2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(80), DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}})
	c.ELBV2.HealthOf = func(_, id string) (types.TargetHealthStateEnum, string) {
		if id == "i-2" {
			return types.TargetHealthStateEnumUnhealthy, "Target.ResponseCodeMismatch"
		}
		return "", ""
	}
	if got := elbTargetStates(t, c, tg); got["i-1"] != "initial Elb.RegistrationInProgress Target registration is in progress" ||
		got["i-2"] != "unhealthy Target.ResponseCodeMismatch Health checks failed with these codes: [502]" {
		t.Errorf("first describe: %v", got)
	}
	if got := elbTargetStates(t, c, tg)["i-1"]; got != "healthy  " {
		t.Errorf("second describe: %q", got)
	}
	_, err := c.ELBV2.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: targets[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if got := elbTargetStates(t, c, tg)["i-1"]; !strings.HasPrefix(got, "draining Target.DeregistrationInProgress") {
		t.Errorf("after deregistering: %q", got)
	}
	if got := elbTargetStates(t, c, tg); len(got) != 1 {
		t.Errorf("drained target still listed: %v", got)
	}
	_, err = c.ELBV2.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: targets[:1]})
	elbWantCode(t, err, "InvalidTarget")
	asked, _ := c.ELBV2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg), Targets: targets[:1]})
	if h := asked.TargetHealthDescriptions[0].TargetHealth; h.State != types.TargetHealthStateEnumUnused || h.Reason != types.TargetHealthReasonEnumNotRegistered {
		t.Errorf("unregistered target: %+v", h)
	}
	_, err = c.ELBV2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}}})
	elbWantCode(t, err, "InvalidTarget")
}

func TestELBV2TagsAndPages(t *testing.T) {
	c := New()
	c.ELBV2.PageSize = 2
	n := newELBNet(t, c)
	ctx := context.Background()
	var arns []string
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		arns = append(arns, elbCreateTG(t, c, n, name, 80))
	}
	var listed []string
	p := elbv2.NewDescribeTargetGroupsPaginator(c.ELBV2, &elbv2.DescribeTargetGroupsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range out.TargetGroups {
			listed = append(listed, *tg.TargetGroupArn)
		}
	}
	if strings.Join(listed, ",") != strings.Join(arns, ",") {
		t.Errorf("paged listing = %v", listed)
	}
	tags, err := c.ELBV2.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns[:2]})
	if err != nil || len(tags.TagDescriptions) != 2 || awsx.ELBV2TagMap(tags.TagDescriptions[1].Tags)[awsx.TagName] != "b" {
		t.Fatalf("tags = %+v, %v", tags, err)
	}
	_, err = c.ELBV2.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: make([]string, 21)})
	elbWantCode(t, err, "ValidationError")
	_, err = c.ELBV2.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{arns[0], strings.Replace(arns[0], "/a/", "/zz/", 1)}})
	elbWantCode(t, err, "TargetGroupNotFound")
	if _, err := c.ELBV2.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: arns[:1], Tags: awsx.Tags{"team": "web", awsx.TagName: "renamed"}.ELBV2()}); err != nil {
		t.Fatal(err)
	}
	tags, _ = c.ELBV2.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns[:1]})
	if m := awsx.ELBV2TagMap(tags.TagDescriptions[0].Tags); m["team"] != "web" || m[awsx.TagName] != "renamed" || m[awsx.TagStack] != "myapp" {
		t.Errorf("after AddTags: %v", m)
	}
}

func TestELBV2AttributesAndHealthCheckValidation(t *testing.T) {
	c := New()
	n := newELBNet(t, c)
	ctx := context.Background()
	tg := elbCreateTG(t, c, n, "web", 80)
	attrs := func(k, v string) *elbv2.ModifyTargetGroupAttributesInput {
		return &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tg), Attributes: []types.TargetGroupAttribute{{Key: aws.String(k), Value: aws.String(v)}}}
	}
	_, err := c.ELBV2.ModifyTargetGroupAttributes(ctx, attrs("no.such.key", "1"))
	elbWantCode(t, err, "ValidationError")
	_, err = c.ELBV2.ModifyTargetGroupAttributes(ctx, attrs("deregistration_delay.timeout_seconds", "4000"))
	elbWantCode(t, err, "ValidationError")
	if _, err := c.ELBV2.ModifyTargetGroupAttributes(ctx, attrs("deregistration_delay.timeout_seconds", "15")); err != nil {
		t.Fatal(err)
	}
	out, _ := c.ELBV2.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tg)})
	found := false
	for _, a := range out.Attributes {
		found = found || (*a.Key == "deregistration_delay.timeout_seconds" && *a.Value == "15")
	}
	if !found {
		t.Errorf("attributes = %+v", out.Attributes)
	}
	_, err = c.ELBV2.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: aws.String(tg), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(5)})
	elbWantCode(t, err, "ValidationError")
	_, err = c.ELBV2.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: aws.String(tg), HealthCheckPath: aws.String("health")})
	elbWantCode(t, err, "ValidationError")
}

func TestELBV2LostCreateResponse(t *testing.T) {
	c := New()
	n := newELBNet(t, c)
	c.Inject("CreateTargetGroup", Fault{Err: ServerError(), AfterEffect: true})
	_, err := c.ELBV2.CreateTargetGroup(context.Background(), &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String(n.vpc)})
	elbWantCode(t, err, "InternalError")
	if got := c.ELBV2.Count()["target-group"]; got != 1 {
		t.Errorf("%d target groups after a lost response, want 1", got)
	}
	if m := c.MutatingCalls(); len(m) != 5 || m[4] != "CreateTargetGroup" { // VPC + 3 subnets + the group
		t.Errorf("mutating calls = %v", m)
	}
}
