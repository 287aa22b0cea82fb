package awsx_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws/wire"
)

var bg = context.Background()

// account is a fake account holding a stack's resources and someone
// else's: two subnets, a security group, a running and a terminated
// instance, an image, a target group, a load balancer with a listener and a
// parameter of the stack; a VPC (with its default security group), a
// subnet, a target group and a parameter without the stack's tags.
type account struct {
	cloud *fakeaws.Cloud
	// ids by role: vpc, subnet-1, subnet-2, sg, default-sg, running,
	// terminated, image, tg, param; foreign-vpc, foreign-subnet, foreign-tg,
	// foreign-param.
	ids map[string]string
}

func newAccount(t *testing.T) *account {
	t.Helper()
	cloud := fakeaws.New()
	a := &account{cloud: cloud, ids: map[string]string{}}
	stackTags := func(name string, rt ec2types.ResourceType) []ec2types.TagSpecification {
		return awsx.StackTags("myapp", "test", name).EC2Spec(rt)
	}
	vpc := must(cloud.EC2.CreateVpc(bg, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), TagSpecifications: stackTags("vpc", ec2types.ResourceTypeVpc)}))
	a.ids["vpc"] = aws.ToString(vpc.Vpc.VpcId)
	foreign := must(cloud.EC2.CreateVpc(bg, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")}))
	a.ids["foreign-vpc"] = aws.ToString(foreign.Vpc.VpcId)
	for i, cidr := range []string{"10.0.0.0/20", "10.0.16.0/20"} {
		s := must(cloud.EC2.CreateSubnet(bg, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String(cidr),
			AvailabilityZone: aws.String([]string{"us-east-1a", "us-east-1b"}[i]), TagSpecifications: stackTags("subnet-"+string(rune('1'+i)), ec2types.ResourceTypeSubnet)}))
		a.ids["subnet-"+string(rune('1'+i))] = aws.ToString(s.Subnet.SubnetId)
	}
	fs := must(cloud.EC2.CreateSubnet(bg, &ec2.CreateSubnetInput{VpcId: foreign.Vpc.VpcId, CidrBlock: aws.String("10.1.0.0/20"), AvailabilityZone: aws.String("us-east-1a")}))
	a.ids["foreign-subnet"] = aws.ToString(fs.Subnet.SubnetId)
	sg := must(cloud.EC2.CreateSecurityGroup(bg, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"),
		VpcId: vpc.Vpc.VpcId, TagSpecifications: stackTags("sg", ec2types.ResourceTypeSecurityGroup)}))
	a.ids["sg"] = aws.ToString(sg.GroupId)
	a.ids["default-sg"], _ = cloud.EC2.DefaultSecurityGroup(a.ids["vpc"])
	for _, name := range []string{"running", "terminated"} {
		out := must(cloud.EC2.RunInstances(bg, &ec2.RunInstancesInput{ImageId: aws.String(fakeaws.NewestJammyAMI), InstanceType: ec2types.InstanceTypeT2Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(a.ids["subnet-1"]), SecurityGroupIds: []string{a.ids["sg"]},
			UserData: aws.String(base64.StdEncoding.EncodeToString([]byte("#!/bin/sh"))), TagSpecifications: stackTags(name, ec2types.ResourceTypeInstance)}))
		a.ids[name] = aws.ToString(out.Instances[0].InstanceId)
	}
	must(cloud.EC2.TerminateInstances(bg, &ec2.TerminateInstancesInput{InstanceIds: []string{a.ids["terminated"]}}))
	for range 5 { // let both settle
		must(cloud.EC2.DescribeInstances(bg, &ec2.DescribeInstancesInput{}))
	}
	im := must(cloud.EC2.CreateImage(bg, &ec2.CreateImageInput{InstanceId: aws.String(a.ids["running"]), Name: aws.String("web-ami"),
		TagSpecifications: stackTags("image", ec2types.ResourceTypeImage)}))
	a.ids["image"] = aws.ToString(im.ImageId)
	for _, name := range []string{"tg", "foreign-tg"} {
		in := &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: vpc.Vpc.VpcId}
		if name == "tg" {
			in.Tags = awsx.StackTags("myapp", "test", name).ELBV2()
		}
		a.ids[name] = aws.ToString(must(cloud.ELBV2.CreateTargetGroup(bg, in)).TargetGroups[0].TargetGroupArn)
	}
	lb := must(cloud.ELBV2.CreateLoadBalancer(bg, &elbv2.CreateLoadBalancerInput{Name: aws.String("lb"), Subnets: []string{a.ids["subnet-1"], a.ids["subnet-2"]},
		SecurityGroups: []string{a.ids["sg"]}, Tags: awsx.StackTags("myapp", "test", "lb").ELBV2()}))
	a.ids["lb"] = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	listener := must(cloud.ELBV2.CreateListener(bg, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(a.ids["lb"]), Protocol: elbv2types.ProtocolEnumHttp,
		Port: aws.Int32(80), DefaultActions: []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: aws.String(a.ids["tg"])}},
		Tags: awsx.StackTags("myapp", "test", "listener").ELBV2()}))
	a.ids["listener"] = aws.ToString(listener.Listeners[0].ListenerArn)
	for _, name := range []string{"/myappctl/myapp/web/A", "/other/A"} {
		in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString}
		role := "foreign-param"
		if name == "/myappctl/myapp/web/A" {
			in.Tags, role = awsx.StackTags("myapp", "test", name).SSM(), "param"
		}
		must(cloud.SSM.PutParameter(bg, in))
		a.ids[role] = name
	}
	// IAM: a role of the stack with an inline policy in a tagged profile,
	// and a lab's profile (untagged).
	must(cloud.IAM.CreateRole(bg, &iam.CreateRoleInput{RoleName: aws.String("web-role"), Path: aws.String("/myappctl/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		Tags:                     awsx.StackTags("myapp", "test", "web-role").IAM()}))
	must(cloud.IAM.PutRolePolicy(bg, &iam.PutRolePolicyInput{RoleName: aws.String("web-role"), PolicyName: aws.String("instance"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)}))
	must(cloud.IAM.CreateInstanceProfile(bg, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web-profile"),
		Tags: awsx.StackTags("myapp", "test", "web-profile").IAM()}))
	must(cloud.IAM.AddRoleToInstanceProfile(bg, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web-profile"), RoleName: aws.String("web-role")}))
	cloud.IAM.AddRole("LabRole", "ec2.amazonaws.com")
	cloud.IAM.AddInstanceProfile("LabInstanceProfile", "LabRole")
	// RDS: a DB instance in a subnet group.
	must(cloud.RDS.CreateDBSubnetGroup(bg, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("db-group"), DBSubnetGroupDescription: aws.String("db"),
		SubnetIds: []string{a.ids["subnet-1"], a.ids["subnet-2"]}, Tags: awsx.StackTags("myapp", "test", "db-group").RDS()}))
	must(cloud.RDS.CreateDBInstance(bg, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db-1"), DBInstanceClass: aws.String("db.t3.micro"),
		Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("root"), MasterUserPassword: aws.String("secret-password-123"),
		DBSubnetGroupName: aws.String("db-group"), VpcSecurityGroupIds: []string{a.ids["sg"]}, Tags: awsx.StackTags("myapp", "test", "db-1").RDS()}))
	must(cloud.RDS.CreateDBSubnetGroup(bg, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("unused-group"), DBSubnetGroupDescription: aws.String("none"),
		SubnetIds: []string{a.ids["subnet-1"], a.ids["subnet-2"]}}))
	cloud.ResetCalls()
	return a
}

// must is for test setup: a failed call ends the test with its error.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// lookup is one read, and whether a loaded stack set answers it.
type lookup struct {
	name        string
	service, op string
	input       any
	call        func(ctx context.Context, c *awsx.Clients) (any, error)
	fromSet     bool
}

func ec2Lookup[I, O any](name, op string, fromSet bool, in *I, fn func(awsx.EC2API) func(context.Context, *I, ...func(*ec2.Options)) (*O, error)) lookup {
	return lookup{name: name, service: "EC2", op: op, input: in, fromSet: fromSet, call: func(ctx context.Context, c *awsx.Clients) (any, error) {
		return fn(c.EC2)(ctx, in)
	}}
}

func (a *account) lookups() []lookup {
	id := func(roles ...string) []string {
		var out []string
		for _, r := range roles {
			out = append(out, a.ids[r])
		}
		return out
	}
	stack := awsx.EC2Filter("tag:"+awsx.TagStack, "myapp")
	subnets := func(in *ec2.DescribeSubnetsInput) *ec2.DescribeSubnetsInput { return in }
	describeSubnets := func(c awsx.EC2API) func(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
		return c.DescribeSubnets
	}
	describeGroups := func(c awsx.EC2API) func(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
		return c.DescribeSecurityGroups
	}
	describeInstances := func(c awsx.EC2API) func(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
		return c.DescribeInstances
	}
	describeImages := func(c awsx.EC2API) func(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
		return c.DescribeImages
	}
	describeVpcs := func(c awsx.EC2API) func(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
		return c.DescribeVpcs
	}
	tgs := func(name string, fromSet bool, in *elbv2.DescribeTargetGroupsInput) lookup {
		return lookup{name: name, service: "Elastic Load Balancing v2", op: "DescribeTargetGroups", input: in, fromSet: fromSet,
			call: func(ctx context.Context, c *awsx.Clients) (any, error) { return c.ELBV2.DescribeTargetGroups(ctx, in) }}
	}
	params := func(name string, fromSet bool, filters ...ssmtypes.ParameterStringFilter) lookup {
		in := &ssm.DescribeParametersInput{ParameterFilters: filters}
		return lookup{name: name, service: "SSM", op: "DescribeParameters", input: in, fromSet: fromSet,
			call: func(ctx context.Context, c *awsx.Clients) (any, error) { return c.SSM.DescribeParameters(ctx, in) }}
	}
	named := func(n string) ssmtypes.ParameterStringFilter {
		return ssmtypes.ParameterStringFilter{Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{n}}
	}
	stackParam := ssmtypes.ParameterStringFilter{Key: aws.String("tag:" + awsx.TagStack), Values: []string{"myapp"}}
	tagsIn := &elbv2.DescribeTagsInput{ResourceArns: id("tg", "foreign-tg")}
	listenerTagsIn := &elbv2.DescribeTagsInput{ResourceArns: id("listener", "lb")}
	listeners := func(name string, fromSet bool, in *elbv2.DescribeListenersInput) lookup {
		return lookup{name: name, service: "Elastic Load Balancing v2", op: "DescribeListeners", input: in, fromSet: fromSet,
			call: func(ctx context.Context, c *awsx.Clients) (any, error) { return c.ELBV2.DescribeListeners(ctx, in) }}
	}
	iamLookup := func(name string, fromSet bool, op string, in any, call func(context.Context, awsx.IAMAPI) (any, error)) lookup {
		return lookup{name: name, service: "IAM", op: op, input: in, fromSet: fromSet,
			call: func(ctx context.Context, c *awsx.Clients) (any, error) { return call(ctx, c.IAM) }}
	}
	getRole := func(role string) func(context.Context, awsx.IAMAPI) (any, error) {
		return func(ctx context.Context, c awsx.IAMAPI) (any, error) {
			return c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
		}
	}
	rolePolicy := func(role, policy string) (any, func(context.Context, awsx.IAMAPI) (any, error)) {
		in := &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(policy)}
		return in, func(ctx context.Context, c awsx.IAMAPI) (any, error) { return c.GetRolePolicy(ctx, in) }
	}
	profile := func(name string) (any, func(context.Context, awsx.IAMAPI) (any, error)) {
		in := &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)}
		return in, func(ctx context.Context, c awsx.IAMAPI) (any, error) { return c.GetInstanceProfile(ctx, in) }
	}
	dbGroups := func(name string, fromSet bool, in *rds.DescribeDBSubnetGroupsInput) lookup {
		return lookup{name: name, service: "RDS", op: "DescribeDBSubnetGroups", input: in, fromSet: fromSet,
			call: func(ctx context.Context, c *awsx.Clients) (any, error) { return c.RDS.DescribeDBSubnetGroups(ctx, in) }}
	}
	policyIn, policyCall := rolePolicy("web-role", "instance")
	otherPolicyIn, otherPolicyCall := rolePolicy("web-role", "other")
	webProfileIn, webProfileCall := profile("web-profile")
	labProfileIn, labProfileCall := profile("LabInstanceProfile")
	return []lookup{
		iamLookup("a role", true, "GetRole", &iam.GetRoleInput{RoleName: aws.String("web-role")}, getRole("web-role")),
		iamLookup("a role that does not exist", false, "GetRole", &iam.GetRoleInput{RoleName: aws.String("nope")}, getRole("nope")),
		iamLookup("a role's inline policy", true, "GetRolePolicy", policyIn, policyCall),
		iamLookup("a policy the role lacks", false, "GetRolePolicy", otherPolicyIn, otherPolicyCall),
		iamLookup("the stack's instance profile", true, "GetInstanceProfile", webProfileIn, webProfileCall),
		iamLookup("an untagged profile (a lab's)", false, "GetInstanceProfile", labProfileIn, labProfileCall),
		dbGroups("the subnet group of a DB instance", true, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("db-group")}),
		dbGroups("a subnet group no instance uses", false, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("unused-group")}),
		ec2Lookup("the stack's subnets by id", "DescribeSubnets", true, subnets(&ec2.DescribeSubnetsInput{SubnetIds: id("subnet-2", "subnet-1")}), describeSubnets),
		ec2Lookup("a subnet by stack and Name tags", "DescribeSubnets", true,
			subnets(&ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{stack, awsx.EC2Filter("tag:Name", "subnet-1")}}), describeSubnets),
		ec2Lookup("the stack's subnets of a VPC", "DescribeSubnets", true,
			subnets(&ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{stack, awsx.EC2Filter("vpc-id", a.ids["vpc"])}}), describeSubnets),
		ec2Lookup("a subnet without the stack tag", "DescribeSubnets", false, subnets(&ec2.DescribeSubnetsInput{SubnetIds: id("foreign-subnet")}), describeSubnets),
		ec2Lookup("ours and someone else's", "DescribeSubnets", false, subnets(&ec2.DescribeSubnetsInput{SubnetIds: id("subnet-1", "foreign-subnet")}), describeSubnets),
		ec2Lookup("a subnet deleted or never made", "DescribeSubnets", false, subnets(&ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}}), describeSubnets),
		ec2Lookup("by Name without the stack tag", "DescribeSubnets", false,
			subnets(&ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{awsx.EC2Filter("tag:Name", "subnet-1")}}), describeSubnets),
		ec2Lookup("a filter the set does not evaluate", "DescribeSubnets", false,
			subnets(&ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{stack, awsx.EC2Filter("cidr-block", "10.0.0.0/20")}}), describeSubnets),
		ec2Lookup("a wildcard", "DescribeSubnets", false,
			subnets(&ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{stack, awsx.EC2Filter("tag:Name", "subnet-*")}}), describeSubnets),
		ec2Lookup("the stack's security group", "DescribeSecurityGroups", true, &ec2.DescribeSecurityGroupsInput{GroupIds: id("sg")}, describeGroups),
		ec2Lookup("the VPC's default security group", "DescribeSecurityGroups", false, &ec2.DescribeSecurityGroupsInput{GroupIds: id("default-sg")}, describeGroups),
		ec2Lookup("a VPC of someone else", "DescribeVpcs", false, &ec2.DescribeVpcsInput{VpcIds: id("foreign-vpc")}, describeVpcs),
		ec2Lookup("the stack's live instances", "DescribeInstances", true, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{stack,
			awsx.EC2Filter("instance-state-name", "pending", "running", "stopping", "stopped")}}, describeInstances),
		ec2Lookup("a terminated instance by id", "DescribeInstances", true, &ec2.DescribeInstancesInput{InstanceIds: id("terminated")}, describeInstances),
		ec2Lookup("instances from an image (no stack tag)", "DescribeInstances", false,
			&ec2.DescribeInstancesInput{Filters: []ec2types.Filter{awsx.EC2Filter("image-id", fakeaws.NewestJammyAMI)}}, describeInstances),
		ec2Lookup("the stack's image by id", "DescribeImages", true, &ec2.DescribeImagesInput{ImageIds: id("image")}, describeImages),
		ec2Lookup("the stack's images of a step", "DescribeImages", true, &ec2.DescribeImagesInput{Owners: []string{"self"},
			Filters: []ec2types.Filter{stack, awsx.EC2Filter("tag:"+awsx.TagStep, "test")}}, describeImages),
		ec2Lookup("Canonical's images", "DescribeImages", false, &ec2.DescribeImagesInput{Owners: []string{fakeaws.CanonicalOwner},
			Filters: []ec2types.Filter{awsx.EC2Filter("name", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*")}}, describeImages),
		tgs("a target group by ARN", true, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: id("tg")}),
		tgs("every target group", true, &elbv2.DescribeTargetGroupsInput{}),
		tgs("a target group by name", false, &elbv2.DescribeTargetGroupsInput{Names: []string{"tg"}}),
		{name: "tags of listed target groups", service: "Elastic Load Balancing v2", op: "DescribeTags", input: tagsIn, fromSet: true,
			call: func(ctx context.Context, c *awsx.Clients) (any, error) { return c.ELBV2.DescribeTags(ctx, tagsIn) }},
		{name: "tags of a listener and its load balancer", service: "Elastic Load Balancing v2", op: "DescribeTags", input: listenerTagsIn, fromSet: true,
			call: func(ctx context.Context, c *awsx.Clients) (any, error) {
				return c.ELBV2.DescribeTags(ctx, listenerTagsIn)
			}},
		listeners("a listener by ARN", true, &elbv2.DescribeListenersInput{ListenerArns: id("listener")}),
		listeners("the listeners of the stack's load balancer", true, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(a.ids["lb"])}),
		params("a parameter of the stack by name", true, named(a.ids["param"])),
		params("a parameter by name and stack tag", true, named(a.ids["param"]), stackParam),
		params("someone else's parameter by name", false, named(a.ids["foreign-param"])),
		params("someone else's parameter with the stack tag (none)", true, named(a.ids["foreign-param"]), stackParam),
		params("a filter the set does not evaluate", false, stackParam, ssmtypes.ParameterStringFilter{Key: aws.String("Type"), Values: []string{"String"}}),
	}
}

