package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

// testbed is a fake account behind a real HTTP server, and real SDK
// clients pointed at it.
type testbed struct {
	cloud    *fakeaws.Cloud
	url      string
	requests atomic.Int64
	ec2      *ec2.Client
	sts      *sts.Client
	s3       *s3.Client
	lambda   *lambda.Client
	iam      *iam.Client
	rds      *rds.Client
	elbv2    *elbv2.Client
	ssm      *ssm.Client
}

func newTestbed(t *testing.T) *testbed {
	t.Helper()
	tb := &testbed{cloud: fakeaws.New()}
	h := NewServer(tb.cloud)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tb.requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tb.url = srv.URL
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	tb.ec2 = ec2.NewFromConfig(cfg)
	tb.sts = sts.NewFromConfig(cfg)
	tb.s3 = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	tb.lambda = lambda.NewFromConfig(cfg)
	tb.iam = iam.NewFromConfig(cfg)
	tb.rds = rds.NewFromConfig(cfg)
	tb.elbv2 = elbv2.NewFromConfig(cfg)
	tb.ssm = ssm.NewFromConfig(cfg)
	return tb
}

// do sends a raw request signed (in scope only) for service.
func (tb *testbed) do(t *testing.T, method, path, service string, header http.Header, body io.Reader) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, tb.url+path, body)
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// post sends a raw form signed (in scope only) for service.
func (tb *testbed) post(t *testing.T, service, contentType, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tb.url, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if service != "" {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/"+service+
			"/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const form = "application/x-www-form-urlencoded; charset=utf-8"

func tags(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func spec(rt types.ResourceType, kv ...string) []types.TagSpecification {
	return []types.TagSpecification{{ResourceType: rt, Tags: tags(kv...)}}
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// wantCode checks that err is an API error with code, as the SDK decoded
// it from an HTTP 400 response.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	wantStatus(t, err, code, http.StatusBadRequest)
}

// wantStatus checks that err is an API error with code, as the SDK decoded
// it from an HTTP response with status.
func wantStatus(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err = %v, want API error %s", err, code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Errorf("err = %v: want an HTTP %d response", err, status)
	}
	if re != nil && re.ServiceRequestID() == "" {
		t.Errorf("no request id in %v", err)
	}
}

// must(call()).ok(t) is call's result, failing the test on an error.
func must[T any](v T, err error) result[T] { return result[T]{v, err} }

type result[T any] struct {
	v   T
	err error
}

func (r result[T]) ok(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// sameAsFake checks that what came over HTTP equals the fake's own answer.
func sameAsFake(t *testing.T, what string, viaHTTP, direct any) {
	t.Helper()
	if d := diff(what, reflect.ValueOf(viaHTTP), reflect.ValueOf(direct)); len(d) > 0 {
		t.Errorf("%s over HTTP differs from the fake:\n  %s", what, strings.Join(d, "\n  "))
	}
}

// TestNetworkLifecycleOverHTTP drives every network operation of
// awsx.EC2API through the real SDK client and the HTTP server.
func TestNetworkLifecycleOverHTTP(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	c, fake := tb.ec2, tb.cloud.EC2

	azIn := &ec2.DescribeAvailabilityZonesInput{Filters: []types.Filter{filter("state", "available"), filter("zone-type", "availability-zone")}}
	azs := must(c.DescribeAvailabilityZones(ctx, azIn)).ok(t)
	if len(azs.AvailabilityZones) != 6 || aws.ToString(azs.AvailabilityZones[0].ZoneName) != "us-east-1a" || azs.AvailabilityZones[0].State != types.AvailabilityZoneStateAvailable {
		t.Fatalf("zones = %+v", azs.AvailabilityZones)
	}
	sameAsFake(t, "DescribeAvailabilityZones", azs, must(fake.DescribeAvailabilityZones(ctx, azIn)).ok(t))
	offIn := &ec2.DescribeInstanceTypeOfferingsInput{LocationType: types.LocationTypeAvailabilityZone, Filters: []types.Filter{filter("instance-type", "t2.micro")}}
	offers := must(c.DescribeInstanceTypeOfferings(ctx, offIn)).ok(t)
	if len(offers.InstanceTypeOfferings) != 5 || offers.InstanceTypeOfferings[0].InstanceType != types.InstanceTypeT2Micro {
		t.Fatalf("offerings = %+v", offers.InstanceTypeOfferings)
	}
	sameAsFake(t, "DescribeInstanceTypeOfferings", offers, must(fake.DescribeInstanceTypeOfferings(ctx, offIn)).ok(t))

	// VPC: created tagged, found by tag filter and by id, attributes.
	vpc := must(c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"),
		TagSpecifications: spec(types.ResourceTypeVpc, "Name", "test-vpc", "stack", "test")})).ok(t).Vpc
	vpcID := aws.ToString(vpc.VpcId)
	if !strings.HasPrefix(vpcID, "vpc-") || aws.ToString(vpc.CidrBlock) != "10.0.0.0/16" || awsx.EC2TagMap(vpc.Tags)["Name"] != "test-vpc" || vpc.State != types.VpcStateAvailable {
		t.Fatalf("vpc = %+v", vpc)
	}
	byTag := &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("tag:stack", "test"), filter("tag:Name", "other", "test-vpc")}}
	vpcs := must(c.DescribeVpcs(ctx, byTag)).ok(t)
	if len(vpcs.Vpcs) != 1 || aws.ToString(vpcs.Vpcs[0].VpcId) != vpcID {
		t.Fatalf("vpcs by tag = %+v", vpcs.Vpcs)
	}
	sameAsFake(t, "DescribeVpcs", vpcs, must(fake.DescribeVpcs(ctx, byTag)).ok(t))
	if n := len(must(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("tag:stack", "nope")}})).ok(t).Vpcs); n != 0 {
		t.Errorf("tag filter nope matched %d", n)
	}
	if n := len(must(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}})).ok(t).Vpcs); n != 1 {
		t.Errorf("by id: %d", n)
	}
	_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID, "vpc-0000000000"}})
	wantCode(t, err, "InvalidVpcID.NotFound")
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("no-such-filter", "x")}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/8")})
	wantCode(t, err, "InvalidVpc.Range")

	must(c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(vpcID), EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}})).ok(t)
	must(c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(vpcID), EnableDnsSupport: &types.AttributeBooleanValue{Value: aws.Bool(false)}})).ok(t)
	for attr, want := range map[types.VpcAttributeName]bool{types.VpcAttributeNameEnableDnsHostnames: true, types.VpcAttributeNameEnableDnsSupport: false} {
		out := must(c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(vpcID), Attribute: attr})).ok(t)
		got := out.EnableDnsHostnames
		if attr == types.VpcAttributeNameEnableDnsSupport {
			got = out.EnableDnsSupport
		}
		if got == nil || aws.ToBool(got.Value) != want || aws.ToString(out.VpcId) != vpcID {
			t.Errorf("%s = %+v, want %v", attr, got, want)
		}
	}
	_, err = c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String("vpc-missing"), Attribute: types.VpcAttributeNameEnableDnsSupport})
	wantCode(t, err, "InvalidVpcID.NotFound")

	// Subnets.
	var subnets []string
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		s := must(c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/24", i)),
			AvailabilityZone: aws.String(az), TagSpecifications: spec(types.ResourceTypeSubnet, "Name", fmt.Sprintf("public%d", i+1), "stack", "test")})).ok(t).Subnet
		if aws.ToString(s.AvailabilityZone) != az || aws.ToString(s.VpcId) != vpcID || aws.ToInt32(s.AvailableIpAddressCount) != 251 || aws.ToBool(s.MapPublicIpOnLaunch) {
			t.Fatalf("subnet = %+v", s)
		}
		subnets = append(subnets, aws.ToString(s.SubnetId))
	}
	_, err = c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String("10.0.0.0/25"), AvailabilityZone: aws.String("us-east-1a")})
	wantCode(t, err, "InvalidSubnet.Conflict")
	must(c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(subnets[0]), MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}})).ok(t)
	subIn := &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", vpcID), filter("tag:Name", "public1", "public2")}}
	ss := must(c.DescribeSubnets(ctx, subIn)).ok(t).Subnets
	if len(ss) != 2 || !aws.ToBool(ss[0].MapPublicIpOnLaunch) || aws.ToBool(ss[1].MapPublicIpOnLaunch) {
		t.Fatalf("subnets = %+v", ss)
	}
	sameAsFake(t, "DescribeSubnets", must(c.DescribeSubnets(ctx, subIn)).ok(t), must(fake.DescribeSubnets(ctx, subIn)).ok(t))

	// Internet gateway.
	igwID := aws.ToString(must(c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
		TagSpecifications: spec(types.ResourceTypeInternetGateway, "Name", "igw")})).ok(t).InternetGateway.InternetGatewayId)
	must(c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(igwID), VpcId: aws.String(vpcID)})).ok(t)
	_, err = c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(igwID), VpcId: aws.String(vpcID)})
	wantCode(t, err, "Resource.AlreadyAssociated")
	igwIn := &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{filter("attachment.vpc-id", vpcID)}}
	igws := must(c.DescribeInternetGateways(ctx, igwIn)).ok(t).InternetGateways
	if len(igws) != 1 || len(igws[0].Attachments) != 1 || aws.ToString(igws[0].Attachments[0].VpcId) != vpcID || igws[0].Attachments[0].State != "available" {
		t.Fatalf("igws = %+v", igws)
	}
	sameAsFake(t, "DescribeInternetGateways", must(c.DescribeInternetGateways(ctx, igwIn)).ok(t), must(fake.DescribeInternetGateways(ctx, igwIn)).ok(t))

	// Route table: client token, routes, associations.
	rtIn := &ec2.CreateRouteTableInput{VpcId: aws.String(vpcID), ClientToken: aws.String("tok-1"), TagSpecifications: spec(types.ResourceTypeRouteTable, "Name", "public")}
	rt := must(c.CreateRouteTable(ctx, rtIn)).ok(t)
	rtID := aws.ToString(rt.RouteTable.RouteTableId)
	if aws.ToString(rt.ClientToken) != "tok-1" || len(rt.RouteTable.Routes) != 1 || aws.ToString(rt.RouteTable.Routes[0].GatewayId) != "local" {
		t.Fatalf("route table = %+v", rt.RouteTable)
	}
	if again := must(c.CreateRouteTable(ctx, rtIn)).ok(t); aws.ToString(again.RouteTable.RouteTableId) != rtID {
		t.Errorf("same client token made a second route table")
	}
	if out := must(c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rtID), DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igwID)})).ok(t); !aws.ToBool(out.Return) {
		t.Errorf("CreateRoute return = %v", out.Return)
	}
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rtID), DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igwID)})
	wantCode(t, err, "RouteAlreadyExists")
	must(c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: aws.String(rtID), DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igwID)})).ok(t)
	assoc := aws.ToString(must(c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtID), SubnetId: aws.String(subnets[0])})).ok(t).AssociationId)
	if !strings.HasPrefix(assoc, "rtbassoc-") {
		t.Fatalf("association id %q", assoc)
	}
	rtsIn := &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("association.subnet-id", subnets[0])}}
	rts := must(c.DescribeRouteTables(ctx, rtsIn)).ok(t).RouteTables
	if len(rts) != 1 || len(rts[0].Routes) != 2 || len(rts[0].Associations) != 1 || aws.ToString(rts[0].Associations[0].SubnetId) != subnets[0] ||
		rts[0].Associations[0].AssociationState.State != types.RouteTableAssociationStateCodeAssociated || rts[0].Routes[1].Origin != types.RouteOriginCreateRoute {
		t.Fatalf("route tables = %+v", rts)
	}
	all := &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("vpc-id", vpcID)}}
	sameAsFake(t, "DescribeRouteTables", must(c.DescribeRouteTables(ctx, all)).ok(t), must(fake.DescribeRouteTables(ctx, all)).ok(t))

	// Gateway endpoint.
	ep := must(c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(vpcID), ServiceName: aws.String("com.amazonaws.us-east-1.s3"),
		VpcEndpointType: types.VpcEndpointTypeGateway, ClientToken: aws.String("tok-2"), TagSpecifications: spec(types.ResourceTypeVpcEndpoint, "Name", "s3")})).ok(t).VpcEndpoint
	epID := aws.ToString(ep.VpcEndpointId)
	if ep.State != types.StateAvailable || len(ep.RouteTableIds) != 0 {
		t.Fatalf("endpoint = %+v", ep)
	}
	if out := must(c.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: aws.String(epID), AddRouteTableIds: []string{rtID}})).ok(t); !aws.ToBool(out.Return) {
		t.Errorf("ModifyVpcEndpoint return = %v", out.Return)
	}
	epIn := &ec2.DescribeVpcEndpointsInput{Filters: []types.Filter{filter("service-name", "com.amazonaws.us-east-1.s3"), filter("tag:Name", "s3")}}
	eps := must(c.DescribeVpcEndpoints(ctx, epIn)).ok(t).VpcEndpoints
	if len(eps) != 1 || !slices.Equal(eps[0].RouteTableIds, []string{rtID}) || eps[0].VpcEndpointType != types.VpcEndpointTypeGateway {
		t.Fatalf("endpoints = %+v", eps)
	}
	sameAsFake(t, "DescribeVpcEndpoints", must(c.DescribeVpcEndpoints(ctx, epIn)).ok(t), must(fake.DescribeVpcEndpoints(ctx, epIn)).ok(t))

	// Dependencies are enforced, as codes the SDK sees.
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(vpcID)})
	wantCode(t, err, "DependencyViolation")
	_, err = c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(igwID)})
	wantCode(t, err, "DependencyViolation")
	_, err = c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(rtID)})
	wantCode(t, err, "DependencyViolation")

	// Teardown.
	del := must(c.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{epID, "vpce-gone"}})).ok(t)
	if len(del.Unsuccessful) != 1 || aws.ToString(del.Unsuccessful[0].ResourceId) != "vpce-gone" || aws.ToString(del.Unsuccessful[0].Error.Code) != "InvalidVpcEndpoint.NotFound" {
		t.Errorf("unsuccessful = %+v", del.Unsuccessful)
	}
	must(c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: aws.String(assoc)})).ok(t)
	must(c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(rtID)})).ok(t)
	must(c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(igwID), VpcId: aws.String(vpcID)})).ok(t)
	must(c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(igwID)})).ok(t)
	for _, s := range subnets {
		must(c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(s)})).ok(t)
	}
	must(c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(vpcID)})).ok(t)
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(vpcID)})
	wantCode(t, err, "InvalidVpcID.NotFound")
	for kind, n := range fake.Count() {
		if n != 0 {
			t.Errorf("%d %s left", n, kind)
		}
	}

	// Every network operation of the interface went over the wire.
	called := map[string]bool{}
	for _, op := range tb.cloud.Calls() {
		called[op] = true
	}
	for _, op := range []string{"DescribeAvailabilityZones", "DescribeInstanceTypeOfferings", "CreateVpc", "DescribeVpcs", "DescribeVpcAttribute",
		"ModifyVpcAttribute", "DeleteVpc", "CreateSubnet", "DescribeSubnets", "ModifySubnetAttribute", "DeleteSubnet", "CreateInternetGateway",
		"DescribeInternetGateways", "AttachInternetGateway", "DetachInternetGateway", "DeleteInternetGateway", "CreateRouteTable",
		"DescribeRouteTables", "CreateRoute", "ReplaceRoute", "AssociateRouteTable", "DisassociateRouteTable", "DeleteRouteTable",
		"CreateVpcEndpoint", "DescribeVpcEndpoints", "ModifyVpcEndpoint", "DeleteVpcEndpoints"} {
		if !called[op] {
			t.Errorf("%s was not exercised", op)
		}
	}
	if tb.requests.Load() < 40 {
		t.Errorf("only %d HTTP requests", tb.requests.Load())
	}
}

