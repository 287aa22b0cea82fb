package fakeaws

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// RDS is the fake RDS service: DB subnet groups and DB instances. Subnets
// and security groups are checked against the EC2 fake; a DB instance keeps
// its subnets and security groups in use (EC2 deletes of them fail with
// DependencyViolation) until it is gone. Instances move through their
// statuses as they are described, so waits are fast but real.
type RDS struct {
	awsx.RDSAPI // nil: calls nobody implemented panic
	*Core

	Region string
	// How many describes an instance shows each transitional status for:
	// creating, then backing-up, before it is available; modifying (or
	// resetting-master-credentials) after ModifyDBInstance; deleting before
	// it is gone. Tests may change them before creating instances.
	CreatingDescribes, BackingUpDescribes, ModifyingDescribes, DeletingDescribes int
	// CreatingTime, when set, is how long a new instance is creating, by
	// the clock instead of by describes (benchmarks scale AWS's times).
	CreatingTime time.Duration

	ec2       *EC2
	mu        sync.Mutex
	host      string // the account's random part of endpoint host names
	groups    map[string]*rdstypes.DBSubnetGroup
	instances map[string]*fakeDB
	snapshots map[string]string         // final snapshot id -> instance id
	tags      map[string][]rdstypes.Tag // by ARN
}

// fakeDB is one instance; the password is kept only to be compared.
type fakeDB struct {
	db       rdstypes.DBInstance
	password string
	left     int // describes left in the current transitional status
}

// NewRDS returns an empty fake RDS that checks subnets against ec2 and
// registers its instances as users of subnets and security groups there.
func NewRDS(core *Core, ec2 *EC2) *RDS {
	f := &RDS{
		Core: core, Region: ec2.Region, ec2: ec2,
		CreatingDescribes: 2, BackingUpDescribes: 1, ModifyingDescribes: 1, DeletingDescribes: 2,
		host:      strings.ToLower(newID("x")[2:14]),
		groups:    map[string]*rdstypes.DBSubnetGroup{},
		instances: map[string]*fakeDB{},
		snapshots: map[string]string{},
		tags:      map[string][]rdstypes.Tag{},
	}
	ec2.AddUsers(f.usersOf)
	return f
}

func (f *RDS) arn(kind, name string) string {
	return "arn:aws:rds:" + f.Region + ":" + Account + ":" + kind + ":" + name
}

// usersOf names the DB instance that still uses a subnet or security group.
// It runs under the EC2 lock.
func (f *RDS) usersOf(kind, id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, d := range f.instances {
		switch kind {
		case "subnet":
			for _, s := range d.db.DBSubnetGroup.Subnets {
				if aws.ToString(s.SubnetIdentifier) == id {
					return "network interface of DB instance " + name
				}
			}
		case "security-group":
			for _, g := range d.db.VpcSecurityGroups {
				if aws.ToString(g.VpcSecurityGroupId) == id {
					return "network interface of DB instance " + name
				}
			}
		}
	}
	return ""
}

// ---- DB subnet groups ----

// placeSubnets checks subnets against EC2 (call without the RDS lock): they
// exist, share one VPC and cover at least two AZs.
func (f *RDS) placeSubnets(ids []string) (vpc string, subnets []rdstypes.Subnet, err error) {
	zones := map[string]bool{}
	for _, id := range ids {
		zone, v, ok := f.ec2.SubnetZone(id)
		if !ok {
			return "", nil, APIError("InvalidSubnet", "Some input subnets in :[%s] are invalid.", strings.Join(ids, ", "))
		}
		if vpc != "" && v != vpc {
			return "", nil, APIError("InvalidSubnet", "The subnets of a DB subnet group must all be in one VPC (%s is in %s, not %s).", id, v, vpc)
		}
		vpc, zones[zone] = v, true
		subnets = append(subnets, rdstypes.Subnet{SubnetIdentifier: aws.String(id), SubnetStatus: aws.String("Active"),
			SubnetAvailabilityZone: &rdstypes.AvailabilityZone{Name: aws.String(zone)}})
	}
	if len(zones) < 2 {
		var covered []string
		for z := range zones {
			covered = append(covered, z)
		}
		return "", nil, APIError("DBSubnetGroupDoesNotCoverEnoughAZs",
			"The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: %s. Add subnets to cover at least 2 AZs.", strings.Join(covered, ", "))
	}
	return vpc, subnets, nil
}

