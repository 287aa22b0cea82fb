package main

import (
	"context"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/myappctl/myappctl/internal/app"
	"github.com/myappctl/myappctl/internal/config"
	"github.com/myappctl/myappctl/internal/liveview"
)

// deps are what commands need from the outside world; tests replace them.
type deps struct {
	clients     app.ClientFactory
	stdin       io.Reader
	interactive bool
	// interrupt does what Ctrl-C does when the live view reads the keys
	// (the terminal then sends no SIGINT itself).
	interrupt func()
}

func defaultDeps() deps {
	return deps{clients: app.AWSClients, stdin: os.Stdin, interactive: isTerminal(os.Stdin), interrupt: func() {
		_ = unix.Kill(os.Getpid(), unix.SIGINT)
	}}
}

// isTerminal reports whether f is a terminal (not merely a character device
// such as /dev/null): a termios query only succeeds on a tty.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// globals are the flags every command has.
type globals struct {
	configFile string
	output     string
	verbose    bool
	noColor    bool
}

func newRootCmd(d deps) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "myappctl",
		Short: "Stand up, inspect and tear down the two-tier todo app on AWS",
		Long: `myappctl builds the whole two-tier todo app on AWS in nine ordered, idempotent stages:
  1 vpc  2 security  3 frontend-lb  4 backend  5 rds  6 backend-lb  7 link  8 autoscaling  9 s3-sync
Configuration comes from a YAML file (--config, default configs/myapp.yaml if present),
MYAPP_* environment variables (MYAPP_REGION, MYAPP_VPC_CIDR, ...) and flags; flags win.`,
		Example: `  myappctl plan                      # what up would do
  myappctl up                        # build or repair everything
  myappctl status --output json      # state plus live checks
  myappctl destroy --yes             # remove everything the stack created
  myappctl state init s3://my-team-state/myapp.json   # share the state with a team`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.configFile, "config", "", "configuration file (default "+config.DefaultFile+" if present)")
	pf.String("state", "", "state file, or s3://BUCKET/KEY for a state shared in S3 (default .myappctl/<stack>.json)")
	pf.String("stack", config.DefaultStack, "stack name: resource name prefix and tag value")
	pf.String("region", "", "AWS region (default us-east-1)")
	pf.String("profile", "", "AWS shared-config profile")
	pf.String("endpoint-url", "", "send every AWS call to this endpoint (an emulator such as LocalStack)")
	pf.StringVarP(&g.output, "output", "o", app.OutputTable, "output format: table or json")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "print more progress detail (as plain lines, also on a terminal)")
	pf.BoolVar(&g.noColor, "no-color", false, "no colours on a terminal (as does a non-empty NO_COLOR)")

	root.AddCommand(newUpCmd(g, d), newStepCmd(g, d), newPlanCmd(g, d), newStatusCmd(g, d), newDestroyCmd(g, d),
		newUnlockCmd(g, d), newStateCmd(g, d))
	return root
}

// withSession opens the session (taking the state lock when asked), runs
// fn, and always releases the lock.
func withSession(cmd *cobra.Command, g *globals, d deps, lock bool, fn func(*app.Session) error) error {
	s, err := open(cmd.Context(), cmd, g, d, lock)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// open loads and validates the configuration, then opens the session.
func open(ctx context.Context, cmd *cobra.Command, g *globals, d deps, lock bool) (*app.Session, error) {
	if err := app.CheckOutput(g.output); err != nil {
		return nil, err
	}
	cfg, err := config.Load(config.LoadOptions{File: g.configFile, Flags: cmd.Flags()})
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, &cfg, app.OpenOptions{Command: cmd.CommandPath(), Lock: lock, Clients: d.clients, Log: cmd.ErrOrStderr(), Verbose: g.verbose,
		Live: liveTerminal(cmd, g, d)})
}

// liveTerminal is the terminal for the live view of up, step and destroy:
// stdout and stderr are both a terminal, the output is a table, and
// --verbose (whose SDK lines would run through the view) is off. Anywhere
// else (CI, pipes, --output json) progress is plain timestamped lines.
func liveTerminal(cmd *cobra.Command, g *globals, d deps) *liveview.Terminal {
	out, okOut := cmd.OutOrStdout().(*os.File)
	errOut, okErr := cmd.ErrOrStderr().(*os.File)
	if !okOut || !okErr || !isTerminal(out) || !isTerminal(errOut) || g.output != app.OutputTable || g.verbose || os.Getenv("TERM") == "dumb" {
		return nil
	}
	t := &liveview.Terminal{Out: errOut, Interrupt: d.interrupt, NoColor: g.noColor || os.Getenv("NO_COLOR") != ""}
	if in, ok := d.stdin.(*os.File); ok && isTerminal(in) {
		t.Keys = in
	}
	return t
}
