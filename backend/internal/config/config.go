// Package config reads the backend's settings from the environment, with the
// names of the original compose file (PORT, DBURL, DBUSER, DBPASSWORD,
// DBDATABASE, DBPORT) plus the carousel, CORS and SQLite settings.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/myappctl/myappctl/backend/internal/store"
	"github.com/myappctl/myappctl/internal/settings"
)

// Config is the backend's settings.
type Config struct {
	Port        int
	MySQL       *store.MySQLConfig // nil: use SQLite at SQLitePath
	SQLitePath  string
	CORSOrigin  string
	CarouselURL string // empty: serve the bundled list
	CarouselTTL time.Duration
	LogLevel    slog.Level
}

// Defaults, as documented in the README.
const (
	DefaultPort        = 8080
	DefaultDBPort      = 3306
	DefaultDBUser      = "root"
	DefaultDBDatabase  = "todo"
	DefaultSQLitePath  = "todo.db"
	DefaultCORSOrigin  = "*"
	DefaultCarouselTTL = 30 * time.Second
)

// FromEnv reads the settings through getenv (os.Getenv in production). It
// reports every bad setting at once. Errors never quote DBPASSWORD.
func FromEnv(getenv func(string) string) (Config, error) {
	return read(getenv, true)
}

// LiveNames are the settings the backend also takes from its Parameter Store
// path, and follows while it runs.
var LiveNames = []string{"DBURL", "DBPORT", "DBUSER", "DBPASSWORD", "DBDATABASE", "CAROUSEL_URL"}

// WithParameters reads the settings as FromEnv does, each parameter named in
// LiveNames in place of the environment variable of that name. Its errors
// name the setting but quote no value.
func WithParameters(getenv func(string) string, params map[string]string) (Config, error) {
	return read(settings.Overlay(getenv, params, LiveNames...), false)
}

// read reads the settings; quote puts each bad value in its error.
func read(getenv func(string) string, quote bool) (Config, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		what := name
		if quote {
			what = fmt.Sprintf("%s=%q", name, getenv(name))
		}
		errs = append(errs, fmt.Errorf("%s: %s", what, fmt.Sprintf(format, args...)))
	}
	cfg := Config{
		SQLitePath:  orDefault(getenv("SQLITE_PATH"), DefaultSQLitePath),
		CORSOrigin:  orDefault(getenv("CORS_ORIGIN"), DefaultCORSOrigin),
		CarouselURL: strings.TrimSpace(getenv("CAROUSEL_URL")),
		CarouselTTL: DefaultCarouselTTL,
	}

	var ok bool
	if cfg.Port, ok = port(getenv("PORT"), DefaultPort); !ok {
		bad("PORT", "want a port number, 1-65535 (0 picks a free one)")
	}
	if v := getenv("CAROUSEL_CACHE_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad("CAROUSEL_CACHE_TTL", "want a positive Go duration such as 30s or 2m")
		}
		cfg.CarouselTTL = d
	}
	if cfg.CarouselURL != "" {
		if u, err := url.Parse(cfg.CarouselURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("CAROUSEL_URL", "want an http(s) URL such as https://BUCKET.s3.amazonaws.com/carrousel/carrousel.json")
		}
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(v)); err != nil {
			bad("LOG_LEVEL", "want debug, info, warn or error")
		}
	}

	if host := strings.TrimSpace(getenv("DBURL")); host != "" {
		if strings.ContainsAny(host, "/@?# ") {
			// Not quoted: a URL or DSN here may carry the password.
			errs = append(errs, errors.New("DBURL: want the database host name only, such as "+
				"database-1.abc.us-east-1.rds.amazonaws.com (the value, which looks like a URL, is not shown)"))
		}
		dbPort, ok := port(getenv("DBPORT"), DefaultDBPort)
		if !ok || dbPort == 0 {
			bad("DBPORT", "want a port number, 1-65535")
		}
		cfg.MySQL = &store.MySQLConfig{
			Host:     host,
			Port:     dbPort,
			User:     orDefault(getenv("DBUSER"), DefaultDBUser),
			Password: getenv("DBPASSWORD"),
			Database: orDefault(getenv("DBDATABASE"), DefaultDBDatabase),
		}
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("bad settings:\n%w", errors.Join(errs...))
	}
	return cfg, nil
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

func port(v string, def int) (int, bool) {
	if v = strings.TrimSpace(v); v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0 && n <= 65535
}
