package fakeaws

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// ---- load balancers ----

// lbNetwork is a load balancer's checked subnets and security groups.
type lbNetwork struct {
	vpc     string
	subnets []string
	zones   []types.AvailabilityZone
	groups  []string
}

// checkNetwork validates subnets (two AZs at least, one subnet per AZ, one
// VPC) and security groups against the EC2 fake. It runs before the ELBV2
// lock is taken (EC2 calls back into ELBV2 under its own lock).
func (f *ELBV2) checkNetwork(subnets []string, mappings []types.SubnetMapping, groups []string) (lbNetwork, error) {
	for _, m := range mappings {
		subnets = append(subnets, aws.ToString(m.SubnetId))
	}
	var n lbNetwork
	zones := map[string]bool{}
	dupZone := false
	for _, s := range subnets {
		zone, vpc, ok := f.ec2.SubnetZone(s)
		if !ok {
			return n, APIError("SubnetNotFound", "The subnet ID '%s' is not valid", s)
		}
		if n.vpc != "" && vpc != n.vpc {
			return n, APIError("InvalidConfigurationRequest", "The subnets must belong to the same VPC ('%s' is in '%s', not '%s')", s, vpc, n.vpc)
		}
		n.vpc = vpc
		dupZone = dupZone || zones[zone]
		zones[zone] = true
		n.subnets = append(n.subnets, s)
		n.zones = append(n.zones, types.AvailabilityZone{SubnetId: aws.String(s), ZoneName: aws.String(zone)})
	}
	if len(zones) < 2 {
		return n, APIError("ValidationError", "At least two subnets in two different Availability Zones must be specified")
	}
	if dupZone {
		return n, APIError("InvalidConfigurationRequest", "A load balancer cannot be attached to multiple subnets in the same Availability Zone")
	}
	if len(groups) == 0 {
		if sg, ok := f.ec2.DefaultSecurityGroup(n.vpc); ok {
			groups = []string{sg}
		}
	}
	for _, g := range groups {
		if vpc, ok := f.ec2.SecurityGroupVPC(g); !ok || vpc != n.vpc {
			return n, APIError("InvalidSecurityGroup", "Security group '%s' does not exist in VPC '%s'", g, n.vpc)
		}
	}
	n.groups = slices.Clone(groups)
	return n, nil
}

func sameELBSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func (f *ELBV2) CreateLoadBalancer(ctx context.Context, in *elbv2.CreateLoadBalancerInput, _ ...func(*elbv2.Options)) (*elbv2.CreateLoadBalancerOutput, error) {
	fault, err := f.begin(ctx, "CreateLoadBalancer")
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.Name)
	if err := validELBName("Load balancer", name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "internal-") {
		return nil, APIError("ValidationError", "Load balancer name '%s' cannot begin with 'internal-'", name)
	}
	typ, scheme, ipType := in.Type, in.Scheme, in.IpAddressType
	if typ == "" {
		typ = types.LoadBalancerTypeEnumApplication
	}
	if scheme == "" {
		scheme = types.LoadBalancerSchemeEnumInternetFacing
	}
	if ipType == "" {
		ipType = types.IpAddressTypeIpv4
	}
	if typ != types.LoadBalancerTypeEnumApplication {
		return nil, APIError("ValidationError", "the fake supports application load balancers only, not '%s'", typ)
	}
	if err := validELBTags(in.Tags); err != nil {
		return nil, err
	}
	n, err := f.checkNetwork(in.Subnets, in.SubnetMappings, in.SecurityGroups)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, other := range f.sortedLBs() {
		if other.gone || aws.ToString(other.lb.LoadBalancerName) != name {
			continue
		}
		if other.lb.Scheme == scheme && sameELBSet(other.subnets, n.subnets) && sameELBSet(other.lb.SecurityGroups, n.groups) {
			return finish(&elbv2.CreateLoadBalancerOutput{LoadBalancers: []types.LoadBalancer{other.lb}}, nil, fault)
		}
		return nil, APIError("DuplicateLoadBalancerName", "A load balancer with the same name '%s' exists, but with different settings", name)
	}
	dns := fmt.Sprintf("%s-%d.%s.elb.amazonaws.com", name, 1000000000+rand.Int64N(8999999999), f.Region)
	if scheme == types.LoadBalancerSchemeEnumInternal {
		dns = "internal-" + dns
	}
	lb := types.LoadBalancer{LoadBalancerArn: aws.String(f.arn("loadbalancer", "app/"+name)), LoadBalancerName: aws.String(name),
		DNSName: aws.String(dns), CanonicalHostedZoneId: aws.String("Z35SXDOTRQ7X7K"), CreatedTime: aws.Time(time.Now()),
		Scheme: scheme, Type: typ, IpAddressType: ipType, VpcId: aws.String(n.vpc), AvailabilityZones: n.zones,
		SecurityGroups: n.groups, State: &types.LoadBalancerState{Code: types.LoadBalancerStateEnumProvisioning}}
	f.lbs[*lb.LoadBalancerArn] = &fakeLB{seq: f.seq, lb: lb, tags: slices.Clone(in.Tags), subnets: n.subnets}
	return finish(&elbv2.CreateLoadBalancerOutput{LoadBalancers: []types.LoadBalancer{lb}}, nil, fault)
}

