package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Auto Scaling groups: the tier's launch template ($Default, so a new
// default version is what new instances get), the tier's public subnets,
// its target group, ELB health checks with a grace period, the configured
// sizes, and the stack tags propagated to the instances (so they carry
// myappctl:stack and step autoscaling, and destroy finds them).

const defaultVersion = "$Default"

// groupSpec is what a tier's group should be.
type groupSpec struct {
	name, template, targetGroup string
	subnets                     []string
	min, max, desired, grace    int32
}

func wantedGroup(r *Run, s scaledTier, templateID string) groupSpec {
	a := r.Cfg.Autoscaling
	return groupSpec{name: r.Name(s.group), template: templateID, targetGroup: r.Output(s.tgStage, s.tgOutput), subnets: s.subnetIDs(r),
		min: int32(a.Min), max: int32(a.Max), desired: int32(a.Desired), grace: int32(a.HealthCheckGracePeriod.Seconds())}
}

// ensureGroup finds or creates the tier's group and repairs drift in its
// settings, target group and tags. It returns the group's name.
func ensureGroup(ctx context.Context, r *Run, s scaledTier, templateID string) (string, error) {
	want := wantedGroup(r, s, templateID)
	detail := fmt.Sprintf("desired %d (min %d, max %d) in %s, target group %s, ELB health checks (grace %ds)",
		want.desired, want.min, want.max, strings.Join(want.subnets, ", "), displayName(want.targetGroup), want.grace)
	name, err := r.Ensure(ctx, Spec{Key: "group/" + s.tier.Name, Kind: groupKind, Name: want.name, Detail: detail,
		Create: func(ctx context.Context, _ string) (string, error) { return want.name, createGroup(ctx, r, want) }})
	if err != nil || isPlanned(name) {
		return name, err
	}
	g, err := describeGroup(ctx, r.Env, name)
	if err != nil || g == nil {
		if err == nil {
			err = fmt.Errorf("it is not listed")
		}
		return "", &StageError{Stage: r.Stage.Name, Action: "describe", Resource: groupKind.Type + " " + name, Err: err}
	}
	if err := repairGroupSettings(ctx, r, want, g); err != nil {
		return "", err
	}
	if err := repairGroupTargets(ctx, r, want, g); err != nil {
		return "", err
	}
	return name, repairGroupTags(ctx, r, want, g)
}

// createGroup creates the group, tagged in the call, once a group of that
// name that is still being deleted is gone. CreateAutoScalingGroup takes no
// client token: AlreadyExists after a lost response is our own group.
func createGroup(ctx context.Context, r *Run, want groupSpec) error {
	if err := waitDeletingGroup(ctx, r, want.name); err != nil {
		return err
	}
	in := &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(want.name),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(want.template), Version: aws.String(defaultVersion)},
		MinSize:        aws.Int32(want.min), MaxSize: aws.Int32(want.max), DesiredCapacity: aws.Int32(want.desired),
		VPCZoneIdentifier: aws.String(strings.Join(want.subnets, ",")), TargetGroupARNs: []string{want.targetGroup},
		HealthCheckType: aws.String("ELB"), HealthCheckGracePeriod: aws.Int32(want.grace), Tags: r.Tags(want.name).AutoScaling(want.name)}
	_, err := r.AWS.Autoscaling.CreateAutoScalingGroup(ctx, in)
	if !awsx.HasCode(err, "AlreadyExists") {
		return err
	}
	if g, derr := describeGroup(ctx, r.Env, want.name); derr != nil || g == nil || awsx.AutoScalingTagMap(g.Tags).OwnedBy(r.Cfg.Stack) {
		return derr
	}
	return fmt.Errorf("%w; it is not tagged %s=%s, so myappctl leaves it alone: delete or rename it, or use another --stack", err, awsx.TagStack, r.Cfg.Stack)
}

