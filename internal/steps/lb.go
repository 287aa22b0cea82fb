package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Load-balancer building blocks for stages 3 (frontend-lb) and 6
// (backend-lb): target group, application load balancer, listener, targets
// and the wait for healthy targets. All changes go through Ensure/change,
// so plan and re-runs work; planned ids are never described.

// Health checks short enough that a target is healthy about 20 s after it
// answers (AWS's defaults, 5 × 30 s, take minutes), and a short
// deregistration delay so replacing instances is quick.
const (
	tgHealthInterval        int32 = 10
	tgHealthTimeout         int32 = 5
	tgHealthyThreshold      int32 = 2
	tgUnhealthyThreshold    int32 = 2
	tgHealthMatcher               = "200"
	tgDeregistrationDelay         = "15"
	attrDeregistrationDelay       = "deregistration_delay.timeout_seconds"
	elbNameMax                    = 32
)

// targetGroupSpec is an HTTP target group of instances.
type targetGroupSpec struct {
	Key, Name, VPCID, HealthPath string
	Port                         int32
}

// ensureTargetGroup finds or creates the group and repairs drift in its
// health check and deregistration delay.
func ensureTargetGroup(ctx context.Context, r *Run, s targetGroupSpec) (arn string, err error) {
	if err := checkELBName(r, "target group", s.Name); err != nil {
		return "", err
	}
	arn, err = r.Ensure(ctx, Spec{Key: s.Key, Kind: targetGroupKind, Name: s.Name,
		Detail: fmt.Sprintf("HTTP:%d, health check %s every %ds", s.Port, s.HealthPath, tgHealthInterval),
		Create: func(ctx context.Context, _ string) (string, error) { return createTargetGroup(ctx, r, s) }})
	if err != nil || isPlanned(arn) {
		return arn, err
	}
	if err := checkTargetGroup(ctx, r, s, arn); err != nil {
		return "", err
	}
	return arn, ensureDeregistrationDelay(ctx, r, s.Name, arn)
}

func createTargetGroup(ctx context.Context, r *Run, s targetGroupSpec) (string, error) {
	out, err := r.AWS.ELBV2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(s.Name), Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(s.Port), VpcId: aws.String(s.VPCID),
		TargetType: elbv2types.TargetTypeEnumInstance, IpAddressType: elbv2types.TargetGroupIpAddressTypeEnumIpv4,
		HealthCheckEnabled: aws.Bool(true), HealthCheckProtocol: elbv2types.ProtocolEnumHttp, HealthCheckPort: aws.String("traffic-port"),
		HealthCheckPath: aws.String(s.HealthPath), HealthCheckIntervalSeconds: aws.Int32(tgHealthInterval),
		HealthCheckTimeoutSeconds: aws.Int32(tgHealthTimeout), HealthyThresholdCount: aws.Int32(tgHealthyThreshold),
		UnhealthyThresholdCount: aws.Int32(tgUnhealthyThreshold), Matcher: &elbv2types.Matcher{HttpCode: aws.String(tgHealthMatcher)},
		Tags: r.Tags(s.Name).ELBV2(),
	})
	if err != nil {
		return "", err
	}
	arn := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	// Should this fail, the next run adopts the group by its tags and repairs the delay.
	_, err = r.AWS.ELBV2.ModifyTargetGroupAttributes(ctx, deregistrationDelayInput(arn))
	return arn, err
}

func deregistrationDelayInput(arn string) *elbv2.ModifyTargetGroupAttributesInput {
	return &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn), Attributes: []elbv2types.TargetGroupAttribute{
		{Key: aws.String(attrDeregistrationDelay), Value: aws.String(tgDeregistrationDelay)}}}
}

