// Package state is the local record of what a stack has built: per stage its
// status, outputs, secrets and every resource id, in one JSON file per stack,
// written atomically with mode 0600.
package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// SchemaVersion is the version of the file layout this build reads and writes.
const SchemaVersion = 1

// Stage statuses.
const (
	StatusPending    = "pending"
	StatusInProgress = "in-progress"
	StatusComplete   = "complete"
	StatusFailed     = "failed"
	StatusDestroyed  = "destroyed"
)

// Resource is one AWS resource a stage created or adopted.
type Resource struct {
	Key  string `json:"key"`  // stable role within the stage, e.g. "subnet/public-1"
	Type string `json:"type"` // e.g. "ec2:subnet"
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Stage is one stage's record.
type Stage struct {
	Status    string            `json:"status"`
	UpdatedAt time.Time         `json:"updatedAt"`
	Error     string            `json:"error,omitempty"`
	Outputs   map[string]string `json:"outputs,omitempty"`
	// Secrets are never printed; status masks them.
	Secrets   map[string]string `json:"secrets,omitempty"`
	Resources []Resource        `json:"resources,omitempty"`
	// Pending holds client tokens of creates that may have happened but whose
	// response was not seen yet, so a re-run repeats the same idempotent call.
	Pending map[string]string `json:"pendingTokens,omitempty"`
}

// File is the whole state file.
type File struct {
	SchemaVersion int               `json:"schemaVersion"`
	Stack         string            `json:"stack"`
	Region        string            `json:"region"`
	CreatedAt     time.Time         `json:"createdAt"`
	UpdatedAt     time.Time         `json:"updatedAt"`
	Stages        map[string]*Stage `json:"stages"`
}

// State is a loaded state file, safe for concurrent use by stages that run in parallel.
type State struct {
	mu   sync.Mutex
	path string
	f    File
	now  func() time.Time
}

// Load reads the state file at path, or starts an empty one when it does not
// exist. A corrupt file, one from a newer myappctl, or one that belongs to a
// different stack or region is refused and left untouched.
func Load(path, stack, region string) (*State, error) {
	s := &State{path: path, now: time.Now}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t := s.now().UTC()
		s.f = File{SchemaVersion: SchemaVersion, Stack: stack, Region: region, CreatedAt: t, UpdatedAt: t, Stages: map[string]*Stage{}}
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file %s: %w", path, err)
	}
	if err := decode(data, &s.f); err != nil {
		return nil, fmt.Errorf("state file %s is corrupt: %v; it was left untouched: restore it from a backup or move it away (destroy still finds resources by their tags)", path, err)
	}
	if s.f.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("state file %s has schema version %d, newer than this myappctl understands (%d): upgrade myappctl", path, s.f.SchemaVersion, SchemaVersion)
	}
	if s.f.Stack != stack || s.f.Region != region {
		return nil, fmt.Errorf("state file %s belongs to stack %q in %s, not stack %q in %s: pass --stack/--region to match it, or --state to use another file", path, s.f.Stack, s.f.Region, stack, region)
	}
	if s.f.Stages == nil {
		s.f.Stages = map[string]*Stage{}
	}
	return s, nil
}

func decode(data []byte, f *File) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return err
	}
	if f.SchemaVersion < 1 || f.Stack == "" {
		return errors.New("missing schemaVersion or stack")
	}
	return nil
}

// Path is the file this state is saved to.
func (s *State) Path() string { return s.path }

// Save writes the state atomically: a temp file (0600) in the same
// directory, synced, then renamed over the old one.
func (s *State) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

