package fakeaws

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// S3 is the fake S3 service (one account, one region's view).
type S3 struct {
	awsx.S3API
	*Core
	Region string
	// LambdaInvokable says whether S3 may invoke a function for a bucket
	// (the function's resource policy); New wires it to the Lambda fake.
	LambdaInvokable func(functionARN, bucketARN, account string) bool
	// IgnoreCreateTags drops the tags of CreateBucketConfiguration, as the
	// S3 of emulators and S3-compatible servers does.
	IgnoreCreateTags bool
	// DenyCreateTags answers AccessDenied to a CreateBucket that carries
	// tags, as AWS does when the caller lacks s3:TagResource (restricted
	// roles, labs); without tags the create works.
	DenyCreateTags bool

	// IgnoreConditionalWrites behaves like S3-compatible servers that
	// ignore If-None-Match and If-Match on PutObject and DeleteObject
	// (every write goes through), unlike AWS (s3_conditions.go).
	IgnoreConditionalWrites bool
	// BeforeRead runs before a GetObject or ListObjectsV2, without the
	// lock (New wires it to the Agent, which writes instance reports).
	BeforeRead func()

	mu      sync.Mutex
	buckets map[string]*Bucket
}

// Bucket is a fake bucket; fields are exported for test assertions and for
// later stages' fakes (policy, encryption, notifications) to extend.
type Bucket struct {
	Name    string
	Region  string
	Tags    map[string]string
	Objects map[string]*Object
	Created time.Time
	// Extra holds per-feature configuration later fakes store (policy, ...).
	Extra map[string]any
	// Versioning is "" (never set), Enabled or Suspended; with it on,
	// Versions keeps every overwritten or deleted object (s3_versioning.go).
	Versioning string
	Versions   map[string][]*Object
}

// Object is a fake object.
type Object struct {
	Data         []byte
	ContentType  string
	CacheControl string
	ETag         string
	Modified     time.Time
	VersionID    string
	DeleteMarker bool // a noncurrent entry that records a delete
}

// NewS3 returns an empty fake S3.
func NewS3(core *Core, region string) *S3 {
	return &S3{Core: core, Region: region, buckets: map[string]*Bucket{}}
}

// Bucket returns a bucket for assertions (nil if absent).
func (f *S3) Bucket(name string) *Bucket {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buckets[name]
}

// BucketNames lists the buckets.
func (f *S3) BucketNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.buckets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (f *S3) bucket(name *string) (*Bucket, error) {
	b, ok := f.buckets[aws.ToString(name)]
	if !ok {
		return nil, APIError("NoSuchBucket", "The specified bucket does not exist: %s", aws.ToString(name))
	}
	return b, nil
}

