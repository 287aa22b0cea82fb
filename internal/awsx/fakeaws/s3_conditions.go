package fakeaws

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3 conditional writes, as AWS evaluates them: PutObject with
// If-None-Match "*" fails with 412 PreconditionFailed when the key exists
// (create only); If-Match <etag> fails with 412 when the current ETag
// differs and with 404 NoSuchKey when there is no object; DeleteObject
// takes If-Match the same way. IgnoreConditionalWrites turns all of it off,
// as on S3-compatible servers that do not implement the headers.

func preconditionFailed() error {
	return APIError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
}

// checkConditions evaluates a write's conditions; callers hold f.mu.
func (f *S3) checkConditions(b *Bucket, key string, ifMatch, ifNoneMatch *string) error {
	if f.IgnoreConditionalWrites {
		return nil
	}
	cur := b.Objects[key]
	if ifNoneMatch != nil {
		if *ifNoneMatch != "*" {
			return APIError("NotImplemented", "A header you provided implies functionality that is not implemented: If-None-Match takes only *")
		}
		if cur != nil {
			return preconditionFailed()
		}
	}
	return checkIfMatch(cur, ifMatch)
}

// checkDeleteCondition evaluates DeleteObject's If-Match; callers hold f.mu.
func (f *S3) checkDeleteCondition(b *Bucket, key string, ifMatch *string) error {
	if f.IgnoreConditionalWrites {
		return nil
	}
	return checkIfMatch(b.Objects[key], ifMatch)
}

func checkIfMatch(cur *Object, ifMatch *string) error {
	switch {
	case ifMatch == nil:
		return nil
	case cur == nil:
		return &types.NoSuchKey{Message: aws.String("The specified key does not exist.")}
	case *ifMatch != "*" && *ifMatch != cur.ETag:
		return preconditionFailed()
	}
	return nil
}

// movedPermanently is S3's answer to a request for a bucket of another
// region: 301 with the bucket's region in x-amz-bucket-region (a HEAD has
// no body, so the SDK names the error after the status).
func movedPermanently(region string) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusMovedPermanently,
			Header: http.Header{"X-Amz-Bucket-Region": {region}}}},
		Err: &smithy.GenericAPIError{Code: "MovedPermanently", Message: "Moved Permanently"},
	}}
}