// idsIn are the ids an output names, sorted.
func idsIn(out any) []string {
	var ids []string
	switch o := out.(type) {
	case *ec2.DescribeSubnetsOutput:
		for _, s := range o.Subnets {
			ids = append(ids, aws.ToString(s.SubnetId))
		}
	case *ec2.DescribeSecurityGroupsOutput:
		for _, g := range o.SecurityGroups {
			ids = append(ids, aws.ToString(g.GroupId)+" "+strconvLen(g.IpPermissions))
		}
	case *ec2.DescribeVpcsOutput:
		for _, v := range o.Vpcs {
			ids = append(ids, aws.ToString(v.VpcId))
		}
	case *ec2.DescribeInstancesOutput:
		for _, r := range o.Reservations {
			for _, in := range r.Instances {
				ids = append(ids, aws.ToString(in.InstanceId)+" "+string(in.State.Name))
			}
		}
	case *ec2.DescribeImagesOutput:
		for _, im := range o.Images {
			ids = append(ids, aws.ToString(im.ImageId))
		}
	case *elbv2.DescribeTargetGroupsOutput:
		for _, tg := range o.TargetGroups {
			ids = append(ids, aws.ToString(tg.TargetGroupArn))
		}
	case *elbv2.DescribeListenersOutput:
		for _, l := range o.Listeners {
			ids = append(ids, aws.ToString(l.ListenerArn))
		}
	case *elbv2.DescribeTagsOutput:
		for _, d := range o.TagDescriptions {
			ids = append(ids, aws.ToString(d.ResourceArn)+" "+awsx.ELBV2TagMap(d.Tags)[awsx.TagStack])
		}
	case *ssm.DescribeParametersOutput:
		for _, p := range o.Parameters {
			ids = append(ids, aws.ToString(p.Name))
		}
	case *iam.GetRoleOutput:
		ids = append(ids, aws.ToString(o.Role.RoleName)+" "+awsx.IAMTagMap(o.Role.Tags)[awsx.TagStack]+" "+aws.ToString(o.Role.AssumeRolePolicyDocument))
	case *iam.GetRolePolicyOutput:
		ids = append(ids, aws.ToString(o.RoleName)+"/"+aws.ToString(o.PolicyName)+" "+aws.ToString(o.PolicyDocument))
	case *iam.GetInstanceProfileOutput:
		ids = append(ids, aws.ToString(o.InstanceProfile.InstanceProfileName)+" "+awsx.IAMTagMap(o.InstanceProfile.Tags)[awsx.TagStack])
		for _, r := range o.InstanceProfile.Roles {
			ids = append(ids, "role "+aws.ToString(r.RoleName))
		}
	case *rds.DescribeDBSubnetGroupsOutput:
		for _, g := range o.DBSubnetGroups {
			ids = append(ids, aws.ToString(g.DBSubnetGroupName)+" "+strconvLen(g.Subnets))
		}
	default:
		panic("idsIn: add " + reflectName(out))
	}
	sort.Strings(ids)
	return ids
}

