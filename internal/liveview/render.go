package liveview

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/myappctl/myappctl/internal/awsx"
)

// styles colour the view. Colours are written in full; the terminal's
// colour profile (Ascii under NO_COLOR or --no-color) drops what it cannot
// show when the frame is drawn.
var (
	dim   = lipgloss.NewStyle().Faint(true)
	bold  = lipgloss.NewStyle().Bold(true)
	green = lipgloss.NewStyle().Foreground(lipgloss.Green)
	red   = lipgloss.NewStyle().Foreground(lipgloss.Red)
	amber = lipgloss.NewStyle().Foreground(lipgloss.Yellow)
	cyan  = lipgloss.NewStyle().Foreground(lipgloss.Cyan)
)

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// styleLine colours a line printed above the stage lines: the stage prefix
// faint, a change's action in the colour of what it does.
func styleLine(ev awsx.Event) string {
	line, prefix := ev.Line, ""
	if ev.Stage != "" && strings.HasPrefix(line, "["+ev.Stage+"] ") {
		prefix, line = dim.Render("["+ev.Stage+"]")+" ", strings.TrimPrefix(line, "["+ev.Stage+"] ")
	}
	if ev.Kind == awsx.EventChange {
		if sym, rest, ok := strings.Cut(line, " "); ok {
			action, rest, _ := strings.Cut(rest, " ")
			style := map[string]lipgloss.Style{"+": green, "~": amber, "-": red}[sym]
			line = style.Render(sym+" "+action) + " " + rest
		}
	}
	return prefix + line
}

// Render is the live part of the view at a terminal width (0: no limit):
// a header and one line per stage, each cut to the width. frame turns
// the spinner.
func (b *Board) Render(width, frame int) string {
	now := b.now()
	lines := []string{fit(b.header(now), width)}
	nameWidth := b.nameWidth()
	for _, l := range b.lines {
		lines = append(lines, fit(b.stageText(l, now, frame, nameWidth), width))
	}
	// A rule as wide as the widest line sets the view apart from the lines
	// printed above it.
	rule := 0
	for _, l := range lines {
		rule = max(rule, ansi.StringWidth(l))
	}
	return dim.Render(strings.Repeat("─", rule)) + "\n" + strings.Join(lines, "\n")
}

func (b *Board) header(now time.Time) string {
	title := bold.Render("myappctl "+b.opts.Command) + dim.Render(" · stack "+b.opts.Stack+" · "+b.opts.Region)
	finished := 0
	for _, l := range b.lines {
		if l.phase != pending && l.phase != running {
			finished++
		}
	}
	progress := fmt.Sprintf("%d/%d stages · %s", finished, len(b.lines), clock(now.Sub(b.start)))
	if b.interrupted {
		progress = amber.Render("interrupted: stopping") + dim.Render(" · "+progress)
	} else {
		progress = dim.Render(progress)
	}
	return title + "  " + progress
}

func (b *Board) nameWidth() int {
	w := 0
	for _, l := range b.lines {
		w = max(w, len(fmt.Sprintf("%d %s", l.Number, l.Name)))
	}
	return w
}

func (b *Board) stageText(l *stageLine, now time.Time, frame, nameWidth int) string {
	icon, state := b.state(l, now)
	switch icon {
	case "":
		icon = spinner[frame%len(spinner)]
		if len(l.waits) > 0 {
			icon = amber.Render(icon)
		} else {
			icon = cyan.Render(icon)
		}
	}
	return icon + " " + fmt.Sprintf("%-*s", nameWidth, fmt.Sprintf("%d %s", l.Number, l.Name)) + "  " + state
}

