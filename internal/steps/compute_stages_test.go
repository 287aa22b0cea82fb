package steps

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/settings"
	"github.com/myappctl/myappctl/internal/state"
)

func TestComputeStagesConvergeFromScratch(t *testing.T) {
	cb := newComputeBed(t)
	cb.up("")
	st := cb.state()
	for _, s := range []string{"vpc", "security", "frontend-lb", "backend", "rds", "backend-lb"} {
		if got := st.Stage(s).Status; got != state.StatusComplete {
			t.Errorf("stage %s: %s", s, got)
		}
	}
	// Two instances per tier, by name, each running.
	live := cb.liveInstances()
	for _, name := range []string{"frontend-1", "frontend-2", "backend-1", "backend-2"} {
		if len(live[name]) != 1 {
			t.Errorf("%s: %v", name, live[name])
		}
	}
	// AMIs: named after the release, tagged with it, from the first
	// instance of each tier, snapshots tagged too.
	for _, c := range []struct{ name, out, stage string }{{"frontend-AMI-" + cb.sha("myapp-frontend")[:7], OutFrontendAMI, "frontend-lb"},
		{"backend-AMI-" + cb.sha("myapp-backend")[:7], OutBackendAMI, "backend"}} {
		img, err := cb.cloud.EC2.DescribeImages(bg, &ec2.DescribeImagesInput{ImageIds: []string{st.Output(c.stage, c.out)}})
		if err != nil || len(img.Images) != 1 || img.Images[0].State != ec2types.ImageStateAvailable || !hasStackTags(img.Images[0].Tags, "myapp", c.stage) ||
			aws.ToString(img.Images[0].Name) != c.name || awsx.EC2TagMap(img.Images[0].Tags)[tagRelease] == "" {
			t.Errorf("%s: %+v %v", c.name, img, err)
		}
		snaps, _ := cb.cloud.EC2.DescribeSnapshots(bg, &ec2.DescribeSnapshotsInput{Filters: awsx.StackFilters("myapp", c.name)})
		if len(snaps.Snapshots) != 1 || !hasStackTags(snaps.Snapshots[0].Tags, "myapp", c.stage) {
			t.Errorf("%s snapshots: %+v", c.name, snaps.Snapshots)
		}
	}
	// frontend-2 from the frontend AMI in public subnet 2; backend-2 from the backend AMI in subnet 4.
	subnets := strings.Split(st.Output("vpc", OutPublicSubnets), ",")
	fe2 := cb.instance(st.Output("frontend-lb", OutFrontend2ID))
	if aws.ToString(fe2.ImageId) != st.Output("frontend-lb", OutFrontendAMI) || aws.ToString(fe2.SubnetId) != subnets[1] {
		t.Errorf("frontend-2 from %s in %s", aws.ToString(fe2.ImageId), aws.ToString(fe2.SubnetId))
	}
	be2 := cb.instance(st.Output("backend", OutBackend2ID))
	if aws.ToString(be2.ImageId) != st.Output("backend", OutBackendAMI) || aws.ToString(be2.SubnetId) != subnets[3] {
		t.Errorf("backend-2 from %s in %s", aws.ToString(be2.ImageId), aws.ToString(be2.SubnetId))
	}
	// Every instance runs its tier's release and reports it; the backend's
	// report the database settings applied, which live in Parameter Store
	// (the password a SecureString), not in any user data.
	for tier, ids := range map[string][]string{"frontend": {st.Output("security", OutFrontend1ID), fe2ID(st)},
		"backend": {st.Output("backend", OutBackend1ID), st.Output("backend", OutBackend2ID)}} {
		for _, id := range ids {
			in := cb.instance(id)
			if rel := awsx.EC2TagMap(in.Tags)[tagRelease]; rel != cb.sha("myapp-"+tier) {
				t.Errorf("%s %s: release %s", tier, id, rel)
			}
			rep := cb.report(tier, id)
			if rep.Status != "running" || rep.Release != cb.sha("myapp-"+tier) {
				t.Errorf("%s %s report %+v", tier, id, rep)
			}
			if tier == "backend" && rep.SettingsVersion != settings.Version(backendSettingsFor(testDBEndpoint)) {
				t.Errorf("%s runs settings %s", id, rep.SettingsVersion)
			}
			if ud, _ := cb.cloud.EC2.InstanceUserData(id); strings.Contains(ud, "DB") {
				t.Errorf("%s user data holds a database setting:\n%s", id, ud)
			}
		}
	}
	if p, ok := cb.cloud.SSM.Parameter("/myappctl/myapp/backend/DBPASSWORD"); !ok || p.Type != "SecureString" || p.Value != testDBPassword || p.Tags[awsx.TagStack] != "myapp" {
		t.Errorf("DBPASSWORD parameter %+v", p)
	}
	// Load balancers, target groups, healthy targets, URLs.
	for _, c := range []struct{ stage, tg, dns, url string }{
		{"frontend-lb", OutFrontendTGARN, OutFrontendLBDNS, OutAppURL}, {"backend-lb", OutBackendTGARN, OutBackendLBDNS, OutAPIURL},
	} {
		tg := st.Output(c.stage, c.tg)
		if got := cb.targets(tg); len(got["healthy"]) != 2 || len(got) != 1 {
			t.Errorf("%s targets: %v", c.stage, got)
		}
		dns := st.Output(c.stage, c.dns)
		if dns == "" || !strings.HasPrefix(st.Output(c.stage, c.url), "http://"+dns) {
			t.Errorf("%s: dns %q url %q", c.stage, dns, st.Output(c.stage, c.url))
		}
	}
	if got := st.Output("backend-lb", OutAPIURL); !strings.HasSuffix(got, ":8090") {
		t.Errorf("api url %s", got)
	}
	lbs, _ := cb.cloud.ELBV2.DescribeLoadBalancers(bg, &elbv2.DescribeLoadBalancersInput{Names: []string{"frontend-lb", "backend-lb"}})
	for _, lb := range lbs.LoadBalancers {
		var zones []string
		for _, z := range lb.AvailabilityZones {
			zones = append(zones, aws.ToString(z.SubnetId))
		}
		want := subnets[:2]
		if aws.ToString(lb.LoadBalancerName) == "backend-lb" {
			want = subnets[2:]
		}
		if strings.Join(sortedStrings(zones), ",") != strings.Join(sortedStrings(want), ",") || lb.Scheme != "internet-facing" {
			t.Errorf("%s: subnets %v scheme %s", aws.ToString(lb.LoadBalancerName), zones, lb.Scheme)
		}
	}
	// Status shows states, health and URLs.
	status, err := cb.runner.Status(bg, false)
	if err != nil {
		t.Fatal(err)
	}
	facts := map[string]string{}
	for _, s := range status {
		for _, f := range s.Facts {
			facts[s.Name+"/"+f.Name] = f.Value
		}
		if len(s.Drift) != 0 {
			t.Errorf("status reports drift in %s: %v", s.Name, s.Drift)
		}
	}
	for k, want := range map[string]string{"security/frontend-1": "running", "frontend-lb/frontend-tg": "2/2 targets healthy",
		"backend/backend-2": "running", "backend-lb/backend-tg": "2/2 targets healthy", "frontend-lb/app URL": "http://", "backend-lb/API URL": ":8090"} {
		if !strings.Contains(facts[k], want) {
			t.Errorf("status %s = %q, want %q", k, facts[k], want)
		}
	}
}

