package carousel

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var fallback = []Image{{URL: "/images/sample-1.png"}, {URL: "/images/sample-2.png"}}

// upstream is a fake bucket that counts requests and answers with what the test sets.
type upstream struct {
	*httptest.Server
	hits   atomic.Int32
	mu     sync.Mutex
	status int
	body   string
	delay  time.Duration
}

func newUpstream(t *testing.T, status int, body string) *upstream {
	u := &upstream{status: status, body: body}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		u.mu.Lock()
		status, body, delay := u.status, u.body, u.delay
		u.mu.Unlock()
		time.Sleep(delay)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) set(status int, body string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.status, u.body = status, body
}

// clock is a fake time source the test moves forward.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newSource(url string, clk *clock, logs *bytes.Buffer) *Source {
	return New(Options{
		URL: url, TTL: 30 * time.Second, Timeout: 200 * time.Millisecond, Fallback: fallback,
		Now: clk.Now, Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
}

const bucketList = `[{"url":"https://bucket.s3.amazonaws.com/images/a.png"},{"url":"https://bucket.s3.amazonaws.com/images/b.jpg"}]`

var bucketImages = []Image{{URL: "https://bucket.s3.amazonaws.com/images/a.png"}, {URL: "https://bucket.s3.amazonaws.com/images/b.jpg"}}

func TestCacheHitWithinTTLAndRefreshAfter(t *testing.T) {
	up := newUpstream(t, http.StatusOK, bucketList)
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	var logs bytes.Buffer
	src := newSource(up.URL, clk, &logs)

	for i := range 5 {
		got, origin := src.Get(context.Background())
		if !reflect.DeepEqual(got, bucketImages) || origin != FromUpstream {
			t.Fatalf("Get #%d = %v, %s", i, got, origin)
		}
		clk.Advance(5 * time.Second) // 0..20s: all within the 30s TTL
	}
	if n := up.hits.Load(); n != 1 {
		t.Fatalf("upstream hit %d times within the TTL, want 1", n)
	}

	up.set(http.StatusOK, `[{"url":"https://bucket.s3.amazonaws.com/images/c.png"}]`)
	clk.Advance(11 * time.Second) // now 31s after the fetch
	got, _ := src.Get(context.Background())
	if want := []Image{{URL: "https://bucket.s3.amazonaws.com/images/c.png"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after the TTL Get = %v, want the new list %v", got, want)
	}
	if n := up.hits.Load(); n != 2 {
		t.Fatalf("upstream hit %d times, want 2 after the TTL", n)
	}
}

func TestFallback(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		delay  time.Duration
		inLogs string
	}{
		{"upstream 500", http.StatusInternalServerError, "oops", 0, "500 Internal Server Error"},
		{"upstream 404", http.StatusNotFound, "<Error>NoSuchKey</Error>", 0, "404"},
		{"bad JSON", http.StatusOK, `[{"url": "https://x/a.png"`, 0, "not a JSON array"},
		{"object instead of array", http.StatusOK, `{"url": "https://x/a.png"}`, 0, "not a JSON array"},
		{"null", http.StatusOK, `null`, 0, "null"},
		{"entry without url", http.StatusOK, `[{"href": "https://x/a.png"}]`, 0, "missing"},
		{"url of another scheme", http.StatusOK, `[{"url": "javascript:alert(1)"}]`, 0, "neither"},
		{"url of wrong type", http.StatusOK, `[{"url": 5}]`, 0, "not a JSON array"},
		{"too slow", http.StatusOK, bucketList, 400 * time.Millisecond, "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, tt.status, tt.body)
			up.delay = tt.delay
			var logs bytes.Buffer
			clk := &clock{now: time.Unix(1_700_000_000, 0)}
			src := newSource(up.URL, clk, &logs)
			got, origin := src.Get(context.Background())
			if !reflect.DeepEqual(got, fallback) || origin != FromFallback {
				t.Fatalf("Get = %v, %s; want the fallback", got, origin)
			}
			if !strings.Contains(logs.String(), "serving the bundled list") || !strings.Contains(logs.String(), tt.inLogs) {
				t.Errorf("log does not say why (%q):\n%s", tt.inLogs, logs.String())
			}
			src.Get(context.Background()) // the failure is cached for the TTL too
			if n := up.hits.Load(); n != 1 {
				t.Errorf("upstream hit %d times, want 1", n)
			}
		})
	}
}

func TestFallbackWhenUnset(t *testing.T) {
	var logs bytes.Buffer
	src := newSource("", &clock{}, &logs)
	got, origin := src.Get(context.Background())
	if !reflect.DeepEqual(got, fallback) || origin != FromFallback {
		t.Fatalf("Get = %v, %s; want the fallback", got, origin)
	}
	if !strings.Contains(logs.String(), "CAROUSEL_URL is not set") {
		t.Errorf("no log line about the unset URL:\n%s", logs.String())
	}
}