func (f *S3) CreateBucket(ctx context.Context, in *s3.CreateBucketInput, _ ...func(*s3.Options)) (*s3.CreateBucketOutput, error) {
	fault, err := f.begin(ctx, "CreateBucket")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.Bucket)
	if len(name) < 3 || len(name) > 63 || strings.ToLower(name) != name {
		return nil, APIError("InvalidBucketName", "The specified bucket is not valid: %s", name)
	}
	var constraint string
	var tags map[string]string
	if c := in.CreateBucketConfiguration; c != nil {
		constraint = string(c.LocationConstraint)
		if len(c.Tags) > 0 && f.DenyCreateTags {
			return nil, APIError("AccessDenied", "User is not authorized to perform: s3:TagResource on resource: \"arn:aws:s3:::%s\" because no identity-based policy allows the s3:TagResource action", name)
		}
		tags = map[string]string{}
		for _, t := range c.Tags {
			if !f.IgnoreCreateTags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
	}
	switch {
	case f.Region == "us-east-1" && constraint != "":
		return nil, APIError("InvalidLocationConstraint", "The specified location-constraint is not valid")
	case f.Region != "us-east-1" && constraint != f.Region:
		return nil, APIError("IllegalLocationConstraintException", "The %s location constraint is incompatible for the region specific endpoint this request was sent to.", orUnspecified(constraint))
	}
	if _, ok := f.buckets[name]; ok {
		return nil, APIError("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
	}
	f.buckets[name] = &Bucket{Name: name, Region: f.Region, Tags: tags, Objects: map[string]*Object{}, Created: time.Now(), Extra: map[string]any{}}
	return finish(&s3.CreateBucketOutput{Location: aws.String("/" + name)}, nil, fault)
}

func orUnspecified(s string) string {
	if s == "" {
		return "unspecified"
	}
	return s
}

func (f *S3) HeadBucket(ctx context.Context, in *s3.HeadBucketInput, _ ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	fault, err := f.begin(ctx, "HeadBucket")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[aws.ToString(in.Bucket)]
	if !ok {
		return nil, &types.NotFound{Message: aws.String("Not Found")}
	}
	if b.Region != f.Region {
		return nil, movedPermanently(b.Region)
	}
	return finish(&s3.HeadBucketOutput{BucketRegion: aws.String(b.Region)}, nil, fault)
}

func (f *S3) DeleteBucket(ctx context.Context, in *s3.DeleteBucketInput, _ ...func(*s3.Options)) (*s3.DeleteBucketOutput, error) {
	fault, err := f.begin(ctx, "DeleteBucket")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(in.Bucket)
	if err != nil {
		return nil, err
	}
	if len(b.Objects) > 0 || len(b.Versions) > 0 {
		return nil, APIError("BucketNotEmpty", "The bucket you tried to delete is not empty")
	}
	delete(f.buckets, b.Name)
	return finish(&s3.DeleteBucketOutput{}, nil, fault)
}

func (f *S3) ListBuckets(ctx context.Context, _ *s3.ListBucketsInput, _ ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	fault, err := f.begin(ctx, "ListBuckets")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &s3.ListBucketsOutput{}
	names := make([]string, 0, len(f.buckets))
	for n := range f.buckets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b := f.buckets[n]
		out.Buckets = append(out.Buckets, types.Bucket{Name: aws.String(n), CreationDate: aws.Time(b.Created), BucketRegion: aws.String(b.Region)})
	}
	return finish(out, nil, fault)
}

func (f *S3) GetBucketTagging(ctx context.Context, in *s3.GetBucketTaggingInput, _ ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error) {
	fault, err := f.begin(ctx, "GetBucketTagging")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(in.Bucket)
	if err != nil {
		return nil, err
	}
	if len(b.Tags) == 0 {
		return nil, APIError("NoSuchTagSet", "The TagSet does not exist")
	}
	out := &s3.GetBucketTaggingOutput{}
	for k, v := range b.Tags {
		out.TagSet = append(out.TagSet, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	sort.Slice(out.TagSet, func(i, j int) bool { return *out.TagSet[i].Key < *out.TagSet[j].Key })
	return finish(out, nil, fault)
}

func (f *S3) PutBucketTagging(ctx context.Context, in *s3.PutBucketTaggingInput, _ ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error) {
	fault, err := f.begin(ctx, "PutBucketTagging")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(in.Bucket)
	if err != nil {
		return nil, err
	}
	b.Tags = map[string]string{}
	if in.Tagging != nil {
		for _, t := range in.Tagging.TagSet {
			b.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return finish(&s3.PutBucketTaggingOutput{}, nil, fault)
}

func (f *S3) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	fault, err := f.begin(ctx, "PutObject")
	if err != nil {
		return nil, err
	}
	var data []byte
	if in.Body != nil {
		if data, err = io.ReadAll(in.Body); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(in.Bucket)
	if err != nil {
		return nil, err
	}
	key := aws.ToString(in.Key)
	if err := f.checkConditions(b, key, in.IfMatch, in.IfNoneMatch); err != nil {
		return nil, err
	}
	sum := md5.Sum(data)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	o := &Object{Data: data, ContentType: aws.ToString(in.ContentType), CacheControl: aws.ToString(in.CacheControl), ETag: etag, Modified: time.Now()}
	b.keepVersion(key, o)
	b.Objects[key] = o
	out := &s3.PutObjectOutput{ETag: aws.String(etag)}
	if o.VersionID != "" {
		out.VersionId = aws.String(o.VersionID)
	}
	return finish(out, nil, fault)
}

func (f *S3) HeadObject(ctx context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	fault, err := f.begin(ctx, "HeadObject")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(in.Bucket)
	if err != nil {
		return nil, err
	}
	o, ok := b.Objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &types.NotFound{Message: aws.String("Not Found")}
	}
	return finish(&s3.HeadObjectOutput{ETag: aws.String(o.ETag), ContentLength: aws.Int64(int64(len(o.Data))),
		ContentType: aws.String(o.ContentType), LastModified: aws.Time(o.Modified)}, nil, fault)
}

// GetObject returns an object's bytes (NoSuchKey when it is missing).
func (f *S3) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	fault, err := f.begin(ctx, "GetObject")
	if err != nil {
		return nil, err
	}
	if f.BeforeRead != nil {
		f.BeforeRead()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(in.Bucket)
	if err != nil {
		return nil, err
	}
	o, ok := b.Objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &types.NoSuchKey{Message: aws.String("The specified key does not exist.")}
	}
	return finish(&s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(bytes.Clone(o.Data))), ETag: aws.String(o.ETag),
		ContentLength: aws.Int64(int64(len(o.Data))), ContentType: aws.String(o.ContentType), LastModified: aws.Time(o.Modified)}, nil, fault)
}

