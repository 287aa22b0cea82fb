package settings_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/myappctl/myappctl/internal/settings"
	"github.com/myappctl/myappctl/internal/settings/settingstest"
)

const password = "pw-never-shown-8841"

// watchBed is a Watcher over settingstest.Parameters with a recording apply.
type watchBed struct {
	params  *settingstest.Parameters
	watcher *settings.Watcher
	logs    *settingstest.Logs

	mu       sync.Mutex
	applied  []map[string]string
	applyErr error
	changes  []settings.State
}

func newWatchBed(t *testing.T, initial map[string]string) *watchBed {
	t.Helper()
	b := &watchBed{params: settingstest.NewParameters(), logs: &settingstest.Logs{}}
	b.params.Put(backendPath, initial, "DBPASSWORD")
	b.watcher = settings.NewWatcher(settings.WatcherOptions{
		Source:   settings.ParameterStore{Client: b.params, Path: backendPath},
		Apply:    b.apply,
		Interval: 5 * time.Millisecond,
		Known:    []string{"DBURL", "DBPASSWORD"},
		Secrets:  []string{"DBPASSWORD"},
		OnChange: func(s settings.State) { b.mu.Lock(); b.changes = append(b.changes, s); b.mu.Unlock() },
		Logger:   slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	t.Cleanup(func() {
		if strings.Contains(b.logs.String(), password) {
			t.Errorf("a secret value was logged:\n%s", b.logs)
		}
	})
	return b
}

func (b *watchBed) apply(_ context.Context, values map[string]string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.applyErr != nil {
		return b.applyErr
	}
	b.applied = append(b.applied, maps.Clone(values))
	return nil
}

func (b *watchBed) failApply(err error) { b.mu.Lock(); b.applyErr = err; b.mu.Unlock() }

func (b *watchBed) counts() (applied, changes int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.applied), len(b.changes)
}

func (b *watchBed) refresh(t *testing.T, wantApplied int, want settings.State) {
	t.Helper()
	b.watcher.Refresh(context.Background())
	if got := b.watcher.State(); got != want {
		t.Errorf("state = %+v, want %+v", got, want)
	}
	if n, _ := b.counts(); n != wantApplied {
		t.Errorf("%d applies, want %d", n, wantApplied)
	}
}

func TestWatcherAppliesOnlyChanges(t *testing.T) {
	first := map[string]string{"DBURL": "db-1", "DBPASSWORD": password}
	b := newWatchBed(t, first)
	b.refresh(t, 1, settings.State{Version: settings.Version(first)})
	b.refresh(t, 1, settings.State{Version: settings.Version(first)}) // the same set: not applied again

	second := map[string]string{"DBURL": "db-2", "DBPASSWORD": password, "EXTRA": "x"}
	b.params.Put(backendPath, second, "DBPASSWORD")
	b.refresh(t, 2, settings.State{Version: settings.Version(second)})
	if got := b.applied[1]; !maps.Equal(got, second) {
		t.Errorf("applied %v, want the whole new set %v", got, second)
	}
	if _, changes := b.counts(); changes != 2 {
		t.Errorf("%d OnChange calls, want one per apply", changes)
	}
	logs := b.logs.String()
	for _, want := range []string{`changed="[DBURL EXTRA]"`, "ignoring parameters this service does not use", "names=[EXTRA]"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "db-2") {
		t.Errorf("a value was logged:\n%s", logs)
	}
}

func TestWatcherKeepsLastGoodWhenReadFails(t *testing.T) {
	first := map[string]string{"DBURL": "db-1", "DBPASSWORD": password}
	b := newWatchBed(t, first)
	b.refresh(t, 1, settings.State{Version: settings.Version(first)})

	b.params.Fail(errors.New("connection refused"))
	b.params.Put(backendPath, map[string]string{"DBURL": "db-2"})
	b.refresh(t, 1, settings.State{Version: settings.Version(first), Error: "read settings: read the parameters under " + backendPath + ": connection refused"})
	b.refresh(t, 1, b.watcher.State()) // the same failure: no new change
	if _, changes := b.counts(); changes != 2 {
		t.Errorf("%d OnChange calls, want 2 (applied, failed)", changes)
	}

	b.params.Fail(nil) // recovers at the next read, with the new set
	second := map[string]string{"DBURL": "db-2"}
	b.refresh(t, 2, settings.State{Version: settings.Version(second)})
	if strings.Count(b.logs.String(), "level=WARN msg=\"settings: keeping the last good settings\"") != 1 {
		t.Errorf("a repeated failure should warn once:\n%s", b.logs)
	}
}

func TestWatcherRecoversWithoutChange(t *testing.T) {
	first := map[string]string{"DBURL": "db-1"}
	b := newWatchBed(t, first)
	b.refresh(t, 1, settings.State{Version: settings.Version(first)})
	b.params.Fail(errors.New("throttled"))
	b.watcher.Refresh(context.Background())
	b.params.Fail(nil)
	b.refresh(t, 1, settings.State{Version: settings.Version(first)})
	if _, changes := b.counts(); changes != 3 {
		t.Errorf("%d OnChange calls, want 3 (applied, failed, recovered)", changes)
	}
}

func TestWatcherKeepsLastGoodWhenApplyFails(t *testing.T) {
	first := map[string]string{"DBURL": "db-1", "DBPASSWORD": password}
	b := newWatchBed(t, first)
	b.refresh(t, 1, settings.State{Version: settings.Version(first)})

	const newPassword = "new-pw-also-secret-5512"
	b.params.Put(backendPath, map[string]string{"DBURL": "db-2", "DBPASSWORD": newPassword}, "DBPASSWORD")
	b.failApply(errors.New("cannot reach db-2 as root with " + newPassword))
	b.refresh(t, 1, settings.State{Version: settings.Version(first), Error: "apply settings: cannot reach db-2 as root with <DBPASSWORD>"})
	if strings.Contains(b.logs.String(), newPassword) {
		t.Errorf("the new password was logged:\n%s", b.logs)
	}

	b.failApply(nil) // tried again at the next interval
	b.refresh(t, 2, settings.State{Version: settings.Version(map[string]string{"DBURL": "db-2", "DBPASSWORD": newPassword})})
}

func TestWatcherRunFollowsChanges(t *testing.T) {
	b := newWatchBed(t, map[string]string{"DBURL": "db-1"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.watcher.Run(ctx); close(done) }()
	second := map[string]string{"DBURL": "db-2"}
	b.params.Put(backendPath, second)
	eventually(t, func() bool { return b.watcher.State().Version == settings.Version(second) })
	cancel()
	<-done
}

// eventually polls cond every few milliseconds for up to 5 seconds.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
