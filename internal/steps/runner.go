package steps

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/state"
)

// Runner runs stages over an Env.
type Runner struct {
	Env    *Env
	Stages Registry
}

// NewRunner returns a runner over the nine stages.
func NewRunner(env *Env) *Runner { return &Runner{Env: env, Stages: Stages()} }

// StageResult is what one stage did.
type StageResult struct {
	Stage    string        `json:"stage"`
	Changes  []Change      `json:"changes"`
	Duration time.Duration `json:"duration"`
	Err      error         `json:"-"`
	Error    string        `json:"error,omitempty"`
}

// UpOptions narrows up.
type UpOptions struct {
	// To stops after this stage (and runs only what it needs).
	To string
}

// Up converges every stage in dependency order, running independent stages
// concurrently. A converged stage makes no change; a failed stage stops its
// dependents but not unrelated stages.
func (rn *Runner) Up(ctx context.Context, opts UpOptions) ([]StageResult, error) {
	stages := rn.Stages
	if opts.To != "" {
		target, err := rn.Stages.Lookup(opts.To)
		if err != nil {
			return nil, err
		}
		stages = rn.Stages.Closure(target)
	}
	ctx = rn.cachedReads(ctx)
	defer rn.warm(ctx, stages)()
	results, err := rn.runGraph(ctx, stages, nil)
	return results, errors.Join(err, rn.Env.rememberAccount())
}

// runGraph runs the stages, each once those it needs are done, independent
// ones side by side. Expired credentials in one stage stop them all at once
// (the run's context is cancelled with that cause), and are the one error
// returned. With plan set it only plans (DryRun, no Early part), and later
// stages read the outputs earlier ones would write from plan.
func (rn *Runner) runGraph(ctx context.Context, stages Registry, plan *plannedOutputs) ([]StageResult, error) {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var (
		mu      sync.Mutex
		results = map[string]StageResult{}
		done    = map[string]chan struct{}{}
		wg      sync.WaitGroup
	)
	for _, s := range stages {
		done[s.Name] = make(chan struct{})
	}
	for _, s := range stages {
		wg.Add(1)
		go func(s *Stage) {
			defer wg.Done()
			defer close(done[s.Name])
			ctx := awsx.ReadScope(ctx) // the stage's waits refresh only its own reads
			blockedBy := func(needs []string) []string {
				for _, need := range needs {
					if ch, ok := done[need]; ok {
						<-ch
					}
				}
				mu.Lock()
				defer mu.Unlock()
				var blocked []string
				for _, need := range needs {
					if res, ok := results[need]; ok && res.Err != nil {
						blocked = append(blocked, need)
					}
				}
				return blocked
			}
			r := &Run{Env: rn.Env, Stage: s, DryRun: plan != nil, planned: plan}
			var earlyErr error
			if s.Early != nil && plan == nil && len(blockedBy(s.EarlyNeeds)) == 0 && ctx.Err() == nil {
				earlyErr = rn.early(ctx, r)
			}
			var res StageResult
			switch blocked := blockedBy(s.Needs); {
			case len(blocked) > 0:
				res = StageResult{Stage: s.Name, Err: fmt.Errorf("stage %s skipped: it needs %v, which did not complete", s.Name, blocked)}
				(&Run{Env: rn.Env, Stage: s, DryRun: plan != nil}).skipped(res.Err)
			case earlyErr != nil:
				res = rn.fail(r, earlyErr)
			case ctx.Err() != nil && !r.earlyStart.IsZero():
				res = rn.fail(r, rn.stageError(ctx, s, ctx.Err()))
			case ctx.Err() != nil:
				res = StageResult{Stage: s.Name, Err: fmt.Errorf("stage %s not started: %w", s.Name, context.Cause(ctx))}
			default:
				res = rn.apply(ctx, r)
			}
			if awsx.IsCredentialsExpired(res.Err) {
				stop(res.Err)
			}
			mu.Lock()
			results[s.Name] = res
			mu.Unlock()
		}(s)
	}
	wg.Wait()
	out := make([]StageResult, 0, len(stages))
	var errs []error
	for _, s := range stages {
		res := results[s.Name]
		var ni *ErrNotImplemented
		if res.Err != nil {
			res.Error = res.Err.Error()
			if plan == nil || !errors.As(res.Err, &ni) { // a plan shows what is not built yet
				errs = append(errs, res.Err)
			}
		}
		out = append(out, res)
	}
	var expired *awsx.ExpiredCredentialsError
	if errors.As(context.Cause(ctx), &expired) {
		return out, expired
	}
	return out, errors.Join(errs...)
}

