package fakeaws

import "github.com/aws/aws-sdk-go-v2/aws"

// Read helpers the RDS fake uses to check the subnets and security groups it
// is given, without a logged API call. They take the EC2 lock, so the RDS
// fake calls them before taking its own (AddUsers checks run under the EC2
// lock and take the RDS lock).

// rdsSubnetPlacement returns a subnet's availability zone and VPC.
func (f *EC2) rdsSubnetPlacement(id string) (zone, vpc string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.subnets[id]
	if !ok {
		return "", "", false
	}
	return aws.ToString(s.AvailabilityZone), aws.ToString(s.VpcId), true
}

// rdsSecurityGroupVPC returns a security group's VPC (ok is false for a
// group the EC2 fake does not know).
func (f *EC2) rdsSecurityGroupVPC(id string) (vpc string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.sgs[id]
	if !ok {
		return "", false
	}
	return aws.ToString(g.VpcId), true
}
