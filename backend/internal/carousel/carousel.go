// Package carousel serves the list of carousel images: read from a URL (in AWS
// the bucket's public carrousel/carrousel.json, which the sync Lambda rewrites),
// cached for a while, and replaced by a bundled list when the URL is unset or
// failing.
package carousel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Image is one entry of carrousel.json.
type Image struct {
	URL string `json:"url"`
}

// Origin says where a list came from.
type Origin string

const (
	FromUpstream Origin = "upstream" // fetched from the URL (possibly cached)
	FromStale    Origin = "stale"    // the URL failed; the last list it gave
	FromFallback Origin = "fallback" // the bundled list
)

// Options configure a Source. Zero values get the defaults noted.
type Options struct {
	URL      string        // where carrousel.json lives; empty: always the fallback
	TTL      time.Duration // how long a fetched list (or a failure) is reused; default 30s
	Timeout  time.Duration // limit for one fetch; default 3s
	Fallback []Image       // the bundled list
	Client   *http.Client  // default: a client with no other limit than Timeout
	Now      func() time.Time
	Logger   *slog.Logger
}

const (
	defaultTTL     = 30 * time.Second
	defaultTimeout = 3 * time.Second
	maxBody        = 1 << 20
)

// Source hands out the carousel list, fetching it at most once per TTL.
type Source struct {
	mu       sync.Mutex // held during a fetch, so concurrent requests share it
	opts     Options    // URL may change (SetURL)
	current  []Image
	origin   Origin
	expires  time.Time
	lastGood []Image
}

// New returns a Source; with no URL it logs once that it serves the fallback.
func New(opts Options) *Source {
	if opts.TTL <= 0 {
		opts.TTL = defaultTTL
	}
	if opts.Timeout <= 0 {
		opts.Timeout = defaultTimeout
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Fallback == nil {
		opts.Fallback = []Image{}
	}
	if opts.URL == "" {
		opts.Logger.Info("carousel: CAROUSEL_URL is not set, serving the bundled list", "images", len(opts.Fallback))
	}
	return &Source{opts: opts}
}

// Get returns the current list and where it came from. It never fails: when
// the URL does, it answers with the last good list or the fallback.
func (s *Source) Get(ctx context.Context) ([]Image, Origin) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.URL == "" {
		return s.opts.Fallback, FromFallback
	}
	now := s.opts.Now()
	if s.current != nil && now.Before(s.expires) {
		return s.current, s.origin
	}
	// One client giving up must not spoil the fetch for everyone waiting on it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.Timeout)
	defer cancel()
	images, err := s.fetch(ctx)
	switch {
	case err == nil:
		s.current, s.origin, s.lastGood = images, FromUpstream, images
	case s.lastGood != nil:
		s.opts.Logger.Warn("carousel: fetch failed, serving the last good list", "url", s.opts.URL, "err", err)
		s.current, s.origin = s.lastGood, FromStale
	default:
		s.opts.Logger.Warn("carousel: fetch failed, serving the bundled list", "url", s.opts.URL, "err", err)
		s.current, s.origin = s.opts.Fallback, FromFallback
	}
	// A failure is cached too, so a broken bucket is not hit by every request.
	s.expires = s.opts.Now().Add(s.opts.TTL)
	return s.current, s.origin
}

// SetURL makes later calls of Get read the list from url (empty: the
// fallback), forgetting what the old URL gave.
func (s *Source) SetURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if url == s.opts.URL {
		return
	}
	s.opts.URL = url
	s.current, s.lastGood, s.expires = nil, nil, time.Time{}
	s.opts.Logger.Info("carousel: the list URL changed", "url", url)
}

func (s *Source) fetch(ctx context.Context) ([]Image, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.opts.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", s.opts.URL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read body: %w", s.opts.URL, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("GET %s: body larger than %d bytes", s.opts.URL, maxBody)
	}
	return Parse(body)
}

// Parse reads a carrousel.json document: a JSON array of {"url": ...} whose
// URLs are absolute http(s) URLs or absolute paths such as /images/a.png.
func Parse(data []byte) ([]Image, error) {
	var images []Image
	if err := json.Unmarshal(data, &images); err != nil {
		return nil, fmt.Errorf("carousel list is not a JSON array of {\"url\": ...}: %w", err)
	}
	if images == nil {
		return nil, errors.New("carousel list is null, want a JSON array")
	}
	for i, img := range images {
		if err := checkURL(img.URL); err != nil {
			return nil, fmt.Errorf("carousel entry %d: %w", i, err)
		}
	}
	return images, nil
}

func checkURL(raw string) error {
	if raw == "" {
		return errors.New(`"url" is missing or empty`)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url %q: %w", raw, err)
	}
	switch {
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
		return nil
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//"):
		return nil
	}
	return fmt.Errorf("url %q is neither an http(s) URL nor an absolute path", raw)
}

// Resolve returns images with every path-only URL made absolute against base
// (e.g. "http://backend:8090"), leaving full URLs untouched.
func Resolve(images []Image, base string) []Image {
	out := make([]Image, len(images))
	for i, img := range images {
		out[i] = img
		if strings.HasPrefix(img.URL, "/") {
			out[i].URL = strings.TrimSuffix(base, "/") + img.URL
		}
	}
	return out
}