// checkTargetGroup refuses settings that cannot change and repairs the health check.
func checkTargetGroup(ctx context.Context, r *Run, s targetGroupSpec, arn string) error {
	out, err := r.AWS.ELBV2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}})
	if err != nil || len(out.TargetGroups) == 0 {
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: targetGroupKind.Type + " " + s.Name, Err: err}
	}
	tg := out.TargetGroups[0]
	vpcMismatch := !isPlanned(s.VPCID) && aws.ToString(tg.VpcId) != s.VPCID
	if tg.Protocol != elbv2types.ProtocolEnumHttp || aws.ToInt32(tg.Port) != s.Port || tg.TargetType != elbv2types.TargetTypeEnumInstance || vpcMismatch {
		return fmt.Errorf("stage %s: target group %s is %s:%d (%s targets) in %s, but the stage wants HTTP:%d (instance targets) in %s: these cannot change; "+
			"run `myappctl destroy`, or delete it (`aws elbv2 delete-target-group --target-group-arn %s`) and run again",
			r.Stage.Name, s.Name, tg.Protocol, aws.ToInt32(tg.Port), tg.TargetType, aws.ToString(tg.VpcId), s.Port, s.VPCID, arn)
	}
	drift := healthCheckDrift(tg, s.HealthPath)
	if len(drift) == 0 {
		return nil
	}
	return r.change("modify", targetGroupKind.Type, s.Name, "health check: "+strings.Join(drift, ", "), func() error {
		_, err := r.AWS.ELBV2.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: aws.String(arn),
			HealthCheckEnabled: aws.Bool(true), HealthCheckProtocol: elbv2types.ProtocolEnumHttp, HealthCheckPort: aws.String("traffic-port"),
			HealthCheckPath: aws.String(s.HealthPath), HealthCheckIntervalSeconds: aws.Int32(tgHealthInterval),
			HealthCheckTimeoutSeconds: aws.Int32(tgHealthTimeout), HealthyThresholdCount: aws.Int32(tgHealthyThreshold),
			UnhealthyThresholdCount: aws.Int32(tgUnhealthyThreshold), Matcher: &elbv2types.Matcher{HttpCode: aws.String(tgHealthMatcher)}})
		return err
	})
}

// healthCheckDrift lists how the group's health check differs from ours.
func healthCheckDrift(tg elbv2types.TargetGroup, path string) []string {
	var drift []string
	diff := func(what string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			drift = append(drift, fmt.Sprintf("%s %v → %v", what, got, want))
		}
	}
	matcher := ""
	if tg.Matcher != nil {
		matcher = aws.ToString(tg.Matcher.HttpCode)
	}
	diff("enabled", aws.ToBool(tg.HealthCheckEnabled), true)
	diff("protocol", tg.HealthCheckProtocol, elbv2types.ProtocolEnumHttp)
	diff("port", aws.ToString(tg.HealthCheckPort), "traffic-port")
	diff("path", aws.ToString(tg.HealthCheckPath), path)
	diff("interval", aws.ToInt32(tg.HealthCheckIntervalSeconds), tgHealthInterval)
	diff("timeout", aws.ToInt32(tg.HealthCheckTimeoutSeconds), tgHealthTimeout)
	diff("healthy threshold", aws.ToInt32(tg.HealthyThresholdCount), tgHealthyThreshold)
	diff("unhealthy threshold", aws.ToInt32(tg.UnhealthyThresholdCount), tgUnhealthyThreshold)
	diff("matcher", matcher, tgHealthMatcher)
	return drift
}

func ensureDeregistrationDelay(ctx context.Context, r *Run, name, arn string) error {
	out, err := r.AWS.ELBV2.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: targetGroupKind.Type + " " + name, Err: err}
	}
	got := ""
	for _, a := range out.Attributes {
		if aws.ToString(a.Key) == attrDeregistrationDelay {
			got = aws.ToString(a.Value)
		}
	}
	if got == tgDeregistrationDelay {
		return nil
	}
	return r.change("modify", targetGroupKind.Type, name, fmt.Sprintf("deregistration delay %ss → %ss", got, tgDeregistrationDelay), func() error {
		_, err := r.AWS.ELBV2.ModifyTargetGroupAttributes(ctx, deregistrationDelayInput(arn))
		return err
	})
}