func TestSTSOverHTTP(t *testing.T) {
	tb := newTestbed(t)
	id := must(tb.sts.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})).ok(t)
	if aws.ToString(id.Account) != fakeaws.Account || aws.ToString(id.Arn) != "arn:aws:iam::"+fakeaws.Account+":user/test" || aws.ToString(id.UserId) != "AIDATEST" {
		t.Errorf("identity = %+v", id)
	}
	status, body := tb.post(t, "sts", form, "Action=GetCallerIdentity&Version=2011-06-15")
	for _, want := range []string{`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`,
		"<Account>" + fakeaws.Account + "</Account>", "<Arn>arn:aws:iam::", "<UserId>AIDATEST</UserId>", "</GetCallerIdentityResult><ResponseMetadata><RequestId>"} {
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("status %d, body lacks %q:\n%s", status, want, body)
		}
	}
	// An STS action the fake does not implement.
	_, err := tb.sts.GetSessionToken(context.Background(), &sts.GetSessionTokenInput{})
	wantCode(t, err, "InvalidAction")
	tb.cloud.Inject("GetCallerIdentity", fakeaws.Fault{Err: fakeaws.APIError("ExpiredToken", "The security token included in the request is expired")})
	_, err = tb.sts.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	wantCode(t, err, "ExpiredToken")
}

