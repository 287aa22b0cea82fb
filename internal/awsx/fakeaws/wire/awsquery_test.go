package wire

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

// network makes a VPC with a subnet in each of two zones and a security
// group, over HTTP.
func (tb *testbed) network(t *testing.T) (vpc string, subnets []string, sg string) {
	t.Helper()
	ctx := context.Background()
	vpc = aws.ToString(must(tb.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})).ok(t).Vpc.VpcId)
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		s := must(tb.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String([]string{"10.0.0.0/24", "10.0.1.0/24"}[i]),
			AvailabilityZone: aws.String(az)})).ok(t).Subnet
		subnets = append(subnets, aws.ToString(s.SubnetId))
	}
	sg = aws.ToString(must(tb.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("lb"), Description: aws.String("lb"),
		VpcId: aws.String(vpc)})).ok(t).GroupId)
	return vpc, subnets, sg
}

func TestIAMOverHTTP(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	c := tb.iam
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	in := &iam.CreateRoleInput{RoleName: aws.String("sync-role"), AssumeRolePolicyDocument: aws.String(trust), Description: aws.String("a & b"),
		Tags: awsx.Tags{awsx.TagStack: "myapp", "Name": "sync"}.IAM()}
	role := must(c.CreateRole(ctx, in)).ok(t).Role
	if aws.ToString(role.Arn) != "arn:aws:iam::"+fakeaws.Account+":role/sync-role" || role.CreateDate == nil {
		t.Errorf("role = %+v", role)
	}
	_, err := c.CreateRole(ctx, in)
	wantStatus(t, err, "EntityAlreadyExists", http.StatusConflict)
	got := must(c.GetRole(ctx, &iam.GetRoleInput{RoleName: in.RoleName})).ok(t).Role
	if doc, _ := url.QueryUnescape(aws.ToString(got.AssumeRolePolicyDocument)); doc != trust || aws.ToString(got.Description) != "a & b" {
		t.Errorf("role = %+v (trust %s)", got, doc)
	}
	if tags := awsx.IAMTagMap(must(c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: in.RoleName})).ok(t).Tags); tags[awsx.TagStack] != "myapp" || len(tags) != 2 {
		t.Errorf("tags = %v", tags)
	}
	if roles := must(c.ListRoles(ctx, &iam.ListRolesInput{})).ok(t).Roles; len(roles) != 1 || aws.ToString(roles[0].RoleName) != "sync-role" {
		t.Errorf("roles = %+v", roles)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	must(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: in.RoleName, PolicyName: aws.String("read"), PolicyDocument: aws.String(policy)})).ok(t)
	if names := must(c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: in.RoleName})).ok(t).PolicyNames; len(names) != 1 || names[0] != "read" {
		t.Errorf("policies = %v", names)
	}
	gp := must(c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: in.RoleName, PolicyName: aws.String("read")})).ok(t)
	if doc, _ := url.QueryUnescape(aws.ToString(gp.PolicyDocument)); doc != policy {
		t.Errorf("policy = %s", doc)
	}
	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: in.RoleName, PolicyName: aws.String("bad"), PolicyDocument: aws.String("{")})
	wantCode(t, err, "MalformedPolicyDocument")
	if n := len(must(c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: in.RoleName})).ok(t).AttachedPolicies); n != 0 {
		t.Errorf("%d attached policies", n)
	}
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: in.RoleName})
	wantStatus(t, err, "DeleteConflict", http.StatusConflict)
	must(c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: in.RoleName, PolicyName: aws.String("read")})).ok(t)
	must(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: in.RoleName})).ok(t)
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: in.RoleName})
	wantStatus(t, err, "NoSuchEntity", http.StatusNotFound)
	if !awsx.IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	var typed *iamtypes.NoSuchEntityException
	if !errors.As(err, &typed) {
		t.Errorf("err = %#v, want a typed NoSuchEntityException", err)
	}
	if names := tb.cloud.IAM.RoleNames(); len(names) != 0 {
		t.Errorf("roles left: %v", names)
	}
}

