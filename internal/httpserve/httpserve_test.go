package httpserve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestLogRequests(t *testing.T) {
	tests := []struct {
		path   string
		status int
		level  string // "" means not logged at info
	}{
		{"/todo", http.StatusCreated, "INFO"},
		{"/health", http.StatusOK, ""},
		{"/health", http.StatusServiceUnavailable, "INFO"},
		{"/missing", http.StatusNotFound, "INFO"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
		h := LogRequests(log, "/health", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tt.status)
			io.WriteString(w, "hello")
		}))
		req := httptest.NewRequest("GET", tt.path, nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		h.ServeHTTP(httptest.NewRecorder(), req)
		line := buf.String()
		if tt.level == "" {
			if line != "" {
				t.Errorf("%s %d logged at info: %s", tt.path, tt.status, line)
			}
			continue
		}
		for _, want := range []string{"level=" + tt.level, "path=" + tt.path, fmt.Sprintf("status=%d", tt.status), "bytes=5", "forwarded_for=203.0.113.9"} {
			if !strings.Contains(line, want) {
				t.Errorf("log %q lacks %q", line, want)
			}
		}
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(100 * time.Millisecond) // in flight when shutdown begins
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, ln, h, slog.New(slog.NewTextHandler(io.Discard, nil)), 5*time.Second) }()
	body := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			body <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body <- string(b)
	}()
	<-started
	cancel()
	if got := <-body; got != "done" {
		t.Errorf("in-flight request got %q", got)
	}
	if err := <-errc; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
