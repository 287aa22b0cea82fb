// Package steps holds the nine stages that build the stack, the runner that
// orders, plans and destroys them, and the resource helpers they share.
package steps

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/singleflight"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/config"
	"github.com/myappctl/myappctl/internal/state"
)

// Env is everything stages work with. Tests build one over fakeaws clients.
type Env struct {
	Cfg   *config.Config
	State *state.State
	AWS   *awsx.Clients
	// Log prints progress (stderr in the CLI). It must be safe for concurrent use.
	Log awsx.Logf
	// Observer, when set, is told every progress event instead (a live
	// terminal view); see events.go.
	Observer awsx.Observer

	accountOnce sync.Once
	accountID   string
	accountErr  error
	// checkOnce checks the account before the first change of the run.
	checkOnce  sync.Once
	accountBad error
	// logged holds the keys of lines logOnce printed in this process.
	logged sync.Map
	// hashed keeps the hashes of the app binaries read (readArtifact).
	hashed sync.Map
	// reports caches instance reports by object key (reports.go), read
	// once by reportReads however many ask at the same time.
	reports     sync.Map
	reportReads singleflight.Group
}

// AccountID returns the id of the account the stack lives in: the one the
// state file records, else the caller's (asked once).
func (e *Env) AccountID(ctx context.Context) (string, error) {
	if id := e.State.Account(); id != "" {
		return id, nil
	}
	return e.callerAccount(ctx)
}

// callerAccount asks STS (once) whose credentials these are.
func (e *Env) callerAccount(ctx context.Context) (string, error) {
	e.accountOnce.Do(func() {
		out, err := e.AWS.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			e.accountErr = fmt.Errorf("look up the account id: %w", err)
			return
		}
		e.accountID = aws.ToString(out.Account)
	})
	return e.accountID, e.accountErr
}

// checkAccount, before the first change of a run, makes sure the
// credentials are of the account the state file records (and records it
// the first time): names and policies follow the recorded account, so
// another account's credentials must not change anything. Like a state
// save, it does not take the run's context (change has none): it is one
// short call, bounded by accountCheckTimeout.
func (e *Env) checkAccount() error {
	e.checkOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), accountCheckTimeout)
		defer cancel()
		id, err := e.callerAccount(ctx)
		switch recorded := e.State.Account(); {
		case err != nil:
			e.accountBad = err
		case recorded == "":
			e.accountBad = e.State.SetAccount(id)
		case recorded != id:
			e.accountBad = fmt.Errorf("the credentials are of account %s, but the state file %s is of stack %s in account %s: "+
				"use credentials of account %s (e.g. --profile), or another --state for this account", id, e.State.Path(), e.Cfg.Stack, recorded, recorded)
		}
	})
	return e.accountBad
}

// accountCheckTimeout bounds checkAccount's call.
const accountCheckTimeout = 30 * time.Second

// rememberAccount records the caller's account in the state file when this
// run asked STS for it and the file has none (a stack built before
// myappctl kept it), so later commands need not ask again.
func (e *Env) rememberAccount() error {
	if e.State.Account() != "" || e.accountID == "" {
		return nil
	}
	return e.State.SetAccount(e.accountID)
}

// Change is one thing a stage created, modified or deleted (or, when
// planning, would).
type Change struct {
	Stage  string `json:"stage"`
	Action string `json:"action"` // create, modify, delete
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"`
}

func (c Change) String() string {
	sym := map[string]string{"create": "+", "modify": "~", "delete": "-"}[c.Action]
	s := fmt.Sprintf("%s %s %s %s", sym, c.Action, c.Kind, c.Name)
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

// Run is one stage's view of the Env for one command: it knows its stage
// name, whether it only plans, and what changed.
type Run struct {
	*Env
	Stage  *Stage
	DryRun bool
	// quiet drops progress lines (status checks drift with a silent dry run).
	quiet bool
	// earlyStart is when up started the stage's Early part (zero: it did not).
	earlyStart time.Time
	// wasComplete: the stage had completed before this run (so the waits
	// that confirmed it need not run again when it changes nothing now).
	wasComplete bool

	mu      sync.Mutex
	changes []Change
	// planned holds outputs a dry run would have written, so later stages of
	// the same plan can read them.
	planned *plannedOutputs
}

type plannedOutputs struct {
	mu sync.Mutex
	m  map[string]string
}

func (p *plannedOutputs) get(stage, key string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.m[stage+"/"+key]
	return v, ok
}

func (p *plannedOutputs) set(stage, key, v string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[stage+"/"+key] = v
}

// Logf prints a progress line prefixed with the stage name.
func (r *Run) Logf(format string, args ...any) {
	r.report(awsx.Event{Kind: awsx.EventLog}, format, args...)
}

// logOnce prints a progress line once per process (several stages may
// meet the same fact).
func (r *Run) logOnce(key, format string, args ...any) {
	if r.Log == nil || r.quiet {
		return
	}
	if _, seen := r.logged.LoadOrStore(key, true); !seen {
		r.Logf(format, args...)
	}
}

// unchanged reports a stage that completed before and has changed nothing
// in this run: what its waits confirm was confirmed then.
func (r *Run) unchanged() bool {
	return r.wasComplete && len(r.Changes()) == 0
}

// Changes returns what this run changed (or would change).
func (r *Run) Changes() []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Change(nil), r.changes...)
}