// TestEveryServedOperationRoundTrips proves the learned names of every
// operation the server serves — each method a fake of the account
// implements with its SDK client's signature, whatever the service — field
// by field: an input with every field set, serialized by the SDK, decodes
// to itself; an output with every field set, encoded here, decodes in the
// SDK to itself.
func TestEveryServedOperationRoundTrips(t *testing.T) {
	srv := NewServer(fakeaws.New()).(*Server)
	for _, name := range srv.Services() {
		switch svc := srv.services[name].(type) {
		case *queryService:
			for i := range svc.client.NumMethod() {
				if op := svc.operation(svc.client.Type().Method(i).Name); op != nil {
					t.Run(name+"/"+op.name, func(t *testing.T) { queryRoundTrip(t, svc, op) })
				}
			}
		case *restService:
			for _, op := range svc.ops {
				t.Run(name+"/"+op.name, func(t *testing.T) { restRoundTrip(t, svc, op) })
			}
		default:
			t.Errorf("%s: %T", name, svc)
		}
	}
}

func queryRoundTrip(t *testing.T, svc *queryService, op *operation) {
	p := svc.proto
	if err := p.learn(op); err != nil {
		t.Fatal(err)
	}
	in := (&filler{off: -1}).build(op.in)
	sent, _, _ := op.call(in, nil)
	got := reflect.New(op.in)
	if err := p.decode(sent, got); err != nil {
		t.Fatalf("decode %v: %v", sent, err)
	}
	if d := diff("input", got, in); len(d) > 0 {
		t.Errorf("request %v decodes wrongly:\n  %s", sent, strings.Join(d, "\n  "))
	}
	out := (&filler{off: -1}).build(op.out)
	body := p.response(op.name, "req-1", p.encode(out))
	_, decoded, err := op.call(in, body)
	if err != nil {
		t.Fatalf("the SDK rejects our response: %v\n%s", err, body)
	}
	if d := diff("output", decoded, out); len(d) > 0 {
		t.Errorf("response fields the SDK does not read back:\n  %s\n%s", strings.Join(d, "\n  "), body)
	}
}

