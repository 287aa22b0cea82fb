package steps

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"
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

// tierFront is a tier's target group and load balancer.
type tierFront struct {
	tg, lb, dns string
}

// ensureTierFront makes the tier's target group, internet-facing load
// balancer (waiting until it is active) and listener.
func ensureTierFront(ctx context.Context, r *Run, t *appTier, lbSGOutput string, subnets ...int) (tierFront, error) {
	tg, err := ensureTargetGroup(ctx, r, targetGroupSpec{Key: "target-group", Name: r.Name(t.Name + "-tg"),
		VPCID: r.Output("vpc", OutVPCID), HealthPath: t.HealthPath, Port: t.Port})
	if err != nil {
		return tierFront{}, err
	}
	lb, dns, err := ensureLoadBalancer(ctx, r, loadBalancerSpec{Key: "load-balancer", Name: r.Name(t.Name + "-lb"),
		SecurityGroup: r.Output("security", lbSGOutput), Subnets: publicSubnets(r, subnets...)})
	if err != nil {
		return tierFront{}, err
	}
	return tierFront{tg: tg, lb: lb, dns: dns}, ensureListener(ctx, r, "listener", lb, t.Port, tg)
}

// ensureTierImageOutputs bakes (or finds) the tier's AMI of rel and records
// it and its release as the stage's outputs.
func ensureTierImageOutputs(ctx context.Context, r *Run, t *appTier, rel release) (string, error) {
	ami, err := ensureTierImage(ctx, r, t, rel)
	if err != nil {
		return "", err
	}
	return ami, setOutputs(r, map[string]string{t.AMIOutput: ami, t.ReleaseOutput: rel.sha})
}

// applyFrontendLB builds the target group and load balancer while the
// frontend AMI bakes, launches frontend-2 from the AMI, and waits until
// both stand-alone instances run the release as healthy targets. Once
// stage autoscaling retired them, only the AMI (the launch template uses
// it), group and load balancer remain.
func applyFrontendLB(ctx context.Context, r *Run) error {
	t := &frontendTier
	rel, err := wantedRelease(r, t)
	if err != nil {
		return err
	}
	var front tierFront
	var ami string
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { front, err = ensureTierFront(gctx, r, t, OutFrontendLBSG, 1, 2); return err })
	g.Go(func() (err error) { ami, err = ensureTierImageOutputs(gctx, r, t, rel); return err })
	if err := g.Wait(); err != nil {
		return err
	}
	outputs := map[string]string{OutFrontendTGARN: front.tg, OutFrontendLBARN: front.lb, OutFrontendLBDNS: front.dns, OutAppURL: "http://" + front.dns}
	if bootstrapRetired(r) {
		r.Logf("frontend-2 %s", retiredNote(r, t))
	} else {
		if _, err := ensureAMIInstance(ctx, r, t, ami, rel); err != nil {
			return err
		}
		ids, err := rollInstances(ctx, r, t, rel, front.tg)
		if err != nil {
			return err
		}
		outputs[OutFrontend2ID] = ids[1]
	}
	if err := setOutputs(r, outputs); err != nil {
		return err
	}
	return pruneTierImages(ctx, r, t, ami)
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
	facts := []Fact{{Name: "release", Value: shortRelease(r.Output(r.Stage.Name, OutFrontendRelease))}}
	return append(append(facts, tierInstanceFacts(ctx, r, &frontendTier, r.Stage.Name)...),
		targetHealthFact(ctx, r.Env, "frontend-tg", r.Output(r.Stage.Name, OutFrontendTGARN)),
		Fact{Name: "app URL", Value: r.Output(r.Stage.Name, OutAppURL)}), nil
}

// targetHealthFact is "healthy/total" of a target group, for status.
func targetHealthFact(ctx context.Context, e *Env, name, tgARN string) Fact {
	healthy, total, err := targetHealthSummary(ctx, e, tgARN)
	if err != nil {
		return Fact{Name: name, Value: "unknown: " + shortErr(err)}
	}
	return Fact{Name: name, Value: fmt.Sprintf("%d/%d targets healthy", healthy, total)}
}
