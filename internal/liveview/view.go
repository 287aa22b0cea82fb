package liveview

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Terminal is where a View draws and what it listens to.
type Terminal struct {
	// Out is the terminal the view draws on (stderr).
	Out *os.File
	// Keys is stdin when it is a terminal, else nil. The view then reads
	// keys (so typing cannot garble it); Ctrl-C calls Interrupt, since in
	// that mode the terminal no longer turns it into SIGINT.
	Keys      *os.File
	Interrupt func()
	// NoColor draws without colour (NO_COLOR, --no-color).
	NoColor bool
}

// View draws a Board on a terminal while a run goes on. It is an
// awsx.Observer; its Logf takes the lines of code that runs outside any
// stage. It starts drawing at the first event, so a command that stops
// before any stage starts leaves the terminal untouched.
type View struct {
	board   *Board
	term    Terminal
	profile colorprofile.Profile

	mu      sync.Mutex
	prog    *tea.Program
	exited  chan struct{}
	closed  bool
	lastErr error
}

// New returns a view of one command over the terminal.
func New(o Options, t Terminal) *View {
	p := colorprofile.Detect(t.Out, os.Environ())
	if t.NoColor && p > colorprofile.ASCII {
		p = colorprofile.ASCII
	}
	return &View{board: NewBoard(o), term: t, profile: p}
}

// Observe implements awsx.Observer.
func (v *View) Observe(ev awsx.Event) {
	if p := v.program(); p != nil {
		p.Send(eventMsg(ev))
	}
}

// Logf prints a line above the stage lines.
func (v *View) Logf(format string, args ...any) {
	v.Observe(awsx.Event{Kind: awsx.EventLog, Line: fmt.Sprintf(format, args...)})
}

// Interrupt shows that the run was interrupted and is stopping.
func (v *View) Interrupt() {
	v.mu.Lock()
	p := v.prog
	v.mu.Unlock()
	if p != nil {
		p.Send(interruptMsg{})
	}
}

// Close ends the view: the stage lines are cleared, every line printed
// above stays, and the terminal is as it was (cursor shown, keys echoed).
// It reports whether the view had drawn anything.
func (v *View) Close() (drawn bool, err error) {
	v.mu.Lock()
	p, closed := v.prog, v.closed
	v.closed = true
	v.mu.Unlock()
	if p == nil || closed {
		return p != nil, nil
	}
	p.Send(finishMsg{})
	<-v.exited
	return true, v.lastErr
}

// WriteSummary writes the summary table to w (the terminal's stdout) at
// the terminal's width, with the view's colour profile.
func (v *View) WriteSummary(w io.Writer) error {
	width, _, err := term.GetSize(v.term.Out.Fd())
	if err != nil {
		width = 0
	}
	_, err = fmt.Fprintf(&colorprofile.Writer{Forward: w, Profile: v.profile}, "\n%s\n\n", v.board.Summary(width))
	return err
}

// program starts the Bubble Tea program at the first event.
func (v *View) program() *tea.Program {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.prog != nil || v.closed {
		return v.prog
	}
	opts := []tea.ProgramOption{
		tea.WithOutput(v.term.Out), tea.WithColorProfile(v.profile), tea.WithFPS(30),
		// The command's own signal handling turns Ctrl-C into a canceled
		// run; the view only shows it.
		tea.WithoutSignalHandler(),
	}
	if v.term.Keys != nil {
		opts = append(opts, tea.WithInput(v.term.Keys))
	} else {
		opts = append(opts, tea.WithInput(nil))
	}
	v.prog = tea.NewProgram(&model{board: v.board, interrupt: v.term.Interrupt, profile: v.profile}, opts...)
	v.exited = make(chan struct{})
	go func() {
		defer close(v.exited)
		_, err := v.prog.Run()
		v.lastErr = err
	}()
	return v.prog
}

type (
	eventMsg     awsx.Event
	interruptMsg struct{}
	finishMsg    struct{}
	tickMsg      struct{}
	printedMsg   struct{}
)

// model is the Bubble Tea model over a board. Lines to print above the
// view are printed one batch at a time, in order: Bubble Tea runs each
// command in its own goroutine.
type model struct {
	board     *Board
	interrupt func()
	profile   colorprofile.Profile // lines printed above bypass the renderer's
	width     int
	frame     int
	pending   []string
	printing  bool
	finishing bool
}

const tickEvery = 120 * time.Millisecond

func tick() tea.Msg {
	time.Sleep(tickEvery)
	return tickMsg{}
}

func (m *model) Init() tea.Cmd { return tick }

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width = msg.Width
	case eventMsg:
		m.pending = append(m.pending, m.board.Apply(awsx.Event(msg))...)
		return m, m.print()
	case tickMsg:
		m.frame++
		return m, tick
	case interruptMsg:
		m.board.Interrupt()
	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" && m.interrupt != nil {
			m.interrupt()
		}
	case printedMsg:
		m.printing = false
		return m, m.print()
	case finishMsg:
		m.board.Finish()
		m.finishing = true
		return m, m.print()
	}
	return m, nil
}

// print prints the pending lines, or quits once everything is printed and
// the run is over.
func (m *model) print() tea.Cmd {
	switch {
	case m.printing:
		return nil
	case len(m.pending) > 0:
		lines := m.pending
		m.pending, m.printing = nil, true
		for i := range lines {
			lines[i] = wrap(lines[i], m.width)
		}
		var text strings.Builder
		_, _ = (&colorprofile.Writer{Forward: &text, Profile: m.profile}).Write([]byte(strings.Join(lines, "\n")))
		return tea.Sequence(tea.Println(text.String()), func() tea.Msg { return printedMsg{} })
	case m.finishing:
		return tea.Quit
	}
	return nil
}

func (m *model) View() tea.View {
	if m.finishing && !m.printing && len(m.pending) == 0 {
		return tea.NewView("")
	}
	return tea.NewView(m.board.Render(m.width, m.frame))
}
