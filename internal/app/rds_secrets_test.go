package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/config"
	"github.com/myappctl/myappctl/internal/state"
	"github.com/myappctl/myappctl/internal/steps"
)

// rdsCLI runs the commands as the CLI does, over one fake account, with
// every byte they print (stdout and the progress log) kept.
type rdsCLI struct {
	t     *testing.T
	cfg   config.Config
	cloud *fakeaws.Cloud
	out   bytes.Buffer // what commands print (stdout)
	log   bytes.Buffer // progress lines (stderr)
	stack bool         // all nine stages, not just vpc, a stand-in security and rds
}

func newRDSCLI(t *testing.T) *rdsCLI {
	cfg := config.Defaults()
	cfg.StateFile = filepath.Join(t.TempDir(), "state", "myapp.json")
	cfg.Wait.PollInterval = 5 * time.Millisecond
	cfg.Wait.Timeout = 2 * time.Second
	cfg.Wait.DatabaseTimeout = 3 * time.Second
	cfg.Wait.DestroyTimeout = 3 * time.Second
	return &rdsCLI{t: t, cfg: cfg, cloud: fakeaws.New()}
}

// newStackCLI runs all nine stages, with the binaries they deploy in a
// temporary artifacts_dir.
func newStackCLI(t *testing.T) *rdsCLI {
	c := newRDSCLI(t)
	c.stack = true
	c.cfg.ArtifactsDir = t.TempDir()
	for _, bin := range []string{"myapp-frontend", "myapp-backend", "bootstrap"} {
		if err := os.WriteFile(filepath.Join(c.cfg.ArtifactsDir, bin), []byte("ELF "+bin), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// open opens a session whose registry is vpc, a stand-in for stage 2 that
// records a db security group id, and rds (or, for a stack CLI, all nine).
func (c *rdsCLI) open(command string, lock bool) *Session {
	c.t.Helper()
	factory := func(context.Context, *config.Config, bool) (*awsx.Clients, error) { return c.cloud.Clients(), nil }
	s, err := Open(context.Background(), &c.cfg, OpenOptions{Command: command, Lock: lock, Clients: factory, Log: &c.log})
	if err != nil {
		c.t.Fatal(err)
	}
	if c.stack {
		return s
	}
	all := steps.Stages()
	vpc, _ := all.Lookup("vpc")
	rds, _ := all.Lookup("rds")
	security := &steps.Stage{Number: 2, Name: "security", Title: "test db security group", Needs: []string{"vpc"},
		Apply: func(_ context.Context, r *steps.Run) error { return r.SetOutput("db_sg_id", "sg-0123456789abcdef0") }}
	s.Runner.Stages = steps.Registry{vpc, security, rds}
	return s
}

// run runs one command in its own session, as one CLI invocation.
func (c *rdsCLI) run(command string, lock bool, fn func(context.Context, *Session) error) {
	c.t.Helper()
	s := c.open(command, lock)
	defer s.Close()
	if err := fn(context.Background(), s); err != nil {
		c.t.Fatalf("%s: %v", command, err)
	}
}

func TestRDSPasswordNeverPrinted(t *testing.T) {
	c := newRDSCLI(t)
	up := func(format string) func(context.Context, *Session) error {
		return func(ctx context.Context, s *Session) error {
			return Up(ctx, s, steps.UpOptions{To: "rds"}, format, &c.out)
		}
	}
	status := func(format string) func(context.Context, *Session) error {
		return func(ctx context.Context, s *Session) error { return Status(ctx, s, false, format, &c.out) }
	}
	plan := func(format string) func(context.Context, *Session) error {
		return func(ctx context.Context, s *Session) error { return Plan(ctx, s, format, &c.out) }
	}
	c.run("plan", false, plan(OutputTable))
	c.run("up", true, up(OutputTable))
	c.run("up", true, up(OutputJSON))
	c.run("status", false, status(OutputTable))
	c.run("status", false, status(OutputJSON))
	c.run("plan", false, plan(OutputJSON))

	st, err := state.Load(c.cfg.StatePath(), c.cfg.Stack, c.cfg.Region)
	if err != nil {
		t.Fatal(err)
	}
	pw := st.Secret("rds", steps.SecretDBPassword)
	if len(pw) < 24 || !c.cloud.RDS.PasswordIs("database-1", pw) {
		t.Fatalf("password in the state file: %d characters, the instance's: %v", len(pw), c.cloud.RDS.PasswordIs("database-1", pw))
	}
	if !strings.Contains(c.out.String(), "database-1.") || !strings.Contains(c.out.String(), "********") || !strings.Contains(c.log.String(), "available") {
		t.Errorf("output lacks the endpoint, the masked secret or progress:\n%s\n%s", c.out.String(), c.log.String())
	}
	// Only the state file holds it, and only its owner can read that.
	data, _ := os.ReadFile(c.cfg.StatePath())
	if fi, err := os.Stat(c.cfg.StatePath()); err != nil || fi.Mode().Perm() != 0o600 || !bytes.Contains(data, []byte(pw)) {
		t.Errorf("state file: %v, mode %v, holds the password: %v", err, fi.Mode().Perm(), bytes.Contains(data, []byte(pw)))
	}

	// A failure's message carries no password either.
	c.cloud.RDS.ForgetDBInstance("database-1")
	c.cloud.Inject("CreateDBInstance", fakeaws.Fault{Err: fakeaws.APIError("InvalidParameterValue", "The parameter MasterUserPassword is not a valid password.")})
	s := c.open("up", true)
	err = Up(context.Background(), s, steps.UpOptions{To: "rds"}, OutputTable, &c.out)
	s.Close()
	if err == nil {
		t.Fatal("up did not fail")
	}
	c.run("status", false, status(OutputTable))
	c.run("up", true, up(OutputTable))
	c.run("destroy", true, func(ctx context.Context, s *Session) error {
		return Destroy(ctx, s, DestroyOptions{Yes: true}, OutputTable, &c.out)
	})

	for name, text := range map[string]string{"output": c.out.String(), "progress log": c.log.String(), "error": err.Error()} {
		if strings.Contains(text, pw) {
			t.Errorf("the password appears in the %s", name)
		}
	}
	if !strings.Contains(c.out.String(), "stack myapp is gone") {
		t.Errorf("destroy output:\n%s", c.out.String())
	}
}

func TestRDSStatusShowSecretsRevealsThePassword(t *testing.T) {
	c := newRDSCLI(t)
	c.run("up", true, func(ctx context.Context, s *Session) error {
		return Up(ctx, s, steps.UpOptions{To: "rds"}, OutputTable, &c.out)
	})
	for _, format := range []string{OutputTable, OutputJSON} {
		var out bytes.Buffer
		c.run("status", false, func(ctx context.Context, s *Session) error { return Status(ctx, s, true, format, &out) })
		s := c.open("status", false)
		pw := s.State.Secret("rds", steps.SecretDBPassword)
		s.Close()
		if pw == "" || !strings.Contains(out.String(), pw) {
			t.Errorf("status --show-secrets --output %s does not show the password", format)
		}
	}
}

// TestPasswordNeverPrintedOverTheWholeStack runs every command over all nine
// stages, a settings change that makes new launch template versions and
// destroy: the backend's launch template holds the password in its user
// data, and no output or log line may show it (nor any user data).
func TestPasswordNeverPrintedOverTheWholeStack(t *testing.T) {
	c := newStackCLI(t)
	up := func(format string) func(context.Context, *Session) error {
		return func(ctx context.Context, s *Session) error { return Up(ctx, s, steps.UpOptions{}, format, &c.out) }
	}
	status := func(format string) func(context.Context, *Session) error {
		return func(ctx context.Context, s *Session) error { return Status(ctx, s, false, format, &c.out) }
	}
	plan := func(format string) func(context.Context, *Session) error {
		return func(ctx context.Context, s *Session) error { return Plan(ctx, s, format, &c.out) }
	}
	c.run("plan", false, plan(OutputTable))
	c.run("up", true, up(OutputTable))
	c.run("up", true, up(OutputJSON))
	c.run("status", false, status(OutputTable))
	c.run("status", false, status(OutputJSON))
	c.run("plan", false, plan(OutputJSON))
	c.run("step", true, func(ctx context.Context, s *Session) error { return Step(ctx, s, "autoscaling", OutputJSON, &c.out) })

	st, err := state.Load(c.cfg.StatePath(), c.cfg.Stack, c.cfg.Region)
	if err != nil {
		t.Fatal(err)
	}
	pw := st.Secret("rds", steps.SecretDBPassword)
	if len(pw) < 24 || st.Output("autoscaling", steps.OutBootstrapRetired) != "true" {
		t.Fatalf("the stack did not converge: password of %d characters, autoscaling outputs %v", len(pw), st.Stage("autoscaling").Outputs)
	}
	for _, want := range []string{"frontend-asg", "desired 2, 2 in service", "2/2 targets healthy", "app URL", "http://frontend-lb-", "********"} {
		if !strings.Contains(c.out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// New launch template versions (the user data is part of them) and refreshes.
	c.cfg.InstanceType = "t3.micro"
	c.run("plan", false, plan(OutputTable))
	c.run("up", true, up(OutputTable))
	c.run("status", false, status(OutputTable))
	if !strings.Contains(c.out.String(), "instance type t2.micro → t3.micro") {
		t.Errorf("the template change is not shown:\n%s", c.out.String())
	}
	c.run("destroy", true, func(ctx context.Context, s *Session) error {
		return Destroy(ctx, s, DestroyOptions{Yes: true}, OutputTable, &c.out)
	})

	encoded := base64.StdEncoding.EncodeToString([]byte(pw))
	for name, text := range map[string]string{"output": c.out.String(), "progress log": c.log.String()} {
		for _, secret := range []string{pw, encoded, "DBPASSWORD="} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s shows %s", name, map[string]string{pw: "the password", encoded: "the password in base64", "DBPASSWORD=": "a settings line"}[secret])
			}
		}
	}
	if !strings.Contains(c.out.String(), "stack myapp is gone") {
		t.Errorf("destroy output:\n%s", c.out.String())
	}
	for _, n := range []map[string]int{c.cloud.EC2.ComputeCount(), c.cloud.Autoscaling.Count(), c.cloud.ELBV2.Count()} {
		for kind, count := range n {
			if count != 0 {
				t.Errorf("%d %s left", count, kind)
			}
		}
	}
}
