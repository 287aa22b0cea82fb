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
	// AMIs: tagged, from the first instance of each tier, snapshots tagged too.
	for _, c := range []struct{ name, out, stage string }{{"frontend-AMI", OutFrontendAMI, "frontend-lb"}, {"backend-AMI", OutBackendAMI, "backend"}} {
		img, err := cb.cloud.EC2.DescribeImages(bg, &ec2.DescribeImagesInput{ImageIds: []string{st.Output(c.stage, c.out)}})
		if err != nil || len(img.Images) != 1 || img.Images[0].State != ec2types.ImageStateAvailable || !hasStackTags(img.Images[0].Tags, "myapp", c.stage) ||
			aws.ToString(img.Images[0].Name) != c.name {
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
	// Backend instances run with the database: those launched before it
	// existed were replaced (up runs stages rds and backend concurrently, so
	// backend-1 may also have had the database from the start).
	dbHash := backendSettingsFor(testDBEndpoint).hash()
	for _, out := range []string{OutBackend1ID, OutBackend2ID} {
		in := cb.instance(st.Output("backend", out))
		if awsx.EC2TagMap(in.Tags)[tagConfig] != dbHash {
			t.Errorf("%s: config %s", out, awsx.EC2TagMap(in.Tags)[tagConfig])
		}
		ud, _ := cb.cloud.EC2.InstanceUserData(aws.ToString(in.InstanceId))
		if !strings.Contains(ud, `DBURL="`+testDBEndpoint+`"`) {
			t.Errorf("%s user data:\n%s", out, ud)
		}
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

func backendSettingsFor(endpoint string) runtimeSettings {
	return runtimeSettings{{"PORT", "8090"}, {"DBURL", endpoint}, {"DBPORT", "3306"}, {"DBUSER", "root"},
		{"DBPASSWORD", testDBPassword}, {"DBDATABASE", "todo"}, {"CAROUSEL_URL", testCarouselURL}}
}

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
		"frontend-lb create ec2:image": 1, "frontend-lb create ec2:instance": 1, "frontend-lb create elbv2:load-balancer": 1,
		"backend create ec2:instance": 2, "backend create ec2:image": 1, "backend-lb create elbv2:target-group": 1, "backend-lb create ec2:instance": 2} {
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
	// backend-2 comes back with the database settings, so stage 6 has nothing to replace.
	if cfg := awsx.EC2TagMap(cb.instance(newBE2).Tags)[tagConfig]; cfg != backendSettingsFor(testDBEndpoint).hash() {
		t.Errorf("backend-2 config %s", cfg)
	}
	for _, c := range []struct{ stage, tg, id string }{{"frontend-lb", OutFrontendTGARN, newFE2}, {"backend-lb", OutBackendTGARN, newBE2}} {
		if got := cb.targets(st.Output(c.stage, c.tg)); !strings.Contains(strings.Join(got["healthy"], ","), c.id) {
			t.Errorf("%s: %v lacks %s", c.stage, got, c.id)
		}
	}
}

func TestSettingsChangeRollsTheBackendKeepingAHealthyTarget(t *testing.T) {
	cb := newComputeBed(t)
	cb.up("")
	st := cb.state()
	old := []string{st.Output("backend", OutBackend1ID), st.Output("backend", OutBackend2ID)}
	tg := st.Output("backend-lb", OutBackendTGARN)
	guard := cb.guardServing(func() string { return tg })
	// The database password changes (a reset): the backend must learn it.
	must(t, st.SetSecret("rds", SecretDBPassword, "a-new-password"))
	res := cb.step("backend-lb")
	var actions []string
	for _, c := range res.Changes {
		actions = append(actions, c.Action+" "+c.Kind)
	}
	want := "create ec2:instance,modify elbv2:target-group,modify elbv2:target-group,delete ec2:instance," +
		"create ec2:instance,modify elbv2:target-group,modify elbv2:target-group,delete ec2:instance"
	if strings.Join(actions, ",") != want {
		t.Errorf("changes:\n%s\nwant\n%s", strings.Join(actions, ","), want)
	}
	if guard.hits != 4 {
		t.Errorf("guard saw %d deregistrations/terminations, want 4", guard.hits)
	}
	now := []string{st.Output("backend", OutBackend1ID), st.Output("backend", OutBackend2ID)}
	if got := cb.targets(tg)["healthy"]; strings.Join(got, ",") != strings.Join(sortedStrings(now), ",") {
		t.Errorf("healthy targets %v, want %v", got, now)
	}
	for _, id := range old {
		if s := cb.instance(id).State.Name; s != ec2types.InstanceStateNameTerminated {
			t.Errorf("old %s is %s", id, s)
		}
	}
	for _, id := range now {
		ud, _ := cb.cloud.EC2.InstanceUserData(id)
		if !strings.Contains(ud, "CAROUSEL_URL=") {
			t.Errorf("%s lacks CAROUSEL_URL", id)
		}
	}
	// The owner stage's state follows, so a new up changes nothing.
	if rec, _ := st.Resource("backend", "instance/backend-1"); rec.ID != now[0] {
		t.Errorf("stage backend records %s, want %s", rec.ID, now[0])
	}
	cb.reload()
	cb.cloud.ResetCalls()
	cb.up("")
	if m := cb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("up after the roll made %v", m)
	}
}

func TestInterruptedRollResumesWithoutExtraInstances(t *testing.T) {
	cb := newComputeBed(t)
	cb.up("backend")
	cb.step("rds")
	// The first replacement is launched, then the run dies registering it.
	denied := fakeaws.Fault{Err: fakeaws.APIError("Throttling", "Rate exceeded")}
	cb.cloud.Inject("RegisterTargets", denied)
	if _, err := cb.runner.Step(bg, "backend-lb"); err == nil {
		t.Fatal("step succeeded")
	}
	cb.reload()
	cb.cloud.ResetCalls()
	cb.step("backend-lb")
	if n := cb.cloud.CountCalls("RunInstances"); n != 1 {
		t.Errorf("resume launched %d instances, want 1 (backend-2's replacement)", n)
	}
	if live := cb.liveInstances(); len(live["backend-1"]) != 1 || len(live["backend-2"]) != 1 {
		t.Errorf("live: %v", live)
	}
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

func TestAMIWaitsForTheReadyMarkerAndReportsBootFailures(t *testing.T) {
	cb := newComputeBed(t)
	cb.cloud.EC2.SetComputeTiming(1, 1, 4)
	cb.up("security")
	cb.cloud.ResetCalls()
	cb.step("frontend-lb")
	calls := cb.cloud.Calls()
	consoleReads, imageAt := 0, -1
	for i, c := range calls {
		if c == "GetConsoleOutput" && imageAt < 0 {
			consoleReads++
		}
		if c == "CreateImage" {
			imageAt = i
		}
	}
	if consoleReads < 5 || imageAt < 0 {
		t.Errorf("%d console reads before CreateImage (at %d)", consoleReads, imageAt)
	}
	if n := cb.cloud.EC2.Reboots(cb.state().Output("security", OutFrontend1ID)); n != 1 {
		t.Errorf("CreateImage rebooted frontend-1 %d times", n)
	}

	cb2 := newComputeBed(t)
	cb2.cloud.EC2.SetBootFailure(true)
	cb2.up("security")
	_, err := cb2.runner.Step(bg, "frontend-lb")
	if err == nil || !strings.Contains(err.Error(), "its user data failed: MYAPPCTL-FAILED") || !strings.Contains(err.Error(), "get-console-output") && !strings.Contains(err.Error(), "cloud-init-output.log") {
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
		ud, _ := cb.cloud.EC2.InstanceUserData(st.Output("backend", out))
		if !strings.Contains(ud, `DBURL="`+endpoint+`"`) || !strings.Contains(ud, "DBPASSWORD="+envFileQuote(password)) {
			t.Errorf("%s does not run with the database", out)
		}
	}
	cb.reload()
	cb.cloud.ResetCalls()
	cb.up("")
	if m := cb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("second up made %v", m)
	}
	cb.destroy()
	cb.assertNothingLeft()
}
