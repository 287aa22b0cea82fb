package fakeaws

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ---- internet gateways ----

func (f *EC2) CreateInternetGateway(ctx context.Context, in *ec2.CreateInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.CreateInternetGatewayOutput, error) {
	fault, err := f.begin(ctx, "CreateInternetGateway")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id("igw")
	g := &types.InternetGateway{InternetGatewayId: aws.String(id), Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeInternetGateway)}
	f.igws[id] = g
	c := *g
	return finish(&ec2.CreateInternetGatewayOutput{InternetGateway: &c}, nil, fault)
}

func (f *EC2) DescribeInternetGateways(ctx context.Context, in *ec2.DescribeInternetGatewaysInput, _ ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error) {
	fault, err := f.begin(ctx, "DescribeInternetGateways")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	gs, err := describe(f.igws, in.InternetGatewayIds, "InvalidInternetGatewayID.NotFound", in.Filters, func(g *types.InternetGateway) ([]types.Tag, map[string][]string) {
		attrs := map[string][]string{"internet-gateway-id": {*g.InternetGatewayId}, "attachment.vpc-id": nil, "attachment.state": nil}
		for _, a := range g.Attachments {
			attrs["attachment.vpc-id"] = append(attrs["attachment.vpc-id"], *a.VpcId)
			attrs["attachment.state"] = append(attrs["attachment.state"], string(a.State))
		}
		return g.Tags, attrs
	})
	if err != nil {
		return nil, err
	}
	return finish(&ec2.DescribeInternetGatewaysOutput{InternetGateways: gs}, nil, fault)
}

func (f *EC2) AttachInternetGateway(ctx context.Context, in *ec2.AttachInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.AttachInternetGatewayOutput, error) {
	fault, err := f.begin(ctx, "AttachInternetGateway")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id, vpcID := aws.ToString(in.InternetGatewayId), aws.ToString(in.VpcId)
	g, ok := f.igws[id]
	if !ok {
		return nil, APIError("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", id)
	}
	if _, ok := f.vpcs[vpcID]; !ok {
		return nil, APIError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	if len(g.Attachments) > 0 {
		return nil, APIError("Resource.AlreadyAssociated", "resource %s is already attached to network %s", id, *g.Attachments[0].VpcId)
	}
	for _, other := range f.igws {
		for _, a := range other.Attachments {
			if aws.ToString(a.VpcId) == vpcID {
				return nil, APIError("Resource.AlreadyAssociated", "network %s already has an internet gateway attached", vpcID)
			}
		}
	}
	g.Attachments = []types.InternetGatewayAttachment{{VpcId: aws.String(vpcID), State: types.AttachmentStatus("available")}}
	return finish(&ec2.AttachInternetGatewayOutput{}, nil, fault)
}

func (f *EC2) DetachInternetGateway(ctx context.Context, in *ec2.DetachInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.DetachInternetGatewayOutput, error) {
	fault, err := f.begin(ctx, "DetachInternetGateway")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.InternetGatewayId)
	g, ok := f.igws[id]
	if !ok {
		return nil, APIError("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", id)
	}
	if len(g.Attachments) == 0 || aws.ToString(g.Attachments[0].VpcId) != aws.ToString(in.VpcId) {
		return nil, APIError("Gateway.NotAttached", "resource %s is not attached to network %s", id, aws.ToString(in.VpcId))
	}
	g.Attachments = nil
	return finish(&ec2.DetachInternetGatewayOutput{}, nil, fault)
}

func (f *EC2) DeleteInternetGateway(ctx context.Context, in *ec2.DeleteInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.DeleteInternetGatewayOutput, error) {
	fault, err := f.begin(ctx, "DeleteInternetGateway")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.InternetGatewayId)
	g, ok := f.igws[id]
	if !ok {
		return nil, APIError("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", id)
	}
	if len(g.Attachments) > 0 {
		return nil, APIError("DependencyViolation", "The internetGateway '%s' has dependencies and cannot be deleted.", id)
	}
	delete(f.igws, id)
	return finish(&ec2.DeleteInternetGatewayOutput{}, nil, fault)
}

// ---- route tables ----