func (f *RDS) CreateDBSubnetGroup(ctx context.Context, in *rds.CreateDBSubnetGroupInput, _ ...func(*rds.Options)) (*rds.CreateDBSubnetGroupOutput, error) {
	fault, err := f.begin(ctx, "CreateDBSubnetGroup")
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(aws.ToString(in.DBSubnetGroupName))
	switch {
	case name == "" || aws.ToString(in.DBSubnetGroupDescription) == "":
		return nil, APIError("MissingParameter", "DBSubnetGroupName and DBSubnetGroupDescription are required")
	case name == "default":
		return nil, APIError("InvalidParameterValue", "The name 'default' is reserved")
	}
	vpc, subnets, err := f.placeSubnets(in.SubnetIds)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.groups[name]; ok {
		return nil, APIError("DBSubnetGroupAlreadyExists", "The DB subnet group '%s' already exists.", name)
	}
	g := &rdstypes.DBSubnetGroup{DBSubnetGroupName: aws.String(name), DBSubnetGroupDescription: in.DBSubnetGroupDescription,
		VpcId: aws.String(vpc), Subnets: subnets, SubnetGroupStatus: aws.String("Complete"), DBSubnetGroupArn: aws.String(f.arn("subgrp", name))}
	f.groups[name] = g
	f.setTags(aws.ToString(g.DBSubnetGroupArn), append([]rdstypes.Tag{}, in.Tags...))
	return finish(&rds.CreateDBSubnetGroupOutput{DBSubnetGroup: copyGroup(g)}, nil, fault)
}

func copyGroup(g *rdstypes.DBSubnetGroup) *rdstypes.DBSubnetGroup {
	c := *g
	c.Subnets = append([]rdstypes.Subnet(nil), g.Subnets...)
	return &c
}

