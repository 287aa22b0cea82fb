package app

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/myappctl/myappctl/internal/liveview"
	"github.com/myappctl/myappctl/internal/steps"
)

// liveRun is one command's live view: while it runs, the session's
// progress events go to the view instead of the plain lines.
type liveRun struct {
	view    *liveview.View
	stop    func() bool
	restore func()
}

// watch starts the live view of a command over stages when the session
// has a terminal (nil otherwise: plain lines).
func (s *Session) watch(ctx context.Context, command string, stages steps.Registry, destroy bool) *liveRun {
	if s.live == nil {
		return nil
	}
	v := liveview.New(liveview.Options{Command: command, Stack: s.Cfg.Stack, Region: s.Cfg.Region,
		Stages: liveview.StagesOf(stages), Destroy: destroy}, *s.live)
	env := s.Runner.Env
	log, obs := env.Log, env.Observer
	env.Log, env.Observer = v.Logf, v
	return &liveRun{view: v, stop: context.AfterFunc(ctx, v.Interrupt), restore: func() { env.Log, env.Observer = log, obs }}
}

// end closes the view and, if it showed anything, writes the summary table
// to out; it reports whether it did (then the plain results are not
// printed). A nil liveRun did nothing.
func (l *liveRun) end(out io.Writer) bool {
	if l == nil {
		return false
	}
	l.stop()
	drawn, err := l.view.Close()
	l.restore()
	if !drawn {
		return false
	}
	if err != nil {
		fmt.Fprintf(out, "(the live view failed: %v)\n", err)
	}
	if err := l.view.WriteSummary(out); err != nil {
		fmt.Fprintf(out, "(could not write the summary: %v)\n", err)
	}
	return true
}

// result is the command's error once the view ended: after Ctrl-C the
// summary shows where each stage stopped, so the error only says the run
// was interrupted.
func (l *liveRun) result(ctx context.Context, command string, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%s interrupted: %w", command, ctx.Err())
	}
	return err
}

// upStages are the stages up runs (those --to needs), in order.
func upStages(reg steps.Registry, to string) steps.Registry {
	if to == "" {
		return reg
	}
	target, err := reg.Lookup(to)
	if err != nil {
		return nil
	}
	return reg.Closure(target)
}

// reversed is the order destroy visits stages in.
func reversed(reg steps.Registry) steps.Registry {
	out := slices.Clone(reg)
	slices.Reverse(out)
	return out
}
