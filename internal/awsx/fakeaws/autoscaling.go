package fakeaws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/myappctl/myappctl/internal/awsx"
)

// AutoScaling is the fake EC2 Auto Scaling service. A group launches its
// instances into the EC2 fake from its launch template version (the
// template's user data and tags, plus the group's propagated tags), spread
// over its subnets, registers them in its target groups in the ELBv2 fake,
// keeps its desired capacity and, with ELB health checks, replaces an
// instance the load balancer finds unhealthy after the grace period.
//
// Time passes with describes: each DescribeAutoScalingGroups or
// DescribeInstanceRefreshes answer moves the groups it shows one step
// (instances start or end, a refresh replaces one instance, a deleted group
// goes away), so tests need no clock.
type AutoScaling struct {
	awsx.AutoScalingAPI // nil: calls nobody implemented panic
	*Core
	ec2 *EC2
	elb *ELBV2

	Region string
	// DeleteDescribes is how many DescribeAutoScalingGroups answers still list
	// a force-deleted group ("Delete in progress") once its instances are gone.
	DeleteDescribes int
	// UnhealthyChecks is how many failed ELB health checks in a row (after
	// the grace period) make a group replace an instance.
	UnhealthyChecks int

	mu     sync.Mutex
	seq    int
	groups map[string]*fakeGroup
}

type fakeGroup struct {
	seq        int
	g          types.AutoScalingGroup // settings; Instances is built on describe
	members    []*fakeMember
	ending     []string // instances it terminated that have not ended yet
	refreshes  []*fakeRefresh
	deleting   bool
	deleteLeft int
}

type fakeMember struct {
	id, zone, subnet  string
	template, version string // the launch template version it was launched from
	state             types.LifecycleState
	launched          time.Time
	healthy           bool // every target group found it healthy at the last check
	failedChecks      int
}

// NewAutoScaling returns a fake whose groups use ec2's launch templates,
// subnets and instances and elb's target groups.
func NewAutoScaling(core *Core, ec2 *EC2, elb *ELBV2) *AutoScaling {
	return &AutoScaling{Core: core, ec2: ec2, elb: elb, Region: ec2.Region, DeleteDescribes: 2, UnhealthyChecks: 2, groups: map[string]*fakeGroup{}}
}

// Count returns how many groups exist, those being deleted included.
func (f *AutoScaling) Count() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return map[string]int{"auto-scaling-group": len(f.groups)}
}

// GroupNames lists the groups, for assertions.
func (f *AutoScaling) GroupNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sortedKeys(f.groups)
}

func notFoundGroup(name string) error {
	return APIError("ValidationError", "AutoScalingGroup name not found - AutoScalingGroup '%s' not found", name)
}

// group returns a group that exists and is not being deleted.
func (f *AutoScaling) group(name *string) (*fakeGroup, error) {
	g, ok := f.groups[aws.ToString(name)]
	switch {
	case !ok:
		return nil, notFoundGroup(aws.ToString(name))
	case g.deleting:
		return nil, APIError("ScalingActivityInProgress", "AutoScalingGroup '%s' is pending delete", aws.ToString(name))
	}
	return g, nil
}

