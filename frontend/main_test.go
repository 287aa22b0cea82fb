package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/myappctl/myappctl/frontend/internal/server"
	"github.com/myappctl/myappctl/internal/settings"
	"github.com/myappctl/myappctl/internal/settings/settingstest"
)

func TestRunRejectsBadSettings(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := map[string]map[string]string{
		"APIURL without scheme":      {"PORT": "8081", "APIURL": "backend-lb:8090"},
		"APIURL not http":            {"PORT": "8081", "APIURL": "ftp://backend"},
		"PORT not a number":          {"PORT": "http", "APIURL": "http://localhost:8080"},
		"SETTINGS_REFRESH bad":       {"PORT": "8081", "SETTINGS_PATH": "/myappctl/x/frontend/", "SETTINGS_REFRESH": "soon", "AWS_REGION": "us-east-1"},
		"REPORT_TIER of the backend": {"PORT": "8081", "REPORT_TIER": "backend"},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), func(k string) string { return env[k] }, logger)
			var bad badSettings
			if !errors.As(err, &bad) {
				t.Fatalf("run = %v, want bad settings", err)
			}
			if want := strings.Fields(name)[0]; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		})
	}
}

const livePath = "/myappctl/test/frontend/"

// liveFrontend serves the frontend with APIURL in a settingstest.Parameters
// and reports in a settingstest.Bucket, as on an instance.
type liveFrontend struct {
	base   string
	params *settingstest.Parameters
	bucket *settingstest.Bucket
	logs   *settingstest.Logs
}

func startLive(t *testing.T, apiURL string) *liveFrontend {
	t.Helper()
	f := &liveFrontend{params: settingstest.NewParameters(), bucket: &settingstest.Bucket{}, logs: &settingstest.Logs{}}
	f.params.Put(livePath, map[string]string{"APIURL": apiURL})
	logger := slog.New(slog.NewTextHandler(f.logs, nil))
	srv, err := server.New(server.Config{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	live := settings.Runtime{
		Source: settings.ParameterStore{Client: f.params, Path: livePath}, Path: livePath, Refresh: 5 * time.Millisecond,
		Reporter: &settings.ReporterOptions{Client: f.bucket, Bucket: "artifacts", Interval: time.Hour,
			Report: settings.Report{Stack: "test", Tier: "frontend", Release: strings.Repeat("0b", 32), Instance: "i-0front"}},
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, ln, srv, live, func(string) string { return "" }, logger) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	f.base = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("frontend logs:\n%s", f.logs)
		}
	})
	f.bucket.AwaitReport(t, func(r settings.Report) bool {
		return r.SettingsVersion == settings.Version(map[string]string{"APIURL": apiURL})
	})
	return f
}

func (f *liveFrontend) configJSON(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(f.base + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestConfigJSONFollowsTheParameter(t *testing.T) {
	f := startLive(t, "http://backend-1.example.com:8090")
	if got := f.configJSON(t); got != `{"apiUrl":"http://backend-1.example.com:8090"}` {
		t.Fatalf("config.json = %s", got)
	}

	relinked := map[string]string{"APIURL": "http://backend-2.example.com:8090"}
	f.params.Put(livePath, relinked)
	f.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsVersion == settings.Version(relinked) })
	if got := f.configJSON(t); got != `{"apiUrl":"http://backend-2.example.com:8090"}` {
		t.Errorf("config.json = %s once the new version is reported", got)
	}
}

func TestFailedReadKeepsTheLastGoodAPIURL(t *testing.T) {
	f := startLive(t, "http://backend-1.example.com:8090")
	f.params.Fail(&smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"})
	f.params.Put(livePath, map[string]string{"APIURL": "http://backend-2.example.com:8090"})
	r := f.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsError != "" })
	if !strings.Contains(r.SettingsError, "ThrottlingException: Rate exceeded") {
		t.Errorf("settingsError %q", r.SettingsError)
	}
	if got := f.configJSON(t); got != `{"apiUrl":"http://backend-1.example.com:8090"}` {
		t.Errorf("config.json = %s while reading fails, want the last good", got)
	}
	f.params.Fail(nil)
	f.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsError == "" })
	if got := f.configJSON(t); got != `{"apiUrl":"http://backend-2.example.com:8090"}` {
		t.Errorf("config.json = %s once reading works again", got)
	}
}

func TestInvalidAPIURLIsKeptOut(t *testing.T) {
	good := map[string]string{"APIURL": "http://backend-1.example.com:8090"}
	f := startLive(t, good["APIURL"])
	f.params.Put(livePath, map[string]string{"APIURL": "backend-2:8090"})
	r := f.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsError != "" })
	if r.SettingsVersion != settings.Version(good) || !strings.Contains(r.SettingsError, "APIURL must start with http://") {
		t.Errorf("report %+v: want the good version in effect and the error", r)
	}
	if got := f.configJSON(t); got != `{"apiUrl":"http://backend-1.example.com:8090"}` {
		t.Errorf("config.json = %s, want the last good", got)
	}
}
