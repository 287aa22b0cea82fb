package main

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/state"
)

// Through the CLI and the wire, against a fake that behaves like clouds
// that differ from it (fakeaws switches).

// TestEveryMutatingResponseLostOnce: every mutating call takes effect and
// then answers 503 once (the SDK retries it). One up still ends with
// exactly the stack a clean up builds, and destroy then leaves nothing,
// with and without the state file.
func TestEveryMutatingResponseLostOnce(t *testing.T) {
	clean := newCloudCLI(t)
	clean.mustRun("up")
	want := resourceCounts(clean.cloud)

	for _, lostState := range []bool{false, true} {
		t.Run(map[bool]string{false: "destroy with the state file", true: "destroy without it"}[lostState], func(t *testing.T) {
			w := newCloudCLI(t)
			w.cloud.LoseResponsesOnce()
			out, errOut, err := w.run("up")
			if err != nil {
				t.Fatalf("up: %v\n%s\n%s", err, out, errOut)
			}
			if got := resourceCounts(w.cloud); !maps.Equal(got, want) {
				t.Errorf("after one up under lost responses:\n got %v\nwant %v", got, want)
			}
			if lost, calls := w.answered(http.StatusServiceUnavailable), len(clean.cloud.MutatingCalls()); lost != calls {
				t.Errorf("%d responses lost, want one for each of the %d mutating calls of a clean up", lost, calls)
			}
			w.assertStatusClean()
			if lostState {
				if err := os.Remove(w.statePath); err != nil {
					t.Fatal(err)
				}
			}
			if out := w.mustRun("destroy", "--yes"); !strings.Contains(out, "stack myapp is gone") {
				t.Errorf("destroy:\n%s", out)
			}
			w.assertNothingLeft()
		})
	}
}

// The S3 of emulators ignores tags in CreateBucketConfiguration; AWS
// denies them without s3:TagResource. Either way up tags every bucket, so
// status sees no drift and destroy removes them, with or without the state
// file.
func TestBucketsWhoseTagsOnCreateAreIgnoredOrDenied(t *testing.T) {
	for _, deny := range []bool{false, true} {
		t.Run(map[bool]string{false: "ignored", true: "denied"}[deny], func(t *testing.T) {
			w := newCloudCLI(t)
			w.cloud.S3.IgnoreCreateTags, w.cloud.S3.DenyCreateTags = !deny, deny
			w.mustRun("up")
			for _, name := range w.cloud.S3.BucketNames() {
				if tags := awsx.Tags(w.cloud.S3.Bucket(name).Tags); !tags.OwnedBy("myapp") || tags[awsx.TagName] != name {
					t.Errorf("bucket %s: tags %v", name, tags)
				}
			}
			w.assertStatusClean()
			if deny {
				must(t, os.Remove(w.statePath))
			}
			if out := w.mustRun("destroy", "--yes"); !strings.Contains(out, "stack myapp is gone") {
				t.Errorf("destroy:\n%s", out)
			}
			w.assertNothingLeft()
		})
	}
}

// A run stopped after creating the carousel bucket, before tagging it:
// the state file lists it, so destroy tags and removes it. Without a state
// file, an untagged bucket with the stack's name is reported, not deleted.
func TestDestroyAndBucketsWithoutTags(t *testing.T) {
	w := newCloudCLI(t)
	w.cloud.S3.DenyCreateTags = true
	w.cloud.Inject("PutBucketTagging", fakeaws.Fault{Err: fakeaws.APIError("AccessDenied", "not now")})
	if _, _, err := w.run("step", "s3-sync"); err == nil {
		t.Fatal("step s3-sync succeeded")
	}
	bucket := "carrousel-myapp-" + fakeaws.Account
	if b := w.cloud.S3.Bucket(bucket); b == nil || len(b.Tags) != 0 {
		t.Fatalf("bucket %+v: want it untagged", b)
	}
	out := w.mustRun("destroy", "--yes")
	if !strings.Contains(out, "stack myapp is gone") || !strings.Contains(out, "s3:bucket "+bucket) {
		t.Errorf("destroy:\n%s", out)
	}
	w.assertNothingLeft()

	must(t, os.Remove(w.statePath))
	_, err := w.cloud.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	must(t, err)
	out, _, err = w.run("destroy", "--yes")
	want := "  ! s3:bucket " + bucket + " (stage s3-sync): not deleted: it has the name this stack gives it but not the tag myappctl:stack=myapp"
	if err == nil || !strings.Contains(out, want) || !strings.Contains(out, "aws s3api put-bucket-tagging --bucket "+bucket) {
		t.Errorf("destroy: %v\n%s", err, out)
	}
	if w.cloud.S3.Bucket(bucket) == nil {
		t.Error("the bucket was deleted")
	}
}

