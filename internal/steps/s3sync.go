package steps

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/lambda/syncs3/keys"
)

// Outputs of stage 9; the backend stages read OutCarouselURL for CAROUSEL_URL.
const (
	OutCarouselURL         = "carousel_url"
	OutCarouselBucket      = "bucket"
	OutCarouselFunctionARN = "function_arn"
)

// The bucket layout the page, the backend and the Lambda agree on.
const (
	carouselImagesPrefix = "images/"
	carouselIndexKey     = "carrousel/carrousel.json"
)

func s3SyncStage() *Stage {
	return &Stage{
		Number: 9, Name: "s3-sync", Title: "carousel bucket and sync Lambda",
		Apply: applyS3Sync,
		Live:  liveS3Sync,
		// The function goes first, so emptying the bucket triggers nothing;
		// the role last, once nothing uses it.
		Kinds: []*Kind{lambdaFunctionKind, s3BucketKind(), iamRoleKind},
		Named: namedCarouselBucket,
	}
}

// carousel is what stage 9 builds, named for one account and region.
type carousel struct {
	bucket    string
	function  string
	account   string
	region    string
	partition string
}

func newCarousel(ctx context.Context, r *Run) (carousel, error) {
	c, err := carouselOf(ctx, r.Env)
	if err != nil {
		return c, err
	}
	for key, want := range map[string]string{"bucket": c.bucket, "function": c.function} {
		if rec, ok := r.State.Resource(r.Stage.Name, key); ok && rec.ID != want {
			return c, fmt.Errorf("stage %s: the %s is %s but the configuration now names %s: it cannot be renamed; restore carousel.%s, or `myappctl destroy` and build again",
				r.Stage.Name, key, rec.ID, want, map[string]string{"bucket": "bucket", "function": "function_name"}[key])
		}
	}
	if len(c.function) > 64 {
		return c, fmt.Errorf("stage %s: function name %q is longer than Lambda's 64 characters: shorten carousel.function_name or the stack name", r.Stage.Name, c.function)
	}
	return c, nil
}

// carouselOf names the carousel of the configured stack and account. The
// names depend only on configuration and the account, so the backend stages
// know the carousel URL before stage 9 has run (the backend falls back to its
// bundled images until the index exists).
func carouselOf(ctx context.Context, e *Env) (carousel, error) {
	account, err := e.AccountID(ctx)
	if err != nil {
		return carousel{}, err
	}
	c := carousel{bucket: e.Cfg.Carousel.Bucket, function: e.Cfg.Name(e.Cfg.Carousel.FunctionName),
		account: account, region: e.Cfg.Region, partition: partitionOf(e.Cfg.Region)}
	if c.bucket == "" {
		c.bucket = "carrousel-" + e.Cfg.Stack + "-" + account
	}
	return c, nil
}

// carouselIndexURL is the public URL of the carousel index (CAROUSEL_URL).
func carouselIndexURL(ctx context.Context, e *Env) (string, error) {
	c, err := carouselOf(ctx, e)
	if err != nil {
		return "", err
	}
	return c.publicURL(carouselIndexKey), nil
}

// partitionOf is the ARN partition of a region.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

func (c carousel) bucketARN() string { return "arn:" + c.partition + ":s3:::" + c.bucket }

func (c carousel) functionARN() string {
	return "arn:" + c.partition + ":lambda:" + c.region + ":" + c.account + ":function:" + c.function
}

// publicURL is the address the page loads an object from, as the Lambda writes it.
func (c carousel) publicURL(key string) string {
	return "https://" + c.bucket + ".s3.amazonaws.com/" + keys.Escape(key)
}

func applyS3Sync(ctx context.Context, r *Run) error {
	code, err := lambdaPackage(r.Cfg.ArtifactsDir)
	if err != nil && !r.DryRun {
		return err
	}
	// A plan still shows the rest; the code shows as unknown.
	code.unknown = err
	c, err := newCarousel(ctx, r)
	if err != nil {
		return err
	}
	bucket, err := ensureCarouselBucket(ctx, r, c)
	if err != nil {
		return err
	}
	if err := ensureBucketAccess(ctx, r, c, bucket); err != nil {
		return err
	}
	if err := ensureCarouselContent(ctx, r, c, bucket); err != nil {
		return err
	}
	role, err := ensureSyncRole(ctx, r, c)
	if err != nil {
		return err
	}
	fn, err := ensureSyncFunction(ctx, r, c, role, code)
	if err != nil {
		return err
	}
	// S3 checks the function's policy when the trigger is saved: permission first.
	if err := ensureInvokePermission(ctx, r, c, fn); err != nil {
		return err
	}
	if err := ensureBucketTrigger(ctx, r, c, bucket); err != nil {
		return err
	}
	for k, v := range map[string]string{
		OutCarouselBucket: c.bucket, OutCarouselURL: c.publicURL(carouselIndexKey), OutCarouselFunctionARN: c.functionARN(),
	} {
		if err := r.SetOutput(k, v); err != nil {
			return err
		}
	}
	return nil
}

// liveS3Sync shows the bucket, the function's state and how many images
// the carousel has.
func liveS3Sync(ctx context.Context, r *Run) ([]Fact, error) {
	bucket := r.State.Output(r.Stage.Name, OutCarouselBucket)
	facts := []Fact{{Name: "bucket", Value: bucket}, {Name: "carousel", Value: r.State.Output(r.Stage.Name, OutCarouselURL)}}
	if rec, ok := r.State.Resource(r.Stage.Name, "function"); ok {
		out, err := r.AWS.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(rec.ID)})
		switch {
		case awsx.IsNotFound(err):
			facts = append(facts, Fact{Name: "function", Value: rec.ID + ": missing"})
		case err != nil:
			return facts, err
		default:
			cfg := out.Configuration
			facts = append(facts, Fact{Name: "function", Value: fmt.Sprintf("%s: %s (last update %s)", rec.ID, cfg.State, cfg.LastUpdateStatus)})
		}
	}
	if bucket == "" {
		return facts, nil
	}
	all, err := listKeys(ctx, r.Env, bucket, "") // the listing the stage's drift check reads
	if err != nil {
		return facts, err
	}
	return append(facts, Fact{Name: "images", Value: fmt.Sprint(len(imageKeys(underPrefix(all, carouselImagesPrefix))))}), nil
}

// listKeys returns every key under prefix, following all pages.
func listKeys(ctx context.Context, e *Env, bucket, prefix string) ([]string, error) {
	var out []string
	pages := s3.NewListObjectsV2Paginator(e.AWS.S3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out, nil
}

// propagationLimit bounds the retries while IAM propagates a new role (or
// S3 a new bucket).
const propagationLimit = 2 * time.Minute

// untilVisible retries call while it answers NotFound for a resource just
// made: IAM and S3 reads right after a create are eventually consistent.
func untilVisible(ctx context.Context, r *Run, call func() error) error {
	return untilPropagated(ctx, r, awsx.IsNotFound, call)
}

// untilPropagated retries call, every poll interval for propagationLimit
// at most, while its error is one propagating says a fresh resource gives
// until AWS has propagated it; it returns the last answer.
func untilPropagated(ctx context.Context, r *Run, propagating func(error) bool, call func() error) error {
	deadline := time.Now().Add(min(r.Cfg.Wait.Timeout, propagationLimit))
	for {
		err := call()
		if err == nil || time.Now().After(deadline) || !propagating(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.Cfg.Wait.PollInterval):
		}
	}
}
