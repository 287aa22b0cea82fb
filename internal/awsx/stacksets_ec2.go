package awsx

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// serviceEC2 is the SDK's service id of EC2.
const serviceEC2 = "EC2"

// ec2Set is one EC2 resource kind as a stack set: loaded with the stack
// tag filter, answering by ids and by filters that include the stack tag.
type ec2Set[T any] struct {
	operation string
	// load lists every resource matching filters, all pages.
	load  func(ctx context.Context, c EC2API, filters []ec2types.Filter) ([]T, error)
	id    func(T) string
	tags  func(T) []ec2types.Tag
	attrs func(T) map[string][]string // the filters it evaluates besides tags
	// query reads a call's ids and filters (ok false: it has a parameter
	// the set does not know).
	query  func(input any) (ids []string, filters []ec2types.Filter, ok bool)
	output func([]T) any
}

func (k ec2Set[T]) register() {
	answers(serviceEC2, k.operation, k.answer)
}

func (k ec2Set[T]) answer(src setSource, input any) (any, bool) {
	ids, filters, ok := k.query(input)
	if !ok {
		return nil, false
	}
	specs := ec2FilterSpecs(filters)
	if len(ids) == 0 && !hasStackFilter(specs, src.stack()) {
		return nil, false
	}
	v, ok := src.get(serviceEC2, k.operation, func(ctx context.Context, c *Clients, src setSource) (any, error) {
		return k.load(ctx, c.EC2, []ec2types.Filter{EC2Filter("tag:"+TagStack, src.stack())})
	})
	if !ok {
		return nil, false
	}
	items := v.([]T)
	if len(ids) > 0 {
		if items, ok = pick(items, k.id, ids); !ok {
			return nil, false
		}
	}
	var out []T
	for _, it := range items {
		match, supported := matchFilters(specs, EC2TagMap(k.tags(it)), k.attrs(it))
		if !supported {
			return nil, false
		}
		if match {
			out = append(out, it)
		}
	}
	return k.output(copyItems(out)), true
}

func ec2FilterSpecs(filters []ec2types.Filter) []filterSpec {
	out := make([]filterSpec, 0, len(filters))
	for _, f := range filters {
		out = append(out, filterSpec{aws.ToString(f.Name), f.Values})
	}
	return out
}

// ownedBySelf reports an owners parameter the set answers: none, or self.
func ownedBySelf(owners []string) bool {
	return len(owners) == 0 || slices.Equal(owners, []string{"self"})
}

