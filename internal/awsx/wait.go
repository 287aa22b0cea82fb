package awsx

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Logf prints one progress line (to stderr, in the CLI).
type Logf func(format string, args ...any)

// WaitSpec describes one wait.
type WaitSpec struct {
	What     string        // "VPC vpc-123 to become available"
	Interval time.Duration // poll interval
	Timeout  time.Duration
	Log      Logf
	// Hint says how to look at the resource when the wait times out.
	Hint string
	// ProgressEvery is how often an unchanged status is repeated; 0 means 15s.
	ProgressEvery time.Duration
}

// ErrWaitTimeout is wrapped by every timed-out wait.
var ErrWaitTimeout = errors.New("timed out")

// CheckFunc reports whether a wait is over and the status it saw.
type CheckFunc func(ctx context.Context) (done bool, status string, err error)

// Poll calls check every Interval until it reports done, fails, or the
// timeout passes. It prints a progress line when the status changes and
// every ProgressEvery otherwise, with the time waited so far (or reports
// them to the context's Observer, see WithObserver). Every read of check
// asks AWS (never the read cache), and once Poll returns, reads of its
// ReadScope no longer take answers from before.
func Poll(ctx context.Context, spec WaitSpec, check CheckFunc) (err error) {
	start := time.Now()
	defer waited(ctx)
	ctx, cancel := context.WithTimeout(Uncached(ctx), spec.Timeout)
	defer cancel()
	every := spec.ProgressEvery
	if every == 0 {
		every = 15 * time.Second
	}
	lastStatus, lastPrint := "", time.Time{}
	defer func() {
		if err != nil && !lastPrint.IsZero() {
			spec.report(ctx, Event{Kind: EventWaitDone, Status: lastStatus, Since: start, Err: err}, "")
		}
	}()
	ticker := time.NewTicker(spec.Interval)
	defer ticker.Stop()
	for {
		done, status, err := check(ctx)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("waiting for %s: %w", spec.What, err)
		}
		if done {
			if !lastPrint.IsZero() {
				spec.report(ctx, Event{Kind: EventWaitDone, Status: lastStatus, Since: start}, "done waiting for %s (%s)", spec.What, since(start))
			}
			return nil
		}
		changed := status != "" && status != lastStatus
		if status != "" {
			lastStatus = status
		}
		if changed || lastPrint.IsZero() || time.Since(lastPrint) >= every {
			spec.report(ctx, Event{Kind: EventWaiting, Status: lastStatus, Since: start}, "waiting for %s: %s (%s)", spec.What, orDash(lastStatus), since(start))
			lastPrint = time.Now()
		}
		select {
		case <-ctx.Done():
			return spec.timeoutError(ctx, start, lastStatus)
		case <-ticker.C:
		}
	}
}

// PollUnlessDone is Poll, unless one check whose reads may be answered
// from the run's read cache already says done: what this run has read
// shows there is nothing to wait for (a converged stack). Otherwise it
// polls, every check asking AWS from the first. Without CachedReads there
// is nothing read to look at: it polls.
func PollUnlessDone(ctx context.Context, spec WaitSpec, check CheckFunc) error {
	if scopeOf(ctx) != nil {
		if done, _, err := check(ctx); err == nil && done {
			return nil
		}
	}
	return Poll(ctx, spec, check)
}

// WaitWithProgress runs an SDK waiter (which blocks) and prints a progress
// line every ProgressEvery meanwhile, so long waits are never silent (or
// reports the wait to the context's Observer, see WithObserver). The
// waiter's reads ask AWS, never the read cache, as Poll's do.
func WaitWithProgress(ctx context.Context, spec WaitSpec, wait func(ctx context.Context, maxWait time.Duration) error) (err error) {
	start := time.Now()
	defer waited(ctx)
	every := spec.ProgressEvery
	if every == 0 {
		every = 15 * time.Second
	}
	spec.report(ctx, Event{Kind: EventWaiting, Since: start}, "")
	defer func() { spec.report(ctx, Event{Kind: EventWaitDone, Since: start, Err: err}, "") }()
	done := make(chan error, 1)
	go func() { done <- wait(Uncached(ctx), spec.Timeout) }()
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case err := <-done:
			if err != nil && ctx.Err() == nil && time.Since(start) >= spec.Timeout-spec.Interval {
				return spec.timeoutError(ctx, start, err.Error())
			}
			if err != nil {
				return fmt.Errorf("waiting for %s: %w", spec.What, err)
			}
			return nil
		case <-ticker.C:
			spec.report(ctx, Event{Kind: EventWaiting, Since: start}, "still waiting for %s (%s)", spec.What, since(start))
		}
	}
}

func (s WaitSpec) timeoutError(parent context.Context, start time.Time, last string) error {
	if cause := context.Cause(parent); cause != nil && !errors.Is(cause, context.DeadlineExceeded) {
		// cancelled (Ctrl-C), or stopped for a reason such as expired credentials
		return fmt.Errorf("waiting for %s: %w", s.What, cause)
	}
	hint := ""
	if s.Hint != "" {
		hint = "; " + s.Hint
	}
	return fmt.Errorf("waiting for %s: %w after %s (last status: %s)%s", s.What, ErrWaitTimeout, since(start), orDash(last), hint)
}

// report tells the context's Observer about the wait (with the progress
// line, if any, in the event) or, without one, prints the line through Log.
func (s WaitSpec) report(ctx context.Context, ev Event, format string, args ...any) {
	if o := observerFrom(ctx); o != nil {
		ev.What = s.What
		if format != "" {
			ev.Line = fmt.Sprintf(format, args...)
		}
		o.Observe(ev)
		return
	}
	if format != "" && s.Log != nil {
		s.Log(format, args...)
	}
}

func since(t time.Time) string { return time.Since(t).Round(time.Second).String() }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
