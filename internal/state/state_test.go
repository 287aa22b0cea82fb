package state

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSaveIsAtomicAndPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "myapp.json")
	s, err := Load(path, "myapp", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutResource("vpc", Resource{Key: "vpc", Type: "ec2:vpc", ID: "vpc-1", Name: "MyApp-VPC"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSecret("rds", "db_password", "s3cret"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temp files left beside the state file: %v", entries)
	}
	var f File
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &f); err != nil || f.SchemaVersion != SchemaVersion || f.Stages["vpc"].Resources[0].ID != "vpc-1" {
		t.Errorf("file = %s (err %v)", data, err)
	}
	again, err := Load(path, "myapp", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := again.Resource("vpc", "vpc"); !ok || r.ID != "vpc-1" || again.Secret("rds", "db_password") != "s3cret" {
		t.Errorf("reloaded: %+v", again.Snapshot())
	}
}

func TestConcurrentUpdatesAreAllKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	s, _ := Load(path, "myapp", "us-east-1")
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			stage := []string{"rds", "frontend-lb"}[i%2]
			if err := s.PutResource(stage, Resource{Key: string(rune('a' + i)), Type: "t", ID: "id"}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	again, err := Load(path, "myapp", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(again.Stage("rds").Resources) + len(again.Stage("frontend-lb").Resources); n != 20 {
		t.Errorf("%d resources saved, want 20", n)
	}
}

func TestBadStateFilesAreRefusedAndLeftUntouched(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"corrupt", `{"schemaVersion": 1, "stack": "myapp", "stages": {`, "is corrupt"},
		{"moved", `{"schemaVersion":1,"stack":"myapp","region":"us-east-1","stages":{},"movedTo":"s3://team/myapp.json"}`, "--state s3://team/myapp.json"},
		{"not json", "hello", "is corrupt"},
		{"unknown field", `{"schemaVersion":1,"stack":"myapp","region":"us-east-1","stages":{},"surprise":1}`, "is corrupt"},
		{"no version", `{"stack":"myapp","region":"us-east-1","stages":{}}`, "is corrupt"},
		{"newer schema", `{"schemaVersion":99,"stack":"myapp","region":"us-east-1","stages":{}}`, "upgrade myappctl"},
		{"other stack", `{"schemaVersion":1,"stack":"dev","region":"us-east-1","stages":{}}`, `belongs to stack "dev"`},
		{"other region", `{"schemaVersion":1,"stack":"myapp","region":"eu-west-1","stages":{}}`, "in eu-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, "myapp", "us-east-1")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Errorf("file was changed to %s", got)
			}
		})
	}
}

func TestResetAndPendingTokens(t *testing.T) {
	s, _ := Load(filepath.Join(t.TempDir(), "s.json"), "myapp", "us-east-1")
	_ = s.SetPendingToken("vpc", "route-table/public", "tok")
	if s.Stage("vpc").Pending["route-table/public"] != "tok" {
		t.Fatal("token not kept")
	}
	_ = s.SetPendingToken("vpc", "route-table/public", "")
	_ = s.SetOutput("vpc", "vpc_id", "vpc-1")
	_ = s.Reset("vpc")
	st := s.Stage("vpc")
	if st.Status != StatusDestroyed || len(st.Outputs) != 0 || len(st.Pending) != 0 {
		t.Errorf("after reset: %+v", st)
	}
}

func TestEmptyOutputRemovesIt(t *testing.T) {
	s, _ := Load(filepath.Join(t.TempDir(), "s.json"), "myapp", "us-east-1")
	_ = s.SetOutput("security", "frontend_1_id", "i-1")
	_ = s.SetOutput("security", "frontend_1_id", "")
	if _, ok := s.Stage("security").Outputs["frontend_1_id"]; ok || s.Output("security", "frontend_1_id") != "" {
		t.Errorf("outputs: %v", s.Stage("security").Outputs)
	}
}