func (f *ELBV2) DescribeLoadBalancers(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	fault, err := f.begin(ctx, "DescribeLoadBalancers")
	if err != nil {
		return nil, err
	}
	if len(in.LoadBalancerArns) > 0 && len(in.Names) > 0 {
		return nil, APIError("ValidationError", "Load balancer ARNs and names cannot be specified together")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []*fakeLB
	found := map[string]bool{}
	for _, lb := range f.sortedLBs() {
		arn, name := aws.ToString(lb.lb.LoadBalancerArn), aws.ToString(lb.lb.LoadBalancerName)
		if (len(in.LoadBalancerArns) > 0 && !slices.Contains(in.LoadBalancerArns, arn)) || (len(in.Names) > 0 && !slices.Contains(in.Names, name)) {
			continue
		}
		found[arn], found[name] = true, true
		all = append(all, lb)
	}
	for _, want := range append(slices.Clone(in.LoadBalancerArns), in.Names...) {
		if !found[want] {
			return nil, APIError("LoadBalancerNotFound", "One or more load balancers not found")
		}
	}
	lbs, next, err := elbPage(all, in.Marker, in.PageSize, f.PageSize)
	if err != nil {
		return nil, err
	}
	out := &elbv2.DescribeLoadBalancersOutput{NextMarker: next}
	for _, lb := range lbs {
		out.LoadBalancers = append(out.LoadBalancers, f.observeLB(lb))
	}
	return finish(out, nil, fault)
}

// observeLB returns a load balancer as one describe sees it, moving it along
// (provisioning → active; a deleted one fades out).
func (f *ELBV2) observeLB(lb *fakeLB) types.LoadBalancer {
	if lb.gone {
		if lb.visibleLeft--; lb.visibleLeft <= 0 {
			delete(f.lbs, aws.ToString(lb.lb.LoadBalancerArn))
		}
		return lb.lb
	}
	lb.describes++
	if f.ProvisioningTime == 0 && lb.describes > f.ProvisioningDescribes ||
		f.ProvisioningTime > 0 && time.Since(aws.ToTime(lb.lb.CreatedTime)) >= f.ProvisioningTime {
		lb.lb.State = &types.LoadBalancerState{Code: types.LoadBalancerStateEnumActive}
	}
	v := lb.lb
	v.State = &types.LoadBalancerState{Code: lb.lb.State.Code}
	return v
}

func (f *ELBV2) loadBalancer(arn *string) (*fakeLB, error) {
	lb, ok := f.lbs[aws.ToString(arn)]
	if !ok || lb.gone {
		return nil, APIError("LoadBalancerNotFound", "Load balancer '%s' not found", aws.ToString(arn))
	}
	return lb, nil
}

func (f *ELBV2) SetSecurityGroups(ctx context.Context, in *elbv2.SetSecurityGroupsInput, _ ...func(*elbv2.Options)) (*elbv2.SetSecurityGroupsOutput, error) {
	fault, err := f.begin(ctx, "SetSecurityGroups")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	lb, err := f.loadBalancer(in.LoadBalancerArn)
	var subnets []string
	if err == nil {
		subnets = slices.Clone(lb.subnets)
	}
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if len(in.SecurityGroups) == 0 {
		return nil, APIError("ValidationError", "At least one security group must be specified")
	}
	n, err := f.checkNetwork(subnets, nil, in.SecurityGroups)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if lb, err = f.loadBalancer(in.LoadBalancerArn); err != nil {
		return nil, err
	}
	f.drain(lb, nil, lb.lb.SecurityGroups)
	lb.lb.SecurityGroups = n.groups
	return finish(&elbv2.SetSecurityGroupsOutput{SecurityGroupIds: slices.Clone(n.groups)}, nil, fault)
}

func (f *ELBV2) SetSubnets(ctx context.Context, in *elbv2.SetSubnetsInput, _ ...func(*elbv2.Options)) (*elbv2.SetSubnetsOutput, error) {
	fault, err := f.begin(ctx, "SetSubnets")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	lb, err := f.loadBalancer(in.LoadBalancerArn)
	var groups []string
	if err == nil {
		groups = slices.Clone(lb.lb.SecurityGroups)
	}
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	n, err := f.checkNetwork(in.Subnets, in.SubnetMappings, groups)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if lb, err = f.loadBalancer(in.LoadBalancerArn); err != nil {
		return nil, err
	}
	if n.vpc != aws.ToString(lb.lb.VpcId) {
		return nil, APIError("InvalidConfigurationRequest", "The subnets must belong to the load balancer's VPC '%s'", aws.ToString(lb.lb.VpcId))
	}
	f.drain(lb, lb.subnets, nil)
	lb.subnets, lb.lb.AvailabilityZones = n.subnets, n.zones
	return finish(&elbv2.SetSubnetsOutput{AvailabilityZones: slices.Clone(n.zones), IpAddressType: lb.lb.IpAddressType}, nil, fault)
}

// drain keeps subnets and groups a load balancer stops using in use for ENIDrain.
func (f *ELBV2) drain(lb *fakeLB, subnets, groups []string) {
	now := time.Now()
	f.draining = slices.DeleteFunc(f.draining, func(d drainingENIs) bool { return !now.Before(d.until) })
	if f.ENIDrain > 0 {
		f.draining = append(f.draining, drainingENIs{lbName: aws.ToString(lb.lb.LoadBalancerName),
			subnets: slices.Clone(subnets), groups: slices.Clone(groups), until: now.Add(f.ENIDrain)})
	}
}

// DeleteLoadBalancer deletes the load balancer and its listeners. As in AWS,
// deleting one that does not exist succeeds.
func (f *ELBV2) DeleteLoadBalancer(ctx context.Context, in *elbv2.DeleteLoadBalancerInput, _ ...func(*elbv2.Options)) (*elbv2.DeleteLoadBalancerOutput, error) {
	fault, err := f.begin(ctx, "DeleteLoadBalancer")
	if err != nil {
		return nil, err
	}
	if aws.ToString(in.LoadBalancerArn) == "" {
		return nil, APIError("ValidationError", "A load balancer ARN must be specified")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	lb, err := f.loadBalancer(in.LoadBalancerArn)
	if err != nil {
		return finish(&elbv2.DeleteLoadBalancerOutput{}, nil, fault)
	}
	arn := aws.ToString(in.LoadBalancerArn)
	for k, l := range f.listeners {
		if aws.ToString(l.l.LoadBalancerArn) == arn {
			delete(f.listeners, k)
		}
	}
	f.drain(lb, lb.subnets, lb.lb.SecurityGroups)
	if f.VisibleAfterDelete > 0 {
		lb.gone, lb.visibleLeft = true, f.VisibleAfterDelete
	} else {
		delete(f.lbs, arn)
	}
	return finish(&elbv2.DeleteLoadBalancerOutput{}, nil, fault)
}

// ---- listeners ----

// actionTargetGroups lists the target groups actions forward to.
func actionTargetGroups(actions []types.Action) []string {
	var out []string
	for _, a := range actions {
		if a.TargetGroupArn != nil {
			out = append(out, *a.TargetGroupArn)
		}
		if a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				if t.TargetGroupArn != nil && !slices.Contains(out, *t.TargetGroupArn) {
					out = append(out, *t.TargetGroupArn)
				}
			}
		}
	}
	return out
}

