// Package carousel rebuilds the carousel index (carrousel/carrousel.json) from the images stored under a bucket
// prefix. It is the logic of the syncS3Bucket Lambda; lambda/syncs3 only wires it to the Lambda runtime.
package carousel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Defaults match the documented bucket layout.
const (
	DefaultImagesPrefix = "images/"
	DefaultCarouselKey  = "carrousel/carrousel.json"
	// cacheControl keeps browsers and the backend from serving a stale list for long after an upload.
	cacheControl = "max-age=30"
)

// S3API is the part of the S3 client the syncer uses. *s3.Client satisfies it.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Syncer writes the carousel index of a bucket.
type Syncer struct {
	S3           S3API
	ImagesPrefix string // where the images live, e.g. "images/"
	CarouselKey  string // the index object, e.g. "carrousel/carrousel.json"
	// URLBase returns the public URL prefix (no trailing slash) of a bucket's objects; nil means S3URLBase.
	URLBase func(bucket string) string
	Logger  *slog.Logger // nil means slog.Default()
}

// Entry is one carousel item, the shape the backend and the page read.
type Entry struct {
	URL string `json:"url"`
}

// S3URLBase is the virtual-hosted S3 address of a bucket, as the original Python function wrote it.
func S3URLBase(bucket string) string {
	return "https://" + bucket + ".s3.amazonaws.com"
}

// Sync lists every image under ImagesPrefix in bucket and writes the carousel index. It returns the number of
// images written.
func (s *Syncer) Sync(ctx context.Context, bucket string) (int, error) {
	keys, err := s.imageKeys(ctx, bucket)
	if err != nil {
		return 0, err
	}
	body, err := s.render(bucket, keys)
	if err != nil {
		return 0, err
	}
	_, err = s.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:       aws.String(bucket),
		Key:          aws.String(s.CarouselKey),
		Body:         bytes.NewReader(body),
		ContentType:  aws.String("application/json"),
		CacheControl: aws.String(cacheControl),
	})
	if err != nil {
		return 0, fmt.Errorf("write s3://%s/%s: %w", bucket, s.CarouselKey, err)
	}
	s.logger().Info("carousel written", "bucket", bucket, "key", s.CarouselKey, "images", len(keys))
	return len(keys), nil
}

// imageKeys returns the sorted keys of the image objects under ImagesPrefix, following every page.
func (s *Syncer) imageKeys(ctx context.Context, bucket string) ([]string, error) {
	var keys []string
	pages := s3.NewListObjectsV2Paginator(s.S3, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket),
		Prefix: aws.String(s.ImagesPrefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, s.ImagesPrefix, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			// The index itself is never an image, even when the prefixes overlap.
			if key != s.CarouselKey && IsImageKey(key) {
				keys = append(keys, key)
			}
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// render encodes the index; an empty list is "[]", never "null".
func (s *Syncer) render(bucket string, keys []string) ([]byte, error) {
	base := S3URLBase(bucket)
	if s.URLBase != nil {
		base = strings.TrimRight(s.URLBase(bucket), "/")
	}
	entries := make([]Entry, 0, len(keys))
	for _, key := range keys {
		entries = append(entries, Entry{URL: base + "/" + EscapeKey(key)})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(entries); err != nil {
		return nil, fmt.Errorf("encode carousel index: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func (s *Syncer) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