// TestEveryInterfaceMethodIsServed: each method of the awsx interfaces
// that the account's fake implements is served over HTTP, and every fake of
// the account (Auto Scaling, say, once Cloud has one) is some service's.
func TestEveryInterfaceMethodIsServed(t *testing.T) {
	cloud := fakeaws.New()
	srv := NewServer(cloud).(*Server)
	for service, iface := range map[string]reflect.Type{
		"ec2": reflect.TypeFor[awsx.EC2API](), "sts": reflect.TypeFor[awsx.STSAPI](), "elasticloadbalancing": reflect.TypeFor[awsx.ELBV2API](),
		"rds": reflect.TypeFor[awsx.RDSAPI](), "iam": reflect.TypeFor[awsx.IAMAPI](), "s3": reflect.TypeFor[awsx.S3API](), "lambda": reflect.TypeFor[awsx.LambdaAPI](),
		"autoscaling": reflect.TypeFor[awsx.AutoScalingAPI](), "ssm": reflect.TypeFor[awsx.SSMAPI](),
	} {
		var fake reflect.Value
		var served func(string) bool
		switch svc := srv.services[service].(type) {
		case *queryService:
			fake, served = svc.fake, func(name string) bool { return svc.operation(name) != nil }
		case *restService:
			fake, served = svc.fake, func(name string) bool {
				return slices.ContainsFunc(svc.ops, func(op *restOp) bool { return op.name == name })
			}
		default:
			t.Errorf("%s is not served", service)
			continue
		}
		for i := range iface.NumMethod() {
			name := iface.Method(i).Name
			if !implemented(fake, name) {
				t.Logf("%s %s: the fake does not implement it (yet)", service, name)
				continue
			}
			if !served(name) {
				t.Errorf("%s %s is implemented by the fake but not served", service, name)
			}
		}
	}
	v := reflect.ValueOf(cloud).Elem()
	for i := range v.NumField() {
		sf, f := v.Type().Field(i), v.Field(i)
		if !sf.IsExported() || sf.Anonymous || f.Kind() != reflect.Pointer || f.IsNil() || sf.Name == "Agent" { // Agent plays instances, not a service
			continue
		}
		found := false
		for _, d := range serviceDefs {
			found = found || fakeFor(reflect.ValueOf(cloud), reflect.ValueOf(d.client)) == f
		}
		if !found {
			t.Errorf("the fake Cloud.%s is served by no service", sf.Name)
		}
	}
}

