package steps

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/state"
)

func TestVPCBuildsTheDocumentedNetwork(t *testing.T) {
	tb := newTestbed(t)
	tb.step("vpc")

	vpcs := tb.vpcs()
	if len(vpcs) != 1 || aws.ToString(vpcs[0].CidrBlock) != "10.0.0.0/16" || !hasStackTags(vpcs[0].Tags, "myapp", "vpc") {
		t.Fatalf("vpcs = %+v", vpcs)
	}
	vpcID := aws.ToString(vpcs[0].VpcId)
	if awsx.EC2TagMap(vpcs[0].Tags)["Name"] != "MyApp-VPC" {
		t.Errorf("VPC name = %q", awsx.EC2TagMap(vpcs[0].Tags)["Name"])
	}
	dns, _ := tb.cloud.EC2.DescribeVpcAttribute(bg, &ec2.DescribeVpcAttributeInput{VpcId: &vpcID, Attribute: ec2types.VpcAttributeNameEnableDnsHostnames})
	if !aws.ToBool(dns.EnableDnsHostnames.Value) {
		t.Error("DNS hostnames are off")
	}

	// Four public /20s in four AZs offering t2.micro (us-east-1e does not),
	// two private ones in the backend zones.
	want := map[string]struct {
		zone   string
		public bool
	}{
		"10.0.0.0/20": {"us-east-1a", true}, "10.0.16.0/20": {"us-east-1b", true},
		"10.0.32.0/20": {"us-east-1c", true}, "10.0.48.0/20": {"us-east-1d", true},
		"10.0.128.0/20": {"us-east-1c", false}, "10.0.144.0/20": {"us-east-1d", false},
	}
	subnets := tb.subnets()
	if len(subnets) != len(want) {
		t.Fatalf("got %d subnets, want %d", len(subnets), len(want))
	}
	for _, s := range subnets {
		w, ok := want[aws.ToString(s.CidrBlock)]
		if !ok || aws.ToString(s.AvailabilityZone) != w.zone || aws.ToBool(s.MapPublicIpOnLaunch) != w.public || !hasStackTags(s.Tags, "myapp", "vpc") {
			t.Errorf("subnet %s in %s public-ip=%v tags=%v: unexpected", aws.ToString(s.CidrBlock), aws.ToString(s.AvailabilityZone), aws.ToBool(s.MapPublicIpOnLaunch), awsx.EC2TagMap(s.Tags))
		}
	}

	st := tb.state()
	pub := tb.routeTable(st.Output("vpc", OutPublicRouteTable))
	if !routesTo(pub, "0.0.0.0/0", "igw-") {
		t.Errorf("public route table has no default route to the internet gateway: %+v", pub.Routes)
	}
	if got := associated(pub); strings.Join(got, ",") != strings.Join(sortedStrings(strings.Split(st.Output("vpc", OutPublicSubnets), ",")), ",") {
		t.Errorf("public associations = %v", got)
	}
	priv := tb.routeTable(st.Output("vpc", OutPrivateRouteTable))
	if routesTo(priv, "0.0.0.0/0", "") || len(associated(priv)) != 2 {
		t.Errorf("private route table: routes %+v, associations %v", priv.Routes, associated(priv))
	}
	eps, _ := tb.cloud.EC2.DescribeVpcEndpoints(bg, &ec2.DescribeVpcEndpointsInput{})
	if len(eps.VpcEndpoints) != 1 || aws.ToString(eps.VpcEndpoints[0].ServiceName) != "com.amazonaws.us-east-1.s3" ||
		len(eps.VpcEndpoints[0].RouteTableIds) != 2 || !hasStackTags(eps.VpcEndpoints[0].Tags, "myapp", "vpc") {
		t.Errorf("endpoints = %+v", eps.VpcEndpoints)
	}
	igws, _ := tb.cloud.EC2.DescribeInternetGateways(bg, &ec2.DescribeInternetGatewaysInput{})
	if len(igws.InternetGateways) != 1 || aws.ToString(igws.InternetGateways[0].Attachments[0].VpcId) != vpcID {
		t.Errorf("internet gateways = %+v", igws.InternetGateways)
	}
	if got := st.Stage("vpc"); got.Status != state.StatusComplete || len(got.Resources) != 11 {
		t.Errorf("state: status %s, %d resources, want complete with 11", got.Status, len(got.Resources))
	}
	if st.Output("vpc", OutZones) != "us-east-1a,us-east-1b,us-east-1c,us-east-1d" {
		t.Errorf("zones = %s", st.Output("vpc", OutZones))
	}
}

