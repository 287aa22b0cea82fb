package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

// things is a minimal cloud of one resource kind, to test the machinery
// every kind gets from Run.Ensure.
type things struct {
	m      map[string]awsx.Tags
	n      int
	hidden int // FindTagged misses everything this many more times (describes lag)
}

func (c *things) kind(taggable bool) *Kind {
	k := &Kind{Type: "test:thing",
		Lookup: func(_ context.Context, _ *Env, id string) (awsx.Tags, bool, error) {
			t, ok := c.m[id]
			return maps.Clone(t), ok, nil
		},
		FindTagged: func(_ context.Context, _ *Env, want awsx.Tags) ([]string, error) {
			if c.hidden > 0 {
				c.hidden--
				return nil, nil
			}
			var ids []string
			for id, t := range c.m {
				if tagsInclude(t, want) {
					ids = append(ids, id)
				}
			}
			slices.Sort(ids)
			return ids, nil
		},
		Delete: func(_ context.Context, _ *Env, id string) error { delete(c.m, id); return nil },
	}
	if taggable {
		k.Tag = func(_ context.Context, _ *Env, id string, tags awsx.Tags) error {
			maps.Copy(c.m[id], tags)
			return nil
		}
	}
	return k
}

func (c *things) make(tags awsx.Tags) string {
	c.n++
	id := fmt.Sprintf("thing-%d", c.n)
	c.m[id] = maps.Clone(tags)
	return id
}

func TestEnsureSettlesCreatesWhoseOutcomeIsOpen(t *testing.T) {
	ours := awsx.StackTags("myapp", "vpc", "thing")
	exists := fakeaws.APIError("EntityAlreadyExists", "Role with name thing already exists.")
	for _, c := range []struct {
		name   string
		before awsx.Tags // a resource there before the run
		hidden int
		create func(c *things, call int) (string, error)
		calls  int
		err    string // "" for success
		things int
	}{
		{name: "the SDK's retry of a lost create answers already exists: adopted",
			create: func(c *things, call int) (string, error) { c.make(ours); return "", exists }, calls: 1, things: 1},
		{name: "already exists without the stack's tags: refused, left alone", before: awsx.Tags{awsx.TagName: "thing"},
			create: func(c *things, call int) (string, error) { return "", exists }, calls: 1, err: "exists without the tags myappctl:stack=myapp", things: 1},
		{name: "a lost response after the work: found by tags, adopted",
			create: func(c *things, call int) (string, error) { c.make(ours); return "", fakeaws.Unavailable() }, calls: 1, things: 1},
		{name: "a 5xx before the work: created again",
			create: func(c *things, call int) (string, error) {
				if call == 1 {
					return "", fakeaws.Unavailable()
				}
				return c.make(ours), nil
			}, calls: 2, things: 1},
		{name: "a lost response the describes do not show yet: the extra is removed", hidden: 2,
			create: func(c *things, call int) (string, error) {
				id := c.make(ours)
				if call == 1 {
					return "", fakeaws.ServerError()
				}
				return id, nil
			}, calls: 2, things: 1},
		{name: "a clear failure is not retried",
			create: func(c *things, call int) (string, error) {
				return "", fakeaws.APIError("InvalidParameterValue", "bad")
			}, calls: 1, err: "InvalidParameterValue", things: 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := newTestbed(t)
			cl := &things{m: map[string]awsx.Tags{}}
			if c.before != nil {
				cl.make(c.before)
			}
			r := &Run{Env: tb.runner.Env, Stage: &Stage{Name: "vpc"}}
			calls := 0
			id, err := r.Ensure(bg, Spec{Key: "thing", Kind: cl.kind(false), Name: "thing", Create: func(context.Context, string) (string, error) {
				calls++
				if calls == 1 {
					cl.hidden = c.hidden
				}
				return c.create(cl, calls)
			}})
			switch {
			case c.err == "" && err != nil, c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("err = %v, want %q", err, c.err)
			case calls != c.calls || len(cl.m) != c.things:
				t.Errorf("%d creates, %d things %v; want %d, %d", calls, len(cl.m), cl.m, c.calls, c.things)
			}
			if rec, _ := tb.state().Resource("vpc", "thing"); err == nil && (rec.ID != id || cl.m[id] == nil) {
				t.Errorf("Ensure returned %q, the state has %q, the cloud %v", id, rec.ID, cl.m)
			}
		})
	}
}

func TestEnsureRepairsTagsOfKindsTaggedApart(t *testing.T) {
	tb := newTestbed(t)
	cl := &things{m: map[string]awsx.Tags{}}
	kind := cl.kind(true)
	r := &Run{Env: tb.runner.Env, Stage: &Stage{Name: "vpc"}}
	spec := Spec{Key: "thing", Kind: kind, Name: "thing", Create: func(context.Context, string) (string, error) {
		return cl.make(awsx.Tags{"other": "kept"}), nil // the cloud dropped the tags
	}}
	id, err := r.Ensure(bg, spec)
	if err != nil {
		t.Fatal(err)
	}
	want := awsx.StackTags("myapp", "vpc", "thing")
	want["other"] = "kept"
	if !maps.Equal(cl.m[id], want) {
		t.Errorf("tags %v, want %v", cl.m[id], want)
	}
	// Removed by hand: a plan shows it, up puts them back.
	delete(cl.m[id], awsx.TagStack)
	plan := &Run{Env: tb.runner.Env, Stage: &Stage{Name: "vpc"}, DryRun: true, planned: &plannedOutputs{m: map[string]string{}}}
	if _, err := plan.Ensure(bg, spec); err != nil {
		t.Fatal(err)
	}
	if ch := plan.Changes(); len(ch) != 1 || ch[0].Action != "modify" || ch[0].Detail != "tags myappctl:stack=myapp" {
		t.Errorf("plan = %v", ch)
	}
	if _, err := r.Ensure(bg, spec); err != nil || !maps.Equal(cl.m[id], want) {
		t.Errorf("after up: %v, tags %v", err, cl.m[id])
	}
}