// The completeness rule: a loaded set answers a lookup only when the answer
// is certainly complete, and then exactly as AWS would; anything else (an
// id outside the set, no stack tag, a filter or parameter the set does not
// know) is asked for real.
func TestStackSetsAnswerOnlyWhatTheyCertainlyKnow(t *testing.T) {
	a := newAccount(t)
	clients := a.cloud.Clients()
	cache := awsx.NewReadCache(clients)
	ctx := awsx.CachedReads(bg, "myapp")
	read := func(l lookup) (any, error) {
		return cache.Do(ctx, l.service, l.op, l.input, func(ctx context.Context) (any, error) { return l.call(ctx, clients) })
	}
	lookups := a.lookups()
	for _, l := range lookups { // load the sets
		if l.fromSet {
			if _, err := read(l); err != nil {
				t.Fatalf("%s: %v", l.name, err)
			}
		}
	}
	for _, l := range lookups {
		t.Run(l.name, func(t *testing.T) {
			a.cloud.ResetCalls()
			got, err := read(l)
			calls := a.cloud.Calls()
			want, wantErr := l.call(bg, clients) // AWS's own answer
			switch {
			case (err == nil) != (wantErr == nil) || err != nil && awsx.ErrorCode(err) != awsx.ErrorCode(wantErr):
				t.Fatalf("err = %v, AWS says %v", err, wantErr)
			case err == nil && !slices.Equal(idsIn(got), idsIn(want)):
				t.Errorf("answer %v, AWS says %v", idsIn(got), idsIn(want))
			}
			if l.fromSet && len(calls) != 0 {
				t.Errorf("asked AWS (%v), want the answer from the loaded set", calls)
			}
			if !l.fromSet && len(calls) == 0 {
				t.Errorf("answered without asking AWS: the set cannot know this for certain")
			}
		})
	}
}

