package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/settings"
)

// Instances report what they run, not the console (t2, the default type,
// posts its console only around boot): the bootstrap script writes
// "installed" or "failed" (with the tail of its log), and the service
// writes "running" with its release and the settings version it applied,
// each as reports/<tier>/<instance-id>.json in the artifacts bucket, with
// the instance's own role. Stages wait on these reports before baking an
// AMI or finishing; status shows them.

// tierReports reads the reports of the given instances of a tier, by
// instance id (one without a report is absent). One listing of every
// report (all tiers: a run that reads both lists once) gives each one's
// ETag; only the objects of these instances are fetched, side by side, and
// one already read with that ETag is not fetched again.
func tierReports(ctx context.Context, e *Env, t *appTier, ids []string) (map[string]settings.Report, error) {
	bucket := e.State.Output("security", OutArtifactsBucket)
	if bucket == "" || len(ids) == 0 {
		return nil, nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[settings.ReportKey(t.Name, id)] = true
	}
	var objects []s3types.Object
	pages := s3.NewListObjectsV2Paginator(e.AWS.S3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(settings.ReportPrefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			if want[aws.ToString(o.Key)] {
				objects = append(objects, o)
			}
		}
	}
	keys, etags := make([]string, len(objects)), make([]string, len(objects))
	for i, o := range objects {
		keys[i], etags[i] = aws.ToString(o.Key), aws.ToString(o.ETag)
	}
	return readReports(ctx, e, bucket, keys, etags)
}

// currentReports reads the reports of the given instances once, for
// status: one GetObject each, side by side (no listing first), and once
// per process for a report several facts show.
func currentReports(ctx context.Context, e *Env, t *appTier, ids []string) (map[string]settings.Report, error) {
	bucket := e.State.Output("security", OutArtifactsBucket)
	if bucket == "" || len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = settings.ReportKey(t.Name, id)
	}
	return readReports(ctx, e, bucket, keys, make([]string, len(keys)))
}

// readReports reads report objects side by side (readReport), by the
// instance each names.
func readReports(ctx context.Context, e *Env, bucket string, keys, etags []string) (map[string]settings.Report, error) {
	reports := make([]settings.Report, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	for i, key := range keys {
		g.Go(func() (err error) {
			reports[i], err = readReport(gctx, e, bucket, key, etags[i])
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := map[string]settings.Report{}
	for _, rep := range reports {
		if rep.Instance != "" {
			out[rep.Instance] = rep
		}
	}
	return out, nil
}

// readReport reads one report object; an unchanged object (same ETag) is
// read once in this process, also when several stages ask at the same time.
// Without an ETag (no listing first), any copy this process read will do.
// A malformed report reads as none.
func readReport(ctx context.Context, e *Env, bucket, key, etag string) (settings.Report, error) {
	if c, ok := e.reports.Load(key); ok && (etag == "" || c.(cachedReport).etag == etag) {
		return c.(cachedReport).report, nil
	}
	v, err, _ := e.reportReads.Do(key+"\x00"+etag, func() (any, error) { return fetchReport(ctx, e, bucket, key, etag) })
	if err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return fetchReport(ctx, e, bucket, key, etag) // the caller whose read served everyone gave up; this one did not
	}
	if err != nil {
		return settings.Report{}, err
	}
	return v.(settings.Report), nil
}

func fetchReport(ctx context.Context, e *Env, bucket, key, etag string) (settings.Report, error) {
	obj, err := e.AWS.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if awsx.IsNotFound(err) {
		return settings.Report{}, nil
	}
	if err != nil {
		return settings.Report{}, err
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(io.LimitReader(obj.Body, 64<<10))
	if err != nil {
		return settings.Report{}, err
	}
	rep, err := settings.ParseReport(data)
	if err != nil {
		return settings.Report{}, nil
	}
	if etag == "" {
		etag = aws.ToString(obj.ETag)
	}
	e.reports.Store(key, cachedReport{etag: etag, report: rep})
	return rep, nil
}

type cachedReport struct {
	etag   string
	report settings.Report
}

// reportWant is what a wait expects of each instance's report.
type reportWant struct {
	release string // the release it must run ("" = any)
	// settingsVersion it must have applied ("" = any, e.g. before baking).
	settingsVersion string
	what            string // for the progress line, e.g. "to install release 3f2a9c1"
}

// waitReports waits until every instance reports want; names maps ids to
// the names progress lines and errors use. A failed install ends the wait
// at once with the tail of its log.
func waitReports(ctx context.Context, r *Run, t *appTier, names map[string]string, want reportWant) error {
	if r.DryRun || len(names) == 0 {
		return nil
	}
	if !r.Cfg.Wait.Reports {
		r.logOnce("no-reports", "not waiting for instance reports (wait.reports is false): a running instance counts as ready")
		return nil
	}
	if r.unchanged() { // confirmed by the run that completed the stage
		return nil
	}
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range names {
			if isPlanned(id) || !yield(id) {
				return
			}
		}
	})
	if len(ids) == 0 {
		return nil
	}
	bucket := r.Output("security", OutArtifactsBucket)
	spec := r.wait(fmt.Sprintf("%s %s", describeIDs(names, ids), want.what), 0,
		fmt.Sprintf("read a report with `aws s3 cp s3://%s/%s -`; the install log is /var/log/myappctl/install.log on the instance", bucket, settings.ReportKey(t.Name, ids[0])))
	var pending []string
	err := awsx.PollUnlessDone(ctx, spec, func(ctx context.Context) (bool, string, error) {
		reports, err := tierReports(ctx, r.Env, t, ids)
		if err != nil {
			return false, "", err
		}
		pending = pending[:0]
		for _, id := range ids {
			rep, ok := reports[id]
			if ok && rep.Status == settings.StatusFailed && (want.release == "" || rep.Release == want.release) {
				return false, "", &installFailedError{name: names[id], id: id, tier: t, report: rep}
			}
			if why := reportLag(rep, ok, want); why != "" {
				pending = append(pending, names[id]+": "+why)
			}
		}
		return len(pending) == 0, strings.Join(pending, "; "), nil
	})
	if errors.Is(err, awsx.ErrWaitTimeout) && len(pending) > 0 {
		err = fmt.Errorf("%w\n  still waiting on:\n    %s", err, strings.Join(pending, "\n    "))
	}
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "wait for", Resource: t.Name + " instance reports", Err: err}
	}
	return nil
}

