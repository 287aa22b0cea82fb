package fakeaws

import (
	"context"
	"fmt"
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
	// ProvisioningTime, HealthyTime and DrainTime, when set, replace the
	// describe counts by the clock: how long a new load balancer
	// provisions, a registered target takes to pass its health checks, and
	// a deregistered one drains (benchmarks scale AWS's times).
	ProvisioningTime, HealthyTime, DrainTime time.Duration
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
	since        time.Time                   // registered, or deregistered
	last         types.TargetHealthStateEnum // as last described
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
