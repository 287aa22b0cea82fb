package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/myappctl/myappctl/backend/internal/carousel"
	"github.com/myappctl/myappctl/backend/internal/config"
	"github.com/myappctl/myappctl/backend/internal/store"
	"github.com/myappctl/myappctl/internal/settings"
)

// database says which database the backend uses: MySQL when mysql.Host is
// set, else SQLite at sqlitePath. Comparable, so a change is ==.
type database struct {
	mysql      store.MySQLConfig
	sqlitePath string
}

func databaseOf(cfg config.Config) database {
	if cfg.MySQL != nil {
		return database{mysql: *cfg.MySQL}
	}
	return database{sqlitePath: cfg.SQLitePath}
}

// LogValue describes the database without the password.
func (d database) LogValue() slog.Value {
	if d.mysql.Host == "" {
		return slog.GroupValue(slog.String("sqlite", d.sqlitePath))
	}
	return slog.GroupValue(slog.Any("mysql", d.mysql))
}

// pingTimeout bounds the check whether the old database still answers.
const pingTimeout = 2 * time.Second

// liveSettings puts settings read from Parameter Store into effect: the
// database (switched without failing a request) and the carousel URL.
type liveSettings struct {
	getenv   func(string) string
	retry    store.Retry
	log      *slog.Logger
	db       *store.Switch
	carousel *carousel.Source
	inEffect database
}

// initialStore is what the backend serves from at start: the environment's
// database, or, when the settings come from a Source, nothing until they are
// read (an instance must not take requests on a database it was not given).
func (l *liveSettings) initialStore(ctx context.Context, cfg config.Config, rt settings.Runtime) (store.Closer, error) {
	if rt.Source != nil {
		return store.Unavailable(fmt.Errorf("%w: the settings at %s have not been read yet", store.ErrUnavailable, rt.Path)), nil
	}
	l.inEffect = databaseOf(cfg)
	return l.open(ctx, l.inEffect, false)
}

// apply is the settings.ApplyFunc: all of the set or, on error, none of it.
func (l *liveSettings) apply(ctx context.Context, params map[string]string) error {
	cfg, err := config.WithParameters(l.getenv, params)
	if err != nil {
		return err
	}
	if next := databaseOf(cfg); next != l.inEffect {
		if err := l.switchDatabase(ctx, next); err != nil {
			return err
		}
		l.inEffect = next
	}
	l.carousel.SetURL(cfg.CarouselURL)
	return nil
}

// switchDatabase makes next the database. While the old one works, next is
// connected (ping, table created) before it takes over, and the old pool is
// closed once its requests are done; if next cannot be reached the old one
// stays. With no working old database next takes over at once.
func (l *liveSettings) switchDatabase(ctx context.Context, next database) error {
	pingCtx, cancel := context.WithTimeout(ctx, pingTimeout)
	oldWorks := l.db.Current().Ping(pingCtx) == nil
	cancel()
	if oldWorks {
		l.log.Info("database settings changed: connecting to the new database before leaving the old one", "db", next)
	} else {
		l.log.Info("database settings changed and the old database does not answer: switching at once", "db", next)
	}
	s, err := l.open(ctx, next, oldWorks)
	if err != nil {
		return fmt.Errorf("the new database: %w; still serving from the old one", err)
	}
	if err := l.db.Replace(s); err != nil {
		l.log.Warn("closing the old database pool", "err", err)
	}
	l.log.Info("database switched; the old pool is closed", "db", next)
	return nil
}

// open opens d. MySQL is connected in the background unless now is set, in
// which case one attempt is made and its failure returned.
func (l *liveSettings) open(ctx context.Context, d database, now bool) (store.Closer, error) {
	if d.mysql.Host == "" {
		s, err := store.OpenSQLite(ctx, d.sqlitePath)
		if err != nil {
			return nil, err
		}
		l.log.Info("database: SQLite (DBURL is not set)", "path", d.sqlitePath)
		return s, nil
	}
	if now {
		attemptCtx, cancel := context.WithTimeout(ctx, l.retry.AttemptTimeout)
		defer cancel()
		return store.OpenMySQL(attemptCtx, d.mysql)
	}
	l.log.Info("database: MySQL, connecting in the background", "db", d.mysql)
	open := func(ctx context.Context) (*store.SQL, error) { return store.OpenMySQL(ctx, d.mysql) }
	return store.ConnectInBackground(ctx, open, l.retry, l.log), nil
}
