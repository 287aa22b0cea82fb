package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/state"
)

// Leftover is something destroy could not remove.
type Leftover struct {
	Stage  string `json:"stage"`
	Type   string `json:"type"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// DestroyReport says what destroy deleted and what is left.
type DestroyReport struct {
	Deleted   []string   `json:"deleted"`
	Leftovers []Leftover `json:"leftovers"`
}

// target is one resource destroy will try to delete.
type target struct {
	kind *Kind
	id   string
}

// Destroy removes everything the stack created, stages in reverse order:
// what the state file lists plus anything still tagged with the stack (so a
// lost state file still cleans up). It never deletes a resource that lacks
// the stack tag, retries while dependencies drain, and reports leftovers.
// Expired credentials stop it at once.
func (rn *Runner) Destroy(ctx context.Context) (DestroyReport, error) {
	rep, err := rn.destroy(ctx)
	return rep, rn.expired(err)
}

func (rn *Runner) destroy(ctx context.Context) (DestroyReport, error) {
	var rep DestroyReport
	// Destroy sweeps by the stack tag: with another account's credentials
	// it would find (and delete) a stack of the same name there.
	if err := rn.Env.checkAccount(); err != nil {
		return rep, err
	}
	deadline := time.Now().Add(rn.Env.Cfg.Wait.DestroyTimeout)
	for i := len(rn.Stages) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		r := &Run{Env: rn.Env, Stage: rn.Stages[i]}
		start, deleted, leftovers := time.Now(), len(rep.Deleted), len(rep.Leftovers)
		left, err := rn.destroyStage(r.started(ctx, ""), r, deadline, &rep)
		if err == nil && left > 0 {
			l := rep.Leftovers[leftovers]
			err = fmt.Errorf("%d resource(s) not deleted: %s %s: %s", left, l.Type, l.ID, l.Reason)
			if ctx.Err() != nil {
				err = fmt.Errorf("%d resource(s) not deleted: %w", left, ctx.Err())
			}
		}
		r.finished(len(rep.Deleted)-deleted, time.Since(start).Round(time.Millisecond), err, "")
		if err != nil && left == 0 {
			return rep, err
		}
	}
	if len(rep.Leftovers) > 0 {
		return rep, fmt.Errorf("destroy left %d resource(s) behind (listed above): run `myappctl destroy` again, or remove them in the console", len(rep.Leftovers))
	}
	return rep, nil
}

// destroyStage deletes one stage's resources into rep and returns how many
// it left behind.
func (rn *Runner) destroyStage(ctx context.Context, r *Run, deadline time.Time, rep *DestroyReport) (int, error) {
	s := r.Stage
	targets, leftovers, err := rn.destroyTargets(ctx, r)
	rep.Leftovers = append(rep.Leftovers, leftovers...)
	if err != nil {
		return 0, err
	}
	if len(targets) == 0 && len(leftovers) == 0 {
		if st := rn.Env.State.Stage(s.Name); st.Status != state.StatusPending && st.Status != state.StatusDestroyed {
			return 0, rn.Env.State.Reset(s.Name)
		}
		return 0, nil
	}
	if s.BeforeDestroy != nil {
		if err := s.BeforeDestroy(ctx, r); err != nil {
			return 0, fmt.Errorf("stage %s: prepare destroy: %w", s.Name, err)
		}
	}
	r.Logf("deleting %d resource(s)", len(targets))
	deleted, left, err := r.deleteAll(ctx, targets, deadline)
	rep.Deleted = append(rep.Deleted, deleted...)
	rep.Leftovers = append(rep.Leftovers, left...)
	if err != nil {
		return 0, err // expired credentials: stop at once
	}
	if len(left) == 0 && len(leftovers) == 0 {
		return 0, rn.Env.State.Reset(s.Name)
	}
	return len(left) + len(leftovers), nil
}

// destroyTargets gathers a stage's resources from the state file, from a
// sweep by stack tag and from the names the stage gives them, and refuses
// any that lack the stack tag.
func (rn *Runner) destroyTargets(ctx context.Context, r *Run) ([]target, []Leftover, error) {
	seen := map[string]bool{}
	listed := map[string]state.Resource{} // by type/id: what the state file says this stack made
	var found []target
	var left []Leftover
	add := func(k *Kind, id string) {
		if !seen[k.Type+"/"+id] {
			seen[k.Type+"/"+id] = true
			found = append(found, target{k, id})
		}
	}
	for _, res := range rn.Env.State.Stage(r.Stage.Name).Resources {
		k, ok := kinds[res.Type]
		if !ok {
			left = append(left, Leftover{r.Stage.Name, res.Type, res.ID, "unknown resource type in state file"})
			continue
		}
		listed[res.Type+"/"+res.ID] = res
		add(k, res.ID)
	}
	for _, k := range r.Stage.Kinds {
		ids, err := k.FindTagged(ctx, rn.Env, awsx.Tags{awsx.TagStack: rn.Env.Cfg.Stack, awsx.TagStep: r.Stage.Name})
		if err != nil {
			return nil, left, fmt.Errorf("stage %s: find %s resources tagged with stack %s: %w", r.Stage.Name, k.Type, rn.Env.Cfg.Stack, err)
		}
		for _, id := range ids {
			add(k, id)
		}
	}
	fixes := map[string]string{}
	if r.Stage.Named != nil {
		named, err := r.Stage.Named(ctx, r)
		if err != nil {
			return nil, left, fmt.Errorf("stage %s: name its resources: %w", r.Stage.Name, err)
		}
		for _, n := range named {
			if !seen[n.Kind.Type+"/"+n.ID] {
				fixes[n.Kind.Type+"/"+n.ID] = n.Fix
				add(n.Kind, n.ID)
			}
		}
	}
	// Keep kind order (the stage lists kinds in deletion order), verify tags.
	var ordered []target
	for _, k := range append(r.Stage.Kinds, extraKinds(found, r.Stage.Kinds)...) {
		for _, t := range found {
			if t.kind != k {
				continue
			}
			tags, exists, err := k.Lookup(ctx, rn.Env, t.id)
			switch {
			case awsx.IsCredentialsExpired(err):
				return nil, left, err
			case fixes[k.Type+"/"+t.id] != "" && awsx.HasCode(err, "AccessDenied", "Forbidden", "403"):
				// found by name only, and another account's: not ours
			case err != nil:
				left = append(left, Leftover{r.Stage.Name, k.Type, t.id, "describe failed: " + err.Error()})
			case !exists:
				// already gone
			case !tags.OwnedBy(rn.Env.Cfg.Stack):
				if reason := r.claimUntagged(ctx, t, tags, listed, fixes); reason != "" {
					left = append(left, Leftover{r.Stage.Name, k.Type, t.id, reason})
					continue
				}
				ordered = append(ordered, t)
			default:
				ordered = append(ordered, t)
			}
		}
	}
	return ordered, left, nil
}

// claimUntagged decides about a resource without the stack tag: one the
// state file lists, of a kind whose tags are written after the create
// (Kind.Tag) and that has no stack tag at all, was made by this stack and
// never tagged (an interrupted run): it is tagged, and returns "" to be
// deleted. Anything else is left alone, and the reason says why.
func (r *Run) claimUntagged(ctx context.Context, t target, tags awsx.Tags, listed map[string]state.Resource, fixes map[string]string) string {
	stack := r.Cfg.Stack
	res, inState := listed[t.kind.Type+"/"+t.id]
	if !inState || t.kind.Tag == nil || tags[awsx.TagStack] != "" {
		reason := "not deleted: it lacks the tag " + awsx.TagStack + "=" + stack
		if fix := fixes[t.kind.Type+"/"+t.id]; fix != "" && !inState {
			reason = "not deleted: it has the name this stack gives it but not the tag " + awsx.TagStack + "=" + stack +
				" (an interrupted run may have made it before tagging it). If it is the stack's, tag it: `" + fix +
				"`, then run `myappctl destroy` again; if not, leave it"
		}
		return reason
	}
	r.Logf("%s %s is in the state file but carries no tags (a run stopped before writing them): tagging it, then deleting it", t.kind.Type, t.id)
	if err := t.kind.Tag(ctx, r.Env, t.id, awsx.StackTags(stack, r.Stage.Name, res.Name)); err != nil {
		return "not deleted: it lacks the tag " + awsx.TagStack + "=" + stack + " and tagging it failed: " + shortErr(err)
	}
	return ""
}