// A set is loaded once for a run, and again after any mutation.
func TestStackSetsLoadOnceUntilAMutation(t *testing.T) {
	a := newAccount(t)
	clients := a.cloud.Clients()
	cache := awsx.NewReadCache(clients)
	ctx := awsx.CachedReads(bg, "myapp")
	subnets := func(ids ...string) ([]string, error) {
		in := &ec2.DescribeSubnetsInput{SubnetIds: ids}
		out, err := cache.Do(ctx, "EC2", "DescribeSubnets", in, func(ctx context.Context) (any, error) { return clients.EC2.DescribeSubnets(ctx, in) })
		if err != nil {
			return nil, err
		}
		return idsIn(out), nil
	}
	spare := must(clients.EC2.CreateSubnet(bg, &ec2.CreateSubnetInput{VpcId: aws.String(a.ids["vpc"]), CidrBlock: aws.String("10.0.48.0/20"),
		AvailabilityZone: aws.String("us-east-1d"), TagSpecifications: awsx.StackTags("myapp", "test", "spare").EC2Spec(ec2types.ResourceTypeSubnet)}))
	a.ids["spare"] = aws.ToString(spare.Subnet.SubnetId)
	a.cloud.ResetCalls()
	for _, role := range []string{"subnet-1", "spare", "subnet-1"} {
		if _, err := subnets(a.ids[role]); err != nil {
			t.Fatal(err)
		}
	}
	if calls := a.cloud.Calls(); len(calls) != 1 {
		t.Errorf("three lookups of the stack's subnets made %v, want one describe", calls)
	}
	// Created and deleted by hand meanwhile: this run's set does not know.
	extra := must(clients.EC2.CreateSubnet(bg, &ec2.CreateSubnetInput{VpcId: aws.String(a.ids["vpc"]), CidrBlock: aws.String("10.0.32.0/20"),
		AvailabilityZone: aws.String("us-east-1c"), TagSpecifications: awsx.StackTags("myapp", "test", "subnet-3").EC2Spec(ec2types.ResourceTypeSubnet)}))
	must(clients.EC2.DeleteSubnet(bg, &ec2.DeleteSubnetInput{SubnetId: aws.String(a.ids["spare"])}))
	if got, err := subnets(aws.ToString(extra.Subnet.SubnetId)); err != nil || len(got) != 1 {
		t.Errorf("a subnet not in the set is looked up for real: %v %v", got, err)
	}
	// A mutation in the run (the middleware calls Mutated) ends the set.
	cache.Mutated("EC2")
	a.cloud.ResetCalls()
	if _, err := subnets(a.ids["spare"]); !awsx.IsNotFound(err) {
		t.Errorf("after a mutation, a deleted subnet: err = %v, want NotFound", err)
	}
	if got, err := subnets(a.ids["subnet-1"], aws.ToString(extra.Subnet.SubnetId)); err != nil || len(got) != 2 {
		t.Errorf("reloaded set: %v %v", got, err)
	}
	if calls := a.cloud.Calls(); len(calls) != 2 { // the reload, and the deleted one (not in it) for real
		t.Errorf("calls after the mutation: %v", calls)
	}
}