// waitDeletingGroup waits until a group of that name being deleted (by an
// interrupted destroy, or by hand) is gone: its name cannot be reused before.
func waitDeletingGroup(ctx context.Context, r *Run, name string) error {
	g, err := describeGroup(ctx, r.Env, name)
	if err != nil || g == nil || aws.ToString(g.Status) != statusDeleteInProgress {
		return err
	}
	r.Logf("a group named %s is still being deleted: waiting until it is gone", name)
	return waitGroupGone(ctx, r.Env, name)
}

// repairGroupSettings puts sizes, template, subnets and health checks back.
func repairGroupSettings(ctx context.Context, r *Run, want groupSpec, g *astypes.AutoScalingGroup) error {
	var drift []string
	diff := func(what string, got, wanted any) {
		if fmt.Sprint(got) != fmt.Sprint(wanted) {
			drift = append(drift, fmt.Sprintf("%s %v → %v", what, got, wanted))
		}
	}
	diff("min", aws.ToInt32(g.MinSize), want.min)
	diff("max", aws.ToInt32(g.MaxSize), want.max)
	diff("desired", aws.ToInt32(g.DesiredCapacity), want.desired)
	diff("health check", aws.ToString(g.HealthCheckType), "ELB")
	diff("grace period", aws.ToInt32(g.HealthCheckGracePeriod), want.grace)
	lt := astypes.LaunchTemplateSpecification{}
	if g.LaunchTemplate != nil {
		lt = *g.LaunchTemplate
	}
	diff("launch template", aws.ToString(lt.LaunchTemplateId)+" "+aws.ToString(lt.Version), want.template+" "+defaultVersion)
	diff("subnets", slices.Sorted(slices.Values(strings.Split(aws.ToString(g.VPCZoneIdentifier), ","))), slices.Sorted(slices.Values(want.subnets)))
	if len(drift) == 0 {
		return nil
	}
	return r.change("modify", groupKind.Type, want.name, strings.Join(drift, ", "), func() error {
		if isPlanned(want.template) {
			return fmt.Errorf("internal error: launch template %s was not created", want.template)
		}
		_, err := r.AWS.Autoscaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(want.name),
			MinSize: aws.Int32(want.min), MaxSize: aws.Int32(want.max), DesiredCapacity: aws.Int32(want.desired),
			HealthCheckType: aws.String("ELB"), HealthCheckGracePeriod: aws.Int32(want.grace),
			LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(want.template), Version: aws.String(defaultVersion)},
			VPCZoneIdentifier: aws.String(strings.Join(want.subnets, ","))})
		return err
	})
}

// repairGroupTargets attaches the tier's target group if it was detached.
func repairGroupTargets(ctx context.Context, r *Run, want groupSpec, g *astypes.AutoScalingGroup) error {
	if slices.Contains(g.TargetGroupARNs, want.targetGroup) {
		return nil
	}
	return r.change("modify", groupKind.Type, want.name, "attach target group "+displayName(want.targetGroup), func() error {
		_, err := r.AWS.Autoscaling.AttachLoadBalancerTargetGroups(ctx, &autoscaling.AttachLoadBalancerTargetGroupsInput{
			AutoScalingGroupName: aws.String(want.name), TargetGroupARNs: []string{want.targetGroup}})
		return err
	})
}

// repairGroupTags puts back stack tags that are missing, changed or no
// longer propagated (instances without them would escape destroy's sweep).
func repairGroupTags(ctx context.Context, r *Run, want groupSpec, g *astypes.AutoScalingGroup) error {
	var fix []astypes.Tag
	var keys []string
	for _, t := range r.Tags(want.name).AutoScaling(want.name) {
		i := slices.IndexFunc(g.Tags, func(d astypes.TagDescription) bool { return aws.ToString(d.Key) == aws.ToString(t.Key) })
		if i < 0 || aws.ToString(g.Tags[i].Value) != aws.ToString(t.Value) || !aws.ToBool(g.Tags[i].PropagateAtLaunch) {
			fix, keys = append(fix, t), append(keys, aws.ToString(t.Key))
		}
	}
	if len(fix) == 0 {
		return nil
	}
	return r.change("modify", groupKind.Type, want.name, "tags "+strings.Join(keys, ", ")+" (propagated at launch)", func() error {
		_, err := r.AWS.Autoscaling.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: fix})
		return err
	})
}

