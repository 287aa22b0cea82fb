package fakeaws

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Bucket versioning: once Enabled, every overwritten or deleted object is
// kept in Bucket.Versions (a delete also leaves a delete marker there), and
// a bucket with versions is not empty. ListObjectVersions is not faked:
// tests read Versions.

func (f *S3) PutBucketVersioning(ctx context.Context, in *s3.PutBucketVersioningInput, _ ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error) {
	b, fault, err := f.configBucket(ctx, "PutBucketVersioning", in.Bucket)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	c := in.VersioningConfiguration
	if c == nil || (c.Status != types.BucketVersioningStatusEnabled && c.Status != types.BucketVersioningStatusSuspended) {
		return nil, APIError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	b.Versioning = string(c.Status)
	return finish(&s3.PutBucketVersioningOutput{}, nil, fault)
}

func (f *S3) GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, _ ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	b, fault, err := f.configBucket(ctx, "GetBucketVersioning", in.Bucket)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	return finish(&s3.GetBucketVersioningOutput{Status: types.BucketVersioningStatus(b.Versioning)}, nil, fault)
}

// keepVersion gives next a version id and keeps the current object of key
// as a noncurrent version, when versioning is on; callers hold f.mu.
func (b *Bucket) keepVersion(key string, next *Object) {
	if b.Versioning != string(types.BucketVersioningStatusEnabled) {
		return
	}
	if b.Versions == nil {
		b.Versions = map[string][]*Object{}
	}
	if cur := b.Objects[key]; cur != nil {
		b.Versions[key] = append(b.Versions[key], cur)
	}
	next.VersionID = newID("v")
	if next.DeleteMarker {
		b.Versions[key] = append(b.Versions[key], next)
	}
}

// CreateBucketIn adds an empty bucket in another region of the same
// account (a test's setup: CreateBucket here only makes buckets in Region).
func (f *S3) CreateBucketIn(name, region string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buckets[name] = &Bucket{Name: name, Region: region, Objects: map[string]*Object{}, Created: time.Now(), Extra: map[string]any{}}
}

// ObjectVersions is how many versions of key a bucket holds: the current
// object (if any) and every noncurrent one, delete markers included.
func (f *S3) ObjectVersions(bucket, key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[bucket]
	if b == nil {
		return 0
	}
	n := len(b.Versions[key])
	if b.Objects[key] != nil {
		n++
	}
	return n
}
