package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/state"
	"github.com/myappctl/myappctl/internal/state/s3test"
)

const (
	stateBucket = "team-state"
	stateURL    = "s3://" + stateBucket + "/stacks/myapp.json"
	stateKey    = "stacks/myapp.json"
)

// TestStateInitMovesTheLocalStateToS3: a stack built with a local state
// file is moved to S3 by `state init`; the next `up` from S3 changes
// nothing (no call mutates anything but the state bucket), the old path
// says where the state went, and destroy leaves the state bucket and
// records the stack as destroyed in it.
func TestStateInitMovesTheLocalStateToS3(t *testing.T) {
	cloud := fakeaws.New()
	wb := newWireBed(t, cloud)
	local := filepath.Join(t.TempDir(), "myapp.json")
	wb.mustRun("up", "--state", local)
	before, _ := os.ReadFile(local)

	out := wb.mustRun("state", "init", stateURL, "--state", local)
	for _, want := range []string{"copied to " + stateURL, "bucket team-state created", "local backup: " + local + ".bak", "state_file: " + stateURL, "MYAPP_STATE_FILE=" + stateURL} {
		if !strings.Contains(out, want) {
			t.Errorf("state init lacks %q:\n%s", want, out)
		}
	}
	b := cloud.S3.Bucket(stateBucket)
	if b == nil || b.Versioning != "Enabled" || b.Tags[awsx.TagRole] != "state" || b.Tags[awsx.TagStack] != "" {
		t.Fatalf("state bucket: %+v", b)
	}
	if copied, _ := cloud.S3.Object(stateBucket, stateKey); !jsonEqual(copied, before) {
		t.Errorf("copied state differs:\n%s\nlocal was:\n%s", copied, before)
	}
	if backup, _ := os.ReadFile(local + ".bak"); string(backup) != string(before) {
		t.Error("the backup is not the local state")
	}
	if _, ok := cloud.S3.Object(stateBucket, stateKey+".lock"); ok {
		t.Error("state init left its lock")
	}
	// The old path now says where the state went.
	if _, _, err := wb.exec("", "status", "--state", local); err == nil || !strings.Contains(err.Error(), "moved from "+local+" to "+stateURL) {
		t.Errorf("status on the old path: %v", err)
	}
	if out := wb.mustRun("state", "init", stateURL, "--state", local); !strings.Contains(out, "already moved to "+stateURL) {
		t.Errorf("second state init:\n%s", out)
	}

	// up from S3 (through the environment, as a team sets it) changes nothing.
	t.Setenv("MYAPP_STATE_FILE", stateURL)
	cloud.ResetCalls()
	writes := wb.writesTo(stateBucket)
	out = wb.mustRun("up")
	if n := regexp.MustCompile(`(?m)^\S+\s+up to date$`).FindAllString(out, -1); len(n) != 9 {
		t.Errorf("up after state init: %d stages up to date, want 9:\n%s", len(n), out)
	}
	stateWrites := wb.writesTo(stateBucket) - writes
	if m := cloud.MutatingCalls(); len(m) != stateWrites || stateWrites == 0 {
		t.Errorf("up after state init: %d mutating calls, %d of them on the state bucket: %v", len(m), stateWrites, m)
	}
	if out := wb.mustRun("status"); !strings.Contains(out, "(state: "+stateURL+")") {
		t.Errorf("status:\n%s", out)
	}

	// destroy removes the stack, never the state bucket.
	if out := wb.mustRun("destroy", "--yes"); !strings.Contains(out, "stack myapp is gone") {
		t.Errorf("destroy:\n%s", out)
	}
	var f state.File
	data, _ := cloud.S3.Object(stateBucket, stateKey)
	if err := json.Unmarshal(data, &f); err != nil || len(f.Stages) != 9 {
		t.Fatalf("state after destroy: %v\n%s", err, data)
	}
	for name, st := range f.Stages {
		if st.Status != state.StatusDestroyed || len(st.Resources) != 0 {
			t.Errorf("stage %s after destroy: %+v", name, st)
		}
	}
	if names := cloud.S3.BucketNames(); len(names) != 1 || names[0] != stateBucket {
		t.Errorf("buckets after destroy: %v, want only the state bucket", names)
	}
	if n := cloud.S3.ObjectVersions(stateBucket, stateKey); n < 3 {
		t.Errorf("%d versions of the state kept", n)
	}
	wb.checkAnswered()
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && fmt.Sprint(x) == fmt.Sprint(y)
}