func (f *AutoScaling) CreateAutoScalingGroup(ctx context.Context, in *autoscaling.CreateAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.CreateAutoScalingGroupOutput, error) {
	fault, err := f.begin(ctx, "CreateAutoScalingGroup")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.AutoScalingGroupName)
	switch {
	case name == "" || len(name) > 255:
		return nil, APIError("ValidationError", "AutoScalingGroupName must be 1 to 255 characters")
	case f.groups[name] != nil:
		return nil, APIError("AlreadyExists", "AutoScalingGroup by this name already exists - A group with the name %s already exists", name)
	case in.LaunchTemplate == nil:
		return nil, APIError("ValidationError", "fake supports groups with a LaunchTemplate only")
	}
	arn := fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s", f.Region, Account, newID("x")[2:], name)
	g := types.AutoScalingGroup{AutoScalingGroupName: aws.String(name), AutoScalingGroupARN: aws.String(arn), CreatedTime: aws.Time(time.Now()),
		DefaultCooldown: aws.Int32(300), MinSize: in.MinSize, MaxSize: in.MaxSize, DesiredCapacity: in.DesiredCapacity,
		HealthCheckType: in.HealthCheckType, HealthCheckGracePeriod: in.HealthCheckGracePeriod, DefaultInstanceWarmup: in.DefaultInstanceWarmup,
		NewInstancesProtectedFromScaleIn: aws.Bool(false),
		ServiceLinkedRoleARN:             aws.String("arn:aws:iam::" + Account + ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")}
	if g.DesiredCapacity == nil {
		g.DesiredCapacity = in.MinSize
	}
	if g.HealthCheckType == nil {
		g.HealthCheckType = aws.String("EC2")
	}
	if g.HealthCheckGracePeriod == nil {
		g.HealthCheckGracePeriod = aws.Int32(0)
	}
	if err := f.setTemplate(&g, in.LaunchTemplate); err != nil {
		return nil, err
	}
	if err := f.setSubnets(&g, aws.ToString(in.VPCZoneIdentifier)); err != nil {
		return nil, err
	}
	if err := f.checkGroup(g, in.TargetGroupARNs); err != nil {
		return nil, err
	}
	g.TargetGroupARNs = slices.Clone(in.TargetGroupARNs)
	for _, t := range in.Tags {
		if err := checkTag(t, name); err != nil {
			return nil, err
		}
		g.Tags = upsertTag(g.Tags, t)
	}
	f.seq++
	f.groups[name] = &fakeGroup{seq: f.seq, g: g}
	return finish(&autoscaling.CreateAutoScalingGroupOutput{}, nil, fault)
}

// setTemplate checks that the launch template version exists and sets it.
func (f *AutoScaling) setTemplate(g *types.AutoScalingGroup, lt *types.LaunchTemplateSpecification) error {
	if (lt.LaunchTemplateId == nil) == (lt.LaunchTemplateName == nil) {
		return APIError("ValidationError", "Valid requests must contain either LaunchTemplateId or LaunchTemplateName")
	}
	ref := templateRef{id: aws.ToString(lt.LaunchTemplateId), name: aws.ToString(lt.LaunchTemplateName), version: aws.ToString(lt.Version)}
	id, _, err := f.ec2.resolveTemplate(ref)
	if err != nil {
		return APIError("ValidationError", "You must use a valid fully-formed launch template. %s", errorMessage(err))
	}
	version := lt.Version
	if version == nil {
		version = aws.String("$Default")
	}
	name := ref.name
	if name == "" {
		name = f.ec2.templateName(id)
	}
	g.LaunchTemplate = &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(id), LaunchTemplateName: aws.String(name), Version: version}
	return nil
}

// setSubnets checks the subnets (they exist, in one VPC) and sets them and their zones.
func (f *AutoScaling) setSubnets(g *types.AutoScalingGroup, ids string) error {
	subnets := strings.Split(ids, ",")
	if ids == "" {
		return APIError("ValidationError", "fake needs VPCZoneIdentifier (subnets)")
	}
	var zones []string
	vpc := ""
	for _, s := range subnets {
		zone, v, ok := f.ec2.SubnetZone(strings.TrimSpace(s))
		switch {
		case !ok:
			return APIError("ValidationError", "The subnet ID '%s' does not exist", s)
		case vpc != "" && v != vpc:
			return APIError("ValidationError", "The subnets must all belong to the same VPC")
		}
		vpc = v
		if !slices.Contains(zones, zone) {
			zones = append(zones, zone)
		}
	}
	g.VPCZoneIdentifier, g.AvailabilityZones = aws.String(ids), zones
	return nil
}