// DeleteObject deletes one object; a missing key is no error, as in S3.
func (f *S3) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	fault, err := f.begin(ctx, "DeleteObject")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(in.Bucket)
	if err != nil {
		return nil, err
	}
	key := aws.ToString(in.Key)
	if err := f.checkDeleteCondition(b, key, in.IfMatch); err != nil {
		return nil, err
	}
	if b.Objects[key] != nil {
		b.keepVersion(key, &Object{DeleteMarker: true, Modified: time.Now()})
	}
	delete(b.Objects, key)
	return finish(&s3.DeleteObjectOutput{}, nil, fault)
}

// ListObjectsV2 pages 1,000 keys at a time (or MaxKeys), like S3.
func (f *S3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	fault, err := f.begin(ctx, "ListObjectsV2")
	if err != nil {
		return nil, err
	}
	if f.BeforeRead != nil {
		f.BeforeRead()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(in.Bucket)
	if err != nil {
		return nil, err
	}
	var keys []string
	for k := range b.Objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > aws.ToString(in.ContinuationToken) && k > aws.ToString(in.StartAfter) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	limit := int(aws.ToInt32(in.MaxKeys))
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	out := &s3.ListObjectsV2Output{Name: in.Bucket, Prefix: in.Prefix}
	if len(keys) > limit {
		keys = keys[:limit]
		out.IsTruncated = aws.Bool(true)
		out.NextContinuationToken = aws.String(keys[limit-1])
	}
	for _, k := range keys {
		o := b.Objects[k]
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), Size: aws.Int64(int64(len(o.Data))), ETag: aws.String(o.ETag), LastModified: aws.Time(o.Modified)})
	}
	out.KeyCount = aws.Int32(int32(len(out.Contents)))
	return finish(out, nil, fault)
}

func (f *S3) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, _ ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	fault, err := f.begin(ctx, "DeleteObjects")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := f.bucket(in.Bucket)
	if err != nil {
		return nil, err
	}
	if in.Delete == nil || len(in.Delete.Objects) > 1000 {
		return nil, APIError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	out := &s3.DeleteObjectsOutput{}
	for _, o := range in.Delete.Objects {
		if b.Objects[aws.ToString(o.Key)] != nil {
			b.keepVersion(aws.ToString(o.Key), &Object{DeleteMarker: true, Modified: time.Now()})
		}
		delete(b.Objects, aws.ToString(o.Key))
		out.Deleted = append(out.Deleted, types.DeletedObject{Key: o.Key})
	}
	return finish(out, nil, fault)
}

// putInternal stores an object without an API call (what an instance
// writes, in tests); false when the bucket does not exist.
func (f *S3) putInternal(bucket, key string, data []byte, contentType string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[bucket]
	if !ok {
		return false
	}
	sum := md5.Sum(data)
	b.Objects[key] = &Object{Data: bytes.Clone(data), ContentType: contentType, ETag: `"` + hex.EncodeToString(sum[:]) + `"`, Modified: time.Now()}
	return true
}

// Object returns an object's bytes for assertions.
func (f *S3) Object(bucket, key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[bucket]
	if !ok {
		return nil, false
	}
	o, ok := b.Objects[key]
	if !ok {
		return nil, false
	}
	return bytes.Clone(o.Data), true
}
