package steps

import (
	"context"
	"encoding/json"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// ensureCarouselBucket makes the carousel bucket (bucket.go).
func ensureCarouselBucket(ctx context.Context, r *Run, c carousel) (string, error) {
	return ensureBucket(ctx, r, ownBucket{key: "bucket", name: c.bucket, region: c.region, detail: "in " + c.region,
		rename: "choose another name with carousel.bucket"})
}

// namedCarouselBucket is the carousel bucket for destroy to check by name.
func namedCarouselBucket(ctx context.Context, r *Run) ([]NamedResource, error) {
	c, err := carouselOf(ctx, r.Env)
	if err != nil {
		return nil, err
	}
	return []NamedResource{bucketNamed(c.bucket, r.Cfg.Stack)}, nil
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
