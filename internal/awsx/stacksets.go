package awsx

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
)

// Stack sets: one describe per resource kind instead of one per resource.
// The first lookup of a kind in a run (a resource by id, or the stack's
// resources by tag) loads the set — every resource of the kind that carries
// the stack tag (filter tag:myappctl:stack=<stack>), or every one where the
// API cannot filter by tag, with all its pages — and keeps it like any
// answer (ReadCache: mutations, waits and age end it). Later lookups are
// answered from the set when the answer is certainly complete:
//   - every id asked for is in the set (an id that is not — a resource of
//     someone else, a VPC's default security group, a deleted one — is
//     looked up for real), or
//   - the filters include the stack tag, and every other filter is one the
//     set can evaluate (tag:K, tag-key and a few attributes per kind).
//
// Any other call, one with a page token, or one with a parameter the set
// does not know, goes to AWS.

// setAnswer answers one operation from the stack sets, or says it cannot.
type setAnswer func(src setSource, input any) (output any, ok bool)

// setAnswers are the operations stack sets answer, by service and operation.
var setAnswers = map[string]setAnswer{}

func answers(service, operation string, a setAnswer) {
	setAnswers[service+"."+operation] = a
}

// answerFromSet answers a read from the stack sets when it can.
func (c *ReadCache) answerFromSet(ctx context.Context, s *readScope, service, operation string, input any) (any, bool) {
	a, ok := setAnswers[service+"."+operation]
	if !ok || c.clients == nil {
		return nil, false
	}
	return a(setSource{ctx: ctx, cache: c, scope: s}, input)
}

// setSource gives an answer the sets it needs, loading each once.
type setSource struct {
	ctx   context.Context
	cache *ReadCache
	scope *readScope
}

func (src setSource) stack() string { return src.scope.stack }

// setLoader reads one set; its calls go to AWS (the context is Uncached).
type setLoader func(ctx context.Context, c *Clients, src setSource) (any, error)

// get returns a set, loaded once for everyone who asks (a failed load is
// kept too, so a kind AWS will not list is not asked again in the run).
func (src setSource) get(service, name string, load setLoader) (any, bool) {
	key := service + "\x00set:" + name + "\x00" + src.stack()
	v, err := src.cache.cached(src.ctx, src.scope, service, key, true, func(ctx context.Context) (any, error) {
		return load(Uncached(ctx), src.cache.clients, src)
	})
	return v, err == nil
}

// filterSpec is one filter of a describe: its name and accepted values.
type filterSpec struct {
	name   string
	values []string
}

// hasStackFilter reports a filter on the stack tag for exactly this stack.
func hasStackFilter(filters []filterSpec, stack string) bool {
	return slices.ContainsFunc(filters, func(f filterSpec) bool {
		return f.name == "tag:"+TagStack && len(f.values) == 1 && f.values[0] == stack
	})
}

// matchFilters evaluates filters on one resource (values of a filter are
// alternatives, filters all apply), as EC2 and Auto Scaling do: tag:K,
// tag-key, tag-value and the attributes given. supported is false when a
// filter is neither, or a value holds a wildcard.
func matchFilters(filters []filterSpec, tags Tags, attrs map[string][]string) (match, supported bool) {
	match = true
	for _, f := range filters {
		if slices.ContainsFunc(f.values, func(v string) bool { return strings.ContainsAny(v, "*?") }) {
			return false, false
		}
		var have []string
		switch key, isTag := strings.CutPrefix(f.name, "tag:"); {
		case isTag:
			if v, ok := tags[key]; ok {
				have = []string{v}
			}
		case f.name == "tag-key":
			for k := range tags {
				have = append(have, k)
			}
		case f.name == "tag-value":
			for _, v := range tags {
				have = append(have, v)
			}
		default:
			vals, ok := attrs[f.name]
			if !ok {
				return false, false
			}
			have = vals
		}
		if !slices.ContainsFunc(have, func(v string) bool { return slices.Contains(f.values, v) }) {
			match = false
		}
	}
	return match, true
}

// onlyFields reports whether every exported field of *input other than the
// allowed ones is zero: a parameter the set does not know sends the call
// to AWS.
func onlyFields(input any, allowed ...string) bool {
	v := reflect.ValueOf(input)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return false
	}
	v = v.Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.IsExported() && !slices.Contains(allowed, f.Name) && !v.Field(i).IsZero() {
			return false
		}
	}
	return true
}

// pick returns, in the order asked and once each, the items with the
// given ids (false when one is not in the set).
func pick[T any](items []T, id func(T) string, ids []string) ([]T, bool) {
	out := make([]T, 0, len(ids))
	for n, want := range ids {
		i := slices.IndexFunc(items, func(it T) bool { return id(it) == want })
		if i < 0 {
			return nil, false
		}
		if !slices.Contains(ids[:n], want) {
			out = append(out, items[i])
		}
	}
	return out, true
}

// copyItems copies items out of a kept set for one caller.
func copyItems[T any](items []T) []T {
	if items == nil {
		return nil
	}
	return deepCopy(items).([]T)
}

// errSetUnavailable fails a set that needs another one AWS would not list.
var errSetUnavailable = errors.New("a stack set it needs could not be read")
