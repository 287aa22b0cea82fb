package steps

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Outputs of stage 1 that later stages read.
const (
	OutVPCID             = "vpc_id"
	OutZones             = "availability_zones"
	OutPublicSubnets     = "public_subnet_ids"
	OutPrivateSubnets    = "private_subnet_ids"
	OutPublicRouteTable  = "public_route_table_id"
	OutPrivateRouteTable = "private_route_table_id"
)

func vpcStage() *Stage {
	return &Stage{
		Number: 1, Name: "vpc", Title: "VPC, subnets, internet gateway, route tables, S3 endpoint",
		Apply: applyVPC,
		// Deletion order: what depends on the VPC first, the VPC last.
		Kinds: []*Kind{vpcEndpointKind, subnetKind, routeTableKind, internetGatewayKind, vpcKind},
	}
}

// network is what stage 1 builds, as ids (planned ids in a dry run).
type network struct {
	vpc, igw              string
	public, private       []string
	publicRTB, privateRTB string
	zones                 []string
}

func applyVPC(ctx context.Context, r *Run) error {
	zones, err := chooseZones(ctx, r)
	if err != nil {
		return err
	}
	n := network{zones: zones}
	if n.vpc, err = ensureVPC(ctx, r); err != nil {
		return err
	}
	if n.igw, err = ensureInternetGateway(ctx, r, n.vpc); err != nil {
		return err
	}
	for i, cidr := range r.Cfg.VPC.PublicSubnetCIDRs {
		id, err := ensureSubnet(ctx, r, n.vpc, subnetRole{"public", i + 1, cidr, zones[i]})
		if err != nil {
			return err
		}
		n.public = append(n.public, id)
	}
	for i, cidr := range r.Cfg.VPC.PrivateSubnetCIDRs {
		// The database subnets sit in the backend zones (3 and 4).
		id, err := ensureSubnet(ctx, r, n.vpc, subnetRole{"private", i + 1, cidr, zones[2+i]})
		if err != nil {
			return err
		}
		n.private = append(n.private, id)
	}
	if n.publicRTB, err = ensureRouteTable(ctx, r, n.vpc, "public", n.public, n.igw); err != nil {
		return err
	}
	if n.privateRTB, err = ensureRouteTable(ctx, r, n.vpc, "private", n.private, ""); err != nil {
		return err
	}
	if err := ensureS3Endpoint(ctx, r, n.vpc, []string{n.publicRTB, n.privateRTB}); err != nil {
		return err
	}
	return writeNetworkOutputs(r, n)
}

func writeNetworkOutputs(r *Run, n network) error {
	for k, v := range map[string]string{
		OutVPCID: n.vpc, OutZones: strings.Join(n.zones, ","),
		OutPublicSubnets: strings.Join(n.public, ","), OutPrivateSubnets: strings.Join(n.private, ","),
		OutPublicRouteTable: n.publicRTB, OutPrivateRouteTable: n.privateRTB,
	} {
		if err := r.SetOutput(k, v); err != nil {
			return err
		}
	}
	return nil
}

// chooseZones picks the four AZs: those recorded before (so a later change
// in offerings never moves subnets), else the configured ones, else the
// first four available zones of the region that offer the instance type.
func chooseZones(ctx context.Context, r *Run) ([]string, error) {
	if z := r.State.Output(r.Stage.Name, OutZones); z != "" {
		return strings.Split(z, ","), nil
	}
	offered, err := zonesOffering(ctx, r.Env, r.Cfg.InstanceType)
	if err != nil {
		return nil, &StageError{Stage: r.Stage.Name, Action: "list", Resource: "availability zones", Err: err}
	}
	if want := r.Cfg.VPC.AvailabilityZones; len(want) > 0 {
		for _, z := range want {
			if !contains(offered, z) {
				return nil, fmt.Errorf("stage vpc: vpc.availability_zones: %s does not offer %s (zones that do: %s)", z, r.Cfg.InstanceType, strings.Join(offered, ", "))
			}
		}
		return want, nil
	}
	if len(offered) < 4 {
		return nil, fmt.Errorf("stage vpc: region %s has only %d available zones offering %s (%s); 4 are needed: choose another region or instance_type",
			r.Cfg.Region, len(offered), r.Cfg.InstanceType, strings.Join(offered, ", "))
	}
	return offered[:4], nil
}

func zonesOffering(ctx context.Context, e *Env, instanceType string) ([]string, error) {
	azs, err := e.AWS.EC2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{Filters: []ec2types.Filter{
		awsx.EC2Filter("state", "available"), awsx.EC2Filter("zone-type", "availability-zone"),
		awsx.EC2Filter("opt-in-status", "opt-in-not-required"),
	}})
	if err != nil {
		return nil, err
	}
	offers, err := e.AWS.EC2.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{
		LocationType: ec2types.LocationTypeAvailabilityZone,
		Filters:      []ec2types.Filter{awsx.EC2Filter("instance-type", instanceType)},
	})
	if err != nil {
		return nil, err
	}
	offered := map[string]bool{}
	for _, o := range offers.InstanceTypeOfferings {
		offered[aws.ToString(o.Location)] = true
	}
	var zones []string
	for _, z := range azs.AvailabilityZones {
		if name := aws.ToString(z.ZoneName); offered[name] {
			zones = append(zones, name)
		}
	}
	sort.Strings(zones)
	return zones, nil
}

