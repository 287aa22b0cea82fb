package steps

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

// lbFixture is a test-only stage that builds one load-balanced tier over
// the vpc stage's network with the lb.go helpers, as stages 3 and 6 do.
type lbFixture struct {
	tb        *testbed
	instances []string
	// subnets overrides the load balancer's subnets (default: public 1-2).
	subnets []string
}

const lbTestPort int32 = 8090

func newLBTestbed(t *testing.T) (*testbed, *lbFixture) {
	tb := newTestbed(t)
	fx := &lbFixture{tb: tb, instances: []string{"i-0aaa0001", "i-0aaa0002"}}
	fx.reload()
	return tb, fx
}

// reload is tb.reload (a new process) with the test stage registered again.
func (fx *lbFixture) reload() {
	fx.tb.reload()
	fx.tb.runner.Stages = Registry{vpcStage(), fx.stage()}
}

func (fx *lbFixture) stage() *Stage {
	return &Stage{Number: 10, Name: "lb-test", Title: "test load balancer", Needs: []string{"vpc"}, Apply: fx.apply,
		Kinds: []*Kind{listenerKind, loadBalancerKind, targetGroupKind}}
}

func (fx *lbFixture) apply(ctx context.Context, r *Run) error {
	vpc := r.Output("vpc", OutVPCID)
	subnets := fx.subnets
	if subnets == nil {
		subnets = strings.Split(r.Output("vpc", OutPublicSubnets), ",")[:2]
	}
	sg, ok := fx.tb.cloud.EC2.DefaultSecurityGroup(vpc)
	if !ok {
		sg = plannedID("security-group")
	}
	tg, err := ensureTargetGroup(ctx, r, targetGroupSpec{Key: "target-group", Name: r.Name("test-tg"), VPCID: vpc, HealthPath: "/health", Port: lbTestPort})
	if err != nil {
		return err
	}
	lb, dns, err := ensureLoadBalancer(ctx, r, loadBalancerSpec{Key: "load-balancer", Name: r.Name("test-lb"), SecurityGroup: sg, Subnets: subnets})
	if err != nil {
		return err
	}
	if err := ensureListener(ctx, r, "listener", lb, lbTestPort, tg); err != nil {
		return err
	}
	if err := ensureTargets(ctx, r, tg, lbTestPort, fx.instances); err != nil {
		return err
	}
	if err := waitHealthyTargets(ctx, r, tg, fx.instances); err != nil {
		return err
	}
	return r.SetOutput("dns", dns)
}

func (fx *lbFixture) converge() {
	fx.tb.t.Helper()
	fx.tb.step("vpc")
	fx.tb.step("lb-test")
}

func (fx *lbFixture) arn(key string) string {
	rec, _ := fx.tb.state().Resource("lb-test", key)
	return rec.ID
}

func changeList(cs []Change) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Action+" "+c.Kind)
	}
	return strings.Join(out, ",")
}

// assertNoLoadBalancing checks the fake account holds no ELB resources.
func assertNoLoadBalancing(tb *testbed) {
	tb.t.Helper()
	for kind, n := range tb.cloud.ELBV2.Count() {
		if n != 0 {
			tb.t.Errorf("%d %s left after destroy", n, kind)
		}
	}
}

