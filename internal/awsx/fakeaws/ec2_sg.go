package fakeaws

import (
	"context"
	"net/netip"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// sgRule is one flattened security-group rule (one source, one port range).
type sgRule struct {
	id       string
	egress   bool
	proto    string // "tcp", "udp", "icmp" or "-1"
	from, to int32
	cidr     string
	group    string
	desc     string
}

func (r sgRule) same(o sgRule) bool {
	return r.egress == o.egress && r.proto == o.proto && r.from == o.from && r.to == o.to && r.cidr == o.cidr && r.group == o.group
}

func (f *EC2) CreateSecurityGroup(ctx context.Context, in *ec2.CreateSecurityGroupInput, _ ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error) {
	fault, err := f.begin(ctx, "CreateSecurityGroup")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	name, desc, vpcID := aws.ToString(in.GroupName), aws.ToString(in.Description), aws.ToString(in.VpcId)
	switch {
	case name == "" || len(name) > 255 || strings.HasPrefix(name, "sg-"):
		return nil, APIError("InvalidParameterValue", "Invalid security group name '%s'", name)
	case desc == "" || len(desc) > 255:
		return nil, APIError("InvalidParameterValue", "Invalid security group description")
	case vpcID == "":
		return nil, APIError("VPCIdNotSpecified", "No default VPC for this user")
	}
	if _, ok := f.vpcs[vpcID]; !ok {
		return nil, APIError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	for _, g := range f.sgs {
		if aws.ToString(g.VpcId) == vpcID && aws.ToString(g.GroupName) == name {
			return nil, APIError("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpcID)
		}
	}
	id := f.id("sg")
	g := &types.SecurityGroup{GroupId: aws.String(id), GroupName: aws.String(name), Description: aws.String(desc), VpcId: aws.String(vpcID),
		OwnerId: aws.String(Account), SecurityGroupArn: aws.String("arn:aws:ec2:" + f.Region + ":" + Account + ":security-group/" + id),
		Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeSecurityGroup)}
	f.sgs[id] = g
	// Like AWS: a new group allows all outbound traffic.
	c.rules[id] = []sgRule{{id: f.id("sgr"), egress: true, proto: "-1", from: -1, to: -1, cidr: "0.0.0.0/0"}}
	return finish(&ec2.CreateSecurityGroupOutput{GroupId: aws.String(id), SecurityGroupArn: g.SecurityGroupArn, Tags: g.Tags}, nil, fault)
}

func (f *EC2) DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	fault, err := f.begin(ctx, "DescribeSecurityGroups")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	gs, err := describe(f.sgs, in.GroupIds, "InvalidGroup.NotFound", in.Filters, func(g *types.SecurityGroup) ([]types.Tag, map[string][]string) {
		return g.Tags, map[string][]string{"group-id": {*g.GroupId}, "group-name": {*g.GroupName}, "vpc-id": {*g.VpcId},
			"description": {aws.ToString(g.Description)}}
	})
	if err != nil {
		return nil, err
	}
	for i := range gs {
		gs[i].IpPermissions, gs[i].IpPermissionsEgress = renderRules(c.rules[*gs[i].GroupId])
	}
	return finish(&ec2.DescribeSecurityGroupsOutput{SecurityGroups: gs}, nil, fault)
}

// renderRules groups flat rules into IpPermissions by protocol and ports, as
// DescribeSecurityGroups shows them.
func renderRules(rules []sgRule) (ingress, egress []types.IpPermission) {
	add := func(list []types.IpPermission, r sgRule) []types.IpPermission {
		i := -1
		for j, p := range list {
			if aws.ToString(p.IpProtocol) == r.proto && aws.ToInt32(p.FromPort) == r.from && aws.ToInt32(p.ToPort) == r.to {
				i = j
			}
		}
		if i < 0 {
			p := types.IpPermission{IpProtocol: aws.String(r.proto)}
			if r.proto != "-1" {
				p.FromPort, p.ToPort = aws.Int32(r.from), aws.Int32(r.to)
			}
			list, i = append(list, p), len(list)
		}
		var desc *string
		if r.desc != "" {
			desc = aws.String(r.desc)
		}
		if r.cidr != "" {
			list[i].IpRanges = append(list[i].IpRanges, types.IpRange{CidrIp: aws.String(r.cidr), Description: desc})
		} else {
			list[i].UserIdGroupPairs = append(list[i].UserIdGroupPairs, types.UserIdGroupPair{GroupId: aws.String(r.group), UserId: aws.String(Account), Description: desc})
		}
		return list
	}
	for _, r := range rules {
		if r.egress {
			egress = add(egress, r)
		} else {
			ingress = add(ingress, r)
		}
	}
	return ingress, egress
}

// flatten validates IpPermissions and turns them into rules of group id.
func (f *EC2) flatten(id string, perms []types.IpPermission) ([]sgRule, error) {
	var out []sgRule
	vpc := aws.ToString(f.sgs[id].VpcId)
	for _, p := range perms {
		proto := strings.ToLower(aws.ToString(p.IpProtocol))
		switch proto {
		case "6":
			proto = "tcp"
		case "17":
			proto = "udp"
		case "all":
			proto = "-1"
		}
		from, to := aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort)
		switch {
		case proto == "-1":
			from, to = -1, -1
		case proto != "tcp" && proto != "udp" && proto != "icmp":
			return nil, APIError("InvalidParameterValue", "Invalid value '%s' for IP protocol", aws.ToString(p.IpProtocol))
		case proto != "icmp" && (p.FromPort == nil || p.ToPort == nil || from < 0 || to > 65535 || from > to):
			return nil, APIError("InvalidParameterValue", "Invalid port range %d-%d", from, to)
		}
		if len(p.PrefixListIds) > 0 || len(p.Ipv6Ranges) > 0 {
			return nil, APIError("InvalidParameterValue", "fake supports IPv4 CIDR and group sources only")
		}
		for _, r := range p.IpRanges {
			cidr := aws.ToString(r.CidrIp)
			if pre, err := netip.ParsePrefix(cidr); err != nil || !pre.Addr().Is4() || pre != pre.Masked() {
				return nil, APIError("InvalidParameterValue", "CIDR block %s is malformed", cidr)
			}
			out = append(out, sgRule{proto: proto, from: from, to: to, cidr: cidr, desc: aws.ToString(r.Description)})
		}
		for _, g := range p.UserIdGroupPairs {
			src, ok := f.sgs[aws.ToString(g.GroupId)]
			if !ok {
				return nil, APIError("InvalidGroup.NotFound", "The security group '%s' does not exist", aws.ToString(g.GroupId))
			}
			if aws.ToString(src.VpcId) != vpc {
				return nil, APIError("InvalidGroup.NotFound", "You have specified two resources that belong to different networks.")
			}
			out = append(out, sgRule{proto: proto, from: from, to: to, group: aws.ToString(g.GroupId), desc: aws.ToString(g.Description)})
		}
		if len(p.IpRanges) == 0 && len(p.UserIdGroupPairs) == 0 {
			return nil, APIError("MissingParameter", "The request must contain the parameter ipPermissions source")
		}
	}
	return out, nil
}