func routesTo(rt ec2types.RouteTable, dest, gwPrefix string) bool {
	for _, r := range rt.Routes {
		if aws.ToString(r.DestinationCidrBlock) == dest && strings.HasPrefix(aws.ToString(r.GatewayId), gwPrefix) {
			return true
		}
	}
	return false
}

func associated(rt ec2types.RouteTable) []string {
	var out []string
	for _, a := range rt.Associations {
		if a.SubnetId != nil {
			out = append(out, *a.SubnetId)
		}
	}
	return sortedStrings(out)
}

func TestVPCSecondRunMakesNoChanges(t *testing.T) {
	tb := newTestbed(t)
	tb.step("vpc")
	tb.reload() // a new process
	tb.cloud.ResetCalls()
	res := tb.step("vpc")
	if len(res.Changes) != 0 {
		t.Errorf("second run changed %v", res.Changes)
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("second run made mutating calls %v", m)
	}
}

func TestVPCAvoidsZonesWithoutTheInstanceType(t *testing.T) {
	tb := newTestbed(t)
	tb.cloud.EC2.Offered["t2.micro"] = []string{"us-east-1a", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"}
	tb.step("vpc")
	if got := tb.state().Output("vpc", OutZones); got != "us-east-1a,us-east-1c,us-east-1d,us-east-1e" {
		t.Errorf("zones = %s", got)
	}
	tb.cloud.EC2.Offered["t2.micro"] = []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	tb2 := newTestbed(t)
	tb2.cloud.EC2.Offered = tb.cloud.EC2.Offered
	_, err := tb2.runner.Step(bg, "vpc")
	if err == nil || !strings.Contains(err.Error(), "only 3 available zones offering t2.micro") {
		t.Errorf("err = %v", err)
	}
	if m := tb2.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("made %v before refusing", m)
	}
}

// deleteVPCLikeConsole removes the VPC and everything in it, as the
// console's "Delete VPC" does, behind the tool's back.
func deleteVPCLikeConsole(t *testing.T, tb *testbed) {
	t.Helper()
	e := tb.runner.Env
	for _, k := range []*Kind{vpcEndpointKind, subnetKind, routeTableKind, internetGatewayKind, vpcKind} {
		ids, err := k.FindTagged(bg, e, awsx.Tags{awsx.TagStack: "myapp"})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if err := k.Delete(bg, e, id); err != nil {
				t.Fatalf("delete %s: %v", id, err)
			}
		}
	}
}

