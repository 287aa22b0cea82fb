package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// moduleRoot is where `go build ./backend` runs: this package is frontend/e2e.
const moduleRoot = "../.."

// backend is the real todo API, built from ./backend and run as a process with
// an SQLite database in a temporary directory.
type backend struct {
	URL    string
	cmd    *exec.Cmd
	output *lockedBuffer
	exited chan struct{}
}

// startBackend builds and starts the backend, waits until /health answers 200,
// and stops it when the test ends.
func startBackend(t *testing.T) *backend {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "backend")
	build := exec.Command("go", "build", "-o", bin, "./backend")
	build.Dir = moduleRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the backend (go build ./backend): %v\n%s", err, out)
	}

	port := freePort(t)
	b := &backend{
		URL:    fmt.Sprintf("http://127.0.0.1:%d", port),
		output: &lockedBuffer{},
		exited: make(chan struct{}),
	}
	b.cmd = exec.Command(bin)
	b.cmd.Env = append(backendEnv(), fmt.Sprintf("PORT=%d", port), "SQLITE_PATH="+filepath.Join(dir, "todo.db"))
	b.cmd.Stdout, b.cmd.Stderr = b.output, b.output
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting the backend: %v", err)
	}
	go func() { _ = b.cmd.Wait(); close(b.exited) }()
	t.Cleanup(func() {
		b.Stop(t)
		if t.Failed() {
			t.Logf("backend output:\n%s", b.output.String())
		}
	})
	if err := b.waitHealthy(20 * time.Second); err != nil {
		t.Fatalf("backend: %v\noutput:\n%s", err, b.output.String())
	}
	return b
}

// backendEnv is this process's environment without database, carousel,
// Parameter Store or report settings, so the backend uses SQLite and its
// bundled images.
func backendEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		if strings.HasPrefix(upper, "DB") || strings.Contains(upper, "CARROUSEL") || strings.Contains(upper, "CAROUSEL") ||
			upper == "PORT" || upper == "SQLITE_PATH" || upper == "CORS_ORIGIN" || strings.HasPrefix(upper, "AWS_") ||
			strings.HasPrefix(upper, "SETTINGS_") || strings.HasPrefix(upper, "REPORT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (b *backend) waitHealthy(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-b.exited:
			return errors.New("exited before answering /health")
		default:
		}
		res, err := client.Get(b.URL + "/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("/health did not answer 200 within %s", timeout)
}

// Stop ends the backend (SIGTERM, then SIGKILL) and waits until it is gone.
func (b *backend) Stop(t *testing.T) {
	t.Helper()
	select {
	case <-b.exited:
		return
	default:
	}
	_ = b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.exited:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPortURL is an http URL on which nothing listens.
func closedPortURL(t *testing.T) string {
	return fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
}

// getJSON is a plain HTTP call to the backend, to check what the page did.
func getJSON(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(res.Body); err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d: %s", url, res.StatusCode, buf.String())
	}
	return buf.Bytes(), nil
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