func (f *EC2) AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
	fault, err := f.begin(ctx, "AuthorizeSecurityGroupIngress")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	id := aws.ToString(in.GroupId)
	if _, ok := f.sgs[id]; !ok {
		return nil, APIError("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	add, err := f.flatten(id, in.IpPermissions)
	if err != nil {
		return nil, err
	}
	for i, r := range add {
		for _, have := range append(c.rules[id], add[:i]...) {
			if have.same(r) {
				return nil, APIError("InvalidPermission.Duplicate", "the specified rule \"peer: %s%s, %s, from port: %d, to port: %d, ALLOW\" already exists", r.cidr, r.group, r.proto, r.from, r.to)
			}
		}
	}
	out := &ec2.AuthorizeSecurityGroupIngressOutput{Return: aws.Bool(true)}
	for _, r := range add {
		r.id = f.id("sgr")
		c.rules[id] = append(c.rules[id], r)
		out.SecurityGroupRules = append(out.SecurityGroupRules, types.SecurityGroupRule{SecurityGroupRuleId: aws.String(r.id), GroupId: aws.String(id),
			IsEgress: aws.Bool(false), IpProtocol: aws.String(r.proto), FromPort: aws.Int32(r.from), ToPort: aws.Int32(r.to), Description: aws.String(r.desc)})
	}
	return finish(out, nil, fault)
}

// RevokeSecurityGroupIngress removes the rules that match; like AWS for VPC
// groups, rules that do not exist are returned as unknown, not an error.
func (f *EC2) RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error) {
	fault, err := f.begin(ctx, "RevokeSecurityGroupIngress")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	id := aws.ToString(in.GroupId)
	if _, ok := f.sgs[id]; !ok {
		return nil, APIError("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	if len(in.SecurityGroupRuleIds) > 0 {
		return nil, APIError("InvalidParameterValue", "fake supports revoking by IpPermissions only")
	}
	del, err := f.flatten(id, in.IpPermissions)
	if err != nil {
		return nil, err
	}
	out := &ec2.RevokeSecurityGroupIngressOutput{Return: aws.Bool(true)}
	for _, r := range del {
		i := -1
		for j, have := range c.rules[id] {
			if have.same(r) {
				i = j
			}
		}
		if i < 0 {
			unknown, _ := renderRules([]sgRule{r})
			out.UnknownIpPermissions = append(out.UnknownIpPermissions, unknown...)
			continue
		}
		c.rules[id] = append(c.rules[id][:i:i], c.rules[id][i+1:]...)
	}
	return finish(out, nil, fault)
}

func (f *EC2) DeleteSecurityGroup(ctx context.Context, in *ec2.DeleteSecurityGroupInput, _ ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error) {
	fault, err := f.begin(ctx, "DeleteSecurityGroup")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	id := aws.ToString(in.GroupId)
	g, ok := f.sgs[id]
	if !ok {
		return nil, APIError("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	if aws.ToString(g.GroupName) == "default" {
		return nil, APIError("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", id)
	}
	for _, other := range sortedKeys(c.rules) {
		for _, r := range c.rules[other] {
			if other != id && r.group == id {
				return nil, APIError("DependencyViolation", "resource %s has a dependent object (a rule of %s references it)", id, other)
			}
		}
	}
	for _, users := range f.users {
		if d := users("security-group", id); d != "" {
			return nil, APIError("DependencyViolation", "resource %s has a dependent object (%s)", id, d)
		}
	}
	delete(f.sgs, id)
	delete(c.rules, id)
	return finish(&ec2.DeleteSecurityGroupOutput{GroupId: aws.String(id), Return: aws.Bool(true)}, nil, fault)
}
