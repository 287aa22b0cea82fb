package wire

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestS3ConditionalWritesOverHTTP sends If-None-Match / If-Match as the SDK
// does (headers on PutObject and DeleteObject) and expects AWS's answers:
// 412 PreconditionFailed, 404 NoSuchKey for If-Match on a missing key.
func TestS3ConditionalWritesOverHTTP(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	c, fake := tb.s3, tb.cloud.S3
	bucket, key := aws.String("team-state"), aws.String("stacks/myapp.json")
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})).ok(t)
	put := func(body string, ifMatch, ifNoneMatch *string) (*s3.PutObjectOutput, error) {
		return c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: strings.NewReader(body), IfMatch: ifMatch, IfNoneMatch: ifNoneMatch})
	}

	first := must(put("v1", nil, aws.String("*"))).ok(t)
	_, err := put("v2", nil, aws.String("*"))
	wantStatus(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
	_, err = put("v2", aws.String(`"0123456789abcdef0123456789abcdef"`), nil)
	wantStatus(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
	second := must(put("v2", first.ETag, nil)).ok(t)
	if data, _ := fake.Object("team-state", "stacks/myapp.json"); string(data) != "v2" {
		t.Errorf("object = %q after the If-Match write", data)
	}
	_, err = put("v3", first.ETag, nil) // someone else wrote since
	wantStatus(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("missing"), Body: strings.NewReader("x"), IfMatch: first.ETag})
	wantStatus(t, err, "NoSuchKey", http.StatusNotFound)
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key, IfMatch: first.ETag})
	wantStatus(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key, IfMatch: second.ETag})).ok(t)
	if _, ok := fake.Object("team-state", "stacks/myapp.json"); ok {
		t.Error("the If-Match delete left the object")
	}

	// A server that ignores the headers lets every write through.
	fake.IgnoreConditionalWrites = true
	must(put("v4", nil, aws.String("*"))).ok(t)
	must(put("v5", nil, aws.String("*"))).ok(t)
	must(put("v6", first.ETag, nil)).ok(t)
	fake.IgnoreConditionalWrites = false
	if data, _ := fake.Object("team-state", "stacks/myapp.json"); string(data) != "v6" {
		t.Errorf("object = %q", data)
	}
}

func TestS3VersioningAndRegionOverHTTP(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	c, fake := tb.s3, tb.cloud.S3
	bucket := aws.String("team-state")
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})).ok(t)
	if v := must(c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket})).ok(t); v.Status != "" {
		t.Errorf("versioning of a new bucket = %q", v.Status)
	}
	must(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})).ok(t)
	if v := must(c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket})).ok(t); v.Status != s3types.BucketVersioningStatusEnabled {
		t.Errorf("versioning = %q", v.Status)
	}
	var ids []string
	for _, body := range []string{"v1", "v2"} {
		out := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("s.json"), Body: strings.NewReader(body)})).ok(t)
		ids = append(ids, aws.ToString(out.VersionId))
	}
	if ids[0] == "" || ids[0] == ids[1] {
		t.Errorf("version ids %q", ids)
	}
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("s.json")})).ok(t)
	if n := fake.ObjectVersions("team-state", "s.json"); n != 3 {
		t.Errorf("%d versions after two writes and a delete, want 3 (two and a delete marker)", n)
	}
	_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bucket})
	wantStatus(t, err, "BucketNotEmpty", http.StatusConflict)

	// HEAD on a bucket of another region: 301 and the region in a header.
	fake.CreateBucketIn("eu-state", "eu-west-1")
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("eu-state")})
	wantStatus(t, err, "MovedPermanently", http.StatusMovedPermanently)
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response.Header.Get("X-Amz-Bucket-Region") != "eu-west-1" {
		t.Errorf("err = %v: want x-amz-bucket-region eu-west-1", err)
	}
	if tb.cloud.CountCalls("PutBucketVersioning") != 1 || tb.cloud.CountCalls("GetBucketVersioning") != 2 {
		t.Errorf("calls: %v", tb.cloud.Calls())
	}
}
