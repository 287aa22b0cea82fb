package steps

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"golang.org/x/sync/errgroup"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/state"
)

// rollInstances makes both stand-alone instances of a tier run release
// rel, and (when tgARN is set) serve as healthy targets of that group. It
// returns their ids, in member order.
//
// An instance whose release tag differs from rel is replaced, one instance
// at a time: a new one is launched from the tier AMI (which holds rel),
// recorded in its owner stage's state (and output) at once, waited on until
// it reports rel, registered and waited on until healthy; only then is the
// old one deregistered, drained and terminated. So the group never has
// fewer healthy targets than before. An instance that already runs rel is
// only registered; a missing one is launched. Leftovers of an interrupted
// replacement are retired. Settings never replace an instance: they reach
// the running ones through Parameter Store.
func rollInstances(ctx context.Context, r *Run, t *appTier, rel release, tgARN string) ([]string, error) {
	var ids, retired []string
	for _, m := range t.Members {
		id, old, err := rollMember(ctx, r, t, m, rel, tgARN)
		if err != nil {
			return nil, err
		}
		ids, retired = append(ids, id), append(retired, old...)
	}
	if tgARN != "" {
		if err := waitHealthyTargets(ctx, r, tgARN, ids); err != nil {
			return nil, err
		}
	}
	if len(retired) > 0 && !r.DryRun {
		if err := waitInstancesTerminated(ctx, r.Env, retired); err != nil {
			return nil, &StageError{Stage: r.Stage.Name, Action: "wait for", Resource: "replaced instances", Err: err}
		}
	}
	return ids, nil
}

// rollMember brings one member to rel; it returns the current id and the
// ids of instances it terminated.
func rollMember(ctx context.Context, r *Run, t *appTier, m tierMember, rel release, tgARN string) (string, []string, error) {
	name := r.Name(m.Name)
	live, err := findInstances(ctx, r.Env, awsx.Tags{awsx.TagStack: r.Cfg.Stack, awsx.TagName: name})
	if err != nil {
		return "", nil, &StageError{Stage: r.Stage.Name, Action: "find", Resource: instanceKind.Type + " " + name, Err: err}
	}
	id, replacing, err := memberWithRelease(ctx, r, t, m, live, rel)
	if err != nil {
		return "", nil, err
	}
	if !isPlanned(id) && !r.DryRun {
		if err := waitInstanceRunning(ctx, r, id, name); err != nil {
			return "", nil, err
		}
		if replacing {
			if err := waitReports(ctx, r, t, map[string]string{id: name}, reportWant{release: rel.sha, what: "to run release " + rel.short()}); err != nil {
				return "", nil, err
			}
		}
	}
	if tgARN != "" {
		if err := ensureTargets(ctx, r, tgARN, t.Port, []string{id}); err != nil {
			return "", nil, err
		}
		if err := waitHealthyTargets(ctx, r, tgARN, []string{id}); err != nil {
			return "", nil, err
		}
	}
	var retired []string
	for _, in := range live {
		if old := aws.ToString(in.InstanceId); old != id {
			detail := fmt.Sprintf("old instance %s (release %s, now %s)", old, shortRelease(releaseOf(in)), rel.short())
			if err := retireInstance(ctx, r, in, retirement{tgARN: tgARN, port: t.Port, name: name, why: "replaced", detail: detail}); err != nil {
				return "", nil, err
			}
			retired = append(retired, old)
		}
	}
	return id, retired, nil
}

// memberWithRelease returns the member's instance that runs rel: the
// current one when its release tag matches, else a replacement an
// interrupted run launched, else a new one (replacing reports that it is
// new, so the caller waits for its report).
func memberWithRelease(ctx context.Context, r *Run, t *appTier, m tierMember, live []ec2types.Instance, rel release) (id string, replacing bool, err error) {
	name := r.Name(m.Name)
	cur := currentInstance(r, m, live)
	if planned := r.Output(m.Owner, m.Output); cur == nil && isPlanned(planned) {
		return planned, false, nil // a plan: its stage launches it with rel
	}
	if cur != nil && releaseOf(*cur) == rel.sha {
		id := aws.ToString(cur.InstanceId)
		if rec, _ := r.State.Resource(m.Owner, m.key()); rec.ID != id { // adopted by its Name tag
			return id, false, recordMember(r, m, id, name)
		}
		return id, false, nil
	}
	if resumed := newestWithRelease(live, rel.sha); resumed != nil {
		id := aws.ToString(resumed.InstanceId)
		r.Logf("resuming the replacement of %s with %s", name, id)
		return id, true, recordMember(r, m, id, name)
	}
	id, err = launchReplacement(ctx, r, t, m, cur, rel)
	return id, true, err
}

// currentInstance is the member as its owner's state records it, else the
// live instance with its Name tag (the oldest).
func currentInstance(r *Run, m tierMember, live []ec2types.Instance) *ec2types.Instance {
	rec, _ := r.State.Resource(m.Owner, m.key())
	for i := range live {
		if aws.ToString(live[i].InstanceId) == rec.ID {
			return &live[i]
		}
	}
	if len(live) > 0 {
		return &live[0]
	}
	return nil
}

