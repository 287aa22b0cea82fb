package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/config"
	"github.com/myappctl/myappctl/internal/state"
)

// StateInitOptions controls `myappctl state init s3://BUCKET/KEY`.
type StateInitOptions struct {
	Target  string // s3://BUCKET/KEY
	Command string // recorded in the locks
	Clients ClientFactory
	Log     io.Writer // progress and warnings (stderr)
	Verbose bool
}

// StateInit moves the stack's local state to S3 for team use: it makes the
// state bucket when it is missing (state.EnsureStateBucket), takes both
// locks, copies the local state there with a conditional create (an object
// already there is never overwritten), keeps the local file as a backup,
// leaves a pointer to the new location in its place, and says how to use it.
func StateInit(ctx context.Context, cfg *config.Config, o StateInitOptions, out io.Writer) error {
	loc, err := state.ParseS3URL(o.Target)
	if err != nil {
		return fmt.Errorf("state init: %w", err)
	}
	source := cfg.StatePath()
	if state.IsS3URL(source) {
		return fmt.Errorf("state init copies a local state file to S3, but this stack's state is already %s: run it without --state/state_file/MYAPP_STATE_FILE pointing at S3", source)
	}
	logf := NewProgress(o.Log)
	local := state.NewFileStore(source)
	localLock, err := state.Acquire(ctx, local, state.LockOptions{Command: o.Command, Logf: logf})
	if err != nil {
		return err
	}
	defer releaseLock(localLock, logf)
	st, err := state.Open(ctx, local, cfg.Stack, cfg.Region)
	var moved *state.MovedError
	if errors.As(err, &moved) && moved.To == loc.String() {
		fmt.Fprintf(out, "the state of stack %s already moved to %s\n", cfg.Stack, loc)
		printStateUse(out, loc)
		return nil
	}
	if err != nil {
		return err
	}
	original, localVersion, err := local.Load(ctx, state.StateDoc)
	if err != nil {
		return err
	}
	doc, err := st.Document()
	if err != nil {
		return err
	}

	clients, err := factoryOrDefault(o.Clients)(ctx, cfg, o.Verbose)
	if err != nil {
		return err
	}
	created, err := state.EnsureStateBucket(ctx, clients.S3, loc.Bucket, cfg.Region, logf)
	if err != nil {
		return err
	}
	remote, err := state.OpenS3Store(ctx, clients.S3, loc, cfg.Region, logf)
	if err != nil {
		return err
	}
	remoteLock, err := state.Acquire(ctx, remote, state.LockOptions{Command: o.Command, Who: callerARN(ctx, clients), Logf: logf})
	if err != nil {
		return err
	}
	defer releaseLock(remoteLock, logf)
	if err := copyState(ctx, remote, doc); err != nil {
		return err
	}

	backup := ""
	if original != nil {
		if backup, err = local.KeepBackup(original); err != nil {
			return fmt.Errorf("the state is copied to %s, but keeping the local backup failed: %w; use the new location (--state %s)", loc, err, loc)
		}
	}
	if err := state.MarkMoved(ctx, local, cfg.Stack, cfg.Region, loc.String(), localVersion); err != nil {
		return fmt.Errorf("the state is copied to %s, but %s could not be marked as moved: %w; use the new location (--state %s)", loc, source, err, loc)
	}
	fmt.Fprintf(out, "state of stack %s (%s) copied to %s\n", cfg.Stack, cfg.Region, loc)
	if created {
		fmt.Fprintf(out, "  bucket %s created: private (public access blocked, ACLs off), SSE-S3 encrypted, versioned, tagged %s=state\n", loc.Bucket, "myappctl:role")
	}
	if backup != "" {
		fmt.Fprintf(out, "  local backup: %s (%s now points to S3)\n", backup, source)
	}
	printStateUse(out, loc)
	return nil
}

// copyState creates the state object; one already there is left untouched
// unless it is this very copy (a re-run after an interrupted init).
func copyState(ctx context.Context, remote *state.S3Store, doc []byte) error {
	_, err := remote.Save(ctx, state.StateDoc, doc, "")
	if !errors.Is(err, state.ErrConflict) {
		return err
	}
	there, _, err := remote.Load(ctx, state.StateDoc)
	if err != nil || bytes.Equal(there, doc) {
		return err
	}
	var f state.File
	where := remote.Location(state.StateDoc)
	if json.Unmarshal(there, &f) != nil || f.SchemaVersion < 1 || f.Stack == "" {
		return fmt.Errorf("%s already exists and is not a myappctl state: it was left untouched and nothing was copied; choose another key", where)
	}
	return fmt.Errorf("%s already holds the state of stack %q in %s (updated %s): it was left untouched and nothing was copied; use it with --state %s, or choose another key",
		where, f.Stack, f.Region, f.UpdatedAt.Format("2006-01-02 15:04:05 MST"), where)
}

func printStateUse(out io.Writer, loc state.S3Location) {
	fmt.Fprintf(out, "Use the new location from now on (every teammate and CI job the same):\n"+
		"  state_file: %s        # in configs/myapp.yaml\n"+
		"  or: export MYAPP_STATE_FILE=%s\n"+
		"  or: myappctl up --state %s\n", loc, loc, loc)
}

// releaseLock releases a lock with a context of its own, so that it
// happens after Ctrl-C too.
func releaseLock(l *state.Lock, logf awsx.Logf) {
	ctx, cancel := context.WithTimeout(context.Background(), lockReleaseTimeout)
	defer cancel()
	if err := l.Release(ctx); err != nil {
		logf("warning: could not release the state lock: %v", err)
	}
}
