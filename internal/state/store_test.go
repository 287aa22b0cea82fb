package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws/wire"
	"github.com/myappctl/myappctl/internal/state/s3test"
)

// A place holds one stack's state and lock; a and b are two handles on it,
// as two myappctl processes open it.
type place struct{ a, b Store }

// backend opens fresh places of one kind of store.
type backend struct {
	name string
	// start prepares the backend once (a server, a bucket) and returns how
	// to open a fresh place in it.
	start func(t *testing.T) func(t *testing.T, name string) place
}

func backends() []backend {
	s3Backend := func(name string, client func(t *testing.T) S3Client) backend {
		return backend{name, func(t *testing.T) func(*testing.T, string) place {
			c := client(t)
			return func(t *testing.T, key string) place {
				loc := S3Location{Bucket: "team-state", Key: "stacks/" + key + ".json"}
				open := func() Store {
					s, err := OpenS3Store(context.Background(), c, loc, "us-east-1", t.Logf)
					if err != nil {
						t.Fatal(err)
					}
					return s
				}
				return place{open(), open()}
			}
		}}
	}
	httpClient := func(endpoint string, t *testing.T) S3Client {
		c := s3test.Client(endpoint, "us-east-1")
		s3test.CreateBucket(t, c, "team-state")
		return c
	}
	return []backend{
		{"file", func(t *testing.T) func(*testing.T, string) place {
			dir := t.TempDir()
			return func(_ *testing.T, name string) place {
				p := filepath.Join(dir, name, "myapp.json")
				return place{NewFileStore(p), NewFileStore(p)}
			}
		}},
		s3Backend("fake", func(t *testing.T) S3Client {
			f := fakeaws.New().S3
			if _, err := f.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("team-state")}); err != nil {
				t.Fatal(err)
			}
			return f
		}),
		s3Backend("fake over HTTP", func(t *testing.T) S3Client {
			srv := httptest.NewServer(wire.NewServer(fakeaws.New()))
			t.Cleanup(srv.Close)
			return httpClient(srv.URL, t)
		}),
		s3Backend("gofakes3", func(t *testing.T) S3Client { return httpClient(s3test.Gofakes3(t), t) }),
		s3Backend("versitygw", func(t *testing.T) S3Client { return httpClient(s3test.VersityGW(t), t) }),
	}
}

// TestStoresBehaveAlike runs the same checks on every kind of store: the
// local file, our fake S3 (in process and over HTTP), and two independent
// S3-compatible servers.
func TestStoresBehaveAlike(t *testing.T) {
	checks := []struct {
		name string
		fn   func(t *testing.T, p place)
	}{
		{"conditional writes", checkConditionalWrites},
		{"a second run is refused", checkSecondRunRefused},
		{"of concurrent runs exactly one proceeds", checkConcurrentRuns},
		{"another host's lock is refused, then unlocked", checkOtherHostLock},
		{"a dead run of this host is taken over", checkDeadRunTakenOver},
		{"a write after someone else's is refused", checkLostUpdateRefused},
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			open := be.start(t)
			for i, c := range checks {
				t.Run(c.name, func(t *testing.T) { c.fn(t, open(t, fmt.Sprintf("check-%d", i))) })
			}
		})
	}
}

