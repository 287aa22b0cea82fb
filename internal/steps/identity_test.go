package steps

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/settings"
)

// captureLog collects every progress line of the runner.
func (cb *computeBed) captureLog() func() []string {
	var (
		mu    sync.Mutex
		lines []string
	)
	cb.runner.Env.Log = func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(f, a...))
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(lines)
	}
}

func TestFreshUpLaunchesEightInstancesAndThePasswordIsNowhereButParameterStore(t *testing.T) {
	cb := newStackBed(t)
	logs := cb.captureLog()
	plan, err := cb.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	cb.up("")
	if n := cb.cloud.EC2.InstancesLaunched(); n != 8 {
		t.Errorf("a fresh up launched %d instances, want 8 (4 stand-alone, 4 from the groups)", n)
	}
	pw := cb.state().Secret("rds", SecretDBPassword)
	secrets := []string{pw, base64.StdEncoding.EncodeToString([]byte(pw)), "DBPASSWORD="}
	var texts []string
	for _, res := range cb.liveInstancesAll() {
		ud, _ := cb.cloud.EC2.InstanceUserData(res)
		texts = append(texts, "user data of "+res+": "+ud)
	}
	for _, ud := range cb.cloud.EC2.LaunchTemplateUserData() {
		texts = append(texts, "launch template version: "+ud)
	}
	texts = append(texts, "log: "+strings.Join(logs(), "\n"))
	for _, p := range plan {
		texts = append(texts, fmt.Sprintf("plan: %v", p.Changes))
	}
	status, err := cb.runner.Status(bg, false)
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, fmt.Sprintf("status: %+v", status))
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%q appears in %.200s", s, text)
			}
		}
	}
	if p, ok := cb.cloud.SSM.Parameter("/myappctl/myapp/backend/DBPASSWORD"); !ok || p.Type != "SecureString" || p.Value != pw {
		t.Errorf("the password is not a SecureString parameter: %+v", p)
	}
	if len(cb.cloud.EC2.LaunchTemplateUserData()) != 2 {
		t.Errorf("launch template versions: %d, want one per template", len(cb.cloud.EC2.LaunchTemplateUserData()))
	}
}

// liveInstancesAll lists every instance ever launched.
func (cb *computeBed) liveInstancesAll() []string {
	cb.t.Helper()
	out, err := cb.cloud.EC2.DescribeInstances(bg, &ec2.DescribeInstancesInput{})
	if err != nil {
		cb.t.Fatal(err)
	}
	var ids []string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	return ids
}