// TestLearnedNamesMatchTheSDKSource spot-checks learned names against the
// SDK's serializers.go and deserializers.go.
func TestLearnedNamesMatchTheSDKSource(t *testing.T) {
	svc := queryServiceOf(fakeaws.New(), "ec2")
	for _, op := range []string{"CreateVpc", "DescribeVpcs", "DescribeAvailabilityZones", "CreateRoute", "ModifyVpcEndpoint", "DescribeRouteTables"} {
		if err := svc.proto.learn(svc.operation(op)); err != nil {
			t.Fatal(err)
		}
	}
	p := svc.proto
	p.mu.RLock()
	defer p.mu.RUnlock()
	queryName := func(t reflect.Type, field string) string {
		sf, _ := t.FieldByName(field)
		for k, i := range p.query[t] {
			if i == sf.Index[0] {
				return k
			}
		}
		return ""
	}
	element := func(t reflect.Type, field string) xmlName {
		sf, _ := t.FieldByName(field)
		if names := p.xml[t]; sf.Index[0] < len(names) {
			return names[sf.Index[0]]
		}
		return xmlName{}
	}
	for _, c := range []struct {
		t           reflect.Type
		field, want string
	}{
		{reflect.TypeFor[ec2.CreateVpcInput](), "CidrBlock", "CidrBlock"},
		{reflect.TypeFor[ec2.CreateVpcInput](), "TagSpecifications", "TagSpecification"},
		{reflect.TypeFor[types.TagSpecification](), "Tags", "Tag"},
		{reflect.TypeFor[types.TagSpecification](), "ResourceType", "ResourceType"},
		{reflect.TypeFor[ec2.DescribeVpcsInput](), "VpcIds", "VpcId"},
		{reflect.TypeFor[ec2.DescribeVpcsInput](), "Filters", "Filter"},
		{reflect.TypeFor[ec2.DescribeVpcsInput](), "DryRun", "DryRun"},
		{reflect.TypeFor[types.Filter](), "Values", "Value"},
		{reflect.TypeFor[ec2.ModifyVpcEndpointInput](), "AddRouteTableIds", "AddRouteTableId"},
		{reflect.TypeFor[ec2.DescribeAvailabilityZonesInput](), "AllAvailabilityZones", "AllAvailabilityZones"},
	} {
		if got := queryName(c.t, c.field); got != c.want {
			t.Errorf("request key of %s.%s = %q, want %q", c.t.Name(), c.field, got, c.want)
		}
	}
	for _, c := range []struct {
		t     reflect.Type
		field string
		want  xmlName
	}{
		{reflect.TypeFor[ec2.DescribeAvailabilityZonesOutput](), "AvailabilityZones", xmlName{"availabilityZoneInfo", "item"}},
		{reflect.TypeFor[types.AvailabilityZone](), "State", xmlName{"zoneState", ""}},
		{reflect.TypeFor[ec2.CreateVpcOutput](), "Vpc", xmlName{"vpc", ""}},
		{reflect.TypeFor[types.Vpc](), "Tags", xmlName{"tagSet", "item"}},
		{reflect.TypeFor[types.Vpc](), "VpcId", xmlName{"vpcId", ""}},
		{reflect.TypeFor[types.RouteTable](), "Associations", xmlName{"associationSet", "item"}},
		{reflect.TypeFor[types.RouteTable](), "Routes", xmlName{"routeSet", "item"}},
		{reflect.TypeFor[ec2.CreateRouteOutput](), "Return", xmlName{"return", ""}},
	} {
		if got := element(c.t, c.field); got != c.want {
			t.Errorf("element of %s.%s = %+v, want %+v", c.t.Name(), c.field, got, c.want)
		}
	}
}

