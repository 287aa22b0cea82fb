package awsx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// recorder is an HTTP endpoint that logs requests and answers like a
// throttled AWS service, so no call can succeed by accident.
type recorder struct {
	mu   sync.Mutex
	reqs []string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, r.Method+" "+r.Host+r.URL.Path+" "+r.Header.Get("Authorization")[:16])
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprint(w, `<Response><Errors><Error><Code>AuthFailure</Code><Message>emulator says no</Message></Error></Errors></Response>`)
}

func staticCreds(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
}

func TestEndpointURLReachesEveryClient(t *testing.T) {
	staticCreds(t)
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	cfg, err := LoadConfig(context.Background(), Options{Region: "eu-west-1", EndpointURL: srv.URL, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := NewClients(cfg)
	ctx := context.Background()
	_, err = c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if ErrorCode(err) != "AuthFailure" || Hint(err) == "" {
		t.Errorf("EC2 error = %v (code %q)", err, ErrorCode(err))
	}
	_, _ = c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	_, _ = c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("my-bucket")})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	host := strings.TrimPrefix(srv.URL, "http://")
	if len(rec.reqs) != 3 {
		t.Fatalf("requests = %v", rec.reqs)
	}
	for _, r := range rec.reqs {
		if !strings.Contains(r, " "+host+"/") {
			t.Errorf("request not sent to the endpoint: %s", r)
		}
	}
	if !strings.Contains(rec.reqs[2], host+"/my-bucket") {
		t.Errorf("S3 is not path-style against an endpoint: %s", rec.reqs[2])
	}
}

func TestStandardEndpointEnvironmentVariable(t *testing.T) {
	staticCreds(t)
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	cfg, err := LoadConfig(context.Background(), Options{Region: "us-east-1", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !UsesCustomEndpoint(cfg) {
		t.Error("AWS_ENDPOINT_URL not seen")
	}
	_, _ = NewClients(cfg).EC2.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{})
	if len(rec.reqs) != 1 {
		t.Errorf("requests = %v", rec.reqs)
	}
}

func TestNoCredentialsFailsFastWithHelp(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	_, err := LoadConfig(context.Background(), Options{Region: "us-east-1", CredentialTimeout: 3 * time.Second})
	if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") || !strings.Contains(err.Error(), "--profile") ||
		strings.Contains(err.Error(), "emulator") {
		t.Errorf("err = %v", err)
	}
	// Against an emulator, say that any keys will do.
	_, err = LoadConfig(context.Background(), Options{Region: "us-east-1", EndpointURL: "http://127.0.0.1:4566", CredentialTimeout: 3 * time.Second})
	if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "an emulator accepts any values") {
		t.Errorf("err = %v", err)
	}
}

func TestErrorHelpers(t *testing.T) {
	wrap := func(code string) error {
		return fmt.Errorf("stage x: %w", &smithy.GenericAPIError{Code: code, Message: "m"})
	}
	tests := []struct {
		code            string
		notFound, inUse bool
		hint            string
	}{
		{"InvalidVpcID.NotFound", true, false, ""},
		{"NoSuchBucket", true, false, ""},
		{"DBInstanceNotFound", true, false, ""},
		{"DependencyViolation", false, true, ""},
		{"ResourceInUse", false, true, ""},
		{"UnauthorizedOperation", false, false, "permission"},
		{"ExpiredToken", false, false, "expired"},
		{"VpcLimitExceeded", false, false, "quota"},
	}
	for _, tt := range tests {
		err := wrap(tt.code)
		if ErrorCode(err) != tt.code || IsNotFound(err) != tt.notFound || IsDependency(err) != tt.inUse || !strings.Contains(Hint(err), tt.hint) {
			t.Errorf("%s: code %q notFound %v dependency %v hint %q", tt.code, ErrorCode(err), IsNotFound(err), IsDependency(err), Hint(err))
		}
	}
	if ErrorCode(errors.New("plain")) != "" || IsNotFound(nil) {
		t.Error("non-API errors must have no code")
	}
}

func TestIsInstanceProfileNotVisible(t *testing.T) {
	for _, c := range []struct {
		code, msg string
		want      bool
	}{
		{"InvalidParameterValue", "Value (myapp-frontend) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name", true},
		{"InvalidParameterValue", "Value (arn:aws:iam::1:instance-profile/p) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN", true},
		{"ValidationError", "You must use a valid fully-formed launch template. Value (p) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name", true},
		{"InvalidParameterValue", "Value (x) for parameter userData is invalid.", false},
		{"ValidationError", "You must use a valid fully-formed launch template. Value () for parameter groupId is invalid.", false},
		{"InvalidParameterCombination", "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'", false},
		{"AccessDenied", "not authorized to perform: iam:PassRole on iamInstanceProfile.name", false},
	} {
		err := fmt.Errorf("stage security: %w", &smithy.GenericAPIError{Code: c.code, Message: c.msg})
		if got := IsInstanceProfileNotVisible(err); got != c.want {
			t.Errorf("%s %q: %v, want %v", c.code, c.msg, got, c.want)
		}
	}
	if IsInstanceProfileNotVisible(errors.New("parameter iamInstanceProfile.name is invalid")) {
		t.Error("a plain error matched")
	}
}

