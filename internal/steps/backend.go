package steps

import (
	"context"
	"fmt"
)

// Outputs of stage 4.
const (
	OutBackend1ID = "backend_1_id"
	OutBackendAMI = "backend_ami_id"
	OutBackend2ID = "backend_2_id"
)

func backendStage() *Stage {
	return &Stage{
		Number: 4, Name: "backend", Title: "backend-1, backend AMI, backend-2",
		Needs: []string{"vpc", "security"},
		Apply: applyBackend,
		Live:  liveBackend,
		Kinds: []*Kind{instanceKind, imageKind, snapshotKind},
	}
}

// applyBackend launches backend-1 with the settings known now (before stage
// rds that is no database: the backend then runs on SQLite, and stage
// backend-lb gives it the database), bakes the AMI, launches backend-2.
func applyBackend(ctx context.Context, r *Run) error {
	t := &backendTier
	if bootstrapRetired(r) {
		ami, err := ensureTierImage(ctx, r, t, "")
		if err != nil {
			return err
		}
		r.Logf("backend-1 and backend-2 %s", retiredNote(r, t))
		return r.SetOutput(OutBackendAMI, ami)
	}
	settings, err := backendSettings(ctx, r)
	if err != nil {
		return err
	}
	backend1, err := ensureSourceInstance(ctx, r, t, settings)
	if err != nil {
		return err
	}
	ami, err := ensureTierImage(ctx, r, t, backend1)
	if err != nil {
		return err
	}
	backend2, err := ensureAMIInstance(ctx, r, t, ami, settings)
	if err != nil {
		return err
	}
	return setOutputs(r, map[string]string{OutBackend1ID: backend1, OutBackendAMI: ami, OutBackend2ID: backend2})
}

func liveBackend(ctx context.Context, r *Run) ([]Fact, error) {
	var facts []Fact
	for _, m := range backendTier.Members {
		id := r.Output(r.Stage.Name, m.Output)
		v := fmt.Sprintf("%s %s", id, instanceStateOf(ctx, r.Env, id))
		if bootstrapRetired(r) {
			v = retiredNote(r, &backendTier)
		}
		facts = append(facts, Fact{Name: m.Name, Value: v})
	}
	return facts, nil
}
