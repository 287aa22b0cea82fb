package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/myappctl/myappctl/backend/internal/store"
	"github.com/myappctl/myappctl/backend/internal/testdb"
)

// stores runs f against every implementation, each on a fresh database.
func stores(t *testing.T, f func(t *testing.T, s *store.SQL)) {
	t.Run("sqlite", func(t *testing.T) { f(t, testdb.SQLite(t)) })
	t.Run("mysql", func(t *testing.T) { f(t, testdb.MySQL(t)) })
}

func TestCRUD(t *testing.T) {
	stores(t, func(t *testing.T, s *store.SQL) {
		ctx := context.Background()
		first, err := s.Create(ctx, store.NewTodo{Title: "first", Label: "a"})
		if err != nil {
			t.Fatal(err)
		}
		second, err := s.Create(ctx, store.NewTodo{Title: "second", Completed: true})
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0] != second || list[1] != first {
			t.Fatalf("List = %+v, want [second first] = %+v, %+v", list, second, first)
		}

		done := true
		updated, err := s.Update(ctx, first.ID, store.Patch{Completed: &done})
		if err != nil {
			t.Fatal(err)
		}
		if !updated.Completed || updated.Title != "first" || updated.Label != "a" || !updated.CreatedAt.Equal(first.CreatedAt) {
			t.Errorf("Update = %+v, want only completed changed from %+v", updated, first)
		}
		if updated.UpdatedAt.Before(first.UpdatedAt) {
			t.Errorf("updatedAt went back: %v < %v", updated.UpdatedAt, first.UpdatedAt)
		}

		deleted, err := s.Delete(ctx, first.ID)
		if err != nil || deleted != updated {
			t.Fatalf("Delete = %+v, %v; want %+v", deleted, err, updated)
		}
		if _, err := s.Delete(ctx, first.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second Delete error = %v, want ErrNotFound", err)
		}
		if _, err := s.Update(ctx, first.ID, store.Patch{Completed: &done}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Update of deleted error = %v, want ErrNotFound", err)
		}
		third, err := s.Create(ctx, store.NewTodo{Title: "third"})
		if err != nil {
			t.Fatal(err)
		}
		if third.ID == first.ID {
			t.Errorf("id %s of a deleted todo was handed out again", first.ID)
		}
	})
}

func TestUnknownIDs(t *testing.T) {
	stores(t, func(t *testing.T, s *store.SQL) {
		title := "x"
		for _, id := range []string{"", "0", "-1", "007", "abc", "1 OR 1=1", "99999999999999999999", "1e3"} {
			if _, err := s.Update(context.Background(), id, store.Patch{Title: &title}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Update(%q) error = %v, want ErrNotFound", id, err)
			}
			if _, err := s.Delete(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Delete(%q) error = %v, want ErrNotFound", id, err)
			}
		}
	})
}

func TestConcurrentWrites(t *testing.T) {
	stores(t, func(t *testing.T, s *store.SQL) {
		const writers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					_, err := s.Create(context.Background(), store.NewTodo{Title: fmt.Sprintf("w%d-%d", w, i)})
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.List(context.Background())
		if err != nil || len(list) != writers*each {
			t.Fatalf("List: %d todos, %v; want %d", len(list), err, writers*each)
		}
	})
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	stores(t, func(t *testing.T, s *store.SQL) {
		s.Close()
		if err := s.Ping(context.Background()); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Ping after Close = %v, want ErrUnavailable", err)
		}
		if _, err := s.List(context.Background()); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("List after Close = %v, want ErrUnavailable", err)
		}
	})
}

func TestMySQLStopsAnswering(t *testing.T) {
	cfg := testdb.MySQLConfig(t)
	proxy := testdb.NewProxy(t, fmt.Sprintf("%s:%d", cfg.Host, cfg.Port), true)
	cfg.Host, cfg.Port = proxy.Host(), proxy.Port()
	s, err := store.OpenMySQL(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	proxy.SetUp(false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping with the server gone = %v, want ErrUnavailable", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("List with the server gone = %v, want ErrUnavailable", err)
	}
	proxy.SetUp(true)
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after the server came back: %v", err)
	}
}

func TestConnectInBackgroundRetriesUntilReachable(t *testing.T) {
	cfg := testdb.MySQLConfig(t)
	proxy := testdb.NewProxy(t, fmt.Sprintf("%s:%d", cfg.Host, cfg.Port), false)
	cfg.Host, cfg.Port = proxy.Host(), proxy.Port()

	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	retry := store.Retry{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond, AttemptTimeout: 2 * time.Second}
	attempts := make(chan struct{}, 100)
	c := store.ConnectInBackground(context.Background(), func(ctx context.Context) (*store.SQL, error) {
		defer notify(attempts)
		return store.OpenMySQL(ctx, cfg)
	}, retry, log)
	defer c.Close()

	for range 3 { // several attempts fail while the server is unreachable
		<-attempts
	}
	if err := c.Ping(context.Background()); !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "not connected yet") {
		t.Errorf("Ping while connecting = %v, want ErrUnavailable with the reason", err)
	}
	if _, err := c.List(context.Background()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("List while connecting = %v, want ErrUnavailable", err)
	}

	proxy.SetUp(true)
	select {
	case <-c.Ready():
	case <-time.After(10 * time.Second):
		t.Fatalf("never connected after the server became reachable:\n%s", logs.String())
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Ping after connecting: %v", err)
	}
	if _, err := c.Create(context.Background(), store.NewTodo{Title: "after retry"}); err != nil {
		t.Fatalf("Create after connecting: %v", err)
	}
	out := logs.String()
	if !strings.Contains(out, "database not reachable yet") || !strings.Contains(out, "database connected") {
		t.Errorf("logs do not show the retries and the connection:\n%s", out)
	}
}

// The password must never reach the logs, whether the server is unreachable or refuses it.
func TestRetryLogsNeverShowPassword(t *testing.T) {
	const password = "s3cret-Passw0rd-never-logged"
	cfg := testdb.MySQLConfig(t)
	cfg.Password = password // wrong password: the server refuses it
	down := testdb.NewProxy(t, "127.0.0.1:1", false)
	unreachable := cfg
	unreachable.Host, unreachable.Port = down.Host(), down.Port()

	for name, target := range map[string]store.MySQLConfig{"refused": cfg, "unreachable": unreachable} {
		t.Run(name, func(t *testing.T) {
			var logs syncBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			retry := store.Retry{Initial: time.Millisecond, Max: time.Millisecond, AttemptTimeout: 2 * time.Second}
			attempts := make(chan struct{}, 100)
			c := store.ConnectInBackground(context.Background(), func(ctx context.Context) (*store.SQL, error) {
				defer notify(attempts)
				return store.OpenMySQL(ctx, target)
			}, retry, log)
			for range 2 {
				<-attempts
			}
			err := c.Ping(context.Background())
			c.Close()
			log.Info("settings", "db", target)
			out := logs.String() + fmt.Sprint(err) + target.String()
			if strings.Contains(out, password) {
				t.Fatalf("password leaked:\n%s", out)
			}
			if !strings.Contains(logs.String(), "not reachable yet") {
				t.Errorf("no retry log line:\n%s", logs.String())
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	r := store.Retry{Initial: 100 * time.Millisecond, Max: time.Second}
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond}, {5, time.Second}, {50, time.Second},
	}
	for _, tt := range tests {
		if got := r.Delay(tt.attempt); got != tt.want {
			t.Errorf("Delay(%d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
}

// notify signals ch without ever blocking the connect loop.
func notify(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// syncBuffer is a bytes.Buffer that the connect goroutine and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