func TestPollProgressAndTimeout(t *testing.T) {
	var lines []string
	logf := func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }
	n := 0
	err := Poll(context.Background(), WaitSpec{What: "instance i-1 to run", Interval: time.Millisecond, Timeout: time.Second, Log: logf},
		func(context.Context) (bool, string, error) {
			n++
			return n == 4, map[bool]string{true: "pending", false: "running"}[n < 3], nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || !strings.Contains(lines[0], "waiting for instance i-1 to run: pending") || !strings.Contains(lines[1], ": running") || !strings.Contains(lines[2], "done waiting") {
		t.Errorf("progress lines = %q", lines)
	}
	err = Poll(context.Background(), WaitSpec{What: "targets to be healthy", Interval: time.Millisecond, Timeout: 20 * time.Millisecond, Hint: "look with aws elbv2 describe-target-health"},
		func(context.Context) (bool, string, error) { return false, "0/2 healthy", nil })
	if !errors.Is(err, ErrWaitTimeout) || !strings.Contains(err.Error(), "last status: 0/2 healthy") || !strings.Contains(err.Error(), "describe-target-health") {
		t.Errorf("timeout error = %v", err)
	}
	boom := errors.New("boom")
	if err := Poll(context.Background(), WaitSpec{What: "x", Interval: time.Millisecond, Timeout: time.Second},
		func(context.Context) (bool, string, error) { return false, "", boom }); !errors.Is(err, boom) {
		t.Errorf("check error = %v", err)
	}
}

func TestTags(t *testing.T) {
	tags := StackTags("dev", "vpc", "dev-MyApp-VPC")
	spec := tags.EC2Spec("vpc")
	if len(spec) != 1 || len(spec[0].Tags) != 3 || *spec[0].Tags[0].Key != TagName {
		t.Errorf("spec = %+v", spec)
	}
	back := EC2TagMap(spec[0].Tags)
	if !back.OwnedBy("dev") || back.OwnedBy("myapp") {
		t.Errorf("ownership of %v", back)
	}
	// The order is stable, so two listings of one resource compare equal.
	extra := Tags{"b": "2", TagStep: "s", "a": "1", TagName: "n", "c": "3"}
	for range 5 {
		var keys []string
		for _, tag := range extra.SSM() {
			keys = append(keys, *tag.Key)
		}
		if got := strings.Join(keys, ","); got != "Name,myappctl:step,a,b,c" {
			t.Fatalf("order = %s", got)
		}
	}
}

type recordingObserver struct {
	mu     sync.Mutex
	events []Event
}

func (o *recordingObserver) Observe(ev Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, ev)
}

// TestWaitsReportToTheContextsObserver: with an Observer in the context,
// waits report what they wait on, each status and their end to it, and
// print nothing through Log.
func TestWaitsReportToTheContextsObserver(t *testing.T) {
	obs := &recordingObserver{}
	ctx := WithObserver(context.Background(), obs)
	printed := 0
	logf := func(string, ...any) { printed++ }
	n := 0
	err := Poll(ctx, WaitSpec{What: "DB instance database-1 to become available", Interval: time.Millisecond, Timeout: time.Second, Log: logf},
		func(context.Context) (bool, string, error) {
			n++
			return n == 4, map[bool]string{true: "creating", false: "backing-up"}[n < 3], nil
		})
	if err != nil {
		t.Fatal(err)
	}
	err = WaitWithProgress(ctx, WaitSpec{What: "instance(s) i-1 to terminate", Interval: time.Millisecond, Timeout: time.Second, Log: logf},
		func(context.Context, time.Duration) error { return errors.New("waiter failed") })
	if err == nil {
		t.Fatal("waiter error lost")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	err = Poll(canceled, WaitSpec{What: "targets to be healthy", Interval: time.Millisecond, Timeout: time.Second, Log: logf},
		func(context.Context) (bool, string, error) { return false, "0/2 healthy", nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled poll: %v", err)
	}
	if printed != 0 {
		t.Errorf("%d lines printed through Log", printed)
	}
	type seen struct {
		kind   EventKind
		what   string
		status string
		failed bool
	}
	var got []seen
	for _, ev := range obs.events {
		if ev.Since.IsZero() {
			t.Errorf("event without start: %+v", ev)
		}
		got = append(got, seen{ev.Kind, strings.Fields(ev.What)[0], ev.Status, ev.Err != nil})
	}
	want := []seen{
		{EventWaiting, "DB", "creating", false}, {EventWaiting, "DB", "backing-up", false}, {EventWaitDone, "DB", "backing-up", false},
		{EventWaiting, "instance(s)", "", false}, {EventWaitDone, "instance(s)", "", true},
		{EventWaiting, "targets", "0/2 healthy", false}, {EventWaitDone, "targets", "0/2 healthy", true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got %+v\nwant %+v", got, want)
	}
	if l := obs.events[0].Line; l != "waiting for DB instance database-1 to become available: creating (0s)" {
		t.Errorf("line of the first event = %q", l)
	}
}
