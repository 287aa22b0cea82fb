package fakeaws

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// ---- target groups ----

// tgHealthDefaults fills in what CreateTargetGroup leaves out, as AWS does for HTTP.
func tgHealthDefaults(tg *types.TargetGroup) {
	def := func(p **int32, v int32) {
		if *p == nil {
			*p = aws.Int32(v)
		}
	}
	def(&tg.HealthCheckIntervalSeconds, 30)
	def(&tg.HealthCheckTimeoutSeconds, 5)
	def(&tg.HealthyThresholdCount, 5)
	def(&tg.UnhealthyThresholdCount, 2)
	if tg.HealthCheckEnabled == nil {
		tg.HealthCheckEnabled = aws.Bool(true)
	}
	if tg.HealthCheckProtocol == "" {
		tg.HealthCheckProtocol = types.ProtocolEnumHttp
	}
	if tg.HealthCheckPort == nil {
		tg.HealthCheckPort = aws.String("traffic-port")
	}
	if tg.HealthCheckPath == nil {
		tg.HealthCheckPath = aws.String("/")
	}
	if tg.Matcher == nil {
		tg.Matcher = &types.Matcher{HttpCode: aws.String("200")}
	}
}

func validTGHealthCheck(tg types.TargetGroup) error {
	in := func(v *int32, lo, hi int32) bool { return *v >= lo && *v <= hi }
	switch {
	case !in(tg.HealthCheckIntervalSeconds, 5, 300):
		return APIError("ValidationError", "Health check interval must be between 5 and 300 seconds")
	case !in(tg.HealthCheckTimeoutSeconds, 2, 120):
		return APIError("ValidationError", "Health check timeout must be between 2 and 120 seconds")
	case *tg.HealthCheckTimeoutSeconds >= *tg.HealthCheckIntervalSeconds:
		return APIError("ValidationError", "Health check timeout '%d' must be smaller than the interval '%d'", *tg.HealthCheckTimeoutSeconds, *tg.HealthCheckIntervalSeconds)
	case !in(tg.HealthyThresholdCount, 2, 10) || !in(tg.UnhealthyThresholdCount, 2, 10):
		return APIError("ValidationError", "Health check thresholds must be between 2 and 10")
	case !strings.HasPrefix(aws.ToString(tg.HealthCheckPath), "/") || len(aws.ToString(tg.HealthCheckPath)) > 1024:
		return APIError("ValidationError", "Health check path '%s' must begin with a '/' and be at most 1024 characters", aws.ToString(tg.HealthCheckPath))
	case tg.Matcher == nil || aws.ToString(tg.Matcher.HttpCode) == "":
		return APIError("ValidationError", "A health check matcher HTTP code must be specified")
	}
	return nil
}

// tgSettings is what makes two CreateTargetGroup calls "the same settings".
func tgSettings(tg types.TargetGroup) string {
	return fmt.Sprintf("%s %d %s %s %s %d %d %d %d %s", tg.Protocol, aws.ToInt32(tg.Port), aws.ToString(tg.VpcId), tg.TargetType,
		aws.ToString(tg.HealthCheckPath), *tg.HealthCheckIntervalSeconds, *tg.HealthCheckTimeoutSeconds,
		*tg.HealthyThresholdCount, *tg.UnhealthyThresholdCount, aws.ToString(tg.Matcher.HttpCode))
}

func (f *ELBV2) CreateTargetGroup(ctx context.Context, in *elbv2.CreateTargetGroupInput, _ ...func(*elbv2.Options)) (*elbv2.CreateTargetGroupOutput, error) {
	fault, err := f.begin(ctx, "CreateTargetGroup")
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.Name)
	tg := types.TargetGroup{TargetGroupName: in.Name, Protocol: in.Protocol, Port: in.Port, VpcId: in.VpcId, TargetType: in.TargetType,
		HealthCheckEnabled: in.HealthCheckEnabled, HealthCheckPath: in.HealthCheckPath, HealthCheckPort: in.HealthCheckPort,
		HealthCheckProtocol: in.HealthCheckProtocol, HealthCheckIntervalSeconds: in.HealthCheckIntervalSeconds,
		HealthCheckTimeoutSeconds: in.HealthCheckTimeoutSeconds, HealthyThresholdCount: in.HealthyThresholdCount,
		UnhealthyThresholdCount: in.UnhealthyThresholdCount, Matcher: in.Matcher, IpAddressType: types.TargetGroupIpAddressTypeEnumIpv4}
	if tg.TargetType == "" {
		tg.TargetType = types.TargetTypeEnumInstance
	}
	tgHealthDefaults(&tg)
	if tg.ProtocolVersion = in.ProtocolVersion; tg.ProtocolVersion == nil {
		tg.ProtocolVersion = aws.String("HTTP1")
	}
	if err := f.validNewTargetGroup(tg, in.Tags); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, other := range f.tgs {
		if aws.ToString(other.tg.TargetGroupName) != name {
			continue
		}
		if tgSettings(other.tg) == tgSettings(tg) { // AWS: same settings, same answer
			return finish(&elbv2.CreateTargetGroupOutput{TargetGroups: []types.TargetGroup{f.viewTG(other)}}, nil, fault)
		}
		return nil, APIError("DuplicateTargetGroupName", "A target group with the same name '%s' exists, but with different settings", name)
	}
	tg.TargetGroupArn = aws.String(f.arn("targetgroup", name))
	t := &fakeTG{seq: f.seq, tg: tg, tags: slices.Clone(in.Tags), targets: map[string]*fakeTarget{}, attrs: map[string]string{
		"deregistration_delay.timeout_seconds": "300", "stickiness.enabled": "false", "stickiness.type": "lb_cookie",
		"stickiness.lb_cookie.duration_seconds": "86400", "slow_start.duration_seconds": "0",
		"load_balancing.algorithm.type": "round_robin", "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
	}}
	f.tgs[*tg.TargetGroupArn] = t
	return finish(&elbv2.CreateTargetGroupOutput{TargetGroups: []types.TargetGroup{f.viewTG(t)}}, nil, fault)
}