// expired turns expired credentials into the error that says how to
// refresh them; other errors pass.
func (rn *Runner) expired(err error) error {
	return awsx.CredentialsExpired(err, rn.Env.Cfg.Profile)
}

// stageError names the stage in a stage's error (a StageError does
// already). Expired credentials, met by this stage or by another one that
// stopped the run (ctx's cause), become the one error that says what to do.
func (rn *Runner) stageError(ctx context.Context, s *Stage, err error) error {
	if cause := context.Cause(ctx); ctx.Err() != nil && awsx.IsCredentialsExpired(cause) {
		err = cause
	}
	var expired *awsx.ExpiredCredentialsError
	var se *StageError
	switch {
	case errors.As(rn.expired(err), &expired):
		return expired
	case errors.As(err, &se):
		return err
	}
	return fmt.Errorf("stage %s: %w", s.Name, err)
}

// Step runs one stage, refusing when a stage it needs has not completed.
func (rn *Runner) Step(ctx context.Context, nameOrNumber string) (StageResult, error) {
	s, err := rn.Stages.Lookup(nameOrNumber)
	if err != nil {
		return StageResult{}, err
	}
	for _, need := range s.Needs {
		if st := rn.Env.State.Stage(need); st.Status != state.StatusComplete {
			n, _ := rn.Stages.Lookup(need)
			return StageResult{}, fmt.Errorf("stage %s needs stage %d %s, which has not completed (status: %s): run `myappctl step %s` first, or `myappctl up --to %s`",
				s.Name, n.Number, need, st.Status, need, s.Name)
		}
	}
	ctx = rn.cachedReads(ctx)
	defer rn.warm(ctx, Registry{s})()
	res := rn.apply(awsx.ReadScope(ctx), &Run{Env: rn.Env, Stage: s})
	if err := rn.Env.rememberAccount(); err != nil && res.Err == nil {
		res.Err = err
	}
	return res, res.Err
}

// apply runs one stage as r says (r.DryRun: only record changes) and, unless
// dry, records the stage's status.
func (rn *Runner) apply(ctx context.Context, r *Run) StageResult {
	s, dryRun := r.Stage, r.DryRun
	start := time.Now()
	res := StageResult{Stage: s.Name}
	if !s.Implemented() {
		res.Err = &ErrNotImplemented{Stage: s.Name}
		return res
	}
	if !dryRun {
		if r.earlyStart.IsZero() {
			r.wasComplete = rn.Env.State.Stage(s.Name).Status == state.StatusComplete
		}
		if err := rn.Env.State.SetStatus(s.Name, state.StatusInProgress, nil); err != nil {
			res.Err = err
			return res
		}
		if r.earlyStart.IsZero() {
			ctx = r.started(ctx, "converging: %s", s.Title)
		} else { // started already: the rest of its work
			start = r.earlyStart
			ctx = r.observed(ctx)
			r.Logf("converging: %s", s.Title)
		}
	}
	err := s.Apply(ctx, r)
	res.Changes, res.Duration = r.Changes(), time.Since(start).Round(time.Millisecond)
	if err != nil {
		err = rn.stageError(ctx, s, err)
		res.Err = err
	}
	if dryRun {
		return res
	}
	status := state.StatusComplete
	if err != nil {
		status = state.StatusFailed
	}
	if serr := rn.Env.State.SetStatus(s.Name, status, err); serr != nil && res.Err == nil {
		res.Err = serr
	}
	r.finished(len(res.Changes), res.Duration, res.Err, "done: %d change(s) in %s", len(res.Changes), res.Duration)
	return res
}

