package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/myappctl/myappctl/backend/internal/store"
	"github.com/myappctl/myappctl/backend/internal/testdb"
)

type healthBody struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

func checkHealth(t *testing.T, srv *apiServer, wantStatus int, wantBody string) healthBody {
	t.Helper()
	r := srv.do(t, "GET", "/health", "")
	if r.status != wantStatus {
		t.Fatalf("/health status %d, want %d; body %s", r.status, wantStatus, r.body)
	}
	got := decode[healthBody](t, r)
	if got.Status != wantBody {
		t.Fatalf("/health status field %q, want %q", got.Status, wantBody)
	}
	return got
}

func TestHealthOK(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *store.SQL) {
		srv := newServer(t, open(t), serverOptions{})
		r := srv.do(t, "GET", "/health", "")
		mustStatus(t, r, http.StatusOK)
		if got := strings.TrimSpace(string(r.body)); got != `{"status":"ok"}` {
			t.Errorf("body %s, want {\"status\":\"ok\"}", got)
		}
	})
}

func TestHealthWhenSQLiteIsClosed(t *testing.T) {
	s := testdb.SQLite(t)
	srv := newServer(t, s, serverOptions{})
	checkHealth(t, srv, http.StatusOK, "ok")
	s.Close()
	got := checkHealth(t, srv, http.StatusServiceUnavailable, "unavailable")
	if !strings.Contains(got.Reason, "closed") {
		t.Errorf("reason %q does not say the database is closed", got.Reason)
	}
	r := srv.do(t, "GET", "/todo", "")
	mustStatus(t, r, http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

func TestHealthWhenMySQLStopsAnswering(t *testing.T) {
	cfg := testdb.MySQLConfig(t)
	proxy := testdb.NewProxy(t, fmt.Sprintf("%s:%d", cfg.Host, cfg.Port), true)
	cfg.Host, cfg.Port = proxy.Host(), proxy.Port()
	s, err := store.OpenMySQL(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := newServer(t, s, serverOptions{})
	checkHealth(t, srv, http.StatusOK, "ok")
	srv.create(t, `{"title":"before the outage"}`)

	proxy.SetUp(false)
	got := checkHealth(t, srv, http.StatusServiceUnavailable, "unavailable")
	if got.Reason == "" {
		t.Error("503 without a reason")
	}
	mustStatus(t, srv.do(t, "GET", "/todo", ""), http.StatusServiceUnavailable)
	mustStatus(t, srv.do(t, "POST", "/todo", `{"title":"during the outage"}`), http.StatusServiceUnavailable)

	proxy.SetUp(true)
	checkHealth(t, srv, http.StatusOK, "ok")
	if todos := srv.list(t); len(todos) != 1 {
		t.Errorf("after the outage list = %+v", todos)
	}
}
