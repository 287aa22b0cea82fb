package steps

import (
	"context"
	"fmt"
)

// Outputs of stage 6.
const (
	OutBackendTGARN = "backend_tg_arn"
	OutBackendLBARN = "backend_lb_arn"
	OutBackendLBDNS = "backend_lb_dns"
	OutAPIURL       = "api_url"
)

func backendLBStage() *Stage {
	return &Stage{
		Number: 6, Name: "backend-lb", Title: "backend target group and load balancer, backend on the database",
		Needs: []string{"vpc", "security", "backend", "rds"},
		Apply: applyBackendLB,
		// The load balancer provisions while the database is created.
		Early: func(ctx context.Context, r *Run) error {
			_, err := ensureTierFront(ctx, r, &backendTier, OutBackendLBSG, 3, 4)
			return err
		},
		EarlyNeeds: []string{"vpc", "security"},
		Live:       liveBackendLB,
		Kinds:      []*Kind{listenerKind, loadBalancerKind, targetGroupKind, parameterKind},
	}
}

// applyBackendLB builds the backend's target group, load balancer and
// listener, writes the backend's settings (the database, the carousel URL)
// to Parameter Store, and waits until every backend instance reports them
// applied and the stand-alone ones are healthy targets. No instance is
// replaced: the running services pick the settings up.
func applyBackendLB(ctx context.Context, r *Run) error {
	t := &backendTier
	if r.Output("rds", OutDBEndpoint) == "" {
		return fmt.Errorf("stage %s: stage rds has not written the database endpoint: run `myappctl step rds` first", r.Stage.Name)
	}
	want, err := backendSettings(ctx, r)
	if err != nil {
		return err
	}
	front, err := ensureTierFront(ctx, r, t, OutBackendLBSG, 3, 4)
	if err != nil {
		return err
	}
	if err := applyTierSettings(ctx, r, t, want, front.tg); err != nil {
		return err
	}
	return setOutputs(r, map[string]string{OutBackendTGARN: front.tg, OutBackendLBARN: front.lb, OutBackendLBDNS: front.dns,
		OutAPIURL: fmt.Sprintf("http://%s:%d", front.dns, t.Port)})
}

// applyTierSettings writes the tier's settings, registers its stand-alone
// instances in tgARN, and waits until every instance of the tier (the
// stand-alone ones and its group's) reports the settings applied and the
// stand-alone ones are healthy targets.
func applyTierSettings(ctx context.Context, r *Run, t *appTier, want map[string]string, tgARN string) error {
	version, err := ensureTierSettings(ctx, r, t, want)
	if err != nil {
		return err
	}
	instances, err := tierInstances(ctx, r, t)
	if err != nil {
		return err
	}
	members := standAloneIDs(r, t)
	if len(members) > 0 {
		if err := ensureTargets(ctx, r, tgARN, t.Port, members); err != nil {
			return err
		}
	}
	if err := waitReports(ctx, r, t, instances, reportWant{settingsVersion: version, what: "to apply settings " + version}); err != nil {
		return err
	}
	return waitHealthyTargets(ctx, r, tgARN, members)
}

func liveBackendLB(ctx context.Context, r *Run) ([]Fact, error) {
	return []Fact{
		settingsFact(ctx, r, &backendTier),
		targetHealthFact(ctx, r.Env, "backend-tg", r.Output(r.Stage.Name, OutBackendTGARN)),
		{Name: "API URL", Value: r.Output(r.Stage.Name, OutAPIURL)},
	}, nil
}
