package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/myappctl/myappctl/backend/internal/store"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestDefaults(t *testing.T) {
	cfg, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Port: 8080, SQLitePath: "todo.db", CORSOrigin: "*", CarouselTTL: 30 * time.Second, LogLevel: slog.LevelInfo}
	if cfg != want {
		t.Errorf("FromEnv() = %+v, want %+v", cfg, want)
	}
}

func TestMySQLSettings(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want store.MySQLConfig
	}{
		{map[string]string{"DBURL": "database-1.abc.rds.amazonaws.com"},
			store.MySQLConfig{Host: "database-1.abc.rds.amazonaws.com", Port: 3306, User: "root", Database: "todo"}},
		{map[string]string{"DBURL": "db", "DBUSER": "app", "DBPASSWORD": "pw", "DBDATABASE": "todos", "DBPORT": "3307"},
			store.MySQLConfig{Host: "db", Port: 3307, User: "app", Password: "pw", Database: "todos"}},
	}
	for _, tt := range tests {
		cfg, err := FromEnv(env(tt.env))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MySQL == nil || *cfg.MySQL != tt.want {
			t.Errorf("FromEnv(%v).MySQL = %+v, want %+v", tt.env, cfg.MySQL, tt.want)
		}
	}
}

func TestOtherSettings(t *testing.T) {
	cfg, err := FromEnv(env(map[string]string{
		"PORT": "9000", "CAROUSEL_URL": "https://b.s3.amazonaws.com/carrousel/carrousel.json",
		"CAROUSEL_CACHE_TTL": "2m", "CORS_ORIGIN": "http://lb", "SQLITE_PATH": "/var/lib/myapp/todo.db", "LOG_LEVEL": "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Port: 9000, SQLitePath: "/var/lib/myapp/todo.db", CORSOrigin: "http://lb",
		CarouselURL: "https://b.s3.amazonaws.com/carrousel/carrousel.json", CarouselTTL: 2 * time.Minute, LogLevel: slog.LevelDebug}
	if cfg != want {
		t.Errorf("FromEnv = %+v, want %+v", cfg, want)
	}
}

func TestBadSettings(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PORT": "eighty"}, `PORT="eighty": want a port number`},
		{map[string]string{"PORT": "70000"}, `PORT="70000"`},
		{map[string]string{"PORT": "-1"}, `PORT="-1"`},
		{map[string]string{"CAROUSEL_CACHE_TTL": "30"}, `CAROUSEL_CACHE_TTL="30": want a positive Go duration`},
		{map[string]string{"CAROUSEL_CACHE_TTL": "-5s"}, `CAROUSEL_CACHE_TTL="-5s"`},
		{map[string]string{"CAROUSEL_URL": "s3://bucket/carrousel.json"}, `CAROUSEL_URL="s3://bucket/carrousel.json": want an http(s) URL`},
		{map[string]string{"LOG_LEVEL": "loud"}, `LOG_LEVEL="loud"`},
		{map[string]string{"DBURL": "db", "DBPORT": "x"}, `DBPORT="x": want a port number`},
		{map[string]string{"DBURL": "db", "DBPORT": "0"}, `DBPORT="0"`},
		{map[string]string{"DBURL": "mysql://root:pw@db/todo"}, `DBURL: want the database host name only`},
	}
	for _, tt := range tests {
		_, err := FromEnv(env(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FromEnv(%v) error = %v, want it to contain %q", tt.env, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("error shows a password from DBURL: %v", err)
		}
	}
}

func TestAllBadSettingsReportedTogether(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"PORT": "x", "CAROUSEL_CACHE_TTL": "y", "DBURL": "db", "DBPASSWORD": "hunter2", "DBPORT": "z"}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"PORT", "CAROUSEL_CACHE_TTL", "DBPORT"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not mention %s: %v", name, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestWithParametersOverridesTheEnvironment(t *testing.T) {
	getenv := env(map[string]string{"PORT": "8090", "DBURL": "env-db", "DBUSER": "envuser", "DBPASSWORD": "env-pw",
		"CAROUSEL_URL": "https://env.s3.amazonaws.com/c.json"})
	cfg, err := WithParameters(getenv, map[string]string{"DBURL": "param-db", "DBPASSWORD": "param-pw",
		"DBDATABASE": "todos", "PORT": "1"}) // PORT is not a parameter: ignored
	if err != nil {
		t.Fatal(err)
	}
	want := store.MySQLConfig{Host: "param-db", Port: 3306, User: "envuser", Password: "param-pw", Database: "todos"}
	if cfg.Port != 8090 || cfg.MySQL == nil || *cfg.MySQL != want || cfg.CarouselURL != "https://env.s3.amazonaws.com/c.json" {
		t.Errorf("WithParameters = %+v (MySQL %+v)", cfg, cfg.MySQL)
	}
}

func TestWithParametersQuotesNoValue(t *testing.T) {
	_, err := WithParameters(env(nil), map[string]string{"DBURL": "db", "DBPORT": "pw-like-9931", "CAROUSEL_URL": "ftp://x-7781"})
	if err == nil {
		t.Fatal("accepted a bad DBPORT and CAROUSEL_URL")
	}
	msg := err.Error()
	if !strings.Contains(msg, "DBPORT: want a port") || !strings.Contains(msg, "CAROUSEL_URL: want an http(s) URL") {
		t.Errorf("error does not name the settings: %s", msg)
	}
	if strings.Contains(msg, "9931") || strings.Contains(msg, "7781") {
		t.Errorf("error quotes a value: %s", msg)
	}
}
