package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Progress of a run goes through report: with an Observer in the Env (the
// live terminal view) every event goes to it; without one, the event's
// plain line goes to Env.Log exactly as it always has.

// report sends one event of this run's stage to the Env's Observer, or
// prints format and args as a progress line (none when format is empty).
func (r *Run) report(ev awsx.Event, format string, args ...any) {
	if r.quiet {
		return
	}
	if r.Observer == nil {
		if format != "" && r.Log != nil {
			r.Log("["+r.Stage.Name+"] "+format, args...)
		}
		return
	}
	if format != "" {
		ev.Line = fmt.Sprintf(format, args...)
	}
	stageObserver{r.Stage.Name, r.Observer}.Observe(ev)
}

// started reports that the stage begins (with a progress line when format
// is set) and returns the context its work runs in, whose waits report to
// the Observer as this stage's.
func (r *Run) started(ctx context.Context, format string, args ...any) context.Context {
	r.report(awsx.Event{Kind: awsx.EventStarted}, format, args...)
	return r.observed(ctx)
}

// observed is ctx with this stage's Observer for the waits in it.
func (r *Run) observed(ctx context.Context) context.Context {
	if r.Observer == nil || r.quiet {
		return ctx
	}
	return awsx.WithObserver(ctx, stageObserver{r.Stage.Name, r.Observer})
}

// finished reports how the stage ended; a successful converge prints its
// "done" line.
func (r *Run) finished(changes int, took time.Duration, err error, doneFormat string, args ...any) {
	if err != nil {
		r.report(awsx.Event{Kind: awsx.EventFailed, Changes: changes, Duration: took, Err: err}, "")
		return
	}
	r.report(awsx.Event{Kind: awsx.EventDone, Changes: changes, Duration: took}, doneFormat, args...)
}

// skipped reports a stage that did not run because a stage it needs failed.
func (r *Run) skipped(err error) {
	r.report(awsx.Event{Kind: awsx.EventSkipped, Err: err}, "")
}

// stageObserver stamps its stage on events (those of waits, which do not
// know their stage, included) and prefixes their line as Logf does.
type stageObserver struct {
	stage string
	obs   awsx.Observer
}

func (o stageObserver) Observe(ev awsx.Event) {
	ev.Stage = o.stage
	if ev.Line != "" {
		ev.Line = "[" + o.stage + "] " + ev.Line
	}
	o.obs.Observe(ev)
}