// TestInstanceProfilesOverHTTP: IAM's instance-profile operations come
// through the AWS Query codec as learned from the SDK, and EC2 launches
// with a profile over EC2 Query.
func TestInstanceProfilesOverHTTP(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	c := tb.iam
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, profile := aws.String("s-backend-role"), aws.String("s-backend")
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: role, AssumeRolePolicyDocument: aws.String(trust)})).ok(t)
	in := &iam.CreateInstanceProfileInput{InstanceProfileName: profile, Path: aws.String("/myappctl/"), Tags: awsx.StackTags("s", "security", "backend").IAM()}
	created := must(c.CreateInstanceProfile(ctx, in)).ok(t).InstanceProfile
	arn := "arn:aws:iam::" + fakeaws.Account + ":instance-profile/myappctl/s-backend"
	if aws.ToString(created.Arn) != arn || aws.ToString(created.Path) != "/myappctl/" || !awsx.IAMTagMap(created.Tags).OwnedBy("s") || created.CreateDate == nil {
		t.Errorf("created = %+v", created)
	}
	_, err := c.CreateInstanceProfile(ctx, in)
	wantStatus(t, err, "EntityAlreadyExists", http.StatusConflict)
	must(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: profile, RoleName: role})).ok(t)
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: profile, RoleName: role})
	wantStatus(t, err, "LimitExceeded", http.StatusConflict)
	got := must(c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: profile})).ok(t).InstanceProfile
	if len(got.Roles) != 1 || aws.ToString(got.Roles[0].RoleName) != *role {
		t.Errorf("roles = %+v", got.Roles)
	}
	sameAsFake(t, "GetInstanceProfile", got, must(tb.cloud.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: profile})).ok(t).InstanceProfile)
	must(c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: profile, Tags: awsx.Tags{"extra": "1"}.IAM()})).ok(t)
	if tags := awsx.IAMTagMap(must(c.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: profile})).ok(t).Tags); len(tags) != 4 {
		t.Errorf("tags = %v", tags)
	}
	listed := must(c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/myappctl/")})).ok(t).InstanceProfiles
	forRole := must(c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: role})).ok(t).InstanceProfiles
	if len(listed) != 1 || len(forRole) != 1 || aws.ToString(forRole[0].Arn) != arn {
		t.Errorf("listed %+v, for role %+v", listed, forRole)
	}
	_, err = c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: profile})
	wantStatus(t, err, "DeleteConflict", http.StatusConflict)
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role})
	wantStatus(t, err, "DeleteConflict", http.StatusConflict)

	// EC2 launches with it, by name, and says so.
	_, subnets, sg := tb.network(t)
	run := func(name string) (*ec2.RunInstancesOutput, error) {
		return tb.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(fakeaws.NewestJammyAMI), InstanceType: "t2.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			SubnetId: aws.String(subnets[0]), SecurityGroupIds: []string{sg}, IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String(name)}})
	}
	inst := must(run("s-backend")).ok(t).Instances[0]
	if p := inst.IamInstanceProfile; p == nil || aws.ToString(p.Arn) != arn {
		t.Errorf("instance profile = %+v", p)
	}
	_, err = run("s-nope")
	wantCode(t, err, "InvalidParameterValue")
	if !awsx.IsInstanceProfileNotVisible(err) {
		t.Errorf("%v is not recognised over HTTP", err)
	}

	// Teardown in IAM's order.
	must(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: profile, RoleName: role})).ok(t)
	must(c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: profile})).ok(t)
	_, err = c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: profile})
	wantStatus(t, err, "NoSuchEntity", http.StatusNotFound)
	must(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role})).ok(t)
}

func TestRDSOverHTTP(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	c := tb.rds
	vpc, subnets, sg := tb.network(t)
	group := must(c.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("myapp-db"), DBSubnetGroupDescription: aws.String("db"),
		SubnetIds: subnets, Tags: awsx.Tags{awsx.TagStack: "myapp"}.RDS()})).ok(t).DBSubnetGroup
	if aws.ToString(group.VpcId) != vpc || len(group.Subnets) != 2 || aws.ToString(group.Subnets[0].SubnetAvailabilityZone.Name) == "" {
		t.Errorf("group = %+v", group)
	}
	groups := must(c.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("myapp-db")})).ok(t).DBSubnetGroups
	if len(groups) != 1 || len(groups[0].Subnets) != 2 {
		t.Errorf("groups = %+v", groups)
	}
	if tags := awsx.RDSTagMap(must(c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: group.DBSubnetGroupArn})).ok(t).TagList); tags[awsx.TagStack] != "myapp" {
		t.Errorf("tags = %v", tags)
	}
	_, err := c.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("one-az"), DBSubnetGroupDescription: aws.String("x"), SubnetIds: subnets[:1]})
	wantCode(t, err, "DBSubnetGroupDoesNotCoverEnoughAZs")

	db := must(c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("database-1"), Engine: aws.String("mysql"),
		DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("s3cr3t-pa55"),
		DBName: aws.String("todo"), DBSubnetGroupName: aws.String("myapp-db"), VpcSecurityGroupIds: []string{sg}, PubliclyAccessible: aws.Bool(false),
		Tags: awsx.Tags{awsx.TagStack: "myapp", "Name": "db"}.RDS()})).ok(t).DBInstance
	if aws.ToString(db.DBInstanceStatus) != "creating" || len(db.VpcSecurityGroups) != 1 || aws.ToString(db.VpcSecurityGroups[0].VpcSecurityGroupId) != sg {
		t.Errorf("db = %+v", db)
	}
	if !tb.cloud.RDS.PasswordIs("database-1", "s3cr3t-pa55") {
		t.Error("the password did not arrive")
	}
	var available rdstypes.DBInstance
	for range 10 {
		dbs := must(c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("database-1")})).ok(t).DBInstances
		if len(dbs) == 1 && aws.ToString(dbs[0].DBInstanceStatus) == "available" {
			available = dbs[0]
			break
		}
	}
	if available.Endpoint == nil || aws.ToInt32(available.Endpoint.Port) != 3306 || aws.ToString(available.DBSubnetGroup.DBSubnetGroupName) != "myapp-db" ||
		awsx.RDSTagMap(available.TagList)["Name"] != "db" {
		t.Fatalf("db never available: %+v", available)
	}
	_, err = c.DeleteDBSubnetGroup(ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String("myapp-db")})
	wantCode(t, err, "InvalidDBSubnetGroupStateFault")
	must(c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("database-1"), SkipFinalSnapshot: aws.Bool(true)})).ok(t)
	for range 10 {
		if _, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("database-1")}); err != nil {
			break
		}
	}
	wantStatus(t, err, "DBInstanceNotFound", http.StatusNotFound)
	must(c.DeleteDBSubnetGroup(ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String("myapp-db")})).ok(t)
	_, err = c.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("myapp-db")})
	wantStatus(t, err, "DBSubnetGroupNotFoundFault", http.StatusNotFound)
	for kind, n := range tb.cloud.RDS.Count() {
		if n != 0 {
			t.Errorf("%d %s left", n, kind)
		}
	}
}

