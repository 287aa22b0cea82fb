package api_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks drive the API through a real HTTP server with parallel
// keep-alive clients (4 per CPU) and report requests per second. MySQL runs
// need TEST_MYSQL_DSN; each run gets a fresh database.

const benchListSize = 20 // todos in the list that GET /todo returns

func BenchmarkGetTodo(b *testing.B) {
	benchEachBackend(b, func(b *testing.B, srv *apiServer, client *http.Client) {
		for i := range benchListSize {
			srv.create(b, fmt.Sprintf(`{"title":"todo %d","label":"bench"}`, i))
		}
		runParallel(b, func() (*http.Request, error) {
			return http.NewRequest("GET", srv.URL+"/todo", nil)
		}, client, http.StatusOK)
	})
}

func BenchmarkPostTodo(b *testing.B) {
	benchEachBackend(b, func(b *testing.B, srv *apiServer, client *http.Client) {
		var n atomic.Int64
		runParallel(b, func() (*http.Request, error) {
			body := fmt.Sprintf(`{"title":"bench todo %d","label":"bench"}`, n.Add(1))
			req, err := http.NewRequest("POST", srv.URL+"/todo", strings.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
			return req, err
		}, client, http.StatusCreated)
	})
}

func benchEachBackend(b *testing.B, f func(b *testing.B, srv *apiServer, client *http.Client)) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			srv := newServer(b, be.open(b), serverOptions{discardLogs: true})
			client := &http.Client{
				Timeout:   10 * time.Second,
				Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256},
			}
			b.Cleanup(client.CloseIdleConnections)
			f(b, srv, client)
		})
	}
}

func runParallel(b *testing.B, newRequest func() (*http.Request, error), client *http.Client, want int) {
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := newRequest()
			if err != nil {
				b.Error(err)
				return
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				b.Errorf("%s %s: %d, want %d", req.Method, req.URL.Path, resp.StatusCode, want)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