// reportLag says why a report does not meet want yet ("" when it does).
func reportLag(rep settings.Report, found bool, want reportWant) string {
	switch {
	case !found:
		return "no report yet"
	case want.release != "" && rep.Release != want.release:
		return fmt.Sprintf("runs release %s, want %s", shortRelease(rep.Release), shortRelease(want.release))
	case want.settingsVersion != "" && rep.Status != settings.StatusRunning:
		return "installed, the service has not reported yet"
	case want.settingsVersion != "" && rep.SettingsVersion != want.settingsVersion:
		why := fmt.Sprintf("settings %s, want %s", orNone(rep.SettingsVersion), want.settingsVersion)
		if rep.SettingsError != "" {
			why += " (" + rep.SettingsError + ")"
		}
		return why
	}
	return ""
}

func describeIDs(names map[string]string, ids []string) string {
	if len(ids) == 1 {
		return names[ids[0]] + " (" + ids[0] + ")"
	}
	return fmt.Sprintf("%d instances", len(ids))
}

// installFailedError is an instance's failed install, with its log tail.
type installFailedError struct {
	name, id string
	tier     *appTier
	report   settings.Report
}

func (e *installFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) failed to install %s release %s; the end of its install log:\n", e.name, e.id, e.tier.Service, shortRelease(e.report.Release))
	for _, line := range e.report.Log {
		b.WriteString("    | " + line + "\n")
	}
	fmt.Fprintf(&b, "  fix the cause (for a bad build: fix it and run `make build`), then terminate the instance "+
		"(`aws ec2 terminate-instances --instance-ids %s`) and run `myappctl up` again", e.id)
	return b.String()
}

// reportFact is one instance's report for status.
func reportFact(name, id string, rep settings.Report, found bool, wantVersion string, now time.Time) Fact {
	if !found {
		return Fact{Name: name, Value: id + ": no report"}
	}
	v := fmt.Sprintf("%s: %s, release %s", id, rep.Status, shortRelease(rep.Release))
	if rep.SettingsVersion != "" {
		v += ", settings " + rep.SettingsVersion
		if wantVersion != "" && rep.SettingsVersion != wantVersion {
			v += " (current " + wantVersion + ")"
		}
	}
	if rep.SettingsError != "" {
		v += ", settings error: " + rep.SettingsError
	}
	return Fact{Name: name, Value: v + fmt.Sprintf(", reported %s ago", now.Sub(rep.Time).Round(time.Second))}
}
