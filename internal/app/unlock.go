package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/myappctl/myappctl/internal/config"
	"github.com/myappctl/myappctl/internal/state"
)

// UnlockOptions controls `myappctl unlock`.
type UnlockOptions struct {
	Yes         bool      // --yes
	Interactive bool      // stdin is a terminal
	In          io.Reader // where the answer is read
	Prompt      io.Writer // where the holder is shown and the question asked (stderr)
	Clients     ClientFactory
	Verbose     bool
}

// Unlock releases the lock of the stack's state (local or in S3) after
// showing its holder and asking, unless --yes. It refuses to release the
// lock of a run that is still alive on this host: stopping that run
// releases it. The state itself is not read, so a damaged one can still
// be unlocked.
func Unlock(ctx context.Context, cfg *config.Config, o UnlockOptions, out io.Writer) error {
	store, _, _, err := openStore(ctx, cfg, o.Clients, o.Verbose, NewProgress(o.Prompt))
	if err != nil {
		return err
	}
	held, err := state.ReadLock(ctx, store)
	if err != nil {
		return err
	}
	where := store.Location(state.LockDoc)
	if held == nil {
		fmt.Fprintf(out, "no lock on %s: nothing to release\n", store.Location(state.StateDoc))
		return nil
	}
	holder := "an unreadable lock"
	if held.Readable {
		holder = "a run of " + held.Info.String()
		if held.Info.AliveHere() {
			return fmt.Errorf("the lock %s belongs to a run that is still alive on this host %s: stop that run (Ctrl-C) and it releases the lock itself", where, held.Info)
		}
	}
	if !o.Yes {
		if !o.Interactive {
			return fmt.Errorf("the lock %s is held by %s: unlock releases it only after asking; pass --yes to confirm when not running in a terminal", where, holder)
		}
		fmt.Fprintf(o.Prompt, "The lock %s is held by %s.\nRelease it only if that run is no longer active. Release it? [y/N]: ", where, holder)
		answer, _ := bufio.NewReader(o.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return errors.New("unlock cancelled: the lock was left in place")
		}
	}
	if err := state.ForceUnlock(ctx, store, held); err != nil {
		return err
	}
	fmt.Fprintf(out, "released the lock %s (held by %s)\n", where, holder)
	return nil
}