// TestConcurrentRunsOnOneS3State: two runs start at once on one S3 state;
// exactly one proceeds, the other is refused naming the holder.
func TestConcurrentRunsOnOneS3State(t *testing.T) {
	cloud := fakeaws.New()
	wb := newWireBed(t, cloud)
	wb.mustRun("state", "init", stateURL, "--state", filepath.Join(t.TempDir(), "myapp.json"))
	cloud.Delay("CreateVpc", 300*time.Millisecond) // the winner holds the lock a while
	var wg sync.WaitGroup
	outs, errs := make([]string, 2), make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], _, errs[i] = wb.exec("", "up", "--to", "vpc", "--state", stateURL)
		}()
	}
	wg.Wait()
	proceeded := 0
	for i, err := range errs {
		switch {
		case err == nil:
			proceeded++
			if !strings.Contains(outs[i], "vpc          changed") {
				t.Errorf("the run that proceeded:\n%s", outs[i])
			}
		case !strings.Contains(err.Error(), "another myappctl run holds the lock") || !strings.Contains(err.Error(), `"myappctl up"`):
			t.Errorf("the refused run: %v", err)
		}
	}
	if proceeded != 1 || cloud.EC2.Count()["vpc"] != 1 {
		t.Errorf("%d runs proceeded (%v), %d VPCs; want exactly one", proceeded, errs, cloud.EC2.Count()["vpc"])
	}
	if _, ok := cloud.S3.Object(stateBucket, stateKey+".lock"); ok {
		t.Error("a lock is left behind")
	}
}

// TestAKilledRunsLockIsReportedAndUnlocked kills a real myappctl process
// (SIGKILL) in the middle of `up`, for a local state file and an S3 state.
// Seen from another host its lock is refused with holder, host and age
// until `myappctl unlock --yes` releases it; on this host the next run
// takes it over and says so in one line.
func TestAKilledRunsLockIsReportedAndUnlocked(t *testing.T) {
	for _, where := range []string{"local", "s3"} {
		t.Run(where, func(t *testing.T) {
			cloud := fakeaws.New()
			wb := newWireBed(t, cloud)
			stateArg := filepath.Join(t.TempDir(), "myapp.json")
			lockOf := func() []byte { data, _ := os.ReadFile(state.LockPath(stateArg)); return data }
			setLock := func(data []byte) {
				if err := os.WriteFile(state.LockPath(stateArg), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if where == "s3" {
				wb.mustRun("state", "init", stateURL, "--state", stateArg)
				stateArg = stateURL
				lockOf = func() []byte { data, _ := cloud.S3.Object(stateBucket, stateKey+".lock"); return data }
				setLock = func(data []byte) {
					if _, err := cloud.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(stateBucket),
						Key: aws.String(stateKey + ".lock"), Body: strings.NewReader(string(data))}); err != nil {
						t.Fatal(err)
					}
				}
			}

			// A run killed on "another host": refused until unlocked.
			pid := killMidRun(t, wb, cloud, stateArg, lockOf)
			var held state.LockInfo
			if err := json.Unmarshal(lockOf(), &held); err != nil || held.PID != pid {
				t.Fatalf("the killed run's lock: %s (%v)", lockOf(), err)
			}
			held.Host = "ci-runner-7"
			data, _ := json.Marshal(held)
			setLock(data)
			_, _, err := wb.exec("", "up", "--state", stateArg)
			for _, want := range []string{"locked by a run on another host", fmt.Sprintf("pid %d on ci-runner-7", pid), "myappctl up", " ago)", "myappctl unlock"} {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("up over another host's lock: %v, want %q", err, want)
				}
			}
			if _, _, err := wb.exec("", "unlock", "--state", stateArg); err == nil || !strings.Contains(err.Error(), "pass --yes") {
				t.Errorf("unlock without a terminal or --yes: %v", err)
			}
			out := wb.mustRun("unlock", "--yes", "--state", stateArg)
			if !strings.Contains(out, "released the lock") || !strings.Contains(out, "ci-runner-7") || lockOf() != nil {
				t.Errorf("unlock:\n%s\nlock now %s", out, lockOf())
			}
			if out := wb.mustRun("unlock", "--yes", "--state", stateArg); !strings.Contains(out, "nothing to release") {
				t.Errorf("second unlock:\n%s", out)
			}

			// A run killed on this host: taken over by the next run.
			pid = killMidRun(t, wb, cloud, stateArg, lockOf)
			out, errOut, err := wb.exec("", "up", "--to", "vpc", "--state", stateArg)
			if err != nil {
				t.Fatalf("up after a killed run: %v\n%s", err, errOut)
			}
			takeover := regexp.MustCompile(`took over the lock of a run that is no longer alive .*\(pid `+fmt.Sprint(pid)+` on `).FindAllString(errOut, -1)
			if len(takeover) != 1 || !strings.Contains(out, "vpc ") || lockOf() != nil {
				t.Errorf("takeover lines %q\nstdout:\n%s\nstderr:\n%s", takeover, out, errOut)
			}
			if n := cloud.EC2.Count()["vpc"]; n != 1 {
				t.Errorf("%d VPCs after the resumed run", n)
			}
		})
	}
}

