package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Doc is one of the two documents a store keeps for a stack.
type Doc int

const (
	// StateDoc is the state document itself.
	StateDoc Doc = iota
	// LockDoc is the lock beside it (<state>.lock): who runs on the stack.
	LockDoc
)

// Store keeps a stack's state document and its lock: a local file
// (FileStore) or an S3 object (S3Store). Every write is conditional on the
// version the caller last read, so nothing is overwritten unseen; the state
// (state.go) and the lock policy (lock.go) are built on these three verbs
// and behave the same whatever the store.
type Store interface {
	// Location names a document for messages: a path or s3://bucket/key.
	Location(Doc) string
	// Load returns a document and its version (nil and "" when there is none).
	Load(ctx context.Context, d Doc) (data []byte, version string, err error)
	// Save writes a document if its stored version still is version ("":
	// none may exist yet) and returns the new version; a *ConflictError
	// when someone else wrote or removed it since.
	Save(ctx context.Context, d Doc, data []byte, version string) (string, error)
	// Delete removes a document if it still is at version (a
	// *ConflictError otherwise); one already gone is no error.
	Delete(ctx context.Context, d Doc, version string) error
}

// ErrConflict means a conditional write found another version.
var ErrConflict = errors.New("changed by someone else")

// ConflictError is a conditional write or delete that found the document
// changed (or created, or removed) since it was read.
type ConflictError struct {
	Location string
	Exists   bool // a create found one there
	Gone     bool // it was removed since it was read
}

func (e *ConflictError) Error() string {
	switch {
	case e.Exists:
		return e.Location + " already exists"
	case e.Gone:
		return e.Location + " was removed since it was read"
	}
	return e.Location + " was changed by someone else since it was read"
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

func conflict(location, version string, exists bool) *ConflictError {
	return &ConflictError{Location: location, Exists: version == "" && exists, Gone: version != "" && !exists}
}

// stillAt reads a document before a delete: true when it is still at
// version, false when it is gone already, a *ConflictError when it changed.
func stillAt(ctx context.Context, s Store, d Doc, version string) (bool, error) {
	cur, curVersion, err := s.Load(ctx, d)
	switch {
	case err != nil:
		return false, err
	case cur == nil:
		return false, nil
	case curVersion != version:
		return false, conflict(s.Location(d), version, true)
	}
	return true, nil
}

// digest is a local document's version: its content hash.
func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}
