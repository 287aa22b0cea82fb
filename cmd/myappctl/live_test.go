package main

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws/wire"
	"github.com/myappctl/myappctl/internal/state"
)

// TestMain lets the tests run the real myappctl (this test binary, with
// runMainEnv set) as a child process: on a pseudo-terminal, in a pipe, with
// its real signal handling, or to be killed with SIGKILL mid-run.
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const runMainEnv = "MYAPPCTL_TEST_RUN_MAIN"

// childRun is myappctl run as a child process against a wire server.
type childRun struct {
	t     *testing.T
	url   string
	env   []string
	state string
	cloud *fakeaws.Cloud
}

func newChildRun(t *testing.T) *childRun {
	t.Helper()
	cloud := newServingCloud()
	srv := httptest.NewServer(wire.NewServer(cloud))
	t.Cleanup(srv.Close)
	env := []string{runMainEnv + "=1", "TERM=xterm-256color"}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "MYAPP") && !strings.HasPrefix(k, "AWS_") && k != "NO_COLOR" && k != "TERM" {
			env = append(env, kv)
		}
	}
	for k, v := range emulatorEnv(t) {
		env = append(env, k+"="+v)
	}
	return &childRun{t: t, url: srv.URL, env: env, state: filepath.Join(t.TempDir(), "myapp.json"), cloud: cloud}
}

func (c *childRun) command(extraEnv []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"--endpoint-url", c.url, "--state", c.state}, args...)...)
	cmd.Env = append(append([]string(nil), c.env...), extraEnv...)
	return cmd
}

// screen is a terminal the child draws on: a pseudo-terminal whose output
// a terminal emulator (charmbracelet/x/vt) interprets, answering its
// queries as a real terminal would.
type screen struct {
	t    *testing.T
	ptmx *os.File
	tty  *os.File
	emu  *vt.SafeEmulator
	raw  *lockedBuffer
	cmd  *exec.Cmd
	done chan error
}

func (c *childRun) onTerminal(cols, rows int, extraEnv []string, args ...string) *screen {
	c.t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)}); err != nil {
		c.t.Fatal(err)
	}
	cmd := c.command(extraEnv, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	s := &screen{t: c.t, ptmx: ptmx, tty: tty, emu: vt.NewSafeEmulator(cols, rows), raw: &lockedBuffer{}, cmd: cmd, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.MultiWriter(s.emu, s.raw), ptmx) }()
	go func() { _, _ = io.Copy(ptmx, s.emu) }() // the terminal's answers to queries
	go func() { s.done <- cmd.Wait() }()
	c.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		ptmx.Close()
		tty.Close()
	})
	return s
}