// validNewTargetGroup checks a new group (it looks the VPC up in EC2, so it
// runs before the ELBV2 lock is taken).
func (f *ELBV2) validNewTargetGroup(tg types.TargetGroup, tags []types.Tag) error {
	if err := validELBName("Target group", aws.ToString(tg.TargetGroupName)); err != nil {
		return err
	}
	if tg.TargetType != types.TargetTypeEnumInstance && tg.TargetType != types.TargetTypeEnumIp {
		return APIError("ValidationError", "the fake supports instance and ip targets, not '%s'", tg.TargetType)
	}
	if tg.Protocol != types.ProtocolEnumHttp && tg.Protocol != types.ProtocolEnumHttps {
		return APIError("ValidationError", "A protocol (HTTP or HTTPS) must be specified for target type '%s'", tg.TargetType)
	}
	if p := aws.ToInt32(tg.Port); p < 1 || p > 65535 {
		return APIError("ValidationError", "A port between 1 and 65535 must be specified")
	}
	if vpc := aws.ToString(tg.VpcId); vpc == "" || !f.ec2.VPCExists(vpc) {
		return APIError("ValidationError", "The VPC ID '%s' is not found", vpc)
	}
	if err := validTGHealthCheck(tg); err != nil {
		return err
	}
	return validELBTags(tags)
}

// viewTG is a group as describes show it; LoadBalancerArns come from the
// listeners that forward to it.
func (f *ELBV2) viewTG(t *fakeTG) types.TargetGroup {
	v := t.tg
	v.LoadBalancerArns = f.lbsOfTG(aws.ToString(t.tg.TargetGroupArn))
	return v
}

func (f *ELBV2) lbsOfTG(tgARN string) []string {
	var out []string
	for _, l := range f.sortedListeners() {
		if slices.Contains(actionTargetGroups(l.l.DefaultActions), tgARN) && !slices.Contains(out, aws.ToString(l.l.LoadBalancerArn)) {
			out = append(out, aws.ToString(l.l.LoadBalancerArn))
		}
	}
	return out
}