// checkListener validates a listener's protocol, port and default actions
// on load balancer lb; self is the listener being modified, if any.
func (f *ELBV2) checkListener(lb *fakeLB, self string, protocol types.ProtocolEnum, port int32, certs []types.Certificate, actions []types.Action) error {
	switch {
	case protocol != types.ProtocolEnumHttp && protocol != types.ProtocolEnumHttps:
		return APIError("ValidationError", "Listener protocol '%s' must be one of 'HTTP, HTTPS' for an application load balancer", protocol)
	case protocol == types.ProtocolEnumHttps && len(certs) == 0:
		return APIError("ValidationError", "A certificate must be specified for HTTPS listeners")
	case port < 1 || port > 65535:
		return APIError("ValidationError", "Listener port '%d' must be between 1 and 65535", port)
	case len(actions) == 0:
		return APIError("ValidationError", "At least one default action must be specified")
	}
	for _, a := range actions {
		switch a.Type {
		case types.ActionTypeEnumForward:
			if len(actionTargetGroups([]types.Action{a})) == 0 {
				return APIError("ValidationError", "A target group ARN must be specified for a forward action")
			}
		case types.ActionTypeEnumFixedResponse, types.ActionTypeEnumRedirect:
		default:
			return APIError("ValidationError", "the fake supports forward, fixed-response and redirect actions, not '%s'", a.Type)
		}
	}
	lbARN := aws.ToString(lb.lb.LoadBalancerArn)
	for _, arn := range actionTargetGroups(actions) {
		t, err := f.targetGroup(aws.String(arn))
		if err != nil {
			return err
		}
		if aws.ToString(t.tg.VpcId) != aws.ToString(lb.lb.VpcId) {
			return APIError("ValidationError", "The target group '%s' is in VPC '%s', not in the load balancer's VPC", arn, aws.ToString(t.tg.VpcId))
		}
		for _, other := range f.lbsOfTG(arn) {
			if other != lbARN {
				return APIError("TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: %s", arn)
			}
		}
	}
	for k, l := range f.listeners {
		if k != self && aws.ToString(l.l.LoadBalancerArn) == lbARN && aws.ToInt32(l.l.Port) == port {
			return APIError("DuplicateListener", "A listener already exists on port %d of this load balancer", port)
		}
	}
	return nil
}