func TestWireFormat(t *testing.T) {
	tb := newTestbed(t)
	status, body := tb.post(t, "ec2", form, url.Values{"Action": {"CreateVpc"}, "Version": {"2016-11-15"}, "CidrBlock": {"10.1.0.0/16"},
		"TagSpecification.1.ResourceType": {"vpc"}, "TagSpecification.1.Tag.1.Key": {"Name"}, "TagSpecification.1.Tag.1.Value": {"a<b"}}.Encode())
	for _, want := range []string{`<CreateVpcResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>`, "<vpc><", "<vpcId>vpc-",
		"<cidrBlock>10.1.0.0/16</cidrBlock>", "<tagSet><item><key>Name</key><value>a&lt;b</value></item></tagSet>", "<isDefault>false</isDefault>"} {
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("status %d, body lacks %q:\n%s", status, want, body)
		}
	}
	// Lists arrive out of order and sparse.
	status, body = tb.post(t, "ec2", form, "Action=DescribeVpcs&Filter.2.Name=tag%3AName&Filter.2.Value.2=a%3Cb&Filter.1.Name=cidr&Filter.1.Value.1=10.1.0.0%2F16")
	if status != http.StatusOK || strings.Count(body, "<vpcId>") != 1 {
		t.Errorf("sparse filters: %d\n%s", status, body)
	}
	status, body = tb.post(t, "ec2", form, "Action=DescribeVpcs&VpcId.1=vpc-nope")
	if status != http.StatusBadRequest || !strings.Contains(body, "<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code><Message>") || !strings.Contains(body, "<RequestID>") {
		t.Errorf("not-found error: %d\n%s", status, body)
	}
}

