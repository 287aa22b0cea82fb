package fakeaws

import "github.com/aws/aws-sdk-go-v2/aws"

// Read helpers other fakes use to check what they are given (a load
// balancer's or a database's subnets and security groups), without a logged API call.
// They take the EC2 lock: callers must not hold their own lock meanwhile
// if EC2 may call back into them (AddUsers checks run under the EC2 lock).

// SubnetZone returns a subnet's availability zone and VPC.
func (f *EC2) SubnetZone(id string) (zone, vpc string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.subnets[id]
	if !ok {
		return "", "", false
	}
	return aws.ToString(s.AvailabilityZone), aws.ToString(s.VpcId), true
}

// SecurityGroupVPC returns the VPC of a security group.
func (f *EC2) SecurityGroupVPC(id string) (vpc string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.sgs[id]
	if !ok {
		return "", false
	}
	return aws.ToString(g.VpcId), true
}

// DefaultSecurityGroup returns the id of a VPC's default security group.
func (f *EC2) DefaultSecurityGroup(vpcID string) (id string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, g := range f.sgs {
		if aws.ToString(g.VpcId) == vpcID && aws.ToString(g.GroupName) == "default" {
			return k, true
		}
	}
	return "", false
}

// VPCExists reports whether a VPC exists.
func (f *EC2) VPCExists(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.vpcs[id]
	return ok
}