// state is a stage's icon ("" for the spinner) and what it is doing.
func (b *Board) state(l *stageLine, now time.Time) (icon, text string) {
	sep := dim.Render(" · ")
	switch l.phase {
	case pending:
		return dim.Render("·"), dim.Render("pending")
	case done:
		return green.Render("✓"), green.Render("done") + " " + seconds(l.took) + sep + b.changes(l.changes)
	case failed:
		return red.Render("✗"), red.Render("failed") + " " + seconds(l.took) + sep + l.reason
	case skipped:
		return amber.Render("-"), amber.Render("skipped") + sep + l.reason
	case interrupted:
		return amber.Render("!"), amber.Render("interrupted") + " after " + seconds(l.took)
	}
	if b.interrupted {
		return "", amber.Render("stopping") + " " + clock(now.Sub(l.start))
	}
	if len(l.waits) == 0 {
		text = cyan.Render("running") + " " + clock(now.Sub(l.start))
		if l.last != "" {
			text += sep + dim.Render(l.last)
		}
		return "", text
	}
	w := l.waits[0]
	detail := w.what
	switch {
	case w.status != "":
		detail += ": " + w.status
	case !l.lastAt.Before(w.since):
		// An SDK waiter has no status; the stage's latest line is the
		// freshest news (e.g. "DB instance database-1: creating").
		detail = l.last
	}
	if len(l.waits) > 1 {
		detail += dim.Render(fmt.Sprintf(" (+%d more)", len(l.waits)-1))
	}
	return "", amber.Render("waiting") + " " + clock(now.Sub(w.since)) + sep + detail
}

func (b *Board) changes(n int) string {
	switch {
	case b.opts.Destroy && n == 0:
		return "nothing to delete"
	case b.opts.Destroy:
		return fmt.Sprintf("deleted %d", n)
	case n == 0:
		return "no changes"
	case n == 1:
		return "1 change"
	}
	return fmt.Sprintf("%d changes", n)
}

// Summary is the table shown once the run is over: each stage's result,
// changes (or deletions) and duration, then the totals. Lines are cut to
// the width (0: no limit).
func (b *Board) Summary(width int) string {
	nameWidth := max(b.nameWidth(), len("total"))
	count := "CHANGES"
	if b.opts.Destroy {
		count = "DELETED"
	}
	row := func(icon, name, n, took, result string) string {
		return fit(fmt.Sprintf("%s %-*s  %7s  %7s  %s", icon, nameWidth, name, n, took, result), width)
	}
	lines := []string{bold.Render(row(" ", "STAGE", count, "TIME", "RESULT"))}
	total, tally := 0, map[phase]int{}
	for _, l := range b.lines {
		icon, _ := b.state(l, b.end)
		result, n, took := "", "-", "-"
		switch l.phase {
		case pending:
			result = dim.Render("not run")
		case running:
			icon, result = amber.Render("!"), amber.Render("unfinished")
		case done:
			result, n, took = green.Render("done"), fmt.Sprint(l.changes), seconds(l.took)
		case failed:
			result, n, took = red.Render("failed: ")+l.reason, fmt.Sprint(l.changes), seconds(l.took)
		case skipped:
			result = amber.Render("skipped: ") + l.reason
		case interrupted:
			result, n, took = amber.Render("interrupted"), fmt.Sprint(l.changes), seconds(l.took)
		}
		total += l.changes
		tally[l.phase]++
		lines = append(lines, row(icon, fmt.Sprintf("%d %s", l.Number, l.Name), n, took, result))
	}
	var outcome []string
	for _, p := range []struct {
		phase phase
		word  string
	}{{done, "done"}, {failed, "failed"}, {interrupted, "interrupted"}, {skipped, "skipped"}, {pending, "not run"}} {
		if n := tally[p.phase]; n > 0 {
			outcome = append(outcome, fmt.Sprintf("%d %s", n, p.word))
		}
	}
	lines = append(lines, bold.Render(row(" ", "total", fmt.Sprint(total), clock(b.end.Sub(b.start)), strings.Join(outcome, ", "))))
	return strings.Join(lines, "\n")
}

// fit cuts a line to the width, with an ellipsis.
func fit(s string, width int) string {
	if width <= 0 || ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// wrap breaks a printed line at spaces to the width (0: no limit), so the
// terminal never wraps it; continuation lines are indented. Ids such as
// subnet-0abc are not broken at their hyphen.
func wrap(s string, width int) string {
	const indent, hyphen, keep = "    ", "-", "\u2011"
	if width <= len(indent)+10 || ansi.StringWidth(s) <= width {
		return s
	}
	s = ansi.Wrap(strings.ReplaceAll(s, hyphen, keep), width-len(indent), "")
	return strings.ReplaceAll(strings.ReplaceAll(s, "\n", "\n"+indent), keep, hyphen)
}

// clock is a running time in whole seconds: 12s, 3m12s, 1h02m.
func clock(d time.Duration) string {
	d = max(d, 0).Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// seconds is a finished duration: 0.4s, 12.3s, then as clock.
func seconds(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return clock(d)
}