func (f *EC2) CreateRouteTable(ctx context.Context, in *ec2.CreateRouteTableInput, _ ...func(*ec2.Options)) (*ec2.CreateRouteTableOutput, error) {
	fault, err := f.begin(ctx, "CreateRouteTable")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.byToken("CreateRouteTable", aws.ToString(in.ClientToken)); ok {
		if r, ok := f.rtbs[id]; ok {
			c := *r
			return finish(&ec2.CreateRouteTableOutput{RouteTable: &c, ClientToken: in.ClientToken}, nil, fault)
		}
	}
	v, ok := f.vpcs[aws.ToString(in.VpcId)]
	if !ok {
		return nil, APIError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", aws.ToString(in.VpcId))
	}
	id := f.id("rtb")
	r := &types.RouteTable{RouteTableId: aws.String(id), VpcId: in.VpcId, Routes: []types.Route{localRoute(v.vpc.CidrBlock)},
		Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeRouteTable)}
	f.rtbs[id] = r
	f.remember("CreateRouteTable", aws.ToString(in.ClientToken), id)
	c := *r
	return finish(&ec2.CreateRouteTableOutput{RouteTable: &c, ClientToken: in.ClientToken}, nil, fault)
}

func (f *EC2) DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, _ ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	fault, err := f.begin(ctx, "DescribeRouteTables")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rs, err := describe(f.rtbs, in.RouteTableIds, "InvalidRouteTableID.NotFound", in.Filters, func(r *types.RouteTable) ([]types.Tag, map[string][]string) {
		attrs := map[string][]string{"route-table-id": {*r.RouteTableId}, "vpc-id": {*r.VpcId}, "association.main": {fmt.Sprint(isMain(r))},
			"association.subnet-id": nil, "association.route-table-association-id": nil}
		for _, a := range r.Associations {
			if a.SubnetId != nil {
				attrs["association.subnet-id"] = append(attrs["association.subnet-id"], *a.SubnetId)
			}
			attrs["association.route-table-association-id"] = append(attrs["association.route-table-association-id"], *a.RouteTableAssociationId)
		}
		return r.Tags, attrs
	})
	if err != nil {
		return nil, err
	}
	for i := range rs { // copy slices so callers cannot alter the fake's state
		rs[i].Routes = slices.Clone(rs[i].Routes)
		rs[i].Associations = slices.Clone(rs[i].Associations)
	}
	return finish(&ec2.DescribeRouteTablesOutput{RouteTables: rs}, nil, fault)
}

func (f *EC2) rtb(id string) (*types.RouteTable, error) {
	r, ok := f.rtbs[id]
	if !ok {
		return nil, APIError("InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", id)
	}
	return r, nil
}

func (f *EC2) CreateRoute(ctx context.Context, in *ec2.CreateRouteInput, _ ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error) {
	fault, err := f.begin(ctx, "CreateRoute")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.rtb(aws.ToString(in.RouteTableId))
	if err != nil {
		return nil, err
	}
	if err := f.checkGateway(r, aws.ToString(in.GatewayId)); err != nil {
		return nil, err
	}
	dest := aws.ToString(in.DestinationCidrBlock)
	for _, rt := range r.Routes {
		if aws.ToString(rt.DestinationCidrBlock) == dest {
			return nil, APIError("RouteAlreadyExists", "The route identified by %s already exists.", dest)
		}
	}
	r.Routes = append(r.Routes, types.Route{DestinationCidrBlock: in.DestinationCidrBlock, GatewayId: in.GatewayId, State: types.RouteStateActive, Origin: types.RouteOriginCreateRoute})
	return finish(&ec2.CreateRouteOutput{Return: aws.Bool(true)}, nil, fault)
}

func (f *EC2) checkGateway(r *types.RouteTable, gw string) error {
	g, ok := f.igws[gw]
	if !ok {
		return APIError("InvalidGatewayID.NotFound", "The gateway ID '%s' does not exist", gw)
	}
	if len(g.Attachments) == 0 || aws.ToString(g.Attachments[0].VpcId) != aws.ToString(r.VpcId) {
		return APIError("InvalidParameterValue", "route table %s and network gateway %s belong to different networks", *r.RouteTableId, gw)
	}
	return nil
}

