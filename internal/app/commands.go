package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/myappctl/myappctl/internal/steps"
)

// Output formats.
const (
	OutputTable = "table"
	OutputJSON  = "json"
)

// CheckOutput validates --output.
func CheckOutput(format string) error {
	if format != OutputTable && format != OutputJSON {
		return fmt.Errorf("--output %q: use table or json", format)
	}
	return nil
}

// Up runs every stage (or those up to opts.To), prints what changed and,
// once the load balancers exist, where the app is.
func Up(ctx context.Context, s *Session, opts steps.UpOptions, format string, out io.Writer) error {
	live := s.watch(ctx, "up", upStages(s.Runner.Stages, opts.To), false)
	results, err := s.Runner.Up(ctx, opts)
	if live.end(out) {
		if err == nil {
			printURLs(out, s)
		}
		return live.result(ctx, "up", err)
	}
	if perr := printResults(out, format, results, "up"); perr != nil {
		return perr
	}
	if err == nil && format == OutputTable {
		printURLs(out, s)
	}
	return err
}

// printURLs names the app and API addresses the stack serves.
func printURLs(out io.Writer, s *Session) {
	for _, u := range []struct{ label, stage, key string }{
		{"app", "frontend-lb", steps.OutAppURL},
		{"API", "backend-lb", steps.OutAPIURL},
	} {
		if v := s.State.Output(u.stage, u.key); v != "" {
			fmt.Fprintf(out, "%s: %s\n", u.label, v)
		}
	}
}

// Step runs one stage and prints what changed.
func Step(ctx context.Context, s *Session, stage string, format string, out io.Writer) error {
	var live *liveRun
	if st, lerr := s.Runner.Stages.Lookup(stage); lerr == nil {
		live = s.watch(ctx, "step", steps.Registry{st}, false)
	}
	res, err := s.Runner.Step(ctx, stage)
	if live.end(out) {
		return live.result(ctx, "step", err)
	}
	if res.Stage == "" {
		return err
	}
	if perr := printResults(out, format, []steps.StageResult{res}, "step"); perr != nil {
		return perr
	}
	return err
}

// Plan prints what up would change.
func Plan(ctx context.Context, s *Session, format string, out io.Writer) error {
	results, err := s.Runner.Plan(ctx)
	if perr := printResults(out, format, results, "plan"); perr != nil {
		return perr
	}
	return err
}

func printResults(out io.Writer, format string, results []steps.StageResult, verb string) error {
	if format == OutputJSON {
		return writeJSON(out, results)
	}
	total := 0
	for _, r := range results {
		var ni *steps.ErrNotImplemented
		switch {
		case errors.As(r.Err, &ni):
			fmt.Fprintf(out, "%-12s not implemented yet\n", r.Stage)
			continue
		case r.Err != nil && len(r.Changes) == 0:
			fmt.Fprintf(out, "%-12s failed\n", r.Stage)
			continue
		case len(r.Changes) == 0:
			fmt.Fprintf(out, "%-12s up to date\n", r.Stage)
			continue
		}
		word := "changed"
		if verb == "plan" {
			word = "would change"
		}
		fmt.Fprintf(out, "%-12s %s %d:\n", r.Stage, word, len(r.Changes))
		for _, c := range r.Changes {
			fmt.Fprintf(out, "  %s\n", c)
		}
		total += len(r.Changes)
	}
	if verb == "plan" {
		fmt.Fprintf(out, "plan: %d change(s)\n", total)
	}
	return nil
}

