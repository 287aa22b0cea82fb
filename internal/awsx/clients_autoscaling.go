package awsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// AutoScalingAPI is the part of EC2 Auto Scaling myappctl calls (stage 8).
// The SDK client and fakeaws.AutoScaling both satisfy it; it also satisfies
// the SDK's DescribeAutoScalingGroups paginator client.
type AutoScalingAPI interface {
	CreateAutoScalingGroup(context.Context, *autoscaling.CreateAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.CreateAutoScalingGroupOutput, error)
	DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	UpdateAutoScalingGroup(context.Context, *autoscaling.UpdateAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error)
	DeleteAutoScalingGroup(context.Context, *autoscaling.DeleteAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.DeleteAutoScalingGroupOutput, error)
	AttachLoadBalancerTargetGroups(context.Context, *autoscaling.AttachLoadBalancerTargetGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.AttachLoadBalancerTargetGroupsOutput, error)
	CreateOrUpdateTags(context.Context, *autoscaling.CreateOrUpdateTagsInput, ...func(*autoscaling.Options)) (*autoscaling.CreateOrUpdateTagsOutput, error)

	StartInstanceRefresh(context.Context, *autoscaling.StartInstanceRefreshInput, ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error)
	DescribeInstanceRefreshes(context.Context, *autoscaling.DescribeInstanceRefreshesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error)
}

// ResourceTypeAutoScalingGroup is the resource type of Auto Scaling group tags.
const ResourceTypeAutoScalingGroup = "auto-scaling-group"

// AutoScaling converts to tags of the group named group, in a stable order,
// each propagated to the instances the group launches.
func (t Tags) AutoScaling(group string) []astypes.Tag {
	ec2Tags := t.EC2()
	out := make([]astypes.Tag, 0, len(ec2Tags))
	for _, et := range ec2Tags {
		out = append(out, astypes.Tag{Key: et.Key, Value: et.Value, ResourceId: aws.String(group),
			ResourceType: aws.String(ResourceTypeAutoScalingGroup), PropagateAtLaunch: aws.Bool(true)})
	}
	return out
}

// AutoScalingTagMap reads a group's tags into a map.
func AutoScalingTagMap(tags []astypes.TagDescription) Tags {
	m := Tags{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
