package liveview

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/steps"
)

// fakeClock is the injected time of a board.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func newTestBoard(destroy bool) (*Board, *fakeClock) {
	c := &fakeClock{t: t0}
	stages := StagesOf(steps.Stages())
	if destroy {
		for i, j := 0, len(stages)-1; i < j; i, j = i+1, j-1 {
			stages[i], stages[j] = stages[j], stages[i]
		}
	}
	return NewBoard(Options{Command: "up", Stack: "myapp", Region: "us-east-1", Stages: stages, Destroy: destroy, Now: c.now}), c
}

// midUp feeds the events of an up three minutes in: vpc and security
// done, the frontend AMI and the database being waited on, backend
// running.
func midUp(b *Board, c *fakeClock) (above []string) {
	apply := func(evs ...awsx.Event) {
		for _, ev := range evs {
			above = append(above, b.Apply(ev)...)
		}
	}
	apply(awsx.Event{Kind: awsx.EventStarted, Stage: "vpc", Line: "[vpc] converging: network"},
		awsx.Event{Kind: awsx.EventChange, Stage: "vpc", Line: "[vpc] + create ec2:vpc MyApp-VPC"})
	c.advance(2100 * time.Millisecond)
	apply(awsx.Event{Kind: awsx.EventDone, Stage: "vpc", Changes: 11, Duration: 2100 * time.Millisecond, Line: "[vpc] done: 11 change(s) in 2.1s"},
		awsx.Event{Kind: awsx.EventStarted, Stage: "security"})
	c.advance(3 * time.Second)
	apply(awsx.Event{Kind: awsx.EventDone, Stage: "security", Changes: 9, Duration: 3 * time.Second},
		awsx.Event{Kind: awsx.EventStarted, Stage: "frontend-lb"},
		awsx.Event{Kind: awsx.EventStarted, Stage: "backend"},
		awsx.Event{Kind: awsx.EventStarted, Stage: "rds"},
		awsx.Event{Kind: awsx.EventWaiting, Stage: "rds", What: "DB instance database-1 to become available", Since: c.t},
		awsx.Event{Kind: awsx.EventLog, Stage: "rds", Line: "[rds] DB instance database-1: creating"},
		awsx.Event{Kind: awsx.EventChange, Stage: "backend", Line: "[backend] + create ec2:instance backend-1"},
		awsx.Event{Kind: awsx.EventLog, Stage: "backend", Line: "[backend] installing myapp-backend on backend-1"})
	c.advance(67 * time.Second)
	apply(awsx.Event{Kind: awsx.EventWaiting, Stage: "frontend-lb", What: "image frontend-AMI (ami-0f1e) to become available", Status: "pending", Since: c.t})
	c.advance(125 * time.Second)
	return above
}

// plainLines are a frame's lines without colours and without the rule
// that separates the stage lines from the lines printed above them.
func plainLines(frame string) []string {
	lines := strings.Split(ansi.Strip(frame), "\n")
	if strings.HasPrefix(lines[0], "──") {
		return lines[1:]
	}
	return lines
}

