package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/myappctl/myappctl/internal/awsx"

	"github.com/myappctl/myappctl/internal/settings"
)

// standAloneIDs are the ids of the tier's stand-alone instances the state
// records (none once they are retired).
func standAloneIDs(r *Run, t *appTier) []string {
	if bootstrapRetired(r) {
		return nil
	}
	var ids []string
	for _, m := range t.Members {
		if id := r.Output(m.Owner, m.Output); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// tierInstances are every instance that serves the tier, by id, with the
// name progress lines use: the stand-alone ones and those in service in
// the tier's group.
func tierInstances(ctx context.Context, r *Run, t *appTier) (map[string]string, error) {
	out := map[string]string{}
	if !bootstrapRetired(r) {
		for _, m := range t.Members {
			if id := r.Output(m.Owner, m.Output); id != "" {
				out[id] = r.Name(m.Name)
			}
		}
	}
	for _, s := range scaledTiers {
		group := r.Output("autoscaling", s.groupOutput)
		if s.tier.Name != t.Name || group == "" || isPlanned(group) {
			continue
		}
		g, err := describeGroup(ctx, r.Env, group)
		if err != nil {
			return nil, &StageError{Stage: r.Stage.Name, Action: "describe", Resource: groupKind.Type + " " + group, Err: err}
		}
		if g == nil {
			continue
		}
		var ids []string
		for _, in := range g.Instances {
			if in.LifecycleState == astypes.LifecycleStateInService || in.LifecycleState == astypes.LifecycleStatePending {
				ids = append(ids, aws.ToString(in.InstanceId))
			}
		}
		reporting, err := reportingInstances(ctx, r, ids)
		if err != nil {
			return nil, err
		}
		for _, id := range reporting {
			out[id] = group + " instance"
		}
	}
	return out, nil
}

// reportingInstances keeps the instances that report: those launched with
// a release. One an earlier myappctl launched runs an app that never
// reports; stage autoscaling's instance refresh replaces it.
func reportingInstances(ctx context.Context, r *Run, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out, err := r.AWS.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil && !awsx.IsNotFound(err) {
		return nil, &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "instances " + joinIDs(ids), Err: err}
	}
	var keep []string
	if out == nil {
		return keep, nil
	}
	for _, res := range out.Reservations {
		for _, in := range res.Instances {
			id := aws.ToString(in.InstanceId)
			if releaseOf(in) == "" {
				r.logOnce("legacy/"+id, "%s runs an app of an earlier myappctl that does not report: the instance refresh of stage autoscaling replaces it", id)
				continue
			}
			keep = append(keep, id)
		}
	}
	return keep, nil
}

// tierInstanceFacts are, for status, the stand-alone instances of the tier
// that owner lists: state, release, settings version and report age.
func tierInstanceFacts(ctx context.Context, r *Run, t *appTier, owner string) []Fact {
	if bootstrapRetired(r) {
		return []Fact{{Name: "stand-alone instances", Value: retiredNote(r, t)}}
	}
	var ids []string
	for _, m := range t.Members {
		if id := r.Output(m.Owner, m.Output); m.Owner == owner && id != "" {
			ids = append(ids, id)
		}
	}
	reports, err := currentReports(ctx, r.Env, t, ids)
	if err != nil {
		return []Fact{{Name: t.Name + " reports", Value: "unknown: " + shortErr(err)}}
	}
	current := currentSettingsVersion(ctx, r, t)
	var facts []Fact
	for _, m := range t.Members {
		if m.Owner != owner {
			continue
		}
		id := r.Output(m.Owner, m.Output)
		state := instanceStateOf(ctx, r.Env, id)
		if id == "" || state != "running" {
			facts = append(facts, Fact{Name: m.Name, Value: fmt.Sprintf("%s %s", id, state)})
			continue
		}
		rep, ok := reports[id]
		facts = append(facts, reportFact(m.Name, id, rep, ok, current, time.Now()))
	}
	return facts
}

// settingsFact says, for status, how many of the tier's instances run its
// current settings.
func settingsFact(ctx context.Context, r *Run, t *appTier) Fact {
	name := t.Name + " settings"
	current := currentSettingsVersion(ctx, r, t)
	if current == "" {
		return Fact{Name: name, Value: "unknown: cannot read " + settingsPath(r, t)}
	}
	instances, err := tierInstances(ctx, r, t)
	if err != nil {
		return Fact{Name: name, Value: "unknown: " + shortErr(err)}
	}
	reports, err := currentReports(ctx, r.Env, t, slices.Sorted(maps.Keys(instances)))
	if err != nil {
		return Fact{Name: name, Value: "unknown: " + shortErr(err)}
	}
	n := 0
	var behind []string
	for _, id := range slices.Sorted(maps.Keys(instances)) {
		if rep, ok := reports[id]; ok && rep.SettingsVersion == current {
			n++
		} else {
			behind = append(behind, id)
		}
	}
	v := fmt.Sprintf("version %s, applied by %d/%d instances", current, n, len(instances))
	if len(behind) > 0 {
		v += " (not yet: " + fmt.Sprint(behind) + ")"
	}
	return Fact{Name: name, Value: v}
}

// currentSettingsVersion is the version of what Parameter Store holds for
// the tier now ("" when it cannot be read).
func currentSettingsVersion(ctx context.Context, r *Run, t *appTier) string {
	have, err := readTierSettings(ctx, r, settingsPath(r, t))
	if err != nil {
		return ""
	}
	values := map[string]string{}
	for k, v := range have {
		values[k] = v.value
	}
	return settings.Version(values)
}
