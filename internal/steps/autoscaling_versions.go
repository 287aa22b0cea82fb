package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// pruneTemplateVersions deletes the versions of the tier's launch template
// that are not the default and that no instance of its group runs: old
// versions of an earlier myappctl held the database password in their user
// data, and a history nobody launches from only adds to what can be read.
func pruneTemplateVersions(ctx context.Context, r *Run, s scaledTier) error {
	lt, group := r.Output(r.Stage.Name, s.templateOutput), r.Output(r.Stage.Name, s.groupOutput)
	if lt == "" || isPlanned(lt) || isPlanned(group) {
		return nil
	}
	versions, err := templateVersions(ctx, r, lt)
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "describe versions of", Resource: launchTemplateKind.Type + " " + r.Name(s.template), Err: err}
	}
	inUse := map[string]bool{}
	if g, err := describeGroup(ctx, r.Env, group); err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: groupKind.Type + " " + group, Err: err}
	} else if g != nil {
		for _, in := range g.Instances {
			if in.LaunchTemplate != nil {
				inUse[aws.ToString(in.LaunchTemplate.Version)] = true
			}
		}
	}
	var old []string
	for _, v := range versions {
		n := strconv.FormatInt(aws.ToInt64(v.VersionNumber), 10)
		if !aws.ToBool(v.DefaultVersion) && !inUse[n] {
			old = append(old, n)
		}
	}
	if len(old) == 0 {
		return nil
	}
	slices.Sort(old)
	return r.change("modify", launchTemplateKind.Type, r.Name(s.template), fmt.Sprintf("delete old versions %v (neither the default nor in use)", old), func() error {
		res, err := r.AWS.EC2.DeleteLaunchTemplateVersions(ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: old})
		if err != nil {
			return err
		}
		if len(res.UnsuccessfullyDeletedLaunchTemplateVersions) > 0 {
			v := res.UnsuccessfullyDeletedLaunchTemplateVersions[0]
			msg := ""
			if v.ResponseError != nil {
				msg = string(v.ResponseError.Code) + ": " + aws.ToString(v.ResponseError.Message)
			}
			return fmt.Errorf("version %d was not deleted: %s", aws.ToInt64(v.VersionNumber), msg)
		}
		return nil
	})
}

// templateVersions lists every version of a launch template: one read that
// the drift check, the pruning and the AMI pruning share.
func templateVersions(ctx context.Context, r *Run, id string) ([]ec2types.LaunchTemplateVersion, error) {
	var out []ec2types.LaunchTemplateVersion
	pages := ec2.NewDescribeLaunchTemplateVersionsPaginator(r.AWS.EC2, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.LaunchTemplateVersions...)
	}
	return out, nil
}

// defaultAndLatest picks a template's default and latest versions.
func defaultAndLatest(versions []ec2types.LaunchTemplateVersion) (def, latest ec2types.LaunchTemplateVersion, ok bool) {
	for _, v := range versions {
		if aws.ToBool(v.DefaultVersion) {
			def, ok = v, true
		}
		if aws.ToInt64(v.VersionNumber) > aws.ToInt64(latest.VersionNumber) {
			latest = v
		}
	}
	return def, latest, ok
}

// groupInstanceFacts are, for status, the reports of the group's instances.
func groupInstanceFacts(ctx context.Context, r *Run, s scaledTier) []Fact {
	group := r.Output(r.Stage.Name, s.groupOutput)
	if group == "" {
		return nil
	}
	g, err := describeGroup(ctx, r.Env, group)
	if err != nil || g == nil {
		return nil
	}
	byID := map[string]astypes.Instance{}
	for _, in := range g.Instances {
		byID[aws.ToString(in.InstanceId)] = in
	}
	reports, err := currentReports(ctx, r.Env, s.tier, slices.Sorted(maps.Keys(byID)))
	if err != nil {
		return []Fact{{Name: s.tier.Name + " reports", Value: "unknown: " + shortErr(err)}}
	}
	current := currentSettingsVersion(ctx, r, s.tier)
	var facts []Fact
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		rep, ok := reports[id]
		f := reportFact("  "+group, id, rep, ok, current, time.Now())
		f.Value = string(byID[id].LifecycleState) + " " + f.Value
		facts = append(facts, f)
	}
	return facts
}