func TestVPCDeletedOutOfBandIsRecreated(t *testing.T) {
	tb := newTestbed(t)
	tb.step("vpc")
	old := tb.state().Output("vpc", OutVPCID)
	deleteVPCLikeConsole(t, tb)
	if n := len(tb.vpcs()); n != 0 {
		t.Fatalf("%d VPCs left", n)
	}
	tb.reload()
	res, err := tb.runner.Up(bg, UpOptions{To: "vpc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res[0].Changes) == 0 {
		t.Error("up made no changes")
	}
	vpcs := tb.vpcs()
	if len(vpcs) != 1 || aws.ToString(vpcs[0].VpcId) == old || tb.state().Output("vpc", OutVPCID) != aws.ToString(vpcs[0].VpcId) {
		t.Fatalf("VPC not recreated: %v (old %s)", vpcs, old)
	}
	if n := len(tb.subnets()); n != 6 {
		t.Errorf("%d subnets after recreate", n)
	}
}

func TestVPCRecreatesOneMissingSubnet(t *testing.T) {
	tb := newTestbed(t)
	tb.step("vpc")
	rec, _ := tb.state().Resource("vpc", "subnet/public-2")
	if _, err := tb.cloud.EC2.DeleteSubnet(bg, &ec2.DeleteSubnetInput{SubnetId: &rec.ID}); err != nil {
		t.Fatal(err)
	}
	tb.cloud.ResetCalls()
	res := tb.step("vpc")
	var kinds []string
	for _, c := range res.Changes {
		kinds = append(kinds, c.Action+" "+c.Kind)
	}
	// The subnet, its public-IP setting and its route-table association.
	want := "create ec2:subnet,modify ec2:subnet,modify ec2:route-table"
	if strings.Join(kinds, ",") != want {
		t.Errorf("changes = %v, want %s", kinds, want)
	}
	if n := len(tb.subnets()); n != 6 {
		t.Errorf("%d subnets", n)
	}
}

func TestVPCDriftIsPlannedThenRepaired(t *testing.T) {
	tb := newTestbed(t)
	tb.step("vpc")
	st := tb.state()
	vpcID := st.Output("vpc", OutVPCID)
	pubRTB := tb.routeTable(st.Output("vpc", OutPublicRouteTable))
	ec := tb.cloud.EC2
	// A user switches DNS hostnames off, turns off public IPs on a public
	// subnet, and unhooks a subnet from the public table.
	_, _ = ec.ModifyVpcAttribute(bg, &ec2.ModifyVpcAttributeInput{VpcId: &vpcID, EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}})
	sub, _ := st.Resource("vpc", "subnet/public-3")
	_, _ = ec.ModifySubnetAttribute(bg, &ec2.ModifySubnetAttributeInput{SubnetId: &sub.ID, MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}})
	_, _ = ec.DisassociateRouteTable(bg, &ec2.DisassociateRouteTableInput{AssociationId: pubRTB.Associations[0].RouteTableAssociationId})

	tb.cloud.ResetCalls()
	plan, err := tb.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(plan[0].Changes); n != 3 {
		t.Errorf("plan found %d changes, want 3: %v", n, plan[0].Changes)
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("plan made mutating calls %v", m)
	}
	res := tb.step("vpc")
	if len(res.Changes) != 3 {
		t.Errorf("up made %d changes: %v", len(res.Changes), res.Changes)
	}
	tb.cloud.ResetCalls()
	if res := tb.step("vpc"); len(res.Changes) != 0 {
		t.Errorf("not converged after repair: %v", res.Changes)
	}
}

func TestPlanFromScratchChangesNothing(t *testing.T) {
	tb := newTestbed(t)
	plan, err := tb.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	if plan[0].Stage != "vpc" || len(plan[0].Changes) < 12 {
		t.Fatalf("plan = %+v", plan[0])
	}
	var ni *ErrNotImplemented
	for i, p := range plan[1:] {
		if s := tb.runner.Stages[i+1]; !s.Implemented() && !errors.As(p.Err, &ni) {
			t.Errorf("stage %s in plan: %v", p.Stage, p.Err)
		}
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("plan made mutating calls %v", m)
	}
	if _, err := os.Stat(tb.cfg.StatePath()); !os.IsNotExist(err) {
		t.Errorf("plan wrote the state file (stat err %v)", err)
	}
}

func TestDestroyLeavesNothing(t *testing.T) {
	tb := newTestbed(t)
	tb.step("vpc")
	rep := tb.destroy()
	if len(rep.Deleted) != 11 {
		t.Errorf("deleted %d resources, want 11: %v", len(rep.Deleted), rep.Deleted)
	}
	tb.assertEmpty()
	if st := tb.state().Stage("vpc"); st.Status != state.StatusDestroyed || len(st.Resources) != 0 {
		t.Errorf("state after destroy: %+v", st)
	}
	// A second destroy has nothing to do.
	if rep := tb.destroy(); len(rep.Deleted) != 0 {
		t.Errorf("second destroy deleted %v", rep.Deleted)
	}
}

