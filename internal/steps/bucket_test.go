package steps

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

// The stack's buckets against S3s that ignore or deny tags on create.

const testArtifactsBucket = "myappctl-artifacts-myapp-" + fakeaws.Account

// bucketCase is one of the stack's buckets and how to build it alone.
type bucketCase struct {
	stage, key, bucket string
	bed                func(t *testing.T) *computeBed
}

var stackBuckets = []bucketCase{
	{"security", "bucket/artifacts", testArtifactsBucket, func(t *testing.T) *computeBed {
		cb := newComputeBed(t)
		cb.step("vpc")
		return cb
	}},
	{"s3-sync", "bucket", testCarouselBucket, newStackBed},
}

func (cb *computeBed) bucketTags(name string) awsx.Tags {
	cb.t.Helper()
	b := cb.cloud.S3.Bucket(name)
	if b == nil {
		cb.t.Fatalf("no bucket %s", name)
	}
	return awsx.Tags(b.Tags)
}

func TestBucketsAreTaggedWhenTagsOnCreateAreDeniedOrIgnored(t *testing.T) {
	for _, bc := range stackBuckets {
		for _, deny := range []bool{true, false} {
			t.Run(bc.stage+map[bool]string{true: " denied", false: " ignored"}[deny], func(t *testing.T) {
				cb := bc.bed(t)
				cb.cloud.S3.DenyCreateTags, cb.cloud.S3.IgnoreCreateTags = deny, !deny
				cb.cloud.ResetCalls()
				res := cb.step(bc.stage)
				if tags := cb.bucketTags(bc.bucket); tags[awsx.TagStack] != "myapp" || tags[awsx.TagStep] != bc.stage || tags[awsx.TagName] != bc.bucket {
					t.Errorf("bucket tags %v", tags)
				}
				creates := map[bool]int{true: 2, false: 1}[deny] // denied: again without tags
				if n, m := cb.cloud.CountCalls("CreateBucket"), cb.cloud.CountCalls("PutBucketTagging"); n != creates || m != 1 {
					t.Errorf("CreateBucket %d times, PutBucketTagging %d times; want %d and 1", n, m, creates)
				}
				if !slices.ContainsFunc(res.Changes, func(c Change) bool {
					return c.Action == "modify" && c.Name == bc.bucket && strings.HasPrefix(c.Detail, "tags ")
				}) {
					t.Errorf("changes do not show the tagging: %v", res.Changes)
				}
				cb.cloud.ResetCalls()
				if res := cb.step(bc.stage); len(res.Changes) != 0 || len(cb.cloud.MutatingCalls()) != 0 {
					t.Errorf("second run: %v %v", res.Changes, cb.cloud.MutatingCalls())
				}
			})
		}
	}
}

func TestBucketTagsAreDriftPlannedAndRepaired(t *testing.T) {
	for _, bc := range stackBuckets {
		t.Run(bc.stage, func(t *testing.T) {
			cb := bc.bed(t)
			cb.step(bc.stage)
			_, err := cb.cloud.S3.PutBucketTagging(bg, &s3.PutBucketTaggingInput{Bucket: aws.String(bc.bucket),
				Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("owner"), Value: aws.String("me")}}}})
			must(t, err)
			plan, err := cb.runner.Plan(bg)
			if err != nil {
				t.Fatal(err)
			}
			want := "~ modify s3:bucket " + bc.bucket + " (tags Name=" + bc.bucket + ", myappctl:stack=myapp, myappctl:step=" + bc.stage + ")"
			var planned []string
			for _, res := range plan {
				for _, c := range res.Changes {
					planned = append(planned, c.String())
				}
			}
			if !slices.Contains(planned, want) {
				t.Errorf("plan lacks %q: %v", want, planned)
			}
			cb.step(bc.stage)
			if tags := cb.bucketTags(bc.bucket); !tags.OwnedBy("myapp") || tags["owner"] != "me" {
				t.Errorf("tags after up: %v", tags)
			}
		})
	}
}

// A run that created the bucket but stopped before tagging it: the state
// file lists the bucket, so destroy tags it and removes it.
func TestDestroyRemovesAListedBucketWhoseTagsWereNeverWritten(t *testing.T) {
	for _, bc := range stackBuckets {
		t.Run(bc.stage, func(t *testing.T) {
			cb := bc.bed(t)
			cb.cloud.S3.DenyCreateTags = true
			cb.cloud.Inject("PutBucketTagging", fakeaws.Fault{Err: fakeaws.ServerError()})
			if _, err := cb.runner.Step(bg, bc.stage); err == nil {
				t.Fatal("the stage succeeded")
			}
			if rec, ok := cb.state().Resource(bc.stage, bc.key); !ok || rec.ID != bc.bucket || len(cb.bucketTags(bc.bucket)) != 0 {
				t.Fatalf("state %+v, tags %v: want the untagged bucket listed", rec, cb.bucketTags(bc.bucket))
			}
			cb.reload()
			cb.destroy()
			if b := cb.cloud.S3.BucketNames(); len(b) != 0 {
				t.Errorf("buckets left: %v", b)
			}
		})
	}
}

// Without a state file, a bucket with the stack's own name but without its
// tags is reported and left alone.
func TestDestroyReportsAnUntaggedBucketOfTheStacksName(t *testing.T) {
	for _, bc := range stackBuckets {
		t.Run(bc.stage, func(t *testing.T) {
			cb := newStackBed(t)
			_, err := cb.cloud.S3.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(bc.bucket)})
			must(t, err)
			cb.cloud.ResetCalls()
			rep, err := cb.runner.Destroy(bg)
			if err == nil || len(rep.Leftovers) != 1 {
				t.Fatalf("err %v, leftovers %+v", err, rep.Leftovers)
			}
			l := rep.Leftovers[0]
			if l.Stage != bc.stage || l.ID != bc.bucket || !strings.Contains(l.Reason, "has the name this stack gives it but not the tag myappctl:stack=myapp") ||
				!strings.Contains(l.Reason, "aws s3api put-bucket-tagging --bucket "+bc.bucket) {
				t.Errorf("leftover %+v", l)
			}
			if m := cb.cloud.MutatingCalls(); len(m) != 0 || cb.cloud.S3.Bucket(bc.bucket) == nil {
				t.Errorf("touched it: %v", m)
			}
		})
	}
}

// A create whose run stopped before it knew the outcome (its client token
// is still pending) owns the untagged bucket of that name: adopted, tagged.
func TestAResumedBucketCreateAdoptsItsUntaggedBucket(t *testing.T) {
	for _, bc := range stackBuckets {
		t.Run(bc.stage, func(t *testing.T) {
			cb := bc.bed(t)
			_, err := cb.cloud.S3.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(bc.bucket)})
			must(t, err)
			must(t, cb.state().SetPendingToken(bc.stage, bc.key, "myapp-interrupted"))
			cb.reload()
			cb.step(bc.stage)
			if tags := cb.bucketTags(bc.bucket); !tags.OwnedBy("myapp") {
				t.Errorf("tags %v", tags)
			}
			if rec, _ := cb.state().Resource(bc.stage, bc.key); rec.ID != bc.bucket || len(cb.state().Stage(bc.stage).Pending) != 0 {
				t.Errorf("state %+v, pending %v", rec, cb.state().Stage(bc.stage).Pending)
			}
		})
	}
}
