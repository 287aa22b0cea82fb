package awsx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// ReadCache keeps the answers to AWS reads (Describe*, Get*, List*, Head*)
// for one command run, so that every stage asking the same thing costs one
// request, and one request serves callers that ask at the same time
// (singleflight). Reads use it only with a context from CachedReads; stack
// sets (stacksets.go) answer lookups of the stack's own resources from one
// describe per resource kind.
//
// An answer is never given:
//   - to a read made by a wait (Poll, WaitWithProgress mark their context)
//     or by a stack set's own loading;
//   - after any mutating call through the same clients (every operation
//     that is not a read), whatever its context and outcome: it ends every
//     kept answer (an S3 one only S3's: S3 writes change nothing other
//     services report), and a read in flight when it ends is not kept;
//   - within a ReadScope, from a read that began before a wait of that
//     scope ended (the work that waited sees the world after its wait);
//   - when it is older than readCacheMaxAge.
//
// Errors are not kept (a NotFound is asked again); outputs are copied for
// every caller, so no caller can change another's answer.
type ReadCache struct {
	mu      sync.Mutex
	entries map[string]cacheEntry
	gens    generations
	flights singleflight.Group
	now     func() time.Time
	maxAge  time.Duration
	// sets answer lookups of the stack's resources; they load through
	// these clients (nil: no stack sets).
	clients *Clients
}

// readCacheMaxAge bounds how old a kept answer may be, whatever happened.
const readCacheMaxAge = 30 * time.Second

// generations count mutations: every one bumps all, S3's bump s3 (they
// change nothing other services report).
type generations struct{ all, s3 uint64 }

type cacheEntry struct {
	value any
	err   error // kept for stack sets only
	at    time.Time
	gens  generations
}

// NewReadCache returns an empty cache whose stack sets load through
// clients (nil: no stack sets). NewClients makes one for its clients.
func NewReadCache(clients *Clients) *ReadCache {
	return &ReadCache{entries: map[string]cacheEntry{}, now: time.Now, maxAge: readCacheMaxAge, clients: clients}
}

// serviceS3 is the SDK's service id of S3.
const serviceS3 = "S3"

// isRead reports whether an operation only reads.
func isRead(operation string) bool {
	for _, p := range []string{"Describe", "Get", "List", "Head"} {
		if strings.HasPrefix(operation, p) {
			return true
		}
	}
	return false
}

// streams reports reads whose output is a body to consume (never kept).
func streams(service, operation string) bool {
	return service == serviceS3 && strings.HasPrefix(operation, "GetObject")
}

// Do answers one read: from a stack set, from a kept answer, or by send
// (kept when it succeeds). Without a CachedReads context, in a wait, or for
// a read whose input cannot be keyed, it only calls send.
func (c *ReadCache) Do(ctx context.Context, service, operation string, input any, send func(context.Context) (any, error)) (any, error) {
	s := scopeOf(ctx)
	if s == nil || isUncached(ctx) || !isRead(operation) || streams(service, operation) {
		return send(ctx)
	}
	if out, ok := c.answerFromSet(ctx, s, service, operation, input); ok {
		return out, nil
	}
	key, ok := readKey(service, operation, input)
	if !ok {
		return send(ctx)
	}
	v, err := c.cached(ctx, s, service, key, false, send)
	if err != nil {
		return nil, err
	}
	return deepCopy(v), nil
}

// Mutated records a mutating call: kept answers are no longer given.
func (c *ReadCache) Mutated(service string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if service == serviceS3 {
		c.gens.s3++
	} else {
		c.gens.all++
	}
}