func TestELBV2OverHTTP(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	c := tb.elbv2
	vpc, subnets, sg := tb.network(t)
	tgIn := &elbv2.CreateTargetGroupInput{Name: aws.String("backend-tg"), Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(8090), VpcId: aws.String(vpc),
		HealthCheckPath: aws.String("/health"), Tags: awsx.Tags{awsx.TagStack: "myapp"}.ELBV2()}
	tg := must(c.CreateTargetGroup(ctx, tgIn)).ok(t).TargetGroups[0]
	if aws.ToString(tg.HealthCheckPath) != "/health" || aws.ToInt32(tg.Port) != 8090 {
		t.Errorf("tg = %+v", tg)
	}
	other := *tgIn
	other.Port = aws.Int32(80)
	_, err := c.CreateTargetGroup(ctx, &other)
	wantCode(t, err, "DuplicateTargetGroupName")
	lb := must(c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("backend-lb"), Subnets: subnets, SecurityGroups: []string{sg},
		Tags: awsx.Tags{awsx.TagStack: "myapp", "Name": "backend-lb"}.ELBV2()})).ok(t).LoadBalancers[0]
	if lb.State == nil || lb.State.Code != elbv2types.LoadBalancerStateEnumProvisioning || len(lb.AvailabilityZones) != 2 || aws.ToString(lb.DNSName) == "" {
		t.Errorf("lb = %+v", lb)
	}
	lbIn := &elbv2.DescribeLoadBalancersInput{Names: []string{"backend-lb"}}
	if got := must(c.DescribeLoadBalancers(ctx, lbIn)).ok(t).LoadBalancers; len(got) != 1 {
		t.Fatalf("lbs = %+v", got)
	}
	if got := must(c.DescribeLoadBalancers(ctx, lbIn)).ok(t).LoadBalancers; got[0].State.Code != elbv2types.LoadBalancerStateEnumActive {
		t.Errorf("lb state = %+v", got[0].State)
	}
	listener := must(c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(8090),
		DefaultActions: []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}}})).ok(t).Listeners[0]
	lsIn := &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn}
	ls := must(c.DescribeListeners(ctx, lsIn)).ok(t).Listeners
	if len(ls) != 1 || aws.ToString(ls[0].DefaultActions[0].TargetGroupArn) != aws.ToString(tg.TargetGroupArn) {
		t.Errorf("listeners = %+v", ls)
	}
	sameAsFake(t, "DescribeListeners", must(c.DescribeListeners(ctx, lsIn)).ok(t), must(tb.cloud.ELBV2.DescribeListeners(ctx, lsIn)).ok(t))
	tags := must(c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{aws.ToString(lb.LoadBalancerArn), aws.ToString(tg.TargetGroupArn)}})).ok(t).TagDescriptions
	if len(tags) != 2 || awsx.ELBV2TagMap(tags[0].Tags)[awsx.TagStack] != "myapp" || awsx.ELBV2TagMap(tags[1].Tags)[awsx.TagStack] != "myapp" {
		t.Errorf("tags = %+v", tags)
	}
	_, err = c.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn})
	wantCode(t, err, "ResourceInUse")
	_, err = tb.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(sg)})
	wantCode(t, err, "DependencyViolation")
	must(c.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: listener.ListenerArn})).ok(t)
	must(c.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn})).ok(t)
	must(c.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn})).ok(t)
	_, err = c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{aws.ToString(tg.TargetGroupArn)}})
	wantCode(t, err, "TargetGroupNotFound")
	_, err = c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{aws.ToString(listener.ListenerArn)}})
	wantCode(t, err, "ListenerNotFound")
	for kind, n := range tb.cloud.ELBV2.Count() {
		if n != 0 {
			t.Errorf("%d %s left", n, kind)
		}
	}
}
