package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/myappctl/myappctl/internal/app"
	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws/wire"
	"github.com/myappctl/myappctl/internal/config"
)

// wireCLI runs the real command tree with the real client factory
// (app.AWSClients: default credential chain, SDK clients, --endpoint-url)
// against the wire server over a fake account: every AWS call is a real
// signed SDK request over HTTP, in each service's own protocol (EC2 Query,
// AWS Query, REST-XML, REST-JSON); no in-process fake is mixed in.
type wireCLI struct {
	t         *testing.T
	cloud     *fakeaws.Cloud
	handler   http.Handler
	url       string
	statePath string

	mu       sync.Mutex
	requests map[string]int // by signed service
	statuses map[int]int    // answers by HTTP status
	failures []string       // 5xx answers and requests no operation matched
}

func newWireCLI(t *testing.T) *wireCLI {
	w := &wireCLI{t: t, cloud: fakeaws.New(), requests: map[string]int{}, statuses: map[int]int{}, statePath: filepath.Join(t.TempDir(), "myapp.json")}
	cloud := w.cloud
	// As in the stage tests: a target is healthy while its instance runs.
	cloud.ELBV2.HealthOf = func(_, id string) (elbv2types.TargetHealthStateEnum, string) {
		if s, ok := cloud.EC2.InstanceState(id); ok && s != ec2types.InstanceStateNameRunning {
			return elbv2types.TargetHealthStateEnumUnhealthy, string(elbv2types.TargetHealthReasonEnumInvalidState)
		}
		return "", ""
	}
	w.handler = wire.NewServer(cloud)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: rw}
		w.handler.ServeHTTP(rec, r)
		w.mu.Lock()
		defer w.mu.Unlock()
		service := wire.SignedService(r)
		w.requests[service]++
		w.statuses[rec.status]++
		if rec.status >= 500 || rec.Header().Get("X-Amzn-Errortype") == "UnknownOperationException" || strings.Contains(rec.body.String(), "<Code>InvalidAction</Code>") ||
			strings.Contains(rec.body.String(), "<Code>NotImplemented</Code>") {
			w.failures = append(w.failures, service+" "+r.Method+" "+r.URL.RequestURI()+": "+rec.body.String())
		}
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL

	// The app binaries the compute stages and the Lambda upload.
	artifacts := t.TempDir()
	for _, name := range []string{"myapp-backend", "myapp-frontend", "bootstrap"} {
		if err := os.WriteFile(filepath.Join(artifacts, name), []byte("ELF "+name+" v1"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Credentials from the environment only: no shared files, no IMDS, no
	// per-service endpoints; the short waits of newCLI.
	nowhere := filepath.Join(t.TempDir(), "nonexistent")
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere, "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_EC2_METADATA_DISABLED": "true", "AWS_CA_BUNDLE": "",
		"MYAPP_WAIT_POLL_INTERVAL": "5ms", "MYAPP_WAIT_TIMEOUT": "2s", "MYAPP_WAIT_DESTROY_TIMEOUT": "3s",
		"MYAPP_ARTIFACTS_DIR": artifacts,
	}
	for _, svc := range []string{"EC2", "STS", "S3", "RDS", "LAMBDA", "IAM", "ELASTIC_LOAD_BALANCING_V2", "AUTO_SCALING", "SSM"} {
		env["AWS_ENDPOINT_URL_"+svc] = ""
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	return w
}

// run runs one command as the user would type it (after --endpoint-url and --state).
func (w *wireCLI) run(args ...string) (stdout, stderr string, err error) {
	clients := func(ctx context.Context, cfg *config.Config, verbose bool) (*awsx.Clients, error) {
		c, err := app.AWSClients(ctx, cfg, verbose)
		if err != nil {
			return nil, err
		}
		checkSDKClients(w.t, c)
		return c, nil
	}
	var out, errOut bytes.Buffer
	cmd := newRootCmd(deps{clients: clients, stdin: strings.NewReader("")})
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append([]string{"--endpoint-url", w.url, "--state", w.statePath}, args...))
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func (w *wireCLI) mustRun(args ...string) string {
	w.t.Helper()
	out, errOut, err := w.run(args...)
	if err != nil {
		w.t.Fatalf("myappctl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func (w *wireCLI) counted() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.requests)
}

func (w *wireCLI) answered(status int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.statuses[status]
}

func (w *wireCLI) statusOf() []stageStatus {
	w.t.Helper()
	var st struct{ Stages []stageStatus }
	if err := json.Unmarshal([]byte(w.mustRun("status", "--output", "json")), &st); err != nil {
		w.t.Fatal(err)
	}
	return st.Stages
}

// assertUpBuiltAll checks up's output names the app and every stage built.
func (w *wireCLI) assertUpBuiltAll(out string, stages []string) {
	w.t.Helper()
	if !regexp.MustCompile(`(?m)^app: http://frontend-lb-\S+\.elb\.amazonaws\.com$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^API: http://backend-lb-\S+:8090$`).MatchString(out) {
		w.t.Errorf("up does not say where the app is:\n%s", out)
	}
	for _, name := range stages {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+changed \d+:`).MatchString(out) {
			w.t.Errorf("up did not build stage %s:\n%s", name, out)
		}
	}
	if strings.Contains(out, "failed") {
		w.t.Errorf("up:\n%s", out)
	}
}

// assertNothingLeft checks every fake is empty, as after a destroy.
func (w *wireCLI) assertNothingLeft() {
	w.t.Helper()
	for kind, n := range w.resourceCounts() {
		if n != 0 {
			w.t.Errorf("%d %s left", n, kind)
		}
	}
}

// resourceCounts counts every resource of every fake by kind.
func (w *wireCLI) resourceCounts() map[string]int {
	counts := map[string]int{}
	v := reflect.ValueOf(w.cloud).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer || f.IsNil() || !v.Type().Field(i).IsExported() {
			continue
		}
		for _, method := range []string{"Count", "ComputeCount"} {
			if m := f.MethodByName(method); m.IsValid() && m.Type().NumIn() == 0 {
				if c, ok := m.Call(nil)[0].Interface().(map[string]int); ok {
					for kind, n := range c {
						counts[v.Type().Field(i).Name+" "+kind] += n
					}
				}
			}
		}
	}
	counts["S3 bucket"] = len(w.cloud.S3.BucketNames())
	counts["Lambda function"] = len(w.cloud.Lambda.FunctionNames())
	counts["IAM role"] = len(w.cloud.IAM.RoleNames())
	return counts
}

// assertAnswered fails on any answer that was a 5xx or named an operation
// the server does not know.
func (w *wireCLI) assertAnswered() {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.failures {
		w.t.Errorf("unanswered request: %.400s", f)
	}
}

// TestEndpointURLSendsRealSDKRequests runs up, status, a second up and
// destroy through the wire (wireCLI).
func TestEndpointURLSendsRealSDKRequests(t *testing.T) {
	start := time.Now()
	w := newWireCLI(t)
	cloud := w.cloud

	// Every stage is implemented: up builds all nine.
	var stages []string
	for _, st := range w.statusOf() {
		if !st.Implemented {
			t.Fatalf("stage %s is not implemented", st.Name)
		}
		stages = append(stages, st.Name)
	}
	out := w.mustRun("up")
	w.assertUpBuiltAll(out, stages)
	if n := cloud.EC2.ComputeCount()["instance"]; n == 0 {
		t.Errorf("no instances after up: %v", cloud.EC2.ComputeCount())
	}
	if len(cloud.S3.BucketNames()) == 0 || len(cloud.Lambda.FunctionNames()) != 1 || len(cloud.IAM.RoleNames()) != 1 || cloud.RDS.Count()["db-instance"] != 1 {
		t.Errorf("after up: buckets %v, functions %v, roles %v, rds %v", cloud.S3.BucketNames(), cloud.Lambda.FunctionNames(), cloud.IAM.RoleNames(), cloud.RDS.Count())
	}

	// status: every resource exists and nothing drifted, as seen over HTTP.
	before := w.counted()
	w.assertStatusClean()
	for _, service := range []string{"ec2", "s3", "rds", "lambda", "iam", "elasticloadbalancing"} {
		if w.counted()[service] == before[service] {
			t.Errorf("status made no %s request over HTTP", service)
		}
	}

	// A second run finds everything and changes nothing.
	cloud.ResetCalls()
	before = w.counted()
	out = w.mustRun("up")
	for _, name := range stages {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+up to date$`).MatchString(out) {
			t.Errorf("second up: stage %s is not up to date:\n%s", name, out)
		}
	}
	if m := cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("second up mutated: %v", m)
	}
	sent := 0
	for service, n := range w.counted() {
		sent += n - before[service]
	}
	if calls := len(cloud.Calls()); calls == 0 || sent != calls {
		t.Errorf("second up: %d fake calls, %d requests over HTTP", calls, sent)
	}

	// destroy removes everything, in every fake.
	if out := w.mustRun("destroy", "--yes"); !strings.Contains(out, "stack myapp is gone") {
		t.Errorf("destroy:\n%s", out)
	}
	w.assertNothingLeft()

	// Every service was asked over HTTP, only ones the server speaks, and
	// every request was one it knew.
	got := w.counted()
	for _, service := range []string{"ec2", "sts", "s3", "rds", "lambda", "iam", "elasticloadbalancing"} {
		if got[service] == 0 {
			t.Errorf("no %s requests over HTTP: %v", service, got)
		}
	}
	served := w.handler.(*wire.Server).Services()
	for service := range got {
		if !slices.Contains(served, service) {
			t.Errorf("requests for service %q, which the server does not speak: %v", service, got)
		}
	}
	w.assertAnswered()
	t.Logf("requests over HTTP by service: %v", got)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

// assertStatusClean checks that status sees every resource and no drift.
func (w *wireCLI) assertStatusClean() {
	w.t.Helper()
	for _, st := range w.statusOf() {
		if !st.Implemented {
			continue
		}
		if st.Status != "complete" || len(st.Drift) > 0 || st.DriftError != "" {
			w.t.Errorf("stage %s: status %q, drift %s %s", st.Name, st.Status, st.Drift, st.DriftError)
		}
		for _, r := range st.Resources {
			if r.Live != "exists" {
				w.t.Errorf("stage %s: %s %s %s is %q", st.Name, r.Type, r.Name, r.ID, r.Live)
			}
		}
	}
}

type stageStatus struct {
	Name        string
	Status      string
	Implemented bool
	Resources   []struct{ Type, Name, ID, Live string }
	Drift       []any
	DriftError  string
}

// checkSDKClients fails unless every client is the SDK's (or, for the
// presigner, built on it): none is an in-process fake.
func checkSDKClients(t *testing.T, c *awsx.Clients) {
	t.Helper()
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		if f.Kind() != reflect.Interface {
			continue
		}
		if f.IsNil() {
			t.Errorf("client %s is not set", name)
			continue
		}
		pkg := reflect.Indirect(f.Elem()).Type().PkgPath()
		if strings.Contains(pkg, "fakeaws") || !strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/service/") && pkg != reflect.TypeFor[awsx.Clients]().PkgPath() {
			t.Errorf("client %s is a %s from %s, not the SDK's", name, f.Elem().Type(), pkg)
		}
	}
}

// statusRecorder keeps a response's status and body.
type statusRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.body.Len() < 4096 {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}