// waitFor waits until the screen shows every pattern.
func (s *screen) waitFor(patterns ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		text := s.emu.String()
		missing := ""
		for _, p := range patterns {
			if !regexp.MustCompile(p).MatchString(text) {
				missing = p
				break
			}
		}
		if missing == "" {
			return text
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen never showed %q:\n%s", missing, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exit waits for the child and the last of its output.
func (s *screen) exit() int {
	s.t.Helper()
	select {
	case err := <-s.done:
		time.Sleep(100 * time.Millisecond) // the last output
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			s.t.Fatal(err)
		}
		return 0
	case <-time.After(20 * time.Second):
		s.t.Fatalf("myappctl did not end:\n%s", s.emu.String())
	}
	return -1
}

// text is everything the child wrote, without escape codes.
func (s *screen) text() string {
	return strings.ReplaceAll(ansi.Strip(s.raw.String()), "\r\n", "\n")
}

// assertClean checks the terminal is as a shell wants it back: cursor
// shown, keys echoed and read by line, no stage lines left in place.
func (s *screen) assertClean() {
	s.t.Helper()
	if s.emu.CursorHidden() {
		s.t.Error("the cursor is still hidden")
	}
	tio, err := unix.IoctlGetTermios(int(s.tty.Fd()), unix.TCGETS)
	if err != nil {
		s.t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 || tio.Lflag&unix.ICANON == 0 || tio.Lflag&unix.ISIG == 0 {
		s.t.Errorf("the terminal is left in raw mode (lflag %#x)", tio.Lflag)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// colourSGR matches an escape sequence that sets a colour.
var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9;]*)?m`)

// TestLiveViewOnATerminal runs up on a pseudo-terminal: the stage lines
// update in place (a wait shows what it waits on), Ctrl-C (the key, then
// SIGINT) leaves a clean terminal, a summary and a usable state file, and
// a last up resumes and ends with the summary table and the URLs.
func TestLiveViewOnATerminal(t *testing.T) {
	c := newChildRun(t)
	// The database stays "creating" until the last run.
	c.cloud.RDS.CreatingDescribes = 1 << 30

	s := c.onTerminal(100, 40, nil, "up")
	mid := s.waitFor(`(?m)^✓ 1 vpc +done \d+\.\ds · \d+ changes$`, `(?m)^✓ 9 s3-sync +done `,
		`(?m)^. 5 rds +waiting \d+s · DB instance database-1: creating$`, `myappctl up · stack myapp · us-east-1 +\d/9 stages`, `(?m)^· 7 link +pending$`)
	if !s.emu.CursorHidden() {
		t.Error("the cursor is shown while the view runs")
	}
	if !strings.Contains(s.text(), "[vpc] + create ec2:vpc MyApp-VPC") {
		t.Errorf("the changes do not scroll above the stage lines:\n%s", s.text())
	}
	if strings.Contains(mid, "converging:") || regexp.MustCompile(`\d\d:\d\d:\d\d \[`).MatchString(mid) {
		t.Errorf("plain progress lines on the terminal:\n%s", mid)
	}
	if _, err := s.ptmx.Write([]byte{3}); err != nil { // Ctrl-C, read as a key by the view
		t.Fatal(err)
	}
	if code := s.exit(); code != 130 {
		t.Errorf("exit code %d after Ctrl-C", code)
	}
	end := s.waitFor(`(?m)^! 5 rds +\d+ +\d+\.\ds  interrupted$`, `(?m)^  total +\d+ +\d+s  .*interrupted`,
		`error: up interrupted: context canceled`, "interrupted: the state file is saved; run the same command again to resume")
	if strings.Contains(end, "⠋") || regexp.MustCompile(`(?m)^. \d \S+ +(running|waiting|stopping) `).MatchString(end) {
		t.Errorf("stage lines left on the screen:\n%s", end)
	}
	s.assertClean()
	st, err := state.Load(c.state, "myapp", "us-east-1")
	if err != nil {
		t.Fatalf("state file after Ctrl-C: %v", err)
	}
	if got := st.Stage("rds").Status; got != state.StatusFailed {
		t.Errorf("rds is %q after Ctrl-C", got)
	}
	if _, err := os.Stat(c.state + ".lock"); !os.IsNotExist(err) {
		t.Errorf("lock left after Ctrl-C: %v", err)
	}

	// SIGINT (as from kill, or a terminal that sends it) does the same.
	s = c.onTerminal(100, 40, nil, "up")
	s.waitFor(`(?m)^. 5 rds +waiting \d+s · DB instance database-1`)
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := s.exit(); code != 130 {
		t.Errorf("exit code %d after SIGINT", code)
	}
	s.waitFor(`(?m)^! 5 rds +\d+ +\d+\.\ds  interrupted$`, "interrupted: the state file is saved")
	s.assertClean()

	// Resumed on a narrow terminal, up ends with the summary and the URLs.
	c.cloud.RDS.CreatingDescribes = 2
	c.cloud.RDS.ForgetDBInstance("database-1")
	s = c.onTerminal(60, 40, nil, "up")
	if code := s.exit(); code != 0 {
		t.Fatalf("resumed up exited %d:\n%s", code, s.emu.String())
	}
	end = s.waitFor(`(?m)^  STAGE +CHANGES +TIME  RESULT$`, `(?m)^✓ 5 rds +\d+ +\d+\.\ds  done$`, `(?m)^  total +\d+ +\d+s  9 done$`)
	s.assertClean()
	// The URLs are printed whole (the terminal wraps them at 60 columns).
	if !regexp.MustCompile(`(?m)^  total .*\n\napp: http://frontend-lb-\S+\.elb\.amazonaws\.com\nAPI: http://backend-lb-\S+:8090\n`).MatchString(s.text()) {
		t.Errorf("up does not end with the summary and the URLs:\n%s", s.text())
	}
	for _, l := range strings.Split(end, "\n") {
		if strings.HasPrefix(l, "[") && strings.Contains(l, "…") {
			t.Errorf("a printed line was cut instead of wrapped: %q", l)
		}
	}
	if !colourSGR.MatchString(s.raw.String()) {
		t.Error("no colours on a terminal")
	}
}

// TestNoColour: NO_COLOR (any value) and --no-color draw the view without
// a colour escape code.
func TestNoColour(t *testing.T) {
	c := newChildRun(t)
	for _, run := range []struct {
		env  []string
		args []string
	}{{[]string{"NO_COLOR=1"}, []string{"step", "vpc"}}, {[]string{"NO_COLOR=yes"}, []string{"destroy", "--yes"}}, {nil, []string{"--no-color", "step", "vpc"}}} {
		s := c.onTerminal(80, 30, run.env, run.args...)
		if code := s.exit(); code != 0 {
			t.Fatalf("%v %v: exit %d:\n%s", run.env, run.args, code, s.emu.String())
		}
		s.waitFor(`(?m)^  STAGE +(CHANGES|DELETED) `)
		if m := colourSGR.FindString(s.raw.String()); m != "" {
			t.Errorf("%v %v: colour escape %q", run.env, run.args, m)
		}
		s.assertClean()
	}
}

// plainLine is a progress line as the plain output prints it.
var plainLine = regexp.MustCompile(`^\d\d:\d\d:\d\d (\[[a-z0-9-]+\] )?\S`)

// TestPlainLinesWhenNotOnATerminal: in a pipe, and on a terminal with
// --output json, progress is today's timestamped lines, with no escape
// code at all.
func TestPlainLinesWhenNotOnATerminal(t *testing.T) {
	c := newChildRun(t)
	cmd := c.command(nil, "up")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("up in a pipe: %v\n%s", err, stderr.String())
	}
	assertPlain(t, "up in a pipe", stderr.String())
	if !strings.Contains(stderr.String(), "[vpc] converging: ") || !regexp.MustCompile(`(?m)^vpc +changed \d+:$`).MatchString(stdout.String()) ||
		!strings.Contains(stdout.String(), "app: http://") || strings.Contains(stdout.String(), "\x1b") {
		t.Errorf("up in a pipe:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}

	s := c.onTerminal(100, 40, nil, "destroy", "--yes", "--output", "json")
	if code := s.exit(); code != 0 {
		t.Fatalf("destroy --output json: exit %d:\n%s", code, s.emu.String())
	}
	if strings.Contains(s.raw.String(), "\x1b") {
		t.Errorf("escape codes with --output json: %q", s.raw.String())
	}
	var progress []string
	for _, l := range strings.Split(strings.ReplaceAll(s.raw.String(), "\r\n", "\n"), "\n") {
		if plainLine.MatchString(l) {
			progress = append(progress, l)
		}
	}
	if len(progress) == 0 || !strings.Contains(s.raw.String(), `"deleted": [`) {
		t.Errorf("destroy --output json on a terminal:\n%s", s.raw.String())
	}
}

func assertPlain(t *testing.T, what, out string) {
	t.Helper()
	if strings.Contains(out, "\x1b") {
		t.Errorf("%s: escape codes in the progress lines", what)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !plainLine.MatchString(l) {
			t.Errorf("%s: not a plain progress line: %q", what, l)
		}
	}
}
