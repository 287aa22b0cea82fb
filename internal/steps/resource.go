package steps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Kind is one AWS resource type with the same small set of verbs (kops
// awstasks style): find by id or by tags, read tags, delete. Each kind lives
// in a small file of its own; stages use kinds, destroy and status too.
type Kind struct {
	Type string // e.g. "ec2:subnet"
	// Lookup describes one resource by id: its tags and whether it exists.
	Lookup func(ctx context.Context, e *Env, id string) (tags awsx.Tags, found bool, err error)
	// Exists, when set, says whether a resource exists without reading its
	// tags (where they take a call of their own): status and the stages'
	// finds need no more; destroy uses Lookup.
	Exists func(ctx context.Context, e *Env, id string) (bool, error)
	// FindTagged returns ids of resources carrying all the tags (stack, and
	// Name or step when set), in a stable order.
	FindTagged func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error)
	// Delete deletes one resource, doing what must come first (detach,
	// disassociate). NotFound may be returned; the caller treats it as done.
	Delete func(ctx context.Context, e *Env, id string) error
	// Tag adds tags to a resource, keeping its others. Set it for kinds
	// whose tags can be missing after a create that worked (S3 buckets:
	// tagging in the create is denied without s3:TagResource and ignored by
	// emulators, so they are written by a second call). Ensure then checks
	// the stack tags like any drift and repairs them, and destroy tags a
	// resource the state file lists that carries none (an interrupted run
	// never wrote them) before deleting it.
	Tag func(ctx context.Context, e *Env, id string, tags awsx.Tags) error
}

var kinds = map[string]*Kind{}

// exists says whether a resource exists (Exists, else Lookup).
func (k *Kind) exists(ctx context.Context, e *Env, id string) (bool, error) {
	if k.Exists != nil {
		return k.Exists(ctx, e, id)
	}
	_, found, err := k.Lookup(ctx, e, id)
	return found, err
}

func registerKind(k *Kind) *Kind {
	if _, dup := kinds[k.Type]; dup {
		panic("steps: kind registered twice: " + k.Type)
	}
	kinds[k.Type] = k
	return k
}

// Spec describes one resource a stage wants.
type Spec struct {
	Key    string // role in the stage, e.g. "subnet/public-1"
	Kind   *Kind
	Name   string // Name tag
	Detail string // shown in plans, e.g. "10.0.0.0/20 in us-east-1a"
	// Create makes the resource, tagged in the call itself, and returns its
	// id. token is a deterministic client token for APIs that take one.
	Create func(ctx context.Context, token string) (string, error)
}

// Ensure finds the resource (state id first, then stack+Name tags), adopts
// it, or creates it, and records its id in the state before returning.
// Duplicates found by tags (a lost create response) are removed, keeping one.
// A create whose answer leaves its outcome open is settled by r.create; a
// kind with Tag gets its stack tags checked and repaired.
func (r *Run) Ensure(ctx context.Context, s Spec) (string, error) {
	id, tags, err := r.ensure(ctx, s)
	if err != nil || s.Kind.Tag == nil || isPlanned(id) {
		return id, err
	}
	return id, r.repairTags(ctx, s, id, tags)
}

// ensure is Ensure without the tag check; tags are the resource's when its
// lookup gave them (nil otherwise).
func (r *Run) ensure(ctx context.Context, s Spec) (string, awsx.Tags, error) {
	if id, tags, err := r.find(ctx, s); err != nil || id != "" {
		return id, tags, err
	}
	id := plannedID(s.Key)
	err := r.change("create", s.Kind.Type, s.Name, s.Detail, func() error {
		token, err := r.clientToken(s.Key)
		if err != nil {
			return err
		}
		if id, err = r.create(ctx, s, token); err != nil {
			return err
		}
		if err := r.record(s.Key, s.Kind.Type, id, s.Name); err != nil {
			return err
		}
		return r.clearToken(s.Key)
	})
	return id, nil, err
}

// nameTags select the resource of a spec: the stack's, with its Name.
func (r *Run) nameTags(s Spec) awsx.Tags {
	return awsx.Tags{awsx.TagStack: r.Cfg.Stack, awsx.TagName: s.Name}
}

