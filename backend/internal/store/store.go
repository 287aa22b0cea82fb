// Package store keeps the todos: one Store interface, implemented on MySQL
// (production, RDS) and on an embedded SQLite file (anywhere else).
package store

import (
	"context"
	"errors"
	"time"
)

// Todo is one stored todo item.
type Todo struct {
	ID        string
	Title     string
	Label     string
	Completed bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewTodo holds the fields a caller sets when creating a todo.
type NewTodo struct {
	Title     string
	Label     string
	Completed bool
}

// Patch is a partial update: nil fields keep their stored value.
type Patch struct {
	Title     *string
	Label     *string
	Completed *bool
}

// Empty reports whether the patch changes nothing.
func (p Patch) Empty() bool { return p.Title == nil && p.Label == nil && p.Completed == nil }

// Store is what the HTTP API needs from storage.
type Store interface {
	// List returns every todo, newest first.
	List(ctx context.Context) ([]Todo, error)
	Create(ctx context.Context, t NewTodo) (Todo, error)
	// Update applies p to the todo with the given id and returns the result.
	Update(ctx context.Context, id string, p Patch) (Todo, error)
	// Delete removes the todo with the given id and returns what it was.
	Delete(ctx context.Context, id string) (Todo, error)
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
}

var (
	// ErrNotFound: no todo has the given id.
	ErrNotFound = errors.New("todo not found")
	// ErrUnavailable: the database cannot be reached (not yet, or no longer).
	ErrUnavailable = errors.New("database unavailable")
)

// timePrecision is what both databases store (DATETIME(3), unix milliseconds).
const timePrecision = time.Millisecond

func now() time.Time { return time.Now().UTC().Truncate(timePrecision) }