// Credentials that expire mid-run: up stops at once, without retries,
// with the message that says how to refresh them; the state file is whole,
// and the same command resumes once they are fresh.
func TestExpiredCredentialsMidRun(t *testing.T) {
	w := newCloudCLI(t)
	w.cloud.Delay("CreateBucket", time.Minute) // s3-sync is busy when the credentials expire under vpc
	w.cloud.ExpireCredentialsAfter(30, "RequestExpired")
	start := time.Now()
	out, errOut, err := w.run("up")
	var expired *awsx.ExpiredCredentialsError
	if !errors.As(err, &expired) || !strings.HasPrefix(err.Error(), "AWS credentials expired: refresh them (") ||
		!strings.Contains(err.Error(), "then run the same command again to resume") || !regexp.MustCompile(`\(EC2 \w+ answered RequestExpired;`).MatchString(err.Error()) {
		t.Fatalf("err = %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("up took %v to stop", d)
	}
	if n := w.answered(http.StatusBadRequest); n > 2 {
		t.Errorf("%d requests were answered 400 (RequestExpired): the run went on after the first", n)
	}
	if _, err := state.Load(w.statePath, "myapp", "us-east-1"); err != nil {
		t.Errorf("state file: %v", err)
	}
	w.cloud.RenewCredentials()
	w.cloud.Delay("CreateBucket", 0)
	w.mustRun("up")
	w.assertStatusClean()
}

// LocalStack (moto) lacks DescribeInstanceRefreshes: a first up never
// needs it, so never asks, and status (which shows a refresh in progress)
// does without it.
func TestUpWhereDescribeInstanceRefreshesIsMissing(t *testing.T) {
	w := newCloudCLI(t)
	w.cloud.Lack("DescribeInstanceRefreshes")
	w.mustRun("up")
	if n := w.answered(http.StatusNotImplemented); n != 0 || w.cloud.CountCalls("DescribeInstanceRefreshes") != 0 {
		t.Errorf("up asked for refreshes %d times (%d answered 501)", w.cloud.CountCalls("DescribeInstanceRefreshes"), n)
	}
	w.assertStatusClean()
}

// cloudCLI is a wireBed with one state file: each test is a stack.
type cloudCLI struct {
	*wireBed
	statePath string
}

func newCloudCLI(t *testing.T) *cloudCLI {
	return &cloudCLI{wireBed: newWireBed(t, newServingCloud()), statePath: filepath.Join(t.TempDir(), "myapp.json")}
}

// run runs one command as the user would type it (after --endpoint-url and --state).
func (w *cloudCLI) run(args ...string) (stdout, stderr string, err error) {
	return w.exec("", append([]string{"--state", w.statePath}, args...)...)
}

func (w *cloudCLI) mustRun(args ...string) string {
	w.t.Helper()
	return w.wireBed.mustRun(append([]string{"--state", w.statePath}, args...)...)
}

// assertStatusClean checks that status sees every resource and no drift.
func (w *cloudCLI) assertStatusClean() {
	w.t.Helper()
	var st struct{ Stages []stageStatus }
	if err := json.Unmarshal([]byte(w.mustRun("status", "--output", "json")), &st); err != nil {
		w.t.Fatal(err)
	}
	for _, s := range st.Stages {
		if s.Status != "complete" || len(s.Drift) > 0 || s.DriftError != "" {
			w.t.Errorf("stage %s: status %q, drift %s %s", s.Name, s.Status, s.Drift, s.DriftError)
		}
		for _, r := range s.Resources {
			if r.Live != "exists" {
				w.t.Errorf("stage %s: %s %s %s is %q", s.Name, r.Type, r.Name, r.ID, r.Live)
			}
		}
	}
}

// assertNothingLeft checks every fake is empty, as after a destroy.
func (w *cloudCLI) assertNothingLeft() {
	w.t.Helper()
	for kind, n := range resourceCounts(w.cloud) {
		if n != 0 {
			w.t.Errorf("%d %s left", n, kind)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
