package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// ensureCarouselBucket makes the bucket (tagged at creation; a location
// constraint everywhere but us-east-1) and checks it is in the stack's region.
func ensureCarouselBucket(ctx context.Context, r *Run, c carousel) (string, error) {
	id, err := r.Ensure(ctx, Spec{Key: "bucket", Kind: s3BucketKind(), Name: c.bucket, Detail: "in " + c.region,
		Create: func(ctx context.Context, _ string) (string, error) { return c.bucket, createCarouselBucket(ctx, r, c) }})
	if err != nil || isPlanned(id) {
		return id, err
	}
	var head *s3.HeadBucketOutput
	err = untilVisible(ctx, r, func() (err error) {
		head, err = r.AWS.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(id)})
		return err
	})
	if err != nil {
		return "", &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "s3:bucket " + id, Err: err}
	}
	if got := aws.ToString(head.BucketRegion); got != "" && got != c.region {
		return "", fmt.Errorf("stage %s: bucket %s is in %s, not in the stack's region %s: set carousel.bucket to another name, or use --region %s", r.Stage.Name, id, got, c.region, got)
	}
	return id, ensureBucketTags(ctx, r, id)
}

// createCarouselBucket refuses a name that exists without this stack's tags:
// someone else's bucket (or one of yours made by hand) is never adopted.
func createCarouselBucket(ctx context.Context, r *Run, c carousel) error {
	_, err := r.AWS.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(c.bucket)})
	switch {
	case err == nil:
		return fmt.Errorf("bucket %s already exists in your account but is not tagged %s=%s: choose another name with carousel.bucket (it is left untouched)", c.bucket, awsx.TagStack, r.Cfg.Stack)
	case awsx.HasCode(err, "Forbidden", "AccessDenied", "403"):
		return fmt.Errorf("bucket name %s is taken by another account (bucket names are global): choose another with carousel.bucket", c.bucket)
	case !awsx.IsNotFound(err):
		return err
	}
	conf := &s3types.CreateBucketConfiguration{Tags: s3TagSet(r.Tags(c.bucket))}
	// us-east-1 takes no location constraint; every other region needs one.
	if c.region != "us-east-1" {
		conf.LocationConstraint = s3types.BucketLocationConstraint(c.region)
	}
	_, err = r.AWS.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(c.bucket), CreateBucketConfiguration: conf})
	if awsx.HasCode(err, "BucketAlreadyExists") {
		return fmt.Errorf("bucket name %s is taken by another account (bucket names are global): choose another with carousel.bucket: %w", c.bucket, err)
	}
	return err
}

// ensureBucketTags adds the stack tags when they are missing (an emulator
// that ignores tags at creation), keeping any other tags.
func ensureBucketTags(ctx context.Context, r *Run, bucket string) error {
	have := awsx.Tags{}
	out, err := r.AWS.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
	switch {
	case err == nil:
		for _, t := range out.TagSet {
			have[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	case !awsx.HasCode(err, "NoSuchTagSet"):
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "s3:bucket " + bucket, Err: err}
	}
	want := r.Tags(bucket)
	if carriesTags(have, want) {
		return nil
	}
	for k, v := range want {
		have[k] = v
	}
	return r.change("modify", "s3:bucket", bucket, "tag "+awsx.TagStack+"="+r.Cfg.Stack, func() error {
		_, err := r.AWS.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(bucket), Tagging: &s3types.Tagging{TagSet: s3TagSet(have)}})
		return err
	})
}

func s3TagSet(t awsx.Tags) []s3types.Tag {
	out := make([]s3types.Tag, 0, len(t))
	for _, tag := range t.EC2() {
		out = append(out, s3types.Tag{Key: tag.Key, Value: tag.Value})
	}
	return out
}

// ensureBucketAccess makes the bucket readable by anyone exactly where the
// page needs it, and nowhere else: ACLs off (owner enforced), public ACLs
// blocked, public policies allowed, a policy for images/ and the index, and
// default SSE-S3 encryption (anonymous readers cannot decrypt KMS objects).
func ensureBucketAccess(ctx context.Context, r *Run, c carousel, bucket string) error {
	for _, ensure := range []func(context.Context, *Run, carousel, string) error{
		ensureOwnershipEnforced, ensurePublicAccessBlock, ensureDefaultEncryption, ensureReadPolicy,
	} {
		if err := ensure(ctx, r, c, bucket); err != nil {
			return err
		}
	}
	return nil
}