func (f *RDS) DescribeDBSubnetGroups(ctx context.Context, in *rds.DescribeDBSubnetGroupsInput, _ ...func(*rds.Options)) (*rds.DescribeDBSubnetGroupsOutput, error) {
	fault, err := f.begin(ctx, "DescribeDBSubnetGroups")
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 {
		return nil, APIError("InvalidParameterValue", "DescribeDBSubnetGroups does not support filters")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &rds.DescribeDBSubnetGroupsOutput{}
	if in.DBSubnetGroupName != nil {
		g, ok := f.groups[strings.ToLower(*in.DBSubnetGroupName)]
		if !ok {
			return nil, APIError("DBSubnetGroupNotFoundFault", "DBSubnetGroup '%s' not found.", *in.DBSubnetGroupName)
		}
		out.DBSubnetGroups = []rdstypes.DBSubnetGroup{*copyGroup(g)}
		return finish(out, nil, fault)
	}
	names, next, err := rdsPage(rdsSortedKeys(f.groups), in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		out.DBSubnetGroups = append(out.DBSubnetGroups, *copyGroup(f.groups[n]))
	}
	out.Marker = next
	return finish(out, nil, fault)
}

func (f *RDS) ModifyDBSubnetGroup(ctx context.Context, in *rds.ModifyDBSubnetGroupInput, _ ...func(*rds.Options)) (*rds.ModifyDBSubnetGroupOutput, error) {
	fault, err := f.begin(ctx, "ModifyDBSubnetGroup")
	if err != nil {
		return nil, err
	}
	vpc, subnets, err := f.placeSubnets(in.SubnetIds)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := strings.ToLower(aws.ToString(in.DBSubnetGroupName))
	g, ok := f.groups[name]
	if !ok {
		return nil, APIError("DBSubnetGroupNotFoundFault", "DBSubnetGroup '%s' not found.", name)
	}
	if vpc != aws.ToString(g.VpcId) {
		return nil, APIError("InvalidSubnet", "The new subnets are in %s, but DB subnet group %s is in %s.", vpc, name, aws.ToString(g.VpcId))
	}
	g.Subnets = subnets
	if in.DBSubnetGroupDescription != nil {
		g.DBSubnetGroupDescription = in.DBSubnetGroupDescription
	}
	for _, d := range f.instances {
		if aws.ToString(d.db.DBSubnetGroup.DBSubnetGroupName) == name {
			d.db.DBSubnetGroup = copyGroup(g)
		}
	}
	return finish(&rds.ModifyDBSubnetGroupOutput{DBSubnetGroup: copyGroup(g)}, nil, fault)
}

func (f *RDS) DeleteDBSubnetGroup(ctx context.Context, in *rds.DeleteDBSubnetGroupInput, _ ...func(*rds.Options)) (*rds.DeleteDBSubnetGroupOutput, error) {
	fault, err := f.begin(ctx, "DeleteDBSubnetGroup")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := strings.ToLower(aws.ToString(in.DBSubnetGroupName))
	g, ok := f.groups[name]
	if !ok {
		return nil, APIError("DBSubnetGroupNotFoundFault", "DBSubnetGroup '%s' not found.", name)
	}
	for id, d := range f.instances {
		if aws.ToString(d.db.DBSubnetGroup.DBSubnetGroupName) == name {
			return nil, APIError("InvalidDBSubnetGroupStateFault",
				"Cannot delete the subnet group '%s' because at least one database instance: %s is still using it.", name, id)
		}
	}
	delete(f.groups, name)
	f.setTags(aws.ToString(g.DBSubnetGroupArn), nil)
	return finish(&rds.DeleteDBSubnetGroupOutput{}, nil, fault)
}

// ---- tags ----

// setTags replaces a resource's tags (nil forgets them); the caller holds f.mu.
func (f *RDS) setTags(arn string, tags []rdstypes.Tag) {
	if tags == nil {
		delete(f.tags, arn)
		return
	}
	f.tags[arn] = append([]rdstypes.Tag{}, tags...)
}

func (f *RDS) ListTagsForResource(ctx context.Context, in *rds.ListTagsForResourceInput, _ ...func(*rds.Options)) (*rds.ListTagsForResourceOutput, error) {
	fault, err := f.begin(ctx, "ListTagsForResource")
	if err != nil {
		return nil, err
	}
	arn := aws.ToString(in.ResourceName)
	f.mu.Lock()
	defer f.mu.Unlock()
	tags, ok := f.tags[arn]
	if !ok {
		if strings.Contains(arn, ":subgrp:") {
			return nil, APIError("DBSubnetGroupNotFoundFault", "DBSubnetGroup '%s' not found.", arn)
		}
		return nil, APIError("DBInstanceNotFound", "DBInstance %s not found.", arn)
	}
	return finish(&rds.ListTagsForResourceOutput{TagList: append([]rdstypes.Tag(nil), tags...)}, nil, fault)
}

// ---- paging and test helpers ----

func rdsSortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// rdsPage returns one page of sorted keys; the marker is the next index.
func rdsPage(keys []string, marker *string, maxRecords *int32) ([]string, *string, error) {
	start := 0
	if marker != nil {
		n, err := strconv.Atoi(*marker)
		if err != nil || n < 0 || n > len(keys) {
			return nil, nil, APIError("InvalidParameterValue", "invalid marker %q", *marker)
		}
		start = n
	}
	size := 100
	if maxRecords != nil {
		if *maxRecords < 20 || *maxRecords > 100 {
			return nil, nil, APIError("InvalidParameterValue", "MaxRecords must be between 20 and 100")
		}
		size = int(*maxRecords)
	}
	end := min(start+size, len(keys))
	if end < len(keys) {
		return keys[start:end], aws.String(strconv.Itoa(end)), nil
	}
	return keys[start:end], nil, nil
}

// Count returns how many DB instances (deleting ones included) and subnet
// groups exist, for "destroy leaves nothing" checks.
func (f *RDS) Count() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return map[string]int{"db-instance": len(f.instances), "db-subnet-group": len(f.groups)}
}