// early runs a stage's Early part (up only): status in progress, errors
// wrapped as Apply's are.
func (rn *Runner) early(ctx context.Context, r *Run) error {
	r.wasComplete = rn.Env.State.Stage(r.Stage.Name).Status == state.StatusComplete
	if err := rn.Env.State.SetStatus(r.Stage.Name, state.StatusInProgress, nil); err != nil {
		return err
	}
	r.earlyStart = time.Now()
	ctx = r.started(ctx, "starting early: %s", r.Stage.Title)
	if err := r.Stage.Early(ctx, r); err != nil {
		return rn.stageError(ctx, r.Stage, err)
	}
	return nil
}

// fail records a stage that failed before Apply (its Early part).
func (rn *Runner) fail(r *Run, err error) StageResult {
	res := StageResult{Stage: r.Stage.Name, Changes: r.Changes(), Err: err}
	if serr := rn.Env.State.SetStatus(r.Stage.Name, state.StatusFailed, err); serr != nil {
		res.Err = errors.Join(err, serr)
	}
	r.finished(len(res.Changes), time.Since(r.earlyStart).Round(time.Millisecond), res.Err, "")
	return res
}

// Plan reports what up would change, without changing anything (the state
// file included): the same find/diff code runs with DryRun set, stages in
// up's order (independent ones side by side), each reading what the stages
// before it would write. A stage that fails to plan skips those that need it.
func (rn *Runner) Plan(ctx context.Context) ([]StageResult, error) {
	ctx = rn.cachedReads(ctx)
	defer rn.warm(ctx, rn.Stages)()
	return rn.runGraph(ctx, rn.Stages, &plannedOutputs{m: map[string]string{}})
}

// ResourceStatus is one resource as status shows it.
type ResourceStatus struct {
	Key  string `json:"key"`
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Live string `json:"live"` // exists, missing, unknown (error)
}

// StageStatus is one stage as status shows it.
type StageStatus struct {
	Number      int               `json:"number"`
	Name        string            `json:"name"`
	Status      string            `json:"status"`
	Implemented bool              `json:"implemented"`
	UpdatedAt   time.Time         `json:"updatedAt,omitzero"`
	Error       string            `json:"error,omitempty"`
	Outputs     map[string]string `json:"outputs,omitempty"`
	Secrets     map[string]string `json:"secrets,omitempty"` // masked unless asked
	Resources   []ResourceStatus  `json:"resources,omitempty"`
	Facts       []Fact            `json:"facts,omitempty"`
	// Drift lists what up would change in a completed stage (settings
	// changed or resources deleted by hand).
	Drift      []Change `json:"drift,omitempty"`
	DriftError string   `json:"driftError,omitempty"`
}

// Status reports every stage from the state file plus live checks. The
// checks read only (each stage's drift is a dry run against the state
// file's outputs), so all of them run side by side; expired credentials
// stop them all and are the one error returned.
func (rn *Runner) Status(ctx context.Context, showSecrets bool) ([]StageStatus, error) {
	ctx, stop := context.WithCancelCause(rn.cachedReads(ctx))
	defer stop(nil)
	var failed sync.Once
	var expired error
	check := func(f func() error) func() {
		return func() {
			if err := f(); err != nil {
				failed.Do(func() { expired = err })
				stop(err)
			}
		}
	}
	out := make([]StageStatus, len(rn.Stages))
	var wg sync.WaitGroup
	for i, s := range rn.Stages {
		st := rn.Env.State.Stage(s.Name)
		ss := &out[i]
		*ss = StageStatus{Number: s.Number, Name: s.Name, Status: st.Status, Implemented: s.Implemented(),
			UpdatedAt: st.UpdatedAt, Error: st.Error, Outputs: st.Outputs}
		if len(st.Secrets) > 0 {
			ss.Secrets = map[string]string{}
			for k, v := range st.Secrets {
				if !showSecrets {
					v = "********"
				}
				ss.Secrets[k] = v
			}
		}
		if len(st.Resources) > 0 {
			ss.Resources = make([]ResourceStatus, len(st.Resources))
		}
		for j, res := range st.Resources {
			wg.Go(check(func() (err error) { ss.Resources[j], err = rn.liveResource(ctx, res); return err }))
		}
		if st.Status == state.StatusComplete && s.Implemented() {
			stageCtx := awsx.ReadScope(ctx)
			wg.Go(check(func() error { return rn.stageDrift(stageCtx, s, ss) }))
			if s.Live != nil {
				wg.Go(check(func() error { return rn.liveFacts(stageCtx, s, ss) }))
			}
		}
	}
	wg.Wait()
	return out, expired
}

