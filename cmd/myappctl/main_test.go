package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/config"
	"github.com/myappctl/myappctl/internal/state"
)

// cli runs myappctl commands in-process against one fake account.
type cli struct {
	t        *testing.T
	cloud    *fakeaws.Cloud
	state    string
	calls    int // client factory calls
	stdin    string
	tty      bool
	extraEnv map[string]string
}

func newCLI(t *testing.T) *cli {
	t.Setenv("MYAPP_WAIT_POLL_INTERVAL", "5ms")
	t.Setenv("MYAPP_WAIT_TIMEOUT", "2s")
	t.Setenv("MYAPP_WAIT_DESTROY_TIMEOUT", "3s")
	return &cli{t: t, cloud: fakeaws.New(), state: filepath.Join(t.TempDir(), "myapp.json")}
}

func (c *cli) run(args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	d := deps{
		clients: func(context.Context, *config.Config, bool) (*awsx.Clients, error) {
			c.calls++
			return c.cloud.Clients(), nil
		},
		stdin:       strings.NewReader(c.stdin),
		interactive: c.tty,
	}
	return execute(d, append([]string{"--state", c.state}, args...))
}

// execute runs the command tree once with deps and returns what it printed.
func execute(d deps, args []string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	cmd := newRootCmd(d)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func (c *cli) mustRun(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("myappctl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func TestStepStatusRerunDestroy(t *testing.T) {
	c := newCLI(t)
	out := c.mustRun("step", "vpc")
	if !strings.Contains(out, "vpc          changed") || !strings.Contains(out, "+ create ec2:vpc MyApp-VPC") {
		t.Errorf("step output:\n%s", out)
	}
	status := c.mustRun("status")
	for _, want := range []string{`1\s+vpc\s+complete`, `11, all exist`, `MyApp-subnet-public1\s+subnet-\w+\s+exists`, `output\s+vpc_id\s+vpc-`} {
		if !regexp.MustCompile(want).MatchString(status) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	var js struct {
		Stack  string
		Stages []struct {
			Name      string
			Status    string
			Resources []struct{ Live string }
		}
	}
	if err := json.Unmarshal([]byte(c.mustRun("status", "--output", "json")), &js); err != nil {
		t.Fatal(err)
	}
	if js.Stack != "myapp" || len(js.Stages) != 9 || js.Stages[0].Status != "complete" || len(js.Stages[0].Resources) != 11 || js.Stages[0].Resources[0].Live != "exists" {
		t.Errorf("status json = %+v", js)
	}

	c.cloud.ResetCalls()
	if out := c.mustRun("step", "1"); !strings.Contains(out, "vpc          up to date") {
		t.Errorf("second step:\n%s", out)
	}
	if m := c.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("second step mutated: %v", m)
	}

	out = c.mustRun("destroy", "--yes")
	if !strings.Contains(out, "deleted 11 resource(s)") || !strings.Contains(out, "stack myapp is gone") {
		t.Errorf("destroy output:\n%s", out)
	}
	for kind, n := range c.cloud.EC2.Count() {
		if n != 0 {
			t.Errorf("%d %s left", n, kind)
		}
	}
}

func TestPlanShowsCreatesAndChangesNothing(t *testing.T) {
	c := newCLI(t)
	out := c.mustRun("plan")
	if !strings.Contains(out, "vpc          would change") || !strings.Contains(out, "plan: ") {
		t.Errorf("plan output:\n%s", out)
	}
	if m := c.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("plan mutated: %v", m)
	}
}

func TestBadConfigIsRejectedBeforeAnyAWSCall(t *testing.T) {
	tests := [][]string{
		{"step", "vpc", "--region", "moon-1"},
		{"up", "--stack", "Bad_Stack"},
		{"status", "--endpoint-url", "localhost:4566"},
		{"plan", "--output", "yaml"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			c := newCLI(t)
			_, _, err := c.run(args...)
			if err == nil {
				t.Fatal("accepted")
			}
			if c.calls != 0 || len(c.cloud.Calls()) != 0 {
				t.Errorf("AWS was used before validation: %v", c.cloud.Calls())
			}
		})
	}
	t.Run("unknown key in the default file", func(t *testing.T) {
		c := newCLI(t)
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "configs"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "configs", "myapp.yaml"), []byte("instnace_type: t3.micro\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Chdir(dir)
		_, _, err := c.run("up")
		if want := `configs/myapp.yaml: unknown key "instnace_type" (did you mean "instance_type"?)`; err == nil || err.Error() != want || c.calls != 0 {
			t.Errorf("err = %v, calls %d; want %s", err, c.calls, want)
		}
	})
	t.Run("env", func(t *testing.T) {
		c := newCLI(t)
		t.Setenv("MYAPP_VPC_CIDR", "10.0.0.0/33")
		_, _, err := c.run("up")
		if err == nil || !strings.Contains(err.Error(), "vpc.cidr") || c.calls != 0 {
			t.Errorf("err = %v, calls %d", err, c.calls)
		}
	})
}

