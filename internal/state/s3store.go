package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// S3Client is the part of S3 the state store calls (awsx.S3API has it all).
type S3Client interface {
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// S3Store keeps the state in an S3 object and the lock in KEY.lock, with
// S3's conditional writes: a new object is written with If-None-Match "*",
// a replacement with If-Match <the ETag read>, and the lock is deleted with
// If-Match too; S3 answers 412 when the condition fails, which is a
// *ConflictError here. Every lock written is followed by a probe of those
// conditions, so a server that ignores them is refused, never trusted.
type S3Store struct {
	client S3Client
	loc    S3Location
	// conflictPause is the wait before retrying a 409 ConditionalRequestConflict.
	conflictPause time.Duration
}

// ErrConditionsIgnored means the S3 server ignores If-None-Match or If-Match.
var ErrConditionsIgnored = errors.New("the S3 server ignores conditional writes")

// OpenS3Store checks that the bucket exists, is readable and is in the
// stack's region, warns (through warn) when it keeps no versions, and
// returns the store.
func OpenS3Store(ctx context.Context, client S3Client, loc S3Location, region string, warn func(string, ...any)) (*S3Store, error) {
	exists, err := checkBucket(ctx, client, loc.Bucket, region)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("state bucket %s does not exist (or these credentials cannot see it): create it and copy the local state there with `myappctl state init %s`", loc.Bucket, loc)
	}
	warnUnversioned(ctx, client, loc.Bucket, warn)
	return &S3Store{client: client, loc: loc, conflictPause: 200 * time.Millisecond}, nil
}

// checkBucket reports whether a bucket exists, and refuses one of another
// region (HeadBucket names it: BucketRegion, or the 301's header).
func checkBucket(ctx context.Context, client S3Client, bucket, region string) (bool, error) {
	out, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	got := bucketRegion(out, err)
	switch {
	case got != "" && got != region:
		return false, fmt.Errorf("state bucket %s is in %s, not in the stack's region %s: keep the state in a bucket of %s (`myappctl state init s3://OTHER-BUCKET/KEY`), or pass --region %s if the stack is there",
			bucket, got, region, region, got)
	case err == nil:
		return true, nil
	case awsx.IsNotFound(err):
		return false, nil
	}
	return false, s3Failure("look up state bucket "+bucket, "s3:ListBucket on arn:aws:s3:::"+bucket, err)
}

func bucketRegion(out *s3.HeadBucketOutput, err error) string {
	if out != nil {
		return aws.ToString(out.BucketRegion)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get("X-Amz-Bucket-Region")
	}
	return ""
}

// warnUnversioned says when old state versions cannot be recovered.
func warnUnversioned(ctx context.Context, client S3Client, bucket string, warn func(string, ...any)) {
	out, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	switch {
	case err != nil && isAccessDenied(err):
		warn("warning: cannot tell whether state bucket %s keeps versions (s3:GetBucketVersioning denied)", bucket)
	case err != nil:
		warn("warning: cannot tell whether state bucket %s keeps versions: %v", bucket, err)
	case out.Status != s3types.BucketVersioningStatusEnabled:
		warn("warning: state bucket %s has versioning off, so an earlier state cannot be recovered: turn it on (aws s3api put-bucket-versioning --bucket %s --versioning-configuration Status=Enabled)", bucket, bucket)
	}
}

func (s *S3Store) key(d Doc) string {
	if d == LockDoc {
		return s.loc.Key + ".lock"
	}
	return s.loc.Key
}

func (s *S3Store) Location(d Doc) string { return "s3://" + s.loc.Bucket + "/" + s.key(d) }

func (s *S3Store) Load(ctx context.Context, d Doc) ([]byte, string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(s.key(d))})
	if awsx.IsNotFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", s3Failure("read "+s.Location(d), "s3:GetObject on arn:aws:s3:::"+s.loc.Bucket+"/"+s.key(d), err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", s.Location(d), err)
	}
	return data, aws.ToString(out.ETag), nil
}

func (s *S3Store) Save(ctx context.Context, d Doc, data []byte, version string) (string, error) {
	cond := func(in *s3.PutObjectInput) {
		if version == "" {
			in.IfNoneMatch = aws.String("*")
		} else {
			in.IfMatch = aws.String(version)
		}
	}
	etag, err := s.put(ctx, d, data, cond)
	if err != nil {
		var refused *refusedWrite
		if !errors.As(err, &refused) {
			return "", err
		}
		// A write whose response was lost is retried by the SDK and then
		// refused: the stored document is then our own.
		cur, curVersion, lerr := s.Load(ctx, d)
		if lerr != nil || !bytes.Equal(cur, data) {
			return "", conflict(s.Location(d), version, cur != nil)
		}
		etag = curVersion
	}
	if d == LockDoc {
		if err := s.probeConditions(ctx, data); err != nil {
			_, _ = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(s.key(d))})
			return "", err
		}
	}
	return etag, nil
}

