package main

import (
	"context"
	"debug/elf"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func TestSettingsFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want settings
	}{
		{"defaults", nil, settings{ImagesPrefix: "images/", CarouselKey: "carrousel/carrousel.json"}},
		{"custom", map[string]string{
			"IMAGES_PREFIX": "photos/", "CAROUSEL_KEY": "index/c.json",
			"PUBLIC_URL_BASE": "https://cdn.example.com/", "AWS_ENDPOINT_URL": "http://localhost:4566",
		}, settings{ImagesPrefix: "photos/", CarouselKey: "index/c.json",
			PublicURLBase: "https://cdn.example.com", EndpointURL: "http://localhost:4566"}},
		{"prefix gets its slash", map[string]string{"IMAGES_PREFIX": "pics"},
			settings{ImagesPrefix: "pics/", CarouselKey: "carrousel/carrousel.json"}},
		{"S3-specific endpoint wins", map[string]string{
			"AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_S3": "http://b",
		}, settings{ImagesPrefix: "images/", CarouselKey: "carrousel/carrousel.json", EndpointURL: "http://b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := settingsFromEnv(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("settingsFromEnv = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestHandlerAgainstEndpointURL wires the function exactly as main does, with AWS_ENDPOINT_URL pointing at an
// S3-compatible test server: it only works if the endpoint is honoured and path-style addressing is on.
func TestHandlerAgainstEndpointURL(t *testing.T) {
	const bucket = "carrousel-main"
	// Record requests whose path does not start with the bucket, i.e. that were not path-style.
	var notPathStyle atomic.Int32
	fake := gofakes3.New(s3mem.New()).Server()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/"+bucket) {
			notPathStyle.Add(1)
		}
		fake.ServeHTTP(w, r)
	}))
	defer server.Close()
	// A host name, not 127.0.0.1: the SDK falls back to path-style by itself for IP endpoints.
	endpoint := strings.Replace(server.URL, "127.0.0.1", "localhost", 1)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"), "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL_S3": "", "IMAGES_PREFIX": "", "CAROUSEL_KEY": "", "PUBLIC_URL_BASE": "",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	syncer, err := newSyncer(ctx, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	client := syncer.S3.(*s3.Client)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("images/x.png"), Body: strings.NewReader("x"),
	}); err != nil {
		t.Fatal(err)
	}

	event := events.S3Event{Records: []events.S3EventRecord{{EventName: "ObjectCreated:Put"}}}
	event.Records[0].S3.Bucket.Name = bucket
	event.Records[0].S3.Object.Key = "images/x.png"
	if err := syncer.Handle(ctx, event); err != nil {
		t.Fatal(err)
	}
	if n := notPathStyle.Load(); n != 0 {
		t.Errorf("%d requests were not path-style", n)
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("carrousel/carrousel.json")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	body, _ := io.ReadAll(out.Body)
	if want := `[{"url":"https://carrousel-main.s3.amazonaws.com/images/x.png"}]`; string(body) != want {
		t.Errorf("index = %s, want %s", body, want)
	}
}

// TestBuildsLambdaBootstrap cross-builds the package the way the Makefile does for provided.al2023.
func TestBuildsLambdaBootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-build skipped in -short mode")
	}
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	bin, err := elf.Open(out)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF binary: %v", err)
	}
	defer bin.Close()
	if bin.Machine != elf.EM_X86_64 {
		t.Errorf("bootstrap is built for %v, want x86-64", bin.Machine)
	}
}
