package fakeaws

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func (f *EC2) CreateVpcEndpoint(ctx context.Context, in *ec2.CreateVpcEndpointInput, _ ...func(*ec2.Options)) (*ec2.CreateVpcEndpointOutput, error) {
	fault, err := f.begin(ctx, "CreateVpcEndpoint")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.byToken("CreateVpcEndpoint", aws.ToString(in.ClientToken)); ok {
		if e, ok := f.endpoints[id]; ok {
			c := *e
			return finish(&ec2.CreateVpcEndpointOutput{VpcEndpoint: &c, ClientToken: in.ClientToken}, nil, fault)
		}
	}
	vpcID := aws.ToString(in.VpcId)
	if _, ok := f.vpcs[vpcID]; !ok {
		return nil, APIError("InvalidVpcId.NotFound", "The Vpc Id '%s' does not exist", vpcID)
	}
	svc := aws.ToString(in.ServiceName)
	if !strings.HasPrefix(svc, "com.amazonaws."+f.Region+".") {
		return nil, APIError("InvalidServiceName", "The Vpc Endpoint Service '%s' does not exist", svc)
	}
	if in.VpcEndpointType != types.VpcEndpointTypeGateway {
		return nil, APIError("InvalidParameter", "fake supports Gateway endpoints only")
	}
	for _, rt := range in.RouteTableIds {
		r, ok := f.rtbs[rt]
		if !ok || aws.ToString(r.VpcId) != vpcID {
			return nil, APIError("InvalidRouteTableId.NotFound", "The routeTable ID '%s' does not exist", rt)
		}
	}
	id := f.id("vpce")
	e := &types.VpcEndpoint{VpcEndpointId: aws.String(id), VpcId: in.VpcId, ServiceName: in.ServiceName, VpcEndpointType: types.VpcEndpointTypeGateway,
		State: types.StateAvailable, RouteTableIds: slices.Clone(in.RouteTableIds), Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeVpcEndpoint)}
	f.endpoints[id] = e
	f.remember("CreateVpcEndpoint", aws.ToString(in.ClientToken), id)
	c := *e
	c.RouteTableIds = slices.Clone(e.RouteTableIds)
	return finish(&ec2.CreateVpcEndpointOutput{VpcEndpoint: &c, ClientToken: in.ClientToken}, nil, fault)
}

func (f *EC2) DescribeVpcEndpoints(ctx context.Context, in *ec2.DescribeVpcEndpointsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error) {
	fault, err := f.begin(ctx, "DescribeVpcEndpoints")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	es, err := describe(f.endpoints, in.VpcEndpointIds, "InvalidVpcEndpointId.NotFound", in.Filters, func(e *types.VpcEndpoint) ([]types.Tag, map[string][]string) {
		return e.Tags, map[string][]string{"vpc-endpoint-id": {*e.VpcEndpointId}, "vpc-id": {*e.VpcId}, "service-name": {*e.ServiceName},
			"vpc-endpoint-state": {string(e.State)}, "vpc-endpoint-type": {string(e.VpcEndpointType)}}
	})
	if err != nil {
		return nil, err
	}
	for i := range es {
		es[i].RouteTableIds = slices.Clone(es[i].RouteTableIds)
	}
	return finish(&ec2.DescribeVpcEndpointsOutput{VpcEndpoints: es}, nil, fault)
}

func (f *EC2) ModifyVpcEndpoint(ctx context.Context, in *ec2.ModifyVpcEndpointInput, _ ...func(*ec2.Options)) (*ec2.ModifyVpcEndpointOutput, error) {
	fault, err := f.begin(ctx, "ModifyVpcEndpoint")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.endpoints[aws.ToString(in.VpcEndpointId)]
	if !ok {
		return nil, APIError("InvalidVpcEndpointId.NotFound", "The Vpc Endpoint Id '%s' does not exist", aws.ToString(in.VpcEndpointId))
	}
	for _, rt := range in.AddRouteTableIds {
		if _, ok := f.rtbs[rt]; !ok {
			return nil, APIError("InvalidRouteTableId.NotFound", "The routeTable ID '%s' does not exist", rt)
		}
		if !slices.Contains(e.RouteTableIds, rt) {
			e.RouteTableIds = append(e.RouteTableIds, rt)
		}
	}
	e.RouteTableIds = slices.DeleteFunc(e.RouteTableIds, func(id string) bool { return slices.Contains(in.RemoveRouteTableIds, id) })
	return finish(&ec2.ModifyVpcEndpointOutput{Return: aws.Bool(true)}, nil, fault)
}

func (f *EC2) DeleteVpcEndpoints(ctx context.Context, in *ec2.DeleteVpcEndpointsInput, _ ...func(*ec2.Options)) (*ec2.DeleteVpcEndpointsOutput, error) {
	fault, err := f.begin(ctx, "DeleteVpcEndpoints")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &ec2.DeleteVpcEndpointsOutput{}
	for _, id := range in.VpcEndpointIds {
		if _, ok := f.endpoints[id]; !ok {
			out.Unsuccessful = append(out.Unsuccessful, types.UnsuccessfulItem{ResourceId: aws.String(id),
				Error: &types.UnsuccessfulItemError{Code: aws.String("InvalidVpcEndpoint.NotFound"), Message: aws.String("The VPC endpoint " + id + " does not exist")}})
			continue
		}
		delete(f.endpoints, id)
	}
	return finish(out, nil, fault)
}

// Forget removes a resource behind the tool's back, as a user clicking in
// the console would (tests of out-of-band deletion). It bypasses dependency
// checks only for the resource itself.
func (f *EC2) Forget(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.vpcs, id)
	delete(f.subnets, id)
	delete(f.igws, id)
	delete(f.rtbs, id)
	delete(f.endpoints, id)
	delete(f.sgs, id)
}

// Count returns how many resources of each kind exist (default route tables
// and security groups of VPCs included), for "destroy leaves nothing" checks.
func (f *EC2) Count() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return map[string]int{"vpc": len(f.vpcs), "subnet": len(f.subnets), "igw": len(f.igws), "rtb": len(f.rtbs),
		"vpce": len(f.endpoints), "sg": len(f.sgs)}
}
