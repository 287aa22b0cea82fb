package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// FileStore keeps the state in a local file and the lock in <file>.lock.
// A conditional write holds an advisory lock (flock) on the directory while
// it compares the file's content hash with the version read and renames a
// fully written temp file (0600) over it, so two processes never both win.
type FileStore struct{ path string }

// NewFileStore is the store of a local state file.
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

// LockPath is the lock file beside a state file.
func LockPath(statePath string) string { return statePath + ".lock" }

func (f *FileStore) Location(d Doc) string {
	if d == LockDoc {
		return LockPath(f.path)
	}
	return f.path
}

func (f *FileStore) Load(_ context.Context, d Doc) ([]byte, string, error) {
	data, err := os.ReadFile(f.Location(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", f.Location(d), err)
	}
	return data, digest(data), nil
}

func (f *FileStore) Save(ctx context.Context, d Doc, data []byte, version string) (string, error) {
	path := f.Location(d)
	unlock, err := lockDir(filepath.Dir(path))
	if err != nil {
		return "", err
	}
	defer unlock()
	cur, curVersion, err := f.Load(ctx, d)
	if err != nil {
		return "", err
	}
	if curVersion != version {
		return "", conflict(path, version, cur != nil)
	}
	if err := writeAtomic(path, data); err != nil {
		return "", err
	}
	return digest(data), nil
}

func (f *FileStore) Delete(ctx context.Context, d Doc, version string) error {
	path := f.Location(d)
	unlock, err := lockDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer unlock()
	if there, err := stillAt(ctx, f, d, version); !there {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// lockDir takes an exclusive flock on a directory (created 0700 when
// missing); the kernel drops it if the process dies.
func lockDir(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open state directory: %w", err)
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		d.Close()
		return nil, fmt.Errorf("lock state directory %s: %w", dir, err)
	}
	return func() {
		_ = syscall.Flock(int(d.Fd()), syscall.LOCK_UN)
		d.Close()
	}, nil
}

// writeAtomic writes a temp file (0600) in the same directory, syncs it and
// renames it over path.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// KeepBackup writes data beside the state file as <file>.bak (or
// <file>.<UTC time>.bak when that exists), mode 0600, and returns its path.
func (f *FileStore) KeepBackup(data []byte) (string, error) {
	path := f.path + ".bak"
	if _, err := os.Stat(path); err == nil {
		path = f.path + "." + time.Now().UTC().Format("20060102T150405Z") + ".bak"
	}
	if err := writeAtomic(path, data); err != nil {
		return "", err
	}
	return path, nil
}