func TestFrameMidUp(t *testing.T) {
	b, c := newTestBoard(false)
	above := midUp(b, c)
	// A stage's start and end show on its line, not above.
	wantAbove := []string{"[vpc] + create ec2:vpc MyApp-VPC", "[rds] DB instance database-1: creating", "[backend] + create ec2:instance backend-1", "[backend] installing myapp-backend on backend-1"}
	if got := ansi.Strip(strings.Join(above, "\n")); got != strings.Join(wantAbove, "\n") {
		t.Errorf("printed above:\n%s", got)
	}
	if !strings.Contains(above[0], green.Render("+ create")) || !strings.Contains(above[0], dim.Render("[vpc]")) {
		t.Errorf("a change is not coloured: %q", above[0])
	}
	golden := map[int]string{
		200: `myappctl up · stack myapp · us-east-1  2/9 stages · 3m17s
✓ 1 vpc          done 2.1s · 11 changes
✓ 2 security     done 3.0s · 9 changes
⠹ 3 frontend-lb  waiting 2m05s · image frontend-AMI (ami-0f1e) to become available: pending
⠹ 4 backend      running 3m12s · installing myapp-backend on backend-1
⠹ 5 rds          waiting 3m12s · DB instance database-1: creating
· 6 backend-lb   pending
· 7 link         pending
· 8 autoscaling  pending
· 9 s3-sync      pending`,
		60: `myappctl up · stack myapp · us-east-1  2/9 stages · 3m17s
✓ 1 vpc          done 2.1s · 11 changes
✓ 2 security     done 3.0s · 9 changes
⠹ 3 frontend-lb  waiting 2m05s · image frontend-AMI (ami-0f…
⠹ 4 backend      running 3m12s · installing myapp-backend o…
⠹ 5 rds          waiting 3m12s · DB instance database-1: cr…
· 6 backend-lb   pending
· 7 link         pending
· 8 autoscaling  pending
· 9 s3-sync      pending`,
	}
	for width, want := range golden {
		rule := 0
		for _, l := range strings.Split(want, "\n") {
			rule = max(rule, ansi.StringWidth(l))
		}
		if got := ansi.Strip(b.Render(width, 2)); got != strings.Repeat("─", rule)+"\n"+want {
			t.Errorf("frame at %d columns:\n%s\nwant:\n%s", width, got, want)
		}
	}
	for width := 60; width <= 200; width += 7 {
		lines := strings.Split(ansi.Strip(b.Render(width, 0)), "\n")
		if w := ansi.StringWidth(lines[0]); w > width {
			t.Errorf("the rule is %d columns wide at %d", w, width)
		}
		lines = lines[1:]
		if len(lines) != 10 {
			t.Fatalf("%d lines at %d columns", len(lines), width)
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > width {
				t.Errorf("line %d is %d columns wide at %d: %q", i, w, width, l)
			}
		}
		if !strings.HasPrefix(lines[5], "⠋ 5 rds          waiting 3m12s · DB ") {
			t.Errorf("rds at %d columns: %q", width, lines[5])
		}
	}
	// The wait's time moves on with the fakeClock; the spinner with the frame.
	c.advance(48 * time.Second)
	if got := plainLines(b.Render(120, 3))[5]; got != "⠸ 5 rds          waiting 4m00s · DB instance database-1: creating" {
		t.Errorf("a minute later: %q", got)
	}
	// The wait ends; the stage runs on and then is done.
	b.Apply(awsx.Event{Kind: awsx.EventWaitDone, Stage: "rds", What: "DB instance database-1 to become available"})
	if got := plainLines(b.Render(120, 3))[5]; got != "⠸ 5 rds          running 4m00s · DB instance database-1: creating" {
		t.Errorf("after the wait: %q", got)
	}
	b.Apply(awsx.Event{Kind: awsx.EventDone, Stage: "rds", Changes: 2, Duration: 4*time.Minute + 300*time.Millisecond})
	if got := plainLines(b.Render(120, 3))[5]; got != "✓ 5 rds          done 4m00s · 2 changes" {
		t.Errorf("done: %q", got)
	}
}

