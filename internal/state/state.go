// Package state is the record of what a stack has built: per stage its
// status, outputs, secrets and every resource id, in one JSON document per
// stack, kept in a local file (written atomically, mode 0600) or an S3
// object (written with S3's conditional writes), with a lock beside it.
package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	// MovedTo marks a local file left by `myappctl state init` as a pointer
	// to where the state lives now (s3://bucket/key).
	MovedTo string `json:"movedTo,omitempty"`
}

// State is a loaded state, safe for concurrent use by stages that run in
// parallel. Every change is saved at once to its store, conditionally on the
// version this run read or last wrote.
type State struct {
	mu      sync.Mutex
	store   Store
	version string
	f       File
	now     func() time.Time
	// conflict stops every later save once one found the state changed by
	// someone else: nothing is overwritten.
	conflict error
}

// saveTimeout bounds one save. Saves do not use the run's context: a Ctrl-C
// must not lose the ids recorded so far.
const saveTimeout = 2 * time.Minute

// Load reads the local state file at path (see Open).
func Load(path, stack, region string) (*State, error) {
	return Open(context.Background(), NewFileStore(path), stack, region)
}

// Open reads the state from its store, or starts an empty one when there
// is none. A corrupt document, one from a newer myappctl, one that
// belongs to a different stack or region, or one that says the state moved
// elsewhere is refused and left untouched.
func Open(ctx context.Context, store Store, stack, region string) (*State, error) {
	s := &State{store: store, now: time.Now}
	where := store.Location(StateDoc)
	data, version, err := store.Load(ctx, StateDoc)
	if err != nil {
		return nil, err
	}
	if data == nil {
		t := s.now().UTC()
		s.f = File{SchemaVersion: SchemaVersion, Stack: stack, Region: region, CreatedAt: t, UpdatedAt: t, Stages: map[string]*Stage{}}
		return s, nil
	}
	s.version = version
	if err := decode(data, &s.f); err != nil {
		return nil, fmt.Errorf("state file %s is corrupt or not a myappctl state: %v; it was left untouched: restore it from a backup or move it away (destroy still finds resources by their tags)", where, err)
	}
	if s.f.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("state file %s has schema version %d, newer than this myappctl understands (%d): upgrade myappctl", where, s.f.SchemaVersion, SchemaVersion)
	}
	if s.f.MovedTo != "" {
		return nil, &MovedError{From: where, To: s.f.MovedTo}
	}
	if s.f.Stack != stack || s.f.Region != region {
		return nil, fmt.Errorf("state file %s belongs to stack %q in %s, not stack %q in %s: pass --stack/--region to match it, or --state to use another file", where, s.f.Stack, s.f.Region, stack, region)
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

// Path is where this state is kept: a file path or s3://bucket/key.
func (s *State) Path() string { return s.store.Location(StateDoc) }

// Save writes the whole state to its store.
func (s *State) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

func (s *State) saveLocked() error {
	if s.conflict != nil {
		return s.conflict
	}
	s.f.UpdatedAt = s.now().UTC()
	data, err := json.MarshalIndent(&s.f, "", "  ")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), saveTimeout)
	defer cancel()
	version, err := s.store.Save(ctx, StateDoc, append(data, '\n'), s.version)
	if errors.Is(err, ErrConflict) {
		s.conflict = &StateConflictError{Location: s.Path(), Cause: err}
		return s.conflict
	}
	if err != nil {
		return err
	}
	s.version = version
	return nil
}

// StateConflictError stops a run whose save found the state changed by
// someone else: it never overwrites what it did not read.
type StateConflictError struct {
	Location string
	Cause    error
}

func (e *StateConflictError) Error() string {
	return fmt.Sprintf("state %s was changed by someone else since this run read it (%v): this run stopped without overwriting it; "+
		"nobody should change a stack's state while a run holds its lock (was `myappctl unlock` used?): check with `myappctl status`, then run the command again", e.Location, e.Cause)
}

func (e *StateConflictError) Unwrap() error { return e.Cause }

// Conflict is the error that stopped this state's saves, if any.
func (s *State) Conflict() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conflict
}

// MovedError is a local state file that `myappctl state init` replaced
// with a pointer to the state's new location.
type MovedError struct{ From, To string }

func (e *MovedError) Error() string {
	return fmt.Sprintf("the state of this stack moved from %s to %s (`myappctl state init`): use it with --state %s, or state_file: %s in the configuration file, or MYAPP_STATE_FILE=%s",
		e.From, e.To, e.To, e.To, e.To)
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

// Document is the state as its store keeps it (indented JSON).
func (s *State) Document() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := json.MarshalIndent(&s.f, "", "  ")
	return append(data, '\n'), err
}

// MarkMoved replaces a state document (read at version) with a pointer to
// its new location, which Open then refuses with a MovedError naming it.
func MarkMoved(ctx context.Context, store Store, stack, region, to, version string) error {
	t := time.Now().UTC()
	data, err := json.MarshalIndent(&File{SchemaVersion: SchemaVersion, Stack: stack, Region: region, CreatedAt: t, UpdatedAt: t,
		Stages: map[string]*Stage{}, MovedTo: to}, "", "  ")
	if err != nil {
		return err
	}
	_, err = store.Save(ctx, StateDoc, append(data, '\n'), version)
	return err
}
