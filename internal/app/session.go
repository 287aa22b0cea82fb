// Package app is what each myappctl command does, as plain functions over a
// Session (config, state, lock, AWS clients) and an output writer, so the
// cobra layer in cmd/myappctl stays wiring and tests call these directly.
package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/config"
	"github.com/myappctl/myappctl/internal/liveview"
	"github.com/myappctl/myappctl/internal/state"
	"github.com/myappctl/myappctl/internal/steps"
)

// ClientFactory builds AWS clients for a configuration. The real one loads
// the SDK's default chain; tests pass one that returns fakes.
type ClientFactory func(ctx context.Context, cfg *config.Config, verbose bool) (*awsx.Clients, error)

// AWSClients is the real ClientFactory.
func AWSClients(ctx context.Context, cfg *config.Config, verbose bool) (*awsx.Clients, error) {
	awsCfg, err := awsx.LoadConfig(ctx, awsx.Options{Region: cfg.Region, Profile: cfg.Profile, EndpointURL: cfg.EndpointURL, Verbose: verbose})
	if err != nil {
		return nil, err
	}
	return awsx.NewClients(awsCfg), nil
}

// Session is an opened stack: configuration, state file (locked for
// commands that change things) and clients.
type Session struct {
	Cfg    *config.Config
	State  *state.State
	Runner *steps.Runner
	lock   *state.Lock
	live   *liveview.Terminal
}

// OpenOptions says how to open a session.
type OpenOptions struct {
	Command string // recorded in the lock file
	Lock    bool   // take the state lock (up, step, destroy)
	Clients ClientFactory
	Log     io.Writer // progress lines (stderr)
	Verbose bool
	// Live, when set, shows up, step and destroy as a live view on this
	// terminal instead of progress lines.
	Live *liveview.Terminal
}

// Open loads the state file, takes the lock if asked, then builds the AWS
// clients. The configuration was validated when it was loaded, so no AWS
// call happens with bad settings.
func Open(ctx context.Context, cfg *config.Config, o OpenOptions) (*Session, error) {
	s := &Session{Cfg: cfg, live: o.Live}
	if o.Lock {
		l, err := state.Acquire(cfg.StatePath(), o.Command)
		if err != nil {
			return nil, err
		}
		s.lock = l
	}
	st, err := state.Load(cfg.StatePath(), cfg.Stack, cfg.Region)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.State = st
	factory := o.Clients
	if factory == nil {
		factory = AWSClients
	}
	clients, err := factory(ctx, cfg, o.Verbose)
	if err != nil {
		s.Close()
		return nil, err
	}
	env := &steps.Env{Cfg: cfg, State: st, AWS: clients, Log: NewProgress(o.Log)}
	s.Runner = steps.NewRunner(env)
	return s, nil
}

// Close releases the lock.
func (s *Session) Close() {
	if s.lock != nil {
		if err := s.lock.Release(); err != nil {
			fmt.Fprintf(os.Stderr, "warning: could not remove lock file: %v\n", err)
		}
		s.lock = nil
	}
}

// NewProgress returns a concurrency-safe progress printer: timestamped lines
// (CI logs read well, and a terminal shows the same plain lines).
func NewProgress(w io.Writer) awsx.Logf {
	if w == nil {
		return func(string, ...any) {}
	}
	var mu sync.Mutex
	return func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
}
