package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
)

// dialect holds what differs between the SQL databases we support.
type dialect struct {
	name   string
	schema []string // statements that create the table if it is missing
	// timeArg converts a timestamp into the value the database stores.
	timeArg func(time.Time) any
}

// SQL is a Store on a database/sql database. Every query is parameterised.
type SQL struct {
	db      *sql.DB
	dialect dialect
	closed  atomic.Bool
}

const todoColumns = `id, title, label, completed, created_at, updated_at`

func newSQL(ctx context.Context, db *sql.DB, d dialect) (*SQL, error) {
	for _, stmt := range d.schema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("create %s table: %w", d.name, err)
		}
	}
	return &SQL{db: db, dialect: d}, nil
}

// Close closes the pool; later calls report ErrUnavailable.
func (s *SQL) Close() error {
	s.closed.Store(true)
	return s.db.Close()
}

// Ping reports whether the database answers.
func (s *SQL) Ping(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	return classify(s.db.PingContext(ctx))
}

// List returns every todo, newest first.
func (s *SQL) List(ctx context.Context) ([]Todo, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+todoColumns+` FROM todos ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list todos: %w", classify(err))
	}
	defer rows.Close()
	todos := []Todo{}
	for rows.Next() {
		t, err := scanTodo(rows)
		if err != nil {
			return nil, fmt.Errorf("list todos: %w", classify(err))
		}
		todos = append(todos, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list todos: %w", classify(err))
	}
	return todos, nil
}

// Create stores a new todo and returns it with its id and timestamps.
func (s *SQL) Create(ctx context.Context, n NewTodo) (Todo, error) {
	if err := s.checkOpen(); err != nil {
		return Todo{}, err
	}
	at := now()
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO todos (title, label, completed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		n.Title, n.Label, n.Completed, s.dialect.timeArg(at), s.dialect.timeArg(at))
	if err != nil {
		return Todo{}, fmt.Errorf("create todo: %w", classify(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Todo{}, fmt.Errorf("create todo: read its id: %w", classify(err))
	}
	return Todo{ID: strconv.FormatInt(id, 10), Title: n.Title, Label: n.Label, Completed: n.Completed,
		CreatedAt: at, UpdatedAt: at}, nil
}

// Update applies p to the todo and returns the stored result.
func (s *SQL) Update(ctx context.Context, id string, p Patch) (Todo, error) {
	if err := s.checkOpen(); err != nil {
		return Todo{}, err
	}
	key, ok := parseID(id)
	if !ok {
		return Todo{}, ErrNotFound
	}
	// COALESCE keeps the stored value for every field the patch leaves nil.
	_, err := s.db.ExecContext(ctx,
		`UPDATE todos SET title = COALESCE(?, title), label = COALESCE(?, label),
		 completed = COALESCE(?, completed), updated_at = ? WHERE id = ?`,
		p.Title, p.Label, p.Completed, s.dialect.timeArg(now()), key)
	if err != nil {
		return Todo{}, fmt.Errorf("update todo %s: %w", id, classify(err))
	}
	return s.get(ctx, key)
}

// Delete removes the todo and returns what it held.
func (s *SQL) Delete(ctx context.Context, id string) (Todo, error) {
	if err := s.checkOpen(); err != nil {
		return Todo{}, err
	}
	key, ok := parseID(id)
	if !ok {
		return Todo{}, ErrNotFound
	}
	t, err := s.get(ctx, key)
	if err != nil {
		return Todo{}, err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM todos WHERE id = ?`, key)
	if err != nil {
		return Todo{}, fmt.Errorf("delete todo %s: %w", id, classify(err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return Todo{}, ErrNotFound // deleted by someone else in between
	}
	return t, nil
}

func (s *SQL) get(ctx context.Context, key int64) (Todo, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+todoColumns+` FROM todos WHERE id = ?`, key)
	t, err := scanTodo(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Todo{}, ErrNotFound
	}
	if err != nil {
		return Todo{}, fmt.Errorf("read todo %d: %w", key, classify(err))
	}
	return t, nil
}

func (s *SQL) checkOpen() error {
	if s.closed.Load() {
		return fmt.Errorf("%w: the database has been closed", ErrUnavailable)
	}
	return nil
}

// parseID turns a public id into the table key; anything else matches no todo.
func parseID(id string) (int64, bool) {
	key, err := strconv.ParseInt(id, 10, 64)
	return key, err == nil && key > 0 && strconv.FormatInt(key, 10) == id
}

func scanTodo(row interface{ Scan(...any) error }) (Todo, error) {
	var (
		t                Todo
		id               int64
		created, updated dbTime
	)
	if err := row.Scan(&id, &t.Title, &t.Label, &t.Completed, &created, &updated); err != nil {
		return Todo{}, err
	}
	t.ID = strconv.FormatInt(id, 10)
	t.CreatedAt, t.UpdatedAt = created.Time, updated.Time
	return t, nil
}

// dbTime scans either a DATETIME (MySQL with parseTime) or unix milliseconds (SQLite).
type dbTime struct{ time.Time }

func (d *dbTime) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		d.Time = v.UTC()
	case int64:
		d.Time = time.UnixMilli(v).UTC()
	default:
		return fmt.Errorf("timestamp column holds %T, want a time or unix milliseconds", src)
	}
	return nil
}

// classify marks connection failures as ErrUnavailable so the API answers 503, not 500.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var netErr net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, sql.ErrConnDone), errors.As(err, &netErr),
		errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
