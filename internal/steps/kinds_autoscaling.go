package steps

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/myappctl/myappctl/internal/awsx"
)

// statusDeleteInProgress is the Status of a group being deleted. Such a
// group counts as gone: it cannot be used or adopted, and its deletion
// needs no help.
const statusDeleteInProgress = "Delete in progress"

// groupKind is an Auto Scaling group, identified by its name.
var groupKind = registerKind(&Kind{
	Type: "autoscaling:group",
	Lookup: func(ctx context.Context, e *Env, name string) (awsx.Tags, bool, error) {
		g, err := describeGroup(ctx, e, name)
		if g == nil || err != nil || aws.ToString(g.Status) == statusDeleteInProgress {
			return nil, false, err
		}
		return awsx.AutoScalingTagMap(g.Tags), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		var filters []astypes.Filter
		for _, f := range tagFilters(tags) { // tag:K=V, in a stable order
			filters = append(filters, astypes.Filter{Name: f.Name, Values: f.Values})
		}
		var names []string
		p := autoscaling.NewDescribeAutoScalingGroupsPaginator(e.AWS.Autoscaling, &autoscaling.DescribeAutoScalingGroupsInput{Filters: filters})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, g := range out.AutoScalingGroups {
				if aws.ToString(g.Status) != statusDeleteInProgress {
					names = append(names, aws.ToString(g.AutoScalingGroupName))
				}
			}
		}
		return names, nil
	},
	Delete: deleteGroup,
})

// describeGroup returns a group (nil when there is none by that name).
func describeGroup(ctx context.Context, e *Env, name string) (*astypes.AutoScalingGroup, error) {
	out, err := e.AWS.Autoscaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil || len(out.AutoScalingGroups) == 0 {
		return nil, err
	}
	return &out.AutoScalingGroups[0], nil
}

// deleteGroup force-deletes a group, which terminates its instances, and
// waits until it is gone, so what they used (subnets, security groups,
// target groups) can go next. A group already being deleted is waited on.
func deleteGroup(ctx context.Context, e *Env, name string) error {
	g, err := describeGroup(ctx, e, name)
	switch {
	case err != nil:
		return err
	case g == nil:
		return &smithy.GenericAPIError{Code: "AutoScalingGroup.NotFound", Message: "Auto Scaling group " + name + " does not exist"}
	case aws.ToString(g.Status) != statusDeleteInProgress:
		_, err := e.AWS.Autoscaling.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), ForceDelete: aws.Bool(true)})
		if err != nil {
			return err
		}
	}
	return waitGroupGone(ctx, e, name)
}

func waitGroupGone(ctx context.Context, e *Env, name string) error {
	spec := awsx.WaitSpec{What: "Auto Scaling group " + name + " and its instances to be deleted", Interval: e.Cfg.Wait.PollInterval,
		Timeout: e.Cfg.Wait.Timeout, Log: e.Log, ProgressEvery: 30 * time.Second,
		Hint: "check it with `aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names " + name + "`"}
	return awsx.Poll(ctx, spec, func(ctx context.Context) (bool, string, error) {
		g, err := describeGroup(ctx, e, name)
		if err != nil || g == nil {
			return err == nil, "", err
		}
		return false, aws.ToString(g.Status), nil
	})
}

// launchTemplateKind is a launch template, identified by its id.
var launchTemplateKind = registerKind(&Kind{
	Type: "ec2:launch-template",
	// Exists asks for the template's versions as stage autoscaling does
	// (the same read, so a run's cache answers both).
	Exists: func(ctx context.Context, e *Env, id string) (bool, error) {
		_, err := e.AWS.EC2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id)})
		return notFoundIsAbsent(err)
	},
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		out, err := e.AWS.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{id}})
		if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.LaunchTemplates) == 0 {
			return nil, false, err
		}
		return awsx.EC2TagMap(out.LaunchTemplates[0].Tags), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		var ids []string
		p := ec2.NewDescribeLaunchTemplatesPaginator(e.AWS.EC2, &ec2.DescribeLaunchTemplatesInput{Filters: tagFilters(tags)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, lt := range out.LaunchTemplates {
				ids = append(ids, aws.ToString(lt.LaunchTemplateId))
			}
		}
		return ids, nil
	},
	// Delete removes every version. Groups go first (stage autoscaling lists
	// them before templates), so no group is left launching from it.
	Delete: func(ctx context.Context, e *Env, id string) error {
		_, err := e.AWS.EC2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(id)})
		return err
	},
})
