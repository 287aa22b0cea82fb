package carousel

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

const base = "https://" + testBucket + ".s3.amazonaws.com/"

func newSyncer(client S3API) *Syncer {
	return &Syncer{
		S3:           client,
		ImagesPrefix: DefaultImagesPrefix,
		CarouselKey:  DefaultCarouselKey,
		Logger:       slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
}

func TestHandleEmptyImagesWritesEmptyArray(t *testing.T) {
	tests := []struct {
		name string
		keys []string
	}{
		{"no objects at all", nil},
		{"only folder markers and non-images", []string{"images/", "images/sub/", "images/readme.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newFakeS3(t)
			putObjects(t, client, testBucket, tt.keys...)
			err := newSyncer(client).Handle(context.Background(), s3Event("ObjectRemoved:Delete", testBucket, "images/gone.png"))
			if err != nil {
				t.Fatal(err)
			}
			if raw, _ := readIndex(t, client, testBucket, DefaultCarouselKey); raw != "[]" {
				t.Errorf("index = %s, want []", raw)
			}
		})
	}
}

func TestHandleCreateThenDelete(t *testing.T) {
	client := newFakeS3(t)
	syncer := newSyncer(client)
	ctx := context.Background()

	putObjects(t, client, testBucket, "images/b.png", "images/a.jpg")
	if err := syncer.Handle(ctx, s3Event("ObjectCreated:Put", testBucket, "images/b.png")); err != nil {
		t.Fatal(err)
	}
	raw, urls := readIndex(t, client, testBucket, DefaultCarouselKey)
	want := `[{"url":"` + base + `images/a.jpg"},{"url":"` + base + `images/b.png"}]`
	if raw != want {
		t.Errorf("after create: index =\n%s\nwant\n%s", raw, want)
	}

	deleteObject(t, client, testBucket, "images/a.jpg")
	if err := syncer.Handle(ctx, s3Event("ObjectRemoved:Delete", testBucket, "images/a.jpg")); err != nil {
		t.Fatal(err)
	}
	if _, urls = readIndex(t, client, testBucket, DefaultCarouselKey); !slices.Equal(urls, []string{base + "images/b.png"}) {
		t.Errorf("after delete: urls = %q, want only images/b.png", urls)
	}
}

func TestSyncFollowsEveryPage(t *testing.T) {
	const n = 1500
	client := newFakeS3(t)
	var keys []string
	for i := range n {
		keys = append(keys, fmt.Sprintf("images/img-%04d.jpg", n-1-i)) // uploaded in reverse order
	}
	putConcurrently(t, client, testBucket, keys)

	counting := &countingS3{S3API: client}
	count, err := newSyncer(counting).Sync(context.Background(), testBucket)
	if err != nil {
		t.Fatal(err)
	}
	_, urls := readIndex(t, client, testBucket, DefaultCarouselKey)
	if count != n || len(urls) != n {
		t.Fatalf("synced %d, index has %d URLs, want %d", count, len(urls), n)
	}
	if !slices.IsSorted(urls) || urls[0] != base+"images/img-0000.jpg" || urls[n-1] != base+"images/img-1499.jpg" {
		t.Errorf("URLs not sorted by key: first %s, last %s", urls[0], urls[n-1])
	}
	if got := counting.lists.Load(); got < 2 {
		t.Errorf("ListObjectsV2 called %d times; %d objects need at least 2 pages", got, n)
	}
}

func TestSyncEncodesOddKeys(t *testing.T) {
	tests := []struct {
		key, wantPath string
	}{
		{"images/my photo.png", "images/my%20photo.png"},
		{"images/café ünï.png", "images/caf%C3%A9%20%C3%BCn%C3%AF.png"},
		{"images/a+b.jpg", "images/a%2Bb.jpg"},
		{"images/100%.gif", "images/100%25.gif"},
		{"images/logo (1).webp", "images/logo%20%281%29.webp"},
		{"images/nested dir/ä/x.svg", "images/nested%20dir/%C3%A4/x.svg"},
		{"images/日本.jpeg", "images/%E6%97%A5%E6%9C%AC.jpeg"},
		{"images/q?&#=.png", "images/q%3F%26%23%3D.png"},
	}
	client := newFakeS3(t)
	want := map[string]string{} // URL → key
	for _, tt := range tests {
		putObjects(t, client, testBucket, tt.key)
		want[base+tt.wantPath] = tt.key
	}
	if _, err := newSyncer(client).Sync(context.Background(), testBucket); err != nil {
		t.Fatal(err)
	}
	_, urls := readIndex(t, client, testBucket, DefaultCarouselKey)
	if len(urls) != len(tests) {
		t.Fatalf("index has %d URLs, want %d: %q", len(urls), len(tests), urls)
	}
	for _, u := range urls {
		key, ok := want[u]
		if !ok {
			t.Errorf("unexpected URL %s", u)
			continue
		}
		parsed, err := url.Parse(u)
		if err != nil {
			t.Errorf("URL %s does not parse: %v", u, err)
			continue
		}
		if parsed.Path != "/"+key || parsed.RawQuery != "" || parsed.Fragment != "" {
			t.Errorf("URL %s decodes to path %q (query %q), want %q", u, parsed.Path, parsed.RawQuery, "/"+key)
		}
	}
}

func TestSyncKeepsOnlyImages(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"images/", false},
		{"images/sub/", false},
		{"images/notes.txt", false},
		{"images/README", false},
		{"images/png", false},
		{"images/archive.png.zip", false},
		{"images/a.jpg", true},
		{"images/b.jpeg", true},
		{"images/c.png", true},
		{"images/d.gif", true},
		{"images/e.webp", true},
		{"images/f.svg", true},
		{"images/UPPER.JPG", true},
		{"images/Mixed.JpEg", true},
		{"images/LOGO.PNG", true},
		{"images/sub/nested.gif", true},
		{"other/outside.png", false},
	}
	client := newFakeS3(t)
	var wantURLs []string
	for _, tt := range tests {
		putObjects(t, client, testBucket, tt.key)
		if tt.want {
			wantURLs = append(wantURLs, base+tt.key)
		}
	}
	slices.Sort(wantURLs)
	if _, err := newSyncer(client).Sync(context.Background(), testBucket); err != nil {
		t.Fatal(err)
	}
	if _, urls := readIndex(t, client, testBucket, DefaultCarouselKey); !slices.Equal(urls, wantURLs) {
		t.Errorf("urls =\n%q\nwant\n%q", urls, wantURLs)
	}
}