func TestDestroyWithLostStateFileFindsEverythingByTag(t *testing.T) {
	tb := newTestbed(t)
	tb.step("vpc")
	if err := os.Remove(tb.cfg.StatePath()); err != nil {
		t.Fatal(err)
	}
	tb.reload()
	rep := tb.destroy()
	if len(rep.Deleted) != 11 {
		t.Errorf("deleted %d, want 11", len(rep.Deleted))
	}
	tb.assertEmpty()
}

func TestDestroyNeverTouchesUntaggedResources(t *testing.T) {
	tb := newTestbed(t)
	tb.step("vpc")
	ec := tb.cloud.EC2
	// Somebody else's VPC, and one of another stack.
	mine, _ := ec.CreateVpc(bg, &ec2.CreateVpcInput{CidrBlock: ptr("10.1.0.0/16")})
	other, _ := ec.CreateVpc(bg, &ec2.CreateVpcInput{CidrBlock: ptr("10.2.0.0/16"),
		TagSpecifications: awsx.StackTags("other", "vpc", "MyApp-VPC").EC2Spec(ec2types.ResourceTypeVpc)})
	// And the state file claims the untagged one is ours.
	if err := tb.state().PutResource("vpc", state.Resource{Key: "stray", Type: "ec2:vpc", ID: *mine.Vpc.VpcId}); err != nil {
		t.Fatal(err)
	}
	rep, err := tb.runner.Destroy(bg)
	if err == nil || len(rep.Leftovers) != 1 || !strings.Contains(rep.Leftovers[0].Reason, "lacks the tag") {
		t.Fatalf("err %v, leftovers %+v", err, rep.Leftovers)
	}
	left := map[string]bool{}
	for _, v := range tb.vpcs() {
		left[*v.VpcId] = true
	}
	if len(left) != 2 || !left[*mine.Vpc.VpcId] || !left[*other.Vpc.VpcId] {
		t.Errorf("VPCs left: %v", left)
	}
}

func TestDestroyRetriesWhileDependenciesDrain(t *testing.T) {
	tb := newTestbed(t)
	tb.step("vpc")
	dep := fakeaws.Fault{Err: fakeaws.APIError("DependencyViolation", "still in use")}
	tb.cloud.Inject("DeleteVpc", dep, dep, dep)
	tb.destroy()
	tb.assertEmpty()
	if n := tb.cloud.CountCalls("DeleteVpc"); n != 4 {
		t.Errorf("DeleteVpc called %d times, want 4", n)
	}
}

func TestDestroyReportsWhatItCouldNotDelete(t *testing.T) {
	tb := newTestbed(t)
	tb.step("vpc")
	tb.cfg.Wait.DestroyTimeout = 100 * time.Millisecond
	denied := fakeaws.Fault{Err: fakeaws.APIError("UnauthorizedOperation", "You are not authorized")}
	tb.cloud.Inject("DetachInternetGateway", denied, denied, denied)
	rep, err := tb.runner.Destroy(bg)
	if err == nil {
		t.Fatal("destroy succeeded")
	}
	// The gateway and the VPC that still holds it are reported.
	var types []string
	for _, l := range rep.Leftovers {
		types = append(types, l.Type)
	}
	if strings.Join(types, ",") != "ec2:internet-gateway,ec2:vpc" || !strings.Contains(rep.Leftovers[0].Reason, "UnauthorizedOperation") {
		t.Errorf("leftovers = %+v", rep.Leftovers)
	}
	if st := tb.state().Stage("vpc"); len(st.Resources) == 0 {
		t.Error("state forgot resources that still exist")
	}
}