// ensureRefresh starts an instance refresh when instances run another
// version than the template's default (after a new default, or when an
// earlier run stopped before starting one), unless one is in progress: it
// returns the refresh to wait for ("" when none). Instances are replaced
// new ones first (MinHealthyPercentage 100, MaxHealthyPercentage 200), so
// the group never has fewer healthy instances than desired. Refreshes are
// asked about only when an instance runs another version: a new group
// needs none, and emulators built on moto (LocalStack) lack
// DescribeInstanceRefreshes.
func ensureRefresh(ctx context.Context, r *Run, group string, lt launchTemplate) (string, error) {
	if isPlanned(group) {
		return "", nil
	}
	stale, err := staleInstances(ctx, r, group, lt)
	if err != nil || stale == 0 {
		return "", err
	}
	if id, err := refreshInProgress(ctx, r, group); err != nil || id != "" {
		return id, err
	}
	detail := fmt.Sprintf("instance refresh: %d instance(s) to launch template version %d, new ones first", stale, lt.version)
	if lt.changed && r.DryRun {
		detail = fmt.Sprintf("instance refresh: %d instance(s) to the new launch template version, new ones first", stale)
	}
	var id string
	err = r.change("modify", groupKind.Type, group, detail, func() error {
		out, err := r.AWS.Autoscaling.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String(group),
			Strategy: astypes.RefreshStrategyRolling, Preferences: &astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(100),
				MaxHealthyPercentage: aws.Int32(200), SkipMatching: aws.Bool(true), InstanceWarmup: aws.Int32(int32(r.Cfg.Autoscaling.HealthCheckGracePeriod.Seconds()))}})
		if awsx.HasCode(err, "InstanceRefreshInProgress") {
			// The SDK retried a start whose response was lost: wait for that refresh.
			if id, _ = refreshInProgress(ctx, r, group); id != "" {
				return nil
			}
		}
		if err != nil {
			return err
		}
		id = aws.ToString(out.InstanceRefreshId)
		return nil
	})
	return id, err
}

// refreshInProgress is the group's refresh that has not ended ("" if none).
func refreshInProgress(ctx context.Context, r *Run, group string) (string, error) {
	ref, err := currentRefresh(ctx, r, group)
	if err != nil {
		return "", &StageError{Stage: r.Stage.Name, Action: "describe instance refreshes of", Resource: groupKind.Type + " " + group, Err: err}
	}
	if ref == nil || refreshEnded(ref.Status) {
		return "", nil
	}
	r.Logf("instance refresh %s of %s is %s: waiting for it", aws.ToString(ref.InstanceRefreshId), group, ref.Status)
	return aws.ToString(ref.InstanceRefreshId), nil
}

// staleInstances counts the group's instances that run another template
// (one deleted and recreated) or another version than the default. An instance whose version is not a number ($Default)
// counts as stale only when this run made a new default; so does every
// instance when a plan would make one.
func staleInstances(ctx context.Context, r *Run, group string, lt launchTemplate) (int, error) {
	g, err := describeGroup(ctx, r.Env, group)
	if err != nil || g == nil {
		return 0, err
	}
	if lt.changed && r.DryRun {
		return len(g.Instances), nil
	}
	n := 0
	for _, in := range g.Instances {
		id, v := "", ""
		if in.LaunchTemplate != nil {
			id, v = aws.ToString(in.LaunchTemplate.LaunchTemplateId), aws.ToString(in.LaunchTemplate.Version)
		}
		number, err := strconv.ParseInt(v, 10, 64)
		if id != lt.id || (err == nil && number != lt.version) || (err != nil && lt.changed) {
			n++
		}
	}
	return n, nil
}

