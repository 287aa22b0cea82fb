// Package s3test starts S3-compatible servers for tests that must not
// trust our own fake alone: versitygw, a real S3 gateway (posix backend)
// that honours If-None-Match / If-Match and keeps versions, built by
// scripts/setup.sh; and gofakes3, an independent in-process S3.
package s3test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// VersityGWVersion is the versitygw release scripts/setup.sh builds (with
// conditional writes, PR #1522, and the If-Match fix of issue #2183).
const VersityGWVersion = "v1.8.0"

// AccessKey and SecretKey are the credentials of the servers started here.
const (
	AccessKey = "test"
	SecretKey = "test"
)

// VersityGWPath finds versitygw: $VERSITYGW_PATH, the cache scripts/setup.sh
// builds into, or the PATH ("" when there is none).
func VersityGWPath() string {
	if p := os.Getenv("VERSITYGW_PATH"); p != "" {
		return p
	}
	if dir, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(dir, "myappctl", "versitygw-"+VersityGWVersion, "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := exec.LookPath("versitygw")
	return p
}

// VersityGW starts versitygw on a free port of 127.0.0.1 over a temporary
// directory, with versioning, and returns its endpoint; it stops with the
// test. Without the binary the test is skipped on a laptop and fails when
// CI is set.
func VersityGW(t testing.TB) string {
	t.Helper()
	bin := VersityGWPath()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("versitygw %s is not installed: run `make setup` (scripts/setup.sh builds it) or set VERSITYGW_PATH", VersityGWVersion)
		}
		t.Skipf("versitygw %s not installed (make setup builds it); skipping the test against a real S3-compatible server", VersityGWVersion)
	}
	dir := t.TempDir()
	root, versions := filepath.Join(dir, "root"), filepath.Join(dir, "versions")
	for _, d := range []string{root, versions} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--port", addr, "--quiet", "posix", "--versioning-dir", versions, root)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+AccessKey, "ROOT_SECRET_KEY="+SecretKey)
	logPath := filepath.Join(dir, "versitygw.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
	})
	endpoint := "http://" + addr
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return endpoint
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("versitygw did not answer on %s: %v\n%s", addr, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Gofakes3 serves an in-memory gofakes3 and returns its endpoint.
func Gofakes3(t testing.TB) string {
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	return srv.URL
}

// Client is an SDK S3 client for an endpoint (path style, the keys above).
func Client(endpoint, region string) *s3.Client {
	return s3.New(s3.Options{Region: region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")})
}

// CreateBucket makes a bucket, failing the test otherwise.
func CreateBucket(t testing.TB, c *s3.Client, bucket string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
}
