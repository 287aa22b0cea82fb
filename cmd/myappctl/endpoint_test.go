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

	"github.com/myappctl/myappctl/internal/app"
	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws/wire"
	"github.com/myappctl/myappctl/internal/config"
)

// TestEndpointURLSendsRealSDKRequests runs the real command tree with the
// real client factory (app.AWSClients: default credential chain, SDK
// clients, --endpoint-url) against the wire server over a fake account:
// every AWS call of up, status, a second up and destroy is a real signed
// SDK request over HTTP, in each service's own protocol (EC2 Query, AWS
// Query, REST-XML, REST-JSON); no in-process fake is mixed in.
func TestEndpointURLSendsRealSDKRequests(t *testing.T) {
	start := time.Now()
	cloud := fakeaws.New()
	wb := newWireBed(t, cloud) // targets healthy while their instance runs
	counted, handler := wb.counted, wb.handler
	statePath := filepath.Join(t.TempDir(), "myapp.json")
	run := func(args ...string) string {
		t.Helper()
		return wb.mustRun(append([]string{"--state", statePath}, args...)...)
	}
	statusOf := func() []stageStatus {
		t.Helper()
		var st struct{ Stages []stageStatus }
		if err := json.Unmarshal([]byte(run("status", "--output", "json")), &st); err != nil {
			t.Fatal(err)
		}
		return st.Stages
	}

	// Every stage is implemented: up builds all nine.
	var stages []string
	for _, st := range statusOf() {
		if !st.Implemented {
			t.Fatalf("stage %s is not implemented", st.Name)
		}
		stages = append(stages, st.Name)
	}
	upAll := func() string { t.Helper(); return run("up") }
	out := upAll()
	if !regexp.MustCompile(`(?m)^app: http://frontend-lb-\S+\.elb\.amazonaws\.com$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^API: http://backend-lb-\S+:8090$`).MatchString(out) {
		t.Errorf("up does not say where the app is:\n%s", out)
	}
	for _, name := range stages {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+changed \d+:`).MatchString(out) {
			t.Errorf("up did not build stage %s:\n%s", name, out)
		}
	}
	if strings.Contains(out, "failed") {
		t.Errorf("up:\n%s", out)
	}
	if n := cloud.EC2.ComputeCount()["instance"]; n == 0 {
		t.Errorf("no instances after up: %v", cloud.EC2.ComputeCount())
	}
	if len(cloud.S3.BucketNames()) == 0 || len(cloud.Lambda.FunctionNames()) != 1 || len(cloud.IAM.RoleNames()) != 3 || len(cloud.IAM.InstanceProfileNames()) != 2 || cloud.RDS.Count()["db-instance"] != 1 {
		t.Errorf("after up: buckets %v, functions %v, roles %v, profiles %v, rds %v", cloud.S3.BucketNames(), cloud.Lambda.FunctionNames(), cloud.IAM.RoleNames(),
			cloud.IAM.InstanceProfileNames(), cloud.RDS.Count())
	}

	// status: every resource exists and nothing drifted, as seen over HTTP.
	before := counted()
	for _, st := range statusOf() {
		if !st.Implemented {
			continue
		}
		if st.Status != "complete" || len(st.Drift) > 0 || st.DriftError != "" {
			t.Errorf("stage %s: status %q, drift %s %s", st.Name, st.Status, st.Drift, st.DriftError)
		}
		for _, r := range st.Resources {
			if r.Live != "exists" {
				t.Errorf("stage %s: %s %s %s is %q", st.Name, r.Type, r.Name, r.ID, r.Live)
			}
		}
	}
	for _, service := range []string{"ec2", "s3", "rds", "lambda", "iam", "elasticloadbalancing"} {
		if counted()[service] == before[service] {
			t.Errorf("status made no %s request over HTTP", service)
		}
	}

	// A second run finds everything and changes nothing.
	cloud.ResetCalls()
	before = counted()
	out = upAll()
	for _, name := range stages {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+up to date$`).MatchString(out) {
			t.Errorf("second up: stage %s is not up to date:\n%s", name, out)
		}
	}
	if m := cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("second up mutated: %v", m)
	}
	sent := 0
	for service, n := range counted() {
		sent += n - before[service]
	}
	if calls := len(cloud.Calls()); calls == 0 || sent != calls {
		t.Errorf("second up: %d fake calls, %d requests over HTTP", calls, sent)
	}

	// destroy removes everything, in every fake.
	if out := run("destroy", "--yes"); !strings.Contains(out, "stack myapp is gone") {
		t.Errorf("destroy:\n%s", out)
	}
	for kind, n := range resourceCounts(cloud) {
		if n != 0 {
			t.Errorf("%d %s left after destroy", n, kind)
		}
	}

	// Every service was asked over HTTP, only ones the server speaks, and
	// every request was one it knew.
	got := counted()
	for _, service := range []string{"ec2", "sts", "s3", "rds", "lambda", "iam", "elasticloadbalancing", "autoscaling", "ssm"} {
		if got[service] == 0 {
			t.Errorf("no %s requests over HTTP: %v", service, got)
		}
	}
	served := handler.(*wire.Server).Services()
	for service := range got {
		if !slices.Contains(served, service) {
			t.Errorf("requests for service %q, which the server does not speak: %v", service, got)
		}
	}
	wb.checkAnswered()
	t.Logf("requests over HTTP by service: %v (in %v)", got, time.Since(start).Round(time.Millisecond))
}

