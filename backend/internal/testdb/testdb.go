// Package testdb gives tests a fresh database: SQLite in a temporary directory,
// or a new MySQL database on the server named by TEST_MYSQL_DSN, dropped after
// the test. Without TEST_MYSQL_DSN MySQL tests skip, unless CI is set: in CI
// they must run, so they fail.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/myappctl/myappctl/backend/internal/store"
)

// DSNEnv names the variable that points the tests at a MySQL/MariaDB server.
const DSNEnv = "TEST_MYSQL_DSN"

// SQLite opens a new SQLite store in a temporary directory.
func SQLite(tb testing.TB) *store.SQL {
	tb.Helper()
	s, err := store.OpenSQLite(context.Background(), filepath.Join(tb.TempDir(), "todo.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// MySQL opens a store on a new, empty MySQL database.
func MySQL(tb testing.TB) *store.SQL {
	tb.Helper()
	cfg := MySQLConfig(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := store.OpenMySQL(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// MySQLConfig creates a new database (myapp_test_<random>) on the TEST_MYSQL_DSN
// server, drops it when the test ends, and returns settings that point at it.
func MySQLConfig(tb testing.TB) store.MySQLConfig {
	tb.Helper()
	server := serverConfig(tb)
	admin, err := mysql.NewConnector(server)
	if err != nil {
		tb.Fatalf("%s: %v", DSNEnv, err)
	}
	db := sql.OpenDB(admin)
	tb.Cleanup(func() { db.Close() })

	name := "myapp_test_" + randomHex(tb, 6)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A database name cannot be a placeholder; name is ours, [a-z0-9_] only.
	if _, err := db.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4"); err != nil {
		tb.Fatalf("create test database on %s: %v", server.Addr, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})

	host, portText, err := net.SplitHostPort(server.Addr)
	if err != nil {
		tb.Fatalf("%s address %q: %v", DSNEnv, server.Addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		tb.Fatalf("%s port %q: %v", DSNEnv, portText, err)
	}
	return store.MySQLConfig{Host: host, Port: port, User: server.User, Password: server.Passwd, Database: name}
}

// serverConfig reads TEST_MYSQL_DSN, skipping (or failing, in CI) when it is unset.
func serverConfig(tb testing.TB) *mysql.Config {
	tb.Helper()
	dsn := os.Getenv(DSNEnv)
	if dsn == "" {
		if InCI() {
			tb.Fatalf("%s is not set, and CI is: the MySQL tests must run in CI", DSNEnv)
		}
		tb.Skipf("%s is not set (e.g. myapp_test:myapp_test@tcp(127.0.0.1:3306)/test after make setup); skipping the MySQL tests", DSNEnv)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		tb.Fatalf("%s: %v", DSNEnv, err)
	}
	if cfg.Net != "tcp" {
		tb.Fatalf("%s: use a tcp address, e.g. myapp_test:myapp_test@tcp(127.0.0.1:3306)/test", DSNEnv)
	}
	cfg.DBName = ""
	cfg.Timeout = 5 * time.Second
	return cfg
}

// InCI reports whether the CI variable is set to something true.
func InCI() bool {
	v := os.Getenv("CI")
	if v == "" {
		return false
	}
	ci, err := strconv.ParseBool(v)
	return err != nil || ci // any non-boolean value counts as set
}

func randomHex(tb testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}
