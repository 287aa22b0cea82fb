package fakeaws

import (
	"context"
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func (f *EC2) CreateVpc(ctx context.Context, in *ec2.CreateVpcInput, _ ...func(*ec2.Options)) (*ec2.CreateVpcOutput, error) {
	fault, err := f.begin(ctx, "CreateVpc")
	if err != nil {
		return nil, err
	}
	p, err := netip.ParsePrefix(aws.ToString(in.CidrBlock))
	if err != nil || p.Bits() < 16 || p.Bits() > 28 || p != p.Masked() {
		return nil, APIError("InvalidVpc.Range", "The CIDR '%s' is invalid.", aws.ToString(in.CidrBlock))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id("vpc")
	v := types.Vpc{VpcId: aws.String(id), CidrBlock: in.CidrBlock, State: types.VpcStateAvailable,
		IsDefault: aws.Bool(false), Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeVpc)}
	f.vpcs[id] = &fakeVPC{vpc: v, dnsSupport: true}
	// Like AWS: a main route table and a default security group come with it.
	rtb := f.id("rtb")
	f.rtbs[rtb] = &types.RouteTable{RouteTableId: aws.String(rtb), VpcId: aws.String(id),
		Routes:       []types.Route{localRoute(v.CidrBlock)},
		Associations: []types.RouteTableAssociation{{Main: aws.Bool(true), RouteTableAssociationId: aws.String(f.id("rtbassoc")), RouteTableId: aws.String(rtb)}}}
	sg := f.id("sg")
	f.sgs[sg] = &types.SecurityGroup{GroupId: aws.String(sg), GroupName: aws.String("default"), VpcId: aws.String(id), Description: aws.String("default VPC security group")}
	return finish(&ec2.CreateVpcOutput{Vpc: &v}, nil, fault)
}

func localRoute(cidr *string) types.Route {
	return types.Route{DestinationCidrBlock: cidr, GatewayId: aws.String("local"), State: types.RouteStateActive, Origin: types.RouteOriginCreateRouteTable}
}

func (f *EC2) DescribeVpcs(ctx context.Context, in *ec2.DescribeVpcsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	fault, err := f.begin(ctx, "DescribeVpcs")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	vs, err := describe(f.vpcs, in.VpcIds, "InvalidVpcID.NotFound", in.Filters, func(v *fakeVPC) ([]types.Tag, map[string][]string) {
		return v.vpc.Tags, map[string][]string{"vpc-id": {*v.vpc.VpcId}, "cidr": {*v.vpc.CidrBlock}, "state": {string(v.vpc.State)}, "is-default": {"false"}}
	})
	if err != nil {
		return nil, err
	}
	out := &ec2.DescribeVpcsOutput{}
	for _, v := range vs {
		out.Vpcs = append(out.Vpcs, v.vpc)
	}
	return finish(out, nil, fault)
}

func (f *EC2) DescribeVpcAttribute(ctx context.Context, in *ec2.DescribeVpcAttributeInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcAttributeOutput, error) {
	fault, err := f.begin(ctx, "DescribeVpcAttribute")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.vpcs[aws.ToString(in.VpcId)]
	if !ok {
		return nil, APIError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", aws.ToString(in.VpcId))
	}
	out := &ec2.DescribeVpcAttributeOutput{VpcId: in.VpcId}
	switch in.Attribute {
	case types.VpcAttributeNameEnableDnsHostnames:
		out.EnableDnsHostnames = &types.AttributeBooleanValue{Value: aws.Bool(v.dnsHostnames)}
	case types.VpcAttributeNameEnableDnsSupport:
		out.EnableDnsSupport = &types.AttributeBooleanValue{Value: aws.Bool(v.dnsSupport)}
	default:
		return nil, APIError("InvalidParameterValue", "unsupported attribute %s", in.Attribute)
	}
	return finish(out, nil, fault)
}

func (f *EC2) ModifyVpcAttribute(ctx context.Context, in *ec2.ModifyVpcAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyVpcAttributeOutput, error) {
	fault, err := f.begin(ctx, "ModifyVpcAttribute")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.vpcs[aws.ToString(in.VpcId)]
	if !ok {
		return nil, APIError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", aws.ToString(in.VpcId))
	}
	if in.EnableDnsHostnames != nil {
		v.dnsHostnames = aws.ToBool(in.EnableDnsHostnames.Value)
	}
	if in.EnableDnsSupport != nil {
		v.dnsSupport = aws.ToBool(in.EnableDnsSupport.Value)
	}
	return finish(&ec2.ModifyVpcAttributeOutput{}, nil, fault)
}

func (f *EC2) DeleteVpc(ctx context.Context, in *ec2.DeleteVpcInput, _ ...func(*ec2.Options)) (*ec2.DeleteVpcOutput, error) {
	fault, err := f.begin(ctx, "DeleteVpc")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.VpcId)
	if _, ok := f.vpcs[id]; !ok {
		return nil, APIError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
	}
	if dep := f.vpcDependency(id); dep != "" {
		return nil, APIError("DependencyViolation", "The vpc '%s' has dependencies and cannot be deleted (%s).", id, dep)
	}
	for k, r := range f.rtbs {
		if aws.ToString(r.VpcId) == id {
			delete(f.rtbs, k)
		}
	}
	for k, g := range f.sgs {
		if aws.ToString(g.VpcId) == id {
			delete(f.sgs, k)
		}
	}
	delete(f.vpcs, id)
	return finish(&ec2.DeleteVpcOutput{}, nil, fault)
}

