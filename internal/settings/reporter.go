package settings

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// PutObjectAPI is the one S3 call a service makes: writing its report. The
// SDK's *s3.Client satisfies it.
type PutObjectAPI interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Report timing defaults.
const (
	DefaultReportInterval = 5 * time.Minute
	defaultRetryDelay     = 5 * time.Second
	writeTimeout          = 30 * time.Second
)

// ReporterOptions configure a Reporter. Client, Bucket and Report (Stack,
// Tier, Release) are required; Report.Instance or InstanceID too.
type ReporterOptions struct {
	Client PutObjectAPI
	Bucket string
	// Report holds what does not change: Stack, Tier, Release, and Instance
	// when known; the rest is filled in at each write.
	Report Report
	// InstanceID finds the instance id while Report.Instance is empty (IMDS).
	InstanceID func(ctx context.Context) (string, error)
	// Interval between heartbeats; default DefaultReportInterval.
	Interval time.Duration
	// RetryDelay after a failed write; default 5s (at most Interval).
	RetryDelay time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
}

// Reporter writes the instance's report (status running, release, settings
// version and error) to ReportKey in the bucket: at start, after every
// Update, and as a heartbeat. A failed write is logged and retried.
type Reporter struct {
	opts    ReporterOptions
	changed chan struct{} // one pending wake-up; more coalesce

	mu    sync.Mutex
	state State
}

// NewReporter returns a Reporter; Run starts it.
func NewReporter(opts ReporterOptions) *Reporter {
	if opts.Interval <= 0 {
		opts.Interval = DefaultReportInterval
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = defaultRetryDelay
	}
	opts.RetryDelay = min(opts.RetryDelay, opts.Interval)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Report.Status = StatusRunning
	return &Reporter{opts: opts, changed: make(chan struct{}, 1)}
}

// Update records the watcher's new state and has it written soon.
func (r *Reporter) Update(s State) {
	r.mu.Lock()
	r.state = s
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default: // a write is already due; it will carry this state
	}
}

// Run writes a report at once, then after each Update and every interval,
// until ctx ends.
func (r *Reporter) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.changed:
		case <-timer.C:
		}
		select {
		case <-r.changed: // this write carries that change too
		default:
		}
		next := r.opts.Interval
		if err := r.write(ctx); err != nil {
			r.opts.Logger.Warn("report not written, will retry", "bucket", r.opts.Bucket, "retry_in", r.opts.RetryDelay, "err", err)
			next = r.opts.RetryDelay
		}
		timer.Reset(next)
	}
}

func (r *Reporter) write(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if r.opts.Report.Instance == "" {
		id, err := r.opts.InstanceID(ctx)
		if err != nil {
			return fmt.Errorf("find this instance's id: %w", err)
		}
		if !instancePattern.MatchString(id) {
			return fmt.Errorf("find this instance's id: %q is not an instance id", id)
		}
		r.opts.Report.Instance = id // only Run's goroutine writes it
	}
	report := r.opts.Report
	r.mu.Lock()
	report.SettingsVersion, report.SettingsError = r.state.Version, r.state.Error
	r.mu.Unlock()
	report.Time = r.opts.Now().UTC()
	body, err := json.Marshal(report)
	if err != nil {
		return err
	}
	key := ReportKey(report.Tier, report.Instance)
	_, err = r.opts.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(r.opts.Bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/json"),
	})
	if err != nil {
		return fmt.Errorf("write s3://%s/%s: %w", r.opts.Bucket, key, steadyError{err})
	}
	r.opts.Logger.Debug("report written", "key", key, "version", report.SettingsVersion)
	return nil
}

// IMDSAPI is the instance metadata call that finds the instance id; the
// SDK's *imds.Client (IMDSv2) satisfies it.
type IMDSAPI interface {
	GetMetadata(context.Context, *imds.GetMetadataInput, ...func(*imds.Options)) (*imds.GetMetadataOutput, error)
}

// InstanceIDFrom returns a function that asks the instance metadata service
// for this instance's id.
func InstanceIDFrom(client IMDSAPI) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		out, err := client.GetMetadata(ctx, &imds.GetMetadataInput{Path: "instance-id"})
		if err != nil {
			return "", fmt.Errorf("instance metadata: %w", err)
		}
		defer out.Content.Close()
		id, err := io.ReadAll(io.LimitReader(out.Content, 256))
		if err != nil {
			return "", fmt.Errorf("instance metadata: %w", err)
		}
		return strings.TrimSpace(string(id)), nil
	}
}