// extraKinds are kinds found in the state file that the stage does not list.
func extraKinds(ts []target, listed []*Kind) []*Kind {
	var out []*Kind
	in := func(k *Kind, list []*Kind) bool {
		for _, l := range list {
			if l == k {
				return true
			}
		}
		return false
	}
	for _, t := range ts {
		if !in(t.kind, listed) && !in(t.kind, out) {
			out = append(out, t.kind)
		}
	}
	return out
}

// deleteAll deletes targets in order, in repeated passes: NotFound is done,
// a dependency error waits for the next pass, until nothing is left or the
// deadline passes. Expired credentials stop it at once (the error).
func (r *Run) deleteAll(ctx context.Context, targets []target, deadline time.Time) ([]string, []Leftover, error) {
	var deleted []string
	var failed []Leftover
	lastErr := map[string]error{}
	attempts := map[string]int{}
	for pass := 0; len(targets) > 0; pass++ {
		var retry []target
		for _, t := range targets {
			attempts[t.id]++
			err := t.kind.Delete(ctx, r.Env, t.id)
			switch {
			case err == nil || awsx.IsNotFound(err):
				r.Logf("deleted %s %s", t.kind.Type, t.id)
				deleted = append(deleted, t.kind.Type+" "+t.id)
			case awsx.IsCredentialsExpired(err):
				return deleted, failed, err
			case ctx.Err() != nil:
				return deleted, append(failed, leftoversOf(r.Stage.Name, append(retry, t), map[string]error{t.id: ctx.Err()})...), nil
			case !awsx.IsDependency(err) && attempts[t.id] >= 3:
				// Not a "still in use" error: retrying until the deadline won't help.
				failed = append(failed, leftoversOf(r.Stage.Name, []target{t}, map[string]error{t.id: err})...)
			default:
				lastErr[t.id] = err
				retry = append(retry, t)
			}
		}
		targets = retry
		if len(targets) == 0 || time.Now().After(deadline) {
			break
		}
		if pass%5 == 0 {
			for _, t := range targets {
				r.Logf("%s %s not deleted yet (%s); retrying", t.kind.Type, t.id, shortErr(lastErr[t.id]))
			}
		}
		select {
		case <-ctx.Done():
			return deleted, append(failed, leftoversOf(r.Stage.Name, targets, lastErr)...), nil
		case <-time.After(r.Cfg.Wait.PollInterval):
		}
	}
	return deleted, append(failed, leftoversOf(r.Stage.Name, targets, lastErr)...), nil
}

func leftoversOf(stage string, ts []target, errs map[string]error) []Leftover {
	var out []Leftover
	for _, t := range ts {
		out = append(out, Leftover{stage, t.kind.Type, t.id, shortErr(errs[t.id])})
	}
	return out
}

func shortErr(err error) string {
	if err == nil {
		return "unknown"
	}
	if code := awsx.ErrorCode(err); code != "" {
		var msg string
		var apiErr interface{ ErrorMessage() string }
		if errors.As(err, &apiErr) {
			msg = apiErr.ErrorMessage()
		}
		return code + ": " + msg
	}
	return err.Error()
}
