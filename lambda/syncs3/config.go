package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/myappctl/myappctl/lambda/syncs3/internal/carousel"
)

// settings are the function's environment variables.
type settings struct {
	ImagesPrefix  string // IMAGES_PREFIX, default images/
	CarouselKey   string // CAROUSEL_KEY, default carrousel/carrousel.json
	PublicURLBase string // PUBLIC_URL_BASE, default https://<bucket>.s3.amazonaws.com
	EndpointURL   string // AWS_ENDPOINT_URL: an S3-compatible endpoint (local tests); forces path-style
}

func settingsFromEnv(getenv func(string) string) settings {
	s := settings{
		ImagesPrefix:  getenv("IMAGES_PREFIX"),
		CarouselKey:   getenv("CAROUSEL_KEY"),
		PublicURLBase: strings.TrimRight(getenv("PUBLIC_URL_BASE"), "/"),
		EndpointURL:   firstNonEmpty(getenv("AWS_ENDPOINT_URL_S3"), getenv("AWS_ENDPOINT_URL")),
	}
	if s.ImagesPrefix == "" {
		s.ImagesPrefix = carousel.DefaultImagesPrefix
	}
	// "images" should not also match "images-old/...".
	if !strings.HasSuffix(s.ImagesPrefix, "/") {
		s.ImagesPrefix += "/"
	}
	if s.CarouselKey == "" {
		s.CarouselKey = carousel.DefaultCarouselKey
	}
	return s
}

// newSyncer builds the syncer with a real S3 client. The SDK reads AWS_ENDPOINT_URL itself; an emulator
// additionally needs path-style addressing, since <bucket>.localhost does not resolve.
func newSyncer(ctx context.Context, getenv func(string) string) (*carousel.Syncer, error) {
	set := settingsFromEnv(getenv)
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = set.EndpointURL != ""
	})
	syncer := &carousel.Syncer{S3: client, ImagesPrefix: set.ImagesPrefix, CarouselKey: set.CarouselKey}
	if set.PublicURLBase != "" {
		syncer.URLBase = func(string) string { return set.PublicURLBase }
	}
	return syncer, nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