func TestLostCreateResponsesMakeNoDuplicates(t *testing.T) {
	tb := newTestbed(t)
	// Creates that worked but whose answers were lost are found by their
	// tags and adopted, in the same run.
	for _, op := range []string{"CreateVpc", "CreateSubnet", "CreateInternetGateway", "CreateRouteTable", "CreateVpcEndpoint"} {
		tb.cloud.Inject(op, fakeaws.LostResponse())
	}
	tb.step("vpc")
	for op, want := range map[string]int{"CreateVpc": 1, "CreateSubnet": 6, "CreateInternetGateway": 1, "CreateRouteTable": 2, "CreateVpcEndpoint": 1} {
		if n := tb.cloud.CountCalls(op); n != want {
			t.Errorf("%s called %d times, want %d", op, n, want)
		}
	}
	if n := len(tb.vpcs()); n != 1 {
		t.Errorf("%d VPCs, want 1", n)
	}
	if n := len(tb.subnets()); n != 6 {
		t.Errorf("%d subnets, want 6", n)
	}
	out, _ := tb.cloud.EC2.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{Filters: awsx.StackFilters("myapp", "")})
	if n := len(out.RouteTables); n != 2 {
		t.Errorf("%d tagged route tables, want 2", n)
	}
	if p := tb.state().Stage("vpc").Pending; len(p) != 0 {
		t.Errorf("pending tokens left: %v", p)
	}
}

func TestCreatesThatFailedUnclearlyAreRetriedOnce(t *testing.T) {
	tb := newTestbed(t)
	// A 503 before the work was done: nothing is found by tags, so the
	// create is made again, once.
	tb.cloud.Inject("CreateSubnet", fakeaws.Fault{Err: fakeaws.Unavailable()})
	tb.step("vpc")
	if n, subnets := tb.cloud.CountCalls("CreateSubnet"), len(tb.subnets()); n != 7 || subnets != 6 {
		t.Errorf("CreateSubnet called %d times for %d subnets, want 7 for 6", n, subnets)
	}
	// A create that keeps failing gives up after three attempts.
	tb2 := newTestbed(t)
	down := fakeaws.Fault{Err: fakeaws.Unavailable()}
	tb2.cloud.Inject("CreateVpc", down, down, down, down)
	_, err := tb2.runner.Step(bg, "vpc")
	if awsx.ErrorCode(err) != "ServiceUnavailable" || tb2.cloud.CountCalls("CreateVpc") != createAttempts || len(tb2.vpcs()) != 0 {
		t.Errorf("err = %v after %d CreateVpc calls, %d VPCs", err, tb2.cloud.CountCalls("CreateVpc"), len(tb2.vpcs()))
	}
}

func TestDuplicatesFoundByTagAreRemoved(t *testing.T) {
	tb := newTestbed(t)
	ec := tb.cloud.EC2
	tags := awsx.StackTags("myapp", "vpc", "MyApp-VPC").EC2Spec(ec2types.ResourceTypeVpc)
	for i := 0; i < 2; i++ {
		if _, err := ec.CreateVpc(bg, &ec2.CreateVpcInput{CidrBlock: ptr("10.0.0.0/16"), TagSpecifications: tags}); err != nil {
			t.Fatal(err)
		}
	}
	res := tb.step("vpc")
	if n := len(tb.vpcs()); n != 1 {
		t.Errorf("%d VPCs, want 1", n)
	}
	found := false
	for _, c := range res.Changes {
		found = found || (c.Action == "delete" && strings.Contains(c.Detail, "duplicate"))
	}
	if !found {
		t.Errorf("no duplicate removal reported: %v", res.Changes)
	}
}

func TestInterruptedRunResumes(t *testing.T) {
	tb := newTestbed(t)
	ctx, cancel := contextWithCancel()
	// Ctrl-C arrives just as the third subnet is being created.
	tb.runner.Env.Log = func(f string, a ...any) {
		for _, v := range a {
			if c, ok := v.(Change); ok && c.Name == "MyApp-subnet-public3" {
				cancel()
			}
		}
	}
	_, err := tb.runner.Step(ctx, "vpc")
	if err == nil {
		t.Fatal("run was not interrupted")
	}
	if got := tb.state().Stage("vpc"); got.Status != state.StatusFailed || len(got.Resources) == 0 {
		t.Fatalf("state after interrupt: %+v", got)
	}
	tb.reload()
	tb.step("vpc")
	if n := len(tb.subnets()); n != 6 {
		t.Errorf("%d subnets after resume", n)
	}
	if n := len(tb.vpcs()); n != 1 {
		t.Errorf("%d VPCs after resume", n)
	}
}
