package settings_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/myappctl/myappctl/internal/settings"
	"github.com/myappctl/myappctl/internal/settings/settingstest"
)

var release = strings.Repeat("3f", 32)

// reportBed runs a Reporter into a settingstest.Bucket with a fixed clock.
type reportBed struct {
	bucket   *settingstest.Bucket
	reporter *settings.Reporter
	logs     *settingstest.Logs
}

func newReportBed(t *testing.T, opts settings.ReporterOptions, failWrites ...error) *reportBed {
	t.Helper()
	b := &reportBed{bucket: &settingstest.Bucket{}, logs: &settingstest.Logs{}}
	for _, err := range failWrites {
		b.bucket.Fail(err)
	}
	opts.Client, opts.Bucket = b.bucket, "myapp-artifacts"
	opts.Report = settings.Report{Stack: "myapp", Tier: "backend", Release: release, Instance: opts.Report.Instance}
	opts.Now = func() time.Time { return time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) }
	opts.Logger = slog.New(slog.NewTextHandler(b.logs, nil))
	b.reporter = settings.NewReporter(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.reporter.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

func TestReporterWritesAtStartAndOnChange(t *testing.T) {
	b := newReportBed(t, settings.ReporterOptions{Report: settings.Report{Instance: "i-0abc"}, Interval: time.Hour})
	first := b.bucket.AwaitReport(t, func(settings.Report) bool { return true })
	want := settings.Report{Stack: "myapp", Tier: "backend", Instance: "i-0abc", Status: settings.StatusRunning,
		Release: release, Time: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	if first.Time != want.Time || first.Stack != want.Stack || first.Tier != want.Tier || first.Instance != want.Instance ||
		first.Status != want.Status || first.Release != want.Release || first.SettingsVersion != "" || first.SettingsError != "" {
		t.Errorf("first report = %+v, want %+v", first, want)
	}
	w := b.bucket.Writes()[0]
	if w.Bucket != "myapp-artifacts" || w.Key != "reports/backend/i-0abc.json" || w.ContentType != "application/json" {
		t.Errorf("written to s3://%s/%s as %q", w.Bucket, w.Key, w.ContentType)
	}

	b.reporter.Update(settings.State{Version: "0123456789abcdef"})
	b.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsVersion == "0123456789abcdef" && r.SettingsError == "" })
	b.reporter.Update(settings.State{Version: "0123456789abcdef", Error: "read settings: throttled"})
	b.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsError == "read settings: throttled" })
	b.reporter.Update(settings.State{Version: "0123456789abcdef"})
	b.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsError == "" })
	time.Sleep(20 * time.Millisecond) // no heartbeat within the hour: exactly one write per event
	if n := len(b.bucket.Writes()); n != 4 {
		t.Errorf("%d writes, want 4 (start and three changes)", n)
	}
}

func TestReporterHeartbeat(t *testing.T) {
	b := newReportBed(t, settings.ReporterOptions{Report: settings.Report{Instance: "i-0abc"}, Interval: 10 * time.Millisecond})
	eventually(t, func() bool { return len(b.bucket.Writes()) >= 4 })
}

func TestReporterRetriesFailedWrites(t *testing.T) {
	b := newReportBed(t, settings.ReporterOptions{Report: settings.Report{Instance: "i-0abc"}, Interval: time.Hour,
		RetryDelay: 5 * time.Millisecond}, errors.New("AccessDenied"))
	b.reporter.Update(settings.State{Version: "0123456789abcdef"})
	eventually(t, func() bool { return strings.Count(b.logs.String(), "report not written") >= 2 })
	b.bucket.Fail(nil) // the next retry writes, well before the hourly heartbeat
	b.bucket.AwaitReport(t, func(r settings.Report) bool { return r.SettingsVersion == "0123456789abcdef" })
}

func TestReporterAsksIMDSForTheInstanceID(t *testing.T) {
	var tokens, failFirst atomic.Int32
	failFirst.Store(1)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			tokens.Add(1)
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"))
			w.Write([]byte("token-1"))
		case r.URL.Path == "/latest/meta-data/instance-id" && r.Header.Get("X-Aws-Ec2-Metadata-Token") == "token-1":
			if failFirst.Add(-1) >= 0 {
				http.Error(w, "not yet", http.StatusNotFound) // not retried by the SDK: by the reporter
				return
			}
			w.Write([]byte("i-0feed\n"))
		default:
			http.Error(w, "unauthorized", http.StatusUnauthorized)
		}
	}))
	defer server.Close()
	client := imds.New(imds.Options{Endpoint: server.URL})
	b := newReportBed(t, settings.ReporterOptions{InstanceID: settings.InstanceIDFrom(client), Interval: time.Hour, RetryDelay: 5 * time.Millisecond})
	b.bucket.AwaitReport(t, func(r settings.Report) bool { return r.Instance == "i-0feed" })
	if key := b.bucket.Writes()[0].Key; key != "reports/backend/i-0feed.json" {
		t.Errorf("key %s", key)
	}
	if tokens.Load() == 0 {
		t.Error("no IMDSv2 token was asked for")
	}
}

func TestReporterRejectsAStrangeInstanceID(t *testing.T) {
	b := newReportBed(t, settings.ReporterOptions{Interval: time.Hour, RetryDelay: time.Hour,
		InstanceID: func(context.Context) (string, error) { return "<html>", nil }})
	eventually(t, func() bool { return strings.Contains(b.logs.String(), "is not an instance id") })
	if n := len(b.bucket.Writes()); n != 0 {
		t.Errorf("%d writes with no instance id", n)
	}
}