// killMidRun starts `myappctl up` as a child process, waits until it holds
// the lock and is inside CreateVpc, kills it with SIGKILL and returns its pid.
func killMidRun(t *testing.T, wb *wireBed, cloud *fakeaws.Cloud, stateArg string, lockOf func() []byte) int {
	t.Helper()
	cloud.Delay("CreateVpc", time.Minute)
	defer cloud.Delay("CreateVpc", 0)
	calls := cloud.CountCalls("CreateVpc")
	child := exec.Command(os.Args[0], "--endpoint-url", wb.url, "--state", stateArg, "up")
	child.Env = append(os.Environ(), "MYAPPCTL_TEST_RUN_MAIN=1")
	var out strings.Builder
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for cloud.CountCalls("CreateVpc") == calls || lockOf() == nil {
		if time.Now().After(deadline) {
			_ = child.Process.Kill()
			t.Fatalf("the child run never reached CreateVpc:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	return child.Process.Pid
}

// TestBadS3StateIsRefusedClearly: a malformed URL before any AWS call, a
// missing bucket, one of another region, a server that ignores conditional
// writes.
func TestBadS3StateIsRefusedClearly(t *testing.T) {
	cloud := fakeaws.New()
	wb := newWireBed(t, cloud)
	for _, url := range []string{"s3://Team_State/x.json", "s3://team-state", "s3:/team-state/x.json"} {
		if _, _, err := wb.exec("", "status", "--state", url); err == nil || !strings.Contains(err.Error(), "state_file:") {
			t.Errorf("--state %s: %v", url, err)
		}
	}
	if _, _, err := wb.exec("", "state", "init", "s3://Team/x.json"); err == nil || !strings.Contains(err.Error(), "must be lowercase") {
		t.Errorf("state init with a bad URL: %v", err)
	}
	if n := len(wb.counted()); n != 0 {
		t.Errorf("bad URLs reached AWS: %v", wb.counted())
	}
	if _, _, err := wb.exec("", "up", "--state", stateURL); err == nil || !strings.Contains(err.Error(), "myappctl state init "+stateURL) {
		t.Errorf("missing bucket: %v", err)
	}
	cloud.S3.CreateBucketIn("eu-team-state", "eu-west-1")
	if _, _, err := wb.exec("", "up", "--state", "s3://eu-team-state/myapp.json"); err == nil || !strings.Contains(err.Error(), "is in eu-west-1") {
		t.Errorf("bucket of another region: %v", err)
	}
	cloud.S3.IgnoreConditionalWrites = true
	_, _, err := wb.exec("", "state", "init", stateURL, "--state", filepath.Join(t.TempDir(), "myapp.json"))
	if err == nil || !strings.Contains(err.Error(), "ignores conditional writes") {
		t.Errorf("state init on a server without conditional writes: %v", err)
	}
	if _, ok := cloud.S3.Object(stateBucket, stateKey); ok {
		t.Error("state init wrote the state where no lock protects it")
	}
}

// TestUnlockAsksFirst: the holder is shown and nothing is released unless
// the answer is yes; a run alive on this host keeps its lock.
func TestUnlockAsksFirst(t *testing.T) {
	c := newCLI(t)
	plant := func(host string) {
		data, _ := json.Marshal(state.LockInfo{PID: 4242, Host: host, Command: "myappctl up", StartedAt: time.Now().Add(-90 * time.Minute)})
		if err := os.WriteFile(state.LockPath(c.state), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	plant("ci-runner-7")
	c.tty, c.stdin = true, "n\n"
	_, prompt, err := c.run("unlock")
	if err == nil || !strings.Contains(err.Error(), "cancelled") || !strings.Contains(prompt, "pid 4242 on ci-runner-7") || !strings.Contains(prompt, "1h30m") {
		t.Errorf("answer n: %v\n%s", err, prompt)
	}
	if _, err := os.Stat(state.LockPath(c.state)); err != nil {
		t.Fatal("the lock was released without a yes")
	}
	c.stdin = "yes\n"
	if out := c.mustRun("unlock"); !strings.Contains(out, "released the lock") {
		t.Errorf("answer yes:\n%s", out)
	}
	if _, err := os.Stat(state.LockPath(c.state)); !os.IsNotExist(err) {
		t.Error("the lock is still there")
	}
	if c.calls != 0 {
		t.Errorf("unlock of a local lock built AWS clients")
	}

	lock, err := state.Acquire(context.Background(), state.NewFileStore(c.state), state.LockOptions{Command: "myappctl up"})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release(context.Background())
	if _, _, err := c.run("unlock", "--yes"); err == nil || !strings.Contains(err.Error(), "still alive on this host") {
		t.Errorf("unlock of a live run: %v", err)
	}
}

// TestSharedStateOnARealS3Server keeps the state in versitygw, a real
// S3-compatible server (every other call goes to the fake): state init
// moves a local state there and the next up changes nothing; of two
// concurrent runs exactly one proceeds; another host's lock is refused
// until unlock.
func TestSharedStateOnARealS3Server(t *testing.T) {
	endpoint := s3test.VersityGW(t)
	target, _ := url.Parse(endpoint)
	cloud := fakeaws.New()
	wb := newWireBed(t, cloud)
	wb.stateServer = httputil.NewSingleHostReverseProxy(target)
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	real := s3test.Client(wb.url, "us-east-1") // through the proxy, as the CLI
	ctx := context.Background()

	// versitygw v1.8.0 refuses If-None-Match "*" on a key whose current
	// version is a delete marker (AWS accepts it), so a released lock could
	// not be taken again in a versioned bucket: the state bucket is made
	// here, without versioning (state init then uses it as it is and warns).
	s3test.CreateBucket(t, real, stateBucket)
	local := filepath.Join(t.TempDir(), "myapp.json")
	wb.mustRun("up", "--to", "vpc", "--state", local)
	out, errOut, err := wb.exec("", "state", "init", stateURL, "--state", local)
	if err != nil || !strings.Contains(out, "copied to "+stateURL) || !strings.Contains(errOut, "versioning off") {
		t.Errorf("state init: %v\n%s\n%s", err, out, errOut)
	}
	cloud.ResetCalls()
	if out := wb.mustRun("up", "--to", "vpc", "--state", stateURL); !strings.Contains(out, "vpc          up to date") {
		t.Errorf("up after state init:\n%s", out)
	}
	if m := cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("up after state init mutated the fake: %v", m)
	}

	cloud.Delay("DescribeVpcs", 300*time.Millisecond) // the winner holds the lock a while
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _, errs[i] = wb.exec("", "up", "--to", "vpc", "--state", stateURL) }()
	}
	wg.Wait()
	cloud.Delay("DescribeVpcs", 0)
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Errorf("concurrent runs: %v; want exactly one to proceed", errs)
	}

	lock, _ := json.Marshal(state.LockInfo{PID: 77, Host: "ci-runner-7", Command: "myappctl up", StartedAt: time.Now().Add(-time.Hour)})
	if _, err := real.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(stateBucket), Key: aws.String(stateKey + ".lock"), Body: bytes.NewReader(lock)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := wb.exec("", "up", "--to", "vpc", "--state", stateURL); err == nil || !strings.Contains(err.Error(), "pid 77 on ci-runner-7") {
		t.Errorf("up over another host's lock: %v", err)
	}
	wb.mustRun("unlock", "--yes", "--state", stateURL)
	wb.mustRun("up", "--to", "vpc", "--state", stateURL)
}
