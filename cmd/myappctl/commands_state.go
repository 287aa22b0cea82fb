package main

import (
	"github.com/spf13/cobra"

	"github.com/myappctl/myappctl/internal/app"
	"github.com/myappctl/myappctl/internal/config"
)

func newUnlockCmd(g *globals, d deps) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "unlock",
		Short: "Release the state lock of a run that died (shows the holder, asks first)",
		Long: `unlock releases the lock beside the state (a local file or an S3 object) that a run left behind
when it crashed or was killed on another host, or in CI. It shows who holds the lock, where and since
when, and asks before releasing it unless --yes is given. A lock left by a dead run on this same host
needs no unlock: the next run takes it over. A run that is still alive on this host keeps its lock.`,
		Example: `  myappctl unlock
  myappctl unlock --yes --state s3://my-team-state/myapp.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(config.LoadOptions{File: g.configFile, Flags: cmd.Flags()})
			if err != nil {
				return err
			}
			return app.Unlock(cmd.Context(), &cfg, app.UnlockOptions{Yes: yes, Interactive: d.interactive, In: d.stdin, Prompt: cmd.ErrOrStderr(),
				Clients: d.clients, Verbose: g.verbose}, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func newStateCmd(g *globals, d deps) *cobra.Command {
	state := &cobra.Command{
		Use:   "state",
		Short: "Manage where the state is kept",
		Args:  cobra.NoArgs,
	}
	state.AddCommand(&cobra.Command{
		Use:   "init s3://BUCKET/KEY",
		Short: "Move the stack's local state to S3 for team use",
		Long: `state init copies the stack's local state file to S3, where teammates and CI jobs share it,
locked and written with S3's conditional writes. It creates the bucket when it is missing (private:
public access blocked, ACLs off, SSE-S3 encryption, versioning on, tagged myappctl:role=state; no stack
owns it, so destroy never deletes it), never overwrites an object already there, keeps the local file
as <file>.bak and leaves a pointer to the new location in its place.`,
		Example: `  myappctl state init s3://my-team-state/myapp.json
  myappctl state init s3://my-team-state/dev.json --stack dev`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(config.LoadOptions{File: g.configFile, Flags: cmd.Flags()})
			if err != nil {
				return err
			}
			return app.StateInit(cmd.Context(), &cfg, app.StateInitOptions{Target: args[0], Command: cmd.CommandPath(), Clients: d.clients,
				Log: cmd.ErrOrStderr(), Verbose: g.verbose}, cmd.OutOrStdout())
		},
	})
	return state
}