// checkELBName refuses names AWS would (at most 32 characters), saying why.
func checkELBName(r *Run, what, name string) error {
	if len(name) <= elbNameMax {
		return nil
	}
	return fmt.Errorf("stage %s: %s name %s has %d characters, AWS allows %d: use a shorter --stack name", r.Stage.Name, what, name, len(name), elbNameMax)
}

// displayName is a resource's name from its ARN, or the planned id.
func displayName(arn string) string {
	if isPlanned(arn) {
		return arn
	}
	return arnName(arn)
}

// planOnly records a change that depends on a resource the plan would
// create; outside a plan such an id is a bug in the stage.
func planOnly(r *Run, action, kind, name, detail string) error {
	return r.change(action, kind, name, detail, func() error {
		return fmt.Errorf("internal error: %s depends on a resource that was not created", name)
	})
}

// ---- targets ----

// ensureTargets registers the instances that are not registered on port
// yet. It deregisters nothing: which targets go is the caller's call.
func ensureTargets(ctx context.Context, r *Run, tgARN string, port int32, instanceIDs []string) error {
	name := displayName(tgARN)
	if isPlanned(tgARN) {
		return planOnly(r, "modify", targetGroupKind.Type, name, fmt.Sprintf("register %s on port %d", strings.Join(instanceIDs, ", "), port))
	}
	out, err := r.AWS.ELBV2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "describe targets of", Resource: targetGroupKind.Type + " " + name, Err: err}
	}
	var missing []string
	for _, id := range instanceIDs {
		registered := slices.ContainsFunc(out.TargetHealthDescriptions, func(d elbv2types.TargetHealthDescription) bool {
			return aws.ToString(d.Target.Id) == id && aws.ToInt32(d.Target.Port) == port && !leaving(d)
		})
		if !registered {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return r.change("modify", targetGroupKind.Type, name, fmt.Sprintf("register %s on port %d", strings.Join(missing, ", "), port), func() error {
		targets := make([]elbv2types.TargetDescription, 0, len(missing))
		for _, id := range missing {
			targets = append(targets, elbv2types.TargetDescription{Id: aws.String(id), Port: aws.Int32(port)})
		}
		_, err := r.AWS.ELBV2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: targets})
		return err
	})
}

// leaving reports a target on its way out (deregistration in progress).
func leaving(d elbv2types.TargetHealthDescription) bool {
	if d.TargetHealth == nil {
		return false
	}
	s := d.TargetHealth.State
	return s == elbv2types.TargetHealthStateEnumDraining || s == elbv2types.TargetHealthStateEnumUnhealthyDraining
}

// targetState is one target's health as the load balancer sees it.
type targetState struct {
	id, state, reason, description string
}

func (t targetState) String() string {
	s := t.id + ": " + t.state
	switch {
	case t.reason != "" && t.description != "":
		s += " (" + t.reason + ": " + t.description + ")"
	case t.reason != "":
		s += " (" + t.reason + ")"
	}
	if h := reasonHints[t.reason]; h != "" {
		s += " — " + h
	}
	return s
}

// reasonHints say what usually causes a health-check reason.
var reasonHints = map[string]string{
	string(elbv2types.TargetHealthReasonEnumTimeout):              "the load balancer cannot reach the port: check the instance's security group allows the load balancer's",
	string(elbv2types.TargetHealthReasonEnumResponseCodeMismatch): "the app answers the health check with an error: check its logs",
	string(elbv2types.TargetHealthReasonEnumFailedHealthChecks):   "the app does not answer the health check: check it is running",
	string(elbv2types.TargetHealthReasonEnumNotInUse):             "no listener forwards to the target group",
	string(elbv2types.TargetHealthReasonEnumInvalidState):         "the instance is not running",
	string(elbv2types.TargetHealthReasonEnumNotRegistered):        "the instance is not registered",
}

