package fakeaws

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// ELBV2 is the fake Elastic Load Balancing v2 service: target groups,
// application load balancers, listeners and targets, with the validations
// and dependency errors AWS has. It looks subnets and security groups up in
// the EC2 fake and keeps them "in use" there while a load balancer (or, for
// ENIDrain after its deletion, its network interfaces) uses them.
type ELBV2 struct {
	awsx.ELBV2API // nil: calls nobody implemented panic
	*Core
	ec2 *EC2

	Region string
	// ProvisioningDescribes is how many DescribeLoadBalancers answers show a
	// new load balancer still provisioning before it is active.
	ProvisioningDescribes int
	// VisibleAfterDelete is how many DescribeLoadBalancers answers still list
	// a deleted load balancer.
	VisibleAfterDelete int
	// ENIDrain is how long a deleted load balancer's network interfaces keep
	// its subnets and security groups in use (DependencyViolation in EC2).
	ENIDrain time.Duration
	// PageSize is the page size of describes that do not set one (AWS: 400).
	PageSize int
	// HealthOf, when set, decides a registered target's health once its target
	// group receives traffic; an empty state falls back to the default
	// (initial for the first describe, healthy afterwards). The reason is a
	// code ("Target.Timeout") or "code: description". It runs under the
	// fake's lock: it must not call the fake.
	HealthOf func(tgARN, instanceID string) (state types.TargetHealthStateEnum, reason string)

	mu        sync.Mutex
	seq       int
	tgs       map[string]*fakeTG
	lbs       map[string]*fakeLB
	listeners map[string]*fakeListener
	draining  []drainingENIs
}

type fakeTG struct {
	seq     int
	tg      types.TargetGroup
	attrs   map[string]string
	tags    []types.Tag
	targets map[string]*fakeTarget // by "id:port"
}

type fakeTarget struct {
	seq          int
	id           string
	port         int32
	describes    int // describes while the group receives traffic
	deregistered bool
}

type fakeLB struct {
	seq         int
	lb          types.LoadBalancer
	tags        []types.Tag
	subnets     []string
	describes   int
	gone        bool // deleted, but still listed for visibleLeft describes
	visibleLeft int
}

type fakeListener struct {
	seq  int
	l    types.Listener
	tags []types.Tag
}

// drainingENIs are the network interfaces of a deleted load balancer.
type drainingENIs struct {
	lbName          string
	subnets, groups []string
	until           time.Time
}

// NewELBV2 returns an empty fake ELBv2 whose load balancers use subnets and
// security groups of ec2 (and keep them from being deleted while they do).
func NewELBV2(core *Core, ec2 *EC2) *ELBV2 {
	f := &ELBV2{Core: core, ec2: ec2, Region: ec2.Region, ProvisioningDescribes: 1, ENIDrain: 30 * time.Millisecond, PageSize: 400,
		tgs: map[string]*fakeTG{}, lbs: map[string]*fakeLB{}, listeners: map[string]*fakeListener{}}
	ec2.AddUsers(f.usersOf)
	return f
}

// Count returns how many resources of each kind exist (for "nothing left" checks).
func (f *ELBV2) Count() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	lbs := 0
	for _, lb := range f.lbs {
		if !lb.gone {
			lbs++
		}
	}
	return map[string]int{"target-group": len(f.tgs), "load-balancer": lbs, "listener": len(f.listeners)}
}

// usersOf names what still uses a subnet or security group (EC2 calls it
// under its own lock; ELBV2 never calls EC2 while holding its lock).
func (f *ELBV2) usersOf(kind, id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	uses := func(subnets, groups []string) bool {
		return (kind == "subnet" && slices.Contains(subnets, id)) || (kind == "security-group" && slices.Contains(groups, id))
	}
	for _, lb := range f.sortedLBs() {
		if !lb.gone && uses(lb.subnets, lb.lb.SecurityGroups) {
			return "used by load balancer " + aws.ToString(lb.lb.LoadBalancerName)
		}
	}
	now := time.Now()
	for _, d := range f.draining {
		if now.Before(d.until) && uses(d.subnets, d.groups) {
			return "network interfaces of deleted load balancer " + d.lbName + " are still in use"
		}
	}
	return ""
}

// ---- shared helpers ----

func (f *ELBV2) arn(kind, path string) string {
	f.seq++
	suffix := fmt.Sprintf("%04x", f.seq&0xffff) + newID("x")[2:14]
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:%s/%s/%s", f.Region, Account, kind, path, suffix)
}

