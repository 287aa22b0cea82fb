package steps

import (
	"context"
	"fmt"
)

// Stage 7 writes the API URL (OutAPIURL, as stage backend-lb does) to the
// frontend's settings in Parameter Store: the running frontends serve it
// within settings_refresh, and the stage waits until each reports it. No
// instance is replaced and no launch template changes.

func linkStage() *Stage {
	return &Stage{
		Number: 7, Name: "link", Title: "point the frontend at the backend",
		Needs: []string{"frontend-lb", "backend-lb"},
		Apply: applyLink,
		Live:  liveLink,
		Kinds: []*Kind{parameterKind},
	}
}

// applyLink writes APIURL=http://<backend-lb-dns>:8090 and waits until
// every frontend instance serves it, frontend-tg keeping its healthy
// targets throughout.
func applyLink(ctx context.Context, r *Run) error {
	dns := r.Output("backend-lb", OutBackendLBDNS)
	if dns == "" {
		return fmt.Errorf("stage link: stage backend-lb has not written the backend load balancer's DNS name: run `myappctl step backend-lb` first")
	}
	apiURL := fmt.Sprintf("http://%s:%d", dns, backendTier.Port)
	if err := applyTierSettings(ctx, r, &frontendTier, frontendSettings(apiURL), r.Output("frontend-lb", OutFrontendTGARN)); err != nil {
		return err
	}
	return r.SetOutput(OutAPIURL, apiURL)
}

func liveLink(ctx context.Context, r *Run) ([]Fact, error) {
	return []Fact{{Name: "API URL", Value: r.Output(r.Stage.Name, OutAPIURL)}, settingsFact(ctx, r, &frontendTier)}, nil
}
