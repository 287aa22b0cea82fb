package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

var sqliteDialect = dialect{
	name: "SQLite",
	schema: []string{
		// AUTOINCREMENT so the id of a deleted todo is never handed out again.
		`CREATE TABLE IF NOT EXISTS todos (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			title TEXT NOT NULL,
			label TEXT NOT NULL DEFAULT '',
			completed INTEGER NOT NULL DEFAULT 0,
			created_at INTEGER NOT NULL, -- unix milliseconds
			updated_at INTEGER NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS todos_created_at ON todos (created_at)`,
	},
	timeArg: func(t time.Time) any { return t.UnixMilli() },
}

// OpenSQLite opens (creating if needed) the SQLite database file at path.
func OpenSQLite(ctx context.Context, path string) (*SQL, error) {
	// WAL lets readers run beside the writer; busy_timeout makes concurrent
	// writers wait for each other instead of failing with SQLITE_BUSY.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	s, err := newSQL(ctx, db, sqliteDialect)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("SQLite database %s: %w", path, err)
	}
	return s, nil
}
