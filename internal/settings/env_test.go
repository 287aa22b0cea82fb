package settings_test

import (
	"context"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

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
// AWS_ENDPOINT_URL pointing at an SSM and S3 test endpoint: real signed SDK
// calls read the settings and write the report.
func TestFromEnvAgainstEndpoint(t *testing.T) {
	params := settingstest.NewParameters()
	params.Put(backendPath, map[string]string{"DBURL": "db-1", "DBPASSWORD": password}, "DBPASSWORD")
	aws := settingstest.NewEndpoint(t, params, "myapp-artifacts")
	getenv := mapEnv(map[string]string{"SETTINGS_PATH": backendPath, "SETTINGS_REFRESH": "10ms", "REPORT_BUCKET": "myapp-artifacts",
		"STACK": "myapp", "RELEASE": release, "INSTANCE_ID": "i-0abc", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": aws.URL})
	ctx := context.Background()
	rt, err := settings.FromEnv(ctx, getenv, "backend")
	if err != nil {
		t.Fatal(err)
	}

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
		r, err := aws.Report("reports/backend/i-0abc.json")
		return err == nil && r.SettingsVersion == want && r.Release == release && r.Stack == "myapp"
	})
	if aws.SSMCalls() == 0 {
		t.Error("no SSM call reached the endpoint")
	}
}

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