// currentRefresh is the group's newest instance refresh (nil when none).
func currentRefresh(ctx context.Context, r *Run, group string) (*astypes.InstanceRefresh, error) {
	out, err := r.AWS.Autoscaling.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(group), MaxRecords: aws.Int32(1)})
	if err != nil || len(out.InstanceRefreshes) == 0 {
		return nil, err
	}
	return &out.InstanceRefreshes[0], nil
}

func refreshEnded(s astypes.InstanceRefreshStatus) bool {
	switch s {
	case astypes.InstanceRefreshStatusPending, astypes.InstanceRefreshStatusInProgress, astypes.InstanceRefreshStatusCancelling,
		astypes.InstanceRefreshStatusRollbackInProgress, astypes.InstanceRefreshStatusBaking:
		return false
	}
	return true
}

// waitRefresh waits until the refresh succeeds; any other end is an error
// with its reason.
func waitRefresh(ctx context.Context, r *Run, group, id string) error {
	if id == "" || r.DryRun {
		return nil
	}
	hint := "follow it with `aws autoscaling describe-instance-refreshes --auto-scaling-group-name " + group + "`"
	spec := r.wait("instance refresh "+id+" of "+group, 0, hint)
	err := awsx.Poll(ctx, spec, func(ctx context.Context) (bool, string, error) {
		out, err := r.AWS.Autoscaling.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(group), InstanceRefreshIds: []string{id}})
		if err != nil || len(out.InstanceRefreshes) == 0 {
			return false, "not listed yet", err
		}
		ref := out.InstanceRefreshes[0]
		switch {
		case ref.Status == astypes.InstanceRefreshStatusSuccessful:
			return true, "", nil
		case refreshEnded(ref.Status):
			return false, "", fmt.Errorf("it ended %s: %s; the group keeps the instances it has; fix the cause, then run `myappctl up` again (%s)",
				ref.Status, orNone(aws.ToString(ref.StatusReason)), hint)
		}
		return false, fmt.Sprintf("%s, %d%% done", strings.ToLower(string(ref.Status)), aws.ToInt32(ref.PercentageComplete)), nil
	})
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "wait for", Resource: groupKind.Type + " " + group, Err: err}
	}
	return nil
}

// waitGroupServing waits until the group has its desired capacity in
// service and each of those instances is a healthy target of its group.
// On timeout the error lists the targets' states and reasons.
func waitGroupServing(ctx context.Context, r *Run, group, tgARN string) error {
	desired := r.Cfg.Autoscaling.Desired
	if r.DryRun || isPlanned(group) || isPlanned(tgARN) || desired == 0 {
		return nil
	}
	spec := r.wait(group+" to serve "+strconv.Itoa(desired)+" healthy target(s) in "+arnName(tgARN), 0,
		"check with `aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "+group+"` and `aws elbv2 describe-target-health --target-group-arn "+tgARN+"`")
	var last []targetState
	err := awsx.PollUnlessDone(ctx, spec, func(ctx context.Context) (bool, string, error) {
		g, err := describeGroup(ctx, r.Env, group)
		if err != nil || g == nil {
			return false, "not listed", err
		}
		var ids []string
		for _, in := range g.Instances {
			if in.LifecycleState == astypes.LifecycleStateInService {
				ids = append(ids, aws.ToString(in.InstanceId))
			}
		}
		if len(ids) < desired {
			return false, fmt.Sprintf("%d/%d in service", len(ids), desired), nil
		}
		states, err := targetStates(ctx, r.Env, tgARN, ids)
		if err != nil {
			return false, "", err
		}
		last = states
		healthy := countHealthy(states)
		return healthy >= desired, fmt.Sprintf("%d/%d healthy", healthy, desired), nil
	})
	if errors.Is(err, awsx.ErrWaitTimeout) && len(last) > 0 {
		err = &unhealthyTargetsError{wait: err, targets: last}
	}
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "wait for", Resource: groupKind.Type + " " + group, Err: err}
	}
	return nil
}