func (f *EC2) ReplaceRoute(ctx context.Context, in *ec2.ReplaceRouteInput, _ ...func(*ec2.Options)) (*ec2.ReplaceRouteOutput, error) {
	fault, err := f.begin(ctx, "ReplaceRoute")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.rtb(aws.ToString(in.RouteTableId))
	if err != nil {
		return nil, err
	}
	if err := f.checkGateway(r, aws.ToString(in.GatewayId)); err != nil {
		return nil, err
	}
	for i, rt := range r.Routes {
		if aws.ToString(rt.DestinationCidrBlock) == aws.ToString(in.DestinationCidrBlock) {
			r.Routes[i].GatewayId = in.GatewayId
			r.Routes[i].State = types.RouteStateActive
			return finish(&ec2.ReplaceRouteOutput{}, nil, fault)
		}
	}
	return nil, APIError("InvalidRoute.NotFound", "no route with destination-cidr-block %s in route table %s", aws.ToString(in.DestinationCidrBlock), *r.RouteTableId)
}

func (f *EC2) AssociateRouteTable(ctx context.Context, in *ec2.AssociateRouteTableInput, _ ...func(*ec2.Options)) (*ec2.AssociateRouteTableOutput, error) {
	fault, err := f.begin(ctx, "AssociateRouteTable")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.rtb(aws.ToString(in.RouteTableId))
	if err != nil {
		return nil, err
	}
	subnetID := aws.ToString(in.SubnetId)
	s, ok := f.subnets[subnetID]
	if !ok {
		return nil, APIError("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", subnetID)
	}
	if aws.ToString(s.VpcId) != aws.ToString(r.VpcId) {
		return nil, APIError("InvalidParameterValue", "route table %s and subnet %s belong to different networks", *r.RouteTableId, subnetID)
	}
	for _, other := range f.rtbs {
		for _, a := range other.Associations {
			if aws.ToString(a.SubnetId) == subnetID {
				return nil, APIError("Resource.AlreadyAssociated", "the specified association for route table %s conflicts with an existing association", *other.RouteTableId)
			}
		}
	}
	assoc := f.id("rtbassoc")
	r.Associations = append(r.Associations, types.RouteTableAssociation{RouteTableAssociationId: aws.String(assoc), RouteTableId: r.RouteTableId,
		SubnetId: aws.String(subnetID), Main: aws.Bool(false), AssociationState: &types.RouteTableAssociationState{State: types.RouteTableAssociationStateCodeAssociated}})
	return finish(&ec2.AssociateRouteTableOutput{AssociationId: aws.String(assoc)}, nil, fault)
}

func (f *EC2) DisassociateRouteTable(ctx context.Context, in *ec2.DisassociateRouteTableInput, _ ...func(*ec2.Options)) (*ec2.DisassociateRouteTableOutput, error) {
	fault, err := f.begin(ctx, "DisassociateRouteTable")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.AssociationId)
	for _, r := range f.rtbs {
		for i, a := range r.Associations {
			if aws.ToString(a.RouteTableAssociationId) == id {
				if aws.ToBool(a.Main) {
					return nil, APIError("InvalidParameterValue", "cannot disassociate the main route table association %s", id)
				}
				r.Associations = slices.Delete(r.Associations, i, i+1)
				return finish(&ec2.DisassociateRouteTableOutput{}, nil, fault)
			}
		}
	}
	return nil, APIError("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
}

func (f *EC2) DeleteRouteTable(ctx context.Context, in *ec2.DeleteRouteTableInput, _ ...func(*ec2.Options)) (*ec2.DeleteRouteTableOutput, error) {
	fault, err := f.begin(ctx, "DeleteRouteTable")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.rtb(aws.ToString(in.RouteTableId))
	if err != nil {
		return nil, err
	}
	if len(r.Associations) > 0 {
		return nil, APIError("DependencyViolation", "The routeTable '%s' has dependencies and cannot be deleted.", *r.RouteTableId)
	}
	delete(f.rtbs, *r.RouteTableId)
	for _, e := range f.endpoints {
		e.RouteTableIds = slices.DeleteFunc(e.RouteTableIds, func(id string) bool { return id == *r.RouteTableId })
	}
	return finish(&ec2.DeleteRouteTableOutput{}, nil, fault)
}