var elbNamePattern = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)

func validELBName(what, name string) error {
	switch {
	case len(name) > 32:
		return APIError("ValidationError", "%s name '%s' cannot be longer than '32' characters", what, name)
	case !elbNamePattern.MatchString(name):
		return APIError("ValidationError", "%s name '%s' can contain only alphanumeric characters and hyphens, and must not begin or end with a hyphen", what, name)
	}
	return nil
}

func validELBTags(tags []types.Tag) error {
	if len(tags) > 50 {
		return APIError("TooManyTags", "You can have at most 50 tags per resource")
	}
	for _, t := range tags {
		if aws.ToString(t.Key) == "" {
			return APIError("ValidationError", "A tag key must not be empty")
		}
	}
	return nil
}

// mergeELBTags adds or replaces tags by key.
func mergeELBTags(have, add []types.Tag) []types.Tag {
	out := slices.Clone(have)
	for _, t := range add {
		i := slices.IndexFunc(out, func(o types.Tag) bool { return aws.ToString(o.Key) == aws.ToString(t.Key) })
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	return out
}

// page cuts one page out of items; the marker is the offset.
func elbPage[T any](items []T, marker *string, size *int32, def int) ([]T, *string, error) {
	n := def
	if size != nil {
		if *size < 1 || *size > 400 {
			return nil, nil, APIError("ValidationError", "Page size must be between 1 and 400")
		}
		n = int(*size)
	}
	start := 0
	if marker != nil {
		var err error
		if start, err = strconv.Atoi(*marker); err != nil || start < 0 || start > len(items) {
			return nil, nil, APIError("ValidationError", "The marker '%s' is not valid", *marker)
		}
	}
	end := min(start+n, len(items))
	var next *string
	if end < len(items) {
		next = aws.String(strconv.Itoa(end))
	}
	return items[start:end], next, nil
}

func elbBySeq[T any](m map[string]*T, seq func(*T) int) []*T {
	out := make([]*T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return seq(out[i]) < seq(out[j]) })
	return out
}

func (f *ELBV2) sortedLBs() []*fakeLB { return elbBySeq(f.lbs, func(l *fakeLB) int { return l.seq }) }
func (f *ELBV2) sortedTGs() []*fakeTG { return elbBySeq(f.tgs, func(t *fakeTG) int { return t.seq }) }
func (f *ELBV2) sortedListeners() []*fakeListener {
	return elbBySeq(f.listeners, func(l *fakeListener) int { return l.seq })
}

// ---- tags ----