// Over HTTP, the SDK clients NewClients builds answer from the cache and
// the sets with a CachedReads context only, and a mutation made through any
// of them ends what was kept.
func TestReadCacheInTheSDKClients(t *testing.T) {
	a := newAccount(t)
	var requests atomic.Int64
	h := wire.NewServer(a.cloud)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := awsx.NewClients(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL), Retryer: func() aws.Retryer { return aws.NopRetryer{} }})
	if c.Reads == nil {
		t.Fatal("NewClients made no read cache")
	}
	run := awsx.CachedReads(bg, "myapp")
	lookups := func(ctx context.Context, n int) int64 {
		t.Helper()
		before := requests.Load()
		for i := range n {
			out, err := c.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{a.ids["subnet-"+string(rune('1'+i%2))]}})
			if err != nil || len(out.Subnets) != 1 {
				t.Fatalf("describe: %v", err)
			}
		}
		return requests.Load() - before
	}
	if n := lookups(bg, 3); n != 3 {
		t.Errorf("without CachedReads: %d requests for 3 lookups", n)
	}
	if n := lookups(awsx.Uncached(run), 3); n != 3 {
		t.Errorf("in a wait: %d requests for 3 lookups", n)
	}
	if n := lookups(run, 4); n != 1 {
		t.Errorf("with CachedReads: %d requests for 4 lookups, want 1 (the stack's subnets)", n)
	}
	// A mutation through the clients (any context) ends the kept answers.
	if _, err := c.EC2.ModifySubnetAttribute(bg, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(a.ids["subnet-1"]),
		MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	before := requests.Load()
	out, err := c.EC2.DescribeSubnets(run, &ec2.DescribeSubnetsInput{SubnetIds: []string{a.ids["subnet-1"]}})
	if err != nil || !aws.ToBool(out.Subnets[0].MapPublicIpOnLaunch) || requests.Load()-before != 1 {
		t.Errorf("after the change: %d request(s), public IP %v, err %v", requests.Load()-before, out != nil && aws.ToBool(out.Subnets[0].MapPublicIpOnLaunch), err)
	}
}

