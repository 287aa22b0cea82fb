package steps

import (
	"context"
	"fmt"
	"strings"
)

// Outputs of stage 3.
const (
	OutFrontendAMI   = "frontend_ami_id"
	OutFrontend2ID   = "frontend_2_id"
	OutFrontendTGARN = "frontend_tg_arn"
	OutFrontendLBARN = "frontend_lb_arn"
	OutFrontendLBDNS = "frontend_lb_dns"
	OutAppURL        = "app_url"
)

func frontendLBStage() *Stage {
	return &Stage{
		Number: 3, Name: "frontend-lb", Title: "frontend AMI, frontend-2, target group and load balancer",
		Needs: []string{"vpc", "security"},
		Apply: applyFrontendLB,
		Live:  liveFrontendLB,
		Kinds: []*Kind{listenerKind, loadBalancerKind, targetGroupKind, instanceKind, imageKind, snapshotKind},
	}
}

// applyFrontendLB bakes the frontend AMI, launches frontend-2 from it and
// builds the target group and load balancer with both instances as healthy
// targets. Once stage autoscaling retired the stand-alone instances, only
// the AMI (the launch template uses it), group and load balancer remain.
func applyFrontendLB(ctx context.Context, r *Run) error {
	t := &frontendTier
	retired := bootstrapRetired(r)
	frontend1 := r.Output("security", OutFrontend1ID)
	ami, err := ensureTierImage(ctx, r, t, frontend1)
	if err != nil {
		return err
	}
	var frontend2 string
	if !retired {
		if frontend2, err = ensureAMIInstance(ctx, r, t, ami, frontendSettings(linkedAPIURL(r))); err != nil {
			return err
		}
	}
	tg, err := ensureTargetGroup(ctx, r, targetGroupSpec{Key: "target-group", Name: r.Name("frontend-tg"),
		VPCID: r.Output("vpc", OutVPCID), HealthPath: t.HealthPath, Port: t.Port})
	if err != nil {
		return err
	}
	lb, dns, err := ensureLoadBalancer(ctx, r, loadBalancerSpec{Key: "load-balancer", Name: r.Name("frontend-lb"),
		SecurityGroup: r.Output("security", OutFrontendLBSG), Subnets: publicSubnets(r, 1, 2)})
	if err != nil {
		return err
	}
	if err := ensureListener(ctx, r, "listener", lb, t.Port, tg); err != nil {
		return err
	}
	outputs := map[string]string{OutFrontendAMI: ami, OutFrontendTGARN: tg, OutFrontendLBARN: lb, OutFrontendLBDNS: dns,
		OutAppURL: "http://" + dns}
	if retired {
		r.Logf("frontend-2 %s", retiredNote(r, t))
		return setOutputs(r, outputs)
	}
	outputs[OutFrontend2ID] = frontend2
	targets := []string{frontend1, frontend2}
	if err := ensureTargets(ctx, r, tg, t.Port, targets); err != nil {
		return err
	}
	if err := waitHealthyTargets(ctx, r, tg, targets); err != nil {
		return err
	}
	return setOutputs(r, outputs)
}

// publicSubnets returns public subnets by number (1-4).
func publicSubnets(r *Run, numbers ...int) []string {
	all := strings.Split(r.Output("vpc", OutPublicSubnets), ",")
	var out []string
	for _, n := range numbers {
		if n <= len(all) {
			out = append(out, all[n-1])
		}
	}
	return out
}

func setOutputs(r *Run, outputs map[string]string) error {
	for k, v := range outputs {
		if err := r.SetOutput(k, v); err != nil {
			return err
		}
	}
	return nil
}

func liveFrontendLB(ctx context.Context, r *Run) ([]Fact, error) {
	frontend2 := fmt.Sprintf("%s %s", r.Output(r.Stage.Name, OutFrontend2ID), instanceStateOf(ctx, r.Env, r.Output(r.Stage.Name, OutFrontend2ID)))
	if bootstrapRetired(r) {
		frontend2 = retiredNote(r, &frontendTier)
	}
	return []Fact{
		{Name: "frontend-2", Value: frontend2},
		targetHealthFact(ctx, r.Env, "frontend-tg", r.Output(r.Stage.Name, OutFrontendTGARN)),
		{Name: "app URL", Value: r.Output(r.Stage.Name, OutAppURL)},
	}, nil
}

// targetHealthFact is "healthy/total" of a target group, for status.
func targetHealthFact(ctx context.Context, e *Env, name, tgARN string) Fact {
	healthy, total, err := targetHealthSummary(ctx, e, tgARN)
	if err != nil {
		return Fact{Name: name, Value: "unknown: " + shortErr(err)}
	}
	return Fact{Name: name, Value: fmt.Sprintf("%d/%d targets healthy", healthy, total)}
}