func (s *State) saveLocked() error {
	s.f.UpdatedAt = s.now().UTC()
	data, err := json.MarshalIndent(&s.f, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(s.path, append(data, '\n'))
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	return nil
}

// stage returns the record of a stage, creating it; callers hold mu.
func (s *State) stage(name string) *Stage {
	st := s.f.Stages[name]
	if st == nil {
		st = &Stage{Status: StatusPending}
		s.f.Stages[name] = st
	}
	return st
}

// update changes a stage under the lock and saves the file.
func (s *State) update(name string, fn func(*Stage)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stage(name)
	fn(st)
	st.UpdatedAt = s.now().UTC()
	return s.saveLocked()
}

// SetStatus records a stage's status and, for failures, the error.
func (s *State) SetStatus(name, status string, cause error) error {
	return s.update(name, func(st *Stage) {
		st.Status = status
		st.Error = ""
		if cause != nil {
			st.Error = cause.Error()
		}
	})
}

// PutResource records (or replaces, by key) a resource and saves at once, so
// an id is on disk before anything waits on the resource.
func (s *State) PutResource(stage string, r Resource) error {
	return s.update(stage, func(st *Stage) {
		for i := range st.Resources {
			if st.Resources[i].Key == r.Key {
				st.Resources[i] = r
				return
			}
		}
		st.Resources = append(st.Resources, r)
	})
}

// DropResource forgets a resource by key.
func (s *State) DropResource(stage, key string) error {
	return s.update(stage, func(st *Stage) {
		kept := st.Resources[:0]
		for _, r := range st.Resources {
			if r.Key != key {
				kept = append(kept, r)
			}
		}
		st.Resources = kept
	})
}

// SetOutput records an output value; an empty value removes the output.
func (s *State) SetOutput(stage, key, value string) error {
	return s.update(stage, func(st *Stage) {
		if value == "" {
			delete(st.Outputs, key)
			return
		}
		if st.Outputs == nil {
			st.Outputs = map[string]string{}
		}
		st.Outputs[key] = value
	})
}

// SetSecret records a secret value (never printed).
func (s *State) SetSecret(stage, key, value string) error {
	return s.update(stage, func(st *Stage) {
		if st.Secrets == nil {
			st.Secrets = map[string]string{}
		}
		st.Secrets[key] = value
	})
}

// SetPendingToken records (value != "") or clears a create's client token.
func (s *State) SetPendingToken(stage, key, value string) error {
	return s.update(stage, func(st *Stage) {
		if value == "" {
			delete(st.Pending, key)
			return
		}
		if st.Pending == nil {
			st.Pending = map[string]string{}
		}
		st.Pending[key] = value
	})
}

// Reset forgets everything about a stage (after destroy).
func (s *State) Reset(stage string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f.Stages[stage] = &Stage{Status: StatusDestroyed, UpdatedAt: s.now().UTC()}
	return s.saveLocked()
}

// Stage returns a copy of a stage's record (zero Stage with status pending if unknown).
func (s *State) Stage(name string) Stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.f.Stages[name]
	if !ok {
		return Stage{Status: StatusPending}
	}
	c := *st
	c.Outputs = cloneMap(st.Outputs)
	c.Secrets = cloneMap(st.Secrets)
	c.Pending = cloneMap(st.Pending)
	c.Resources = append([]Resource(nil), st.Resources...)
	return c
}

// Resource returns the recorded resource for a key.
func (s *State) Resource(stage, key string) (Resource, bool) {
	for _, r := range s.Stage(stage).Resources {
		if r.Key == key {
			return r, true
		}
	}
	return Resource{}, false
}

// Output returns one output of a stage ("" if unset).
func (s *State) Output(stage, key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.f.Stages[stage]; ok {
		return st.Outputs[key]
	}
	return ""
}

// Secret returns one secret of a stage ("" if unset).
func (s *State) Secret(stage, key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.f.Stages[stage]; ok {
		return st.Secrets[key]
	}
	return ""
}

// Snapshot returns a deep copy of the whole file, for printing.
func (s *State) Snapshot() File {
	s.mu.Lock()
	names := make([]string, 0, len(s.f.Stages))
	for n := range s.f.Stages {
		names = append(names, n)
	}
	f := s.f
	s.mu.Unlock()
	sort.Strings(names)
	f.Stages = map[string]*Stage{}
	for _, n := range names {
		st := s.Stage(n)
		f.Stages[n] = &st
	}
	return f
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
