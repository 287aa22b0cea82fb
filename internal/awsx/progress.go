package awsx

import (
	"context"
	"time"
)

// EventKind says what an Event reports.
type EventKind int

// The events of a run: the runner reports a stage's start, lines, changes
// and end; Poll and WaitWithProgress report its waits.
const (
	EventStarted  EventKind = iota + 1 // a stage began
	EventLog                           // a progress line
	EventChange                        // a create, modify or delete (Line is the change)
	EventWaiting                       // a wait began, its status changed, or it is still going
	EventWaitDone                      // a wait ended (Err when it failed)
	EventDone                          // a stage finished: Changes, Duration
	EventFailed                        // a stage failed: Err, Changes, Duration
	EventSkipped                       // a stage did not run because one it needs failed: Err
)

// Event is one thing a run reports to an Observer.
type Event struct {
	Kind  EventKind
	Stage string
	// Line is the progress line the plain output prints for the event
	// (without its time), or "" when the plain output prints nothing.
	Line string
	// What is waited on, Status the last status seen, Since when the wait
	// began (EventWaiting, EventWaitDone).
	What, Status string
	Since        time.Time
	// Changes and Duration of a finished stage; Err of a failed or skipped
	// stage or wait.
	Changes  int
	Duration time.Duration
	Err      error
}

// Observer is told what a run does. A live terminal view is one; without
// one, runs print plain progress lines. Implementations must be safe for
// concurrent use.
type Observer interface {
	Observe(Event)
}

type observerKey struct{}

// WithObserver returns a context whose waits (Poll, WaitWithProgress) report
// to o instead of printing progress lines through their WaitSpec.Log: each
// event's Line is the line they would have printed.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

func observerFrom(ctx context.Context) Observer {
	o, _ := ctx.Value(observerKey{}).(Observer)
	return o
}