func TestUnknownServicesActionsAndParameters(t *testing.T) {
	tb := newTestbed(t)
	for _, c := range []struct {
		name, service, contentType, body string
		status                           int
		want                             string
	}{
		{"unknown action", "ec2", form, "Action=NoSuchThing&Version=2016-11-15", 400, "<Code>InvalidAction</Code>"},
		{"no action", "ec2", form, "Version=2016-11-15", 400, "<Code>InvalidAction</Code>"},
		{"fake helper Count", "ec2", form, "Action=Count", 400, "<Code>InvalidAction</Code>"},
		{"fake helper Forget", "ec2", form, "Action=Forget", 400, "<Code>InvalidAction</Code>"},
		{"fake helper Inject", "ec2", form, "Action=Inject", 400, "<Code>InvalidAction</Code>"},
		{"unexported", "ec2", form, "Action=begin", 400, "<Code>InvalidAction</Code>"},
		{"not implemented by the fake", "ec2", form, "Action=DescribeTransitGateways", 400, "<Code>InvalidAction</Code>"},
		{"unknown parameter", "ec2", form, "Action=DescribeVpcs&Bogus=1", 400, "<Code>UnknownParameter</Code>"},
		{"unknown nested parameter", "ec2", form, "Action=DescribeVpcs&Filter.1.Bogus=1", 400, "<Code>UnknownParameter</Code>"},
		{"bad number", "ec2", form, "Action=DescribeVpcs&MaxResults=many", 400, "<Code>InvalidParameterValue</Code>"},
		{"bad bool", "ec2", form, "Action=DescribeVpcs&DryRun=maybe", 400, "<Code>InvalidParameterValue</Code>"},
		{"bad index", "ec2", form, "Action=DescribeVpcs&VpcId.0=vpc-1", 400, "<Code>UnknownParameter</Code>"},
		{"sts unknown action", "sts", form, "Action=AssumeRoot", 400, "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidAction</Code>"},
		{"unknown query service", "sns", form, "Action=ListTopics", 400, "<Code>InvalidAction</Code>"},
		{"unknown json service", "dynamodb", "application/x-amz-json-1.0", "{}", 400, `"__type":"UnknownOperationException"`},
		{"unknown rest service", "cloudfront", "", "", 400, "<Code>UnknownOperationException</Code>"},
		{"unsigned", "", form, "Action=DescribeVpcs", 403, "<Code>MissingAuthenticationToken</Code>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := tb.post(t, c.service, c.contentType, c.body)
			if status != c.status || !strings.Contains(body, c.want) {
				t.Errorf("status %d, want %d with %q:\n%s", status, c.status, c.want, body)
			}
		})
	}
	// The SDK sees InvalidAction as an API error.
	_, err := tb.ec2.DescribeTransitGateways(context.Background(), &ec2.DescribeTransitGatewaysInput{})
	wantCode(t, err, "InvalidAction")
	if len(tb.cloud.MutatingCalls()) != 0 {
		t.Errorf("rejected requests reached the fake: %v", tb.cloud.Calls())
	}
}