// Find is Ensure without the create: the resource's id (state id first,
// then stack+Name tags, adopted and recorded), or "" when there is none.
func (r *Run) Find(ctx context.Context, s Spec) (string, error) {
	id, _, err := r.find(ctx, s)
	return id, err
}

// find is Find, with the resource's tags when the lookup by id gave them.
func (r *Run) find(ctx context.Context, s Spec) (string, awsx.Tags, error) {
	if id, tags, err := r.findRecorded(ctx, s); err != nil || id != "" {
		return id, tags, err
	}
	ids, err := s.Kind.FindTagged(ctx, r.Env, r.nameTags(s))
	if err != nil {
		return "", nil, &StageError{Stage: r.Stage.Name, Action: "find", Resource: s.Kind.Type + " " + s.Name, Err: err}
	}
	if len(ids) == 0 {
		return "", nil, nil
	}
	if err := r.removeDuplicates(ctx, s, ids[0], ids[1:]); err != nil {
		return "", nil, err
	}
	if !r.DryRun {
		r.Logf("adopted %s %s (%s)", s.Kind.Type, s.Name, ids[0])
	}
	if err := r.record(s.Key, s.Kind.Type, ids[0], s.Name); err != nil {
		return "", nil, err
	}
	return ids[0], nil, r.clearToken(s.Key)
}

// clearToken forgets a create's client token once the resource is known.
func (r *Run) clearToken(key string) error {
	if r.DryRun || r.State.Stage(r.Stage.Name).Pending[key] == "" {
		return nil
	}
	return r.State.SetPendingToken(r.Stage.Name, key, "")
}

// findRecorded checks the id in the state file; a resource deleted out of
// band is forgotten so it gets recreated.
func (r *Run) findRecorded(ctx context.Context, s Spec) (string, awsx.Tags, error) {
	rec, ok := r.State.Resource(r.Stage.Name, s.Key)
	if !ok || rec.ID == "" {
		return "", nil, nil
	}
	var (
		tags  awsx.Tags
		found bool
		err   error
	)
	if s.Kind.Tag != nil { // Ensure checks its tags
		tags, found, err = s.Kind.Lookup(ctx, r.Env, rec.ID)
	} else {
		found, err = s.Kind.exists(ctx, r.Env, rec.ID)
	}
	if err != nil {
		return "", nil, &StageError{Stage: r.Stage.Name, Action: "describe", Resource: s.Kind.Type + " " + rec.ID, Err: err}
	}
	if found {
		return rec.ID, tags, nil
	}
	r.Logf("%s %s (%s) no longer exists: it will be recreated", s.Kind.Type, s.Name, rec.ID)
	if !r.DryRun {
		if err := r.State.DropResource(r.Stage.Name, s.Key); err != nil {
			return "", nil, err
		}
	}
	return "", nil, nil
}

func (r *Run) removeDuplicates(ctx context.Context, s Spec, keep string, extra []string) error {
	for _, id := range extra {
		err := r.change("delete", s.Kind.Type, s.Name, "duplicate "+id+" (kept "+keep+")", func() error {
			r.Logf("found %d resources tagged %s; removing duplicate %s", len(extra)+1, s.Name, id)
			if err := s.Kind.Delete(ctx, r.Env, id); err != nil && !awsx.IsNotFound(err) {
				return err
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// clientToken returns the client token for creating key: the one saved by
// an earlier attempt whose outcome is unknown, else a new one saved first.
// A re-run after a lost response thus repeats the same idempotent request,
// while a resource deleted later gets a fresh token (AWS remembers tokens).
func (r *Run) clientToken(key string) (string, error) {
	if t := r.State.Stage(r.Stage.Name).Pending[key]; t != "" {
		return t, nil
	}
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	t := fmt.Sprintf("%s-%s-%s", r.Cfg.Stack, strings.NewReplacer("/", "-").Replace(key), hex.EncodeToString(b))
	if len(t) > 64 {
		t = t[len(t)-64:]
	}
	return t, r.State.SetPendingToken(r.Stage.Name, key, t)
}