func TestLBConvergesFromScratch(t *testing.T) {
	tb, fx := newLBTestbed(t)
	tb.cloud.ELBV2.ProvisioningDescribes = 3 // the waiter polls a few times
	fx.converge()
	res := tb.step("lb-test") // converged: nothing to do
	if len(res.Changes) != 0 {
		t.Errorf("second run changed %v", res.Changes)
	}
	ctx, e := bg, tb.runner.Env
	tgARN, lbARN := fx.arn("target-group"), fx.arn("load-balancer")

	tgs, _ := tb.cloud.ELBV2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{tgARN}})
	tg := tgs.TargetGroups[0]
	if aws.ToString(tg.TargetGroupName) != "test-tg" || aws.ToInt32(tg.Port) != lbTestPort || tg.TargetType != elbv2types.TargetTypeEnumInstance ||
		aws.ToString(tg.VpcId) != tb.state().Output("vpc", OutVPCID) || len(healthCheckDrift(tg, "/health")) != 0 {
		t.Errorf("target group = %+v", tg)
	}
	lbs, _ := tb.cloud.ELBV2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
	lb := lbs.LoadBalancers[0]
	zones := map[string]bool{}
	for _, z := range lb.AvailabilityZones {
		zones[aws.ToString(z.ZoneName)] = true
	}
	if lb.State.Code != elbv2types.LoadBalancerStateEnumActive || lb.Scheme != elbv2types.LoadBalancerSchemeEnumInternetFacing || len(zones) != 2 {
		t.Errorf("load balancer = %+v", lb)
	}
	if dns := tb.state().Output("lb-test", "dns"); dns != aws.ToString(lb.DNSName) || !strings.HasPrefix(dns, "test-lb-") {
		t.Errorf("dns output = %q, load balancer has %q", dns, aws.ToString(lb.DNSName))
	}
	ls, _ := tb.cloud.ELBV2.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN)})
	if len(ls.Listeners) != 1 || aws.ToInt32(ls.Listeners[0].Port) != lbTestPort || !forwardsOnlyTo(ls.Listeners[0].DefaultActions, tgARN) {
		t.Errorf("listeners = %+v", ls.Listeners)
	}
	for _, k := range []*Kind{targetGroupKind, loadBalancerKind, listenerKind} {
		ids, err := k.FindTagged(ctx, e, awsx.Tags{awsx.TagStack: "myapp", awsx.TagStep: "lb-test"})
		if err != nil || len(ids) != 1 {
			t.Errorf("%s tagged with the stack and step: %v %v", k.Type, ids, err)
		}
	}
	if h, n, err := targetHealthSummary(ctx, e, tgARN); h != 2 || n != 2 || err != nil {
		t.Errorf("health summary %d/%d, %v", h, n, err)
	}
	if n := len(tb.state().Stage("lb-test").Resources); n != 3 {
		t.Errorf("%d resources in the state file, want 3", n)
	}
}

func TestLBSecondRunMakesNoMutatingCalls(t *testing.T) {
	tb, fx := newLBTestbed(t)
	fx.converge()
	fx.reload()
	tb.cloud.ResetCalls()
	if res := tb.step("lb-test"); len(res.Changes) != 0 {
		t.Errorf("second run changed %v", res.Changes)
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("second run made mutating calls %v", m)
	}
}

func TestLBPlanShowsCreatesAndChangesNothing(t *testing.T) {
	tb, fx := newLBTestbed(t)
	plan, err := tb.runner.Plan(bg) // nothing exists: the VPC is planned too
	if err != nil {
		t.Fatal(err)
	}
	want := "create elbv2:target-group,create elbv2:load-balancer,create elbv2:listener,modify elbv2:target-group"
	if got := changeList(plan[1].Changes); got != want {
		t.Errorf("plan from scratch = %s, want %s", got, want)
	}
	tb.step("vpc")
	tb.cloud.ResetCalls()
	plan, err = tb.runner.Plan(bg) // the VPC exists, the load balancing does not
	if err != nil {
		t.Fatal(err)
	}
	if got := changeList(plan[1].Changes); got != want {
		t.Errorf("plan over the VPC = %s, want %s", got, want)
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("plan made mutating calls %v", m)
	}
	if c := tb.cloud.CountCalls("DescribeTargetHealth"); c != 0 {
		t.Errorf("plan described the targets of a planned group %d times", c)
	}
	fx.converge()
	if plan, _ := tb.runner.Plan(bg); len(plan[1].Changes) != 0 {
		t.Errorf("plan after up = %v", plan[1].Changes)
	}
}

