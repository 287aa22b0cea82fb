package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

var teamLoc = S3Location{Bucket: "team-state", Key: "stacks/myapp.json"}

// fakeBucket is a fake account with the state bucket.
func fakeBucket(t *testing.T) *fakeaws.Cloud {
	t.Helper()
	cloud := fakeaws.New()
	if _, err := cloud.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(teamLoc.Bucket)}); err != nil {
		t.Fatal(err)
	}
	return cloud
}

func openFake(t *testing.T, cloud *fakeaws.Cloud) *S3Store {
	t.Helper()
	s, err := OpenS3Store(context.Background(), cloud.S3, teamLoc, "us-east-1", func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseS3URL(t *testing.T) {
	good := map[string]S3Location{
		"s3://team-state/myapp.json":          {"team-state", "myapp.json"},
		"S3://team.state-1/stacks/dev.json":   {"team.state-1", "stacks/dev.json"},
		"s3://abc/a key with spaces/é.json":   {"abc", "a key with spaces/é.json"},
		"s3://123/x":                          {"123", "x"},
		"s3://my-bucket-s3alias-not/x.json":   {"my-bucket-s3alias-not", "x.json"},
		"s3://team-state//leading-slash.json": {"team-state", "/leading-slash.json"},
	}
	for in, want := range good {
		if got, err := ParseS3URL(in); err != nil || got != want {
			t.Errorf("ParseS3URL(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"s3:/team-state/x":                       "not an S3 URL",
		"s3://":                                  "names no bucket",
		"s3://team-state":                        "names no object key",
		"s3://team-state/":                       "names no object key",
		"s3://team-state/stacks/":                "ends with '/'",
		"s3://Team-State/x":                      `did you mean "team-state"`,
		"s3://ab/x":                              "3-63 characters",
		"s3://team_state/x":                      "only lowercase letters",
		"s3://-team/x":                           "begin and end",
		"s3://team..state/x":                     "two adjacent periods",
		"s3://192.168.1.1/x":                     "IP address",
		"s3://xn--team/x":                        "reserved",
		"s3://team-s3alias/x":                    "reserved",
		"s3://team/" + strings.Repeat("k", 1020): "at most 1019",
	}
	for in, want := range bad {
		if _, err := ParseS3URL(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseS3URL(%q) = %v, want an error with %q", in, err, want)
		}
	}
	for in, want := range map[string]bool{"s3://b/k": true, "S3:b": true, ".myappctl/s3.json": false, "s3.json": false} {
		if IsS3URL(in) != want {
			t.Errorf("IsS3URL(%q) = %v", in, !want)
		}
	}
}

func TestOpenS3StoreRefusesBadBuckets(t *testing.T) {
	ctx := context.Background()
	cloud := fakeBucket(t)
	cloud.S3.CreateBucketIn("eu-state", "eu-west-1")
	_, err := OpenS3Store(ctx, cloud.S3, S3Location{"no-such-bucket", "x.json"}, "us-east-1", t.Logf)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "myappctl state init s3://no-such-bucket/x.json") {
		t.Errorf("missing bucket: %v", err)
	}
	_, err = OpenS3Store(ctx, cloud.S3, S3Location{"eu-state", "x.json"}, "us-east-1", t.Logf)
	if err == nil || !strings.Contains(err.Error(), "is in eu-west-1, not in the stack's region us-east-1") || !strings.Contains(err.Error(), "--region eu-west-1") {
		t.Errorf("bucket of another region: %v", err)
	}
	cloud.Inject("HeadBucket", fakeaws.Fault{Err: fakeaws.APIError("AccessDenied", "Access Denied")})
	_, err = OpenS3Store(ctx, cloud.S3, teamLoc, "us-east-1", t.Logf)
	if err == nil || !strings.Contains(err.Error(), "access denied: your credentials lack s3:ListBucket on arn:aws:s3:::team-state") {
		t.Errorf("denied HeadBucket: %v", err)
	}

	// Versioning off: a warning, and the store works.
	var warnings []string
	warn := func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }
	if _, err := OpenS3Store(ctx, cloud.S3, teamLoc, "us-east-1", warn); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "versioning off") || !strings.Contains(warnings[0], "put-bucket-versioning --bucket team-state") {
		t.Errorf("warnings %q", warnings)
	}
	warnings = nil
	if _, err := cloud.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("team-state"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenS3Store(ctx, cloud.S3, teamLoc, "us-east-1", warn); err != nil || len(warnings) != 0 {
		t.Errorf("versioned bucket: %v, warnings %q", err, warnings)
	}
}

func TestS3StoreNamesTheMissingPermission(t *testing.T) {
	ctx := context.Background()
	cloud := fakeBucket(t)
	s := openFake(t, cloud)
	for op, want := range map[string]string{
		"GetObject": "lack s3:GetObject on arn:aws:s3:::team-state/stacks/myapp.json",
		"PutObject": "lack s3:PutObject on arn:aws:s3:::team-state/stacks/myapp.json",
	} {
		cloud.Inject(op, fakeaws.Fault{Err: fakeaws.APIError("AccessDenied", "Access Denied")})
		_, err := Open(ctx, s, "myapp", "us-east-1")
		if err == nil {
			st, _ := Open(ctx, s, "myapp", "us-east-1")
			err = st.Save()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s denied: %v, want %q", op, err, want)
		}
	}
}

func TestS3StateThatIsNotOursIsRefusedAndLeftUntouched(t *testing.T) {
	ctx := context.Background()
	for name, tt := range map[string]struct{ content, want string }{
		"not json":     {"<html>hello</html>", "is corrupt or not a myappctl state"},
		"other json":   {`{"version": 4, "terraform_version": "1.9.0"}`, "is corrupt or not a myappctl state"},
		"other stack":  {`{"schemaVersion":1,"stack":"dev","region":"us-east-1","stages":{}}`, `belongs to stack "dev"`},
		"other region": {`{"schemaVersion":1,"stack":"myapp","region":"eu-west-1","stages":{}}`, "in eu-west-1"},
	} {
		t.Run(name, func(t *testing.T) {
			cloud := fakeBucket(t)
			if _, err := cloud.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(teamLoc.Bucket), Key: aws.String(teamLoc.Key), Body: strings.NewReader(tt.content)}); err != nil {
				t.Fatal(err)
			}
			_, err := Open(ctx, openFake(t, cloud), "myapp", "us-east-1")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "s3://team-state/stacks/myapp.json") {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if data, _ := cloud.S3.Object(teamLoc.Bucket, teamLoc.Key); string(data) != tt.content {
				t.Errorf("object changed to %s", data)
			}
		})
	}
}

