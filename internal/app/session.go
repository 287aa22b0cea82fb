// Package app is what each myappctl command does, as plain functions over a
// Session (config, state, lock, AWS clients) and an output writer, so the
// cobra layer in cmd/myappctl stays wiring and tests call these directly.
package app

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

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
	logf   awsx.Logf
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

// Open opens the state's store, takes the lock if asked, loads the state,
// then builds the AWS clients. The configuration was validated when it was
// loaded, so no AWS call happens with bad settings; a local state is locked
// before any client is built, an S3 one needs the S3 client first.
func Open(ctx context.Context, cfg *config.Config, o OpenOptions) (*Session, error) {
	logf := NewProgress(o.Log)
	s := &Session{Cfg: cfg, logf: logf, live: o.Live}
	store, clients, who, err := openStore(ctx, cfg, o.Clients, o.Verbose, logf)
	if err != nil {
		return nil, err
	}
	if o.Lock {
		l, err := state.Acquire(ctx, store, state.LockOptions{Command: o.Command, Who: who, Logf: logf})
		if err != nil {
			return nil, err
		}
		s.lock = l
	}
	st, err := state.Open(ctx, store, cfg.Stack, cfg.Region)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.State = st
	if clients == nil {
		if clients, err = factoryOrDefault(o.Clients)(ctx, cfg, o.Verbose); err != nil {
			s.Close()
			return nil, err
		}
	}
	env := &steps.Env{Cfg: cfg, State: st, AWS: clients, Log: logf}
	s.Runner = steps.NewRunner(env)
	return s, nil
}

func factoryOrDefault(f ClientFactory) ClientFactory {
	if f == nil {
		return AWSClients
	}
	return f
}

// openStore returns where the state lives: a local file (no client needed
// yet), or an S3 object, for which it builds the clients, checks the bucket
// and names the caller (its ARN) for the lock.
func openStore(ctx context.Context, cfg *config.Config, factory ClientFactory, verbose bool, logf awsx.Logf) (state.Store, *awsx.Clients, string, error) {
	if !state.IsS3URL(cfg.StatePath()) {
		return state.NewFileStore(cfg.StatePath()), nil, "", nil
	}
	loc, err := state.ParseS3URL(cfg.StatePath())
	if err != nil {
		return nil, nil, "", err // config validation refuses it first
	}
	clients, err := factoryOrDefault(factory)(ctx, cfg, verbose)
	if err != nil {
		return nil, nil, "", err
	}
	store, err := state.OpenS3Store(ctx, clients.S3, loc, cfg.Region, logf)
	if err != nil {
		return nil, nil, "", err
	}
	return store, clients, callerARN(ctx, clients), nil
}

// lockReleaseTimeout bounds the release of a lock.
const lockReleaseTimeout = time.Minute

// callerARN names who takes a lock in S3, when STS answers.
func callerARN(ctx context.Context, c *awsx.Clients) string {
	if c.STS == nil {
		return ""
	}
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return ""
	}
	return aws.ToString(out.Arn)
}

// Close releases the lock, also after Ctrl-C (with a context of its own).
func (s *Session) Close() {
	if s.lock == nil {
		return
	}
	releaseLock(s.lock, s.logf)
	s.lock = nil
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