func TestLBDriftIsPlannedThenRepaired(t *testing.T) {
	tb, fx := newLBTestbed(t)
	fx.converge()
	ctx, elb := bg, tb.cloud.ELBV2
	tgARN, lbARN, lARN := fx.arn("target-group"), fx.arn("load-balancer"), fx.arn("listener")
	// By hand: console-default health checks, a long deregistration delay,
	// the load balancer moved to other subnets, the listener pointed elsewhere.
	_, _ = elb.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: &tgARN, HealthCheckPath: aws.String("/"),
		HealthCheckIntervalSeconds: aws.Int32(30), HealthyThresholdCount: aws.Int32(5)})
	_, _ = elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: &tgARN,
		Attributes: []elbv2types.TargetGroupAttribute{{Key: aws.String(attrDeregistrationDelay), Value: aws.String("300")}}})
	subnets := strings.Split(tb.state().Output("vpc", OutPublicSubnets), ",")
	if _, err := elb.SetSubnets(ctx, &elbv2.SetSubnetsInput{LoadBalancerArn: &lbARN, Subnets: subnets[2:4]}); err != nil {
		t.Fatal(err)
	}
	other, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("by-hand"), Protocol: elbv2types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String(tb.state().Output("vpc", OutVPCID))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := elb.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: &lARN, DefaultActions: forwardTo(*other.TargetGroups[0].TargetGroupArn)}); err != nil {
		t.Fatal(err)
	}

	tb.cloud.ResetCalls()
	plan, err := tb.runner.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := "modify elbv2:target-group,modify elbv2:target-group,modify elbv2:load-balancer,modify elbv2:listener"
	if got := changeList(plan[1].Changes); got != want {
		t.Errorf("plan = %s, want %s (%v)", got, want, plan[1].Changes)
	}
	if !strings.Contains(plan[1].Changes[0].Detail, "path / → /health") || !strings.Contains(plan[1].Changes[0].Detail, "interval 30 → 10") {
		t.Errorf("health check drift detail = %q", plan[1].Changes[0].Detail)
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("plan made mutating calls %v", m)
	}
	if res := tb.step("lb-test"); changeList(res.Changes) != want {
		t.Errorf("up changed %v", res.Changes)
	}
	tb.cloud.ResetCalls()
	if res := tb.step("lb-test"); len(res.Changes) != 0 {
		t.Errorf("not converged after repair: %v", res.Changes)
	}
}

func TestLBDeletedOutOfBandIsRecreated(t *testing.T) {
	tb, fx := newLBTestbed(t)
	fx.converge()
	old := fx.arn("load-balancer")
	if _, err := tb.cloud.ELBV2.DeleteLoadBalancer(bg, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: &old}); err != nil {
		t.Fatal(err)
	}
	res := tb.step("lb-test")
	// The load balancer and its listener (deleted with it); the targets stayed registered.
	if got := changeList(res.Changes); got != "create elbv2:load-balancer,create elbv2:listener" {
		t.Errorf("changes = %s", got)
	}
	if now := fx.arn("load-balancer"); now == old || now == "" {
		t.Errorf("load balancer not recreated: %s", now)
	}
}

func TestLBLostCreateResponseMakesNoDuplicate(t *testing.T) {
	tb, _ := newLBTestbed(t)
	tb.step("vpc")
	// The create worked, its answer was lost: found by its tags, adopted in the same run.
	tb.cloud.Inject("CreateLoadBalancer", fakeaws.LostResponse())
	tb.step("lb-test")
	if n := tb.cloud.ELBV2.Count()["load-balancer"]; n != 1 {
		t.Errorf("%d load balancers, want 1", n)
	}
}