// TestS3StoreSurvivesLostResponsesAndConflicts: a write whose response is
// lost is retried by the SDK and refused (412); the store finds its own
// bytes there and goes on. A 409 ConditionalRequestConflict is retried.
func TestS3StoreSurvivesLostResponsesAndConflicts(t *testing.T) {
	ctx := context.Background()
	cloud := fakeBucket(t)
	s := openFake(t, cloud)
	s.conflictPause = 0
	st, err := Open(ctx, s, "myapp", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	lost := fakeaws.Fault{Err: fakeaws.ServerError(), AfterEffect: true}
	retried := &retryOnce{S3Client: cloud.S3}
	s.client = retried
	cloud.Inject("PutObject", lost)
	if err := st.SetOutput("vpc", "vpc_id", "vpc-1"); err != nil {
		t.Fatalf("save after a lost response: %v", err)
	}
	cloud.Inject("PutObject", fakeaws.Fault{Err: fakeaws.APIError("ConditionalRequestConflict", "conflict")})
	if err := st.SetOutput("vpc", "vpc_id", "vpc-2"); err != nil {
		t.Fatalf("save after a 409: %v", err)
	}
	cloud.Inject("PutObject", lost)
	l, err := Acquire(ctx, s, LockOptions{Command: "myappctl up"})
	if err != nil {
		t.Fatalf("lock after a lost response: %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	again, _ := Open(ctx, s, "myapp", "us-east-1")
	if again.Output("vpc", "vpc_id") != "vpc-2" {
		t.Errorf("stored: %+v", again.Snapshot())
	}
}

// retryOnce repeats a PutObject that failed with a server error, as the
// SDK's retryer does.
type retryOnce struct{ S3Client }

func (r *retryOnce) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	body, _ := in.Body.(interface {
		Seek(int64, int) (int64, error)
	})
	out, err := r.S3Client.PutObject(ctx, in, o...)
	if err != nil && awsx.HasCode(err, "InternalError") && body != nil {
		_, _ = body.Seek(0, 0)
		return r.S3Client.PutObject(ctx, in, o...)
	}
	return out, err
}

// TestS3ServerThatIgnoresConditionsIsRefused: the lock would guarantee
// nothing there, so no run proceeds and no lock is left behind.
func TestS3ServerThatIgnoresConditionsIsRefused(t *testing.T) {
	ctx := context.Background()
	cloud := fakeBucket(t)
	cloud.S3.IgnoreConditionalWrites = true
	_, err := Acquire(ctx, openFake(t, cloud), LockOptions{Command: "myappctl up"})
	if !errors.Is(err, ErrConditionsIgnored) || !strings.Contains(err.Error(), "If-None-Match") || !strings.Contains(err.Error(), "will not keep shared state there") {
		t.Fatalf("err = %v", err)
	}
	if _, ok := cloud.S3.Object(teamLoc.Bucket, teamLoc.Key+".lock"); ok {
		t.Error("the probe left its lock behind")
	}
	cloud.Inject("PutObject", fakeaws.Fault{Err: fakeaws.APIError("NotImplemented", "A header you provided implies functionality that is not implemented")})
	cloud.S3.IgnoreConditionalWrites = false
	if _, err := Acquire(ctx, openFake(t, cloud), LockOptions{Command: "myappctl up"}); !errors.Is(err, ErrConditionsIgnored) {
		t.Errorf("a server without conditional writes: %v", err)
	}
}

func TestEnsureStateBucket(t *testing.T) {
	ctx := context.Background()
	cloud := fakeaws.New()
	var warnings []string
	warn := func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }
	created, err := EnsureStateBucket(ctx, cloud.S3, "team-state", "us-east-1", warn)
	if err != nil || !created {
		t.Fatalf("created %v, %v", created, err)
	}
	b := cloud.S3.Bucket("team-state")
	if b.Versioning != "Enabled" || b.Tags[awsx.TagRole] != "state" || b.Tags[awsx.TagName] != "team-state" || b.Tags[awsx.TagStack] != "" {
		t.Errorf("bucket: versioning %q, tags %v", b.Versioning, b.Tags)
	}
	for _, op := range []string{"PutPublicAccessBlock", "PutBucketOwnershipControls", "PutBucketEncryption", "PutBucketVersioning", "PutBucketTagging"} {
		if cloud.CountCalls(op) != 1 {
			t.Errorf("%s called %d times", op, cloud.CountCalls(op))
		}
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q", warnings)
	}
	// A re-run repairs its own bucket; a server without a setting is warned about.
	cloud.Inject("PutPublicAccessBlock", fakeaws.Fault{Err: fakeaws.APIError("NotImplemented", "not implemented")})
	if created, err := EnsureStateBucket(ctx, cloud.S3, "team-state", "us-east-1", warn); err != nil || created {
		t.Fatalf("re-run: %v %v", created, err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "does not implement public access block") {
		t.Errorf("warnings %q", warnings)
	}
	// Someone else's bucket is used as it is.
	warnings = nil
	if _, err := cloud.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("their-bucket")}); err != nil {
		t.Fatal(err)
	}
	cloud.ResetCalls()
	if created, err := EnsureStateBucket(ctx, cloud.S3, "their-bucket", "us-east-1", warn); err != nil || created {
		t.Fatalf("existing bucket: %v %v", created, err)
	}
	if m := cloud.MutatingCalls(); len(m) != 0 || len(warnings) != 1 || !strings.Contains(warnings[0], "versioning off") {
		t.Errorf("existing bucket: calls %v, warnings %q", m, warnings)
	}
	cloud.Inject("CreateBucket", fakeaws.Fault{Err: fakeaws.APIError("BucketAlreadyExists", "taken")})
	if _, err := EnsureStateBucket(ctx, cloud.S3, "taken-name", "us-east-1", warn); err == nil || !strings.Contains(err.Error(), "belongs to another account") {
		t.Errorf("taken name: %v", err)
	}
	cloud.Inject("PutBucketVersioning", fakeaws.Fault{Err: fakeaws.APIError("AccessDenied", "Access Denied")})
	if _, err := EnsureStateBucket(ctx, cloud.S3, "new-state", "us-east-1", warn); err == nil || !strings.Contains(err.Error(), "lack s3:PutBucketVersioning on arn:aws:s3:::new-state") ||
		!strings.Contains(err.Error(), "run `myappctl state init` again") {
		t.Errorf("denied versioning: %v", err)
	}
}
