package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Stage is one of the nine ordered stages.
type Stage struct {
	Number int
	Name   string
	Title  string
	// Needs are the stages whose outputs this one reads.
	Needs []string
	// Apply converges the stage; with Run.DryRun it only records changes.
	Apply func(ctx context.Context, r *Run) error
	// Early, when set, is the part of Apply that needs only EarlyNeeds: up
	// starts it as soon as those are done (e.g. a load balancer provisions
	// while the database it will front is still being created), then runs
	// Apply once all Needs are. Apply must do the same work itself (finding
	// what Early made), so `step` and `plan` need only Apply.
	Early      func(ctx context.Context, r *Run) error
	EarlyNeeds []string
	// Kinds are the resource kinds this stage owns, in deletion order.
	Kinds []*Kind
	// Live adds live facts for status (health, capacity, URLs); optional.
	Live func(ctx context.Context, r *Run) ([]Fact, error)
	// BeforeDestroy runs before the stage's resources are deleted (e.g.
	// revoking security-group cross-references); optional.
	BeforeDestroy func(ctx context.Context, r *Run) error
	// Named lists resources the stage names deterministically (buckets:
	// their global names carry the stack and the account), so destroy
	// checks them even without a state file and reports one that exists
	// without the stack's tag, which an interrupted run may have created
	// before tagging it, instead of passing it by. Optional.
	Named func(ctx context.Context, r *Run) ([]NamedResource, error)
}

// NamedResource is a resource destroy looks up by its deterministic id.
type NamedResource struct {
	Kind *Kind
	ID   string
	// Fix is the command that tags it for the stack, shown when it lacks the tag.
	Fix string
}

// Fact is one live observation shown by status.
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Implemented reports whether the stage can run.
func (s *Stage) Implemented() bool { return s.Apply != nil }

// ErrNotImplemented is returned for stages that are not built yet.
type ErrNotImplemented struct{ Stage string }

func (e *ErrNotImplemented) Error() string {
	return fmt.Sprintf("stage %s is not implemented yet: nothing was changed for it", e.Stage)
}

// Registry is the ordered list of stages.
type Registry []*Stage

// Stages returns the nine stages in order, with their dependencies.
func Stages() Registry {
	return Registry{
		vpcStage(),
		securityStage(),
		frontendLBStage(),
		backendStage(),
		rdsStage(),
		backendLBStage(),
		linkStage(),
		autoscalingStage(),
		s3SyncStage(),
	}
}

// Lookup finds a stage by name or number ("vpc", "1").
func (reg Registry) Lookup(nameOrNumber string) (*Stage, error) {
	if n, err := strconv.Atoi(nameOrNumber); err == nil {
		for _, s := range reg {
			if s.Number == n {
				return s, nil
			}
		}
	}
	for _, s := range reg {
		if s.Name == nameOrNumber {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown stage %q: use one of %s (or 1-%d)", nameOrNumber, strings.Join(reg.Names(), ", "), len(reg))
}

// Names lists the stage names in order.
func (reg Registry) Names() []string {
	out := make([]string, len(reg))
	for i, s := range reg {
		out[i] = s.Name
	}
	return out
}

// Closure returns the stage and everything it needs, transitively, in order.
func (reg Registry) Closure(target *Stage) Registry {
	want := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if want[name] {
			return
		}
		want[name] = true
		s, _ := reg.Lookup(name)
		for _, n := range s.Needs {
			visit(n)
		}
	}
	visit(target.Name)
	var out Registry
	for _, s := range reg {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	return out
}
