package steps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// ownBucket is a bucket of the stack. Bucket names are global, so each
// carries the stack and the account (or is configured).
type ownBucket struct {
	key, name, region, detail string
	// rename says how to choose another name when this one is taken.
	rename string
}

// ensureBucket finds or makes a bucket of the stack; stages security (the
// artifacts bucket) and s3-sync (the carousel) share it. The bucket is
// tagged in CreateBucket where S3 allows, else right after (bucketKind.Tag:
// Run.Ensure checks its tags like any drift, so plan shows missing ones and
// up writes them), and it must be in the stack's region.
func ensureBucket(ctx context.Context, r *Run, b ownBucket) (string, error) {
	// A create that an earlier run began and never saw the end of (its
	// token is still pending): a bucket of this name in the account is
	// that run's, though untagged if the run stopped before tagging it.
	resumed := r.State.Stage(r.Stage.Name).Pending[b.key] != ""
	known, _ := r.State.Resource(r.Stage.Name, b.key)
	id, err := r.Ensure(ctx, Spec{Key: b.key, Kind: bucketKind, Name: b.name, Detail: b.detail,
		Create: func(ctx context.Context, _ string) (string, error) { return b.name, createBucket(ctx, r, b, resumed) }})
	if err != nil || isPlanned(id) {
		return id, err
	}
	if known.ID == id {
		// Checked when the state first recorded it, and a bucket never
		// moves: its tags just answered from S3's endpoint of this region.
		return id, nil
	}
	var head *s3.HeadBucketOutput
	err = untilVisible(ctx, r, func() (err error) {
		head, err = r.AWS.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(id)})
		return err
	})
	if err != nil {
		return "", &StageError{Stage: r.Stage.Name, Action: "describe", Resource: bucketKind.Type + " " + id, Err: err}
	}
	if got := aws.ToString(head.BucketRegion); got != "" && got != b.region {
		return "", fmt.Errorf("stage %s: bucket %s is in %s, not in the stack's region %s: %s, or use --region %s", r.Stage.Name, id, got, b.region, b.rename, got)
	}
	return id, nil
}

// createBucket makes the bucket with the stack's tags. Tags in CreateBucket
// need s3:TagResource as well, and AWS denies the whole call without it
// (restricted roles, labs): the bucket is then made untagged and tagged by
// Ensure's tag check (emulators that ignore the tags end there too). A
// bucket of that name that exists without the stack's tags is someone
// else's and never adopted, unless the pending create was this stack's.
func createBucket(ctx context.Context, r *Run, b ownBucket, resumed bool) error {
	_, err := r.AWS.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.name)})
	switch {
	case err == nil && resumed:
		r.Logf("bucket %s exists: the run that began creating it stopped before it knew; it is the stack's", b.name)
		return nil
	case err == nil:
		return fmt.Errorf("bucket %s already exists in your account but is not tagged %s=%s, so myappctl leaves it alone: %s (or, if an interrupted myappctl run made it, tag it so and run again)",
			b.name, awsx.TagStack, r.Cfg.Stack, b.rename)
	case awsx.HasCode(err, "Forbidden", "AccessDenied", "403"):
		return fmt.Errorf("bucket name %s is taken by another account (bucket names are global): %s", b.name, b.rename)
	case !awsx.IsNotFound(err):
		return err
	}
	err = createBucketWith(ctx, r, b, s3TagSet(r.Tags(b.name)))
	if awsx.HasCode(err, "AccessDenied") {
		r.Logf("creating bucket %s with its tags was denied (s3:TagResource is missing?): creating it, then tagging it", b.name)
		err = createBucketWith(ctx, r, b, nil)
	}
	switch {
	case awsx.HasCode(err, "BucketAlreadyOwnedByYou"):
		return nil // it was not there a moment ago: the SDK retried a create whose response was lost
	case awsx.HasCode(err, "BucketAlreadyExists"):
		return fmt.Errorf("bucket name %s is taken by another account (bucket names are global): %s: %w", b.name, b.rename, err)
	}
	return err
}

// createBucketWith calls CreateBucket; us-east-1 takes no location
// constraint, every other region needs one.
func createBucketWith(ctx context.Context, r *Run, b ownBucket, tags []s3types.Tag) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(b.name)}
	if b.region != "us-east-1" || len(tags) > 0 {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{Tags: tags}
		if b.region != "us-east-1" {
			in.CreateBucketConfiguration.LocationConstraint = s3types.BucketLocationConstraint(b.region)
		}
	}
	_, err := r.AWS.S3.CreateBucket(ctx, in)
	return err
}

// tagBucket adds tags to a bucket, keeping its others (PutBucketTagging
// replaces the whole set).
func tagBucket(ctx context.Context, e *Env, name string, tags awsx.Tags) error {
	have, found, err := bucketTags(ctx, e, name)
	switch {
	case err != nil:
		return err
	case !found:
		return fmt.Errorf("bucket %s: not found", name)
	}
	for k, v := range tags {
		have[k] = v
	}
	_, err = e.AWS.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(name), Tagging: &s3types.Tagging{TagSet: s3TagSet(have)}})
	return err
}

func s3TagSet(t awsx.Tags) []s3types.Tag {
	out := make([]s3types.Tag, 0, len(t))
	for _, tag := range t.EC2() {
		out = append(out, s3types.Tag{Key: tag.Key, Value: tag.Value})
	}
	return out
}

// bucketNamed is a bucket destroy checks by name (Stage.Named).
func bucketNamed(name string, stack string) NamedResource {
	return NamedResource{Kind: bucketKind, ID: name,
		Fix: fmt.Sprintf("aws s3api put-bucket-tagging --bucket %s --tagging 'TagSet=[{Key=%s,Value=%s}]'", name, awsx.TagStack, stack)}
}
