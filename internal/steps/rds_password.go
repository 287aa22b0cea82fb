package steps

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// The master password lives only in the state file (mode 0600): never in
// an output, a log line, a change detail or an error. status shows it
// masked unless --show-secrets.
//
// It is generated once, when the state has none, and kept: an instance that
// was deleted out of band is recreated with the same password, so whatever
// was configured with it keeps working. When an instance exists but the
// state file lost its password (AWS cannot return it), up resets it with
// ModifyDBInstance: a change that plan shows and up prints, never silent.

// dbPasswordLength is within MySQL's 8-41 characters.
const dbPasswordLength = 32

// dbPasswordAlphabet is what RDS accepts (printable ASCII but / @ " and
// space), narrowed to characters that need no quoting in a shell, a
// systemd environment file or a MySQL DSN.
const dbPasswordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

// passwordResetKey marks, among the stage's pending tokens, a password reset
// whose outcome is not known yet, so the next run repeats it.
const passwordResetKey = "db-password-reset"

// newDBPassword draws each character uniformly from the alphabet with
// crypto/rand (bytes past the largest multiple of its size are rejected).
func newDBPassword() (string, error) {
	n := len(dbPasswordAlphabet)
	limit := 256 - 256%n
	out := make([]byte, 0, dbPasswordLength)
	buf := make([]byte, 64)
	for len(out) < dbPasswordLength {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generate the database password: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < dbPasswordLength {
				out = append(out, dbPasswordAlphabet[int(b)%n])
			}
		}
	}
	return string(out), nil
}

// dbPassword returns the password in the state file, or a new one saved there first.
func dbPassword(r *Run) (string, error) {
	if pw := r.State.Secret(r.Stage.Name, SecretDBPassword); pw != "" {
		return pw, nil
	}
	pw, err := newDBPassword()
	if err != nil {
		return "", err
	}
	return pw, r.State.SetSecret(r.Stage.Name, SecretDBPassword, pw)
}

// ensureDBPassword resets the master password of an existing instance when
// the state file does not hold it (or an earlier reset did not finish). It
// reports whether it reset.
func ensureDBPassword(ctx context.Context, r *Run, id string) (bool, error) {
	pending := r.State.Stage(r.Stage.Name).Pending[passwordResetKey] != ""
	if !pending && r.State.Secret(r.Stage.Name, SecretDBPassword) != "" {
		return false, nil
	}
	detail := "reset the master password: the state file does not hold it and AWS cannot return it"
	if pending {
		detail = "finish resetting the master password (an earlier reset was interrupted)"
	}
	return true, r.change("modify", dbInstanceKind.Type, id, detail, func() error {
		// Mark the reset, then save the password, then call: whatever the
		// call's outcome, the next run knows the password to (re)send.
		if err := r.State.SetPendingToken(r.Stage.Name, passwordResetKey, "1"); err != nil {
			return err
		}
		pw, err := dbPassword(r)
		if err != nil {
			return err
		}
		_, err = r.AWS.RDS.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(id),
			MasterUserPassword: aws.String(pw), ApplyImmediately: aws.Bool(true)})
		if err != nil {
			return err
		}
		r.Logf("the master password of %s was reset and saved in the state file; anything using the old one must be reconfigured (`myappctl up` does it for the backend)", id)
		return r.State.SetPendingToken(r.Stage.Name, passwordResetKey, "")
	})
}