// backendSettingsFor are the backend settings once stage rds has run.
// testCarouselURL is the carousel index of stack myapp in the fake account:
// known from the start, whether or not stage s3-sync has run.
const testCarouselURL = "https://carrousel-myapp-" + fakeaws.Account + ".s3.amazonaws.com/carrousel/carrousel.json"

func backendSettingsFor(endpoint string) map[string]string {
	return map[string]string{"DBURL": endpoint, "DBPORT": "3306", "DBUSER": "root", "DBPASSWORD": testDBPassword, "DBDATABASE": "todo", "CAROUSEL_URL": testCarouselURL}
}

func fe2ID(st *state.State) string { return st.Output("frontend-lb", OutFrontend2ID) }

func TestComputeSecondUpMakesNoMutatingCall(t *testing.T) {
	cb := newComputeBed(t)
	cb.assertSecondUpConverged(6)
}

func TestEachComputeStageRunsAloneOnceItsNeedsAreDone(t *testing.T) {
	cb := newComputeBed(t)
	for _, s := range []string{"security", "frontend-lb", "backend", "backend-lb"} {
		if _, err := cb.runner.Step(bg, s); err == nil || !strings.Contains(err.Error(), "run `myappctl step") {
			t.Errorf("step %s before its needs: err = %v", s, err)
		}
	}
	cb.step("vpc")
	cb.step("security")
	if _, err := cb.runner.Step(bg, "backend-lb"); err == nil || !strings.Contains(err.Error(), "needs stage 4 backend") {
		t.Errorf("step backend-lb before backend: %v", err)
	}
	cb.step("backend") // before frontend-lb: independent
	cb.step("frontend-lb")
	cb.step("rds")
	cb.step("backend-lb")
	for _, s := range []string{"security", "frontend-lb", "backend", "backend-lb"} {
		cb.cloud.ResetCalls()
		if res := cb.step(s); len(res.Changes) != 0 || len(cb.cloud.MutatingCalls()) != 0 {
			t.Errorf("step %s again: %v %v", s, res.Changes, cb.cloud.MutatingCalls())
		}
	}
}