// targetStates reads the health of the given instances (not registered
// ones included).
func targetStates(ctx context.Context, e *Env, tgARN string, instanceIDs []string) ([]targetState, error) {
	out, err := e.AWS.ELBV2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		return nil, err
	}
	states := make([]targetState, 0, len(instanceIDs))
	for _, id := range instanceIDs {
		st := targetState{id: id, state: "not registered", reason: string(elbv2types.TargetHealthReasonEnumNotRegistered)}
		for _, d := range out.TargetHealthDescriptions { // one that stays wins over one on its way out
			if aws.ToString(d.Target.Id) != id || d.TargetHealth == nil {
				continue
			}
			h := d.TargetHealth
			st = targetState{id: id, state: string(h.State), reason: string(h.Reason), description: aws.ToString(h.Description)}
			if !leaving(d) {
				break
			}
		}
		states = append(states, st)
	}
	return states, nil
}

func countHealthy(states []targetState) int {
	n := 0
	for _, s := range states {
		if s.state == string(elbv2types.TargetHealthStateEnumHealthy) {
			n++
		}
	}
	return n
}

// waitHealthyTargets waits until every given instance is a healthy target.
// On timeout the error lists each target's state and reason.
func waitHealthyTargets(ctx context.Context, r *Run, tgARN string, instanceIDs []string) error {
	if r.DryRun || isPlanned(tgARN) || len(instanceIDs) == 0 {
		return nil
	}
	name := arnName(tgARN)
	spec := r.wait("targets of "+name+" to become healthy", 0, "check them with `aws elbv2 describe-target-health --target-group-arn "+tgARN+"`")
	var last []targetState
	err := awsx.PollUnlessDone(ctx, spec, func(ctx context.Context) (bool, string, error) {
		states, err := targetStates(ctx, r.Env, tgARN, instanceIDs)
		if err != nil {
			return false, "", err
		}
		last = states
		healthy := countHealthy(states)
		return healthy == len(instanceIDs), fmt.Sprintf("%d/%d healthy", healthy, len(instanceIDs)), nil
	})
	if errors.Is(err, awsx.ErrWaitTimeout) && len(last) > 0 {
		err = &unhealthyTargetsError{wait: err, targets: last}
	}
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "wait for", Resource: targetGroupKind.Type + " " + name, Err: err}
	}
	return nil
}

// unhealthyTargetsError is a timed-out health wait with each target's state.
type unhealthyTargetsError struct {
	wait    error
	targets []targetState
}

func (e *unhealthyTargetsError) Error() string {
	lines := make([]string, 0, len(e.targets))
	for _, t := range e.targets {
		lines = append(lines, "    "+t.String())
	}
	return e.wait.Error() + "\n  targets:\n" + strings.Join(lines, "\n")
}

func (e *unhealthyTargetsError) Unwrap() error { return e.wait }

// targetHealthSummary counts a group's healthy targets (targets on their
// way out are not counted), for status.
func targetHealthSummary(ctx context.Context, e *Env, tgARN string) (healthy, total int, err error) {
	if isPlanned(tgARN) || tgARN == "" {
		return 0, 0, nil
	}
	out, err := e.AWS.ELBV2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		return 0, 0, err
	}
	for _, d := range out.TargetHealthDescriptions {
		if leaving(d) {
			continue
		}
		total++
		if d.TargetHealth != nil && d.TargetHealth.State == elbv2types.TargetHealthStateEnumHealthy {
			healthy++
		}
	}
	return healthy, total, nil
}

// ---- load balancer and listener ----

// loadBalancerSpec is an internet-facing IPv4 application load balancer.
type loadBalancerSpec struct {
	Key, Name, SecurityGroup string
	Subnets                  []string
}