func TestLBDestroyRemovesListenerThenLoadBalancerThenTargetGroup(t *testing.T) {
	for _, lostState := range []bool{false, true} {
		t.Run(map[bool]string{false: "state file", true: "lost state file"}[lostState], func(t *testing.T) {
			tb, fx := newLBTestbed(t)
			tb.cloud.ELBV2.VisibleAfterDelete = 2 // the delete waits until it is gone
			fx.converge()
			if lostState {
				if err := os.Remove(tb.cfg.StatePath()); err != nil {
					t.Fatal(err)
				}
				fx.reload()
			}
			tb.cloud.ResetCalls()
			rep := tb.destroy()
			var order []string
			for _, d := range rep.Deleted {
				if strings.HasPrefix(d, "elbv2:") {
					order = append(order, strings.Fields(d)[0])
				}
			}
			if got := strings.Join(order, ","); got != "elbv2:listener,elbv2:load-balancer,elbv2:target-group" {
				t.Errorf("deleted %s", got)
			}
			calls := tb.cloud.Calls()
			deleted := slices.Index(calls, "DeleteLoadBalancer")
			if deleted < 0 || !slices.Contains(calls[deleted:], "DescribeLoadBalancers") {
				t.Errorf("load balancer delete did not wait: %v", calls)
			}
			assertNoLoadBalancing(tb)
			tb.assertEmpty()
		})
	}
}

func TestLBRejectsSubnetsInOneZone(t *testing.T) {
	tb, fx := newLBTestbed(t)
	tb.step("vpc")
	first := strings.Split(tb.state().Output("vpc", OutPublicSubnets), ",")[0]
	vpc := tb.state().Output("vpc", OutVPCID)
	extra, err := tb.cloud.EC2.CreateSubnet(bg, &ec2.CreateSubnetInput{VpcId: &vpc, CidrBlock: aws.String("10.0.64.0/20"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	fx.subnets = []string{first, *extra.Subnet.SubnetId}
	_, err = tb.runner.Step(bg, "lb-test")
	if awsx.ErrorCode(err) != "ValidationError" || !strings.Contains(err.Error(), "two different Availability Zones") ||
		!strings.Contains(err.Error(), "stage lb-test: create elbv2:load-balancer test-lb") {
		t.Errorf("err = %v", err)
	}
	if n := tb.cloud.ELBV2.Count()["load-balancer"]; n != 0 {
		t.Errorf("%d load balancers", n)
	}
}

func TestLBHealthTimeoutListsEachTarget(t *testing.T) {
	tb, fx := newLBTestbed(t)
	tb.cloud.ELBV2.HealthOf = func(_, id string) (elbv2types.TargetHealthStateEnum, string) {
		if id == fx.instances[1] {
			return elbv2types.TargetHealthStateEnumUnhealthy, "Target.ResponseCodeMismatch"
		}
		return "", ""
	}
	tb.step("vpc")
	tb.cfg.Wait.Timeout = 100 * time.Millisecond
	_, err := tb.runner.Step(bg, "lb-test")
	if !errors.Is(err, awsx.ErrWaitTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	for _, want := range []string{
		"targets of test-tg to become healthy", "1/2 healthy",
		fx.instances[0] + ": healthy",
		fx.instances[1] + ": unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])",
		"aws elbv2 describe-target-health --target-group-arn " + fx.arn("target-group"),
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// Everything was recorded before the wait, so a later run resumes.
	if n := len(tb.state().Stage("lb-test").Resources); n != 3 {
		t.Errorf("%d resources recorded, want 3", n)
	}
}

func TestLBNameLongerThanAWSAllowsIsRefused(t *testing.T) {
	tb, fx := newLBTestbed(t)
	tb.cfg.Stack = "a-very-long-stack-name-for-tests"
	fx.reload()
	tb.step("vpc")
	_, err := tb.runner.Step(bg, "lb-test")
	if err == nil || !strings.Contains(err.Error(), "AWS allows 32: use a shorter --stack name") {
		t.Errorf("err = %v", err)
	}
	if m := tb.cloud.MutatingCalls(); slices.ContainsFunc(m, func(op string) bool { return strings.Contains(op, "TargetGroup") }) {
		t.Errorf("made %v", m)
	}
}

func TestARNName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/frontend-tg/73e2d6bc24d8a067":             "frontend-tg",
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/frontend-lb/50dc6c495c0c9188":        "frontend-lb",
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/frontend-lb/50dc6c495c0c9188/f2f7dc8efc": "frontend-lb",
	} {
		if got := arnName(arn); got != want {
			t.Errorf("arnName(%s) = %s, want %s", arn, got, want)
		}
	}
}
