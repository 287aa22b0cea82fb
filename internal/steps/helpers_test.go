package steps

import (
	"context"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/config"
	"github.com/myappctl/myappctl/internal/state"
)

// testbed is a runner over a fake account with short waits.
type testbed struct {
	t      *testing.T
	cloud  *fakeaws.Cloud
	cfg    config.Config
	runner *Runner
	logs   []string
}

func newTestbed(t *testing.T) *testbed {
	t.Helper()
	cfg := config.Defaults()
	cfg.StateFile = filepath.Join(t.TempDir(), "myapp.json")
	cfg.Wait.PollInterval = 5 * time.Millisecond
	cfg.Wait.Timeout = 2 * time.Second
	cfg.Wait.DestroyTimeout = 3 * time.Second
	tb := &testbed{t: t, cloud: fakeaws.New(), cfg: cfg}
	tb.reload()
	return tb
}

// reload opens the state file afresh, as a new myappctl process would.
func (tb *testbed) reload() {
	tb.t.Helper()
	st, err := state.Load(tb.cfg.StatePath(), tb.cfg.Stack, tb.cfg.Region)
	if err != nil {
		tb.t.Fatal(err)
	}
	env := &Env{Cfg: &tb.cfg, State: st, AWS: tb.cloud.Clients(), Log: func(f string, a ...any) {}}
	tb.runner = NewRunner(env)
}

func (tb *testbed) state() *state.State { return tb.runner.Env.State }

func (tb *testbed) step(name string) StageResult {
	tb.t.Helper()
	res, err := tb.runner.Step(context.Background(), name)
	if err != nil {
		tb.t.Fatalf("step %s: %v", name, err)
	}
	return res
}

func (tb *testbed) destroy() DestroyReport {
	tb.t.Helper()
	rep, err := tb.runner.Destroy(context.Background())
	if err != nil {
		tb.t.Fatalf("destroy: %v (leftovers %+v)", err, rep.Leftovers)
	}
	return rep
}

// assertEmpty checks that nothing is left in the fake account.
func (tb *testbed) assertEmpty() {
	tb.t.Helper()
	for kind, n := range tb.cloud.EC2.Count() {
		if n != 0 {
			tb.t.Errorf("%d %s left after destroy", n, kind)
		}
	}
}

func (tb *testbed) vpcs(filters ...ec2types.Filter) []ec2types.Vpc {
	out, err := tb.cloud.EC2.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{Filters: filters})
	if err != nil {
		tb.t.Fatal(err)
	}
	return out.Vpcs
}

func (tb *testbed) subnets() []ec2types.Subnet {
	out, err := tb.cloud.EC2.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{})
	if err != nil {
		tb.t.Fatal(err)
	}
	return out.Subnets
}

func (tb *testbed) routeTable(id string) ec2types.RouteTable {
	out, err := tb.cloud.EC2.DescribeRouteTables(context.Background(), &ec2.DescribeRouteTablesInput{RouteTableIds: []string{id}})
	if err != nil {
		tb.t.Fatal(err)
	}
	return out.RouteTables[0]
}

func sortedStrings(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

func hasStackTags(tags []ec2types.Tag, stack, step string) bool {
	m := awsx.EC2TagMap(tags)
	return m[awsx.TagStack] == stack && m[awsx.TagStep] == step && m[awsx.TagName] != ""
}

var bg = context.Background()

func ptr(s string) *string { return aws.String(s) }

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