func TestPlanFromScratchCoversTheComputeStages(t *testing.T) {
	cb := newComputeBed(t)
	plan, err := cb.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, p := range plan {
		for _, c := range p.Changes {
			count[p.Stage+" "+c.Action+" "+c.Kind]++
		}
	}
	for k, want := range map[string]int{"security create ec2:security-group": 5, "security create ec2:instance": 1, "security create s3:bucket": 1,
		"security create iam:role": 2, "security create iam:instance-profile": 2,
		"frontend-lb create ec2:image": 1, "frontend-lb create ec2:instance": 1, "frontend-lb create elbv2:load-balancer": 1,
		"backend create ec2:instance": 2, "backend create ec2:image": 1, "backend-lb create elbv2:target-group": 1, "backend-lb create ec2:instance": 0,
		"backend-lb create ssm:parameter": 6} {
		if count[k] != want {
			t.Errorf("plan: %d × %s, want %d (all: %v)", count[k], k, want, count)
		}
	}
	if m := cb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("plan made mutating calls %v", m)
	}
	if _, err := os.Stat(cb.cfg.StatePath()); !os.IsNotExist(err) {
		t.Errorf("plan wrote the state file")
	}
}

func TestDeletedInstancesAreRecreated(t *testing.T) {
	cb := newComputeBed(t)
	cb.up("")
	st := cb.state()
	fe2, be2 := st.Output("frontend-lb", OutFrontend2ID), st.Output("backend", OutBackend2ID)
	if _, err := cb.cloud.EC2.TerminateInstances(bg, &ec2.TerminateInstancesInput{InstanceIds: []string{fe2, be2}}); err != nil {
		t.Fatal(err)
	}
	cb.reload()
	cb.cloud.ResetCalls()
	cb.up("")
	st = cb.state()
	if n := cb.cloud.CountCalls("RunInstances"); n != 2 {
		t.Errorf("%d launches, want 2", n)
	}
	newFE2, newBE2 := st.Output("frontend-lb", OutFrontend2ID), st.Output("backend", OutBackend2ID)
	if newFE2 == fe2 || newBE2 == be2 {
		t.Fatal("not recreated")
	}
	// backend-2 comes back reading the database settings from its path.
	if rep := cb.report("backend", newBE2); rep.SettingsVersion != settings.Version(backendSettingsFor(testDBEndpoint)) {
		t.Errorf("backend-2 report %+v", rep)
	}
	for _, c := range []struct{ stage, tg, id string }{{"frontend-lb", OutFrontendTGARN, newFE2}, {"backend-lb", OutBackendTGARN, newBE2}} {
		if got := cb.targets(st.Output(c.stage, c.tg)); !strings.Contains(strings.Join(got["healthy"], ","), c.id) {
			t.Errorf("%s: %v lacks %s", c.stage, got, c.id)
		}
	}
}

func TestSettingsChangeReachesTheRunningBackendWithoutReplacingIt(t *testing.T) {
	cb := newComputeBed(t)
	cb.up("")
	st := cb.state()
	old := []string{st.Output("backend", OutBackend1ID), st.Output("backend", OutBackend2ID)}
	tg := st.Output("backend-lb", OutBackendTGARN)
	// The database password changes (a reset): the backend must learn it,
	// and takes a few reads of its path to do so.
	must(t, st.SetSecret("rds", SecretDBPassword, "a-new-password"))
	cb.cloud.Agent.Configure(func(a *fakeaws.Agent) { a.SettingsLag = 2 })
	cb.cloud.ResetCalls()
	res := cb.step("backend-lb")
	if got := changeDetails(res.Changes); got != "value changed (SecureString, not shown)" || len(res.Changes) != 1 || res.Changes[0].Name != "/myappctl/myapp/backend/DBPASSWORD" {
		t.Errorf("changes: %v", res.Changes)
	}
	if m := strings.Join(cb.cloud.MutatingCalls(), ","); m != "PutParameter" {
		t.Errorf("mutating calls %s, want only PutParameter", m)
	}
	want := backendSettingsFor(testDBEndpoint)
	want["DBPASSWORD"] = "a-new-password"
	for _, id := range old {
		if rep := cb.report("backend", id); rep.SettingsVersion != settings.Version(want) {
			t.Errorf("%s runs settings %s after the stage, want %s", id, rep.SettingsVersion, settings.Version(want))
		}
	}
	if now := []string{st.Output("backend", OutBackend1ID), st.Output("backend", OutBackend2ID)}; strings.Join(now, ",") != strings.Join(old, ",") {
		t.Errorf("instances replaced: %v → %v", old, now)
	}
	if got := cb.targets(tg)["healthy"]; len(got) != 2 {
		t.Errorf("healthy targets %v", got)
	}
	cb.assertNoOpUp()
}