func TestSyncNeverListsTheIndex(t *testing.T) {
	// With overlapping prefixes the index lies among the images; even with an image-like name it is skipped.
	tests := []struct{ imagesPrefix, carouselKey string }{
		{"", DefaultCarouselKey},
		{"images/", "images/carousel.svg"},
	}
	for _, tt := range tests {
		t.Run(tt.carouselKey, func(t *testing.T) {
			client := newFakeS3(t)
			putObjects(t, client, testBucket, "images/a.png", tt.carouselKey)
			syncer := newSyncer(client)
			syncer.ImagesPrefix, syncer.CarouselKey = tt.imagesPrefix, tt.carouselKey
			for range 2 { // the second run sees the index the first one wrote
				if _, err := syncer.Sync(context.Background(), testBucket); err != nil {
					t.Fatal(err)
				}
			}
			if _, urls := readIndex(t, client, testBucket, tt.carouselKey); !slices.Equal(urls, []string{base + "images/a.png"}) {
				t.Errorf("urls = %q, want only images/a.png", urls)
			}
		})
	}
}

func TestHandleIgnoresRecordsThatAreNotImageChanges(t *testing.T) {
	tests := []struct {
		name  string
		event events.S3Event
	}{
		{"no records", events.S3Event{}},
		{"key outside images/", s3Event("ObjectCreated:Put", testBucket, "docs/photo.png")},
		{"prefix without its slash", s3Event("ObjectCreated:Put", testBucket, "images-old/photo.png")},
		{"the index itself", s3Event("ObjectCreated:Put", testBucket, DefaultCarouselKey)},
		{"not a create or remove", s3Event("ObjectRestore:Completed", testBucket, "images/a.png")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newFakeS3(t)
			putObjects(t, client, testBucket, "images/a.png")
			counting := &countingS3{S3API: client}
			if err := newSyncer(counting).Handle(context.Background(), tt.event); err != nil {
				t.Fatal(err)
			}
			if lists, puts := counting.lists.Load(), counting.puts.Load(); lists != 0 || puts != 0 {
				t.Errorf("made %d list and %d put calls, want none", lists, puts)
			}
			if indexExists(t, client, testBucket, DefaultCarouselKey) {
				t.Error("the index was written")
			}
		})
	}
}