// resourceCounts counts every resource of every fake by kind ("EC2 vpc",
// "S3 bucket", ...).
func resourceCounts(cloud *fakeaws.Cloud) map[string]int {
	counts := map[string]int{}
	v := reflect.ValueOf(cloud).Elem()
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
	counts["S3 bucket"], counts["Lambda function"] = len(cloud.S3.BucketNames()), len(cloud.Lambda.FunctionNames())
	counts["IAM role"], counts["IAM instance profile"] = len(cloud.IAM.RoleNames()), len(cloud.IAM.InstanceProfileNames())
	counts["SSM parameter"] = len(cloud.SSM.ParameterNames())
	return counts
}

// wireBed serves a fake account over HTTP (wire) and runs the real command
// tree against it with the real client factory (app.AWSClients: default
// credential chain, SDK clients, --endpoint-url): every AWS call is a real
// signed SDK request. It counts requests by service and by S3 bucket.
type wireBed struct {
	t       testing.TB
	cloud   *fakeaws.Cloud
	url     string
	handler http.Handler

	// stateServer, when set, answers the S3 requests for stateBucket (a
	// real S3-compatible server behind a reverse proxy that keeps the
	// signed Host header).
	stateServer http.Handler

	// latency is added to every call (benchmarks).
	latency time.Duration

	mu       sync.Mutex
	requests map[string]int // by signed service
	statuses map[int]int    // answers by HTTP status
	s3Writes map[string]int // S3 PUT/POST/DELETE by bucket
	failures []string       // 5xx answers and requests no operation matched
}

func newWireBed(t testing.TB, cloud *fakeaws.Cloud) *wireBed {
	cloud.HealthyWhileRunning() // as in the stage tests
	wb := &wireBed{t: t, cloud: cloud, handler: wire.NewServer(cloud), requests: map[string]int{}, statuses: map[int]int{}, s3Writes: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(wb.serve))
	t.Cleanup(srv.Close)
	wb.url = srv.URL

	for k, v := range emulatorEnv(t) {
		t.Setenv(k, v)
	}
	return wb
}

func (wb *wireBed) serve(w http.ResponseWriter, r *http.Request) {
	time.Sleep(wb.latency)
	rec := &statusRecorder{ResponseWriter: w}
	service := wire.SignedService(r)
	bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	proxied := wb.stateServer != nil && service == "s3" && bucket == stateBucket
	if proxied {
		wb.stateServer.ServeHTTP(rec, r)
	} else {
		wb.handler.ServeHTTP(rec, r)
	}
	wb.mu.Lock()
	defer wb.mu.Unlock()
	wb.requests[service]++
	wb.statuses[rec.status]++
	if service == "s3" && r.Method != http.MethodGet && r.Method != http.MethodHead {
		wb.s3Writes[bucket]++
	}
	if proxied {
		return // the real server answers for itself (NotImplemented included)
	}
	if rec.status >= 500 || rec.Header().Get("X-Amzn-Errortype") == "UnknownOperationException" || strings.Contains(rec.body.String(), "<Code>InvalidAction</Code>") ||
		strings.Contains(rec.body.String(), "<Code>NotImplemented</Code>") {
		wb.failures = append(wb.failures, service+" "+r.Method+" "+r.URL.RequestURI()+": "+rec.body.String())
	}
}

