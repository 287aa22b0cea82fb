package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/settings"
)

// Test stand-ins for what stage rds writes (keys agreed with its engineer).
const (
	testDBEndpoint = "database-1.cdptwqaxrhvz.us-east-1.rds.amazonaws.com"
	testDBPassword = `s3cr3t "pa$$" w'rd`
)

// computeBed is a testbed for stages 2-6: app binaries in a temporary
// artifacts_dir, stage rds replaced by a stand-in that writes its outputs,
// and target health that follows the instance state.
type computeBed struct {
	*testbed
	binaries map[string][]byte
	realRDS  bool // keep the real stage 5 (over the RDS fake)
	stages   int  // how many of the nine stages the runner keeps
}

func newComputeBed(t *testing.T) *computeBed { return newComputeBedWith(t, false) }

func newComputeBedWith(t *testing.T, realRDS bool) *computeBed {
	t.Helper()
	tb := newTestbed(t)
	cb := &computeBed{testbed: tb, binaries: map[string][]byte{}, realRDS: realRDS, stages: 6}
	tb.cfg.ArtifactsDir = t.TempDir()
	for _, svc := range []string{"myapp-frontend", "myapp-backend"} {
		cb.writeBinary(svc, []byte("ELF "+svc+" v1"))
	}
	cb.stubRDS()
	tb.cloud.ELBV2.HealthOf = func(_, id string) (elbv2types.TargetHealthStateEnum, string) {
		if s, ok := tb.cloud.EC2.InstanceState(id); ok && s != ec2types.InstanceStateNameRunning {
			return elbv2types.TargetHealthStateEnumUnhealthy, string(elbv2types.TargetHealthReasonEnumInvalidState)
		}
		return "", ""
	}
	return cb
}

func (cb *computeBed) writeBinary(svc string, data []byte) {
	cb.t.Helper()
	must(cb.t, os.WriteFile(filepath.Join(cb.cfg.ArtifactsDir, svc), data, 0o755))
	cb.binaries[svc] = data
}

func (cb *computeBed) sha(svc string) string {
	sum := sha256.Sum256(cb.binaries[svc])
	return hex.EncodeToString(sum[:])
}

// newStackBed is a computeBed over all nine stages, with the carousel
// Lambda's binary in artifacts_dir too.
func newStackBed(t *testing.T) *computeBed {
	t.Helper()
	cb := newComputeBed(t)
	cb.writeBinary("bootstrap", []byte("ELF bootstrap v1"))
	cb.stages = 9
	cb.reload()
	return cb
}

// stubRDS keeps the first cb.stages stages (by default 1-6: link,
// autoscaling and s3-sync are other tests' business) and replaces stage 5
// with a stage that only writes the outputs and the secret the real one
// writes.
func (cb *computeBed) stubRDS() {
	cb.runner.Stages = cb.runner.Stages[:cb.stages]
	for i, s := range cb.runner.Stages {
		if s.Name != "rds" || cb.realRDS {
			continue
		}
		cb.runner.Stages[i] = &Stage{Number: 5, Name: "rds", Title: "database (test stand-in)", Needs: []string{"vpc", "security"},
			Apply: func(ctx context.Context, r *Run) error {
				if !r.DryRun && r.State.Secret("rds", "db_password") == "" {
					if err := r.State.SetSecret("rds", "db_password", testDBPassword); err != nil {
						return err
					}
				}
				return setOutputs(r, map[string]string{"db_endpoint": testDBEndpoint, "db_port": "3306", "db_name": "todo", "db_username": "root"})
			}}
	}
}

// reload opens the state file afresh, as a new process would.
func (cb *computeBed) reload() {
	cb.t.Helper()
	cb.testbed.reload()
	cb.stubRDS()
}

// up runs up (to a stage, or all of the bed's stages when to is "").
func (cb *computeBed) up(to string) []StageResult {
	cb.t.Helper()
	res, err := cb.runner.Up(bg, UpOptions{To: to})
	if err != nil {
		cb.t.Fatalf("up --to %s: %v", to, err)
	}
	return res
}

// assertNothingLeft checks the whole fake account is empty.
func (cb *computeBed) assertNothingLeft() {
	cb.t.Helper()
	for _, counts := range []map[string]int{cb.cloud.EC2.Count(), cb.cloud.EC2.ComputeCount(), cb.cloud.ELBV2.Count(), cb.cloud.Autoscaling.Count()} {
		for kind, n := range counts {
			if n != 0 {
				cb.t.Errorf("%d %s left", n, kind)
			}
		}
	}
	if b := cb.cloud.S3.BucketNames(); len(b) != 0 {
		cb.t.Errorf("buckets left: %v", b)
	}
	if f := cb.cloud.Lambda.FunctionNames(); len(f) != 0 {
		cb.t.Errorf("functions left: %v", f)
	}
	if r := cb.cloud.IAM.RoleNames(); len(r) != 0 {
		cb.t.Errorf("roles left: %v", r)
	}
	if p := cb.cloud.IAM.InstanceProfileNames(); len(p) != 0 {
		cb.t.Errorf("instance profiles left: %v", p)
	}
	if p := cb.cloud.SSM.ParameterNames(); len(p) != 0 {
		cb.t.Errorf("parameters left: %v", p)
	}
}

