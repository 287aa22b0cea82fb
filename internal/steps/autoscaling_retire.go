package steps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Retiring the stand-alone instances. Once the groups serve, stage
// autoscaling terminates frontend-1/2 and backend-1/2 and records
// OutBootstrapRetired=true before the first one goes. From then on stages
// 2-4, 6 and 7 keep their groups, AMIs (the launch templates use them),
// target groups and load balancers, but neither launch, roll, register nor
// wait for those instances. Setting keep_bootstrap_instances later turns
// this off: the next up launches them again (stage 2 and 4 install the
// first of each tier from scratch, the AMIs give the second), stage 7 links
// them, and stage 8 records "false". Destroy needs none of this: it deletes
// the groups (and with them their instances) first and sweeps by tags.

// bootstrapRetired reports whether stage autoscaling has retired the
// stand-alone instances and keep_bootstrap_instances is still off.
func bootstrapRetired(r *Run) bool {
	return r.Output("autoscaling", OutBootstrapRetired) == "true" && !r.Cfg.Autoscaling.KeepBootstrapInstances
}

// retiredNote says what serves instead of a tier's stand-alone instances.
func retiredNote(r *Run, t *appTier) string {
	return "retired: serving from " + r.Name(t.Name+"-asg")
}

// retireBootstrap deregisters (letting connections drain) and terminates
// the stand-alone instances, and drops them from their stages' state, once
// the groups serve. It keeps them when configured to, or when the groups
// have no desired capacity (nothing would serve).
func retireBootstrap(ctx context.Context, r *Run) error {
	a := r.Cfg.Autoscaling
	if a.KeepBootstrapInstances || a.Desired < 1 {
		if !a.KeepBootstrapInstances {
			r.Logf("keeping frontend-1/2 and backend-1/2: autoscaling.desired is 0, so the groups serve nothing")
		}
		return r.SetOutput(OutBootstrapRetired, "false")
	}
	// Recorded first: from now on the earlier stages leave these instances
	// alone, also when this run stops half way.
	if err := r.SetOutput(OutBootstrapRetired, "true"); err != nil {
		return err
	}
	var leaving []leavingInstance
	for _, s := range scaledTiers {
		for _, m := range s.tier.Members {
			l, err := leavingMember(ctx, r, s, m)
			if err != nil {
				return err
			}
			leaving = append(leaving, l...)
		}
	}
	if err := retireInstances(ctx, r, leaving); err != nil {
		return err
	}
	var ended []string
	for _, s := range scaledTiers {
		for _, m := range s.tier.Members {
			if err := forgetMember(r, m); err != nil {
				return err
			}
		}
	}
	for _, l := range leaving {
		ended = append(ended, aws.ToString(l.in.InstanceId))
	}
	if len(ended) == 0 || r.DryRun {
		return nil
	}
	if err := waitInstancesTerminated(ctx, r.Env, ended); err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "wait for", Resource: "retired instances", Err: err}
	}
	return nil
}

// leavingMember lists a member's live instances (more than one after an
// interrupted replacement) to retire.
func leavingMember(ctx context.Context, r *Run, s scaledTier, m tierMember) ([]leavingInstance, error) {
	name := r.Name(m.Name)
	live, err := findInstances(ctx, r.Env, awsx.Tags{awsx.TagStack: r.Cfg.Stack, awsx.TagName: name})
	if err != nil {
		return nil, &StageError{Stage: r.Stage.Name, Action: "find", Resource: instanceKind.Type + " " + name, Err: err}
	}
	serving := r.Name(s.group)
	if len(live) == 0 && isPlanned(r.Output(m.Owner, m.Output)) { // a plan: its stage would launch it first
		return nil, planOnly(r, "delete", instanceKind.Type, name, "retired once "+serving+" serves")
	}
	var out []leavingInstance
	for _, in := range live {
		how := retirement{tgARN: r.Output(s.tgStage, s.tgOutput), port: s.tier.Port, name: name, why: "retired: " + serving + " serves",
			detail: fmt.Sprintf("%s (retired: %s serves)", aws.ToString(in.InstanceId), serving)}
		out = append(out, leavingInstance{in, how})
	}
	return out, nil
}

// forgetMember drops a retired member from its owner stage.
func forgetMember(r *Run, m tierMember) error {
	if r.DryRun {
		return nil
	}
	if _, ok := r.State.Resource(m.Owner, m.key()); ok {
		if err := r.State.DropResource(m.Owner, m.key()); err != nil {
			return err
		}
	}
	if r.State.Output(m.Owner, m.Output) != "" {
		return r.State.SetOutput(m.Owner, m.Output, "")
	}
	return nil
}
