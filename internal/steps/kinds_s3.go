package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// bucketKind is an S3 bucket whose id is its name. Buckets are named by
// their Name tag (the name is global, so it is the identity). Delete empties
// the bucket first (unversioned buckets: the ones myappctl makes).
var bucketKind = registerKind(&Kind{
	Type: "s3:bucket",
	Lookup: func(ctx context.Context, e *Env, name string) (awsx.Tags, bool, error) {
		return bucketTags(ctx, e, name)
	},
	FindTagged: findTaggedBuckets,
	Delete: func(ctx context.Context, e *Env, name string) error {
		if err := emptyBucket(ctx, e, name); err != nil {
			return err
		}
		_, err := e.AWS.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
		return err
	},
	// Tagging in CreateBucket may be denied or ignored (bucket.go).
	Tag: tagBucket,
})

// s3BucketKind returns the bucket kind (stage 9 uses it for the carousel bucket).
func s3BucketKind() *Kind { return bucketKind }

// bucketTags reads a bucket's tags; found is false when it does not exist
// (GetBucketTagging answers NoSuchBucket itself: no HeadBucket first).
func bucketTags(ctx context.Context, e *Env, name string) (awsx.Tags, bool, error) {
	out, err := e.AWS.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
	switch {
	case strings.HasPrefix(awsx.ErrorCode(err), "NoSuchTagSet"): // NoSuchTagSetError on some S3-compatible servers
		return awsx.Tags{}, true, nil
	case awsx.HasCode(err, "NoSuchBucket", "NotFound"):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	tags := awsx.Tags{}
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, true, nil
}

// findTaggedBuckets checks the one bucket named by the Name tag, else every
// bucket of the region.
func findTaggedBuckets(ctx context.Context, e *Env, want awsx.Tags) ([]string, error) {
	names := []string{want[awsx.TagName]}
	if names[0] == "" {
		out, err := e.AWS.S3.ListBuckets(ctx, &s3.ListBucketsInput{BucketRegion: aws.String(e.Cfg.Region)})
		if err != nil {
			return nil, err
		}
		names = names[:0]
		for _, b := range out.Buckets {
			names = append(names, aws.ToString(b.Name))
		}
	}
	var ids []string
	for _, name := range names {
		tags, found, err := bucketTags(ctx, e, name)
		switch {
		case awsx.HasCode(err, "AccessDenied", "PermanentRedirect", "AuthorizationHeaderMalformed", "Forbidden", "MovedPermanently"):
			continue // not ours to read (another owner or region): not ours to delete either
		case err != nil:
			return nil, err
		case found && tagsInclude(tags, want):
			ids = append(ids, name)
		}
	}
	return ids, nil
}

// emptyBucket deletes every object, a page (at most 1,000 keys) at a time.
func emptyBucket(ctx context.Context, e *Env, name string) error {
	p := s3.NewListObjectsV2Paginator(e.AWS.S3, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		if len(page.Contents) == 0 {
			continue
		}
		objs := make([]s3types.ObjectIdentifier, 0, len(page.Contents))
		for _, o := range page.Contents {
			objs = append(objs, s3types.ObjectIdentifier{Key: o.Key})
		}
		out, err := e.AWS.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(name), Delete: &s3types.Delete{Objects: objs, Quiet: aws.Bool(true)}})
		if err != nil {
			return err
		}
		if len(out.Errors) > 0 {
			first := out.Errors[0]
			return fmt.Errorf("empty bucket %s: %d object(s) not deleted, e.g. %s: %s %s", name, len(out.Errors),
				aws.ToString(first.Key), aws.ToString(first.Code), aws.ToString(first.Message))
		}
	}
	return nil
}

// tagsInclude reports whether have carries every tag of want.
func tagsInclude(have, want awsx.Tags) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
