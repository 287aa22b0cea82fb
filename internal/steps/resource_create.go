package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	"github.com/myappctl/myappctl/internal/awsx"
)

// createAttempts bounds how often Ensure creates one resource whose earlier
// attempts failed unclearly and left nothing it could find.
const createAttempts = 3

// create runs s.Create and settles an answer that leaves the outcome open,
// for every kind alike:
//   - "already exists" (awsx.IsAlreadyExists): the SDK retried a create
//     whose first response was lost, or another run made it. The resource
//     is adopted when it carries the stack's tags, and refused otherwise.
//   - an unclear failure (awsx.IsUnclear: a 5xx, a timeout): the create may
//     have worked. The resource is looked for by its tags, adopted if
//     found, else created again (with the same client token). Creates that
//     take no client token run without SDK retries (awsx.EC2CreateOnce), so
//     this is where they are repeated, and a retried create that finds two
//     keeps one: no duplicate is left within the run.
func (r *Run) create(ctx context.Context, s Spec, token string) (string, error) {
	for attempt := 1; ; attempt++ {
		id, err := s.Create(ctx, token)
		if err == nil {
			if attempt > 1 {
				return id, r.removeExtras(ctx, s, id)
			}
			return id, nil
		}
		exists, unclear := awsx.IsAlreadyExists(err), awsx.IsUnclear(err)
		if !exists && !unclear {
			return "", err
		}
		found, ferr := r.findCreated(ctx, s)
		switch {
		case ferr != nil:
			return "", fmt.Errorf("%w (looking for it by its tags failed too: %v)", err, ferr)
		case found != "":
			r.Logf("%s %s (%s) exists after a create that answered %s: adopted", s.Kind.Type, s.Name, found, shortErr(err))
			return found, nil
		case exists && explained(err):
			return "", err
		case exists:
			return "", fmt.Errorf("%w: it exists without the tags %s=%s and %s=%s, so myappctl leaves it alone: delete or rename it, or use another --stack",
				err, awsx.TagStack, r.Cfg.Stack, awsx.TagName, s.Name)
		case attempt >= createAttempts:
			return "", err
		}
		r.Logf("create %s %s: %s, and it is not there: creating it again", s.Kind.Type, s.Name, shortErr(err))
	}
}

// explained reports an error a Create wrapped: it says what it means
// already (a bare AWS error does not).
func explained(err error) bool {
	switch err.(type) {
	case *smithy.OperationError, smithy.APIError:
		return false
	}
	return true
}

// findCreated looks for the resource of s by its tags, twice (one poll
// interval apart: describes lag behind creates), keeping one if it finds
// several.
func (r *Run) findCreated(ctx context.Context, s Spec) (string, error) {
	for look := 1; ; look++ {
		ids, err := s.Kind.FindTagged(ctx, r.Env, r.nameTags(s))
		if err != nil {
			return "", err
		}
		if len(ids) > 0 {
			return ids[0], r.removeDuplicates(ctx, s, ids[0], ids[1:])
		}
		if look == 2 {
			return "", nil
		}
		select {
		case <-ctx.Done():
			return "", context.Cause(ctx)
		case <-time.After(r.Cfg.Wait.PollInterval):
		}
	}
}

// removeExtras removes resources tagged like s other than keep: what an
// earlier attempt of this create made after all.
func (r *Run) removeExtras(ctx context.Context, s Spec, keep string) error {
	ids, err := s.Kind.FindTagged(ctx, r.Env, r.nameTags(s))
	if err != nil {
		return err
	}
	return r.removeDuplicates(ctx, s, keep, slices.DeleteFunc(ids, func(id string) bool { return id == keep }))
}

// repairTags puts back the stack tags a resource of a kind with Tag lacks
// (tagging it was a call of its own, which an emulator or a missing
// permission skipped, or the run stopped before it). tags are the
// resource's, or nil when not known yet.
func (r *Run) repairTags(ctx context.Context, s Spec, id string, tags awsx.Tags) error {
	if tags == nil {
		err := awsx.Poll(ctx, r.wait(s.Kind.Type+" "+s.Name+" to be listed", min(r.Cfg.Wait.Timeout, propagationLimit), ""),
			func(ctx context.Context) (bool, string, error) {
				t, found, err := s.Kind.Lookup(ctx, r.Env, id)
				tags = t
				return found, "not found yet", err
			})
		if err != nil {
			return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: s.Kind.Type + " " + s.Name, Err: err}
		}
	}
	want := r.Tags(s.Name)
	var missing []string
	for k, v := range want {
		if tags[k] != v {
			missing = append(missing, k+"="+v)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return r.change("modify", s.Kind.Type, s.Name, "tags "+strings.Join(missing, ", "), func() error {
		return s.Kind.Tag(ctx, r.Env, id, want)
	})
}
