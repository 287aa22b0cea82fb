package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/myappctl/myappctl/assets"
	"github.com/myappctl/myappctl/lambda/syncs3/keys"
)

// indexCacheControl matches what the Lambda writes, so a fresh list
// reaches browsers and the backend soon after an upload.
const indexCacheControl = "max-age=30"

// ensureCarouselContent uploads the bundled sample images that are missing
// from images/ and writes the index when it is missing or images were just
// added, so the carousel shows pictures right after up (the Lambda keeps
// the index current from then on).
func ensureCarouselContent(ctx context.Context, r *Run, c carousel, bucket string) error {
	samples, err := assets.CarouselImages()
	if err != nil {
		return err
	}
	var existing []string
	indexPresent := false
	if !isPlanned(bucket) {
		// One listing says both which images are there and whether the index is.
		all, err := listKeys(ctx, r.Env, bucket, "")
		if err != nil {
			return &StageError{Stage: r.Stage.Name, Action: "list", Resource: "s3:bucket " + bucket, Err: err}
		}
		existing, indexPresent = underPrefix(all, carouselImagesPrefix), contains(all, carouselIndexKey)
	}
	added := false
	for _, img := range samples {
		key := carouselImagesPrefix + img.Name
		if contains(existing, key) {
			continue
		}
		err := r.change("create", "s3:object", key, img.ContentType+", bundled sample", func() error {
			_, err := r.AWS.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
				Body: bytes.NewReader(img.Data), ContentType: aws.String(img.ContentType)})
			return err
		})
		if err != nil {
			return err
		}
		existing, added = append(existing, key), true
	}
	if indexPresent && !added {
		return nil
	}
	images := imageKeys(existing)
	body, err := carouselIndex(c, images)
	if err != nil {
		return err
	}
	return r.change("create", "s3:object", carouselIndexKey, fmt.Sprintf("index of %d images", len(images)), func() error {
		_, err := r.AWS.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(carouselIndexKey),
			Body: bytes.NewReader(body), ContentType: aws.String("application/json"), CacheControl: aws.String(indexCacheControl)})
		return err
	})
}

// underPrefix keeps the keys under prefix.
func underPrefix(keys []string, prefix string) []string {
	var out []string
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// imageKeys keeps the image files among keys, sorted, as the Lambda does.
func imageKeys(all []string) []string {
	var out []string
	for _, k := range all {
		if k != carouselIndexKey && keys.IsImage(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// carouselIndex renders carrousel.json exactly as the Lambda does:
// [{"url":"https://<bucket>.s3.amazonaws.com/images/<escaped name>"}],
// compact, "[]" when empty.
func carouselIndex(c carousel, images []string) ([]byte, error) {
	type entry struct {
		URL string `json:"url"`
	}
	entries := make([]entry, 0, len(images))
	for _, k := range images {
		entries = append(entries, entry{URL: c.publicURL(k)})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(entries); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