// stageDrift adds drift (a dry run of the stage) to a completed stage's
// status. Only expired credentials are an error.
func (rn *Runner) stageDrift(ctx context.Context, s *Stage, ss *StageStatus) error {
	// Quiet: the stage's informational lines are noise in status.
	res := rn.apply(ctx, &Run{Env: rn.Env, Stage: s, DryRun: true, quiet: true, planned: &plannedOutputs{m: map[string]string{}}})
	ss.Drift = res.Changes
	if awsx.IsCredentialsExpired(res.Err) {
		return res.Err
	}
	if res.Err != nil {
		ss.DriftError = res.Err.Error()
	}
	return nil
}

// liveFacts adds a completed stage's live facts (health, capacity, URLs).
// Only expired credentials are an error.
func (rn *Runner) liveFacts(ctx context.Context, s *Stage, ss *StageStatus) error {
	facts, err := s.Live(ctx, &Run{Env: rn.Env, Stage: s, DryRun: true, quiet: true, planned: &plannedOutputs{m: map[string]string{}}})
	if awsx.IsCredentialsExpired(err) {
		return rn.expired(err)
	}
	if err != nil {
		facts = append(facts, Fact{Name: "error", Value: err.Error()})
	}
	ss.Facts = facts
	return nil
}

// liveResource checks that a resource exists; only expired credentials
// are an error.
func (rn *Runner) liveResource(ctx context.Context, res state.Resource) (ResourceStatus, error) {
	rs := ResourceStatus{Key: res.Key, Type: res.Type, ID: res.ID, Name: res.Name, Live: "unknown"}
	k, ok := kinds[res.Type]
	if !ok {
		return rs, nil
	}
	found, err := k.exists(ctx, rn.Env, res.ID)
	switch {
	case awsx.IsCredentialsExpired(err):
		return rs, rn.expired(err)
	case err != nil:
		rs.Live = "unknown: " + err.Error()
	case found:
		rs.Live = "exists"
	default:
		rs.Live = "missing"
	}
	return rs, nil
}

// cachedReads is ctx whose AWS reads go through the clients' read cache
// (awsx.ReadCache: shared by every stage of this command, never by waits),
// when the clients have one (in-process fakes have none).
func (rn *Runner) cachedReads(ctx context.Context) context.Context {
	if rn.Env.AWS == nil || rn.Env.AWS.Reads == nil {
		return ctx
	}
	return awsx.CachedReads(ctx, rn.Env.Cfg.Stack)
}

// warm looks up every resource the state file records for the stages, side
// by side, so the stages find the answers (and the stack sets those lookups
// load) ready instead of asking one after the other. It returns a function
// that waits for the lookups to end. Only clients with a read cache are
// warmed: without one, the lookups would be asked twice.
func (rn *Runner) warm(ctx context.Context, stages Registry) (wait func()) {
	var wg sync.WaitGroup
	if rn.Env.AWS == nil || rn.Env.AWS.Reads == nil {
		return wg.Wait
	}
	for _, s := range stages {
		for _, res := range rn.Env.State.Stage(s.Name).Resources {
			if k, ok := kinds[res.Type]; ok && !isPlanned(res.ID) {
				wg.Go(func() { _, _ = k.exists(ctx, rn.Env, res.ID) })
			}
		}
	}
	return wg.Wait
}
