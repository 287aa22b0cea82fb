package steps

import (
	"context"
	"fmt"
)

// Stage 7 writes the API URL (OutAPIURL, as stage backend-lb does) that the
// frontend runs with: stage autoscaling's frontend launch template reads it.

func linkStage() *Stage {
	return &Stage{
		Number: 7, Name: "link", Title: "point the frontend at the backend",
		Needs: []string{"frontend-lb", "backend-lb"},
		Apply: applyLink,
		Live:  liveLink,
	}
}

// applyLink gives the frontend instances APIURL=http://<backend-lb-dns>:8090
// with rollInstances: each one whose settings differ is replaced from the
// frontend AMI, one at a time, so frontend-tg always keeps a healthy target.
// It re-asserts the backend's database settings first (a no-op once stage
// backend-lb ran), so the API the frontend points at is the linked one.
// Once stage autoscaling has retired the stand-alone instances, the groups'
// launch templates carry the settings instead and this only records the URL.
func applyLink(ctx context.Context, r *Run) error {
	dns := r.Output("backend-lb", OutBackendLBDNS)
	if dns == "" {
		return fmt.Errorf("stage link: stage backend-lb has not written the backend load balancer's DNS name: run `myappctl step backend-lb` first")
	}
	apiURL := fmt.Sprintf("http://%s:%d", dns, backendTier.Port)
	if bootstrapRetired(r) {
		r.Logf("the stand-alone instances are retired: frontend-asg and backend-asg run with these settings from their launch templates (stage autoscaling)")
		return r.SetOutput(OutAPIURL, apiURL)
	}
	if err := reassertBackend(ctx, r); err != nil {
		return err
	}
	if _, err := rollInstances(ctx, r, &frontendTier, frontendSettings(apiURL), r.Output("frontend-lb", OutFrontendTGARN)); err != nil {
		return err
	}
	return r.SetOutput(OutAPIURL, apiURL)
}

// reassertBackend runs the backend with its database settings (a no-op
// once stage backend-lb has). A plan from scratch skips it: stage
// backend-lb's plan already rolls the instances its stages would launch.
func reassertBackend(ctx context.Context, r *Run) error {
	if r.DryRun && isPlanned(r.Output("backend", OutBackend1ID)) {
		return nil
	}
	settings, err := backendSettings(ctx, r)
	if err != nil {
		return err
	}
	_, err = rollInstances(ctx, r, &backendTier, settings, r.Output("backend-lb", OutBackendTGARN))
	return err
}

// linkedAPIURL is the API URL the frontend runs with: the linked one once
// stage link ran, else the documented placeholder. Stages that launch
// frontend instances use it, so an instance recreated after linking needs
// no second replacement.
func linkedAPIURL(r *Run) string {
	if u := r.Output("link", OutAPIURL); u != "" {
		return u
	}
	return placeholderAPIURL
}

func liveLink(ctx context.Context, r *Run) ([]Fact, error) {
	apiURL := r.Output(r.Stage.Name, OutAPIURL)
	facts := []Fact{{Name: "API URL", Value: apiURL}}
	if bootstrapRetired(r) {
		return append(facts, Fact{Name: "frontend", Value: retiredNote(r, &frontendTier)}), nil
	}
	want := frontendSettings(apiURL).hash()
	linked, total := 0, 0
	for _, m := range frontendTier.Members {
		id := r.Output(m.Owner, m.Output)
		if id == "" {
			continue
		}
		in, err := describeInstance(ctx, r.Env, id)
		if err != nil || in == nil {
			continue
		}
		total++
		if configOf(*in) == want {
			linked++
		}
	}
	return append(facts, Fact{Name: "frontend", Value: fmt.Sprintf("%d/%d stand-alone instances run with this API URL", linked, total)}), nil
}
