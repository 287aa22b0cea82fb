package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"syscall"
	"time"
)

// LockInfo is what a lock says about its holder.
type LockInfo struct {
	// ID is unique per run: it tells a run its own lock from another's.
	ID string `json:"id,omitempty"`
	// Who is the caller's AWS ARN (S3) or the local user name.
	Who       string    `json:"who,omitempty"`
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	Command   string    `json:"command"`
	StartedAt time.Time `json:"startedAt"`
}

// String describes the holder: `alice (pid 3205 on vm, "myappctl up",
// started 2026-11-01T10:00:00Z, 3h2m ago)`.
func (h LockInfo) String() string {
	who := ""
	if h.Who != "" {
		who = h.Who + " "
	}
	return fmt.Sprintf("%s(pid %d on %s, %q, started %s, %s ago)", who, h.PID, h.Host, h.Command,
		h.StartedAt.Format(time.RFC3339), time.Since(h.StartedAt).Round(time.Second))
}

// deadHere reports a holder that ran on this host and is no longer alive.
func (h LockInfo) deadHere(host string) bool { return h.Host == host && !processAlive(h.PID) }

// AliveHere reports a holder that still runs on this host.
func (h LockInfo) AliveHere() bool {
	host, _ := os.Hostname()
	return h.Host == host && processAlive(h.PID)
}

// ErrLocked means another run holds the lock.
var ErrLocked = errors.New("state is locked")

// LockedError describes the holder of a lock that could not be taken.
type LockedError struct {
	Location  string
	Holder    LockInfo
	OtherHost bool
}

func (e *LockedError) Error() string {
	if e.OtherHost {
		return fmt.Sprintf("state is locked by a run on another host: %s: if that run is no longer active (a crashed or killed run), release its lock with `myappctl unlock` (same --state/--stack), then run again",
			e.Holder)
	}
	return fmt.Sprintf("another myappctl run holds the lock on this stack %s: wait for it to finish, or stop it", e.Holder)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// LockOptions describe the run that takes a lock.
type LockOptions struct {
	Command string
	// Who is the caller's AWS ARN when known; the local user name otherwise.
	Who string
	// Logf prints the one line that says a dead run's lock was taken over.
	Logf func(format string, args ...any)
}

// Lock is a held lock on a stack's state.
type Lock struct {
	store   Store
	version string
	Info    LockInfo
}

// Acquire takes the lock of a store's state. A lock whose holder still
// runs, or that was taken on another host, is refused with the holder; a
// lock left by a process of this host that is no longer alive is taken
// over (atomically: only if it is still that lock), and Logf says so.
func Acquire(ctx context.Context, store Store, o LockOptions) (*Lock, error) {
	host, _ := os.Hostname()
	info := LockInfo{ID: randomID(), Who: o.Who, PID: os.Getpid(), Host: host, Command: o.Command, StartedAt: time.Now().UTC()}
	if info.Who == "" {
		info.Who = localUser()
	}
	data, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	refusedEmpty := 0
	for range 3 {
		version, err := store.Save(ctx, LockDoc, data, "")
		if err == nil {
			return &Lock{store: store, version: version, Info: info}, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("take the lock %s: %w", store.Location(LockDoc), err)
		}
		held, err := ReadLock(ctx, store)
		if err != nil {
			return nil, err
		}
		if held == nil {
			refusedEmpty++
			continue // released meanwhile
		}
		if !held.Readable {
			return nil, fmt.Errorf("%w: the lock %s is unreadable; if no myappctl is running for this stack, release it with `myappctl unlock`", ErrLocked, store.Location(LockDoc))
		}
		if !held.Info.deadHere(host) {
			return nil, &LockedError{Location: store.Location(LockDoc), Holder: held.Info, OtherHost: held.Info.Host != host}
		}
		version, err = store.Save(ctx, LockDoc, data, held.Version)
		if errors.Is(err, ErrConflict) {
			continue // another run took it over first: look again
		}
		if err != nil {
			return nil, fmt.Errorf("take over the lock %s: %w", store.Location(LockDoc), err)
		}
		if o.Logf != nil {
			o.Logf("took over the lock of a run that is no longer alive %s", held.Info)
		}
		return &Lock{store: store, version: version, Info: info}, nil
	}
	if refusedEmpty == 3 {
		return nil, fmt.Errorf("%w: the store refuses to create the lock %s although there is none (an S3-compatible server that counts a deleted object's delete marker as an object?): use AWS S3, or a bucket without versioning on that server", ErrLocked, store.Location(LockDoc))
	}
	return nil, fmt.Errorf("%w: the lock %s kept changing while this run tried to take it: run the command again", ErrLocked, store.Location(LockDoc))
}

// Release removes the lock if it still is this run's; one that someone
// else took in the meantime (after `myappctl unlock`) is left in place.
func (l *Lock) Release(ctx context.Context) error {
	if l == nil {
		return nil
	}
	err := l.store.Delete(ctx, LockDoc, l.version)
	if errors.Is(err, ErrConflict) {
		return fmt.Errorf("the lock %s is no longer this run's (it was released with `myappctl unlock` and taken by another run): left in place", l.store.Location(LockDoc))
	}
	return err
}

// HeldLock is a lock as read from its store.
type HeldLock struct {
	Info     LockInfo
	Version  string
	Readable bool // false: not a lock this myappctl can read
}

// ReadLock returns the current lock of a store, nil when there is none.
func ReadLock(ctx context.Context, store Store) (*HeldLock, error) {
	data, version, err := store.Load(ctx, LockDoc)
	if err != nil || data == nil {
		return nil, err
	}
	h := &HeldLock{Version: version}
	h.Readable = json.Unmarshal(data, &h.Info) == nil && h.Info.PID > 0 && h.Info.Host != ""
	return h, nil
}

// ForceUnlock removes a lock read by ReadLock, unless it changed since.
func ForceUnlock(ctx context.Context, store Store, h *HeldLock) error {
	err := store.Delete(ctx, LockDoc, h.Version)
	if errors.Is(err, ErrConflict) {
		return fmt.Errorf("the lock %s changed since it was shown (another run took it): nothing was removed; run `myappctl unlock` again to see the new holder", store.Location(LockDoc))
	}
	return err
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}
