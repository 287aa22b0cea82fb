package state

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// S3AdminClient adds what `state init` needs to make the state bucket.
type S3AdminClient interface {
	S3Client
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	GetBucketTagging(context.Context, *s3.GetBucketTaggingInput, ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
	PutBucketTagging(context.Context, *s3.PutBucketTaggingInput, ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
	PutBucketOwnershipControls(context.Context, *s3.PutBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error)
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
}

// StateBucketTags mark the state bucket: what it is for, and no stack tag,
// since it belongs to no stack and outlives them all.
func StateBucketTags(bucket string) awsx.Tags {
	return awsx.Tags{awsx.TagName: bucket, awsx.TagRole: "state"}
}

// EnsureStateBucket makes the state bucket when it is missing: tagged
// (StateBucketTags), ACLs off, public access blocked, SSE-S3 by default,
// versioning on. A bucket that myappctl made (it carries the tags) gets
// those settings again, so a re-run repairs an interrupted one; any other
// bucket is used as it is, with a warning when it keeps no versions. A
// setting an S3-compatible server does not implement is skipped with a
// warning. It reports whether it created the bucket.
func EnsureStateBucket(ctx context.Context, client S3AdminClient, bucket, region string, warn func(string, ...any)) (bool, error) {
	exists, err := checkBucket(ctx, client, bucket, region)
	if err != nil {
		return false, err
	}
	if exists {
		if !madeByMyappctl(ctx, client, bucket) {
			warnUnversioned(ctx, client, bucket, warn)
			return false, nil
		}
		return false, configureStateBucket(ctx, client, bucket, warn)
	}
	if err := createStateBucket(ctx, client, bucket, region); err != nil {
		return false, err
	}
	return true, configureStateBucket(ctx, client, bucket, warn)
}

func createStateBucket(ctx context.Context, client S3AdminClient, bucket, region string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	// us-east-1 takes no location constraint; every other region needs one.
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	// Tags follow in PutBucketTagging: tags inside CreateBucket need
	// s3:TagResource too, and S3-compatible servers ignore them.
	_, err := client.CreateBucket(ctx, in)
	switch {
	case err == nil || awsx.HasCode(err, "BucketAlreadyOwnedByYou"):
		return nil
	case awsx.HasCode(err, "BucketAlreadyExists"):
		return fmt.Errorf("create state bucket %s: the name belongs to another account (bucket names are global): choose another bucket name", bucket)
	}
	return s3Failure("create state bucket "+bucket, "s3:CreateBucket", err)
}

func madeByMyappctl(ctx context.Context, client S3AdminClient, bucket string) bool {
	out, err := client.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
	if err != nil {
		return false
	}
	for _, t := range out.TagSet {
		if aws.ToString(t.Key) == awsx.TagRole && aws.ToString(t.Value) == "state" {
			return true
		}
	}
	return false
}

// configureStateBucket applies the state bucket's settings, tags first so
// that a re-run recognises a bucket an interrupted run made.
func configureStateBucket(ctx context.Context, client S3AdminClient, bucket string, warn func(string, ...any)) error {
	b := aws.String(bucket)
	on := aws.Bool(true)
	settings := []struct {
		what, permission string
		apply            func() error
	}{
		{"tags", "s3:PutBucketTagging", func() error {
			_, err := client.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &s3types.Tagging{TagSet: StateBucketTags(bucket).S3()}})
			return err
		}},
		{"object ownership BucketOwnerEnforced (ACLs off)", "s3:PutBucketOwnershipControls", func() error {
			_, err := client.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b, OwnershipControls: &s3types.OwnershipControls{
				Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}})
			return err
		}},
		{"public access block", "s3:PutBucketPublicAccessBlock", func() error {
			_, err := client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: on, IgnorePublicAcls: on, BlockPublicPolicy: on, RestrictPublicBuckets: on}})
			return err
		}},
		{"default encryption SSE-S3", "s3:PutEncryptionConfiguration", func() error {
			_, err := client.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
				Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
			return err
		}},
		{"versioning", "s3:PutBucketVersioning", func() error {
			_, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
			return err
		}},
	}
	for _, s := range settings {
		err := s.apply()
		switch {
		case err == nil:
		case awsx.HasCode(err, "NotImplemented"):
			warn("warning: the S3 server does not implement %s for buckets: state bucket %s is left without it", s.what, bucket)
		default:
			return s3Failure(fmt.Sprintf("set %s on state bucket %s (run `myappctl state init` again once fixed)", s.what, bucket), s.permission+" on arn:aws:s3:::"+bucket, err)
		}
	}
	return nil
}