// report reads an instance's report from the artifacts bucket (as the
// tool does, so the fake instances act first).
func (cb *computeBed) report(tier, id string) settings.Report {
	cb.t.Helper()
	reports, err := tierReports(bg, cb.runner.Env, map[string]*appTier{"frontend": &frontendTier, "backend": &backendTier}[tier], []string{id})
	if err != nil {
		cb.t.Fatal(err)
	}
	return reports[id]
}

func (cb *computeBed) instance(id string) ec2types.Instance {
	cb.t.Helper()
	out, err := cb.cloud.EC2.DescribeInstances(bg, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) == 0 {
		cb.t.Fatalf("describe %s: %v", id, err)
	}
	return out.Reservations[0].Instances[0]
}

// liveInstances lists the running (or pending) instances by Name tag.
func (cb *computeBed) liveInstances() map[string][]string {
	cb.t.Helper()
	out, err := cb.cloud.EC2.DescribeInstances(bg, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		awsx.EC2Filter("instance-state-name", "pending", "running")}})
	if err != nil {
		cb.t.Fatal(err)
	}
	m := map[string][]string{}
	for _, res := range out.Reservations {
		for _, in := range res.Instances {
			name := awsx.EC2TagMap(in.Tags)[awsx.TagName]
			m[name] = append(m[name], aws.ToString(in.InstanceId))
		}
	}
	return m
}

func (cb *computeBed) group(role string) ec2types.SecurityGroup {
	cb.t.Helper()
	id := cb.state().Output("security", map[string]string{"frontend-lb": OutFrontendLBSG, "frontend": OutFrontendSG,
		"backend-lb": OutBackendLBSG, "backend": OutBackendSG, "db": OutDBSG}[role])
	out, err := cb.cloud.EC2.DescribeSecurityGroups(bg, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil {
		cb.t.Fatal(err)
	}
	return out.SecurityGroups[0]
}

// targets returns a target group's targets by state.
func (cb *computeBed) targets(tgARN string) map[string][]string {
	cb.t.Helper()
	out, err := cb.cloud.ELBV2.DescribeTargetHealth(bg, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		cb.t.Fatal(err)
	}
	m := map[string][]string{}
	for _, d := range out.TargetHealthDescriptions {
		m[string(d.TargetHealth.State)] = append(m[string(d.TargetHealth.State)], aws.ToString(d.Target.Id))
	}
	for _, ids := range m {
		slices.Sort(ids)
	}
	return m
}

// servingGuard fails the test when an instance is deregistered or
// terminated while no other target of the group is healthy.
type servingGuard struct {
	awsx.ELBV2API
	ec2  awsx.EC2API
	cb   *computeBed
	tg   func() string
	hits int
}

func (g *servingGuard) check(leaving []string) {
	g.cb.t.Helper()
	tg := g.tg()
	if tg == "" {
		return
	}
	out, err := g.cb.cloud.ELBV2.DescribeTargetHealth(bg, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		g.cb.t.Fatal(err)
	}
	others, healthy := 0, 0
	for _, d := range out.TargetHealthDescriptions {
		if id := aws.ToString(d.Target.Id); !slices.Contains(leaving, id) {
			others++
			if d.TargetHealth.State == elbv2types.TargetHealthStateEnumHealthy {
				healthy++
			}
		}
	}
	g.hits++
	if others > 0 && healthy == 0 {
		g.cb.t.Errorf("%v leaves %s with no healthy target (%d others)", leaving, tg, others)
	}
}

func (g *servingGuard) DeregisterTargets(ctx context.Context, in *elbv2.DeregisterTargetsInput, opts ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error) {
	var ids []string
	for _, t := range in.Targets {
		ids = append(ids, aws.ToString(t.Id))
	}
	g.check(ids)
	return g.ELBV2API.DeregisterTargets(ctx, in, opts...)
}

type guardedEC2 struct {
	awsx.EC2API
	g *servingGuard
}

func (e guardedEC2) TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, opts ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	e.g.check(in.InstanceIds)
	return e.EC2API.TerminateInstances(ctx, in, opts...)
}

// guardServing installs the guard on the runner's clients for a target group.
func (cb *computeBed) guardServing(tg func() string) *servingGuard {
	env := cb.runner.Env
	g := &servingGuard{ELBV2API: env.AWS.ELBV2, ec2: env.AWS.EC2, cb: cb, tg: tg}
	clients := *env.AWS
	clients.ELBV2, clients.EC2 = g, guardedEC2{EC2API: env.AWS.EC2, g: g}
	env.AWS = &clients
	return g
}

// assertNoOpUp runs up as a new process and expects no mutating call.
func (cb *computeBed) assertNoOpUp() {
	cb.t.Helper()
	cb.reload()
	cb.cloud.ResetCalls()
	cb.up("")
	if m := cb.cloud.MutatingCalls(); len(m) != 0 {
		cb.t.Errorf("another up made mutating calls %v", m)
	}
}

// assertSecondUpConverged runs up, then up again as a new process: the
// second makes no change and no mutating call, and a plan of the first
// `stages` stages is empty.
func (cb *computeBed) assertSecondUpConverged(stages int) {
	t := cb.t
	t.Helper()
	cb.up("")
	cb.reload()
	cb.cloud.ResetCalls()
	for _, res := range cb.up("") {
		if len(res.Changes) != 0 {
			t.Errorf("%s changed %v", res.Stage, res.Changes)
		}
	}
	if m := cb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("second up made mutating calls %v", m)
	}
	plan, err := cb.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plan[:stages] {
		if len(p.Changes) != 0 {
			t.Errorf("plan after converging: %s %v", p.Stage, p.Changes)
		}
	}
}
