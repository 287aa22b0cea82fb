package steps

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

// eventLog is an Observer that keeps every event, and the lines that still
// reach Env.Log (those of code that runs outside a Run).
type eventLog struct {
	mu     sync.Mutex
	events []awsx.Event
	lines  []string
}

func (l *eventLog) Observe(ev awsx.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *eventLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *eventLog) take() []awsx.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

func observe(cb *computeBed) *eventLog {
	l := &eventLog{}
	cb.runner.Env.Observer, cb.runner.Env.Log = l, l.logf
	return l
}

func ofKind(evs []awsx.Event, k awsx.EventKind) []awsx.Event {
	var out []awsx.Event
	for _, ev := range evs {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

func stagesOf(evs []awsx.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Stage)
	}
	return out
}

// assertWaitsPaired checks that every wait reported as begun is reported
// as ended, by the same stage, after it began.
func assertWaitsPaired(t *testing.T, evs []awsx.Event) {
	t.Helper()
	open := map[string]bool{}
	for _, ev := range evs {
		key := ev.Stage + "|" + ev.What
		switch ev.Kind {
		case awsx.EventWaiting:
			if ev.Stage == "" || ev.What == "" || ev.Since.IsZero() {
				t.Errorf("wait without stage, what or start: %+v", ev)
			}
			open[key] = true
		case awsx.EventWaitDone:
			if !open[key] {
				t.Errorf("wait ended that did not begin: %+v", ev)
			}
			delete(open, key)
		}
	}
	for k := range open {
		t.Errorf("wait never ended: %s", k)
	}
}

// TestRunReportsEventsToTheObserver runs up and destroy over the nine
// stages with an Observer: each stage reports its start, changes, waits
// (those of the wait helpers, attributed to the stage) and end, and no
// progress line is printed besides.
func TestRunReportsEventsToTheObserver(t *testing.T) {
	cb := newComputeBedWith(t, true)
	cb.writeBinary("bootstrap", []byte("ELF bootstrap v1"))
	cb.stages = 9
	cb.reload()
	l := observe(cb)

	results := cb.up("")
	evs := l.take()
	started, done := ofKind(evs, awsx.EventStarted), ofKind(evs, awsx.EventDone)
	if got, want := sortedStrings(stagesOf(started)), sortedStrings(cb.runner.Stages.Names()); !slices.Equal(got, want) {
		t.Errorf("started %v, want each of %v once", got, want)
	}
	for _, res := range results {
		i := slices.IndexFunc(evs, func(ev awsx.Event) bool { return ev.Kind == awsx.EventDone && ev.Stage == res.Stage })
		if i < 0 {
			t.Errorf("stage %s: no done event", res.Stage)
			continue
		}
		if evs[i].Changes != len(res.Changes) || evs[i].Duration != res.Duration || !strings.HasPrefix(evs[i].Line, "["+res.Stage+"] done: ") {
			t.Errorf("stage %s done = %+v, result %d changes in %s", res.Stage, evs[i], len(res.Changes), res.Duration)
		}
		if j := slices.IndexFunc(evs, func(ev awsx.Event) bool { return ev.Kind == awsx.EventStarted && ev.Stage == res.Stage }); j > i {
			t.Errorf("stage %s ended before it started", res.Stage)
		}
	}
	if len(done) != len(results) {
		t.Errorf("%d done events for %d stages", len(done), len(results))
	}
	changes := ofKind(evs, awsx.EventChange)
	total := 0
	for _, res := range results {
		total += len(res.Changes)
	}
	if len(changes) != total || total == 0 {
		t.Errorf("%d change events, %d changes", len(changes), total)
	}
	for _, c := range changes {
		if !strings.HasPrefix(c.Line, "["+c.Stage+"] + create ") && !strings.HasPrefix(c.Line, "["+c.Stage+"] ~ modify ") &&
			!strings.HasPrefix(c.Line, "["+c.Stage+"] - delete ") {
			t.Errorf("change line %q", c.Line)
		}
	}
	assertWaitsPaired(t, evs)
	waited := map[string]bool{}
	for _, w := range ofKind(evs, awsx.EventWaiting) {
		waited[w.Stage] = true
		if w.Stage == "rds" && !strings.Contains(w.What, "DB instance database-1") {
			t.Errorf("rds waited on %q", w.What)
		}
	}
	for _, stage := range []string{"frontend-lb", "rds", "backend-lb"} {
		if !waited[stage] {
			t.Errorf("stage %s reported no wait (waits: %v)", stage, waited)
		}
	}
	if len(l.lines) != 0 {
		t.Errorf("progress lines printed besides the events: %q", l.lines)
	}

	rep := cb.destroy()
	evs = l.take()
	reversed := slices.Clone(cb.runner.Stages.Names())
	slices.Reverse(reversed)
	if got := stagesOf(ofKind(evs, awsx.EventStarted)); !slices.Equal(got, reversed) {
		t.Errorf("destroy started %v, want %v", got, reversed)
	}
	deleted := 0
	for _, ev := range ofKind(evs, awsx.EventDone) {
		deleted += ev.Changes
	}
	if deleted != len(rep.Deleted) || len(ofKind(evs, awsx.EventDone)) != len(reversed) {
		t.Errorf("destroy: done events count %d deletions, report %d", deleted, len(rep.Deleted))
	}
	assertWaitsPaired(t, evs)
	if ws := ofKind(evs, awsx.EventWaiting); len(ws) == 0 {
		t.Error("destroy reported no wait (load balancers, groups, the database)")
	}
	// Only code outside a Run still logs through Env.Log (the database's
	// deletion notice); the waits all went to the Observer.
	waitLine := regexp.MustCompile(`waiting for .*\(\d[\dhms.]*\)$`)
	for _, line := range l.lines {
		if waitLine.MatchString(line) {
			t.Errorf("destroy printed a wait's progress line: %q", line)
		}
	}
	cb.assertNothingLeft()
}

