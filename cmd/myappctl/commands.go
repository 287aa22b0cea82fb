package main

import (
	"github.com/spf13/cobra"

	"github.com/myappctl/myappctl/internal/app"
	"github.com/myappctl/myappctl/internal/steps"
)

func newUpCmd(g *globals, d deps) *cobra.Command {
	var opts steps.UpOptions
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run every stage in order; converged stages make no changes",
		Long: `up converges every stage: it finds each resource (state file first, then tags), adopts it,
or creates it. A stage already converged makes no change; resources deleted or changed by hand are
recreated or repaired. After a failure or Ctrl-C, run up again to resume.`,
		Example: `  myappctl up
  myappctl up --to backend-lb        # stop after stage 6 (and what it needs)
  myappctl up --stack dev --region eu-west-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withSession(cmd, g, d, true, func(s *app.Session) error {
				return app.Up(cmd.Context(), s, opts, g.output, cmd.OutOrStdout())
			})
		},
	}
	cmd.Flags().StringVar(&opts.To, "to", "", "stop after this stage (name or number)")
	return cmd
}

func newStepCmd(g *globals, d deps) *cobra.Command {
	return &cobra.Command{
		Use:   "step NAME|NUMBER",
		Short: "Run one stage; refuses when a stage it needs has not completed",
		Example: `  myappctl step vpc
  myappctl step 1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSession(cmd, g, d, true, func(s *app.Session) error {
				return app.Step(cmd.Context(), s, args[0], g.output, cmd.OutOrStdout())
			})
		},
	}
}

func newPlanCmd(g *globals, d deps) *cobra.Command {
	return &cobra.Command{
		Use:   "plan",
		Short: "Show what up would create or change, without changing anything",
		Example: `  myappctl plan
  myappctl plan --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withSession(cmd, g, d, false, func(s *app.Session) error {
				return app.Plan(cmd.Context(), s, g.output, cmd.OutOrStdout())
			})
		},
	}
}

func newStatusCmd(g *globals, d deps) *cobra.Command {
	var showSecrets bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every stage and resource: state file plus live checks",
		Example: `  myappctl status
  myappctl status --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withSession(cmd, g, d, false, func(s *app.Session) error {
				return app.Status(cmd.Context(), s, showSecrets, g.output, cmd.OutOrStdout())
			})
		},
	}
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "print secrets (the database password) instead of masking them")
	return cmd
}

func newDestroyCmd(g *globals, d deps) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Remove everything the stack created, newest first, and wait until it is gone",
		Long: `destroy deletes what the state file lists and then sweeps anything still tagged with the stack,
stages in reverse order, retrying while dependencies drain. It never touches a resource without the
stack tag, and ends by listing anything it could not delete. It asks first unless --yes is given.`,
		Example: `  myappctl destroy
  myappctl destroy --yes --stack dev`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withSession(cmd, g, d, true, func(s *app.Session) error {
				return app.Destroy(cmd.Context(), s, app.DestroyOptions{Yes: yes, Interactive: d.interactive, In: d.stdin, Prompt: cmd.ErrOrStderr()},
					g.output, cmd.OutOrStdout())
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
