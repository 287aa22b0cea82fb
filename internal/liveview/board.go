// Package liveview is the live terminal view of up, step and destroy: one
// line per stage that updates in place (pending, running, waiting on what
// and for how long, done with its changes and duration, failed with a short
// reason), the progress lines scrolling above it, and a summary table at
// the end. It is an awsx.Observer; the drawing (cursor movement, width,
// colour) is Bubble Tea's and Lip Gloss's.
//
// A Board holds the state built from the events and renders frames; it is
// plain data, so tests feed it events and read its frames at any width
// with an injected clock. View runs a Board in a Bubble Tea program.
package liveview

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/steps"
)

// Stage is one line of the view.
type Stage struct {
	Number int
	Name   string
}

// StagesOf lists a registry's stages in the order given.
func StagesOf(reg steps.Registry) []Stage {
	out := make([]Stage, len(reg))
	for i, s := range reg {
		out[i] = Stage{Number: s.Number, Name: s.Name}
	}
	return out
}

// Options describe one command's view.
type Options struct {
	Command string // up, step, destroy: the title
	Stack   string
	Region  string
	Stages  []Stage // in the order they are shown (destroy: reversed)
	// Destroy counts deletions instead of changes.
	Destroy bool
	// Now is the clock (tests inject one); time.Now when nil.
	Now func() time.Time
}

type phase int

const (
	pending phase = iota
	running
	done
	failed
	skipped
	interrupted
)

// wait is one wait a stage is in.
type wait struct {
	what, status string
	since        time.Time
}

// stageLine is what the board knows about one stage.
type stageLine struct {
	Stage
	phase   phase
	start   time.Time
	took    time.Duration
	changes int
	reason  string
	waits   []wait
	// last is the stage's latest progress line, lastAt when it came.
	last   string
	lastAt time.Time
}

// Board is the state of the view, built from a run's events.
type Board struct {
	opts        Options
	now         func() time.Time
	start, end  time.Time
	lines       []*stageLine
	interrupted bool
}

// NewBoard returns a board with every stage pending.
func NewBoard(o Options) *Board {
	b := &Board{opts: o, now: o.Now}
	if b.now == nil {
		b.now = time.Now
	}
	b.start = b.now()
	for _, s := range o.Stages {
		b.lines = append(b.lines, &stageLine{Stage: s})
	}
	return b
}

func (b *Board) line(stage string) *stageLine {
	for _, l := range b.lines {
		if l.Name == stage {
			return l
		}
	}
	return nil
}

// Apply updates the board with one event and returns the lines to print
// above the stage lines (progress lines and changes).
func (b *Board) Apply(ev awsx.Event) []string {
	l := b.line(ev.Stage)
	if l == nil {
		// A line from outside any stage the view shows.
		if ev.Line != "" && (ev.Kind == awsx.EventLog || ev.Kind == awsx.EventChange) {
			return []string{styleLine(ev)}
		}
		return nil
	}
	now := b.now()
	switch ev.Kind {
	case awsx.EventStarted:
		l.phase, l.start = running, now
	case awsx.EventLog, awsx.EventChange:
		if ev.Kind == awsx.EventChange {
			l.changes++
		}
		l.last, l.lastAt = strings.TrimPrefix(ev.Line, "["+l.Name+"] "), now
		return []string{styleLine(ev)}
	case awsx.EventWaiting:
		i := slices.IndexFunc(l.waits, func(w wait) bool { return w.what == ev.What })
		if i < 0 {
			l.waits = append(l.waits, wait{what: ev.What, since: ev.Since})
			i = len(l.waits) - 1
		}
		l.waits[i].status = ev.Status
	case awsx.EventWaitDone:
		l.waits = slices.DeleteFunc(l.waits, func(w wait) bool { return w.what == ev.What })
	case awsx.EventDone:
		l.phase, l.took, l.changes, l.waits = done, ev.Duration, ev.Changes, nil
	case awsx.EventFailed:
		l.phase, l.took, l.changes, l.waits = failed, ev.Duration, ev.Changes, nil
		if b.interrupted || errors.Is(ev.Err, context.Canceled) {
			l.phase = interrupted
		}
		l.reason = shortReason(l.Name, ev.Err)
	case awsx.EventSkipped:
		if !b.interrupted {
			// After Ctrl-C a stage is skipped only because the run stopped.
			l.phase, l.reason = skipped, shortReason(l.Name, ev.Err)
		}
	}
	return nil
}

// Interrupt records that the run was interrupted (Ctrl-C): running stages
// are stopping.
func (b *Board) Interrupt() { b.interrupted = true }

// Finish records that the run ended; the summary's total time is the run's.
func (b *Board) Finish() {
	if b.end.IsZero() {
		b.end = b.now()
	}
}

// shortReason is the gist of a stage's error for its one line: the action,
// the resource and the AWS error code and message, or the error's first
// line without the stage's own prefix.
func shortReason(stage string, err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	var se *steps.StageError
	if errors.As(err, &se) {
		what := se.Action + " " + se.Resource + ": "
		if code := awsx.ErrorCode(se.Err); code != "" {
			var api interface{ ErrorMessage() string }
			if errors.As(se.Err, &api) && api.ErrorMessage() != "" {
				return what + code + ": " + api.ErrorMessage()
			}
			return what + code
		}
		return what + firstLine(se.Err.Error())
	}
	s := firstLine(err.Error())
	s = strings.TrimPrefix(s, "stage "+stage+": ")
	return strings.TrimPrefix(s, "stage "+stage+" skipped: ")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