// TestRunReportsFailedAndSkippedStages: a stage that fails reports why,
// and the stages that need it report that they were skipped.
func TestRunReportsFailedAndSkippedStages(t *testing.T) {
	cb := newComputeBed(t)
	l := observe(cb)
	cb.cloud.Inject("CreateSecurityGroup", fakeaws.Fault{Err: fakeaws.APIError("UnauthorizedOperation", "You are not authorized to perform this operation.")})
	if _, err := cb.runner.Up(bg, UpOptions{}); err == nil {
		t.Fatal("up succeeded")
	}
	evs := l.take()
	failed := ofKind(evs, awsx.EventFailed)
	if len(failed) != 1 || failed[0].Stage != "security" || !strings.Contains(failed[0].Err.Error(), "UnauthorizedOperation") || failed[0].Line != "" {
		t.Errorf("failed events: %+v", failed)
	}
	if got := sortedStrings(stagesOf(ofKind(evs, awsx.EventSkipped))); !slices.Equal(got, []string{"backend", "backend-lb", "frontend-lb", "rds"}) {
		t.Errorf("skipped %v", got)
	}
	if got := stagesOf(ofKind(evs, awsx.EventDone)); !slices.Equal(got, []string{"vpc"}) {
		t.Errorf("done %v", got)
	}
}

// TestPlainProgressLinesWithoutObserver: without an Observer the stage's
// lines reach Env.Log as they always have, with the stage prefix.
func TestPlainProgressLinesWithoutObserver(t *testing.T) {
	tb := newTestbed(t)
	var lines []string
	tb.runner.Env.Log = func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }
	res := tb.step("vpc")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "[vpc] converging: ") || !strings.HasPrefix(lines[1], "[vpc] + create ec2:vpc MyApp-VPC") ||
		lines[len(lines)-1] != fmt.Sprintf("[vpc] done: %d change(s) in %s", len(res.Changes), res.Duration) {
		t.Errorf("lines:\n%s", strings.Join(lines, "\n"))
	}
}