func TestStepRefusesWhenADependencyHasNotRun(t *testing.T) {
	c := newCLI(t)
	_, _, err := c.run("step", "rds")
	if err == nil || !strings.Contains(err.Error(), "needs stage 1 vpc, which has not completed") || !strings.Contains(err.Error(), "myappctl step vpc") {
		t.Errorf("err = %v", err)
	}
	_, _, err = c.run("step", "nosuch")
	if err == nil || !strings.Contains(err.Error(), "unknown stage") {
		t.Errorf("err = %v", err)
	}
}

func TestLockRefusesAConcurrentRun(t *testing.T) {
	c := newCLI(t)
	lock, err := state.Acquire(context.Background(), state.NewFileStore(c.state), state.LockOptions{Command: "myappctl up"})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release(context.Background())
	_, _, err = c.run("up")
	if err == nil || !strings.Contains(err.Error(), "another myappctl run holds the lock") {
		t.Errorf("err = %v", err)
	}
	if c.calls != 0 {
		t.Error("clients were built despite the lock")
	}
	// Read-only commands do not need the lock.
	c.mustRun("status")
}

func TestDestroyAsksFirst(t *testing.T) {
	c := newCLI(t)
	c.mustRun("step", "vpc")
	if _, _, err := c.run("destroy"); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("non-interactive destroy without --yes: %v", err)
	}
	c.tty, c.stdin = true, "nope\n"
	if _, _, err := c.run("destroy"); err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("wrong answer: %v", err)
	}
	if c.cloud.EC2.Count()["vpc"] != 1 {
		t.Fatal("destroy deleted without confirmation")
	}
	c.stdin = "myapp\n"
	_, prompt, err := c.run("destroy")
	if err != nil || !strings.Contains(prompt, "Type the stack name to confirm") {
		t.Fatalf("confirmed destroy: %v\n%s", err, prompt)
	}
	if c.cloud.EC2.Count()["vpc"] != 0 {
		t.Error("VPC left after confirmed destroy")
	}
}

func TestEveryCommandHasHelpWithExample(t *testing.T) {
	for _, name := range []string{"up", "step", "plan", "status", "destroy", "unlock", "state init"} {
		c := newCLI(t)
		out := c.mustRun(append(strings.Fields(name), "--help")...)
		if !strings.Contains(out, "Examples:") || !strings.Contains(out, "myappctl "+name) {
			t.Errorf("%s --help lacks an example:\n%s", name, out)
		}
	}
	c := newCLI(t)
	if out := c.mustRun("--help"); !strings.Contains(out, "Examples:") {
		t.Errorf("root help:\n%s", out)
	}
}

func TestStacksAreSeparate(t *testing.T) {
	c := newCLI(t)
	c.mustRun("step", "vpc")
	devState := filepath.Join(t.TempDir(), "dev.json")
	out, _, err := c.run("step", "vpc", "--stack", "dev", "--state", devState)
	if err != nil {
		t.Fatal(err, out)
	}
	if n := c.cloud.EC2.Count()["vpc"]; n != 2 {
		t.Fatalf("%d VPCs, want one per stack", n)
	}
	c.mustRun("destroy", "--yes", "--stack", "dev", "--state", devState)
	if n := c.cloud.EC2.Count()["vpc"]; n != 1 {
		t.Errorf("destroying dev left %d VPCs, want myapp's one", n)
	}
	// The myapp state file refuses to be used for another stack.
	if _, _, err := c.run("status", "--stack", "dev"); err == nil || !strings.Contains(err.Error(), `belongs to stack "myapp"`) {
		t.Errorf("foreign state: %v", err)
	}
}

func TestStatusReportsDrift(t *testing.T) {
	c := newCLI(t)
	c.mustRun("step", "vpc")
	if out := c.mustRun("status"); !regexp.MustCompile(`1\s+vpc\s+complete.*none`).MatchString(out) {
		t.Errorf("converged stack shows drift:\n%s", out)
	}
	vpcs, _ := c.cloud.EC2.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{})
	_, _ = c.cloud.EC2.ModifyVpcAttribute(context.Background(), &ec2.ModifyVpcAttributeInput{VpcId: vpcs.Vpcs[0].VpcId,
		EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}})
	c.cloud.ResetCalls()
	out := c.mustRun("status")
	if !strings.Contains(out, "1 change(s) pending: run `myappctl up`") || !strings.Contains(out, "drift: ~ modify ec2:vpc MyApp-VPC (turn on enableDnsHostnames)") {
		t.Errorf("status:\n%s", out)
	}
	if m := c.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("status mutated: %v", m)
	}
	c.mustRun("up", "--to", "vpc")
	if out := c.mustRun("status"); strings.Contains(out, "drift:") {
		t.Errorf("drift left after up:\n%s", out)
	}
}
