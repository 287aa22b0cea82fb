package steps

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/myappctl/myappctl/internal/awsx"
)

// A release is one build of a tier's service, named by the SHA-256 of its
// binary. The release a tier should run is the binary `make build` wrote
// (artifacts_dir); when that is missing on this machine, the tier keeps the
// release it runs. A tier whose release differs from the wanted one is
// rolled: a fresh bootstrap instance installs the new release, a new AMI is
// baked from it (named after the release), stand-alone instances are
// replaced from it one at a time, the launch template gets a new default
// version and the group an instance refresh, and the old AMIs go once
// nothing uses them.

// Tags on every tier instance and AMI.
const (
	tagRelease      = "myappctl:release" // the release it runs (AMI: holds)
	tagSource       = "myappctl:source"  // how the instance was installed
	sourceBootstrap = "bootstrap"        // from Ubuntu, installed the release from S3
	sourceAMI       = "ami"              // from the tier AMI
	tagTier         = "myappctl:tier"    // frontend, backend (AMIs, build instances)
)

// release is a tier's wanted release.
type release struct {
	sha string
	// local is the binary to upload; zero when artifacts_dir lacks it and
	// the tier keeps the release it runs.
	local localArtifact
}

// short is the release as plans and names show it.
func (rel release) short() string { return shortRelease(rel.sha) }

func shortRelease(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return orNone(sha)
}

// Outputs of the AMI stages (frontend-lb, backend): the release the tier's
// AMI holds.
const (
	OutFrontendRelease = "frontend_release"
	OutBackendRelease  = "backend_release"
)

// wantedRelease is the release the tier should run: its binary in
// artifacts_dir, else (not built on this machine) the one it runs now.
func wantedRelease(r *Run, t *appTier) (release, error) {
	a, err := readArtifact(r, t.Service)
	if err == nil {
		return release{sha: a.sha256, local: a}, nil
	}
	cur := r.Output(t.AMIStage, t.ReleaseOutput)
	switch {
	case !errors.Is(err, ErrArtifactMissing):
		return release{}, err
	case cur != "" && !isPlanned(cur):
		r.logOnce("keep-release/"+t.Name, "%s is not built here: the %s tier keeps release %s (run `make build` to ship a new one)",
			t.Service, t.Name, shortRelease(cur))
		return release{sha: cur}, nil
	case r.DryRun: // a plan says what is missing (artifactNote) instead of failing
		return release{}, nil
	}
	return release{}, err
}

// releaseKey is where a release lives in the artifacts bucket.
func releaseKey(t *appTier, sha string) string { return "releases/" + t.Name + "/" + sha }

// publishRelease uploads the release's binary unless the bucket has it, and
// returns where an instance fetches it.
func publishRelease(ctx context.Context, r *Run, t *appTier, rel release) (releaseRef, error) {
	bucket := r.Output("security", OutArtifactsBucket)
	if bucket == "" {
		return releaseRef{}, fmt.Errorf("stage %s: the artifacts bucket is not in the state file: run `myappctl step security` first", r.Stage.Name)
	}
	ref := releaseRef{SHA256: rel.sha, Key: releaseKey(t, rel.sha), Bucket: bucket, Region: r.Cfg.Region, Stack: r.Cfg.Stack}
	_, err := r.AWS.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(ref.Key)})
	switch {
	case err == nil:
		return ref, nil
	case !awsx.IsNotFound(err):
		return releaseRef{}, &StageError{Stage: r.Stage.Name, Action: "look for", Resource: "s3 object " + bucket + "/" + ref.Key, Err: err}
	case rel.local.path == "":
		return releaseRef{}, fmt.Errorf("stage %s: release %s of %s is not in s3://%s/%s and not built here: %w", r.Stage.Name, rel.short(), t.Service, bucket, ref.Key, ErrArtifactMissing)
	}
	err = r.change("modify", bucketKind.Type, bucket, fmt.Sprintf("upload %s (release %s, %.1f MB)", ref.Key, rel.short(), float64(rel.local.size)/1e6), func() error {
		return uploadArtifact(ctx, r, bucket, ref.Key, rel.local)
	})
	return ref, err
}