func TestLostLaunchResponseMakesNoDuplicate(t *testing.T) {
	cb := newComputeBed(t)
	cb.step("vpc")
	// The launch worked, its answer was lost: found by its tags, adopted in the same run.
	cb.cloud.Inject("RunInstances", fakeaws.LostResponse())
	cb.step("security")
	if n := cb.cloud.CountCalls("RunInstances"); n != 1 {
		t.Errorf("RunInstances called %d times, want 1", n)
	}
	if live := cb.liveInstances(); len(live["frontend-1"]) != 1 {
		t.Errorf("frontend-1 instances: %v", live["frontend-1"])
	}
}

func TestAMIWaitsForTheInstanceReportAndFailsWithTheLogTail(t *testing.T) {
	cb := newComputeBed(t)
	cb.up("security")
	cb.cloud.ResetCalls()
	cb.step("frontend-lb")
	calls := cb.cloud.Calls()
	reportReads, imageAt := 0, -1
	for i, c := range calls {
		if c == "GetObject" && imageAt < 0 {
			reportReads++
		}
		if c == "CreateImage" {
			imageAt = i
		}
		if c == "GetConsoleOutput" {
			t.Errorf("the stage read the console")
		}
	}
	if reportReads < 1 || imageAt < 0 {
		t.Errorf("%d report reads before CreateImage (at %d)", reportReads, imageAt)
	}
	if n := cb.cloud.EC2.Reboots(cb.state().Output("security", OutFrontend1ID)); n != 1 {
		t.Errorf("CreateImage rebooted frontend-1 %d times", n)
	}

	cb2 := newComputeBed(t)
	cb2.cloud.EC2.SetBootFailure(true)
	cb2.up("security")
	_, err := cb2.runner.Step(bg, "frontend-lb")
	if err == nil || !strings.Contains(err.Error(), "failed to install myapp-frontend release "+cb2.sha("myapp-frontend")[:7]) ||
		!strings.Contains(err.Error(), "    | E: Unable to locate package") || !strings.Contains(err.Error(), "terminate-instances") {
		t.Errorf("err = %v", err)
	}
	if n := cb2.cloud.CountCalls("CreateImage"); n != 0 {
		t.Errorf("baked an AMI from a failed instance")
	}
}

func TestUnhealthyTargetsTimeOutWithTheirReasons(t *testing.T) {
	cb := newComputeBed(t)
	cb.cfg.Wait.Timeout = 300 * time.Millisecond
	cb.cloud.ELBV2.HealthOf = func(_, _ string) (elbv2types.TargetHealthStateEnum, string) {
		return elbv2types.TargetHealthStateEnumUnhealthy, string(elbv2types.TargetHealthReasonEnumTimeout)
	}
	cb.up("security")
	_, err := cb.runner.Step(bg, "frontend-lb")
	if err == nil || !strings.Contains(err.Error(), "Target.Timeout") || !strings.Contains(err.Error(), "security group") {
		t.Errorf("err = %v", err)
	}
}

func TestUpToBackendLBRunsOnlyWhatItNeeds(t *testing.T) {
	cb := newComputeBed(t)
	res := cb.up("backend-lb")
	var ran []string
	for _, r := range res {
		ran = append(ran, r.Stage)
	}
	if strings.Join(ran, ",") != "vpc,security,backend,rds,backend-lb" {
		t.Errorf("ran %v", ran)
	}
	if got := cb.targets(cb.state().Output("backend-lb", OutBackendTGARN)); len(got["healthy"]) != 2 {
		t.Errorf("backend targets %v", got)
	}
	if st := cb.state().Stage("frontend-lb").Status; st != state.StatusPending {
		t.Errorf("frontend-lb is %s", st)
	}
}

func TestComputeStagesWithTheRealDatabaseStage(t *testing.T) {
	cb := newComputeBedWith(t, true)
	cb.up("")
	st := cb.state()
	endpoint, password := st.Output("rds", OutDBEndpoint), st.Secret("rds", SecretDBPassword)
	if endpoint == "" || password == "" {
		t.Fatalf("rds wrote endpoint %q", endpoint)
	}
	for _, out := range []string{OutBackend1ID, OutBackend2ID} {
		want := backendSettingsFor(endpoint)
		want["DBPASSWORD"] = password
		if rep := cb.report("backend", st.Output("backend", out)); rep.SettingsVersion != settings.Version(want) {
			t.Errorf("%s does not run with the database: %+v", out, rep)
		}
	}
	cb.assertNoOpUp()
	cb.destroy()
	cb.assertNothingLeft()
}