func (f *ELBV2) DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error) {
	fault, err := f.begin(ctx, "DescribeTargetGroups")
	if err != nil {
		return nil, err
	}
	set := 0
	for _, b := range []bool{len(in.TargetGroupArns) > 0, len(in.Names) > 0, in.LoadBalancerArn != nil} {
		if b {
			set++
		}
	}
	if set > 1 {
		return nil, APIError("ValidationError", "Target group ARNs, names and a load balancer ARN cannot be specified together")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.LoadBalancerArn != nil {
		if lb, ok := f.lbs[*in.LoadBalancerArn]; !ok || lb.gone {
			return nil, APIError("LoadBalancerNotFound", "Load balancer '%s' not found", *in.LoadBalancerArn)
		}
	}
	var all []types.TargetGroup
	found := map[string]bool{}
	for _, t := range f.sortedTGs() {
		arn, name := aws.ToString(t.tg.TargetGroupArn), aws.ToString(t.tg.TargetGroupName)
		v := f.viewTG(t)
		switch {
		case len(in.TargetGroupArns) > 0 && !slices.Contains(in.TargetGroupArns, arn),
			len(in.Names) > 0 && !slices.Contains(in.Names, name),
			in.LoadBalancerArn != nil && !slices.Contains(v.LoadBalancerArns, *in.LoadBalancerArn):
			continue
		}
		found[arn], found[name] = true, true
		all = append(all, v)
	}
	for _, want := range append(slices.Clone(in.TargetGroupArns), in.Names...) {
		if !found[want] {
			return nil, APIError("TargetGroupNotFound", "One or more target groups not found")
		}
	}
	tgs, next, err := elbPage(all, in.Marker, in.PageSize, f.PageSize)
	if err != nil {
		return nil, err
	}
	return finish(&elbv2.DescribeTargetGroupsOutput{TargetGroups: tgs, NextMarker: next}, nil, fault)
}

func (f *ELBV2) targetGroup(arn *string) (*fakeTG, error) {
	t, ok := f.tgs[aws.ToString(arn)]
	if !ok {
		return nil, APIError("TargetGroupNotFound", "Target groups '%s' not found", aws.ToString(arn))
	}
	return t, nil
}

func (f *ELBV2) ModifyTargetGroup(ctx context.Context, in *elbv2.ModifyTargetGroupInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyTargetGroupOutput, error) {
	fault, err := f.begin(ctx, "ModifyTargetGroup")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.targetGroup(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	tg := t.tg
	set := func(dst **int32, v *int32) {
		if v != nil {
			*dst = v
		}
	}
	set(&tg.HealthCheckIntervalSeconds, in.HealthCheckIntervalSeconds)
	set(&tg.HealthCheckTimeoutSeconds, in.HealthCheckTimeoutSeconds)
	set(&tg.HealthyThresholdCount, in.HealthyThresholdCount)
	set(&tg.UnhealthyThresholdCount, in.UnhealthyThresholdCount)
	if in.HealthCheckEnabled != nil {
		tg.HealthCheckEnabled = in.HealthCheckEnabled
	}
	if in.HealthCheckPath != nil {
		tg.HealthCheckPath = in.HealthCheckPath
	}
	if in.HealthCheckPort != nil {
		tg.HealthCheckPort = in.HealthCheckPort
	}
	if in.HealthCheckProtocol != "" {
		tg.HealthCheckProtocol = in.HealthCheckProtocol
	}
	if in.Matcher != nil {
		tg.Matcher = in.Matcher
	}
	if err := validTGHealthCheck(tg); err != nil {
		return nil, err
	}
	t.tg = tg
	return finish(&elbv2.ModifyTargetGroupOutput{TargetGroups: []types.TargetGroup{f.viewTG(t)}}, nil, fault)
}

func (f *ELBV2) DescribeTargetGroupAttributes(ctx context.Context, in *elbv2.DescribeTargetGroupAttributesInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupAttributesOutput, error) {
	fault, err := f.begin(ctx, "DescribeTargetGroupAttributes")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.targetGroup(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	return finish(&elbv2.DescribeTargetGroupAttributesOutput{Attributes: tgAttributes(t.attrs)}, nil, fault)
}

func tgAttributes(m map[string]string) []types.TargetGroupAttribute {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]types.TargetGroupAttribute, 0, len(keys))
	for _, k := range keys {
		out = append(out, types.TargetGroupAttribute{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func (f *ELBV2) ModifyTargetGroupAttributes(ctx context.Context, in *elbv2.ModifyTargetGroupAttributesInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyTargetGroupAttributesOutput, error) {
	fault, err := f.begin(ctx, "ModifyTargetGroupAttributes")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.targetGroup(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	for _, a := range in.Attributes {
		k, v := aws.ToString(a.Key), aws.ToString(a.Value)
		if _, known := t.attrs[k]; !known {
			return nil, APIError("ValidationError", "Target group attribute key '%s' is not recognized", k)
		}
		if n, err := strconv.Atoi(v); k == "deregistration_delay.timeout_seconds" && (err != nil || n < 0 || n > 3600) {
			return nil, APIError("ValidationError", "Target group attribute key '%s' must be an integer between 0 and 3600", k)
		}
		if k == "stickiness.enabled" && v != "true" && v != "false" {
			return nil, APIError("ValidationError", "Target group attribute key '%s' must be 'true' or 'false'", k)
		}
	}
	for _, a := range in.Attributes {
		t.attrs[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	return finish(&elbv2.ModifyTargetGroupAttributesOutput{Attributes: tgAttributes(t.attrs)}, nil, fault)
}

func (f *ELBV2) DeleteTargetGroup(ctx context.Context, in *elbv2.DeleteTargetGroupInput, _ ...func(*elbv2.Options)) (*elbv2.DeleteTargetGroupOutput, error) {
	fault, err := f.begin(ctx, "DeleteTargetGroup")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	arn := aws.ToString(in.TargetGroupArn)
	if _, err := f.targetGroup(in.TargetGroupArn); err != nil {
		return nil, err
	}
	if lbs := f.lbsOfTG(arn); len(lbs) > 0 {
		return nil, APIError("ResourceInUse", "Target group '%s' is currently in use by a listener or a rule", arn)
	}
	delete(f.tgs, arn)
	return finish(&elbv2.DeleteTargetGroupOutput{}, nil, fault)
}
