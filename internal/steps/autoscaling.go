package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/myappctl/myappctl/internal/settings"
)

// Outputs of stage 8.
const (
	OutFrontendLaunchTemplate = "frontend_launch_template_id"
	OutBackendLaunchTemplate  = "backend_launch_template_id"
	OutFrontendASG            = "frontend_asg"
	OutBackendASG             = "backend_asg"
	// OutBootstrapRetired is "true" once the stand-alone instances of stages
	// 2-4 are retired (see bootstrapRetired).
	OutBootstrapRetired = "bootstrap_retired"
)

// scaledTier is a tier served by a launch template and an Auto Scaling group.
type scaledTier struct {
	tier                        *appTier
	template, group             string // documented names
	subnets                     []int  // public subnet numbers
	tgStage, tgOutput           string // where the tier's target group is recorded
	templateOutput, groupOutput string
	// settings are the tier's runtime settings: the group's instances must
	// report them applied.
	settings func(ctx context.Context, r *Run) (map[string]string, error)
}

var scaledTiers = []scaledTier{
	{tier: &frontendTier, template: "frontend-launch-template", group: "frontend-asg", subnets: []int{1, 2},
		tgStage: "frontend-lb", tgOutput: OutFrontendTGARN, templateOutput: OutFrontendLaunchTemplate, groupOutput: OutFrontendASG,
		settings: func(_ context.Context, r *Run) (map[string]string, error) {
			u := r.Output("link", OutAPIURL)
			if u == "" {
				return nil, fmt.Errorf("stage autoscaling: stage link has not written the API URL: run `myappctl step link` first")
			}
			return frontendSettings(u), nil
		}},
	{tier: &backendTier, template: "backend-launch-template", group: "backend-asg", subnets: []int{3, 4},
		tgStage: "backend-lb", tgOutput: OutBackendTGARN, templateOutput: OutBackendLaunchTemplate, groupOutput: OutBackendASG,
		settings: backendSettings},
}

func autoscalingStage() *Stage {
	return &Stage{
		Number: 8, Name: "autoscaling", Title: "launch templates and auto scaling groups",
		Needs: []string{"link"},
		Apply: applyAutoscaling,
		Live:  liveAutoscaling,
		// Groups first: deleting one terminates its instances and waits until
		// they are gone. Then the templates they launched from.
		Kinds: []*Kind{groupKind, launchTemplateKind},
	}
}

// applyAutoscaling makes each tier's launch template and group (a changed
// template gets a new default version and the group an instance refresh),
// waits until the groups serve healthy targets, then retires the
// stand-alone instances unless autoscaling.keep_bootstrap_instances is set.
func applyAutoscaling(ctx context.Context, r *Run) error {
	refreshes := make([]string, len(scaledTiers))
	for i, s := range scaledTiers {
		lt, err := ensureLaunchTemplate(ctx, r, s)
		if err != nil {
			return err
		}
		group, err := ensureGroup(ctx, r, s, lt.id)
		if err != nil {
			return err
		}
		if refreshes[i], err = ensureRefresh(ctx, r, group, lt); err != nil {
			return err
		}
		if err := setOutputs(r, map[string]string{s.templateOutput: lt.id, s.groupOutput: group}); err != nil {
			return err
		}
	}
	for i, s := range scaledTiers { // the groups converge side by side; wait for each in turn
		group := r.Output(r.Stage.Name, s.groupOutput)
		if err := waitRefresh(ctx, r, group, refreshes[i]); err != nil {
			return err
		}
		if err := waitGroupServing(ctx, r, group, r.Output(s.tgStage, s.tgOutput)); err != nil {
			return err
		}
		if err := waitGroupReports(ctx, r, s); err != nil {
			return err
		}
	}
	if err := retireBootstrap(ctx, r); err != nil {
		return err
	}
	for _, s := range scaledTiers {
		if err := pruneTierImages(ctx, r, s.tier, r.Output(s.tier.AMIStage, s.tier.AMIOutput)); err != nil {
			return err
		}
		if err := pruneTemplateVersions(ctx, r, s); err != nil {
			return err
		}
	}
	return nil
}

