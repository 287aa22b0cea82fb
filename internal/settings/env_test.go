package settings_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/myappctl/myappctl/internal/settings"
	"github.com/myappctl/myappctl/internal/settings/settingstest"
)

func TestReadEnvDefaults(t *testing.T) {
	env, err := settings.ReadEnv(mapEnv(nil), "backend")
	if err != nil {
		t.Fatal(err)
	}
	want := settings.Env{Refresh: 5 * time.Second, ReportInterval: 5 * time.Minute, Tier: "backend"}
	if env != want {
		t.Errorf("ReadEnv() = %+v, want %+v", env, want)
	}
	env, err = settings.ReadEnv(mapEnv(map[string]string{
		"SETTINGS_PATH": "/myappctl/myapp/backend", "SETTINGS_REFRESH": "2s", "REPORT_BUCKET": "myapp-artifacts-1",
		"REPORT_TIER": "backend", "STACK": "myapp", "RELEASE": release, "REPORT_INTERVAL": "1m",
		"INSTANCE_ID": "i-0abc", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://localhost:4566",
	}), "backend")
	want = settings.Env{Path: backendPath, Refresh: 2 * time.Second, Bucket: "myapp-artifacts-1", Tier: "backend",
		Stack: "myapp", Release: release, ReportInterval: time.Minute, InstanceID: "i-0abc", Region: "us-east-1",
		EndpointURL: "http://localhost:4566"}
	if err != nil || env != want {
		t.Errorf("ReadEnv = %+v, %v\nwant %+v", env, err, want)
	}
}

func TestReadEnvRejectsBadValues(t *testing.T) {
	good := map[string]string{"SETTINGS_PATH": backendPath, "REPORT_BUCKET": "myapp-artifacts", "STACK": "myapp",
		"RELEASE": release, "AWS_REGION": "us-east-1"}
	for name, bad := range map[string]map[string]string{
		"SETTINGS_PATH":    {"SETTINGS_PATH": "myappctl/x"},
		"SETTINGS_REFRESH": {"SETTINGS_REFRESH": "5"},
		"REPORT_INTERVAL":  {"REPORT_INTERVAL": "-1m"},
		"REPORT_BUCKET":    {"REPORT_BUCKET": "My_Bucket"},
		"REPORT_TIER":      {"REPORT_TIER": "frontend"},
		"STACK":            {"STACK": ""},
		"RELEASE":          {"RELEASE": "abc"},
		"INSTANCE_ID":      {"INSTANCE_ID": "web-1"},
		"AWS_REGION":       {"AWS_REGION": ""},
		"AWS_ENDPOINT_URL": {"AWS_ENDPOINT_URL": "localhost:4566"},
	} {
		t.Run(name, func(t *testing.T) {
			env := maps.Clone(good)
			maps.Copy(env, bad)
			_, err := settings.ReadEnv(mapEnv(env), "backend")
			if err == nil || !strings.Contains(err.Error(), name+"=") {
				t.Errorf("ReadEnv error %v does not name %s", err, name)
			}
			if _, err := settings.FromEnv(context.Background(), mapEnv(env), "backend"); err == nil {
				t.Error("FromEnv accepted it")
			}
		})
	}
}

func TestFromEnvWithoutPathOrBucketIsEnvironmentOnly(t *testing.T) {
	rt, err := settings.FromEnv(context.Background(), mapEnv(map[string]string{"SETTINGS_REFRESH": "1s"}), "frontend")
	if err != nil || rt.Source != nil || rt.Reporter != nil {
		t.Errorf("FromEnv = %+v, %v; want nothing to follow", rt, err)
	}
	rt.Start(context.Background(), settings.StartOptions{})() // starts nothing, stops at once
}

// TestFromEnvAgainstEndpoint wires a service the way main does, with
// AWS_ENDPOINT_URL pointing at an SSM (JSON protocol) and an S3 test server:
// real signed SDK calls read the settings and write the report.
func TestFromEnvAgainstEndpoint(t *testing.T) {
	params := settingstest.NewParameters()
	params.Put(backendPath, map[string]string{"DBURL": "db-1", "DBPASSWORD": password}, "DBPASSWORD")
	s3 := gofakes3.New(s3mem.New()).Server()
	var ssmCalls sync.Map
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if target := r.Header.Get("X-Amz-Target"); target != "" {
			ssmCalls.Store(target, true)
			serveSSM(w, r, params)
			return
		}
		s3.ServeHTTP(w, r)
	}))
	defer server.Close()
	endpoint := strings.Replace(server.URL, "127.0.0.1", "localhost", 1) // a host name: path-style must be asked for
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	getenv := mapEnv(map[string]string{"SETTINGS_PATH": backendPath, "SETTINGS_REFRESH": "10ms", "REPORT_BUCKET": "myapp-artifacts",
		"STACK": "myapp", "RELEASE": release, "INSTANCE_ID": "i-0abc", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint})
	ctx := context.Background()
	rt, err := settings.FromEnv(ctx, getenv, "backend")
	if err != nil {
		t.Fatal(err)
	}
	createBucket(t, endpoint, "myapp-artifacts")

	var mu sync.Mutex
	var applied map[string]string
	stop := rt.Start(ctx, settings.StartOptions{Apply: func(_ context.Context, v map[string]string) error {
		mu.Lock()
		defer mu.Unlock()
		applied = v
		return nil
	}})
	defer stop()
	mu.Lock()
	got := maps.Clone(applied)
	mu.Unlock()
	if got["DBPASSWORD"] != password || got["DBURL"] != "db-1" { // Start applied the first read before returning
		t.Errorf("applied %v at start", got)
	}
	want := settings.Version(map[string]string{"DBURL": "db-1", "DBPASSWORD": password})
	eventually(t, func() bool {
		r, err := readReport(endpoint, "reports/backend/i-0abc.json")
		return err == nil && r.SettingsVersion == want && r.Release == release && r.Stack == "myapp"
	})
	if _, ok := ssmCalls.Load("AmazonSSM.GetParametersByPath"); !ok {
		t.Error("no GetParametersByPath call reached the endpoint")
	}
}

// serveSSM answers GetParametersByPath in the awsJson1.1 protocol from params.
func serveSSM(w http.ResponseWriter, r *http.Request, params *settingstest.Parameters) {
	var in ssm.GetParametersByPathInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParametersByPath" {
		http.Error(w, "unexpected request", http.StatusBadRequest)
		return
	}
	out, err := params.GetParametersByPath(r.Context(), &in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": apiErr.ErrorCode(), "message": apiErr.ErrorMessage()})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"Parameters": out.Parameters, "NextToken": out.NextToken})
}

func createBucket(t *testing.T, endpoint, bucket string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, endpoint+"/"+bucket, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("create bucket: %v %v", resp, err)
	}
	resp.Body.Close()
}

func readReport(endpoint, key string) (settings.Report, error) {
	resp, err := http.Get(endpoint + "/myapp-artifacts/" + key)
	if err != nil {
		return settings.Report{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") != "application/json" {
		return settings.Report{}, errors.New("content type " + resp.Header.Get("Content-Type"))
	}
	return settings.ParseReport(body)
}

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