// ensureLoadBalancer finds or creates the load balancer, repairs drift in
// its security group and subnets, and waits until it is active.
func ensureLoadBalancer(ctx context.Context, r *Run, s loadBalancerSpec) (arn, dnsName string, err error) {
	if err := checkELBName(r, "load balancer", s.Name); err != nil {
		return "", "", err
	}
	arn, err = r.Ensure(ctx, Spec{Key: s.Key, Kind: loadBalancerKind, Name: s.Name,
		Detail: fmt.Sprintf("internet-facing application load balancer in %s, security group %s", strings.Join(s.Subnets, ", "), s.SecurityGroup),
		Create: func(ctx context.Context, _ string) (string, error) {
			out, err := r.AWS.ELBV2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(s.Name),
				Type: elbv2types.LoadBalancerTypeEnumApplication, Scheme: elbv2types.LoadBalancerSchemeEnumInternetFacing,
				IpAddressType: elbv2types.IpAddressTypeIpv4, Subnets: s.Subnets, SecurityGroups: []string{s.SecurityGroup},
				Tags: r.Tags(s.Name).ELBV2()})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.LoadBalancers[0].LoadBalancerArn), nil
		}})
	if err != nil {
		return "", "", err
	}
	if isPlanned(arn) {
		return arn, plannedID(s.Key + " DNS name"), nil
	}
	lb, err := describeLoadBalancer(ctx, r, s.Name, arn)
	if err != nil {
		return "", "", err
	}
	if err := ensureLoadBalancerNetwork(ctx, r, s, arn, lb); err != nil {
		return "", "", err
	}
	if err := waitLoadBalancerActive(ctx, r, s.Name, arn, lb); err != nil {
		return "", "", err
	}
	return arn, aws.ToString(lb.DNSName), nil
}

func describeLoadBalancer(ctx context.Context, r *Run, name, arn string) (elbv2types.LoadBalancer, error) {
	out, err := r.AWS.ELBV2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	if err == nil && len(out.LoadBalancers) == 0 {
		err = fmt.Errorf("it is not listed")
	}
	if err != nil {
		return elbv2types.LoadBalancer{}, &StageError{Stage: r.Stage.Name, Action: "describe", Resource: loadBalancerKind.Type + " " + name, Err: err}
	}
	lb := out.LoadBalancers[0]
	if lb.Scheme != elbv2types.LoadBalancerSchemeEnumInternetFacing || lb.Type != elbv2types.LoadBalancerTypeEnumApplication {
		return lb, fmt.Errorf("stage %s: load balancer %s is an %s %s load balancer, but the stage wants an internet-facing application one: this cannot change; "+
			"run `myappctl destroy`, or delete it (`aws elbv2 delete-load-balancer --load-balancer-arn %s`) and run again", r.Stage.Name, name, lb.Scheme, lb.Type, arn)
	}
	return lb, nil
}

// ensureLoadBalancerNetwork repairs security groups and subnets changed by hand.
func ensureLoadBalancerNetwork(ctx context.Context, r *Run, s loadBalancerSpec, arn string, lb elbv2types.LoadBalancer) error {
	if groups := []string{s.SecurityGroup}; !sameStrings(lb.SecurityGroups, groups) {
		err := r.change("modify", loadBalancerKind.Type, s.Name, fmt.Sprintf("security groups %v → %v", lb.SecurityGroups, groups), func() error {
			_, err := r.AWS.ELBV2.SetSecurityGroups(ctx, &elbv2.SetSecurityGroupsInput{LoadBalancerArn: aws.String(arn), SecurityGroups: groups})
			return err
		})
		if err != nil {
			return err
		}
	}
	var subnets []string
	for _, z := range lb.AvailabilityZones {
		subnets = append(subnets, aws.ToString(z.SubnetId))
	}
	if sameStrings(subnets, s.Subnets) {
		return nil
	}
	return r.change("modify", loadBalancerKind.Type, s.Name, fmt.Sprintf("subnets %v → %v", subnets, s.Subnets), func() error {
		_, err := r.AWS.ELBV2.SetSubnets(ctx, &elbv2.SetSubnetsInput{LoadBalancerArn: aws.String(arn), Subnets: s.Subnets})
		return err
	})
}