// checkGroup checks sizes, the health check type and the target groups.
func (f *AutoScaling) checkGroup(g types.AutoScalingGroup, targetGroups []string) error {
	minSize, maxSize, desired := aws.ToInt32(g.MinSize), aws.ToInt32(g.MaxSize), aws.ToInt32(g.DesiredCapacity)
	switch {
	case g.MinSize == nil || g.MaxSize == nil || minSize < 0 || minSize > maxSize:
		return APIError("ValidationError", "Max bound, %d, must be greater than or equal to min bound, %d", maxSize, minSize)
	case desired < minSize || desired > maxSize:
		return APIError("ValidationError", "Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, minSize, maxSize)
	case !slices.Contains([]string{"EC2", "ELB"}, aws.ToString(g.HealthCheckType)):
		return APIError("ValidationError", "Health check type '%s' is not supported by the fake (EC2, ELB)", aws.ToString(g.HealthCheckType))
	}
	for _, tg := range targetGroups {
		if !f.elb.targetGroupExists(tg) {
			return APIError("ValidationError", "Provided Target Groups may not be valid. Please ensure they exist and try again: %s", tg)
		}
	}
	return nil
}

func checkTag(t types.Tag, group string) error {
	switch {
	case aws.ToString(t.Key) == "" || len(aws.ToString(t.Key)) > 128:
		return APIError("ValidationError", "Tag key must be 1 to 128 characters")
	case t.ResourceId != nil && aws.ToString(t.ResourceId) != group:
		return APIError("ValidationError", "Tag ResourceId %s does not match the group %s", aws.ToString(t.ResourceId), group)
	case t.ResourceType != nil && aws.ToString(t.ResourceType) != awsx.ResourceTypeAutoScalingGroup:
		return APIError("ValidationError", "Tag ResourceType must be %s", awsx.ResourceTypeAutoScalingGroup)
	}
	return nil
}

// upsertTag adds or replaces a tag by key.
func upsertTag(tags []types.TagDescription, t types.Tag) []types.TagDescription {
	d := types.TagDescription{Key: t.Key, Value: aws.String(aws.ToString(t.Value)), ResourceId: t.ResourceId,
		ResourceType: aws.String(awsx.ResourceTypeAutoScalingGroup), PropagateAtLaunch: aws.Bool(aws.ToBool(t.PropagateAtLaunch))}
	i := slices.IndexFunc(tags, func(o types.TagDescription) bool { return aws.ToString(o.Key) == aws.ToString(t.Key) })
	if i >= 0 {
		tags[i] = d
		return tags
	}
	return append(tags, d)
}

// DescribeAutoScalingGroups lists groups by name and filters (tag:K,
// tag-key, tag-value), moving each one a step along (see AutoScaling).
func (f *AutoScaling) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	fault, err := f.begin(ctx, "DescribeAutoScalingGroups")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var shown []types.AutoScalingGroup
	for _, g := range elbBySeq(f.groups, func(g *fakeGroup) int { return g.seq }) {
		if len(in.AutoScalingGroupNames) > 0 && !slices.Contains(in.AutoScalingGroupNames, aws.ToString(g.g.AutoScalingGroupName)) {
			continue
		}
		ok, err := groupMatches(in.Filters, g.g.Tags)
		if err != nil {
			return nil, err
		}
		if ok && !f.tick(g) {
			shown = append(shown, f.view(g))
		}
	}
	page, next, err := asPage(shown, in.NextToken, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	return finish(&autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: page, NextToken: next}, nil, fault)
}

