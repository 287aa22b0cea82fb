package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/go-sql-driver/mysql"

	"github.com/myappctl/myappctl/backend/internal/config"
	"github.com/myappctl/myappctl/backend/internal/store"
	"github.com/myappctl/myappctl/backend/internal/testdb"
	"github.com/myappctl/myappctl/internal/settings"
	"github.com/myappctl/myappctl/internal/settings/settingstest"
)

const livePath = "/myappctl/test/backend/"

// liveBed runs the backend with its settings in a settingstest.Parameters and
// its reports in a settingstest.Bucket, as on an instance.
type liveBed struct {
	base   string
	params *settingstest.Parameters
	bucket *settingstest.Bucket
	logs   *settingstest.Logs
}

func startLive(t *testing.T, initial map[string]string) *liveBed {
	t.Helper()
	params := settingstest.NewParameters()
	params.Put(livePath, initial, "DBPASSWORD")
	return startLiveWith(t, params)
}

func startLiveWith(t *testing.T, params *settingstest.Parameters) *liveBed {
	t.Helper()
	b := &liveBed{params: params, bucket: &settingstest.Bucket{}, logs: &settingstest.Logs{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SQLITE_PATH": filepath.Join(t.TempDir(), "todo.db")}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	opts := Options{
		Config: config.Config{SQLitePath: env["SQLITE_PATH"], CORSOrigin: "*", CarouselTTL: time.Hour},
		Settings: settings.Runtime{
			Source: settings.ParameterStore{Client: b.params, Path: livePath}, Path: livePath, Refresh: 10 * time.Millisecond,
			Reporter: &settings.ReporterOptions{Client: b.bucket, Bucket: "artifacts", Interval: time.Hour, RetryDelay: 10 * time.Millisecond,
				Report: settings.Report{Stack: "test", Tier: "backend", Release: strings.Repeat("0a", 32), Instance: "i-0test"}},
		},
		Getenv:   func(k string) string { return env[k] },
		Listener: ln,
		Logger:   slog.New(slog.NewTextHandler(b.logs, nil)),
		Retry:    store.Retry{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond, AttemptTimeout: 2 * time.Second},
	}
	go func() { errc <- Run(ctx, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("backend logs:\n%s", b.logs)
		}
	})
	b.base = "http://" + ln.Addr().String()
	return b
}

// waitVersion waits until the backend reports the version of values, with no error.
func (b *liveBed) waitVersion(t *testing.T, values map[string]string) {
	t.Helper()
	want := settings.Version(values)
	b.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsVersion == want && r.SettingsError == "" })
}

func (b *liveBed) put(values map[string]string) { b.params.Put(livePath, values, "DBPASSWORD") }

// switchUnderLoad puts values while clients keep posting and listing todos,
// and checks that none of their requests failed before, during or after the
// backend took the new settings.
func (b *liveBed) switchUnderLoad(t *testing.T, values map[string]string) {
	t.Helper()
	l := startLoad(b.base)
	l.waitRequests(t, 50)
	b.put(values)
	b.waitVersion(t, values)
	l.waitRequests(t, 50)
	l.end(t)
}

func dbParams(c store.MySQLConfig) map[string]string {
	return map[string]string{"DBURL": c.Host, "DBPORT": strconv.Itoa(c.Port), "DBUSER": c.User, "DBPASSWORD": c.Password, "DBDATABASE": c.Database}
}

// load sends POST and GET /todo from a few clients until stopped, and
// records every request that did not succeed.
type load struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	requests atomic.Int32
	mu       sync.Mutex
	failures []string
}

func startLoad(base string) *load {
	l := &load{stop: make(chan struct{})}
	for range 3 {
		l.wg.Go(func() {
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				l.check(http.Post(base+"/todo", "application/json", strings.NewReader(`{"title":"load"}`)))
				l.check(http.Get(base + "/todo"))
			}
		})
	}
	return l
}