func strconvLen[T any](s []T) string { return strconv.Itoa(len(s)) }

func reflectName(v any) string { return reflect.TypeOf(v).String() }

// A principal that may not read the account's authorization details (a
// lab role) still gets its roles and profiles, one by one.
func TestIAMSetFallsBackWhenTheDetailsAreDenied(t *testing.T) {
	a := newAccount(t)
	a.cloud.Inject("GetAccountAuthorizationDetails", fakeaws.Fault{Err: fakeaws.APIError("AccessDenied", "not authorized to perform: iam:GetAccountAuthorizationDetails")})
	clients := a.cloud.Clients()
	cache := awsx.NewReadCache(clients)
	ctx := awsx.CachedReads(bg, "myapp")
	for range 2 {
		in := &iam.GetRoleInput{RoleName: aws.String("web-role")}
		out, err := cache.Do(ctx, "IAM", "GetRole", in, func(ctx context.Context) (any, error) { return clients.IAM.GetRole(ctx, in) })
		if err != nil || aws.ToString(out.(*iam.GetRoleOutput).Role.RoleName) != "web-role" {
			t.Fatalf("GetRole: %v %v", out, err)
		}
	}
	if calls := a.cloud.Calls(); !slices.Equal(calls, []string{"GetAccountAuthorizationDetails", "GetRole"}) {
		t.Errorf("calls %v: the denied set is asked once, the role once", calls)
	}
}
