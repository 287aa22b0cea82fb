package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Retry is an exponential retry schedule: wait Initial after the first failed
// attempt, doubling each time up to Max. Each attempt may take AttemptTimeout.
type Retry struct {
	Initial        time.Duration
	Max            time.Duration
	AttemptTimeout time.Duration
}

// DefaultRetry suits an RDS instance that may come up minutes after us.
var DefaultRetry = Retry{Initial: 500 * time.Millisecond, Max: 30 * time.Second, AttemptTimeout: 15 * time.Second}

// Delay returns the wait after the given failed attempt (1-based).
func (r Retry) Delay(attempt int) time.Duration {
	d := r.Initial
	for i := 1; i < attempt && d < r.Max; i++ {
		d *= 2
	}
	return min(d, r.Max)
}

// Opener makes one attempt at connecting to the database.
type Opener func(ctx context.Context) (*SQL, error)

// Connecting is a Store whose database is still being connected in the
// background. Until it is, every call fails with ErrUnavailable and the reason
// of the last failed attempt; afterwards calls go to the connected store.
type Connecting struct {
	mu       sync.Mutex
	store    *SQL
	lastErr  error
	attempts int

	cancel context.CancelFunc
	done   chan struct{} // closed when the connect loop has ended
}

// ConnectInBackground calls open until it succeeds or ctx ends, waiting per retry
// between attempts and logging each failure. It returns at once.
func ConnectInBackground(ctx context.Context, open Opener, retry Retry, log *slog.Logger) *Connecting {
	ctx, cancel := context.WithCancel(ctx)
	c := &Connecting{cancel: cancel, done: make(chan struct{})}
	go c.loop(ctx, open, retry, log)
	return c
}

func (c *Connecting) loop(ctx context.Context, open Opener, retry Retry, log *slog.Logger) {
	defer close(c.done)
	for attempt := 1; ; attempt++ {
		attemptCtx, cancel := context.WithTimeout(ctx, retry.AttemptTimeout)
		s, err := open(attemptCtx)
		cancel()
		if err == nil {
			c.mu.Lock()
			c.store, c.attempts = s, attempt
			c.mu.Unlock()
			log.Info("database connected", "attempt", attempt)
			return
		}
		delay := retry.Delay(attempt)
		c.mu.Lock()
		c.lastErr, c.attempts = err, attempt
		c.mu.Unlock()
		log.Warn("database not reachable yet, will retry", "attempt", attempt, "retry_in", delay, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// Ready is closed once the connect loop has ended, connected or cancelled.
func (c *Connecting) Ready() <-chan struct{} { return c.done }

// Connected returns the connected store, or nil while there is none yet.
func (c *Connecting) Connected() *SQL {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.store
}

// Close stops connecting and closes the database if it was connected.
func (c *Connecting) Close() error {
	c.cancel()
	<-c.done
	if s := c.Connected(); s != nil {
		return s.Close()
	}
	return nil
}

func (c *Connecting) current() (*SQL, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store != nil {
		return c.store, nil
	}
	if c.lastErr == nil {
		return nil, fmt.Errorf("%w: still connecting", ErrUnavailable)
	}
	return nil, fmt.Errorf("%w: not connected yet (attempt %d failed: %v)", ErrUnavailable, c.attempts, c.lastErr)
}

// Ping reports whether the database answers.
func (c *Connecting) Ping(ctx context.Context) error {
	s, err := c.current()
	if err != nil {
		return err
	}
	return s.Ping(ctx)
}

// List returns every todo, newest first.
func (c *Connecting) List(ctx context.Context) ([]Todo, error) {
	s, err := c.current()
	if err != nil {
		return nil, err
	}
	return s.List(ctx)
}

// Create stores a new todo.
func (c *Connecting) Create(ctx context.Context, n NewTodo) (Todo, error) {
	s, err := c.current()
	if err != nil {
		return Todo{}, err
	}
	return s.Create(ctx, n)
}

// Update applies a partial update.
func (c *Connecting) Update(ctx context.Context, id string, p Patch) (Todo, error) {
	s, err := c.current()
	if err != nil {
		return Todo{}, err
	}
	return s.Update(ctx, id, p)
}

// Delete removes a todo.
func (c *Connecting) Delete(ctx context.Context, id string) (Todo, error) {
	s, err := c.current()
	if err != nil {
		return Todo{}, err
	}
	return s.Delete(ctx, id)
}
