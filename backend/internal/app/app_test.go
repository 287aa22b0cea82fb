package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/myappctl/myappctl/backend/internal/config"
	"github.com/myappctl/myappctl/backend/internal/store"
	"github.com/myappctl/myappctl/backend/internal/testdb"
	"github.com/myappctl/myappctl/internal/settings/settingstest"
)

func TestMainRejectsBadSettings(t *testing.T) {
	var stderr bytes.Buffer
	env := map[string]string{"PORT": "http", "CAROUSEL_CACHE_TTL": "soon", "DBURL": "db", "DBPASSWORD": "pw-in-env-9731",
		"SETTINGS_PATH": "/myappctl/myapp/backend/", "SETTINGS_REFRESH": "often", "AWS_REGION": "us-east-1"}
	code := Main(t.Context(), func(k string) string { return env[k] }, &stderr)
	if code != ExitBadSettings {
		t.Errorf("exit code %d, want %d", code, ExitBadSettings)
	}
	out := stderr.String()
	for _, want := range []string{`PORT="http"`, `CAROUSEL_CACHE_TTL="soon"`, `SETTINGS_REFRESH="often"`} {
		if !strings.Contains(out, want) {
			t.Errorf("message lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "pw-in-env-9731") {
		t.Errorf("message shows the password:\n%s", out)
	}
}

// Main on SQLite: it serves, and stops cleanly when its context ends.
func TestMainServesAndShutsDown(t *testing.T) {
	env := map[string]string{"PORT": "0", "SQLITE_PATH": filepath.Join(t.TempDir(), "todo.db")}
	logs := &settingstest.Logs{}
	ctx, cancel := context.WithCancel(t.Context())
	exited := make(chan int, 1)
	go func() { exited <- Main(ctx, func(k string) string { return env[k] }, logs) }()

	base := listeningAt(t, logs)
	if status, body := get(t, base+"/health"); status != http.StatusOK {
		t.Fatalf("/health: %d %s", status, body)
	}
	// An idle keep-alive connection must not hold up the shutdown.
	cancel()
	select {
	case code := <-exited:
		if code != ExitOK {
			t.Errorf("exit code %d, want 0; logs:\n%s", code, logs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Main did not return after its context ended")
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no shutdown log line:\n%s", logs)
	}
	if _, err := http.Get(base + "/health"); err == nil {
		t.Error("still serving after shutdown")
	}
}

// listeningAt waits for Main's "listening" log line and returns its base URL.
func listeningAt(t *testing.T, logs *settingstest.Logs) string {
	t.Helper()
	var base string
	eventually(t, 5*time.Second, func() bool {
		m := regexp.MustCompile(`msg=listening addr=\S*:(\d+)`).FindStringSubmatch(logs.String())
		if m != nil {
			base = "http://127.0.0.1:" + m[1]
		}
		return m != nil
	})
	return base
}

func TestShutdownWaitsForInFlightRequests(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	slow := &blockingStore{Store: testdb.SQLite(t), started: started, release: release}
	base, cancel, done := startRun(t, slow)

	result := make(chan int, 1)
	go func() {
		status, _ := get(t, base+"/todo")
		result <- status
	}()
	<-started
	cancel() // shutdown begins while GET /todo is still running
	addr := strings.TrimPrefix(base, "http://")
	eventually(t, 5*time.Second, func() bool { // the listener is closed: shutdown has begun
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	close(release)
	if status := <-result; status != http.StatusOK {
		t.Errorf("in-flight request got %d, want 200", status)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// The server listens at once; /health says 503 with the reason until MySQL
// becomes reachable, then 200, with no restart.
func TestStartupRetriesUntilDatabaseReachable(t *testing.T) {
	cfg := testdb.MySQLConfig(t)
	proxy := testdb.NewProxy(t, fmt.Sprintf("%s:%d", cfg.Host, cfg.Port), false)
	cfg.Host, cfg.Port = proxy.Host(), proxy.Port()
	base, logs, cancel, wait := startMySQLRun(t, cfg)

	var reason string
	eventually(t, 5*time.Second, func() bool {
		status, body := get(t, base+"/health")
		reason = body["reason"]
		return status == http.StatusServiceUnavailable && strings.Contains(logs.String(), "attempt=3")
	})
	if !strings.Contains(reason, "not connected yet") {
		t.Errorf("503 reason %q does not say why", reason)
	}

	proxy.SetUp(true)
	eventually(t, 10*time.Second, func() bool {
		status, _ := get(t, base+"/health")
		return status == http.StatusOK
	})
	postTodo(t, base, "works")
	cancel()
	if err := wait(); err != nil {
		t.Errorf("Run: %v", err)
	}
	if !strings.Contains(logs.String(), "database connected") {
		t.Errorf("no log line for the connection:\n%s", logs)
	}
}

func TestPasswordIsNeverLogged(t *testing.T) {
	const password = "Pa55-never-in-logs-4411"
	down := testdb.NewProxy(t, "127.0.0.1:1", false)
	cfg := store.MySQLConfig{Host: down.Host(), Port: down.Port(), User: "root", Password: password, Database: "todo"}
	base, logs, cancel, wait := startMySQLRun(t, cfg)
	eventually(t, 5*time.Second, func() bool { return strings.Contains(logs.String(), "attempt=2") })
	_, body := get(t, base+"/health")
	cancel()
	wait()
	if out := logs.String() + fmt.Sprint(body); strings.Contains(out, password) {
		t.Fatalf("password leaked:\n%s", out)
	}
}

// startMySQLRun runs the app on MySQL; wait returns Run's result (and may be called again).
func startMySQLRun(t *testing.T, cfg store.MySQLConfig) (base string, logs *settingstest.Logs, cancel context.CancelFunc, wait func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs = &settingstest.Logs{}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	opts := Options{
		Config:   config.Config{MySQL: &cfg, CORSOrigin: "*", CarouselTTL: time.Second},
		Listener: ln,
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
		Retry:    store.Retry{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond, AttemptTimeout: 2 * time.Second},
	}
	go func() { errc <- Run(ctx, opts) }()
	wait = sync.OnceValue(func() error { return <-errc })
	t.Cleanup(func() { cancel(); wait() })
	return "http://" + ln.Addr().String(), logs, cancel, wait
}

// startRun runs the app on s through the same handler Run builds.
func startRun(t *testing.T, s store.Store) (base string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	cfg := config.Config{CORSOrigin: "*", CarouselTTL: time.Second}
	log := slog.New(slog.DiscardHandler)
	src, err := newCarousel(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		errc <- serve(ctx, Options{Config: cfg, Listener: ln, Logger: log, ShutdownTimeout: 5 * time.Second}, s, src)
	}()
	return "http://" + ln.Addr().String(), cancel, errc
}

// blockingStore holds List until released, to keep a request in flight.
type blockingStore struct {
	store.Store
	started chan<- struct{}
	release <-chan struct{}
}

func (b *blockingStore) List(ctx context.Context) ([]store.Todo, error) {
	close(b.started)
	<-b.release
	return b.Store.List(ctx)
}

func get(t *testing.T, url string) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]string
	json.Unmarshal(raw, &body) // lists do not decode into a map; callers that need them ignore body
	return resp.StatusCode, body
}

// eventually polls cond every 10ms until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
