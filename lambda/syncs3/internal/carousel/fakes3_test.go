package carousel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

const testBucket = "carrousel-test"

// newFakeS3 starts an in-memory S3-compatible server and returns a real SDK client for it, with testBucket
// already created.
func newFakeS3(t *testing.T) *s3.Client {
	t.Helper()
	return newFakeS3With(t, func(h http.Handler) http.Handler { return h })
}

// newFakeS3With is newFakeS3 with middleware in front of the server, to look at the raw requests.
func newFakeS3With(t *testing.T, wrap func(http.Handler) http.Handler) *s3.Client {
	t.Helper()
	server := httptest.NewServer(wrap(gofakes3.New(s3mem.New()).Server()))
	t.Cleanup(server.Close)
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(server.URL),
		UsePathStyle: true,
	})
	createBucket(t, client, testBucket)
	return client
}

func createBucket(t *testing.T, client *s3.Client, bucket string) {
	t.Helper()
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
}

func putObjects(t *testing.T, client *s3.Client, bucket string, keys ...string) {
	t.Helper()
	for _, key := range keys {
		if err := putObject(client, bucket, key); err != nil {
			t.Fatal(err)
		}
	}
}

func putObject(client *s3.Client, bucket, key string) error {
	_, err := client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("x"),
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// putConcurrently uploads keys with a few workers; 1,500 sequential round trips would slow the suite down.
func putConcurrently(t *testing.T, client *s3.Client, bucket string, keys []string) {
	t.Helper()
	var wg sync.WaitGroup
	work := make(chan string)
	for range 8 {
		wg.Go(func() {
			for key := range work {
				if err := putObject(client, bucket, key); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for _, key := range keys {
		work <- key
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

func deleteObject(t *testing.T, client *s3.Client, bucket, key string) {
	t.Helper()
	if _, err := client.DeleteObject(context.Background(), &s3.DeleteObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
	}); err != nil {
		t.Fatalf("delete %s: %v", key, err)
	}
}

// readIndex fetches the carousel index, checks its Content-Type and returns its raw body and URLs.
func readIndex(t *testing.T, client *s3.Client, bucket, key string) (string, []string) {
	t.Helper()
	out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.ContentType); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var entries []Entry
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatalf("index is not JSON: %v\n%s", err, raw)
	}
	urls := make([]string, 0, len(entries))
	for _, e := range entries {
		urls = append(urls, e.URL)
	}
	return string(raw), urls
}

// indexExists reports whether anything was written to key.
func indexExists(t *testing.T, client *s3.Client, bucket, key string) bool {
	t.Helper()
	_, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return err == nil
}

// s3Event builds an event the way S3 delivers it: keys form-encoded in Key, as in the notification JSON.
func s3Event(eventName, bucket string, keys ...string) events.S3Event {
	var ev events.S3Event
	for _, key := range keys {
		rec := events.S3EventRecord{EventSource: "aws:s3", EventName: eventName}
		rec.S3.Bucket.Name = bucket
		rec.S3.Object.Key = formEncode(key)
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

func formEncode(key string) string {
	return strings.ReplaceAll(EscapeKey(key), "%20", "+")
}

// countingS3 counts the calls that reach S3.
type countingS3 struct {
	S3API
	lists, puts atomic.Int32
}

func (c *countingS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	c.lists.Add(1)
	return c.S3API.ListObjectsV2(ctx, in, optFns...)
}

func (c *countingS3) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.puts.Add(1)
	return c.S3API.PutObject(ctx, in, optFns...)
}