func (f *ELBV2) CreateListener(ctx context.Context, in *elbv2.CreateListenerInput, _ ...func(*elbv2.Options)) (*elbv2.CreateListenerOutput, error) {
	fault, err := f.begin(ctx, "CreateListener")
	if err != nil {
		return nil, err
	}
	if err := validELBTags(in.Tags); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	lb, err := f.loadBalancer(in.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	port := aws.ToInt32(in.Port)
	for _, l := range f.sortedListeners() { // AWS: same settings, same answer
		if aws.ToString(l.l.LoadBalancerArn) == aws.ToString(in.LoadBalancerArn) && aws.ToInt32(l.l.Port) == port &&
			l.l.Protocol == in.Protocol && slices.Equal(actionTargetGroups(l.l.DefaultActions), actionTargetGroups(in.DefaultActions)) {
			return finish(&elbv2.CreateListenerOutput{Listeners: []types.Listener{l.l}}, nil, fault)
		}
	}
	if err := f.checkListener(lb, "", in.Protocol, port, in.Certificates, in.DefaultActions); err != nil {
		return nil, err
	}
	_, lbPath, _ := strings.Cut(aws.ToString(lb.lb.LoadBalancerArn), ":loadbalancer/")
	l := types.Listener{ListenerArn: aws.String(f.arn("listener", lbPath)), LoadBalancerArn: in.LoadBalancerArn, Port: aws.Int32(port),
		Protocol: in.Protocol, DefaultActions: slices.Clone(in.DefaultActions), Certificates: slices.Clone(in.Certificates), SslPolicy: in.SslPolicy}
	f.listeners[*l.ListenerArn] = &fakeListener{seq: f.seq, l: l, tags: slices.Clone(in.Tags)}
	return finish(&elbv2.CreateListenerOutput{Listeners: []types.Listener{l}}, nil, fault)
}

func (f *ELBV2) DescribeListeners(ctx context.Context, in *elbv2.DescribeListenersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	fault, err := f.begin(ctx, "DescribeListeners")
	if err != nil {
		return nil, err
	}
	if (in.LoadBalancerArn == nil) == (len(in.ListenerArns) == 0) {
		return nil, APIError("ValidationError", "Either a load balancer ARN or listener ARNs must be specified, not both")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.LoadBalancerArn != nil {
		if _, err := f.loadBalancer(in.LoadBalancerArn); err != nil {
			return nil, err
		}
	}
	for _, arn := range in.ListenerArns {
		if _, ok := f.listeners[arn]; !ok {
			return nil, APIError("ListenerNotFound", "One or more listeners not found")
		}
	}
	var all []types.Listener
	for _, l := range f.sortedListeners() {
		if (in.LoadBalancerArn != nil && aws.ToString(l.l.LoadBalancerArn) == *in.LoadBalancerArn) || slices.Contains(in.ListenerArns, aws.ToString(l.l.ListenerArn)) {
			all = append(all, l.l)
		}
	}
	ls, next, err := elbPage(all, in.Marker, in.PageSize, f.PageSize)
	if err != nil {
		return nil, err
	}
	return finish(&elbv2.DescribeListenersOutput{Listeners: ls, NextMarker: next}, nil, fault)
}

func (f *ELBV2) ModifyListener(ctx context.Context, in *elbv2.ModifyListenerInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error) {
	fault, err := f.begin(ctx, "ModifyListener")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	arn := aws.ToString(in.ListenerArn)
	l, ok := f.listeners[arn]
	if !ok {
		return nil, APIError("ListenerNotFound", "Listener '%s' not found", arn)
	}
	next := l.l
	if in.Port != nil {
		next.Port = in.Port
	}
	if in.Protocol != "" {
		next.Protocol = in.Protocol
	}
	if in.DefaultActions != nil {
		next.DefaultActions = slices.Clone(in.DefaultActions)
	}
	if in.Certificates != nil {
		next.Certificates = slices.Clone(in.Certificates)
	}
	lb, err := f.loadBalancer(l.l.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	if err := f.checkListener(lb, arn, next.Protocol, aws.ToInt32(next.Port), next.Certificates, next.DefaultActions); err != nil {
		return nil, err
	}
	l.l = next
	return finish(&elbv2.ModifyListenerOutput{Listeners: []types.Listener{next}}, nil, fault)
}

func (f *ELBV2) DeleteListener(ctx context.Context, in *elbv2.DeleteListenerInput, _ ...func(*elbv2.Options)) (*elbv2.DeleteListenerOutput, error) {
	fault, err := f.begin(ctx, "DeleteListener")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	arn := aws.ToString(in.ListenerArn)
	if _, ok := f.listeners[arn]; !ok {
		return nil, APIError("ListenerNotFound", "Listener '%s' not found", arn)
	}
	delete(f.listeners, arn)
	return finish(&elbv2.DeleteListenerOutput{}, nil, fault)
}