func TestFallbackWhenUnreachable(t *testing.T) {
	up := newUpstream(t, http.StatusOK, bucketList)
	up.Close() // nothing listens there any more
	var logs bytes.Buffer
	src := newSource(up.URL, &clock{}, &logs)
	if _, origin := src.Get(context.Background()); origin != FromFallback {
		t.Fatalf("origin = %s, want fallback", origin)
	}
}

func TestStaleListWhenUpstreamFailsLater(t *testing.T) {
	up := newUpstream(t, http.StatusOK, bucketList)
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	var logs bytes.Buffer
	src := newSource(up.URL, clk, &logs)
	src.Get(context.Background())

	up.set(http.StatusServiceUnavailable, "")
	clk.Advance(time.Minute)
	got, origin := src.Get(context.Background())
	if !reflect.DeepEqual(got, bucketImages) || origin != FromStale {
		t.Fatalf("Get = %v, %s; want the last good list", got, origin)
	}
	if !strings.Contains(logs.String(), "serving the last good list") {
		t.Errorf("no log line about the failure:\n%s", logs.String())
	}
}

// A new URL is used by the next Get, within the TTL of the old list, and what
// the old URL gave is not served as stale for the new one.
func TestSetURLAppliesAtOnce(t *testing.T) {
	old := newUpstream(t, http.StatusOK, bucketList)
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	var logs bytes.Buffer
	src := newSource(old.URL, clk, &logs)
	src.Get(context.Background())

	moved := newUpstream(t, http.StatusOK, `[{"url":"https://other.s3.amazonaws.com/images/z.png"}]`)
	src.SetURL(moved.URL)
	got, origin := src.Get(context.Background())
	if want := []Image{{URL: "https://other.s3.amazonaws.com/images/z.png"}}; !reflect.DeepEqual(got, want) || origin != FromUpstream {
		t.Fatalf("after SetURL Get = %v, %s; want %v from the new URL", got, origin, want)
	}

	broken := newUpstream(t, http.StatusForbidden, "")
	src.SetURL(broken.URL)
	if got, origin := src.Get(context.Background()); !reflect.DeepEqual(got, fallback) || origin != FromFallback {
		t.Errorf("new URL failing: Get = %v, %s; want the fallback, not the old URL's list", got, origin)
	}
	src.SetURL("")
	if _, origin := src.Get(context.Background()); origin != FromFallback {
		t.Errorf("URL unset: origin %s", origin)
	}
	if old.hits.Load() != 1 || moved.hits.Load() != 1 || broken.hits.Load() != 1 {
		t.Errorf("hits old %d, moved %d, broken %d; want one each", old.hits.Load(), moved.hits.Load(), broken.hits.Load())
	}
}

func TestConcurrentRequestsShareOneFetch(t *testing.T) {
	up := newUpstream(t, http.StatusOK, bucketList)
	up.delay = 50 * time.Millisecond
	var logs bytes.Buffer
	src := newSource(up.URL, &clock{now: time.Unix(1_700_000_000, 0)}, &logs)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { src.Get(context.Background()) })
	}
	wg.Wait()
	if n := up.hits.Load(); n != 1 {
		t.Errorf("upstream hit %d times by concurrent requests, want 1", n)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    []Image
		wantErr bool
	}{
		{`[]`, []Image{}, false},
		{`[{"url":"/images/a.png"}]`, []Image{{URL: "/images/a.png"}}, false},
		{`[{"url":"http://h/a.png","extra":1}]`, []Image{{URL: "http://h/a.png"}}, false},
		{`[{"url":"//evil.example/a.png"}]`, nil, true},
		{`[{"url":"images/a.png"}]`, nil, true},
		{`[{"url":"https:///a.png"}]`, nil, true},
		{`"x"`, nil, true},
		{``, nil, true},
	}
	for _, tt := range tests {
		got, err := Parse([]byte(tt.in))
		if (err != nil) != tt.wantErr || (!tt.wantErr && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("Parse(%s) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestResolve(t *testing.T) {
	in := []Image{{URL: "/images/a.png"}, {URL: "https://b.s3.amazonaws.com/images/b.png"}}
	got := Resolve(in, "http://lb.example:8090")
	want := []Image{{URL: "http://lb.example:8090/images/a.png"}, {URL: "https://b.s3.amazonaws.com/images/b.png"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Resolve = %v, want %v", got, want)
	}
	if in[0].URL != "/images/a.png" {
		t.Error("Resolve changed its input")
	}
}