func init() {
	ec2Set[ec2types.Vpc]{operation: "DescribeVpcs",
		load: func(ctx context.Context, c EC2API, f []ec2types.Filter) ([]ec2types.Vpc, error) {
			p := ec2.NewDescribeVpcsPaginator(c, &ec2.DescribeVpcsInput{Filters: f})
			return collect(ctx, p.HasMorePages, p.NextPage,
				func(o *ec2.DescribeVpcsOutput) []ec2types.Vpc { return o.Vpcs })
		},
		id: func(v ec2types.Vpc) string { return aws.ToString(v.VpcId) }, tags: func(v ec2types.Vpc) []ec2types.Tag { return v.Tags },
		attrs: func(v ec2types.Vpc) map[string][]string {
			return map[string][]string{"vpc-id": {aws.ToString(v.VpcId)}, "state": {string(v.State)}, "cidr": {aws.ToString(v.CidrBlock)}}
		},
		query: func(input any) ([]string, []ec2types.Filter, bool) {
			in := input.(*ec2.DescribeVpcsInput)
			return in.VpcIds, in.Filters, onlyFields(in, "VpcIds", "Filters", "MaxResults")
		},
		output: func(items []ec2types.Vpc) any { return &ec2.DescribeVpcsOutput{Vpcs: items} },
	}.register()

	ec2Set[ec2types.Subnet]{operation: "DescribeSubnets",
		load: func(ctx context.Context, c EC2API, f []ec2types.Filter) ([]ec2types.Subnet, error) {
			p := ec2.NewDescribeSubnetsPaginator(c, &ec2.DescribeSubnetsInput{Filters: f})
			return collect(ctx, p.HasMorePages, p.NextPage,
				func(o *ec2.DescribeSubnetsOutput) []ec2types.Subnet { return o.Subnets })
		},
		id: func(s ec2types.Subnet) string { return aws.ToString(s.SubnetId) }, tags: func(s ec2types.Subnet) []ec2types.Tag { return s.Tags },
		attrs: func(s ec2types.Subnet) map[string][]string {
			return map[string][]string{"subnet-id": {aws.ToString(s.SubnetId)}, "vpc-id": {aws.ToString(s.VpcId)},
				"availability-zone": {aws.ToString(s.AvailabilityZone)}, "state": {string(s.State)}}
		},
		query: func(input any) ([]string, []ec2types.Filter, bool) {
			in := input.(*ec2.DescribeSubnetsInput)
			return in.SubnetIds, in.Filters, onlyFields(in, "SubnetIds", "Filters", "MaxResults")
		},
		output: func(items []ec2types.Subnet) any { return &ec2.DescribeSubnetsOutput{Subnets: items} },
	}.register()

	ec2Set[ec2types.SecurityGroup]{operation: "DescribeSecurityGroups",
		load: func(ctx context.Context, c EC2API, f []ec2types.Filter) ([]ec2types.SecurityGroup, error) {
			p := ec2.NewDescribeSecurityGroupsPaginator(c, &ec2.DescribeSecurityGroupsInput{Filters: f})
			return collect(ctx, p.HasMorePages, p.NextPage,
				func(o *ec2.DescribeSecurityGroupsOutput) []ec2types.SecurityGroup { return o.SecurityGroups })
		},
		id: func(g ec2types.SecurityGroup) string { return aws.ToString(g.GroupId) }, tags: func(g ec2types.SecurityGroup) []ec2types.Tag { return g.Tags },
		attrs: func(g ec2types.SecurityGroup) map[string][]string {
			return map[string][]string{"group-id": {aws.ToString(g.GroupId)}, "vpc-id": {aws.ToString(g.VpcId)}, "group-name": {aws.ToString(g.GroupName)}}
		},
		query: func(input any) ([]string, []ec2types.Filter, bool) {
			in := input.(*ec2.DescribeSecurityGroupsInput)
			return in.GroupIds, in.Filters, onlyFields(in, "GroupIds", "Filters", "MaxResults")
		},
		output: func(items []ec2types.SecurityGroup) any {
			return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: items}
		},
	}.register()

	ec2Set[ec2types.InternetGateway]{operation: "DescribeInternetGateways",
		load: func(ctx context.Context, c EC2API, f []ec2types.Filter) ([]ec2types.InternetGateway, error) {
			p := ec2.NewDescribeInternetGatewaysPaginator(c, &ec2.DescribeInternetGatewaysInput{Filters: f})
			return collect(ctx, p.HasMorePages, p.NextPage,
				func(o *ec2.DescribeInternetGatewaysOutput) []ec2types.InternetGateway { return o.InternetGateways })
		},
		id:   func(g ec2types.InternetGateway) string { return aws.ToString(g.InternetGatewayId) },
		tags: func(g ec2types.InternetGateway) []ec2types.Tag { return g.Tags },
		attrs: func(g ec2types.InternetGateway) map[string][]string {
			m := map[string][]string{"internet-gateway-id": {aws.ToString(g.InternetGatewayId)}, "attachment.vpc-id": nil}
			for _, a := range g.Attachments {
				m["attachment.vpc-id"] = append(m["attachment.vpc-id"], aws.ToString(a.VpcId))
			}
			return m
		},
		query: func(input any) ([]string, []ec2types.Filter, bool) {
			in := input.(*ec2.DescribeInternetGatewaysInput)
			return in.InternetGatewayIds, in.Filters, onlyFields(in, "InternetGatewayIds", "Filters", "MaxResults")
		},
		output: func(items []ec2types.InternetGateway) any {
			return &ec2.DescribeInternetGatewaysOutput{InternetGateways: items}
		},
	}.register()

	ec2Set[ec2types.RouteTable]{operation: "DescribeRouteTables",
		load: func(ctx context.Context, c EC2API, f []ec2types.Filter) ([]ec2types.RouteTable, error) {
			p := ec2.NewDescribeRouteTablesPaginator(c, &ec2.DescribeRouteTablesInput{Filters: f})
			return collect(ctx, p.HasMorePages, p.NextPage,
				func(o *ec2.DescribeRouteTablesOutput) []ec2types.RouteTable { return o.RouteTables })
		},
		id: func(t ec2types.RouteTable) string { return aws.ToString(t.RouteTableId) }, tags: func(t ec2types.RouteTable) []ec2types.Tag { return t.Tags },
		attrs: func(t ec2types.RouteTable) map[string][]string {
			return map[string][]string{"route-table-id": {aws.ToString(t.RouteTableId)}, "vpc-id": {aws.ToString(t.VpcId)}}
		},
		query: func(input any) ([]string, []ec2types.Filter, bool) {
			in := input.(*ec2.DescribeRouteTablesInput)
			return in.RouteTableIds, in.Filters, onlyFields(in, "RouteTableIds", "Filters", "MaxResults")
		},
		output: func(items []ec2types.RouteTable) any { return &ec2.DescribeRouteTablesOutput{RouteTables: items} },
	}.register()

	ec2Set[ec2types.VpcEndpoint]{operation: "DescribeVpcEndpoints",
		load: func(ctx context.Context, c EC2API, f []ec2types.Filter) ([]ec2types.VpcEndpoint, error) {
			p := ec2.NewDescribeVpcEndpointsPaginator(c, &ec2.DescribeVpcEndpointsInput{Filters: f})
			return collect(ctx, p.HasMorePages, p.NextPage,
				func(o *ec2.DescribeVpcEndpointsOutput) []ec2types.VpcEndpoint { return o.VpcEndpoints })
		},
		id: func(e ec2types.VpcEndpoint) string { return aws.ToString(e.VpcEndpointId) }, tags: func(e ec2types.VpcEndpoint) []ec2types.Tag { return e.Tags },
		attrs: func(e ec2types.VpcEndpoint) map[string][]string {
			return map[string][]string{"vpc-endpoint-id": {aws.ToString(e.VpcEndpointId)}, "vpc-id": {aws.ToString(e.VpcId)},
				"vpc-endpoint-state": {string(e.State)}, "service-name": {aws.ToString(e.ServiceName)}}
		},
		query: func(input any) ([]string, []ec2types.Filter, bool) {
			in := input.(*ec2.DescribeVpcEndpointsInput)
			return in.VpcEndpointIds, in.Filters, onlyFields(in, "VpcEndpointIds", "Filters", "MaxResults")
		},
		output: func(items []ec2types.VpcEndpoint) any { return &ec2.DescribeVpcEndpointsOutput{VpcEndpoints: items} },
	}.register()

	ec2Set[reservedInstance]{operation: "DescribeInstances",
		load: func(ctx context.Context, c EC2API, f []ec2types.Filter) ([]reservedInstance, error) {
			p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{Filters: f})
			reservations, err := collect(ctx, p.HasMorePages, p.NextPage,
				func(o *ec2.DescribeInstancesOutput) []ec2types.Reservation { return o.Reservations })
			var out []reservedInstance
			for _, r := range reservations {
				for _, in := range r.Instances {
					res := r
					res.Instances = nil
					out = append(out, reservedInstance{Instance: in, Reservation: res})
				}
			}
			return out, err
		},
		id:   func(r reservedInstance) string { return aws.ToString(r.Instance.InstanceId) },
		tags: func(r reservedInstance) []ec2types.Tag { return r.Instance.Tags },
		attrs: func(r reservedInstance) map[string][]string {
			in := r.Instance
			state := ""
			if in.State != nil {
				state = string(in.State.Name)
			}
			return map[string][]string{"instance-id": {aws.ToString(in.InstanceId)}, "instance-state-name": {state},
				"vpc-id": {aws.ToString(in.VpcId)}, "subnet-id": {aws.ToString(in.SubnetId)}, "image-id": {aws.ToString(in.ImageId)}}
		},
		query: func(input any) ([]string, []ec2types.Filter, bool) {
			in := input.(*ec2.DescribeInstancesInput)
			return in.InstanceIds, in.Filters, onlyFields(in, "InstanceIds", "Filters", "MaxResults")
		},
		output: func(items []reservedInstance) any {
			out := &ec2.DescribeInstancesOutput{}
			for _, it := range items {
				res := it.Reservation
				res.Instances = []ec2types.Instance{it.Instance}
				out.Reservations = append(out.Reservations, res)
			}
			return out
		},
	}.register()

	ec2Set[ec2types.Image]{operation: "DescribeImages",
		load: func(ctx context.Context, c EC2API, f []ec2types.Filter) ([]ec2types.Image, error) {
			p := ec2.NewDescribeImagesPaginator(c, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: f})
			return collect(ctx, p.HasMorePages, p.NextPage,
				func(o *ec2.DescribeImagesOutput) []ec2types.Image { return o.Images })
		},
		id: func(im ec2types.Image) string { return aws.ToString(im.ImageId) }, tags: func(im ec2types.Image) []ec2types.Tag { return im.Tags },
		attrs: func(im ec2types.Image) map[string][]string {
			return map[string][]string{"image-id": {aws.ToString(im.ImageId)}, "state": {string(im.State)}, "name": {aws.ToString(im.Name)}}
		},
		query: func(input any) ([]string, []ec2types.Filter, bool) {
			in := input.(*ec2.DescribeImagesInput)
			return in.ImageIds, in.Filters, ownedBySelf(in.Owners) && onlyFields(in, "ImageIds", "Filters", "Owners", "MaxResults")
		},
		output: func(items []ec2types.Image) any { return &ec2.DescribeImagesOutput{Images: items} },
	}.register()

	ec2Set[ec2types.Snapshot]{operation: "DescribeSnapshots",
		load: func(ctx context.Context, c EC2API, f []ec2types.Filter) ([]ec2types.Snapshot, error) {
			p := ec2.NewDescribeSnapshotsPaginator(c, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: f})
			return collect(ctx, p.HasMorePages, p.NextPage,
				func(o *ec2.DescribeSnapshotsOutput) []ec2types.Snapshot { return o.Snapshots })
		},
		id: func(s ec2types.Snapshot) string { return aws.ToString(s.SnapshotId) }, tags: func(s ec2types.Snapshot) []ec2types.Tag { return s.Tags },
		attrs: func(s ec2types.Snapshot) map[string][]string {
			return map[string][]string{"snapshot-id": {aws.ToString(s.SnapshotId)}, "status": {string(s.State)}}
		},
		query: func(input any) ([]string, []ec2types.Filter, bool) {
			in := input.(*ec2.DescribeSnapshotsInput)
			return in.SnapshotIds, in.Filters, ownedBySelf(in.OwnerIds) && onlyFields(in, "SnapshotIds", "Filters", "OwnerIds", "MaxResults")
		},
		output: func(items []ec2types.Snapshot) any { return &ec2.DescribeSnapshotsOutput{Snapshots: items} },
	}.register()

	ec2Set[ec2types.LaunchTemplate]{operation: "DescribeLaunchTemplates",
		load: func(ctx context.Context, c EC2API, f []ec2types.Filter) ([]ec2types.LaunchTemplate, error) {
			p := ec2.NewDescribeLaunchTemplatesPaginator(c, &ec2.DescribeLaunchTemplatesInput{Filters: f})
			return collect(ctx, p.HasMorePages, p.NextPage,
				func(o *ec2.DescribeLaunchTemplatesOutput) []ec2types.LaunchTemplate { return o.LaunchTemplates })
		},
		id:   func(t ec2types.LaunchTemplate) string { return aws.ToString(t.LaunchTemplateId) },
		tags: func(t ec2types.LaunchTemplate) []ec2types.Tag { return t.Tags },
		attrs: func(t ec2types.LaunchTemplate) map[string][]string {
			return map[string][]string{"launch-template-id": {aws.ToString(t.LaunchTemplateId)}, "launch-template-name": {aws.ToString(t.LaunchTemplateName)}}
		},
		query: func(input any) ([]string, []ec2types.Filter, bool) {
			in := input.(*ec2.DescribeLaunchTemplatesInput)
			return in.LaunchTemplateIds, in.Filters, onlyFields(in, "LaunchTemplateIds", "Filters", "MaxResults")
		},
		output: func(items []ec2types.LaunchTemplate) any {
			return &ec2.DescribeLaunchTemplatesOutput{LaunchTemplates: items}
		},
	}.register()
}

// reservedInstance is an instance with the reservation it came in.
type reservedInstance struct {
	Instance    ec2types.Instance
	Reservation ec2types.Reservation // without its Instances
}

// collect reads every page of an SDK paginator (its HasMorePages and
// NextPage) and gathers the items of each.
func collect[O, T, Opt any](ctx context.Context, more func() bool, next func(context.Context, ...func(*Opt)) (O, error), items func(O) []T) ([]T, error) {
	var out []T
	for more() {
		page, err := next(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, items(page)...)
	}
	return out, nil
}
