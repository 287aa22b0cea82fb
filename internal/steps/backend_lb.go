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
		Live:  liveBackendLB,
		Kinds: []*Kind{listenerKind, loadBalancerKind, targetGroupKind},
	}
}

// applyBackendLB builds the backend's target group, load balancer and
// listener, then runs both backend instances with the database settings
// (replacing those launched before the database existed, one at a time)
// and waits until they are healthy targets.
func applyBackendLB(ctx context.Context, r *Run) error {
	t := &backendTier
	settings, err := backendSettings(ctx, r)
	if err != nil {
		return err
	}
	if r.Output("rds", OutDBEndpoint) == "" {
		return fmt.Errorf("stage %s: stage rds has not written the database endpoint: run `myappctl step rds` first", r.Stage.Name)
	}
	tg, err := ensureTargetGroup(ctx, r, targetGroupSpec{Key: "target-group", Name: r.Name("backend-tg"),
		VPCID: r.Output("vpc", OutVPCID), HealthPath: t.HealthPath, Port: t.Port})
	if err != nil {
		return err
	}
	lb, dns, err := ensureLoadBalancer(ctx, r, loadBalancerSpec{Key: "load-balancer", Name: r.Name("backend-lb"),
		SecurityGroup: r.Output("security", OutBackendLBSG), Subnets: publicSubnets(r, 3, 4)})
	if err != nil {
		return err
	}
	if err := ensureListener(ctx, r, "listener", lb, t.Port, tg); err != nil {
		return err
	}
	if bootstrapRetired(r) {
		r.Logf("backend-1 and backend-2 %s, whose launch template carries these settings", retiredNote(r, t))
	} else if _, err := rollInstances(ctx, r, t, settings, tg); err != nil {
		return err
	}
	return setOutputs(r, map[string]string{OutBackendTGARN: tg, OutBackendLBARN: lb, OutBackendLBDNS: dns,
		OutAPIURL: fmt.Sprintf("http://%s:%d", dns, t.Port)})
}

func liveBackendLB(ctx context.Context, r *Run) ([]Fact, error) {
	return []Fact{
		targetHealthFact(ctx, r.Env, "backend-tg", r.Output(r.Stage.Name, OutBackendTGARN)),
		{Name: "API URL", Value: r.Output(r.Stage.Name, OutAPIURL)},
	}, nil
}
