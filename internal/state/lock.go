package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockInfo is what a lock file says about its holder.
type LockInfo struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	Command   string    `json:"command"`
	StartedAt time.Time `json:"startedAt"`
}

// Lock is a held lock on a stack's state file.
type Lock struct {
	path string
}

// ErrLocked means another run holds the lock.
var ErrLocked = errors.New("state is locked")

// LockedError describes the holder of a lock that could not be taken.
type LockedError struct {
	Path   string
	Holder LockInfo
	Stale  bool
}

func (e *LockedError) Error() string {
	h := e.Holder
	if e.Stale {
		return fmt.Sprintf("state is locked by a run that is no longer alive (pid %d on %s, %q, started %s): if no myappctl is running for this stack, remove %s and retry",
			h.PID, h.Host, h.Command, h.StartedAt.Format(time.RFC3339), e.Path)
	}
	return fmt.Sprintf("another myappctl run holds the lock on this stack (pid %d on %s, %q, started %s, %s ago): wait for it to finish, or stop it",
		h.PID, h.Host, h.Command, h.StartedAt.Format(time.RFC3339), time.Since(h.StartedAt).Round(time.Second))
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// LockPath is the lock file beside a state file.
func LockPath(statePath string) string { return statePath + ".lock" }

// Acquire takes the lock for the state file at statePath. A lock whose holder
// is still running, or that was taken on another host, is refused with the
// holder's pid and start time. A lock left by a process on this host that is
// no longer alive is reported as stale and also refused, so the user decides.
func Acquire(statePath, command string) (*Lock, error) {
	path := LockPath(statePath)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	host, _ := os.Hostname()
	info := LockInfo{PID: os.Getpid(), Host: host, Command: command, StartedAt: time.Now().UTC()}
	data, _ := json.Marshal(info)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, lockedError(path, host)
	}
	if err != nil {
		return nil, fmt.Errorf("take state lock %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("take state lock %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, err
	}
	return &Lock{path: path}, nil
}

func lockedError(path, host string) error {
	data, err := os.ReadFile(path)
	var holder LockInfo
	if err != nil || json.Unmarshal(data, &holder) != nil {
		return fmt.Errorf("%w: lock file %s is unreadable; if no myappctl is running for this stack, remove it and retry", ErrLocked, path)
	}
	stale := holder.Host == host && !processAlive(holder.PID)
	return &LockedError{Path: path, Holder: holder, Stale: stale}
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Release removes the lock file.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