func (f *ELBV2) DescribeTags(ctx context.Context, in *elbv2.DescribeTagsInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error) {
	fault, err := f.begin(ctx, "DescribeTags")
	if err != nil {
		return nil, err
	}
	if n := len(in.ResourceArns); n == 0 || n > awsx.ELBV2DescribeTagsMax {
		return nil, APIError("ValidationError", "1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length between 1 and 20 (got %d)", n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &elbv2.DescribeTagsOutput{}
	for _, arn := range in.ResourceArns {
		tags, err := f.tagsOf(arn)
		if err != nil {
			return nil, err
		}
		out.TagDescriptions = append(out.TagDescriptions, types.TagDescription{ResourceArn: aws.String(arn), Tags: slices.Clone(*tags)})
	}
	return finish(out, nil, fault)
}

func (f *ELBV2) AddTags(ctx context.Context, in *elbv2.AddTagsInput, _ ...func(*elbv2.Options)) (*elbv2.AddTagsOutput, error) {
	fault, err := f.begin(ctx, "AddTags")
	if err != nil {
		return nil, err
	}
	if n := len(in.ResourceArns); n == 0 || n > awsx.ELBV2DescribeTagsMax {
		return nil, APIError("ValidationError", "ResourceArns must have between 1 and 20 members (got %d)", n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, arn := range in.ResourceArns {
		tags, err := f.tagsOf(arn)
		if err != nil {
			return nil, err
		}
		if err := validELBTags(mergeELBTags(*tags, in.Tags)); err != nil {
			return nil, err
		}
	}
	for _, arn := range in.ResourceArns {
		tags, _ := f.tagsOf(arn)
		*tags = mergeELBTags(*tags, in.Tags)
	}
	return finish(&elbv2.AddTagsOutput{}, nil, fault)
}

// tagsOf finds the tag list of any resource by ARN, or its NotFound error.
func (f *ELBV2) tagsOf(arn string) (*[]types.Tag, error) {
	if tg, ok := f.tgs[arn]; ok {
		return &tg.tags, nil
	}
	if lb, ok := f.lbs[arn]; ok && !lb.gone {
		return &lb.tags, nil
	}
	if l, ok := f.listeners[arn]; ok {
		return &l.tags, nil
	}
	switch {
	case strings.Contains(arn, ":targetgroup/"):
		return nil, APIError("TargetGroupNotFound", "Target groups '%s' not found", arn)
	case strings.Contains(arn, ":listener/"):
		return nil, APIError("ListenerNotFound", "Listener '%s' not found", arn)
	default:
		return nil, APIError("LoadBalancerNotFound", "Load balancer '%s' not found", arn)
	}
}

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

// ---- load balancers ----

// lbNetwork is a load balancer's checked subnets and security groups.
type lbNetwork struct {
	vpc     string
	subnets []string
	zones   []types.AvailabilityZone
	groups  []string
}

// checkNetwork validates subnets (two AZs at least, one subnet per AZ, one
// VPC) and security groups against the EC2 fake. It runs before the ELBV2
// lock is taken (EC2 calls back into ELBV2 under its own lock).
func (f *ELBV2) checkNetwork(subnets []string, mappings []types.SubnetMapping, groups []string) (lbNetwork, error) {
	for _, m := range mappings {
		subnets = append(subnets, aws.ToString(m.SubnetId))
	}
	var n lbNetwork
	zones := map[string]bool{}
	dupZone := false
	for _, s := range subnets {
		zone, vpc, ok := f.ec2.SubnetZone(s)
		if !ok {
			return n, APIError("SubnetNotFound", "The subnet ID '%s' is not valid", s)
		}
		if n.vpc != "" && vpc != n.vpc {
			return n, APIError("InvalidConfigurationRequest", "The subnets must belong to the same VPC ('%s' is in '%s', not '%s')", s, vpc, n.vpc)
		}
		n.vpc = vpc
		dupZone = dupZone || zones[zone]
		zones[zone] = true
		n.subnets = append(n.subnets, s)
		n.zones = append(n.zones, types.AvailabilityZone{SubnetId: aws.String(s), ZoneName: aws.String(zone)})
	}
	if len(zones) < 2 {
		return n, APIError("ValidationError", "At least two subnets in two different Availability Zones must be specified")
	}
	if dupZone {
		return n, APIError("InvalidConfigurationRequest", "A load balancer cannot be attached to multiple subnets in the same Availability Zone")
	}
	if len(groups) == 0 {
		if sg, ok := f.ec2.DefaultSecurityGroup(n.vpc); ok {
			groups = []string{sg}
		}
	}
	for _, g := range groups {
		if vpc, ok := f.ec2.SecurityGroupVPC(g); !ok || vpc != n.vpc {
			return n, APIError("InvalidSecurityGroup", "Security group '%s' does not exist in VPC '%s'", g, n.vpc)
		}
	}
	n.groups = slices.Clone(groups)
	return n, nil
}

func sameELBSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func (f *ELBV2) CreateLoadBalancer(ctx context.Context, in *elbv2.CreateLoadBalancerInput, _ ...func(*elbv2.Options)) (*elbv2.CreateLoadBalancerOutput, error) {
	fault, err := f.begin(ctx, "CreateLoadBalancer")
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.Name)
	if err := validELBName("Load balancer", name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "internal-") {
		return nil, APIError("ValidationError", "Load balancer name '%s' cannot begin with 'internal-'", name)
	}
	typ, scheme, ipType := in.Type, in.Scheme, in.IpAddressType
	if typ == "" {
		typ = types.LoadBalancerTypeEnumApplication
	}
	if scheme == "" {
		scheme = types.LoadBalancerSchemeEnumInternetFacing
	}
	if ipType == "" {
		ipType = types.IpAddressTypeIpv4
	}
	if typ != types.LoadBalancerTypeEnumApplication {
		return nil, APIError("ValidationError", "the fake supports application load balancers only, not '%s'", typ)
	}
	if err := validELBTags(in.Tags); err != nil {
		return nil, err
	}
	n, err := f.checkNetwork(in.Subnets, in.SubnetMappings, in.SecurityGroups)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, other := range f.sortedLBs() {
		if other.gone || aws.ToString(other.lb.LoadBalancerName) != name {
			continue
		}
		if other.lb.Scheme == scheme && sameELBSet(other.subnets, n.subnets) && sameELBSet(other.lb.SecurityGroups, n.groups) {
			return finish(&elbv2.CreateLoadBalancerOutput{LoadBalancers: []types.LoadBalancer{other.lb}}, nil, fault)
		}
		return nil, APIError("DuplicateLoadBalancerName", "A load balancer with the same name '%s' exists, but with different settings", name)
	}
	dns := fmt.Sprintf("%s-%d.%s.elb.amazonaws.com", name, 1000000000+rand.Int64N(8999999999), f.Region)
	if scheme == types.LoadBalancerSchemeEnumInternal {
		dns = "internal-" + dns
	}
	lb := types.LoadBalancer{LoadBalancerArn: aws.String(f.arn("loadbalancer", "app/"+name)), LoadBalancerName: aws.String(name),
		DNSName: aws.String(dns), CanonicalHostedZoneId: aws.String("Z35SXDOTRQ7X7K"), CreatedTime: aws.Time(time.Now()),
		Scheme: scheme, Type: typ, IpAddressType: ipType, VpcId: aws.String(n.vpc), AvailabilityZones: n.zones,
		SecurityGroups: n.groups, State: &types.LoadBalancerState{Code: types.LoadBalancerStateEnumProvisioning}}
	f.lbs[*lb.LoadBalancerArn] = &fakeLB{seq: f.seq, lb: lb, tags: slices.Clone(in.Tags), subnets: n.subnets}
	return finish(&elbv2.CreateLoadBalancerOutput{LoadBalancers: []types.LoadBalancer{lb}}, nil, fault)
}

func (f *ELBV2) DescribeLoadBalancers(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	fault, err := f.begin(ctx, "DescribeLoadBalancers")
	if err != nil {
		return nil, err
	}
	if len(in.LoadBalancerArns) > 0 && len(in.Names) > 0 {
		return nil, APIError("ValidationError", "Load balancer ARNs and names cannot be specified together")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []*fakeLB
	found := map[string]bool{}
	for _, lb := range f.sortedLBs() {
		arn, name := aws.ToString(lb.lb.LoadBalancerArn), aws.ToString(lb.lb.LoadBalancerName)
		if (len(in.LoadBalancerArns) > 0 && !slices.Contains(in.LoadBalancerArns, arn)) || (len(in.Names) > 0 && !slices.Contains(in.Names, name)) {
			continue
		}
		found[arn], found[name] = true, true
		all = append(all, lb)
	}
	for _, want := range append(slices.Clone(in.LoadBalancerArns), in.Names...) {
		if !found[want] {
			return nil, APIError("LoadBalancerNotFound", "One or more load balancers not found")
		}
	}
	lbs, next, err := elbPage(all, in.Marker, in.PageSize, f.PageSize)
	if err != nil {
		return nil, err
	}
	out := &elbv2.DescribeLoadBalancersOutput{NextMarker: next}
	for _, lb := range lbs {
		out.LoadBalancers = append(out.LoadBalancers, f.observeLB(lb))
	}
	return finish(out, nil, fault)
}

// observeLB returns a load balancer as one describe sees it, moving it along
// (provisioning → active; a deleted one fades out).
func (f *ELBV2) observeLB(lb *fakeLB) types.LoadBalancer {
	if lb.gone {
		if lb.visibleLeft--; lb.visibleLeft <= 0 {
			delete(f.lbs, aws.ToString(lb.lb.LoadBalancerArn))
		}
		return lb.lb
	}
	lb.describes++
	if lb.describes > f.ProvisioningDescribes {
		lb.lb.State = &types.LoadBalancerState{Code: types.LoadBalancerStateEnumActive}
	}
	v := lb.lb
	v.State = &types.LoadBalancerState{Code: lb.lb.State.Code}
	return v
}

func (f *ELBV2) loadBalancer(arn *string) (*fakeLB, error) {
	lb, ok := f.lbs[aws.ToString(arn)]
	if !ok || lb.gone {
		return nil, APIError("LoadBalancerNotFound", "Load balancer '%s' not found", aws.ToString(arn))
	}
	return lb, nil
}

func (f *ELBV2) SetSecurityGroups(ctx context.Context, in *elbv2.SetSecurityGroupsInput, _ ...func(*elbv2.Options)) (*elbv2.SetSecurityGroupsOutput, error) {
	fault, err := f.begin(ctx, "SetSecurityGroups")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	lb, err := f.loadBalancer(in.LoadBalancerArn)
	var subnets []string
	if err == nil {
		subnets = slices.Clone(lb.subnets)
	}
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if len(in.SecurityGroups) == 0 {
		return nil, APIError("ValidationError", "At least one security group must be specified")
	}
	n, err := f.checkNetwork(subnets, nil, in.SecurityGroups)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if lb, err = f.loadBalancer(in.LoadBalancerArn); err != nil {
		return nil, err
	}
	f.drain(lb, nil, lb.lb.SecurityGroups)
	lb.lb.SecurityGroups = n.groups
	return finish(&elbv2.SetSecurityGroupsOutput{SecurityGroupIds: slices.Clone(n.groups)}, nil, fault)
}

func (f *ELBV2) SetSubnets(ctx context.Context, in *elbv2.SetSubnetsInput, _ ...func(*elbv2.Options)) (*elbv2.SetSubnetsOutput, error) {
	fault, err := f.begin(ctx, "SetSubnets")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	lb, err := f.loadBalancer(in.LoadBalancerArn)
	var groups []string
	if err == nil {
		groups = slices.Clone(lb.lb.SecurityGroups)
	}
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	n, err := f.checkNetwork(in.Subnets, in.SubnetMappings, groups)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if lb, err = f.loadBalancer(in.LoadBalancerArn); err != nil {
		return nil, err
	}
	if n.vpc != aws.ToString(lb.lb.VpcId) {
		return nil, APIError("InvalidConfigurationRequest", "The subnets must belong to the load balancer's VPC '%s'", aws.ToString(lb.lb.VpcId))
	}
	f.drain(lb, lb.subnets, nil)
	lb.subnets, lb.lb.AvailabilityZones = n.subnets, n.zones
	return finish(&elbv2.SetSubnetsOutput{AvailabilityZones: slices.Clone(n.zones), IpAddressType: lb.lb.IpAddressType}, nil, fault)
}

// drain keeps subnets and groups a load balancer stops using in use for ENIDrain.
func (f *ELBV2) drain(lb *fakeLB, subnets, groups []string) {
	now := time.Now()
	f.draining = slices.DeleteFunc(f.draining, func(d drainingENIs) bool { return !now.Before(d.until) })
	if f.ENIDrain > 0 {
		f.draining = append(f.draining, drainingENIs{lbName: aws.ToString(lb.lb.LoadBalancerName),
			subnets: slices.Clone(subnets), groups: slices.Clone(groups), until: now.Add(f.ENIDrain)})
	}
}

// DeleteLoadBalancer deletes the load balancer and its listeners. As in AWS,
// deleting one that does not exist succeeds.
func (f *ELBV2) DeleteLoadBalancer(ctx context.Context, in *elbv2.DeleteLoadBalancerInput, _ ...func(*elbv2.Options)) (*elbv2.DeleteLoadBalancerOutput, error) {
	fault, err := f.begin(ctx, "DeleteLoadBalancer")
	if err != nil {
		return nil, err
	}
	if aws.ToString(in.LoadBalancerArn) == "" {
		return nil, APIError("ValidationError", "A load balancer ARN must be specified")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	lb, err := f.loadBalancer(in.LoadBalancerArn)
	if err != nil {
		return finish(&elbv2.DeleteLoadBalancerOutput{}, nil, fault)
	}
	arn := aws.ToString(in.LoadBalancerArn)
	for k, l := range f.listeners {
		if aws.ToString(l.l.LoadBalancerArn) == arn {
			delete(f.listeners, k)
		}
	}
	f.drain(lb, lb.subnets, lb.lb.SecurityGroups)
	if f.VisibleAfterDelete > 0 {
		lb.gone, lb.visibleLeft = true, f.VisibleAfterDelete
	} else {
		delete(f.lbs, arn)
	}
	return finish(&elbv2.DeleteLoadBalancerOutput{}, nil, fault)
}

// ---- listeners ----

// actionTargetGroups lists the target groups actions forward to.
func actionTargetGroups(actions []types.Action) []string {
	var out []string
	for _, a := range actions {
		if a.TargetGroupArn != nil {
			out = append(out, *a.TargetGroupArn)
		}
		if a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				if t.TargetGroupArn != nil && !slices.Contains(out, *t.TargetGroupArn) {
					out = append(out, *t.TargetGroupArn)
				}
			}
		}
	}
	return out
}

// checkListener validates a listener's protocol, port and default actions
// on load balancer lb; self is the listener being modified, if any.
func (f *ELBV2) checkListener(lb *fakeLB, self string, protocol types.ProtocolEnum, port int32, certs []types.Certificate, actions []types.Action) error {
	switch {
	case protocol != types.ProtocolEnumHttp && protocol != types.ProtocolEnumHttps:
		return APIError("ValidationError", "Listener protocol '%s' must be one of 'HTTP, HTTPS' for an application load balancer", protocol)
	case protocol == types.ProtocolEnumHttps && len(certs) == 0:
		return APIError("ValidationError", "A certificate must be specified for HTTPS listeners")
	case port < 1 || port > 65535:
		return APIError("ValidationError", "Listener port '%d' must be between 1 and 65535", port)
	case len(actions) == 0:
		return APIError("ValidationError", "At least one default action must be specified")
	}
	for _, a := range actions {
		switch a.Type {
		case types.ActionTypeEnumForward:
			if len(actionTargetGroups([]types.Action{a})) == 0 {
				return APIError("ValidationError", "A target group ARN must be specified for a forward action")
			}
		case types.ActionTypeEnumFixedResponse, types.ActionTypeEnumRedirect:
		default:
			return APIError("ValidationError", "the fake supports forward, fixed-response and redirect actions, not '%s'", a.Type)
		}
	}
	lbARN := aws.ToString(lb.lb.LoadBalancerArn)
	for _, arn := range actionTargetGroups(actions) {
		t, err := f.targetGroup(aws.String(arn))
		if err != nil {
			return err
		}
		if aws.ToString(t.tg.VpcId) != aws.ToString(lb.lb.VpcId) {
			return APIError("ValidationError", "The target group '%s' is in VPC '%s', not in the load balancer's VPC", arn, aws.ToString(t.tg.VpcId))
		}
		for _, other := range f.lbsOfTG(arn) {
			if other != lbARN {
				return APIError("TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: %s", arn)
			}
		}
	}
	for k, l := range f.listeners {
		if k != self && aws.ToString(l.l.LoadBalancerArn) == lbARN && aws.ToInt32(l.l.Port) == port {
			return APIError("DuplicateListener", "A listener already exists on port %d of this load balancer", port)
		}
	}
	return nil
}

func (f *ELBV2) CreateListener(ctx context.Context, in *elbv2.CreateListenerInput, _ ...func(*elbv2.Options)) (*elbv2.CreateListenerOutput, error) {
	fault, err := f.begin(ctx, "CreateListener")
	if err != nil {
		return nil, err
	}
	if err := validELBTags(in.Tags); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	lb, err := f.loadBalancer(in.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	port := aws.ToInt32(in.Port)
	for _, l := range f.sortedListeners() { // AWS: same settings, same answer
		if aws.ToString(l.l.LoadBalancerArn) == aws.ToString(in.LoadBalancerArn) && aws.ToInt32(l.l.Port) == port &&
			l.l.Protocol == in.Protocol && slices.Equal(actionTargetGroups(l.l.DefaultActions), actionTargetGroups(in.DefaultActions)) {
			return finish(&elbv2.CreateListenerOutput{Listeners: []types.Listener{l.l}}, nil, fault)
		}
	}
	if err := f.checkListener(lb, "", in.Protocol, port, in.Certificates, in.DefaultActions); err != nil {
		return nil, err
	}
	_, lbPath, _ := strings.Cut(aws.ToString(lb.lb.LoadBalancerArn), ":loadbalancer/")
	l := types.Listener{ListenerArn: aws.String(f.arn("listener", lbPath)), LoadBalancerArn: in.LoadBalancerArn, Port: aws.Int32(port),
		Protocol: in.Protocol, DefaultActions: slices.Clone(in.DefaultActions), Certificates: slices.Clone(in.Certificates), SslPolicy: in.SslPolicy}
	f.listeners[*l.ListenerArn] = &fakeListener{seq: f.seq, l: l, tags: slices.Clone(in.Tags)}
	return finish(&elbv2.CreateListenerOutput{Listeners: []types.Listener{l}}, nil, fault)
}

func (f *ELBV2) DescribeListeners(ctx context.Context, in *elbv2.DescribeListenersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	fault, err := f.begin(ctx, "DescribeListeners")
	if err != nil {
		return nil, err
	}
	if (in.LoadBalancerArn == nil) == (len(in.ListenerArns) == 0) {
		return nil, APIError("ValidationError", "Either a load balancer ARN or listener ARNs must be specified, not both")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.LoadBalancerArn != nil {
		if _, err := f.loadBalancer(in.LoadBalancerArn); err != nil {
			return nil, err
		}
	}
	for _, arn := range in.ListenerArns {
		if _, ok := f.listeners[arn]; !ok {
			return nil, APIError("ListenerNotFound", "One or more listeners not found")
		}
	}
	var all []types.Listener
	for _, l := range f.sortedListeners() {
		if (in.LoadBalancerArn != nil && aws.ToString(l.l.LoadBalancerArn) == *in.LoadBalancerArn) || slices.Contains(in.ListenerArns, aws.ToString(l.l.ListenerArn)) {
			all = append(all, l.l)
		}
	}
	ls, next, err := elbPage(all, in.Marker, in.PageSize, f.PageSize)
	if err != nil {
		return nil, err
	}
	return finish(&elbv2.DescribeListenersOutput{Listeners: ls, NextMarker: next}, nil, fault)
}

func (f *ELBV2) ModifyListener(ctx context.Context, in *elbv2.ModifyListenerInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error) {
	fault, err := f.begin(ctx, "ModifyListener")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	arn := aws.ToString(in.ListenerArn)
	l, ok := f.listeners[arn]
	if !ok {
		return nil, APIError("ListenerNotFound", "Listener '%s' not found", arn)
	}
	next := l.l
	if in.Port != nil {
		next.Port = in.Port
	}
	if in.Protocol != "" {
		next.Protocol = in.Protocol
	}
	if in.DefaultActions != nil {
		next.DefaultActions = slices.Clone(in.DefaultActions)
	}
	if in.Certificates != nil {
		next.Certificates = slices.Clone(in.Certificates)
	}
	lb, err := f.loadBalancer(l.l.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	if err := f.checkListener(lb, arn, next.Protocol, aws.ToInt32(next.Port), next.Certificates, next.DefaultActions); err != nil {
		return nil, err
	}
	l.l = next
	return finish(&elbv2.ModifyListenerOutput{Listeners: []types.Listener{next}}, nil, fault)
}

func (f *ELBV2) DeleteListener(ctx context.Context, in *elbv2.DeleteListenerInput, _ ...func(*elbv2.Options)) (*elbv2.DeleteListenerOutput, error) {
	fault, err := f.begin(ctx, "DeleteListener")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	arn := aws.ToString(in.ListenerArn)
	if _, ok := f.listeners[arn]; !ok {
		return nil, APIError("ListenerNotFound", "Listener '%s' not found", arn)
	}
	delete(f.listeners, arn)
	return finish(&elbv2.DeleteListenerOutput{}, nil, fault)
}

// ---- targets ----

func elbTargetKey(id string, port int32) string { return id + ":" + strconv.Itoa(int(port)) }

// elbTargets resolves each target's port (the group's by default) and checks ids.
func elbTargets(t *fakeTG, targets []types.TargetDescription) ([]fakeTarget, error) {
	if len(targets) == 0 {
		return nil, APIError("ValidationError", "At least one target must be specified")
	}
	var out []fakeTarget
	for _, d := range targets {
		id, port := aws.ToString(d.Id), aws.ToInt32(t.tg.Port)
		if d.Port != nil {
			port = *d.Port
		}
		if t.tg.TargetType == types.TargetTypeEnumInstance && !strings.HasPrefix(id, "i-") {
			return nil, APIError("InvalidTarget", "The target '%s' is not a valid instance ID", id)
		}
		if port < 1 || port > 65535 {
			return nil, APIError("ValidationError", "Target port '%d' must be between 1 and 65535", port)
		}
		out = append(out, fakeTarget{id: id, port: port})
	}
	return out, nil
}

func (f *ELBV2) RegisterTargets(ctx context.Context, in *elbv2.RegisterTargetsInput, _ ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error) {
	fault, err := f.begin(ctx, "RegisterTargets")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.targetGroup(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	targets, err := elbTargets(t, in.Targets)
	if err != nil {
		return nil, err
	}
	for _, want := range targets {
		k := elbTargetKey(want.id, want.port)
		if cur, ok := t.targets[k]; ok && !cur.deregistered {
			continue // registering again changes nothing
		}
		f.seq++
		t.targets[k] = &fakeTarget{seq: f.seq, id: want.id, port: want.port}
	}
	return finish(&elbv2.RegisterTargetsOutput{}, nil, fault)
}

func (f *ELBV2) DeregisterTargets(ctx context.Context, in *elbv2.DeregisterTargetsInput, _ ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error) {
	fault, err := f.begin(ctx, "DeregisterTargets")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.targetGroup(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	targets, err := elbTargets(t, in.Targets)
	if err != nil {
		return nil, err
	}
	for _, want := range targets {
		if _, ok := t.targets[elbTargetKey(want.id, want.port)]; !ok {
			return nil, APIError("InvalidTarget", "The following targets are not registered: '%s'", want.id)
		}
	}
	for _, want := range targets {
		t.targets[elbTargetKey(want.id, want.port)].deregistered = true
	}
	return finish(&elbv2.DeregisterTargetsOutput{}, nil, fault)
}

func (f *ELBV2) DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	fault, err := f.begin(ctx, "DescribeTargetHealth")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.targetGroup(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	inUse := len(f.lbsOfTG(aws.ToString(t.tg.TargetGroupArn))) > 0
	out := &elbv2.DescribeTargetHealthOutput{}
	if len(in.Targets) > 0 {
		asked, err := elbTargets(t, in.Targets)
		if err != nil {
			return nil, err
		}
		for _, a := range asked {
			h := &types.TargetHealth{State: types.TargetHealthStateEnumUnused, Reason: types.TargetHealthReasonEnumNotRegistered,
				Description: aws.String("Target is not registered to the target group")}
			if cur, ok := t.targets[elbTargetKey(a.id, a.port)]; ok {
				h = f.observeTarget(t, cur, inUse)
			}
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, elbTargetHealth(a.id, a.port, h))
		}
		return finish(out, nil, fault)
	}
	for _, cur := range elbBySeq(t.targets, func(x *fakeTarget) int { return x.seq }) {
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, elbTargetHealth(cur.id, cur.port, f.observeTarget(t, cur, inUse)))
	}
	return finish(out, nil, fault)
}

func elbTargetHealth(id string, port int32, h *types.TargetHealth) types.TargetHealthDescription {
	return types.TargetHealthDescription{Target: &types.TargetDescription{Id: aws.String(id), Port: aws.Int32(port)},
		HealthCheckPort: aws.String(strconv.Itoa(int(port))), TargetHealth: h}
}

// observeTarget is a target's health as one describe sees it, moving it
// along: registered → initial once → healthy (or HealthOf's verdict);
// deregistered → draining once → gone.
func (f *ELBV2) observeTarget(t *fakeTG, cur *fakeTarget, inUse bool) *types.TargetHealth {
	switch {
	case cur.deregistered:
		delete(t.targets, elbTargetKey(cur.id, cur.port))
		return elbHealth(types.TargetHealthStateEnumDraining, string(types.TargetHealthReasonEnumDeregistrationInProgress))
	case !inUse:
		return elbHealth(types.TargetHealthStateEnumUnused, string(types.TargetHealthReasonEnumNotInUse))
	}
	cur.describes++
	if f.HealthOf != nil {
		if state, reason := f.HealthOf(aws.ToString(t.tg.TargetGroupArn), cur.id); state != "" {
			return elbHealth(state, reason)
		}
	}
	if cur.describes == 1 {
		return elbHealth(types.TargetHealthStateEnumInitial, string(types.TargetHealthReasonEnumRegistrationInProgress))
	}
	return &types.TargetHealth{State: types.TargetHealthStateEnumHealthy}
}

// elbHealthDescriptions are AWS's descriptions of the reason codes.
var elbHealthDescriptions = map[types.TargetHealthReasonEnum]string{
	types.TargetHealthReasonEnumRegistrationInProgress:   "Target registration is in progress",
	types.TargetHealthReasonEnumInitialHealthChecking:    "Initial health checks in progress",
	types.TargetHealthReasonEnumResponseCodeMismatch:     "Health checks failed with these codes: [502]",
	types.TargetHealthReasonEnumTimeout:                  "Request timed out",
	types.TargetHealthReasonEnumFailedHealthChecks:       "Health checks failed",
	types.TargetHealthReasonEnumNotRegistered:            "Target is not registered to the target group",
	types.TargetHealthReasonEnumNotInUse:                 "Target group is not configured to receive traffic from the load balancer",
	types.TargetHealthReasonEnumDeregistrationInProgress: "Target deregistration is in progress",
	types.TargetHealthReasonEnumInvalidState:             "Target is in the stopped state",
}

// health builds a TargetHealth from a reason "code" or "code: description".
func elbHealth(state types.TargetHealthStateEnum, reason string) *types.TargetHealth {
	h := &types.TargetHealth{State: state}
	if reason == "" {
		return h
	}
	code, desc, ok := strings.Cut(reason, ": ")
	h.Reason = types.TargetHealthReasonEnum(code)
	if !ok {
		desc = elbHealthDescriptions[h.Reason]
	}
	if desc != "" {
		h.Description = aws.String(desc)
	}
	return h
}
