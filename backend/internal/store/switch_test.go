package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/myappctl/myappctl/backend/internal/store"
	"github.com/myappctl/myappctl/backend/internal/testdb"
)

// Calls running while the database is replaced again and again all succeed,
// and each replaced database is closed.
func TestSwitchReplacesWithoutFailingCalls(t *testing.T) {
	ctx := context.Background()
	sw := store.NewSwitch(testdb.SQLite(t))
	var failures atomic.Int32
	var calls atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := sw.Create(ctx, store.NewTodo{Title: "x"}); err != nil {
					failures.Add(1)
					t.Errorf("Create: %v", err)
				}
				if _, err := sw.List(ctx); err != nil {
					failures.Add(1)
					t.Errorf("List: %v", err)
				}
				calls.Add(2)
			}
		})
	}
	var replaced []*store.SQL
	for range 5 {
		time.Sleep(5 * time.Millisecond)
		old := sw.Current().(*store.SQL)
		if err := sw.Replace(testdb.SQLite(t)); err != nil {
			t.Fatal(err)
		}
		replaced = append(replaced, old)
	}
	close(stop)
	wg.Wait()
	if calls.Load() < 20 || failures.Load() != 0 {
		t.Errorf("%d calls, %d failed", calls.Load(), failures.Load())
	}
	for i, old := range replaced {
		if err := old.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("replaced database %d still open: Ping = %v", i, err)
		}
	}
}

// Replace closes the old database only after the call running on it ends.
func TestSwitchWaitsForCallsOnTheOldDatabase(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	old := &holdingStore{Closer: testdb.SQLite(t), started: started, release: release}
	sw := store.NewSwitch(old)
	listed := make(chan error, 1)
	go func() { _, err := sw.List(context.Background()); listed <- err }()
	<-started

	replaced := make(chan error, 1)
	go func() { replaced <- sw.Replace(testdb.SQLite(t)) }()
	time.Sleep(10 * time.Millisecond)
	if old.closed.Load() {
		t.Fatal("the old database was closed under a running call")
	}
	if _, err := sw.Create(context.Background(), store.NewTodo{Title: "new"}); err != nil { // new calls are not held up
		t.Fatalf("Create during the switch: %v", err)
	}
	close(release)
	if err := <-listed; err != nil {
		t.Errorf("the running call failed: %v", err)
	}
	if err := <-replaced; err != nil || !old.closed.Load() {
		t.Errorf("Replace = %v, old closed %v", err, old.closed.Load())
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.List(context.Background()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("List after Close = %v, want ErrUnavailable", err)
	}
}

// holdingStore holds List until released, and records Close.
type holdingStore struct {
	store.Closer
	started chan<- struct{}
	release <-chan struct{}
	closed  atomic.Bool
}

func (h *holdingStore) List(ctx context.Context) ([]store.Todo, error) {
	close(h.started)
	<-h.release
	return h.Closer.List(ctx)
}

func (h *holdingStore) Close() error {
	h.closed.Store(true)
	return h.Closer.Close()
}
