package settingstest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/myappctl/myappctl/internal/settings"
)

// Endpoint is an AWS endpoint for AWS_ENDPOINT_URL: SSM answers from Params,
// S3 is an in-memory store (gofakes3) holding Bucket. A service started with
// it makes real, signed SDK calls.
type Endpoint struct {
	// URL names the host localhost, not 127.0.0.1: the SDK would fall back to
	// path-style for an IP address, so a client that must ask for it is tested.
	URL    string
	Params *Parameters
	Bucket string

	ssmCalls atomic.Int32
}

// NewEndpoint serves an Endpoint for the test and points the SDK's default
// credential chain at static test keys (through the process environment, for
// the test's duration: such tests cannot run in parallel).
func NewEndpoint(t *testing.T, params *Parameters, bucket string) *Endpoint {
	t.Helper()
	e := &Endpoint{Params: params, Bucket: bucket}
	store := s3mem.New()
	if err := store.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	s3Handler := gofakes3.New(store).Server()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "" {
			e.ssmCalls.Add(1)
			params.ServeHTTP(w, r)
			return
		}
		s3Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	e.URL = strings.Replace(server.URL, "127.0.0.1", "localhost", 1)
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_SSM": "", "AWS_ENDPOINT_URL_S3": ""} {
		t.Setenv(k, v)
	}
	return e
}

// SSMCalls counts the SSM requests served.
func (e *Endpoint) SSMCalls() int { return int(e.ssmCalls.Load()) }

// Report reads the report object at key, which must be JSON and a report.
func (e *Endpoint) Report(key string) (settings.Report, error) {
	resp, err := http.Get(e.URL + "/" + e.Bucket + "/" + key)
	if err != nil {
		return settings.Report{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return settings.Report{}, fmt.Errorf("GET %s: %s %v", key, resp.Status, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		return settings.Report{}, fmt.Errorf("%s has Content-Type %q", key, ct)
	}
	return settings.ParseReport(body)
}