// Status prints the state-file view plus live checks.
func Status(ctx context.Context, s *Session, showSecrets bool, format string, out io.Writer) error {
	stages, err := s.Runner.Status(ctx, showSecrets)
	if err != nil {
		return err
	}
	if format == OutputJSON {
		return writeJSON(out, map[string]any{"stack": s.Cfg.Stack, "region": s.Cfg.Region, "stateFile": s.State.Path(), "stages": stages})
	}
	fmt.Fprintf(out, "stack %s in %s (state: %s)\n\n", s.Cfg.Stack, s.Cfg.Region, s.State.Path())
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSTAGE\tSTATUS\tUPDATED\tRESOURCES\tDRIFT")
	for _, st := range stages {
		status := st.Status
		if !st.Implemented {
			status += " (not implemented yet)"
		}
		updated := "-"
		if !st.UpdatedAt.IsZero() {
			updated = st.UpdatedAt.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", st.Number, st.Name, status, updated, resourceSummary(st.Resources), driftSummary(st))
	}
	tw.Flush()
	for _, st := range stages {
		printStageDetail(out, st)
	}
	return nil
}

func resourceSummary(rs []steps.ResourceStatus) string {
	if len(rs) == 0 {
		return "-"
	}
	missing := 0
	for _, r := range rs {
		if r.Live != "exists" {
			missing++
		}
	}
	if missing == 0 {
		return fmt.Sprintf("%d, all exist", len(rs))
	}
	return fmt.Sprintf("%d, %d missing or unknown (run `myappctl up`)", len(rs), missing)
}

func driftSummary(st steps.StageStatus) string {
	switch {
	case st.DriftError != "":
		return "unknown (see below)"
	case len(st.Drift) > 0:
		return fmt.Sprintf("%d change(s) pending: run `myappctl up`", len(st.Drift))
	case st.Status == "complete":
		return "none"
	}
	return "-"
}

func printStageDetail(out io.Writer, st steps.StageStatus) {
	if len(st.Resources) == 0 && len(st.Outputs) == 0 && len(st.Facts) == 0 && st.Error == "" && len(st.Drift) == 0 && st.DriftError == "" {
		return
	}
	fmt.Fprintf(out, "\n%s:\n", st.Name)
	if st.Error != "" {
		fmt.Fprintf(out, "  last error: %s\n", firstLine(st.Error))
	}
	if st.DriftError != "" {
		fmt.Fprintf(out, "  drift check failed: %s\n", firstLine(st.DriftError))
	}
	for _, c := range st.Drift {
		fmt.Fprintf(out, "  drift: %s\n", c)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, r := range st.Resources {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.Type, r.Name, r.ID, r.Live)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, k := range sortedKeys(st.Outputs) {
		fmt.Fprintf(tw, "  output\t%s\t%s\n", k, st.Outputs[k])
	}
	for _, k := range sortedKeys(st.Secrets) {
		fmt.Fprintf(tw, "  secret\t%s\t%s\n", k, st.Secrets[k])
	}
	for _, f := range st.Facts {
		fmt.Fprintf(tw, "  live\t%s\t%s\n", f.Name, f.Value)
	}
	tw.Flush()
}

// DestroyOptions controls confirmation.
type DestroyOptions struct {
	Yes         bool      // --yes
	Interactive bool      // stdin is a terminal
	In          io.Reader // where the answer is read
	Prompt      io.Writer // where the question is asked (stderr)
}

// Destroy asks for confirmation (unless --yes), removes everything and
// prints what it deleted and anything it could not.
func Destroy(ctx context.Context, s *Session, o DestroyOptions, format string, out io.Writer) error {
	if !o.Yes {
		if !o.Interactive {
			return errors.New("destroy deletes every resource of the stack: pass --yes to confirm when not running in a terminal")
		}
		fmt.Fprintf(o.Prompt, "This deletes every resource of stack %q in %s. Type the stack name to confirm: ", s.Cfg.Stack, s.Cfg.Region)
		answer, _ := bufio.NewReader(o.In).ReadString('\n')
		if strings.TrimSpace(answer) != s.Cfg.Stack {
			return errors.New("destroy cancelled: the answer did not match the stack name; nothing was deleted")
		}
	}
	live := s.watch(ctx, "destroy", reversed(s.Runner.Stages), true)
	rep, err := s.Runner.Destroy(ctx)
	if live.end(out) {
		printLeftovers(out, s, rep, err)
		return live.result(ctx, "destroy", err)
	}
	if format == OutputJSON {
		if jerr := writeJSON(out, rep); jerr != nil {
			return jerr
		}
		return err
	}
	fmt.Fprintf(out, "deleted %d resource(s)\n", len(rep.Deleted))
	for _, d := range rep.Deleted {
		fmt.Fprintf(out, "  - %s\n", d)
	}
	printLeftovers(out, s, rep, err)
	return err
}

// printLeftovers lists what destroy could not delete, or says the stack is
// gone.
func printLeftovers(out io.Writer, s *Session, rep steps.DestroyReport, err error) {
	if len(rep.Leftovers) > 0 {
		fmt.Fprintf(out, "could not delete %d resource(s):\n", len(rep.Leftovers))
		for _, l := range rep.Leftovers {
			fmt.Fprintf(out, "  ! %s %s (stage %s): %s\n", l.Type, l.ID, l.Stage, l.Reason)
		}
	} else if err == nil {
		fmt.Fprintf(out, "stack %s is gone\n", s.Cfg.Stack)
	}
}

func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
