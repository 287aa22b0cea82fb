package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/myappctl/myappctl/internal/app"
	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws/wire"
	"github.com/myappctl/myappctl/internal/config"
)

// TestEndpointURLSendsRealSDKRequests runs the real command tree with the
// real client factory (app.AWSClients: default credential chain, SDK
// clients, --endpoint-url) against the wire server over a fake account, so
// EC2 and STS calls are real signed SDK requests over HTTP.
func TestEndpointURLSendsRealSDKRequests(t *testing.T) {
	start := time.Now()
	cloud := fakeaws.New()
	handler := wire.NewServer(cloud)
	var mu sync.Mutex
	requests := map[string]int{} // by signed service
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests[wire.SignedService(r)]++
		mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	counted := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range requests {
			out[k] = v
		}
		return out
	}

	// Credentials from the environment only: no shared files, no IMDS.
	nowhere := filepath.Join(t.TempDir(), "nonexistent")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere, "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_EC2": "", "AWS_ENDPOINT_URL_STS": "",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CA_BUNDLE": "",
		"MYAPP_WAIT_POLL_INTERVAL": "5ms", "MYAPP_WAIT_TIMEOUT": "2s", "MYAPP_WAIT_DESTROY_TIMEOUT": "3s",
	} {
		t.Setenv(k, v)
	}

	// The wire server speaks EC2 and STS. Destroy and status also sweep the
	// stages of other services (S3, RDS, Lambda, IAM, ELBv2: other
	// protocols), which use the same account's fakes in-process.
	clients := func(ctx context.Context, cfg *config.Config, verbose bool) (*awsx.Clients, error) {
		real, err := app.AWSClients(ctx, cfg, verbose)
		if err != nil {
			return nil, err
		}
		if _, ok := real.EC2.(*ec2.Client); !ok {
			t.Fatalf("EC2 client is %T, not the SDK's", real.EC2)
		}
		if _, ok := real.STS.(*sts.Client); !ok {
			t.Fatalf("STS client is %T, not the SDK's", real.STS)
		}
		c := cloud.Clients()
		c.EC2, c.STS = real.EC2, real.STS
		return c, nil
	}
	statePath := filepath.Join(t.TempDir(), "myapp.json")
	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		cmd := newRootCmd(deps{clients: clients, stdin: strings.NewReader("")})
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetArgs(append([]string{"--endpoint-url", srv.URL, "--state", statePath}, args...))
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("myappctl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out.String(), errOut.String())
		}
		return out.String()
	}
	ctx := context.Background()

	// step vpc builds the documented network.
	if out := run("step", "vpc"); !strings.Contains(out, "vpc          changed") || !strings.Contains(out, "+ create ec2:vpc MyApp-VPC") {
		t.Errorf("step vpc:\n%s", out)
	}
	got := cloud.EC2.Count()
	for kind, want := range map[string]int{"vpc": 1, "subnet": 6, "igw": 1, "vpce": 1, "rtb": 3} { // rtb: 2 of ours + the VPC's main one
		if got[kind] != want {
			t.Errorf("%d %s, want %d", got[kind], kind, want)
		}
	}
	vpcs, _ := cloud.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if len(vpcs.Vpcs) != 1 || awsx.EC2TagMap(vpcs.Vpcs[0].Tags)[awsx.TagStack] != "myapp" {
		t.Fatalf("vpcs = %+v", vpcs.Vpcs)
	}
	vpcID := aws.ToString(vpcs.Vpcs[0].VpcId)
	stackFilter := []ec2types.Filter{awsx.EC2Filter("tag:"+awsx.TagStack, "myapp")}
	subnets, _ := cloud.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: stackFilter})
	rtbs, _ := cloud.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: stackFilter})
	if len(subnets.Subnets) != 6 || len(rtbs.RouteTables) != 2 {
		t.Errorf("%d tagged subnets, %d tagged route tables; want 6 and 2", len(subnets.Subnets), len(rtbs.RouteTables))
	}
	var tagged []string
	for _, r := range rtbs.RouteTables {
		tagged = append(tagged, aws.ToString(r.RouteTableId))
	}
	igws, _ := cloud.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: stackFilter})
	if len(igws.InternetGateways) != 1 || len(igws.InternetGateways[0].Attachments) != 1 || aws.ToString(igws.InternetGateways[0].Attachments[0].VpcId) != vpcID {
		t.Errorf("internet gateways = %+v", igws.InternetGateways)
	}
	eps, _ := cloud.EC2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: stackFilter})
	if len(eps.VpcEndpoints) != 1 || aws.ToString(eps.VpcEndpoints[0].ServiceName) != "com.amazonaws.us-east-1.s3" ||
		eps.VpcEndpoints[0].VpcEndpointType != ec2types.VpcEndpointTypeGateway || !sameSet(eps.VpcEndpoints[0].RouteTableIds, tagged) {
		t.Errorf("endpoints = %+v (tagged route tables %v)", eps.VpcEndpoints, tagged)
	}
	if counted()["ec2"] < 20 {
		t.Errorf("EC2 requests over HTTP: %v", counted())
	}

	// status: every resource exists, as seen over HTTP.
	var status struct {
		Stages []struct {
			Name      string
			Status    string
			Resources []struct{ Type, Name, ID, Live string }
		}
	}
	before := counted()["ec2"]
	if err := json.Unmarshal([]byte(run("status", "--output", "json")), &status); err != nil {
		t.Fatal(err)
	}
	if len(status.Stages) == 0 || status.Stages[0].Name != "vpc" || status.Stages[0].Status != "complete" || len(status.Stages[0].Resources) != 11 {
		t.Fatalf("status = %+v", status)
	}
	for _, st := range status.Stages {
		for _, r := range st.Resources {
			if r.Live != "exists" {
				t.Errorf("stage %s: %s %s %s is %q", st.Name, r.Type, r.Name, r.ID, r.Live)
			}
		}
	}
	if counted()["ec2"] == before {
		t.Error("status made no EC2 request over HTTP")
	}

	// A second run finds everything and changes nothing.
	cloud.ResetCalls()
	before = counted()["ec2"]
	if out := run("step", "vpc"); !strings.Contains(out, "vpc          up to date") {
		t.Errorf("second step vpc:\n%s", out)
	}
	if m := cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("second step mutated: %v", m)
	}
	if len(cloud.Calls()) == 0 || counted()["ec2"]-before < len(cloud.Calls())-1 {
		t.Errorf("second step: %d fake calls, %d EC2 requests", len(cloud.Calls()), counted()["ec2"]-before)
	}

	// destroy removes everything.
	if out := run("destroy", "--yes"); !strings.Contains(out, "deleted 11 resource(s)") || !strings.Contains(out, "stack myapp is gone") {
		t.Errorf("destroy:\n%s", out)
	}
	for kind, n := range cloud.EC2.Count() {
		if n != 0 {
			t.Errorf("%d %s left after destroy", n, kind)
		}
	}

	// Only the services the wire server speaks were asked for, and every
	// request was one it answered.
	for service := range counted() {
		if !slices.Contains([]string{"ec2", "sts"}, service) {
			t.Errorf("requests for service %q: %v", service, counted())
		}
	}
	t.Logf("requests over HTTP by service: %v", counted())
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