func (l *load) check(resp *http.Response, err error) {
	l.requests.Add(1)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 300 {
			return
		}
		err = errors.New(resp.Status)
	}
	l.mu.Lock()
	l.failures = append(l.failures, err.Error())
	l.mu.Unlock()
}

// waitRequests waits until n more requests were made.
func (l *load) waitRequests(t *testing.T, n int32) {
	t.Helper()
	target := l.requests.Load() + n
	eventually(t, 10*time.Second, func() bool { return l.requests.Load() >= target })
}

func (l *load) end(t *testing.T) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	if len(l.failures) > 0 {
		t.Errorf("%d of %d requests failed, first: %s", len(l.failures), l.requests.Load(), l.failures[0])
	}
}

func postTodo(t *testing.T, base, title string) {
	t.Helper()
	resp, err := http.Post(base+"/todo", "application/json", strings.NewReader(`{"title":"`+title+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /todo: %s", resp.Status)
	}
}

// titles lists the titles in the database c.
func titles(t *testing.T, c store.MySQLConfig) []string {
	t.Helper()
	s, err := store.OpenMySQL(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return todoTitles(t, s)
}

func todoTitles(t *testing.T, s store.Store) []string {
	t.Helper()
	todos, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, td := range todos {
		if td.Title != "load" {
			out = append(out, td.Title)
		}
	}
	return out
}

// connectionsTo counts the server's connections whose database is c's.
func connectionsTo(t *testing.T, c store.MySQLConfig) int {
	t.Helper()
	admin := c
	admin.Database = ""
	connector, err := mysql.NewConnector(admin.DriverConfig())
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = ?`, c.Database).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A second database is switched to while requests keep succeeding; new todos
// land in it, and the old pool is closed.
func TestLiveSwitchToASecondDatabase(t *testing.T) {
	first, second := testdb.MySQLConfig(t), testdb.MySQLConfig(t)
	b := startLive(t, dbParams(first))
	b.waitVersion(t, dbParams(first))
	eventually(t, 10*time.Second, func() bool { status, _ := get(t, b.base+"/health"); return status == http.StatusOK })
	postTodo(t, b.base, "before")

	b.switchUnderLoad(t, dbParams(second))

	postTodo(t, b.base, "after")
	if got := strings.Join(titles(t, second), ","); got != "after" {
		t.Errorf("new database holds %q, want only after", got)
	}
	if got := strings.Join(titles(t, first), ","); got != "before" {
		t.Errorf("old database holds %q, want only before", got)
	}
	if n := connectionsTo(t, first); n != 0 {
		t.Errorf("%d connections to the old database are still open", n)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, "connecting to the new database before leaving the old one") || !strings.Contains(logs, "the old pool is closed") {
		t.Errorf("the switch is not logged:\n%s", logs)
	}
}

// A new database that cannot be reached leaves the old one serving and is
// reported, without its password; it is tried again at the next refresh.
func TestLiveUnreachableDatabaseKeepsTheOld(t *testing.T) {
	first, second := testdb.MySQLConfig(t), testdb.MySQLConfig(t)
	b := startLive(t, dbParams(first))
	b.waitVersion(t, dbParams(first))
	eventually(t, 10*time.Second, func() bool { status, _ := get(t, b.base+"/health"); return status == http.StatusOK })

	proxy := testdb.NewProxy(t, net.JoinHostPort(second.Host, strconv.Itoa(second.Port)), false)
	const password = "Never-Shown-pw-6627"
	unreachable := dbParams(second)
	unreachable["DBURL"], unreachable["DBPORT"], unreachable["DBPASSWORD"] = proxy.Host(), strconv.Itoa(proxy.Port()), password
	l := startLoad(b.base)
	b.put(unreachable)
	r := b.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsError != "" })
	if r.SettingsVersion != settings.Version(dbParams(first)) || !strings.Contains(r.SettingsError, "still serving from the old one") {
		t.Errorf("report %+v: want the old version and why", r)
	}
	l.waitRequests(t, 30)
	l.end(t)
	if strings.Contains(r.SettingsError, password) || strings.Contains(b.logs.String(), password) {
		t.Errorf("the password shows in the report or the logs:\n%s\n%s", r.SettingsError, b.logs)
	}

	reachable := dbParams(second)
	reachable["DBURL"], reachable["DBPORT"] = proxy.Host(), strconv.Itoa(proxy.Port())
	b.put(reachable)
	time.Sleep(30 * time.Millisecond) // a few refreshes fail while the proxy is down
	proxy.SetUp(true)
	b.waitVersion(t, reachable)
	postTodo(t, b.base, "moved")
	if got := strings.Join(titles(t, second), ","); got != "moved" {
		t.Errorf("new database holds %q", got)
	}
}

// With the old database down the backend switches at once and connects to
// the new one in the background.
func TestLiveOldDatabaseDownSwitchesAtOnce(t *testing.T) {
	first, second := testdb.MySQLConfig(t), testdb.MySQLConfig(t)
	oldProxy := testdb.NewProxy(t, net.JoinHostPort(first.Host, strconv.Itoa(first.Port)), true)
	newProxy := testdb.NewProxy(t, net.JoinHostPort(second.Host, strconv.Itoa(second.Port)), false)
	viaProxy := func(c store.MySQLConfig, p *testdb.Proxy) map[string]string {
		v := dbParams(c)
		v["DBURL"], v["DBPORT"] = p.Host(), strconv.Itoa(p.Port())
		return v
	}
	b := startLive(t, viaProxy(first, oldProxy))
	eventually(t, 10*time.Second, func() bool { status, _ := get(t, b.base+"/health"); return status == http.StatusOK })

	oldProxy.SetUp(false)
	b.put(viaProxy(second, newProxy))
	b.waitVersion(t, viaProxy(second, newProxy)) // in effect although not connected yet
	if status, body := get(t, b.base+"/health"); status != http.StatusServiceUnavailable || !strings.Contains(body["reason"], "database unavailable") {
		t.Errorf("/health = %d %v, want 503 while connecting", status, body)
	}
	newProxy.SetUp(true)
	eventually(t, 10*time.Second, func() bool { status, _ := get(t, b.base+"/health"); return status == http.StatusOK })
}

// Starting on SQLite (no DBURL yet), the backend moves to MySQL when the
// database settings appear, without failing a request.
func TestLiveFromSQLiteToMySQL(t *testing.T) {
	b := startLive(t, map[string]string{})
	b.waitVersion(t, map[string]string{})
	postTodo(t, b.base, "on sqlite")
	db := testdb.MySQLConfig(t)
	b.switchUnderLoad(t, dbParams(db))
	postTodo(t, b.base, "on mysql")
	if got := strings.Join(titles(t, db), ","); got != "on mysql" {
		t.Errorf("MySQL holds %q", got)
	}
}

// On SQLite: a settings read that fails keeps the backend serving and is
// reported until reading works again; a bad setting is kept out.
func TestLiveSettingsFailuresKeepServing(t *testing.T) {
	b := startLive(t, map[string]string{})
	b.waitVersion(t, map[string]string{})
	postTodo(t, b.base, "kept")

	b.params.Fail(&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform ssm:GetParametersByPath"})
	r := b.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsError != "" })
	if !strings.Contains(r.SettingsError, "AccessDeniedException") || r.SettingsVersion != settings.Version(map[string]string{}) {
		t.Errorf("report %+v", r)
	}
	l := startLoad(b.base)
	l.waitRequests(t, 30)
	l.end(t)
	b.params.Fail(nil)
	b.waitVersion(t, map[string]string{})

	bad := map[string]string{"DBURL": "db.example.com", "DBPORT": "not-a-port"}
	b.put(bad)
	r = b.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsError != "" })
	if !strings.Contains(r.SettingsError, "DBPORT: want a port number") || strings.Contains(r.SettingsError, "not-a-port") {
		t.Errorf("report error %q: want DBPORT named, its value not quoted", r.SettingsError)
	}
	if status, _ := get(t, b.base+"/health"); status != http.StatusOK {
		t.Errorf("/health %d after a bad setting", status)
	}
}

// Until the settings were read once the backend takes no request.
func TestLiveWaitsForTheFirstRead(t *testing.T) {
	params := settingstest.NewParameters()
	params.Fail(errors.New("no route to ssm"))
	b := startLiveWith(t, params)
	r := b.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsError != "" })
	if r.SettingsVersion != "" || !strings.Contains(r.SettingsError, "no route to ssm") {
		t.Errorf("report %+v", r)
	}
	if status, body := get(t, b.base+"/health"); status != http.StatusServiceUnavailable || !strings.Contains(body["reason"], "have not been read yet") {
		t.Errorf("/health = %d %v, want 503 until the settings are read", status, body)
	}
	params.Fail(nil)
	b.waitVersion(t, map[string]string{})
	if status, _ := get(t, b.base+"/health"); status != http.StatusOK {
		t.Errorf("/health = %d after the first read", status)
	}
}

// A CAROUSEL_URL change is served by the next GET /carrousel.
func TestLiveCarouselURL(t *testing.T) {
	bucketList := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `[{"url":"https://%s.s3.amazonaws.com/images/a.png"}]`, name)
		}))
		t.Cleanup(s.Close)
		return s
	}
	one, two := bucketList("one"), bucketList("two")
	b := startLive(t, map[string]string{"CAROUSEL_URL": one.URL})
	b.waitVersion(t, map[string]string{"CAROUSEL_URL": one.URL})
	wantCarousel(t, b.base, "https://one.s3.amazonaws.com/images/a.png")
	b.put(map[string]string{"CAROUSEL_URL": two.URL})
	b.waitVersion(t, map[string]string{"CAROUSEL_URL": two.URL})
	wantCarousel(t, b.base, "https://two.s3.amazonaws.com/images/a.png") // within the hour-long TTL of the first list
}

func wantCarousel(t *testing.T, base, url string) {
	t.Helper()
	resp, err := http.Get(base + "/carrousel")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var images []struct{ URL string }
	if err := json.NewDecoder(resp.Body).Decode(&images); err != nil || len(images) != 1 || images[0].URL != url {
		t.Errorf("/carrousel = %+v (%v), want %s", images, err, url)
	}
}

// Main started as the install script starts it on an instance (SETTINGS_PATH,
// REPORT_BUCKET, AWS_ENDPOINT_URL) reads its settings and reports through the
// real SDK.
func TestMainFollowsParameterStore(t *testing.T) {
	list := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `[{"url":"https://bucket.s3.amazonaws.com/images/from-parameter.png"}]`)
	}))
	defer list.Close()
	params := settingstest.NewParameters()
	params.Put(livePath, map[string]string{"CAROUSEL_URL": list.URL})
	aws := settingstest.NewEndpoint(t, params, "artifacts")
	env := map[string]string{"PORT": "0", "SQLITE_PATH": filepath.Join(t.TempDir(), "todo.db"),
		"SETTINGS_PATH": livePath, "SETTINGS_REFRESH": "10ms", "REPORT_BUCKET": "artifacts", "STACK": "test",
		"RELEASE": strings.Repeat("0c", 32), "INSTANCE_ID": "i-0main", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": aws.URL}
	logs := &settingstest.Logs{}
	ctx, cancel := context.WithCancel(t.Context())
	exited := make(chan int, 1)
	go func() { exited <- Main(ctx, func(k string) string { return env[k] }, logs) }()
	defer func() {
		cancel()
		if code := <-exited; code != ExitOK {
			t.Errorf("exit code %d; logs:\n%s", code, logs)
		}
	}()
	base := listeningAt(t, logs)
	wantCarousel(t, base, "https://bucket.s3.amazonaws.com/images/from-parameter.png")
	want := settings.Version(map[string]string{"CAROUSEL_URL": list.URL})
	eventually(t, 5*time.Second, func() bool {
		r, err := aws.Report("reports/backend/i-0main.json")
		return err == nil && r.SettingsVersion == want && r.Status == settings.StatusRunning
	})
}