func TestHandleSyncsEachBucketOnce(t *testing.T) {
	client := newFakeS3(t)
	createBucket(t, client, "second-bucket")
	putObjects(t, client, testBucket, "images/one.png")
	putObjects(t, client, "second-bucket", "images/two.png")
	event := s3Event("ObjectCreated:Put", testBucket, "images/one.png", "images/x.png")
	event.Records = append(event.Records,
		s3Event("s3:ObjectRemoved:DeleteMarkerCreated", "second-bucket", "images/old.png").Records...)

	counting := &countingS3{S3API: client}
	if err := newSyncer(counting).Handle(context.Background(), event); err != nil {
		t.Fatal(err)
	}
	if got := counting.puts.Load(); got != 2 {
		t.Errorf("PutObject called %d times, want 2 (once per bucket)", got)
	}
	if _, urls := readIndex(t, client, "second-bucket", DefaultCarouselKey); !slices.Equal(urls,
		[]string{"https://second-bucket.s3.amazonaws.com/images/two.png"}) {
		t.Errorf("second bucket urls = %q", urls)
	}
}

func TestHandleAcceptsEncodedEventKeys(t *testing.T) {
	// S3 form-encodes keys in notifications; decoded, this one is under images/ and must trigger a sync.
	client := newFakeS3(t)
	putObjects(t, client, testBucket, "images/café ünï.png")
	counting := &countingS3{S3API: client}
	event := s3Event("ObjectCreated:Put", testBucket, "images/café ünï.png")
	if key := event.Records[0].S3.Object.Key; key != "images/caf%C3%A9+%C3%BCn%C3%AF.png" {
		t.Fatalf("test event key = %q, not encoded as S3 does", key)
	}
	if err := newSyncer(counting).Handle(context.Background(), event); err != nil {
		t.Fatal(err)
	}
	if counting.puts.Load() != 1 {
		t.Error("the index was not written")
	}
}

func TestSyncUsesPublicURLBase(t *testing.T) {
	client := newFakeS3(t)
	putObjects(t, client, testBucket, "images/a b.png")
	syncer := newSyncer(client)
	syncer.URLBase = func(string) string { return "https://cdn.example.com/" }
	if _, err := syncer.Sync(context.Background(), testBucket); err != nil {
		t.Fatal(err)
	}
	if _, urls := readIndex(t, client, testBucket, DefaultCarouselKey); !slices.Equal(urls,
		[]string{"https://cdn.example.com/images/a%20b.png"}) {
		t.Errorf("urls = %q", urls)
	}
}

func TestHandleLogsCountAndReportsErrors(t *testing.T) {
	client := newFakeS3(t)
	putObjects(t, client, testBucket, "images/a.png", "images/b.png")
	var logs bytes.Buffer
	syncer := newSyncer(client)
	syncer.Logger = slog.New(slog.NewJSONHandler(&logs, nil))

	err := syncer.Handle(context.Background(), s3Event("ObjectCreated:Put", testBucket, "images/a.png"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"msg":"carousel written"`) || !strings.Contains(logs.String(), `"images":2`) {
		t.Errorf("log does not report 2 images written:\n%s", logs.String())
	}

	err = syncer.Handle(context.Background(), s3Event("ObjectCreated:Put", "no-such-bucket", "images/a.png"))
	if err == nil || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Errorf("Handle on a missing bucket: err = %v, want an error naming the bucket", err)
	}
}

func TestSyncWritesJSONWithShortCaching(t *testing.T) {
	// gofakes3 does not store Cache-Control, so look at the PUT request itself.
	var mu sync.Mutex
	var indexPut http.Header
	client := newFakeS3With(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && r.URL.Path == "/"+testBucket+"/"+DefaultCarouselKey {
				mu.Lock()
				indexPut = r.Header.Clone()
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	})
	if _, err := newSyncer(client).Sync(context.Background(), testBucket); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if indexPut == nil {
		t.Fatal("no PUT of the index reached the server")
	}
	if got := indexPut.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if got := indexPut.Get("Cache-Control"); got != cacheControl {
		t.Errorf("Cache-Control = %q, want %q", got, cacheControl)
	}
}
