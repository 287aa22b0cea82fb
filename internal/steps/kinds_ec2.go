package steps

import (
	"context"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/myappctl/myappctl/internal/awsx"
)

// tagFilters turns a tag set into EC2 filters, in a stable order.
func tagFilters(tags awsx.Tags) []ec2types.Filter {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ec2types.Filter, 0, len(keys))
	for _, k := range keys {
		out = append(out, awsx.EC2Filter("tag:"+k, tags[k]))
	}
	return out
}

// notFoundIsAbsent turns a NotFound error into "not found".
func notFoundIsAbsent(err error) (bool, error) {
	if awsx.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

var vpcKind = registerKind(&Kind{
	Type: "ec2:vpc",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		out, err := e.AWS.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
		if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.Vpcs) == 0 {
			return nil, false, err
		}
		return awsx.EC2TagMap(out.Vpcs[0].Tags), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		out, err := e.AWS.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: tagFilters(tags)})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, v := range out.Vpcs {
			ids = append(ids, aws.ToString(v.VpcId))
		}
		return ids, nil
	},
	Delete: func(ctx context.Context, e *Env, id string) error {
		_, err := e.AWS.EC2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(id)})
		return err
	},
})

var subnetKind = registerKind(&Kind{
	Type: "ec2:subnet",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		s, err := describeSubnet(ctx, e, id)
		if s == nil || err != nil {
			return nil, false, err
		}
		return awsx.EC2TagMap(s.Tags), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		out, err := e.AWS.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: tagFilters(tags)})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, s := range out.Subnets {
			ids = append(ids, aws.ToString(s.SubnetId))
		}
		return ids, nil
	},
	Delete: func(ctx context.Context, e *Env, id string) error {
		_, err := e.AWS.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(id)})
		return err
	},
})

func describeSubnet(ctx context.Context, e *Env, id string) (*ec2types.Subnet, error) {
	out, err := e.AWS.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
	if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.Subnets) == 0 {
		return nil, err
	}
	return &out.Subnets[0], nil
}

var internetGatewayKind = registerKind(&Kind{
	Type: "ec2:internet-gateway",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		g, err := describeInternetGateway(ctx, e, id)
		if g == nil || err != nil {
			return nil, false, err
		}
		return awsx.EC2TagMap(g.Tags), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		out, err := e.AWS.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: tagFilters(tags)})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, g := range out.InternetGateways {
			ids = append(ids, aws.ToString(g.InternetGatewayId))
		}
		return ids, nil
	},
	Delete: func(ctx context.Context, e *Env, id string) error {
		g, err := describeInternetGateway(ctx, e, id)
		if g == nil || err != nil {
			return err
		}
		for _, a := range g.Attachments {
			_, err := e.AWS.EC2.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(id), VpcId: a.VpcId})
			if err != nil && !awsx.HasCode(err, "Gateway.NotAttached") {
				return err
			}
		}
		_, err = e.AWS.EC2.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(id)})
		return err
	},
})

func describeInternetGateway(ctx context.Context, e *Env, id string) (*ec2types.InternetGateway, error) {
	out, err := e.AWS.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{id}})
	if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.InternetGateways) == 0 {
		return nil, err
	}
	return &out.InternetGateways[0], nil
}

var routeTableKind = registerKind(&Kind{
	Type: "ec2:route-table",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		rt, err := describeRouteTable(ctx, e, id)
		if rt == nil || err != nil {
			return nil, false, err
		}
		return awsx.EC2TagMap(rt.Tags), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		out, err := e.AWS.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: tagFilters(tags)})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, rt := range out.RouteTables {
			ids = append(ids, aws.ToString(rt.RouteTableId))
		}
		return ids, nil
	},
	Delete: func(ctx context.Context, e *Env, id string) error {
		rt, err := describeRouteTable(ctx, e, id)
		if rt == nil || err != nil {
			return err
		}
		for _, a := range rt.Associations {
			if aws.ToBool(a.Main) {
				continue
			}
			_, err := e.AWS.EC2.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.RouteTableAssociationId})
			if err != nil && !awsx.IsNotFound(err) {
				return err
			}
		}
		_, err = e.AWS.EC2.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(id)})
		return err
	},
})

func describeRouteTable(ctx context.Context, e *Env, id string) (*ec2types.RouteTable, error) {
	out, err := e.AWS.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{id}})
	if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.RouteTables) == 0 {
		return nil, err
	}
	return &out.RouteTables[0], nil
}

var vpcEndpointKind = registerKind(&Kind{
	Type: "ec2:vpc-endpoint",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		ep, err := describeVpcEndpoint(ctx, e, id)
		if ep == nil || err != nil {
			return nil, false, err
		}
		return awsx.EC2TagMap(ep.Tags), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		out, err := e.AWS.EC2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: tagFilters(tags)})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, ep := range out.VpcEndpoints {
			if !endpointGone(ep) {
				ids = append(ids, aws.ToString(ep.VpcEndpointId))
			}
		}
		return ids, nil
	},
	Delete: func(ctx context.Context, e *Env, id string) error {
		out, err := e.AWS.EC2.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{id}})
		if err != nil {
			return err
		}
		for _, u := range out.Unsuccessful {
			if u.Error != nil {
				code := aws.ToString(u.Error.Code)
				if code == "InvalidVpcEndpoint.NotFound" || code == "InvalidVpcEndpointId.NotFound" {
					return nil
				}
				return &smithy.GenericAPIError{Code: code, Message: aws.ToString(u.Error.Message)}
			}
		}
		return nil
	},
})

// endpointGone reports endpoints AWS still lists for a while after deletion.
func endpointGone(ep ec2types.VpcEndpoint) bool {
	s := ep.State
	return s == ec2types.StateDeleted || s == ec2types.StateDeleting || s == ec2types.StateFailed || s == ec2types.StateRejected
}

func describeVpcEndpoint(ctx context.Context, e *Env, id string) (*ec2types.VpcEndpoint, error) {
	out, err := e.AWS.EC2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{id}})
	if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.VpcEndpoints) == 0 || endpointGone(out.VpcEndpoints[0]) {
		return nil, err
	}
	return &out.VpcEndpoints[0], nil
}
