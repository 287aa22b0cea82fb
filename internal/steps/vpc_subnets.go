package steps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

type subnetRole struct {
	tier string // public or private
	n    int
	cidr string
	zone string
}

func (s subnetRole) key() string { return fmt.Sprintf("subnet/%s-%d", s.tier, s.n) }

func ensureSubnet(ctx context.Context, r *Run, vpcID string, role subnetRole) (string, error) {
	name := r.Name(fmt.Sprintf("MyApp-subnet-%s%d", role.tier, role.n))
	id, err := r.Ensure(ctx, Spec{Key: role.key(), Kind: subnetKind, Name: name, Detail: role.cidr + " in " + role.zone,
		Create: func(ctx context.Context, _ string) (string, error) {
			out, err := r.AWS.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String(role.cidr),
				AvailabilityZone: aws.String(role.zone), TagSpecifications: r.Tags(name).EC2Spec(ec2types.ResourceTypeSubnet)}, awsx.EC2CreateOnce)
			if err != nil {
				return "", err
			}
			return aws.ToString(out.Subnet.SubnetId), nil
		}})
	if err != nil {
		return "", err
	}
	wantPublicIP := role.tier == "public"
	if !isPlanned(id) {
		s, err := describeSubnet(ctx, r.Env, id)
		if err != nil || s == nil {
			return "", &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "ec2:subnet " + id, Err: err}
		}
		if got := aws.ToString(s.CidrBlock); got != role.cidr || aws.ToString(s.VpcId) != vpcID {
			return "", fmt.Errorf("stage vpc: subnet %s (%s) is %s in %s, but the configuration wants %s in %s: a subnet cannot move; restore the setting, or `myappctl destroy` and build again",
				name, id, got, aws.ToString(s.VpcId), role.cidr, vpcID)
		}
		if aws.ToBool(s.MapPublicIpOnLaunch) == wantPublicIP {
			return id, nil
		}
	} else if !wantPublicIP {
		return id, nil // new subnets have public IPs off
	}
	return id, r.change("modify", subnetKind.Type, name, fmt.Sprintf("public IP on launch = %v", wantPublicIP), func() error {
		_, err := r.AWS.EC2.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(id),
			MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: aws.Bool(wantPublicIP)}})
		return err
	})
}

// ensureRouteTable makes a tier's route table, its default route (public:
// 0.0.0.0/0 to the internet gateway) and its subnet associations.
func ensureRouteTable(ctx context.Context, r *Run, vpcID, tier string, subnets []string, igw string) (string, error) {
	name := r.Name("MyApp-rtb-" + tier)
	id, err := r.Ensure(ctx, Spec{Key: "route-table/" + tier, Kind: routeTableKind, Name: name,
		Create: func(ctx context.Context, token string) (string, error) {
			out, err := r.AWS.EC2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpcID), ClientToken: aws.String(token),
				TagSpecifications: r.Tags(name).EC2Spec(ec2types.ResourceTypeRouteTable)})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.RouteTable.RouteTableId), nil
		}})
	if err != nil {
		return "", err
	}
	var rt ec2types.RouteTable
	if !isPlanned(id) {
		got, err := describeRouteTable(ctx, r.Env, id)
		if err != nil || got == nil {
			return "", &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "ec2:route-table " + id, Err: err}
		}
		rt = *got
	}
	if igw != "" {
		if err := ensureDefaultRoute(ctx, r, rt, id, name, igw); err != nil {
			return "", err
		}
	}
	for _, subnet := range subnets {
		if err := ensureAssociation(ctx, r, rt, id, name, subnet); err != nil {
			return "", err
		}
	}
	return id, nil
}

func ensureDefaultRoute(ctx context.Context, r *Run, rt ec2types.RouteTable, id, name, igw string) error {
	const anywhere = "0.0.0.0/0"
	for _, route := range rt.Routes {
		if aws.ToString(route.DestinationCidrBlock) != anywhere {
			continue
		}
		if aws.ToString(route.GatewayId) == igw && route.State != ec2types.RouteStateBlackhole {
			return nil
		}
		return r.change("modify", routeTableKind.Type, name, "route "+anywhere+" → "+igw+" (was "+aws.ToString(route.GatewayId)+")", func() error {
			_, err := r.AWS.EC2.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: aws.String(id), DestinationCidrBlock: aws.String(anywhere), GatewayId: aws.String(igw)})
			return err
		})
	}
	return r.change("modify", routeTableKind.Type, name, "add route "+anywhere+" → "+igw, func() error {
		_, err := r.AWS.EC2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(id), DestinationCidrBlock: aws.String(anywhere), GatewayId: aws.String(igw)})
		return err
	})
}

// ensureAssociation associates a subnet with the table, moving it off any
// other (non-main) table it was put on by hand.
func ensureAssociation(ctx context.Context, r *Run, rt ec2types.RouteTable, id, name, subnet string) error {
	for _, a := range rt.Associations {
		if aws.ToString(a.SubnetId) == subnet {
			return nil
		}
	}
	return r.change("modify", routeTableKind.Type, name, "associate "+subnet, func() error {
		others, err := r.AWS.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{awsx.EC2Filter("association.subnet-id", subnet)}})
		if err != nil {
			return err
		}
		for _, other := range others.RouteTables {
			for _, a := range other.Associations {
				if aws.ToString(a.SubnetId) == subnet {
					r.Logf("moving %s off route table %s", subnet, aws.ToString(other.RouteTableId))
					if _, err := r.AWS.EC2.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.RouteTableAssociationId}); err != nil {
						return err
					}
				}
			}
		}
		_, err = r.AWS.EC2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(id), SubnetId: aws.String(subnet)})
		return err
	})
}

// ensureS3Endpoint makes the S3 gateway endpoint serve both route tables.
func ensureS3Endpoint(ctx context.Context, r *Run, vpcID string, tables []string) error {
	name := r.Name("MyApp-vpce-s3")
	service := "com.amazonaws." + r.Cfg.Region + ".s3"
	id, err := r.Ensure(ctx, Spec{Key: "vpc-endpoint/s3", Kind: vpcEndpointKind, Name: name, Detail: service,
		Create: func(ctx context.Context, token string) (string, error) {
			out, err := r.AWS.EC2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(vpcID), ServiceName: aws.String(service),
				VpcEndpointType: ec2types.VpcEndpointTypeGateway, RouteTableIds: tables, ClientToken: aws.String(token),
				TagSpecifications: r.Tags(name).EC2Spec(ec2types.ResourceTypeVpcEndpoint)})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.VpcEndpoint.VpcEndpointId), nil
		}})
	if err != nil || isPlanned(id) {
		return err
	}
	ep, err := describeVpcEndpoint(ctx, r.Env, id)
	if err != nil || ep == nil {
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "ec2:vpc-endpoint " + id, Err: err}
	}
	var missing []string
	for _, t := range tables {
		if !contains(ep.RouteTableIds, t) {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return r.change("modify", vpcEndpointKind.Type, name, fmt.Sprintf("add route tables %v", missing), func() error {
		_, err := r.AWS.EC2.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: aws.String(id), AddRouteTableIds: missing})
		return err
	})
}