// total counts every request so far.
func (wb *wireBed) total() int {
	n := 0
	for _, c := range wb.counted() {
		n += c
	}
	return n
}

func (wb *wireBed) counted() map[string]int {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	return maps.Clone(wb.requests)
}

// answered counts the answers with an HTTP status.
func (wb *wireBed) answered(status int) int {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	return wb.statuses[status]
}

// writesTo counts the S3 requests that changed something in a bucket.
func (wb *wireBed) writesTo(bucket string) int {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	return wb.s3Writes[bucket]
}

// checkAnswered fails the test for every request the server could not answer.
func (wb *wireBed) checkAnswered() {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	for _, f := range wb.failures {
		wb.t.Errorf("unanswered request: %.400s", f)
	}
}

// exec runs one myappctl command against the server.
func (wb *wireBed) exec(stdin string, args ...string) (stdout, stderr string, err error) {
	clients := func(ctx context.Context, cfg *config.Config, verbose bool) (*awsx.Clients, error) {
		c, err := app.AWSClients(ctx, cfg, verbose)
		if err != nil {
			return nil, err
		}
		checkSDKClients(wb.t, c, wb.handler.(*wire.Server))
		return c, nil
	}
	return execute(deps{clients: clients, stdin: strings.NewReader(stdin)}, append([]string{"--endpoint-url", wb.url}, args...))
}

func (wb *wireBed) mustRun(args ...string) string {
	wb.t.Helper()
	out, errOut, err := wb.exec("", args...)
	if err != nil {
		wb.t.Fatalf("myappctl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// newServingCloud is a fake account whose targets are healthy while their
// instance runs, as in the stage tests.
func newServingCloud() *fakeaws.Cloud {
	cloud := fakeaws.New()
	cloud.HealthyWhileRunning()
	return cloud
}

// emulatorEnv is the environment of a run against the wire server:
// credentials from the environment only (no shared files, no IMDS, no
// per-service endpoints), the short waits of newCLI, and the app binaries
// the compute stages and the Lambda upload.
func emulatorEnv(t testing.TB) map[string]string {
	artifacts := t.TempDir()
	for _, name := range []string{"myapp-backend", "myapp-frontend", "bootstrap"} {
		if err := os.WriteFile(filepath.Join(artifacts, name), []byte("ELF "+name+" v1"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	nowhere := filepath.Join(t.TempDir(), "nonexistent")
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere, "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_EC2_METADATA_DISABLED": "true", "AWS_CA_BUNDLE": "",
		"MYAPP_WAIT_POLL_INTERVAL": "5ms", "MYAPP_WAIT_TIMEOUT": "2s", "MYAPP_WAIT_DESTROY_TIMEOUT": "3s",
		"MYAPP_ARTIFACTS_DIR": artifacts, "MYAPP_STATE_FILE": "",
	}
	for _, svc := range []string{"EC2", "STS", "S3", "RDS", "LAMBDA", "IAM", "ELASTIC_LOAD_BALANCING_V2", "AUTO_SCALING", "SSM"} {
		env["AWS_ENDPOINT_URL_"+svc] = ""
	}
	return env
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
// presigner, built on it) and the wire server speaks its service: none is
// an in-process fake, and none can reach an AWS the test does not serve.
func checkSDKClients(t testing.TB, c *awsx.Clients, srv *wire.Server) {
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
		if _, served := srv.ServiceOf(f.Interface()); !served && pkg != reflect.TypeFor[awsx.Clients]().PkgPath() {
			t.Errorf("client %s (%s) is of a service the wire server does not speak", name, f.Elem().Type())
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
