package awsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// RDSAPI is the part of RDS myappctl calls (stage 5). The SDK client and
// fakeaws.RDS both satisfy it; it also satisfies the SDK waiters' and
// paginators' DescribeDBInstancesAPIClient.
type RDSAPI interface {
	CreateDBSubnetGroup(context.Context, *rds.CreateDBSubnetGroupInput, ...func(*rds.Options)) (*rds.CreateDBSubnetGroupOutput, error)
	DescribeDBSubnetGroups(context.Context, *rds.DescribeDBSubnetGroupsInput, ...func(*rds.Options)) (*rds.DescribeDBSubnetGroupsOutput, error)
	ModifyDBSubnetGroup(context.Context, *rds.ModifyDBSubnetGroupInput, ...func(*rds.Options)) (*rds.ModifyDBSubnetGroupOutput, error)
	DeleteDBSubnetGroup(context.Context, *rds.DeleteDBSubnetGroupInput, ...func(*rds.Options)) (*rds.DeleteDBSubnetGroupOutput, error)

	CreateDBInstance(context.Context, *rds.CreateDBInstanceInput, ...func(*rds.Options)) (*rds.CreateDBInstanceOutput, error)
	DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	ModifyDBInstance(context.Context, *rds.ModifyDBInstanceInput, ...func(*rds.Options)) (*rds.ModifyDBInstanceOutput, error)
	DeleteDBInstance(context.Context, *rds.DeleteDBInstanceInput, ...func(*rds.Options)) (*rds.DeleteDBInstanceOutput, error)

	ListTagsForResource(context.Context, *rds.ListTagsForResourceInput, ...func(*rds.Options)) (*rds.ListTagsForResourceOutput, error)
}

// RDS converts to RDS tags, in a stable order (Name, stack, step first).
func (t Tags) RDS() []rdstypes.Tag {
	ec2Tags := t.EC2()
	out := make([]rdstypes.Tag, 0, len(ec2Tags))
	for _, tag := range ec2Tags {
		out = append(out, rdstypes.Tag{Key: tag.Key, Value: tag.Value})
	}
	return out
}

// RDSTagMap reads RDS tags into a map.
func RDSTagMap(tags []rdstypes.Tag) Tags {
	m := Tags{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