// vpcDependency names something that still blocks deleting a VPC.
func (f *EC2) vpcDependency(id string) string {
	for k, s := range f.subnets {
		if aws.ToString(s.VpcId) == id {
			return "subnet " + k
		}
	}
	for k, g := range f.igws {
		for _, a := range g.Attachments {
			if aws.ToString(a.VpcId) == id {
				return "internet gateway " + k
			}
		}
	}
	for k, r := range f.rtbs {
		if aws.ToString(r.VpcId) == id && !isMain(r) {
			return "route table " + k
		}
	}
	for k, e := range f.endpoints {
		if aws.ToString(e.VpcId) == id {
			return "VPC endpoint " + k
		}
	}
	for k, g := range f.sgs {
		if aws.ToString(g.VpcId) == id && aws.ToString(g.GroupName) != "default" {
			return "security group " + k
		}
	}
	return ""
}

func isMain(r *types.RouteTable) bool {
	for _, a := range r.Associations {
		if aws.ToBool(a.Main) {
			return true
		}
	}
	return false
}

// ---- subnets ----

func (f *EC2) CreateSubnet(ctx context.Context, in *ec2.CreateSubnetInput, _ ...func(*ec2.Options)) (*ec2.CreateSubnetOutput, error) {
	fault, err := f.begin(ctx, "CreateSubnet")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	vpcID := aws.ToString(in.VpcId)
	v, ok := f.vpcs[vpcID]
	if !ok {
		return nil, APIError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	cidr := aws.ToString(in.CidrBlock)
	p, err := netip.ParsePrefix(cidr)
	vp := netip.MustParsePrefix(*v.vpc.CidrBlock)
	if err != nil || p != p.Masked() || p.Bits() > 28 || p.Bits() < vp.Bits() || !vp.Contains(p.Addr()) {
		return nil, APIError("InvalidSubnet.Range", "The CIDR '%s' is invalid.", cidr)
	}
	for _, s := range f.subnets {
		if aws.ToString(s.VpcId) == vpcID && netip.MustParsePrefix(*s.CidrBlock).Overlaps(p) {
			return nil, APIError("InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", cidr)
		}
	}
	az := aws.ToString(in.AvailabilityZone)
	if !containsString(f.Zones, az) {
		return nil, APIError("InvalidParameterValue", "Value (%s) for parameter availabilityZone is invalid.", az)
	}
	id := f.id("subnet")
	s := &types.Subnet{SubnetId: aws.String(id), VpcId: in.VpcId, CidrBlock: in.CidrBlock, AvailabilityZone: aws.String(az),
		State: types.SubnetStateAvailable, MapPublicIpOnLaunch: aws.Bool(false), AvailableIpAddressCount: aws.Int32(int32(1<<(32-p.Bits())) - 5),
		Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeSubnet)}
	f.subnets[id] = s
	c := *s
	return finish(&ec2.CreateSubnetOutput{Subnet: &c}, nil, fault)
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (f *EC2) DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	fault, err := f.begin(ctx, "DescribeSubnets")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ss, err := describe(f.subnets, in.SubnetIds, "InvalidSubnetID.NotFound", in.Filters, func(s *types.Subnet) ([]types.Tag, map[string][]string) {
		return s.Tags, map[string][]string{"subnet-id": {*s.SubnetId}, "vpc-id": {*s.VpcId}, "cidr-block": {*s.CidrBlock},
			"availability-zone": {*s.AvailabilityZone}, "state": {string(s.State)}}
	})
	if err != nil {
		return nil, err
	}
	return finish(&ec2.DescribeSubnetsOutput{Subnets: ss}, nil, fault)
}

func (f *EC2) ModifySubnetAttribute(ctx context.Context, in *ec2.ModifySubnetAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifySubnetAttributeOutput, error) {
	fault, err := f.begin(ctx, "ModifySubnetAttribute")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.subnets[aws.ToString(in.SubnetId)]
	if !ok {
		return nil, APIError("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", aws.ToString(in.SubnetId))
	}
	if in.MapPublicIpOnLaunch != nil {
		s.MapPublicIpOnLaunch = in.MapPublicIpOnLaunch.Value
	}
	return finish(&ec2.ModifySubnetAttributeOutput{}, nil, fault)
}

func (f *EC2) DeleteSubnet(ctx context.Context, in *ec2.DeleteSubnetInput, _ ...func(*ec2.Options)) (*ec2.DeleteSubnetOutput, error) {
	fault, err := f.begin(ctx, "DeleteSubnet")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.SubnetId)
	if _, ok := f.subnets[id]; !ok {
		return nil, APIError("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	}
	if dep := f.subnetDependency(id); dep != "" {
		return nil, APIError("DependencyViolation", "The subnet '%s' has dependencies and cannot be deleted (%s).", id, dep)
	}
	for _, r := range f.rtbs {
		kept := r.Associations[:0]
		for _, a := range r.Associations {
			if aws.ToString(a.SubnetId) != id {
				kept = append(kept, a)
			}
		}
		r.Associations = kept
	}
	delete(f.subnets, id)
	return finish(&ec2.DeleteSubnetOutput{}, nil, fault)
}

func (f *EC2) subnetDependency(id string) string {
	for _, users := range f.users {
		if d := users("subnet", id); d != "" {
			return d
		}
	}
	return ""
}

// AddUsers registers a check that names what still uses a resource of a kind
// ("subnet", "security-group", ...), e.g. instances or load balancers of
// another fake, so deletes fail with DependencyViolation as in AWS.
func (f *EC2) AddUsers(check func(kind, id string) string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users = append(f.users, check)
}
