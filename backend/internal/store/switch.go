package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Closer is a Store its owner closes when done with it.
type Closer interface {
	Store
	Close() error
}

// Switch is a Store whose database can be replaced while it serves: each call
// runs wholly on the database that was current when it began, and Replace
// closes the old database only once the calls on it have finished, so no
// request sees a closed pool.
type Switch struct {
	current atomic.Pointer[switchEntry]
	mu      sync.Mutex // one Replace or Close at a time
}

type switchEntry struct {
	store   Closer
	inUse   sync.RWMutex // read-held by each call; write-held to retire
	retired bool
}

// NewSwitch returns a Switch serving s.
func NewSwitch(s Closer) *Switch {
	w := &Switch{}
	w.current.Store(&switchEntry{store: s})
	return w
}

// Current returns the database calls go to now.
func (w *Switch) Current() Closer { return w.current.Load().store }

// Replace makes next current at once, waits for the calls still running on
// the old database, then closes it and returns its Close error.
func (w *Switch) Replace(next Closer) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	old := w.current.Swap(&switchEntry{store: next})
	return retire(old)
}

// Close closes the current database; later calls fail with ErrUnavailable.
func (w *Switch) Close() error {
	return w.Replace(Unavailable(fmt.Errorf("%w: the server is shutting down", ErrUnavailable)))
}

func retire(e *switchEntry) error {
	e.inUse.Lock()
	e.retired = true
	e.inUse.Unlock()
	return e.store.Close()
}

// acquire returns the current entry read-locked; release with RUnlock. An
// entry retired between loading and locking is skipped for its successor.
func (w *Switch) acquire() *switchEntry {
	for {
		e := w.current.Load()
		e.inUse.RLock()
		if !e.retired {
			return e
		}
		e.inUse.RUnlock()
	}
}

func on[T any](w *Switch, call func(Store) (T, error)) (T, error) {
	e := w.acquire()
	defer e.inUse.RUnlock()
	return call(e.store)
}

// Ping reports whether the current database answers.
func (w *Switch) Ping(ctx context.Context) error {
	_, err := on(w, func(s Store) (struct{}, error) { return struct{}{}, s.Ping(ctx) })
	return err
}

// List returns every todo, newest first.
func (w *Switch) List(ctx context.Context) ([]Todo, error) {
	return on(w, func(s Store) ([]Todo, error) { return s.List(ctx) })
}

// Create stores a new todo.
func (w *Switch) Create(ctx context.Context, n NewTodo) (Todo, error) {
	return on(w, func(s Store) (Todo, error) { return s.Create(ctx, n) })
}

// Update applies a partial update.
func (w *Switch) Update(ctx context.Context, id string, p Patch) (Todo, error) {
	return on(w, func(s Store) (Todo, error) { return s.Update(ctx, id, p) })
}

// Delete removes a todo.
func (w *Switch) Delete(ctx context.Context, id string) (Todo, error) {
	return on(w, func(s Store) (Todo, error) { return s.Delete(ctx, id) })
}

// Unavailable returns a Store whose every call fails with err, which should
// wrap ErrUnavailable (the API then answers 503 with its text).
func Unavailable(err error) Closer { return unavailable{err} }

type unavailable struct{ err error }

func (u unavailable) Ping(context.Context) error                    { return u.err }
func (u unavailable) List(context.Context) ([]Todo, error)          { return nil, u.err }
func (u unavailable) Create(context.Context, NewTodo) (Todo, error) { return Todo{}, u.err }
func (u unavailable) Delete(context.Context, string) (Todo, error)  { return Todo{}, u.err }
func (u unavailable) Close() error                                  { return nil }
func (u unavailable) Update(context.Context, string, Patch) (Todo, error) {
	return Todo{}, u.err
}