func ensureOwnershipEnforced(ctx context.Context, r *Run, c carousel, bucket string) error {
	if isPlanned(bucket) {
		return nil // new buckets have ACLs disabled
	}
	out, err := r.AWS.S3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
	if err != nil && !awsx.HasCode(err, "OwnershipControlsNotFoundError") {
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "s3:bucket " + bucket, Err: err}
	}
	if err == nil && out.OwnershipControls != nil && len(out.OwnershipControls.Rules) == 1 &&
		out.OwnershipControls.Rules[0].ObjectOwnership == s3types.ObjectOwnershipBucketOwnerEnforced {
		return nil
	}
	return r.change("modify", "s3:bucket", bucket, "object ownership BucketOwnerEnforced (ACLs off)", func() error {
		_, err := r.AWS.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(bucket),
			OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}})
		return err
	})
}

// wantPublicAccessBlock blocks ACL grants but lets a bucket policy be public.
var wantPublicAccessBlock = s3types.PublicAccessBlockConfiguration{
	BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
	BlockPublicPolicy: aws.Bool(false), RestrictPublicBuckets: aws.Bool(false),
}

func ensurePublicAccessBlock(ctx context.Context, r *Run, c carousel, bucket string) error {
	if !isPlanned(bucket) {
		out, err := r.AWS.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
		if err != nil && !awsx.HasCode(err, "NoSuchPublicAccessBlockConfiguration") {
			return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "s3:bucket " + bucket, Err: err}
		}
		if err == nil && out.PublicAccessBlockConfiguration != nil && samePublicAccessBlock(*out.PublicAccessBlockConfiguration, wantPublicAccessBlock) {
			return nil
		}
	}
	return r.change("modify", "s3:bucket", bucket, "public access block: public ACLs blocked, public policy allowed", func() error {
		conf := wantPublicAccessBlock
		_, err := r.AWS.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket), PublicAccessBlockConfiguration: &conf})
		return err
	})
}

func samePublicAccessBlock(a, b s3types.PublicAccessBlockConfiguration) bool {
	return aws.ToBool(a.BlockPublicAcls) == aws.ToBool(b.BlockPublicAcls) && aws.ToBool(a.IgnorePublicAcls) == aws.ToBool(b.IgnorePublicAcls) &&
		aws.ToBool(a.BlockPublicPolicy) == aws.ToBool(b.BlockPublicPolicy) && aws.ToBool(a.RestrictPublicBuckets) == aws.ToBool(b.RestrictPublicBuckets)
}

func ensureDefaultEncryption(ctx context.Context, r *Run, c carousel, bucket string) error {
	if isPlanned(bucket) {
		return nil // new buckets encrypt with SSE-S3
	}
	out, err := r.AWS.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	if err != nil && !awsx.HasCode(err, "ServerSideEncryptionConfigurationNotFoundError") {
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "s3:bucket " + bucket, Err: err}
	}
	if err == nil && out.ServerSideEncryptionConfiguration != nil {
		rules := out.ServerSideEncryptionConfiguration.Rules
		if len(rules) == 1 && rules[0].ApplyServerSideEncryptionByDefault != nil &&
			rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm == s3types.ServerSideEncryptionAes256 {
			return nil
		}
	}
	return r.change("modify", "s3:bucket", bucket, "default encryption SSE-S3 (AES256)", func() error {
		_, err := r.AWS.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
		return err
	})
}

// readPolicy grants anonymous s3:GetObject on the images and the index only.
func readPolicy(c carousel) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid": "PublicReadCarousel", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
			"Resource": []string{c.bucketARN() + "/" + carouselImagesPrefix + "*", c.bucketARN() + "/" + carouselIndexKey},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func ensureReadPolicy(ctx context.Context, r *Run, c carousel, bucket string) error {
	want := readPolicy(c)
	if !isPlanned(bucket) {
		out, err := r.AWS.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
		if err != nil && !awsx.HasCode(err, "NoSuchBucketPolicy") {
			return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "s3:bucket " + bucket, Err: err}
		}
		if err == nil && sameJSON(aws.ToString(out.Policy), want) {
			return nil
		}
	}
	return r.change("modify", "s3:bucket", bucket, "policy: public read of "+carouselImagesPrefix+"* and "+carouselIndexKey, func() error {
		_, err := r.AWS.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(want)})
		return err
	})
}

// sameJSON compares two JSON documents by value (AWS may reformat them).
func sameJSON(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