func TestEachTierRoleMayReadOnlyItsOwnSettingsAndReleases(t *testing.T) {
	cb := newComputeBed(t)
	cb.up("security")
	bucket := cb.state().Output("security", OutArtifactsBucket)
	allowed := func(profile, action, resource string) bool {
		ok, err := cb.cloud.IAM.Allowed(profile, action, resource)
		if err != nil {
			t.Fatalf("%s %s %s: %v", profile, action, resource, err)
		}
		return ok
	}
	for _, c := range []struct {
		tier, other string
	}{{"frontend", "backend"}, {"backend", "frontend"}} {
		profile := cb.state().Output("security", c.tier+"_instance_profile")
		if profile != c.tier+"-instance-us-east-1" {
			t.Fatalf("%s profile %q", c.tier, profile)
		}
		own, other := settings.Path("myapp", c.tier), settings.Path("myapp", c.other)
		for _, x := range []struct {
			action, resource string
			want             bool
		}{
			{"ssm:GetParametersByPath", fakeaws.ParameterARN("us-east-1", own), true},
			{"ssm:GetParametersByPath", fakeaws.ParameterARN("us-east-1", strings.TrimSuffix(own, "/")), true},
			{"ssm:GetParameter", fakeaws.ParameterARN("us-east-1", own+"X"), true},
			{"ssm:GetParametersByPath", fakeaws.ParameterARN("us-east-1", other), false},
			{"ssm:GetParameter", fakeaws.ParameterARN("us-east-1", other+"DBPASSWORD"), false},
			{"ssm:GetParametersByPath", fakeaws.ParameterARN("us-east-1", "/myappctl/myapp/"), false},
			{"ssm:PutParameter", fakeaws.ParameterARN("us-east-1", own+"X"), false},
			{"s3:GetObject", "arn:aws:s3:::" + bucket + "/releases/" + c.tier + "/abc", true},
			{"s3:GetObject", "arn:aws:s3:::" + bucket + "/releases/" + c.other + "/abc", false},
			{"s3:GetObject", "arn:aws:s3:::" + bucket + "/reports/" + c.tier + "/i-1.json", false},
			{"s3:PutObject", "arn:aws:s3:::" + bucket + "/reports/" + c.tier + "/i-1.json", true},
			{"s3:PutObject", "arn:aws:s3:::" + bucket + "/reports/" + c.other + "/i-1.json", false},
			{"s3:PutObject", "arn:aws:s3:::" + bucket + "/releases/" + c.tier + "/abc", false},
		} {
			if got := allowed(profile, x.action, x.resource); got != x.want {
				t.Errorf("%s may %s on %s: %v, want %v", c.tier, x.action, x.resource, got, x.want)
			}
		}
		if role, _ := cb.cloud.IAM.InstanceProfileRole(profile); role != profile {
			t.Errorf("profile %s holds role %q", profile, role)
		}
	}
	// Repaired when changed by hand; destroyed with the stack.
	_, err := cb.cloud.IAM.PutRolePolicy(bg, &iam.PutRolePolicyInput{RoleName: aws.String("frontend-instance-us-east-1"), PolicyName: aws.String(instancePolicyName),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*"}]}`)})
	must(t, err)
	if res := cb.step("security"); len(res.Changes) != 1 || !strings.Contains(res.Changes[0].Detail, "inline policy instance") {
		t.Errorf("repair: %v", res.Changes)
	}
	cb.destroy()
	if p, r := cb.cloud.IAM.InstanceProfileNames(), cb.cloud.IAM.RoleNames(); len(p)+len(r) != 0 {
		t.Errorf("left: profiles %v, roles %v", p, r)
	}
}

func TestLearnerLabPresetCreatesNoIAMResource(t *testing.T) {
	cb := newStackBed(t)
	// A lab: LabRole and LabInstanceProfile exist, and creating roles or
	// profiles is denied.
	cb.cloud.IAM.AddRole("LabRole", "lambda.amazonaws.com")
	_, err := cb.cloud.IAM.PutRolePolicy(bg, &iam.PutRolePolicyInput{RoleName: aws.String("LabRole"), PolicyName: aws.String("lab"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
	must(t, err)
	cb.cloud.IAM.AddInstanceProfile("LabInstanceProfile", "LabRole")
	denied := fakeaws.Fault{Err: fakeaws.APIError("AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/voclabs/user is not authorized to perform: iam:CreateRole")}
	cb.cloud.Inject("CreateRole", denied, denied, denied)
	cb.cloud.Inject("CreateInstanceProfile", denied, denied, denied)
	cb.cfg.InstanceProfiles.Frontend, cb.cfg.InstanceProfiles.Backend = "LabInstanceProfile", "LabInstanceProfile"
	cb.cfg.Carousel.LambdaRoleARN = "LabRole"
	cb.reload()
	cb.cloud.ResetCalls()
	cb.up("")
	for _, op := range []string{"CreateRole", "CreateInstanceProfile", "PutRolePolicy", "AddRoleToInstanceProfile"} {
		if n := cb.cloud.CountCalls(op); n != 0 {
			t.Errorf("the lab preset called %s %d times", op, n)
		}
	}
	for _, id := range groupInstanceIDs(cb.asg("backend-asg")) {
		in := cb.instance(id)
		if in.IamInstanceProfile == nil || !strings.HasSuffix(aws.ToString(in.IamInstanceProfile.Arn), "/LabInstanceProfile") {
			t.Errorf("%s runs with %+v", id, in.IamInstanceProfile)
		}
		if rep := cb.report("backend", id); rep.SettingsVersion == "" {
			t.Errorf("%s could not read its settings: %+v", id, rep)
		}
	}
	cb.destroy()
	if p := cb.cloud.IAM.InstanceProfileNames(); strings.Join(p, ",") != "LabInstanceProfile" {
		t.Errorf("destroy touched the lab's profile: %v", p)
	}
}

func TestAConfiguredProfileThatDoesNotExistFailsClearly(t *testing.T) {
	cb := newComputeBed(t)
	cb.cfg.InstanceProfiles.Frontend = "LabInstanceProfil"
	cb.step("vpc")
	_, err := cb.runner.Step(bg, "security")
	if err == nil || !strings.Contains(err.Error(), `instance_profiles.frontend names "LabInstanceProfil", which does not exist`) {
		t.Errorf("err = %v", err)
	}
	if n := cb.cloud.CountCalls("RunInstances"); n != 0 {
		t.Errorf("%d launches", n)
	}
}

func TestAFreshProfileIsRetriedWhileEC2CannotSeeItYet(t *testing.T) {
	cb := newComputeBed(t)
	cb.cloud.IAM.ProfilePropagationCalls = 3
	cb.up("security")
	if n := cb.cloud.CountCalls("RunInstances"); n != 4 {
		t.Errorf("%d RunInstances calls, want 3 refused and 1 that launches", n)
	}
	if live := cb.liveInstances(); len(live["frontend-1"]) != 1 {
		t.Errorf("frontend-1: %v", live["frontend-1"])
	}
}

func TestInstancesWithoutAccessToTheirSettingsTimeOutSayingWhy(t *testing.T) {
	cb := newComputeBed(t)
	cb.cfg.Wait.Timeout = 300 * time.Millisecond
	cb.up("backend")
	cb.step("rds")
	cb.cloud.Agent.Configure(func(a *fakeaws.Agent) { a.SettingsDenied = true })
	_, err := cb.runner.Step(bg, "backend-lb")
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") || !strings.Contains(err.Error(), "backend-1: settings") {
		t.Errorf("err = %v", err)
	}
	// The services keep serving with what they had.
	tg, _ := cb.state().Resource("backend-lb", "target-group")
	cb.targets(tg.ID) // the health checks run
	if got := cb.targets(tg.ID); len(got["healthy"]) != 2 {
		t.Errorf("targets %v", got)
	}
}

func TestEmulatorsThatRunNoUserDataNeedReportsOff(t *testing.T) {
	cb := newComputeBed(t)
	cb.cloud.Agent.Configure(func(a *fakeaws.Agent) { a.Off = true })
	cb.cfg.Wait.Reports = false
	logs := cb.captureLog()
	cb.up("")
	if !slices.ContainsFunc(logs(), func(l string) bool {
		return strings.Contains(l, "not waiting for instance reports (wait.reports is false)")
	}) {
		t.Errorf("no note that reports are not awaited")
	}
}

// watchServing samples the target groups' healthy targets until stop is
// called and returns the fewest seen in each.
func (cb *computeBed) watchServing(tgs ...string) (stop func() map[string]int) {
	least := map[string]int{}
	for _, tg := range tgs {
		least[tg] = cb.cloud.ELBV2.ServingTargets(tg)
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Microsecond):
			}
			for _, tg := range tgs {
				least[tg] = min(least[tg], cb.cloud.ELBV2.ServingTargets(tg))
			}
		}
	}()
	return func() map[string]int {
		close(done)
		<-finished
		return least
	}
}

func TestANewBuildRollsOutThroughNewAMIsAndInstanceRefreshes(t *testing.T) {
	cb := newStackBed(t)
	cb.up("")
	st := cb.state()
	oldFE, oldBE := cb.sha("myapp-frontend"), cb.sha("myapp-backend")
	oldAMIs := []string{st.Output("frontend-lb", OutFrontendAMI), st.Output("backend", OutBackendAMI)}
	cb.writeBinary("myapp-frontend", []byte("ELF myapp-frontend v2"))
	cb.writeBinary("myapp-backend", []byte("ELF myapp-backend v2"))
	cb.reload()
	plan, err := cb.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	var planned []string
	for _, p := range plan {
		for _, c := range p.Changes {
			planned = append(planned, p.Stage+": "+c.String())
		}
	}
	for _, want := range []string{"frontend-AMI-" + cb.sha("myapp-frontend")[:7], "release " + oldBE[:7] + " → " + cb.sha("myapp-backend")[:7]} {
		if !strings.Contains(strings.Join(planned, "\n"), want) {
			t.Errorf("plan lacks %q:\n%s", want, strings.Join(planned, "\n"))
		}
	}
	tgs := []string{st.Output("frontend-lb", OutFrontendTGARN), st.Output("backend-lb", OutBackendTGARN)}
	stop := cb.watchServing(tgs...)
	cb.cloud.ResetCalls()
	cb.up("")
	for tg, n := range stop() {
		if n < 2 {
			t.Errorf("%s fell to %d healthy targets during the rollout (desired 2)", arnName(tg), n)
		}
	}
	st = cb.state()
	for tier, rel := range map[string]string{"frontend": cb.sha("myapp-frontend"), "backend": cb.sha("myapp-backend")} {
		for _, id := range groupInstanceIDs(cb.asg(tier + "-asg")) {
			if rep := cb.report(tier, id); rep.Release != rel {
				t.Errorf("%s %s runs %s, want %s", tier, id, shortRelease(rep.Release), shortRelease(rel))
			}
		}
	}
	if rel := st.Output("frontend-lb", OutFrontendRelease); rel == oldFE {
		t.Error("the frontend release output did not change")
	}
	// Old AMIs and their snapshots are gone; the build instances too.
	for _, id := range oldAMIs {
		if im, _ := describeImage(bg, cb.runner.Env, id); im != nil {
			t.Errorf("old AMI %s still exists", id)
		}
	}
	if c := cb.cloud.EC2.ComputeCount(); c["image"] != 2 || c["snapshot"] != 2 {
		t.Errorf("images and snapshots left: %v", c)
	}
	if live := cb.liveInstances(); len(live["frontend-build-"+cb.sha("myapp-frontend")[:7]]) != 0 {
		t.Errorf("build instance left: %v", live)
	}
	if n := cb.cloud.CountCalls("CreateImage"); n != 2 {
		t.Errorf("%d images baked, want 2", n)
	}
	cb.assertNoOpUp()
}

func TestANewBuildBeforeAutoscalingReplacesTheStandAloneInstancesOneAtATime(t *testing.T) {
	cb := newComputeBed(t)
	cb.up("")
	st := cb.state()
	old := []string{st.Output("security", OutFrontend1ID), st.Output("frontend-lb", OutFrontend2ID)}
	oldAMI := st.Output("frontend-lb", OutFrontendAMI)
	tg := st.Output("frontend-lb", OutFrontendTGARN)
	guard := cb.guardServing(func() string { return tg })
	cb.writeBinary("myapp-frontend", []byte("ELF myapp-frontend v2"))
	cb.cloud.ResetCalls()
	cb.up("")
	now := []string{st.Output("security", OutFrontend1ID), st.Output("frontend-lb", OutFrontend2ID)}
	for i := range now {
		if now[i] == old[i] {
			t.Errorf("frontend member %d not replaced", i+1)
		}
		if rep := cb.report("frontend", now[i]); rep.Release != cb.sha("myapp-frontend") {
			t.Errorf("%s runs %s", now[i], rep.Release)
		}
	}
	if guard.hits != 5 {
		t.Errorf("guard saw %d deregistrations/terminations, want 5 (2 instances, one at a time, and the build instance)", guard.hits)
	}
	// Launched: a build instance, then two replacements from the new AMI.
	if n := cb.cloud.CountCalls("RunInstances"); n != 3 {
		t.Errorf("%d launches, want 3", n)
	}
	if im, _ := describeImage(bg, cb.runner.Env, oldAMI); im != nil {
		t.Errorf("the old AMI %s is still there", oldAMI)
	}
	if n := cb.cloud.CountCalls("RunInstances"); n != 3 {
		t.Errorf("%d launches", n)
	}
	if rec, ok := st.Resource("frontend-lb", "build/frontend/"+cb.sha("myapp-frontend")[:7]); ok {
		t.Errorf("the build instance is still recorded: %+v", rec)
	}
}
