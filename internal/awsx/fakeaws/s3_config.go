package fakeaws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Bucket privacy settings, kept in Bucket.Extra. An unset entry reads as
// what AWS gives every new bucket since 2023: Block Public Access on, object
// ownership BucketOwnerEnforced (ACLs off), SSE-S3 default encryption.
const (
	extraPublicAccessBlock = "publicAccessBlock"
	extraOwnership         = "ownership"
	extraEncryption        = "encryption"
)

func (f *S3) configBucket(ctx context.Context, op string, name *string) (*Bucket, *Fault, error) {
	fault, err := f.begin(ctx, op)
	if err != nil {
		return nil, nil, err
	}
	f.mu.Lock()
	b, err := f.bucket(name)
	if err != nil {
		f.mu.Unlock()
		return nil, nil, err
	}
	return b, fault, nil // the caller unlocks
}

func (b *Bucket) publicAccessBlock() types.PublicAccessBlockConfiguration {
	if c, ok := b.Extra[extraPublicAccessBlock].(types.PublicAccessBlockConfiguration); ok {
		return c
	}
	on := aws.Bool(true)
	return types.PublicAccessBlockConfiguration{BlockPublicAcls: on, IgnorePublicAcls: on, BlockPublicPolicy: on, RestrictPublicBuckets: on}
}

func (f *S3) GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error) {
	b, fault, err := f.configBucket(ctx, "GetPublicAccessBlock", in.Bucket)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	c := b.publicAccessBlock()
	return finish(&s3.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: &c}, nil, fault)
}

func (f *S3) PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error) {
	b, fault, err := f.configBucket(ctx, "PutPublicAccessBlock", in.Bucket)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	c := in.PublicAccessBlockConfiguration
	if c == nil {
		return nil, APIError("MissingRequestBodyError", "Request Body is empty")
	}
	// Unset flags are false, as in AWS.
	off := aws.Bool(false)
	b.Extra[extraPublicAccessBlock] = types.PublicAccessBlockConfiguration{
		BlockPublicAcls: orBool(c.BlockPublicAcls, off), IgnorePublicAcls: orBool(c.IgnorePublicAcls, off),
		BlockPublicPolicy: orBool(c.BlockPublicPolicy, off), RestrictPublicBuckets: orBool(c.RestrictPublicBuckets, off),
	}
	return finish(&s3.PutPublicAccessBlockOutput{}, nil, fault)
}

func orBool(v, def *bool) *bool {
	if v == nil {
		return def
	}
	return aws.Bool(*v)
}

func (f *S3) GetBucketOwnershipControls(ctx context.Context, in *s3.GetBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	b, fault, err := f.configBucket(ctx, "GetBucketOwnershipControls", in.Bucket)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	own, ok := b.Extra[extraOwnership].(types.ObjectOwnership)
	if !ok {
		own = types.ObjectOwnershipBucketOwnerEnforced
	}
	return finish(&s3.GetBucketOwnershipControlsOutput{OwnershipControls: &types.OwnershipControls{
		Rules: []types.OwnershipControlsRule{{ObjectOwnership: own}}}}, nil, fault)
}

func (f *S3) PutBucketOwnershipControls(ctx context.Context, in *s3.PutBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error) {
	b, fault, err := f.configBucket(ctx, "PutBucketOwnershipControls", in.Bucket)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	if in.OwnershipControls == nil || len(in.OwnershipControls.Rules) != 1 {
		return nil, APIError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	own := in.OwnershipControls.Rules[0].ObjectOwnership
	switch own {
	case types.ObjectOwnershipBucketOwnerEnforced, types.ObjectOwnershipBucketOwnerPreferred, types.ObjectOwnershipObjectWriter:
	default:
		return nil, APIError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	b.Extra[extraOwnership] = own
	return finish(&s3.PutBucketOwnershipControlsOutput{}, nil, fault)
}

func (f *S3) GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	b, fault, err := f.configBucket(ctx, "GetBucketEncryption", in.Bucket)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	c, ok := b.Extra[extraEncryption].(types.ServerSideEncryptionConfiguration)
	if !ok {
		c = types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256},
			BucketKeyEnabled:                   aws.Bool(false)}}}
	}
	return finish(&s3.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: &c}, nil, fault)
}

func (f *S3) PutBucketEncryption(ctx context.Context, in *s3.PutBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error) {
	b, fault, err := f.configBucket(ctx, "PutBucketEncryption", in.Bucket)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	c := in.ServerSideEncryptionConfiguration
	if c == nil || len(c.Rules) != 1 || c.Rules[0].ApplyServerSideEncryptionByDefault == nil {
		return nil, APIError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	switch c.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm {
	case types.ServerSideEncryptionAes256, types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAwsKmsDsse:
	default:
		return nil, APIError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	b.Extra[extraEncryption] = *c
	return finish(&s3.PutBucketEncryptionOutput{}, nil, fault)
}