func checkConditionalWrites(t *testing.T, p place) {
	ctx := context.Background()
	if data, v, err := p.a.Load(ctx, StateDoc); data != nil || v != "" || err != nil {
		t.Fatalf("empty place: %q %q %v", data, v, err)
	}
	v1, err := p.a.Save(ctx, StateDoc, []byte("one"), "")
	if err != nil {
		t.Fatal(err)
	}
	var ce *ConflictError
	if _, err := p.b.Save(ctx, StateDoc, []byte("two"), ""); !errors.As(err, &ce) || !ce.Exists {
		t.Errorf("second create: %v, want a conflict (exists)", err)
	}
	data, got, err := p.b.Load(ctx, StateDoc)
	if err != nil || string(data) != "one" || got != v1 {
		t.Fatalf("load = %q %q %v, want one %q", data, got, err, v1)
	}
	v2, err := p.b.Save(ctx, StateDoc, []byte("two"), v1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.a.Save(ctx, StateDoc, []byte("three"), v1); !errors.Is(err, ErrConflict) {
		t.Errorf("write over a stale version: %v, want a conflict", err)
	}
	if err := p.a.Delete(ctx, StateDoc, v1); !errors.Is(err, ErrConflict) {
		t.Errorf("delete of a stale version: %v, want a conflict", err)
	}
	if data, _, _ := p.a.Load(ctx, StateDoc); string(data) != "two" {
		t.Errorf("after refused writes: %q, want two", data)
	}
	if err := p.a.Delete(ctx, StateDoc, v2); err != nil {
		t.Fatal(err)
	}
	if err := p.a.Delete(ctx, StateDoc, v2); err != nil {
		t.Errorf("delete of a deleted document: %v", err)
	}
	if _, err := p.a.Save(ctx, StateDoc, []byte("four"), v2); !errors.As(err, &ce) || !ce.Gone {
		t.Errorf("write over a deleted document: %v, want a conflict (gone)", err)
	}
}

func acquire(t *testing.T, s Store, command string) *Lock {
	t.Helper()
	l, err := Acquire(context.Background(), s, LockOptions{Command: command, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func checkSecondRunRefused(t *testing.T, p place) {
	ctx := context.Background()
	l := acquire(t, p.a, "myappctl up")
	_, err := Acquire(ctx, p.b, LockOptions{Command: "myappctl destroy"})
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || le.OtherHost || le.Holder.PID != os.Getpid() {
		t.Fatalf("second acquire: %v", err)
	}
	for _, want := range []string{"another myappctl run holds the lock", fmt.Sprintf("pid %d", os.Getpid()), `"myappctl up"`, "started "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %s", want, err)
		}
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if held, err := ReadLock(ctx, p.b); held != nil || err != nil {
		t.Errorf("lock after release: %+v %v", held, err)
	}
	acquire(t, p.b, "myappctl destroy").Release(ctx)
}

func checkConcurrentRuns(t *testing.T, p place) {
	ctx := context.Background()
	for round := range 5 {
		var wg sync.WaitGroup
		locks := make([]*Lock, 4)
		errs := make([]error, 4)
		for i := range locks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := p.a
				if i%2 == 1 {
					s = p.b
				}
				locks[i], errs[i] = Acquire(ctx, s, LockOptions{Command: fmt.Sprintf("run %d", i)})
			}()
		}
		wg.Wait()
		var held []*Lock
		for i, l := range locks {
			switch {
			case l != nil:
				held = append(held, l)
			case !errors.Is(errs[i], ErrLocked):
				t.Errorf("round %d run %d: %v, want ErrLocked", round, i, errs[i])
			}
		}
		if len(held) != 1 {
			t.Fatalf("round %d: %d runs hold the lock, want exactly 1 (%v)", round, len(held), errs)
		}
		if err := held[0].Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// plantLock writes a lock as another run left it.
func plantLock(t *testing.T, s Store, info LockInfo) {
	t.Helper()
	data, _ := json.Marshal(info)
	if _, err := s.Save(context.Background(), LockDoc, data, ""); err != nil {
		t.Fatal(err)
	}
}

func checkOtherHostLock(t *testing.T, p place) {
	ctx := context.Background()
	started := time.Now().Add(-3 * time.Hour).UTC()
	plantLock(t, p.b, LockInfo{ID: "x", Who: "arn:aws:iam::123456789012:user/alice", PID: 4242, Host: "ci-runner-7", Command: "myappctl up", StartedAt: started})
	_, err := Acquire(ctx, p.a, LockOptions{Command: "myappctl up"})
	var le *LockedError
	if !errors.As(err, &le) || !le.OtherHost {
		t.Fatalf("acquire: %v, want a lock of another host", err)
	}
	for _, want := range []string{"another host", "user/alice", "pid 4242 on ci-runner-7", "3h0m", "myappctl unlock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %s", want, err)
		}
	}
	held, err := ReadLock(ctx, p.a)
	if err != nil || held == nil || !held.Readable || held.Info.Host != "ci-runner-7" || held.Info.AliveHere() {
		t.Fatalf("read lock: %+v %v", held, err)
	}
	if err := ForceUnlock(ctx, p.a, held); err != nil {
		t.Fatal(err)
	}
	acquire(t, p.a, "myappctl up").Release(ctx)
}

// deadPID is the pid of a process that has exited.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func checkDeadRunTakenOver(t *testing.T, p place) {
	ctx := context.Background()
	host, _ := os.Hostname()
	pid := deadPID(t)
	plantLock(t, p.b, LockInfo{ID: "dead", PID: pid, Host: host, Command: "myappctl up", StartedAt: time.Now().Add(-time.Minute).UTC()})
	var lines []string
	l, err := Acquire(ctx, p.a, LockOptions{Command: "myappctl destroy", Logf: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatalf("acquire over a dead run's lock: %v", err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "took over the lock of a run that is no longer alive") || !strings.Contains(lines[0], fmt.Sprintf("pid %d on %s", pid, host)) {
		t.Errorf("takeover said %q", lines)
	}
	held, _ := ReadLock(ctx, p.b)
	if held == nil || held.Info.PID != os.Getpid() || held.Info.Command != "myappctl destroy" {
		t.Errorf("lock after takeover: %+v", held)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func checkLostUpdateRefused(t *testing.T, p place) {
	ctx := context.Background()
	mine, err := Open(ctx, p.a, "myapp", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := mine.SetOutput("vpc", "vpc_id", "vpc-1"); err != nil {
		t.Fatal(err)
	}
	theirs, err := Open(ctx, p.b, "myapp", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := theirs.SetOutput("vpc", "vpc_id", "vpc-2"); err != nil { // someone else writes
		t.Fatal(err)
	}
	err = mine.SetOutput("rds", "endpoint", "db.example")
	var sc *StateConflictError
	if !errors.As(err, &sc) || !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "without overwriting it") {
		t.Fatalf("write after someone else's: %v", err)
	}
	if err := mine.SetStatus("rds", StatusFailed, nil); !errors.Is(err, ErrConflict) || mine.Conflict() == nil {
		t.Errorf("a later write: %v, want the same conflict", err)
	}
	again, err := Open(ctx, p.a, "myapp", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Output("vpc", "vpc_id"); got != "vpc-2" || again.Output("rds", "endpoint") != "" {
		t.Errorf("stored state: vpc %q, rds %q; want the other run's write kept", got, again.Output("rds", "endpoint"))
	}
}
