package fakeaws

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// fakeRefresh is one instance refresh: Pending on the first describe,
// then InProgress replacing one instance at a time, then Successful.
type fakeRefresh struct {
	r           types.InstanceRefresh
	target      string   // launch template version the instances get
	toReplace   []string // instances still to replace, in order
	old         string   // the instance being replaced ("" once terminated)
	replacement string   // its replacement, until healthy
	launchFirst bool     // MaxHealthyPercentage > 100: launch before terminating
	total, done int
	seen        bool
}

func (g *fakeGroup) activeRefresh() *fakeRefresh {
	if n := len(g.refreshes); n > 0 {
		switch r := g.refreshes[n-1]; r.r.Status {
		case types.InstanceRefreshStatusPending, types.InstanceRefreshStatusInProgress, types.InstanceRefreshStatusCancelling:
			return r
		}
	}
	return nil
}

func (r *fakeRefresh) finish(status types.InstanceRefreshStatus, reason string) {
	r.r.Status, r.r.EndTime = status, aws.Time(time.Now())
	if reason != "" {
		r.r.StatusReason = aws.String(reason)
	}
}

// StartInstanceRefresh starts replacing the group's instances with ones
// from its launch template version as it resolves now. AWS's rules: one
// refresh at a time (InstanceRefreshInProgress), MinHealthyPercentage 0-100,
// MaxHealthyPercentage 100-200 and at most 100 above the minimum, and a
// minimum of 100 needs a maximum above 100.
func (f *AutoScaling) StartInstanceRefresh(ctx context.Context, in *autoscaling.StartInstanceRefreshInput, _ ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error) {
	fault, err := f.begin(ctx, "StartInstanceRefresh")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.group(in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	switch {
	case g.activeRefresh() != nil:
		return nil, APIError("InstanceRefreshInProgress", "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
	case in.Strategy != "" && in.Strategy != types.RefreshStrategyRolling:
		return nil, APIError("ValidationError", "fake supports the Rolling strategy only")
	case in.DesiredConfiguration != nil:
		return nil, APIError("ValidationError", "fake does not support DesiredConfiguration: change the group's launch template instead")
	}
	prefs, err := refreshPreferences(in.Preferences)
	if err != nil {
		return nil, err
	}
	lt := g.g.LaunchTemplate
	_, target, err := f.ec2.resolveTemplate(templateRef{id: aws.ToString(lt.LaunchTemplateId), version: aws.ToString(lt.Version)})
	if err != nil {
		return nil, APIError("ValidationError", "The launch template of the group cannot be used: %s", errorMessage(err))
	}
	r := &fakeRefresh{target: target, launchFirst: aws.ToInt32(prefs.MaxHealthyPercentage) > 100}
	for _, m := range g.members {
		if !aws.ToBool(prefs.SkipMatching) || m.version != target || m.template != aws.ToString(lt.LaunchTemplateId) {
			r.toReplace = append(r.toReplace, m.id)
		}
	}
	r.total = len(r.toReplace)
	r.r = types.InstanceRefresh{InstanceRefreshId: aws.String(newID("x")[2:] + "-refresh"), AutoScalingGroupName: g.g.AutoScalingGroupName,
		Status: types.InstanceRefreshStatusPending, StartTime: aws.Time(time.Now()), Preferences: prefs, Strategy: types.RefreshStrategyRolling,
		PercentageComplete: aws.Int32(0), InstancesToUpdate: aws.Int32(int32(r.total))}
	g.refreshes = append(g.refreshes, r)
	return finish(&autoscaling.StartInstanceRefreshOutput{InstanceRefreshId: r.r.InstanceRefreshId}, nil, fault)
}

func refreshPreferences(in *types.RefreshPreferences) (*types.RefreshPreferences, error) {
	p := types.RefreshPreferences{MinHealthyPercentage: aws.Int32(90), MaxHealthyPercentage: aws.Int32(100), SkipMatching: aws.Bool(false)}
	if in != nil {
		if in.MinHealthyPercentage != nil {
			p.MinHealthyPercentage = in.MinHealthyPercentage
		}
		if in.MaxHealthyPercentage != nil {
			p.MaxHealthyPercentage = in.MaxHealthyPercentage
		}
		if in.SkipMatching != nil {
			p.SkipMatching = in.SkipMatching
		}
		p.InstanceWarmup = in.InstanceWarmup
	}
	lo, hi := aws.ToInt32(p.MinHealthyPercentage), aws.ToInt32(p.MaxHealthyPercentage)
	switch {
	case lo < 0 || lo > 100:
		return nil, APIError("ValidationError", "MinHealthyPercentage must be between 0 and 100")
	case hi < 100 || hi > 200:
		return nil, APIError("ValidationError", "MaxHealthyPercentage must be between 100 and 200")
	case hi-lo > 100:
		return nil, APIError("ValidationError", "The difference between MaxHealthyPercentage and MinHealthyPercentage can't be greater than 100")
	case lo == 100 && hi == 100:
		return nil, APIError("ValidationError", "With a MinHealthyPercentage of 100, MaxHealthyPercentage must be greater than 100")
	}
	return &p, nil
}

// stepRefresh moves a refresh one step: once the replacement in flight is
// healthy, the instance it replaces goes; then the next one is replaced.
func (f *AutoScaling) stepRefresh(g *fakeGroup, r *fakeRefresh) {
	if r.r.Status == types.InstanceRefreshStatusPending {
		if r.seen {
			r.r.Status = types.InstanceRefreshStatusInProgress
		}
		r.seen = true // the first describe shows it pending
		return
	}
	if r.replacement != "" {
		m := g.member(r.replacement)
		switch {
		case m == nil && r.old != "": // the replacement died: replace the old one again
			r.toReplace = append([]string{r.old}, r.toReplace...)
		case m == nil: // it died after the old one went: the group keeps capacity
			r.done++
		case !f.healthy(m):
			return
		default:
			if r.old != "" {
				f.retire(g, r.old)
			}
			r.done++
		}
		r.old, r.replacement = "", ""
		r.r.PercentageComplete, r.r.InstancesToUpdate = aws.Int32(int32(100*r.done/max(r.total, 1))), aws.Int32(int32(r.total-r.done))
	}
	r.toReplace = slices.DeleteFunc(r.toReplace, func(id string) bool { return g.member(id) == nil })
	if len(r.toReplace) == 0 {
		r.r.PercentageComplete, r.r.InstancesToUpdate = aws.Int32(100), aws.Int32(0)
		r.finish(types.InstanceRefreshStatusSuccessful, "")
		return
	}
	next := r.toReplace[0]
	r.toReplace = r.toReplace[1:]
	if !r.launchFirst {
		f.retire(g, next)
		next = ""
	}
	m := f.launch(g, r.target)
	if m == nil {
		r.finish(types.InstanceRefreshStatusFailed, aws.ToString(g.g.Status))
		return
	}
	r.old, r.replacement = next, m.id
}

// DescribeInstanceRefreshes lists a group's refreshes, newest first, moving
// the group one step along.
func (f *AutoScaling) DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
	fault, err := f.begin(ctx, "DescribeInstanceRefreshes")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.groups[aws.ToString(in.AutoScalingGroupName)]
	if !ok {
		return nil, notFoundGroup(aws.ToString(in.AutoScalingGroupName))
	}
	f.tick(g)
	var out []types.InstanceRefresh
	for i := len(g.refreshes) - 1; i >= 0; i-- {
		r := g.refreshes[i].r
		if len(in.InstanceRefreshIds) == 0 || slices.Contains(in.InstanceRefreshIds, aws.ToString(r.InstanceRefreshId)) {
			out = append(out, r)
		}
	}
	page, next, err := asPage(out, in.NextToken, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	return finish(&autoscaling.DescribeInstanceRefreshesOutput{InstanceRefreshes: page, NextToken: next}, nil, fault)
}