func sameStrings(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// waitLoadBalancerActive waits with the SDK waiter while the load balancer provisions.
func waitLoadBalancerActive(ctx context.Context, r *Run, name, arn string, lb elbv2types.LoadBalancer) error {
	state := elbv2types.LoadBalancerStateEnum("")
	if lb.State != nil {
		state = lb.State.Code
	}
	switch {
	case state == elbv2types.LoadBalancerStateEnumActive || state == elbv2types.LoadBalancerStateEnumActiveImpaired || r.DryRun:
		return nil
	case state == elbv2types.LoadBalancerStateEnumFailed:
		return fmt.Errorf("stage %s: load balancer %s failed (%s): delete it (`aws elbv2 delete-load-balancer --load-balancer-arn %s`) and run again",
			r.Stage.Name, name, aws.ToString(lb.State.Reason), arn)
	}
	spec := r.wait("load balancer "+name+" to become active", 0, "check it with `aws elbv2 describe-load-balancers --load-balancer-arns "+arn+"`")
	err := awsx.WaitWithProgress(ctx, spec, func(ctx context.Context, maxWait time.Duration) error {
		w := elbv2.NewLoadBalancerAvailableWaiter(r.AWS.ELBV2, func(o *elbv2.LoadBalancerAvailableWaiterOptions) {
			o.MinDelay, o.MaxDelay = spec.Interval, spec.Interval
		})
		return w.Wait(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}}, maxWait)
	})
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "wait for", Resource: loadBalancerKind.Type + " " + name, Err: err}
	}
	return nil
}

// ensureListener makes the load balancer's HTTP listener on port forward
// to the target group, fixing a listener changed by hand.
func ensureListener(ctx context.Context, r *Run, key, lbARN string, port int32, tgARN string) error {
	detail := fmt.Sprintf("HTTP:%d → %s", port, displayName(tgARN))
	if isPlanned(lbARN) {
		return planOnly(r, "create", listenerKind.Type, key, detail)
	}
	name := arnName(lbARN) + "-http-" + strconv.Itoa(int(port))
	arn, err := r.Ensure(ctx, Spec{Key: key, Kind: listenerKind, Name: name, Detail: detail,
		Create: func(ctx context.Context, _ string) (string, error) {
			out, err := r.AWS.ELBV2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN),
				Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(port), DefaultActions: forwardTo(tgARN), Tags: r.Tags(name).ELBV2()})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.Listeners[0].ListenerArn), nil
		}})
	if err != nil || isPlanned(arn) {
		return err
	}
	out, err := r.AWS.ELBV2.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{arn}})
	if err != nil || len(out.Listeners) == 0 {
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: listenerKind.Type + " " + name, Err: err}
	}
	l := out.Listeners[0]
	if l.Protocol == elbv2types.ProtocolEnumHttp && aws.ToInt32(l.Port) == port && forwardsOnlyTo(l.DefaultActions, tgARN) {
		return nil
	}
	return r.change("modify", listenerKind.Type, name, fmt.Sprintf("%s:%d → %s (was %s)", l.Protocol, aws.ToInt32(l.Port), detail, describeActions(l.DefaultActions)), func() error {
		_, err := r.AWS.ELBV2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(arn),
			Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(port), DefaultActions: forwardTo(tgARN)})
		return err
	})
}

func forwardTo(tgARN string) []elbv2types.Action {
	return []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}
}

// forwardsOnlyTo reports a single forward action to tgARN (either form).
func forwardsOnlyTo(actions []elbv2types.Action, tgARN string) bool {
	if len(actions) != 1 || actions[0].Type != elbv2types.ActionTypeEnumForward {
		return false
	}
	a := actions[0]
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		return len(a.ForwardConfig.TargetGroups) == 1 && aws.ToString(a.ForwardConfig.TargetGroups[0].TargetGroupArn) == tgARN
	}
	return aws.ToString(a.TargetGroupArn) == tgARN
}

func describeActions(actions []elbv2types.Action) string {
	var parts []string
	for _, a := range actions {
		s := string(a.Type)
		if a.TargetGroupArn != nil {
			s += " " + arnName(*a.TargetGroupArn)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