func groupMatches(filters []types.Filter, tags []types.TagDescription) (bool, error) {
	for _, fl := range filters {
		name := aws.ToString(fl.Name)
		var have []string
		for _, t := range tags {
			switch {
			case name == "tag-key":
				have = append(have, aws.ToString(t.Key))
			case name == "tag-value":
				have = append(have, aws.ToString(t.Value))
			case strings.HasPrefix(name, "tag:") && aws.ToString(t.Key) == strings.TrimPrefix(name, "tag:"):
				have = append(have, aws.ToString(t.Value))
			}
		}
		if name != "tag-key" && name != "tag-value" && !strings.HasPrefix(name, "tag:") {
			return false, APIError("ValidationError", "Filter name '%s' is not supported by the fake", name)
		}
		if !slices.ContainsFunc(fl.Values, func(v string) bool { return slices.Contains(have, v) }) {
			return false, nil
		}
	}
	return true, nil
}

// asPage cuts a page (MaxRecords default 50, at most 100; the token is an offset).
func asPage[T any](items []T, token *string, max *int32) ([]T, *string, error) {
	n := int(aws.ToInt32(max))
	if max == nil {
		n = 50
	}
	if n < 1 || n > 100 {
		return nil, nil, APIError("ValidationError", "MaxRecords must be between 1 and 100")
	}
	start := 0
	if token != nil {
		var err error
		if start, err = strconv.Atoi(*token); err != nil || start < 0 || start > len(items) {
			return nil, nil, APIError("InvalidNextToken", "The token '%s' is invalid", *token)
		}
	}
	end := min(start+n, len(items))
	var next *string
	if end < len(items) {
		next = aws.String(strconv.Itoa(end))
	}
	return items[start:end], next, nil
}

// view is a group as a describe shows it.
func (f *AutoScaling) view(g *fakeGroup) types.AutoScalingGroup {
	out := g.g
	out.Tags = slices.Clone(g.g.Tags)
	out.TargetGroupARNs = slices.Clone(g.g.TargetGroupARNs)
	out.AvailabilityZones = slices.Clone(g.g.AvailabilityZones)
	lt := *g.g.LaunchTemplate
	out.LaunchTemplate = &lt
	if g.deleting {
		out.Status = aws.String("Delete in progress")
	}
	out.Instances = nil
	for _, m := range g.members {
		spec := &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(m.template), Version: aws.String(m.version)}
		if m.template == aws.ToString(lt.LaunchTemplateId) {
			spec.LaunchTemplateName = lt.LaunchTemplateName
		}
		out.Instances = append(out.Instances, types.Instance{InstanceId: aws.String(m.id), AvailabilityZone: aws.String(m.zone),
			LifecycleState: m.state, HealthStatus: aws.String("Healthy"), ProtectedFromScaleIn: aws.Bool(false), LaunchTemplate: spec})
	}
	return out
}