// change records a change and, unless planning, makes it.
func (r *Run) change(action, kind, name, detail string, do func() error) error {
	c := Change{Stage: r.Stage.Name, Action: action, Kind: kind, Name: name, Detail: detail}
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
	if r.DryRun {
		return nil
	}
	r.report(awsx.Event{Kind: awsx.EventChange}, "%s", c)
	if err := r.checkAccount(); err != nil {
		return &StageError{Stage: r.Stage.Name, Action: action, Resource: kind + " " + name, Err: err}
	}
	err := do()
	if awsx.IsAlreadyDone(err) {
		// The check before this change saw it needed; what AWS finds in
		// place is the change's own first attempt, whose response was lost
		// (the SDK retried the call).
		r.Logf("%s %s: already in place (%s)", kind, name, shortErr(err))
		err = nil
	}
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: action, Resource: kind + " " + name, Err: err}
	}
	return nil
}

// Name is a stack-scoped resource name.
func (r *Run) Name(base string) string { return r.Cfg.Name(base) }

// Tags are the tags of a resource of this stage.
func (r *Run) Tags(name string) awsx.Tags { return awsx.StackTags(r.Cfg.Stack, r.Stage.Name, name) }

// Output reads a stage's output (a planned one first when planning).
func (r *Run) Output(stage, key string) string {
	if r.planned != nil {
		if v, ok := r.planned.get(stage, key); ok {
			return v
		}
	}
	return r.State.Output(stage, key)
}

// SetOutput records an output of this stage (only in memory when planning).
func (r *Run) SetOutput(key, value string) error {
	if r.DryRun {
		r.planned.set(r.Stage.Name, key, value)
		return nil
	}
	if r.State.Output(r.Stage.Name, key) == value {
		return nil
	}
	return r.State.SetOutput(r.Stage.Name, key, value)
}

// record saves a resource id in the state file at once (before any wait).
func (r *Run) record(key, typ, id, name string) error {
	if r.DryRun || isPlanned(id) {
		return nil
	}
	if cur, ok := r.State.Resource(r.Stage.Name, key); ok && cur.ID == id && cur.Type == typ && cur.Name == name {
		return nil
	}
	return r.State.PutResource(r.Stage.Name, state.Resource{Key: key, Type: typ, ID: id, Name: name})
}

// planned ids stand in for resources a dry run would create.
const plannedPrefix = "(new "

func plannedID(what string) string { return plannedPrefix + what + ")" }

func isPlanned(id string) bool { return strings.HasPrefix(id, plannedPrefix) }

// wait builds a WaitSpec from the configured interval and timeout.
func (r *Run) wait(what string, timeout time.Duration, hint string) awsx.WaitSpec {
	if timeout == 0 {
		timeout = r.Cfg.Wait.Timeout
	}
	return awsx.WaitSpec{What: what, Interval: r.Cfg.Wait.PollInterval, Timeout: timeout, Log: r.Logf, Hint: hint}
}

// StageError names the stage, the action, the resource and the AWS error
// code, and says what the user can do.
type StageError struct {
	Stage, Action, Resource string
	Err                     error
}

func (e *StageError) Error() string {
	msg := fmt.Sprintf("stage %s: %s %s: %v", e.Stage, e.Action, e.Resource, e.Err)
	if code := awsx.ErrorCode(e.Err); code != "" && !strings.Contains(msg, code) {
		msg += " [" + code + "]"
	}
	if hint := awsx.Hint(e.Err); hint != "" {
		msg += "\n  hint: " + hint
	}
	return msg
}

func (e *StageError) Unwrap() error { return e.Err }
