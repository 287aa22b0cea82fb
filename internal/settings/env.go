package settings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Env is the part of a service's environment that says where its settings
// come from and where it reports; the install script writes it into the
// service's env file. None of it is secret.
type Env struct {
	Path           string        // SETTINGS_PATH; empty: environment variables only
	Refresh        time.Duration // SETTINGS_REFRESH, default 5s
	Bucket         string        // REPORT_BUCKET; empty: no reports
	Tier           string        // REPORT_TIER, the service's own tier
	Stack          string        // STACK
	Release        string        // RELEASE: SHA-256 (hex) of the installed binary
	ReportInterval time.Duration // REPORT_INTERVAL, default 5m
	InstanceID     string        // INSTANCE_ID; empty: asked of IMDS
	Region         string        // AWS_REGION
	EndpointURL    string        // AWS_ENDPOINT_URL (emulators, tests)
}

var (
	pathPattern   = regexp.MustCompile(`^(/[a-zA-Z0-9_.-]+)+/$`)
	bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	stackPattern  = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)
	regionPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)+$`)
)

// ReadEnv reads the Env of the service of the given tier through getenv
// (os.Getenv in production), reporting every bad variable at once.
func ReadEnv(getenv func(string) string, tier string) (Env, error) {
	var errs []error
	bad := func(name, why string) { errs = append(errs, fmt.Errorf("%s=%q: %s", name, getenv(name), why)) }
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	duration := func(name string, def time.Duration) time.Duration {
		if get(name) == "" {
			return def
		}
		d, err := time.ParseDuration(get(name))
		if err != nil || d <= 0 {
			bad(name, "want a positive Go duration such as 5s or 5m")
		}
		return d
	}
	e := Env{
		Path: get("SETTINGS_PATH"), Refresh: duration("SETTINGS_REFRESH", DefaultRefresh),
		Bucket: get("REPORT_BUCKET"), Tier: get("REPORT_TIER"), Stack: get("STACK"), Release: get("RELEASE"),
		ReportInterval: duration("REPORT_INTERVAL", DefaultReportInterval),
		InstanceID:     get("INSTANCE_ID"), Region: get("AWS_REGION"), EndpointURL: get("AWS_ENDPOINT_URL"),
	}
	if e.Path != "" && !strings.HasSuffix(e.Path, "/") {
		e.Path += "/"
	}
	if e.Path != "" && !pathPattern.MatchString(e.Path) {
		bad("SETTINGS_PATH", "want a Parameter Store path such as "+Path("myapp", tier))
	}
	if e.Tier == "" {
		e.Tier = tier
	} else if e.Tier != tier {
		bad("REPORT_TIER", "this is the "+tier+" service")
	}
	if e.Bucket != "" && !bucketPattern.MatchString(e.Bucket) {
		bad("REPORT_BUCKET", "want an S3 bucket name")
	}
	if e.Bucket != "" && !stackPattern.MatchString(e.Stack) {
		bad("STACK", "want the stack name; REPORT_BUCKET needs it")
	}
	if e.Bucket != "" && !releasePattern.MatchString(e.Release) {
		bad("RELEASE", "want the SHA-256 (64 hex digits) of the installed binary; REPORT_BUCKET needs it")
	}
	if e.InstanceID != "" && !instancePattern.MatchString(e.InstanceID) {
		bad("INSTANCE_ID", "want an EC2 instance id such as i-0123456789abcdef0")
	}
	if (e.Path != "" || e.Bucket != "") && !regionPattern.MatchString(e.Region) {
		bad("AWS_REGION", "want the stack's region such as us-east-1; SETTINGS_PATH and REPORT_BUCKET need it")
	}
	if e.EndpointURL != "" {
		if u, err := url.Parse(e.EndpointURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("AWS_ENDPOINT_URL", "want an http(s) URL such as http://localhost:4566")
		}
	}
	if len(errs) > 0 {
		return Env{}, fmt.Errorf("bad settings:\n%w", errors.Join(errs...))
	}
	return e, nil
}

// Runtime is how a service follows its settings and reports what it runs:
// built from the environment by FromEnv, or by hand in tests.
type Runtime struct {
	Source   Source           // nil: environment variables only
	Path     string           // where Source reads, for messages
	Refresh  time.Duration    // between reads; default DefaultRefresh
	Reporter *ReporterOptions // nil: no reports
}

// FromEnv reads the environment (see ReadEnv) and builds the AWS clients it
// asks for, with the SDK's default credential chain (the instance role on
// EC2). It calls no AWS API.
func FromEnv(ctx context.Context, getenv func(string) string, tier string) (Runtime, error) {
	env, err := ReadEnv(getenv, tier)
	if err != nil || (env.Path == "" && env.Bucket == "") {
		return Runtime{}, err
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(env.Region)}
	if env.EndpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(env.EndpointURL))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return Runtime{}, fmt.Errorf("load the AWS SDK configuration: %w", err)
	}
	rt := Runtime{Path: env.Path, Refresh: env.Refresh}
	if env.Path != "" {
		rt.Source = ParameterStore{Client: ssm.NewFromConfig(cfg), Path: env.Path}
	}
	if env.Bucket != "" {
		// An emulator's <bucket>.localhost does not resolve: path-style there.
		client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = env.EndpointURL != "" })
		rt.Reporter = &ReporterOptions{
			Client: client, Bucket: env.Bucket, Interval: env.ReportInterval,
			Report:     Report{Stack: env.Stack, Tier: env.Tier, Release: env.Release, Instance: env.InstanceID},
			InstanceID: InstanceIDFrom(imds.NewFromConfig(cfg)),
		}
	}
	return rt, nil
}

// StartOptions are what the service adds to its Runtime.
type StartOptions struct {
	Apply   ApplyFunc // required when the Runtime has a Source
	Known   []string  // names the service uses (see WatcherOptions)
	Secrets []string  // names whose values never show in messages
	Logger  *slog.Logger
}

// Start reads and applies the settings once (a failure is logged, reported
// and retried), then follows them and writes reports in the background until
// ctx ends. stop ends that and waits for it.
func (rt Runtime) Start(ctx context.Context, opts StartOptions) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var reporter *Reporter
	if rt.Reporter != nil {
		ro := *rt.Reporter
		if ro.Logger == nil {
			ro.Logger = opts.Logger
		}
		reporter = NewReporter(ro)
	}
	if rt.Source != nil {
		w := NewWatcher(WatcherOptions{Source: rt.Source, Apply: opts.Apply, Interval: rt.Refresh,
			Known: opts.Known, Secrets: opts.Secrets, Logger: opts.Logger})
		if reporter != nil {
			w.opts.OnChange = reporter.Update
		}
		w.Refresh(ctx)
		wg.Go(func() { w.Run(ctx) })
	}
	if reporter != nil {
		wg.Go(func() { reporter.Run(ctx) })
	}
	return func() { cancel(); wg.Wait() }
}

// Overlay returns a getenv in which each of names reads its parameter when
// values has one, and the environment otherwise: a parameter overrides the
// environment variable of the same name.
func Overlay(getenv func(string) string, values map[string]string, names ...string) func(string) string {
	return func(name string) string {
		if v, ok := values[name]; ok && slices.Contains(names, name) {
			return v
		}
		return getenv(name)
	}
}