// releaseOf is the release an instance (or image) was launched with.
func releaseOf(in ec2types.Instance) string { return awsx.EC2TagMap(in.Tags)[tagRelease] }

func newestWithRelease(live []ec2types.Instance, sha string) *ec2types.Instance {
	for i := len(live) - 1; i >= 0; i-- {
		if releaseOf(live[i]) == sha {
			return &live[i]
		}
	}
	return nil
}

// launchReplacement starts the member from the tier AMI and records it as
// the member in its owner's state before anything waits.
func launchReplacement(ctx context.Context, r *Run, t *appTier, m tierMember, cur *ec2types.Instance, rel release) (string, error) {
	name := r.Name(m.Name)
	ami := r.Output(t.AMIStage, t.AMIOutput)
	if ami == "" {
		return "", fmt.Errorf("stage %s: the %s AMI is not in the state file: run `myappctl step %s` first", r.Stage.Name, t.Name, t.AMIStage)
	}
	detail := fmt.Sprintf("from %s, release %s", ami, rel.short())
	if cur != nil {
		detail = fmt.Sprintf("replaces %s (release %s → %s), from %s", aws.ToString(cur.InstanceId), shortRelease(releaseOf(*cur)), rel.short(), ami)
	}
	key := "replace/" + m.Name + "/" + rel.short()
	id := plannedID(m.key())
	err := r.change("create", instanceKind.Type, name, detail, func() error {
		token, err := r.clientToken(key)
		if err != nil {
			return err
		}
		if id, err = launchFromAMI(ctx, r, t, m, token, ami, rel); err != nil {
			return err
		}
		if err := recordMember(r, m, id, name); err != nil {
			return err
		}
		return r.clearToken(key)
	})
	return id, err
}

// recordMember makes id the member in its owner stage's state and output
// (the owner may be another stage: instances belong to the tier's stages).
func recordMember(r *Run, m tierMember, id, name string) error {
	if r.DryRun {
		return nil
	}
	if err := r.State.PutResource(m.Owner, state.Resource{Key: m.key(), Type: instanceKind.Type, ID: id, Name: name}); err != nil {
		return err
	}
	return r.State.SetOutput(m.Owner, m.Output, id)
}

// retirement says how an instance leaves: the target group it serves in
// (and on which port), its member's Name, why, and the delete's detail.
type retirement struct {
	tgARN       string
	port        int32
	name        string
	why, detail string
}

// retireInstance takes an instance out of service: deregister it, let its
// connections drain, terminate it.
func retireInstance(ctx context.Context, r *Run, in ec2types.Instance, how retirement) error {
	return retireInstances(ctx, r, []leavingInstance{{in, how}})
}

// leavingInstance is an instance to retire and how.
type leavingInstance struct {
	in  ec2types.Instance
	how retirement
}

// retireInstances retires several instances side by side: all are
// deregistered, then drain together, then are terminated.
func retireInstances(ctx context.Context, r *Run, leaving []leavingInstance) error {
	var draining []leavingInstance
	for _, l := range leaving {
		id, how := aws.ToString(l.in.InstanceId), l.how
		if how.tgARN == "" || isPlanned(how.tgARN) {
			continue
		}
		registered, err := targetRegistered(ctx, r, how.tgARN, id)
		if err != nil {
			return err
		}
		if !registered {
			continue
		}
		err = r.change("modify", targetGroupKind.Type, arnName(how.tgARN), "deregister "+id+" ("+how.why+")", func() error {
			_, err := r.AWS.ELBV2.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(how.tgARN),
				Targets: []elbv2types.TargetDescription{{Id: aws.String(id), Port: aws.Int32(how.port)}}})
			return err
		})
		if err != nil {
			return err
		}
		draining = append(draining, l)
	}
	if !r.DryRun {
		g, gctx := errgroup.WithContext(ctx)
		for _, l := range draining {
			g.Go(func() error { return waitTargetGone(gctx, r, l.how.tgARN, aws.ToString(l.in.InstanceId)) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	for _, l := range leaving {
		id := aws.ToString(l.in.InstanceId)
		err := r.change("delete", instanceKind.Type, l.how.name, l.how.detail, func() error {
			_, err := r.AWS.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func targetRegistered(ctx context.Context, r *Run, tgARN, id string) (bool, error) {
	out, err := r.AWS.ELBV2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		return false, &StageError{Stage: r.Stage.Name, Action: "describe targets of", Resource: targetGroupKind.Type + " " + arnName(tgARN), Err: err}
	}
	return slices.ContainsFunc(out.TargetHealthDescriptions, func(d elbv2types.TargetHealthDescription) bool {
		return aws.ToString(d.Target.Id) == id
	}), nil
}

// waitTargetGone waits while a deregistered target drains (the group's
// deregistration delay), so terminating it cuts no request.
func waitTargetGone(ctx context.Context, r *Run, tgARN, id string) error {
	spec := r.wait(id+" to drain from "+arnName(tgARN), 0, "check with `aws elbv2 describe-target-health --target-group-arn "+tgARN+"`")
	return awsx.Poll(ctx, spec, func(ctx context.Context) (bool, string, error) {
		registered, err := targetRegistered(ctx, r, tgARN, id)
		return !registered, "draining", err
	})
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