func ensureVPC(ctx context.Context, r *Run) (string, error) {
	name := r.Name(r.Cfg.VPC.Name)
	id, err := r.Ensure(ctx, Spec{Key: "vpc", Kind: vpcKind, Name: name, Detail: r.Cfg.VPC.CIDR,
		Create: func(ctx context.Context, _ string) (string, error) {
			out, err := r.AWS.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(r.Cfg.VPC.CIDR),
				TagSpecifications: r.Tags(name).EC2Spec(ec2types.ResourceTypeVpc)}, awsx.EC2CreateOnce)
			if err != nil {
				return "", err
			}
			return aws.ToString(out.Vpc.VpcId), nil
		}})
	if err != nil || isPlanned(id) {
		return id, err
	}
	if err := waitVPCAvailable(ctx, r, id); err != nil {
		return "", err
	}
	if err := checkVPCRange(ctx, r, id); err != nil {
		return "", err
	}
	return id, ensureVPCDNS(ctx, r, id, name)
}

func waitVPCAvailable(ctx context.Context, r *Run, id string) error {
	// What this run has read already may say there is nothing to wait for.
	if out, err := r.AWS.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}}); err == nil && len(out.Vpcs) == 1 && out.Vpcs[0].State == ec2types.VpcStateAvailable {
		return nil
	}
	spec := r.wait("VPC "+id+" to become available", 0, "check it with `aws ec2 describe-vpcs --vpc-ids "+id+"`")
	return awsx.WaitWithProgress(ctx, spec, func(ctx context.Context, maxWait time.Duration) error {
		w := ec2.NewVpcAvailableWaiter(r.AWS.EC2, func(o *ec2.VpcAvailableWaiterOptions) {
			o.MinDelay, o.MaxDelay = spec.Interval, spec.Interval
		})
		return w.Wait(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}}, maxWait)
	})
}

func checkVPCRange(ctx context.Context, r *Run, id string) error {
	out, err := r.AWS.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "ec2:vpc " + id, Err: err}
	}
	if got := aws.ToString(out.Vpcs[0].CidrBlock); got != r.Cfg.VPC.CIDR {
		return fmt.Errorf("stage vpc: VPC %s has CIDR %s but vpc.cidr is %s: a VPC's range cannot change; restore the setting, or `myappctl destroy` and build again", id, got, r.Cfg.VPC.CIDR)
	}
	return nil
}

// ensureVPCDNS turns on DNS support and hostnames (instances get public DNS names).
func ensureVPCDNS(ctx context.Context, r *Run, id, name string) error {
	for _, attr := range []ec2types.VpcAttributeName{ec2types.VpcAttributeNameEnableDnsSupport, ec2types.VpcAttributeNameEnableDnsHostnames} {
		out, err := r.AWS.EC2.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(id), Attribute: attr})
		if err != nil {
			return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "ec2:vpc " + name, Err: err}
		}
		on := out.EnableDnsHostnames
		if attr == ec2types.VpcAttributeNameEnableDnsSupport {
			on = out.EnableDnsSupport
		}
		if on != nil && aws.ToBool(on.Value) {
			continue
		}
		in := &ec2.ModifyVpcAttributeInput{VpcId: aws.String(id)}
		if attr == ec2types.VpcAttributeNameEnableDnsSupport {
			in.EnableDnsSupport = &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}
		} else {
			in.EnableDnsHostnames = &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}
		}
		err = r.change("modify", vpcKind.Type, name, "turn on "+string(attr), func() error {
			_, err := r.AWS.EC2.ModifyVpcAttribute(ctx, in)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func ensureInternetGateway(ctx context.Context, r *Run, vpcID string) (string, error) {
	name := r.Name("MyApp-igw")
	id, err := r.Ensure(ctx, Spec{Key: "internet-gateway", Kind: internetGatewayKind, Name: name,
		Create: func(ctx context.Context, _ string) (string, error) {
			out, err := r.AWS.EC2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
				TagSpecifications: r.Tags(name).EC2Spec(ec2types.ResourceTypeInternetGateway)}, awsx.EC2CreateOnce)
			if err != nil {
				return "", err
			}
			return aws.ToString(out.InternetGateway.InternetGatewayId), nil
		}})
	if err != nil {
		return "", err
	}
	var attachedTo []string
	if !isPlanned(id) {
		g, err := describeInternetGateway(ctx, r.Env, id)
		if err != nil {
			return "", &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "ec2:internet-gateway " + id, Err: err}
		}
		for _, a := range g.Attachments {
			attachedTo = append(attachedTo, aws.ToString(a.VpcId))
		}
	}
	switch {
	case contains(attachedTo, vpcID):
		return id, nil
	case len(attachedTo) > 0:
		return "", fmt.Errorf("stage vpc: internet gateway %s is attached to %s, not %s: detach it in the console and run again", id, attachedTo[0], vpcID)
	}
	return id, r.change("modify", internetGatewayKind.Type, name, "attach to "+vpcID, func() error {
		_, err := r.AWS.EC2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(id), VpcId: aws.String(vpcID)})
		return err
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
