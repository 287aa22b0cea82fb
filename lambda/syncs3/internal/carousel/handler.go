package carousel

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Handle is the Lambda entry point: it rebuilds the index once for every distinct bucket that has an object
// created or removed under ImagesPrefix. Other records are logged and skipped; in particular a record for the
// index itself never triggers a write, so the function cannot feed on its own output.
func (s *Syncer) Handle(ctx context.Context, event events.S3Event) error {
	buckets := s.bucketsToSync(event)
	if len(buckets) == 0 {
		s.logger().Info("no image changes in event; nothing to do", "records", len(event.Records))
		return nil
	}
	var errs []error
	for _, bucket := range buckets {
		if _, err := s.Sync(ctx, bucket); err != nil {
			s.logger().Error("carousel sync failed", "bucket", bucket, "error", err)
			errs = append(errs, err)
		}
	}
	// An error makes Lambda retry the asynchronous invocation; a rewrite is idempotent.
	return errors.Join(errs...)
}

// bucketsToSync returns, in first-seen order, the buckets whose records concern images.
func (s *Syncer) bucketsToSync(event events.S3Event) []string {
	var buckets []string
	seen := map[string]bool{}
	for _, rec := range event.Records {
		bucket, key := rec.S3.Bucket.Name, objectKey(rec.S3.Object)
		if reason := s.skipReason(rec.EventName, bucket, key); reason != "" {
			s.logger().Info("ignoring S3 event record", "reason", reason,
				"event", rec.EventName, "bucket", bucket, "key", key)
			continue
		}
		if !seen[bucket] {
			seen[bucket] = true
			buckets = append(buckets, bucket)
		}
	}
	return buckets
}

// skipReason says why a record does not call for a sync, or "" when it does.
func (s *Syncer) skipReason(eventName, bucket, key string) string {
	name := strings.TrimPrefix(eventName, "s3:")
	switch {
	case bucket == "":
		return "no bucket name"
	case !strings.HasPrefix(name, "ObjectCreated:") && !strings.HasPrefix(name, "ObjectRemoved:"):
		return "not an object create or remove event"
	case key == s.CarouselKey:
		return "the carousel index itself"
	case !strings.HasPrefix(key, s.ImagesPrefix):
		return fmt.Sprintf("outside %q", s.ImagesPrefix)
	}
	return ""
}

// objectKey returns the plain key of an event object. S3 sends keys form-encoded ("a b" as "a+b"); the lambda
// events package decodes them when it unmarshals JSON, but an event built in code only carries Key.
func objectKey(obj events.S3Object) string {
	if obj.URLDecodedKey != "" {
		return obj.URLDecodedKey
	}
	if key, err := url.QueryUnescape(obj.Key); err == nil {
		return key
	}
	return obj.Key
}