func TestFrameFailureAndSummary(t *testing.T) {
	b, c := newTestBoard(false)
	b.Apply(awsx.Event{Kind: awsx.EventStarted, Stage: "vpc"})
	c.advance(time.Second)
	b.Apply(awsx.Event{Kind: awsx.EventDone, Stage: "vpc", Duration: 400 * time.Millisecond})
	b.Apply(awsx.Event{Kind: awsx.EventStarted, Stage: "security"})
	c.advance(time.Second)
	denied := &steps.StageError{Stage: "security", Action: "create", Resource: "ec2:security-group MyFront-End-Load-Balancer",
		Err: fmt.Errorf("operation error EC2: CreateSecurityGroup, https response error StatusCode: 403, RequestID: 1, api error: %w",
			&smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."})}
	b.Apply(awsx.Event{Kind: awsx.EventFailed, Stage: "security", Duration: 800 * time.Millisecond, Err: denied})
	for _, s := range []string{"frontend-lb", "backend", "rds", "backend-lb", "link", "autoscaling", "s3-sync"} {
		b.Apply(awsx.Event{Kind: awsx.EventSkipped, Stage: s, Err: fmt.Errorf("stage %s skipped: it needs [security], which did not complete", s)})
	}
	frame := plainLines(b.Render(200, 0))
	for i, want := range map[int]string{
		1: "✓ 1 vpc          done 0.4s · no changes",
		2: "✗ 2 security     failed 0.8s · create ec2:security-group MyFront-End-Load-Balancer: UnauthorizedOperation: You are not authorized to perform this operation.",
		3: "- 3 frontend-lb  skipped · it needs [security], which did not complete",
	} {
		if frame[i] != want {
			t.Errorf("line %d = %q\nwant %q", i, frame[i], want)
		}
	}
	if !strings.HasSuffix(frame[0], "9/9 stages · 2s") {
		t.Errorf("header %q", frame[0])
	}
	c.advance(time.Second)
	b.Finish()
	want := `  STAGE          CHANGES     TIME  RESULT
✓ 1 vpc                0     0.4s  done
✗ 2 security           0     0.8s  failed: create ec2:security-group MyFront-End-Load-Balancer: UnauthorizedOperation: You are not authorized to perform this operation.
- 3 frontend-lb        -        -  skipped: it needs [security], which did not complete
- 4 backend            -        -  skipped: it needs [security], which did not complete
- 5 rds                -        -  skipped: it needs [security], which did not complete
- 6 backend-lb         -        -  skipped: it needs [security], which did not complete
- 7 link               -        -  skipped: it needs [security], which did not complete
- 8 autoscaling        -        -  skipped: it needs [security], which did not complete
- 9 s3-sync            -        -  skipped: it needs [security], which did not complete
  total                0       3s  1 done, 1 failed, 7 skipped`
	if got := ansi.Strip(b.Summary(0)); got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}
	for width := 60; width <= 200; width += 10 {
		for _, l := range plainLines(b.Summary(width)) {
			if ansi.StringWidth(l) > width {
				t.Errorf("summary line wider than %d: %q", width, l)
			}
		}
	}
	if got := plainLines(b.Summary(60))[2]; got != "✗ 2 security           0     0.8s  failed: create ec2:secur…" {
		t.Errorf("summary at 60 columns: %q", got)
	}
}

func TestFrameInterrupt(t *testing.T) {
	b, c := newTestBoard(false)
	midUp(b, c)
	b.Interrupt()
	frame := plainLines(b.Render(100, 0))
	if !strings.Contains(frame[0], "interrupted: stopping") || frame[5] != "⠋ 5 rds          stopping 3m12s" {
		t.Errorf("interrupted frame:\n%s", strings.Join(frame, "\n"))
	}
	for _, s := range []string{"frontend-lb", "backend", "rds"} {
		b.Apply(awsx.Event{Kind: awsx.EventFailed, Stage: s, Duration: 3 * time.Minute,
			Err: fmt.Errorf("stage %s: waiting for it: %w", s, context.Canceled)})
	}
	b.Finish()
	summary := plainLines(b.Summary(100))
	if summary[5] != "! 5 rds                0    3m00s  interrupted" || summary[6] != "· 6 backend-lb         -        -  not run" ||
		summary[10] != "  total               20    3m17s  2 done, 3 interrupted, 4 not run" {
		t.Errorf("summary after Ctrl-C:\n%s", strings.Join(summary, "\n"))
	}
}

func TestFrameDestroyCountsDeletions(t *testing.T) {
	b, c := newTestBoard(true)
	b.Apply(awsx.Event{Kind: awsx.EventStarted, Stage: "s3-sync"})
	b.Apply(awsx.Event{Kind: awsx.EventLog, Stage: "s3-sync", Line: "[s3-sync] deleted s3:bucket carrousel-myapp-123456789012"})
	c.advance(time.Second)
	b.Apply(awsx.Event{Kind: awsx.EventDone, Stage: "s3-sync", Changes: 4, Duration: time.Second})
	b.Apply(awsx.Event{Kind: awsx.EventStarted, Stage: "autoscaling"})
	b.Apply(awsx.Event{Kind: awsx.EventDone, Stage: "autoscaling"})
	frame := plainLines(b.Render(80, 0))
	if frame[1] != "✓ 9 s3-sync      done 1.0s · deleted 4" || frame[2] != "✓ 8 autoscaling  done 0.0s · nothing to delete" || frame[9] != "· 1 vpc          pending" {
		t.Errorf("destroy frame:\n%s", strings.Join(frame, "\n"))
	}
	if !strings.Contains(b.Summary(0), "DELETED") {
		t.Error("the destroy summary does not count deletions")
	}
}

// colourSGR matches a select-graphic-rendition sequence that sets a colour.
var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m`)

func TestNoColourProfileDropsColours(t *testing.T) {
	b, c := newTestBoard(false)
	midUp(b, c)
	frame := b.Render(120, 0)
	if !colourSGR.MatchString(frame) {
		t.Fatal("the frame has no colours to drop")
	}
	var out bytes.Buffer
	fmt := &colorprofile.Writer{Forward: &out, Profile: colorprofile.ASCII}
	if _, err := fmt.Write([]byte(frame + "\n" + b.Summary(120))); err != nil {
		t.Fatal(err)
	}
	if m := colourSGR.FindString(out.String()); m != "" {
		t.Errorf("colour escape %q left with the Ascii profile", m)
	}
	if ansi.Strip(out.String()) != ansi.Strip(frame+"\n"+b.Summary(120)) {
		t.Error("dropping colours changed the text")
	}
}

func TestWrapKeepsPrintedLinesWithinTheWidth(t *testing.T) {
	long := "[security] ~ modify ec2:security-group MyFront-End (ingress: +tcp 80 from sg-0123456789abcdef0, -tcp 22 from 0.0.0.0/0)"
	for width := 60; width <= 200; width += 20 {
		got := wrap(long, width)
		for _, l := range strings.Split(got, "\n") {
			if ansi.StringWidth(l) > width {
				t.Errorf("%d columns: %q", width, l)
			}
		}
		if strings.Join(strings.Fields(got), " ") != long {
			t.Errorf("%d columns: words lost: %q", width, got)
		}
	}
}
