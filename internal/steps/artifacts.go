package steps

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// The app binaries reach the instances through a private bucket of the
// stack: objects keyed by content hash (releases/<tier>/<sha256>), uploaded
// once, fetched by the bootstrap script with the instance's own role, which
// may read only its tier's releases (release.go). Instances write their
// reports into the same bucket (reports.go).

// artifactsBucketName is global, so it carries the stack and the account.
func artifactsBucketName(ctx context.Context, r *Run) (string, error) {
	account, err := r.AccountID(ctx)
	if err != nil {
		return "", &StageError{Stage: r.Stage.Name, Action: "look up", Resource: "the account id", Err: err}
	}
	return "myappctl-artifacts-" + r.Cfg.Stack + "-" + account, nil
}

// ensureArtifactsBucket makes the private, tagged artifacts bucket.
func ensureArtifactsBucket(ctx context.Context, r *Run) (string, error) {
	name, err := artifactsBucketName(ctx, r)
	if err != nil {
		return "", err
	}
	known, _ := r.State.Resource(r.Stage.Name, "bucket/artifacts")
	id, err := ensureBucket(ctx, r, ownBucket{key: "bucket/artifacts", name: name, region: r.Cfg.Region, detail: "private, for the app binaries",
		rename: "use another --stack"})
	if err != nil || isPlanned(id) {
		return id, err
	}
	return id, ensureBucketPrivate(ctx, r, id, known.ID != id)
}

// namedArtifactsBucket is the artifacts bucket for destroy to check by name.
func namedArtifactsBucket(ctx context.Context, r *Run) ([]NamedResource, error) {
	name, err := artifactsBucketName(ctx, r)
	if err != nil {
		return nil, err
	}
	return []NamedResource{bucketNamed(name, r.Cfg.Stack)}, nil
}

// ensureBucketPrivate checks (and repairs) what AWS gives new buckets:
// Block Public Access all on, ACLs disabled, default encryption. The
// encryption is checked when the bucket is new to the state: AWS encrypts
// every bucket by default and a default encryption cannot be removed, only
// changed (any is fine for these private objects), so later runs need not
// ask again.
func ensureBucketPrivate(ctx context.Context, r *Run, bucket string, isNew bool) error {
	b := aws.String(bucket)
	describeErr := func(err error) error {
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: bucketKind.Type + " " + bucket, Err: err}
	}
	pab, err := r.AWS.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	if err != nil && !awsx.HasCode(err, "NoSuchPublicAccessBlockConfiguration") {
		return describeErr(err)
	}
	if c := publicAccessBlockOf(pab); !(aws.ToBool(c.BlockPublicAcls) && aws.ToBool(c.IgnorePublicAcls) && aws.ToBool(c.BlockPublicPolicy) && aws.ToBool(c.RestrictPublicBuckets)) {
		err := r.change("modify", bucketKind.Type, bucket, "block all public access", func() error {
			_, err := r.AWS.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
			return err
		})
		if err != nil {
			return err
		}
	}
	own, err := r.AWS.S3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
	if err != nil && !awsx.HasCode(err, "OwnershipControlsNotFoundError") {
		return describeErr(err)
	}
	if own == nil || own.OwnershipControls == nil || len(own.OwnershipControls.Rules) != 1 || own.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		err := r.change("modify", bucketKind.Type, bucket, "object ownership BucketOwnerEnforced (ACLs off)", func() error {
			_, err := r.AWS.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b, OwnershipControls: &s3types.OwnershipControls{
				Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}})
			return err
		})
		if err != nil {
			return err
		}
	}
	if !isNew {
		return nil
	}
	enc, err := r.AWS.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	if err != nil && !awsx.HasCode(err, "ServerSideEncryptionConfigurationNotFoundError") {
		return describeErr(err)
	}
	if enc != nil && enc.ServerSideEncryptionConfiguration != nil && len(enc.ServerSideEncryptionConfiguration.Rules) > 0 &&
		enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault != nil {
		return nil
	}
	return r.change("modify", bucketKind.Type, bucket, "default encryption SSE-S3", func() error {
		_, err := r.AWS.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
		return err
	})
}

func publicAccessBlockOf(out *s3.GetPublicAccessBlockOutput) s3types.PublicAccessBlockConfiguration {
	if out == nil || out.PublicAccessBlockConfiguration == nil {
		return s3types.PublicAccessBlockConfiguration{}
	}
	return *out.PublicAccessBlockConfiguration
}

// localArtifact is an app binary `make build` wrote.
type localArtifact struct {
	path, sha256 string
	size         int64
}

// ErrArtifactMissing means the binaries are not built.
var ErrArtifactMissing = errors.New("run `make build` first")

// readArtifact hashes an app binary in artifacts_dir.
func readArtifact(r *Run, file string) (localArtifact, error) {
	path := filepath.Join(r.Cfg.ArtifactsDir, file)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return localArtifact{}, fmt.Errorf("stage %s: %s is missing (artifacts_dir %s): %w to cross-build the linux/amd64 binaries", r.Stage.Name, path, r.Cfg.ArtifactsDir, ErrArtifactMissing)
	}
	if err != nil {
		return localArtifact{}, fmt.Errorf("stage %s: read %s: %w", r.Stage.Name, path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return localArtifact{}, fmt.Errorf("stage %s: read %s: %w", r.Stage.Name, path, err)
	}
	// Several stages want the same binary's hash: each file is read once
	// per process, unless it changed meanwhile.
	seen := fmt.Sprintf("%s\x00%d\x00%d", path, info.Size(), info.ModTime().UnixNano())
	if a, ok := r.hashed.Load(seen); ok {
		return a.(localArtifact), nil
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return localArtifact{}, fmt.Errorf("stage %s: read %s: %w", r.Stage.Name, path, err)
	}
	a := localArtifact{path: path, sha256: hex.EncodeToString(h.Sum(nil)), size: n}
	r.hashed.Store(seen, a)
	return a, nil
}

// artifactNote says, for a plan, whether the binary is there to upload.
func artifactNote(r *Run, file string) string {
	if _, err := os.Stat(filepath.Join(r.Cfg.ArtifactsDir, file)); err != nil {
		return "; " + filepath.Join(r.Cfg.ArtifactsDir, file) + " is missing: run `make build` first"
	}
	return ""
}

func uploadArtifact(ctx context.Context, r *Run, bucket, key string, a localArtifact) error {
	f, err := os.Open(a.path)
	if err != nil {
		return err
	}
	defer f.Close()
	sum, _ := hex.DecodeString(a.sha256)
	_, err = r.AWS.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: f,
		ContentLength: aws.Int64(a.size), ContentType: aws.String("application/octet-stream"),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum))})
	return err
}
