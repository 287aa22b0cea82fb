package awsx

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SDK service ids.
const (
	serviceAutoScaling = "Auto Scaling"
	serviceRDS         = "RDS"
	serviceSSM         = "SSM"
)

func init() {
	// Auto Scaling groups: the stack's, by the stack tag filter; answered
	// by names and by tag filters that include the stack's.
	answers(serviceAutoScaling, "DescribeAutoScalingGroups", func(src setSource, input any) (any, bool) {
		in := input.(*autoscaling.DescribeAutoScalingGroupsInput)
		if !onlyFields(in, "AutoScalingGroupNames", "Filters", "MaxRecords") {
			return nil, false
		}
		var specs []filterSpec
		for _, f := range in.Filters {
			specs = append(specs, filterSpec{aws.ToString(f.Name), f.Values})
		}
		if len(in.AutoScalingGroupNames) == 0 && !hasStackFilter(specs, src.stack()) {
			return nil, false
		}
		v, ok := src.get(serviceAutoScaling, "groups", func(ctx context.Context, c *Clients, src setSource) (any, error) {
			p := autoscaling.NewDescribeAutoScalingGroupsPaginator(c.Autoscaling, &autoscaling.DescribeAutoScalingGroupsInput{
				Filters: []astypes.Filter{{Name: aws.String("tag:" + TagStack), Values: []string{src.stack()}}}})
			return collect(ctx, p.HasMorePages, p.NextPage, func(o *autoscaling.DescribeAutoScalingGroupsOutput) []astypes.AutoScalingGroup {
				return o.AutoScalingGroups
			})
		})
		if !ok {
			return nil, false
		}
		items := v.([]astypes.AutoScalingGroup)
		if len(in.AutoScalingGroupNames) > 0 {
			if items, ok = pick(items, func(g astypes.AutoScalingGroup) string { return aws.ToString(g.AutoScalingGroupName) }, in.AutoScalingGroupNames); !ok {
				return nil, false
			}
		}
		var out []astypes.AutoScalingGroup
		for _, g := range items {
			match, supported := matchFilters(specs, AutoScalingTagMap(g.Tags), nil)
			if !supported {
				return nil, false
			}
			if match {
				out = append(out, g)
			}
		}
		return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: copyItems(out)}, true
	})

	// DB instances: RDS cannot filter by tag, so the set is every instance
	// (with its tags, TagList); answered by identifier, or all of them.
	answers(serviceRDS, "DescribeDBInstances", func(src setSource, input any) (any, bool) {
		in := input.(*rds.DescribeDBInstancesInput)
		if !onlyFields(in, "DBInstanceIdentifier", "MaxRecords") {
			return nil, false
		}
		v, ok := src.get(serviceRDS, "db-instances", loadDBInstances)
		if !ok {
			return nil, false
		}
		items := v.([]rdstypes.DBInstance)
		if id := in.DBInstanceIdentifier; id != nil {
			if items, ok = pick(items, func(db rdstypes.DBInstance) string { return strings.ToLower(aws.ToString(db.DBInstanceIdentifier)) },
				[]string{strings.ToLower(*id)}); !ok {
				return nil, false
			}
		}
		return &rds.DescribeDBInstancesOutput{DBInstances: copyItems(items)}, true
	})

	// A DB subnet group in use: every DB instance carries its group (name
	// and subnets) in DescribeDBInstances, so a group an instance uses is
	// answered from the instances' set; any other is asked of AWS.
	answers(serviceRDS, "DescribeDBSubnetGroups", func(src setSource, input any) (any, bool) {
		in := input.(*rds.DescribeDBSubnetGroupsInput)
		if in.DBSubnetGroupName == nil || !onlyFields(in, "DBSubnetGroupName") {
			return nil, false
		}
		v, ok := src.get(serviceRDS, "db-instances", loadDBInstances)
		if !ok {
			return nil, false
		}
		for _, db := range v.([]rdstypes.DBInstance) {
			if g := db.DBSubnetGroup; g != nil && aws.ToString(g.DBSubnetGroupName) == *in.DBSubnetGroupName && len(g.Subnets) > 0 {
				return &rds.DescribeDBSubnetGroupsOutput{DBSubnetGroups: copyItems([]rdstypes.DBSubnetGroup{*g})}, true
			}
		}
		return nil, false
	})

	// SSM parameters: the stack's, by the stack tag filter (metadata only);
	// answered by filters that include the stack tag (the others: Name
	// Equals), or by names that are all in the set.
	answers(serviceSSM, "DescribeParameters", func(src setSource, input any) (any, bool) {
		in := input.(*ssm.DescribeParametersInput)
		if !onlyFields(in, "ParameterFilters", "MaxResults") {
			return nil, false
		}
		stackFilter, names, ok := parameterQuery(in.ParameterFilters, src.stack())
		if !ok || !stackFilter && len(names) == 0 {
			return nil, false
		}
		v, ok := src.get(serviceSSM, "parameters", func(ctx context.Context, c *Clients, src setSource) (any, error) {
			p := ssm.NewDescribeParametersPaginator(c.SSM, &ssm.DescribeParametersInput{MaxResults: aws.Int32(50),
				ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("tag:" + TagStack), Values: []string{src.stack()}}}})
			return collect(ctx, p.HasMorePages, p.NextPage, func(o *ssm.DescribeParametersOutput) []ssmtypes.ParameterMetadata { return o.Parameters })
		})
		if !ok {
			return nil, false
		}
		var out []ssmtypes.ParameterMetadata
		for _, p := range v.([]ssmtypes.ParameterMetadata) {
			if names == nil || slices.Contains(names, aws.ToString(p.Name)) {
				out = append(out, p)
			}
		}
		if !stackFilter && len(out) != len(names) {
			return nil, false // a name without the stack tag, or none: AWS says which
		}
		return &ssm.DescribeParametersOutput{Parameters: copyItems(out)}, true
	})
}

// loadDBInstances reads every DB instance of the region (RDS cannot filter
// by tag), with its tags and its subnet group.
func loadDBInstances(ctx context.Context, c *Clients, _ setSource) (any, error) {
	p := rds.NewDescribeDBInstancesPaginator(c.RDS, &rds.DescribeDBInstancesInput{})
	return collect(ctx, p.HasMorePages, p.NextPage, func(o *rds.DescribeDBInstancesOutput) []rdstypes.DBInstance { return o.DBInstances })
}

// parameterQuery reads DescribeParameters filters the set can answer: the
// stack tag (Equals this stack) and Name Equals; names is nil when no Name
// filter narrows the answer. ok is false for any other filter.
func parameterQuery(filters []ssmtypes.ParameterStringFilter, stack string) (stackFilter bool, names []string, ok bool) {
	for _, f := range filters {
		equals := f.Option == nil || aws.ToString(f.Option) == "Equals"
		switch key := aws.ToString(f.Key); {
		case key == "tag:"+TagStack && equals && len(f.Values) == 1 && f.Values[0] == stack:
			stackFilter = true
		case key == "Name" && equals && len(f.Values) > 0:
			if names == nil {
				names = slices.Clone(f.Values)
			} else { // two Name filters: both apply
				names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(f.Values, n) })
			}
		default:
			return false, nil, false
		}
	}
	return stackFilter, names, true
}
