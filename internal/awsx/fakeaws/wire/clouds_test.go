package wire

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// retrying is an SDK config whose clients retry as myappctl's do, without
// waiting between attempts.
func (tb *testbed) retrying() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(tb.url), Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		}}
}

// Every mutating call loses its first response (503, after the work): the
// SDK's retry of the same call gets through; reads are untouched.
func TestLoseResponsesOnceIsPerCallOverTheWire(t *testing.T) {
	tb := newTestbed(t)
	tb.cloud.LoseResponsesOnce()
	c := iam.NewFromConfig(tb.retrying())
	ctx := context.Background()
	before := tb.requests.Load()
	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r1"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
	wantStatus(t, err, "EntityAlreadyExists", http.StatusConflict) // the retry meets what the first attempt made
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
	wantStatus(t, err, "EntityAlreadyExists", http.StatusConflict) // another call loses its first response too
	if n := tb.requests.Load() - before; n != 4 {
		t.Errorf("%d requests, want 4 (each call: a 503, then a retry)", n)
	}
	before = tb.requests.Load()
	must(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r1")})).ok(t)
	if n := tb.requests.Load() - before; n != 1 {
		t.Errorf("a read took %d requests", n)
	}
	// Without retries the loss is what the caller sees: a 503.
	_, err = tb.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	wantStatus(t, err, "ServiceUnavailable", http.StatusServiceUnavailable)
	if !awsx.IsUnclear(err) {
		t.Errorf("a lost response is not unclear: %v", err)
	}
	if n := len(must(tb.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})).ok(t).Vpcs); n != 1 {
		t.Errorf("%d VPCs, want the one the lost call made", n)
	}
}

// A lacking action answers as LocalStack does: 501 InternalFailure, not
// retried, nothing done.
func TestLackedActionsAnswerNotImplemented(t *testing.T) {
	tb := newTestbed(t)
	tb.cloud.Lack("CreateVpc")
	c := ec2.NewFromConfig(tb.retrying())
	before := tb.requests.Load()
	_, err := c.CreateVpc(context.Background(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	wantStatus(t, err, "InternalFailure", http.StatusNotImplemented)
	if n := tb.requests.Load() - before; n != 1 {
		t.Errorf("%d requests: a 501 is not retried", n)
	}
	if !awsx.IsNotImplemented(err) || awsx.IsUnclear(err) || awsx.Hint(err) == "" {
		t.Errorf("IsNotImplemented %v, IsUnclear %v, hint %q", awsx.IsNotImplemented(err), awsx.IsUnclear(err), awsx.Hint(err))
	}
	if n := tb.cloud.EC2.Count()["vpc"]; n != 0 {
		t.Errorf("%d VPCs", n)
	}
}

// After N calls every call answers the expired-credentials code of its
// service, and the SDK does not retry it.
func TestCredentialsExpireAfterNCalls(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		code   string
		status int
		call   func(tb *testbed) error
	}{
		{"RequestExpired", http.StatusBadRequest, func(tb *testbed) error {
			_, err := ec2.NewFromConfig(tb.retrying()).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
			return err
		}},
		{"ExpiredToken", http.StatusBadRequest, func(tb *testbed) error {
			_, err := s3.NewFromConfig(tb.retrying(), func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		}},
		{"ExpiredTokenException", http.StatusForbidden, func(tb *testbed) error {
			_, err := lambda.NewFromConfig(tb.retrying()).ListFunctions(ctx, &lambda.ListFunctionsInput{})
			return err
		}},
	} {
		t.Run(c.code, func(t *testing.T) {
			tb := newTestbed(t)
			tb.cloud.ExpireCredentialsAfter(1, c.code)
			if err := c.call(tb); err != nil {
				t.Fatalf("the first call: %v", err)
			}
			before := tb.requests.Load()
			err := c.call(tb)
			wantStatus(t, err, c.code, c.status)
			if n := tb.requests.Load() - before; n != 1 || !awsx.IsCredentialsExpired(err) {
				t.Errorf("%d requests (want 1: not retried), expired %v", n, awsx.IsCredentialsExpired(err))
			}
			tb.cloud.RenewCredentials()
			if err := c.call(tb); err != nil {
				t.Errorf("after renewing: %v", err)
			}
		})
	}
}

// Tags in CreateBucketConfiguration: ignored (emulators) or denied
// (no s3:TagResource) on a switch.
func TestBucketTagsOnCreateCanBeIgnoredOrDenied(t *testing.T) {
	ctx := context.Background()
	tagged := func(name string) *s3.CreateBucketInput {
		return &s3.CreateBucketInput{Bucket: aws.String(name), CreateBucketConfiguration: &s3types.CreateBucketConfiguration{
			Tags: []s3types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}
	}
	tb := newTestbed(t)
	must(tb.s3.CreateBucket(ctx, tagged("kept"))).ok(t)
	if got := tb.cloud.S3.Bucket("kept").Tags; got["k"] != "v" {
		t.Errorf("tags %v", got)
	}
	tb.cloud.S3.IgnoreCreateTags = true
	must(tb.s3.CreateBucket(ctx, tagged("ignored"))).ok(t)
	if got := tb.cloud.S3.Bucket("ignored").Tags; len(got) != 0 {
		t.Errorf("tags %v, want none", got)
	}
	tb.cloud.S3.DenyCreateTags = true
	_, err := tb.s3.CreateBucket(ctx, tagged("denied"))
	wantStatus(t, err, "AccessDenied", http.StatusForbidden)
	must(tb.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("denied")})).ok(t)
}