// UpdateAutoScalingGroup changes sizes, the launch template, subnets and
// health checks; like AWS, a new min or max moves the desired capacity into
// range when the call does not set it.
func (f *AutoScaling) UpdateAutoScalingGroup(ctx context.Context, in *autoscaling.UpdateAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error) {
	fault, err := f.begin(ctx, "UpdateAutoScalingGroup")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.group(in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	next := g.g
	if in.MinSize != nil {
		next.MinSize = in.MinSize
	}
	if in.MaxSize != nil {
		next.MaxSize = in.MaxSize
	}
	next.DesiredCapacity = in.DesiredCapacity
	if in.DesiredCapacity == nil {
		next.DesiredCapacity = aws.Int32(min(max(aws.ToInt32(g.g.DesiredCapacity), aws.ToInt32(next.MinSize)), aws.ToInt32(next.MaxSize)))
	}
	if in.HealthCheckType != nil {
		next.HealthCheckType = in.HealthCheckType
	}
	if in.HealthCheckGracePeriod != nil {
		next.HealthCheckGracePeriod = in.HealthCheckGracePeriod
	}
	if in.DefaultInstanceWarmup != nil {
		next.DefaultInstanceWarmup = in.DefaultInstanceWarmup
	}
	if in.LaunchTemplate != nil {
		if err := f.setTemplate(&next, in.LaunchTemplate); err != nil {
			return nil, err
		}
	}
	if in.VPCZoneIdentifier != nil {
		if err := f.setSubnets(&next, *in.VPCZoneIdentifier); err != nil {
			return nil, err
		}
	}
	if err := f.checkGroup(next, nil); err != nil {
		return nil, err
	}
	g.g = next
	return finish(&autoscaling.UpdateAutoScalingGroupOutput{}, nil, fault)
}

// DeleteAutoScalingGroup refuses a group with instances (ResourceInUse) or
// a refresh in progress (ScalingActivityInProgress) unless ForceDelete is
// set; then it cancels the refresh, terminates the instances and lists the
// group as "Delete in progress" until they are gone and DeleteDescribes
// describes have passed.
func (f *AutoScaling) DeleteAutoScalingGroup(ctx context.Context, in *autoscaling.DeleteAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.DeleteAutoScalingGroupOutput, error) {
	fault, err := f.begin(ctx, "DeleteAutoScalingGroup")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.group(in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	r := g.activeRefresh()
	switch {
	case !aws.ToBool(in.ForceDelete) && len(g.members) > 0:
		return nil, APIError("ResourceInUse", "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")
	case !aws.ToBool(in.ForceDelete) && r != nil:
		return nil, APIError("ScalingActivityInProgress", "You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.")
	}
	if r != nil {
		r.finish(types.InstanceRefreshStatusCancelled, "the group is being deleted")
	}
	for _, m := range slices.Clone(g.members) {
		f.retire(g, m.id)
	}
	g.deleting, g.deleteLeft = true, f.DeleteDescribes
	return finish(&autoscaling.DeleteAutoScalingGroupOutput{}, nil, fault)
}

// AttachLoadBalancerTargetGroups attaches target groups and registers the
// group's instances in them.
func (f *AutoScaling) AttachLoadBalancerTargetGroups(ctx context.Context, in *autoscaling.AttachLoadBalancerTargetGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.AttachLoadBalancerTargetGroupsOutput, error) {
	fault, err := f.begin(ctx, "AttachLoadBalancerTargetGroups")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.group(in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	if err := f.checkGroup(g.g, in.TargetGroupARNs); err != nil {
		return nil, err
	}
	for _, tg := range in.TargetGroupARNs {
		if slices.Contains(g.g.TargetGroupARNs, tg) {
			continue
		}
		g.g.TargetGroupARNs = append(g.g.TargetGroupARNs, tg)
		for _, m := range g.members {
			f.elb.registerInstance(tg, m.id)
		}
	}
	return finish(&autoscaling.AttachLoadBalancerTargetGroupsOutput{}, nil, fault)
}

// CreateOrUpdateTags adds or replaces tags of groups.
func (f *AutoScaling) CreateOrUpdateTags(ctx context.Context, in *autoscaling.CreateOrUpdateTagsInput, _ ...func(*autoscaling.Options)) (*autoscaling.CreateOrUpdateTagsOutput, error) {
	fault, err := f.begin(ctx, "CreateOrUpdateTags")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range in.Tags {
		g, err := f.group(t.ResourceId)
		if err != nil {
			return nil, err
		}
		if err := checkTag(t, aws.ToString(t.ResourceId)); err != nil {
			return nil, err
		}
		g.g.Tags = upsertTag(g.g.Tags, t)
	}
	return finish(&autoscaling.CreateOrUpdateTagsOutput{}, nil, fault)
}

// propagatedTags are the tags a group gives the instances it launches.
func (g *fakeGroup) propagatedTags() []ec2types.Tag {
	out := []ec2types.Tag{{Key: aws.String("aws:autoscaling:groupName"), Value: g.g.AutoScalingGroupName}}
	for _, t := range g.g.Tags {
		if aws.ToBool(t.PropagateAtLaunch) {
			out = append(out, ec2types.Tag{Key: t.Key, Value: t.Value})
		}
	}
	return out
}

func errorMessage(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorMessage()
	}
	return err.Error()
}