// refusedWrite is a conditional write S3 answered with 412 (or a 404 for
// If-Match on a key that is gone).
type refusedWrite struct{ err error }

func (e *refusedWrite) Error() string { return e.err.Error() }

// put writes data with conditions, retrying a 409 ConditionalRequestConflict
// (a concurrent conditional write) a few times, and returns the new ETag.
func (s *S3Store) put(ctx context.Context, d Doc, data []byte, cond func(*s3.PutObjectInput)) (string, error) {
	for attempt := 1; ; attempt++ {
		in := &s3.PutObjectInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(s.key(d)), Body: bytes.NewReader(data),
			ContentType: aws.String("application/json")}
		cond(in)
		out, err := s.client.PutObject(ctx, in)
		switch {
		case err == nil:
			return s.etagOf(ctx, d, out)
		case awsx.HasCode(err, "ConditionalRequestConflict") && attempt < 5:
			select {
			case <-time.After(time.Duration(attempt) * s.conflictPause):
			case <-ctx.Done():
				return "", ctx.Err()
			}
		case awsx.HasCode(err, "PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"):
			return "", &refusedWrite{err}
		case awsx.HasCode(err, "NotImplemented"):
			return "", fmt.Errorf("write %s: the S3 server does not implement conditional writes (If-None-Match/If-Match), which the shared state needs for its lock: use AWS S3 or a server that has them, or keep the state in a local file: %w", s.Location(d), ErrConditionsIgnored)
		default:
			return "", s3Failure("write "+s.Location(d), "s3:PutObject on arn:aws:s3:::"+s.loc.Bucket+"/"+s.key(d), err)
		}
	}
}

// etagOf is the ETag PutObject returned, or HeadObject's when a server
// returns none.
func (s *S3Store) etagOf(ctx context.Context, d Doc, out *s3.PutObjectOutput) (string, error) {
	if etag := aws.ToString(out.ETag); etag != "" {
		return etag, nil
	}
	_, etag, err := s.Load(ctx, d)
	return etag, err
}

// probeConditions writes the lock we hold again, once as a create and once
// over a wrong ETag: S3 refuses both (412), leaving it unchanged. A server
// that accepts either ignores the conditions the lock and every state write
// rely on (rewriting our own lock with the same bytes does no harm).
func (s *S3Store) probeConditions(ctx context.Context, lock []byte) error {
	probes := []struct {
		header string
		cond   func(*s3.PutObjectInput)
	}{
		{"If-None-Match", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }},
		{"If-Match", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(`"00000000000000000000000000000000"`) }},
	}
	for _, p := range probes {
		_, err := s.put(ctx, LockDoc, lock, p.cond)
		var refused *refusedWrite
		switch {
		case errors.As(err, &refused):
			continue
		case err != nil:
			return err
		}
		return fmt.Errorf("%w: a PutObject with %s on %s went through where S3 answers 412 Precondition Failed, so this server cannot lock the state or protect it from lost updates; myappctl will not keep shared state there: use AWS S3 or an S3-compatible server that supports conditional writes, or keep the state in a local file (--state PATH)",
			ErrConditionsIgnored, p.header, s.Location(LockDoc))
	}
	return nil
}

// Delete reads the document first, then deletes it with If-Match: S3 (since
// 2025) refuses the delete if it changed in between; a server that ignores
// a conditional delete still never deletes what changed before the read.
func (s *S3Store) Delete(ctx context.Context, d Doc, version string) error {
	if there, err := stillAt(ctx, s, d, version); !there {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(s.key(d)), IfMatch: aws.String(version)})
	switch {
	case err == nil || awsx.IsNotFound(err):
		return nil
	case awsx.HasCode(err, "PreconditionFailed"):
		return conflict(s.Location(d), version, true)
	}
	return s3Failure("delete "+s.Location(d), "s3:DeleteObject (and s3:GetObject, for the If-Match check) on arn:aws:s3:::"+s.loc.Bucket+"/"+s.key(d), err)
}

// isAccessDenied reports a 403, however the server names it.
func isAccessDenied(err error) bool {
	var re *awshttp.ResponseError
	return awsx.HasCode(err, "AccessDenied", "Forbidden", "AllAccessDisabled") || errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden
}

// s3Failure says what failed and, for a denial, which permission is missing.
func s3Failure(what, permission string, err error) error {
	if isAccessDenied(err) {
		return fmt.Errorf("%s: access denied: your credentials lack %s (add it to the IAM policy of the user or role): %w", what, permission, err)
	}
	if hint := awsx.Hint(err); hint != "" {
		return fmt.Errorf("%s: %w (%s)", what, err, hint)
	}
	return fmt.Errorf("%s: %w", what, err)
}