// waitGroupReports waits until every instance of the tier (its group's and
// any stand-alone one) reports the tier's release and current settings.
func waitGroupReports(ctx context.Context, r *Run, s scaledTier) error {
	want, err := s.settings(ctx, r)
	if err != nil {
		return err
	}
	instances, err := tierInstances(ctx, r, s.tier)
	if err != nil {
		return err
	}
	version := settings.Version(want)
	rel := r.Output(s.tier.AMIStage, s.tier.ReleaseOutput)
	return waitReports(ctx, r, s.tier, instances, reportWant{release: rel, settingsVersion: version,
		what: fmt.Sprintf("to run release %s with settings %s", shortRelease(rel), version)})
}

// subnetIDs are the ids of the tier's public subnets.
func (s scaledTier) subnetIDs(r *Run) []string { return publicSubnets(r, s.subnets...) }

func liveAutoscaling(ctx context.Context, r *Run) ([]Fact, error) {
	var facts []Fact
	for _, s := range scaledTiers {
		facts = append(facts, groupFact(ctx, r, r.Output(r.Stage.Name, s.groupOutput)),
			targetHealthFact(ctx, r.Env, r.Name(s.tier.Name+"-tg"), r.Output(s.tgStage, s.tgOutput)))
		facts = append(facts, groupInstanceFacts(ctx, r, s)...)
	}
	keep, retired := r.Cfg.Autoscaling.KeepBootstrapInstances, r.Output(r.Stage.Name, OutBootstrapRetired) == "true"
	standAlone := "retired: the groups serve"
	switch {
	case keep && retired:
		standAlone = "retired, but keep_bootstrap_instances is now set: `myappctl up` launches them again"
	case keep:
		standAlone = "kept beside the groups (autoscaling.keep_bootstrap_instances)"
	case !retired:
		standAlone = "kept: autoscaling.desired is 0, so the groups serve nothing"
	}
	return append(facts, Fact{Name: "stand-alone instances", Value: standAlone},
		Fact{Name: "app URL", Value: r.Output("frontend-lb", OutAppURL)}, Fact{Name: "API URL", Value: r.Output("link", OutAPIURL)}), nil
}

// groupFact is a group's capacity for status: desired, in service, bounds,
// and a refresh in progress.
func groupFact(ctx context.Context, r *Run, name string) Fact {
	if name == "" {
		return Fact{Name: "group", Value: "not created"}
	}
	g, err := describeGroup(ctx, r.Env, name)
	switch {
	case err != nil:
		return Fact{Name: name, Value: "unknown: " + shortErr(err)}
	case g == nil:
		return Fact{Name: name, Value: "missing: run `myappctl up` to recreate it"}
	}
	inService := 0
	for _, in := range g.Instances {
		if in.LifecycleState == astypes.LifecycleStateInService {
			inService++
		}
	}
	v := fmt.Sprintf("desired %d, %d in service (min %d, max %d)", aws.ToInt32(g.DesiredCapacity), inService, aws.ToInt32(g.MinSize), aws.ToInt32(g.MaxSize))
	if st := aws.ToString(g.Status); st != "" {
		v += "; " + st
	}
	// A refresh shows as instances of several template versions side by
	// side; only then is it asked about (emulators may lack the call).
	versions := map[string]bool{}
	for _, in := range g.Instances {
		if in.LaunchTemplate != nil {
			versions[aws.ToString(in.LaunchTemplate.Version)] = true
		}
	}
	if len(versions) < 2 {
		return Fact{Name: name, Value: v}
	}
	if ref, err := currentRefresh(ctx, r, name); err == nil && ref != nil && !refreshEnded(ref.Status) {
		v += fmt.Sprintf("; instance refresh %s, %d%% done", strings.ToLower(string(ref.Status)), aws.ToInt32(ref.PercentageComplete))
	}
	return Fact{Name: name, Value: v}
}