// cached returns the kept answer for key, or fetches it once for every
// caller that asks meanwhile (with the same generations and floor) and
// keeps it if no mutation ended meanwhile. keepErr keeps errors too.
func (c *ReadCache) cached(ctx context.Context, s *readScope, service, key string, keepErr bool, fetch func(context.Context) (any, error)) (any, error) {
	floor := s.floorTime()
	c.mu.Lock()
	gens := c.gensOf(service)
	if e, ok := c.entries[key]; ok && e.gens == gens && !e.at.Before(floor) && c.now().Sub(e.at) <= c.maxAge {
		c.mu.Unlock()
		return e.value, e.err
	}
	c.mu.Unlock()
	flight := fmt.Sprintf("%s|%d|%d|%d", key, gens.all, gens.s3, floor.UnixNano())
	v, err, _ := c.flights.Do(flight, func() (any, error) {
		at := c.now()
		v, err := fetch(ctx)
		if err == nil || keepErr && !isContextError(err) {
			c.keep(key, service, cacheEntry{value: v, err: err, at: at, gens: gens})
		}
		return v, err
	})
	if err != nil && isContextError(err) && ctx.Err() == nil {
		// The caller whose request served everyone gave up; this one did not.
		return fetch(ctx)
	}
	return v, err
}

func (c *ReadCache) keep(key, service string, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gensOf(service) != e.gens {
		return // a mutation ended while it was read: it may be out of date
	}
	for k, old := range c.entries { // drop what no mutation lets us give any more
		if old.gens != c.gensOf(serviceOfKey(k)) {
			delete(c.entries, k)
		}
	}
	c.entries[key] = e
}

// gensOf are the generations an answer of service depends on.
func (c *ReadCache) gensOf(service string) generations {
	if service == serviceS3 {
		return c.gens
	}
	return generations{all: c.gens.all}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// readKey names a read: service, operation and its input as JSON (SDK
// inputs marshal deterministically: struct fields in order, map keys sorted).
func readKey(service, operation string, input any) (string, bool) {
	b, err := json.Marshal(input)
	if err != nil {
		return "", false
	}
	return service + "\x00" + operation + "\x00" + string(b), true
}

func serviceOfKey(key string) string {
	service, _, _ := strings.Cut(key, "\x00")
	return service
}

// readScope is where reads may be answered from the cache: the stack (for
// its sets) and the freshness floor, raised when a wait of the scope ends.
type readScope struct {
	stack string
	floor atomic.Int64 // UnixNano
}

func (s *readScope) floorTime() time.Time {
	if n := s.floor.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

func (s *readScope) raise(t time.Time) {
	n := t.UnixNano()
	for {
		cur := s.floor.Load()
		if cur >= n || s.floor.CompareAndSwap(cur, n) {
			return
		}
	}
}

type (
	scopeKey    struct{}
	uncachedKey struct{}
)

// CachedReads returns a context whose reads (through clients that carry a
// ReadCache, see NewClients) may be answered from the cache, and lookups of
// the stack's resources from its stack sets.
func CachedReads(ctx context.Context, stack string) context.Context {
	return context.WithValue(ctx, scopeKey{}, &readScope{stack: stack})
}

// ReadScope returns a context with a freshness scope of its own (a stage's
// work): once a wait in it ends, its reads no longer take answers of reads
// that began before. Without CachedReads it returns ctx.
func ReadScope(ctx context.Context) context.Context {
	parent := scopeOf(ctx)
	if parent == nil {
		return ctx
	}
	s := &readScope{stack: parent.stack}
	s.floor.Store(parent.floor.Load())
	return context.WithValue(ctx, scopeKey{}, s)
}

func scopeOf(ctx context.Context) *readScope {
	s, _ := ctx.Value(scopeKey{}).(*readScope)
	return s
}

// Uncached returns a context whose reads always ask AWS (waits use it).
func Uncached(ctx context.Context) context.Context {
	return context.WithValue(ctx, uncachedKey{}, true)
}

func isUncached(ctx context.Context) bool {
	v, _ := ctx.Value(uncachedKey{}).(bool)
	return v
}

// waited marks the end of a wait in ctx's scope.
func waited(ctx context.Context) {
	if s := scopeOf(ctx); s != nil {
		s.raise(time.Now())
	}
}