// panicky is a fake whose DescribeVpcs panics.
type panicky struct{ *fakeaws.EC2 }

func (p *panicky) DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	panic("boom")
}

func TestAPanicInAFakeIsAnInternalError(t *testing.T) {
	base := queryServiceOf(fakeaws.New(), "ec2")
	svc := &queryService{proto: base.proto, fake: reflect.ValueOf(&panicky{fakeaws.New().EC2}), client: base.client}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=DescribeVpcs"))
	req.Header.Set("Content-Type", form)
	rec := httptest.NewRecorder()
	svc.serve(rec, req, "req-1")
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "<Code>InternalError</Code>") || !strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("%d\n%s", rec.Code, rec.Body)
	}
}

// A server fault is a 5xx the SDK retries, as against AWS; a lost response
// (the call took effect) is visible on retry.
func TestServerFaultsAreRetriedByTheSDK(t *testing.T) {
	tb := newTestbed(t)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(tb.url), Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		}}
	c := ec2.NewFromConfig(cfg)
	tb.cloud.Inject("CreateInternetGateway", fakeaws.Fault{Err: fakeaws.ServerError(), AfterEffect: true})
	before := tb.requests.Load()
	must(c.CreateInternetGateway(context.Background(), &ec2.CreateInternetGatewayInput{})).ok(t)
	if n := tb.requests.Load() - before; n != 2 {
		t.Errorf("%d requests, want 2 (a 500, then a retry)", n)
	}
	if n := tb.cloud.EC2.Count()["igw"]; n != 2 {
		t.Errorf("%d internet gateways, want 2 (the lost one and the retry's)", n)
	}
	// AWS JSON: a lost PutParameter is seen by the retry.
	tb.cloud.Inject("PutParameter", fakeaws.Fault{Err: fakeaws.ServerError(), AfterEffect: true})
	_, err := ssm.NewFromConfig(cfg).PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String("/a/b"), Value: aws.String("v"), Type: "String"})
	if awsx.ErrorCode(err) != "ParameterAlreadyExists" || tb.cloud.CountCalls("PutParameter") != 2 {
		t.Errorf("err = %v after %d calls", err, tb.cloud.CountCalls("PutParameter"))
	}
}

func TestConcurrentRequests(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := tb.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(fmt.Sprintf("10.%d.0.0/16", i)), TagSpecifications: spec(types.ResourceTypeVpc, "n", fmt.Sprint(i))})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := tb.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("tag-key", "n")}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(must(tb.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})).ok(t).Vpcs); n != 20 {
		t.Errorf("%d VPCs, want 20", n)
	}
}

// queryServiceOf is the server's handler of a query-protocol service.
func queryServiceOf(cloud *fakeaws.Cloud, name string) *queryService {
	svc, _ := NewServer(cloud).(*Server).services[name].(*queryService)
	return svc
}
