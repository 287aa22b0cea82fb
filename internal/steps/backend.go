package steps

import (
	"context"
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

// applyBackend installs the backend's release on backend-1, bakes the AMI
// from it and launches backend-2 from the AMI. Until stage backend-lb
// writes the database settings the backend runs on SQLite; it picks them up
// live. A new release replaces the instances one at a time (in backend-tg
// once stage backend-lb made it).
func applyBackend(ctx context.Context, r *Run) error {
	t := &backendTier
	rel, err := wantedRelease(r, t)
	if err != nil {
		return err
	}
	if bootstrapRetired(r) {
		ami, err := ensureTierImageOutputs(ctx, r, t, rel)
		if err != nil {
			return err
		}
		r.Logf("backend-1 and backend-2 %s", retiredNote(r, t))
		return pruneTierImages(ctx, r, t, ami)
	}
	if _, err := ensureSourceInstance(ctx, r, t, rel); err != nil {
		return err
	}
	ami, err := ensureTierImageOutputs(ctx, r, t, rel)
	if err != nil {
		return err
	}
	if _, err := ensureAMIInstance(ctx, r, t, ami, rel); err != nil {
		return err
	}
	ids, err := rollInstances(ctx, r, t, rel, r.Output("backend-lb", OutBackendTGARN))
	if err != nil {
		return err
	}
	if err := setOutputs(r, map[string]string{OutBackend1ID: ids[0], OutBackend2ID: ids[1]}); err != nil {
		return err
	}
	return pruneTierImages(ctx, r, t, ami)
}

func liveBackend(ctx context.Context, r *Run) ([]Fact, error) {
	facts := []Fact{{Name: "release", Value: shortRelease(r.Output(r.Stage.Name, OutBackendRelease))}}
	return append(facts, tierInstanceFacts(ctx, r, &backendTier, r.Stage.Name)...), nil
}
