package steps

import (
	"encoding/base64"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/settings"
	"github.com/myappctl/myappctl/internal/state"
)

func (cb *computeBed) terminate(ids ...string) {
	cb.t.Helper()
	if _, err := cb.cloud.EC2.TerminateInstances(bg, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
		cb.t.Fatal(err)
	}
}

func (cb *computeBed) asg(name string) astypes.AutoScalingGroup {
	cb.t.Helper()
	out, err := cb.cloud.Autoscaling.DescribeAutoScalingGroups(bg, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		cb.t.Fatalf("group %s: %v %+v", name, err, out)
	}
	return out.AutoScalingGroups[0]
}

func groupInstanceIDs(g astypes.AutoScalingGroup) []string {
	var ids []string
	for _, in := range g.Instances {
		ids = append(ids, aws.ToString(in.InstanceId))
	}
	slices.Sort(ids)
	return ids
}

// defaultTemplateData is a launch template's default version's data.
func (cb *computeBed) defaultTemplateData(id string) *ec2types.ResponseLaunchTemplateData {
	cb.t.Helper()
	out, err := cb.cloud.EC2.DescribeLaunchTemplateVersions(bg, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: []string{"$Default"}})
	if err != nil {
		cb.t.Fatal(err)
	}
	return out.LaunchTemplateVersions[0].LaunchTemplateData
}

// stackFacts runs status and returns its facts by "stage/name", failing on drift.
func (cb *computeBed) stackFacts() map[string]string {
	cb.t.Helper()
	status, err := cb.runner.Status(bg, false)
	if err != nil {
		cb.t.Fatal(err)
	}
	facts := map[string]string{}
	for _, s := range status {
		for _, f := range s.Facts {
			facts[s.Name+"/"+f.Name] = f.Value
		}
		if len(s.Drift) != 0 || s.DriftError != "" {
			cb.t.Errorf("status reports drift in %s: %v %s", s.Name, s.Drift, s.DriftError)
		}
	}
	return facts
}

func TestAllNineStagesConvergeFromScratch(t *testing.T) {
	cb := newStackBed(t)
	cb.up("")
	st := cb.state()
	for _, s := range cb.runner.Stages {
		if got := st.Stage(s.Name).Status; got != state.StatusComplete {
			t.Errorf("stage %s: %s", s.Name, got)
		}
	}
	subnets := strings.Split(st.Output("vpc", OutPublicSubnets), ",")
	apiURL := "http://" + st.Output("backend-lb", OutBackendLBDNS) + ":8090"
	for _, c := range []struct {
		group, template, ami, sg, tg string
		subnets                      []string
		userData                     []string
	}{
		{"frontend-asg", OutFrontendLaunchTemplate, st.Output("frontend-lb", OutFrontendAMI), st.Output("security", OutFrontendSG),
			st.Output("frontend-lb", OutFrontendTGARN), subnets[:2], []string{`SETTINGS_PATH="/myappctl/myapp/frontend/"`}},
		{"backend-asg", OutBackendLaunchTemplate, st.Output("backend", OutBackendAMI), st.Output("security", OutBackendSG),
			st.Output("backend-lb", OutBackendTGARN), subnets[2:], []string{`SETTINGS_PATH="/myappctl/myapp/backend/"`}},
	} {
		g := cb.asg(c.group)
		lt := st.Output("autoscaling", c.template)
		if aws.ToInt32(g.DesiredCapacity) != 2 || aws.ToInt32(g.MinSize) != 1 || aws.ToInt32(g.MaxSize) != 5 || aws.ToString(g.HealthCheckType) != "ELB" ||
			aws.ToInt32(g.HealthCheckGracePeriod) != 120 || !slices.Equal(g.TargetGroupARNs, []string{c.tg}) ||
			aws.ToString(g.LaunchTemplate.LaunchTemplateId) != lt || aws.ToString(g.LaunchTemplate.Version) != "$Default" ||
			!sameStrings(strings.Split(aws.ToString(g.VPCZoneIdentifier), ","), c.subnets) {
			t.Errorf("%s: %+v", c.group, g)
		}
		tags := awsx.AutoScalingTagMap(g.Tags)
		for _, d := range g.Tags {
			if !aws.ToBool(d.PropagateAtLaunch) {
				t.Errorf("%s: tag %s not propagated", c.group, aws.ToString(d.Key))
			}
		}
		if tags[awsx.TagStack] != "myapp" || tags[awsx.TagStep] != "autoscaling" || tags[awsx.TagName] != c.group {
			t.Errorf("%s tags %v", c.group, tags)
		}
		d := cb.defaultTemplateData(lt)
		raw, _ := base64.StdEncoding.DecodeString(aws.ToString(d.UserData))
		if aws.ToString(d.ImageId) != c.ami || d.InstanceType != "t2.micro" || !slices.Equal(d.SecurityGroupIds, []string{c.sg}) ||
			d.MetadataOptions.HttpTokens != ec2types.LaunchTemplateHttpTokensStateRequired || aws.ToInt32(d.MetadataOptions.HttpPutResponseHopLimit) != 2 || d.KeyName != nil {
			t.Errorf("%s template data %+v", c.group, d)
		}
		for _, want := range c.userData {
			if !strings.Contains(string(raw), want) || !strings.Contains(string(raw), "MYAPPCTL-CONFIGURED") {
				t.Errorf("%s template user data lacks %q:\n%s", c.group, want, raw)
			}
		}
		if strings.Contains(string(raw), "DBPASSWORD") || strings.Contains(string(raw), apiURL) {
			t.Errorf("%s template holds a setting:\n%s", c.group, raw)
		}
		if d.IamInstanceProfile == nil || !strings.HasSuffix(aws.ToString(d.IamInstanceProfile.Name), "-instance-us-east-1") {
			t.Errorf("%s template instance profile %+v", c.group, d.IamInstanceProfile)
		}
		// The group's instances: in its subnets, from its template, tagged
		// for the stack (so destroy finds them), healthy targets of its group.
		ids := groupInstanceIDs(g)
		if got := cb.targets(c.tg); len(ids) != 2 || strings.Join(got["healthy"], ",") != strings.Join(ids, ",") || len(got) != 1 {
			t.Errorf("%s: instances %v, targets %v", c.group, ids, got)
		}
		for _, id := range ids {
			in := cb.instance(id)
			tags := awsx.EC2TagMap(in.Tags)
			ud, _ := cb.cloud.EC2.InstanceUserData(id)
			if tags[awsx.TagStack] != "myapp" || tags[awsx.TagStep] != "autoscaling" || tags[awsx.TagName] != c.group || tags[tagRelease] == "" ||
				ud != string(raw) || aws.ToString(in.ImageId) != c.ami || !slices.Contains(c.subnets, aws.ToString(in.SubnetId)) {
				t.Errorf("%s instance %s: tags %v, subnet %s", c.group, id, tags, aws.ToString(in.SubnetId))
			}
		}
	}
	// The stand-alone instances are gone, and their stages forget them.
	live := cb.liveInstances()
	for _, name := range []string{"frontend-1", "frontend-2", "backend-1", "backend-2"} {
		if len(live[name]) != 0 {
			t.Errorf("%s still runs: %v", name, live[name])
		}
	}
	if st.Output("autoscaling", OutBootstrapRetired) != "true" || st.Output("security", OutFrontend1ID) != "" || st.Output("backend", OutBackend2ID) != "" {
		t.Errorf("outputs after retiring: %v %v", st.Stage("autoscaling").Outputs, st.Stage("backend").Outputs)
	}
	for _, s := range []string{"security", "frontend-lb", "backend"} {
		for _, res := range st.Stage(s).Resources {
			if res.Type == instanceKind.Type {
				t.Errorf("stage %s still lists %s", s, res.Key)
			}
		}
	}
	facts := cb.stackFacts()
	for k, want := range map[string]string{
		"autoscaling/frontend-asg": "desired 2, 2 in service (min 1, max 5)", "autoscaling/backend-asg": "desired 2, 2 in service",
		"autoscaling/frontend-tg": "2/2 targets healthy", "autoscaling/backend-tg": "2/2 targets healthy",
		"autoscaling/app URL": "http://frontend-lb-", "autoscaling/API URL": ":8090", "autoscaling/stand-alone instances": "retired",
		"security/frontend-1": "retired: serving from frontend-asg", "frontend-lb/stand-alone instances": "retired: serving from frontend-asg",
		"backend/stand-alone instances": "retired: serving from backend-asg", "link/frontend settings": "applied by 2/2 instances",
	} {
		if v := facts[k]; !strings.Contains(v, want) {
			t.Errorf("status %s = %q, want %q", k, v, want)
		}
	}
}

func TestSecondUpAfterRetiringMakesNoMutatingCall(t *testing.T) {
	cb := newStackBed(t)
	cb.assertSecondUpConverged(len(cb.runner.Stages))
	// Each stage alone is a no-op too.
	for _, s := range []string{"security", "frontend-lb", "backend", "backend-lb", "link", "autoscaling"} {
		if res := cb.step(s); len(res.Changes) != 0 {
			t.Errorf("step %s: %v", s, res.Changes)
		}
	}
	if m := cb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("steps made mutating calls %v", m)
	}
}

func TestInstanceTypeChangeMakesNewTemplateVersionsAndRefreshesOnly(t *testing.T) {
	cb := newStackBed(t)
	cb.up("")
	before := map[string][]string{}
	for _, g := range []string{"frontend-asg", "backend-asg"} {
		before[g] = groupInstanceIDs(cb.asg(g))
	}
	cb.cfg.InstanceType = "t3.micro"
	cb.reload()
	plan, err := cb.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	var planned []string
	for _, p := range plan {
		for _, c := range p.Changes {
			planned = append(planned, p.Stage+" "+c.Action+" "+c.Kind+" "+c.Name+" "+c.Detail)
		}
	}
	if len(planned) != 4 || !strings.Contains(strings.Join(planned, "\n"), "instance type t2.micro → t3.micro") {
		t.Errorf("plan:\n%s", strings.Join(planned, "\n"))
	}
	cb.cloud.ResetCalls()
	cb.up("")
	got := cb.cloud.MutatingCalls()
	slices.Sort(got)
	// The old versions go once no instance runs them.
	want := []string{"CreateLaunchTemplateVersion", "CreateLaunchTemplateVersion", "DeleteLaunchTemplateVersions", "DeleteLaunchTemplateVersions",
		"ModifyLaunchTemplate", "ModifyLaunchTemplate", "StartInstanceRefresh", "StartInstanceRefresh"}
	if !slices.Equal(got, want) {
		t.Errorf("mutating calls %v, want %v", got, want)
	}
	st := cb.state()
	for _, c := range []struct{ group, tg string }{{"frontend-asg", st.Output("frontend-lb", OutFrontendTGARN)}, {"backend-asg", st.Output("backend-lb", OutBackendTGARN)}} {
		g := cb.asg(c.group)
		ids := groupInstanceIDs(g)
		for _, in := range g.Instances {
			if aws.ToString(in.LaunchTemplate.Version) != "2" || cb.instance(aws.ToString(in.InstanceId)).InstanceType != "t3.micro" {
				t.Errorf("%s: %s runs version %s", c.group, aws.ToString(in.InstanceId), aws.ToString(in.LaunchTemplate.Version))
			}
			if slices.Contains(before[c.group], aws.ToString(in.InstanceId)) {
				t.Errorf("%s: %s was not replaced", c.group, aws.ToString(in.InstanceId))
			}
		}
		if healthy := cb.targets(c.tg)["healthy"]; strings.Join(healthy, ",") != strings.Join(ids, ",") {
			t.Errorf("%s: healthy %v, instances %v", c.group, healthy, ids)
		}
	}
	cb.assertNoOpUp()
}

func TestInterruptedRefreshIsStartedByTheNextUp(t *testing.T) {
	cb := newStackBed(t)
	cb.up("")
	cb.cfg.InstanceType = "t3.micro"
	cb.cloud.Inject("StartInstanceRefresh", fakeaws.Fault{Err: fakeaws.APIError("Throttling", "Rate exceeded")})
	if _, err := cb.runner.Step(bg, "autoscaling"); err == nil {
		t.Fatal("step succeeded")
	}
	cb.reload()
	cb.cloud.ResetCalls()
	cb.step("autoscaling")
	// The frontend's version is there (the failed run made it); the backend's
	// is new (that run stopped before it).
	if n, m := cb.cloud.CountCalls("CreateLaunchTemplateVersion"), cb.cloud.CountCalls("StartInstanceRefresh"); n != 1 || m != 2 {
		t.Errorf("resume: %d new versions, %d refreshes (want 1, 2)", n, m)
	}
	for _, g := range []string{"frontend-asg", "backend-asg"} {
		for _, in := range cb.asg(g).Instances {
			if aws.ToString(in.LaunchTemplate.Version) != "2" {
				t.Errorf("%s: %s runs version %s", g, aws.ToString(in.InstanceId), aws.ToString(in.LaunchTemplate.Version))
			}
		}
	}
}

func TestDeletedGroupAndTemplateAreRecreated(t *testing.T) {
	cb := newStackBed(t)
	cb.up("")
	st := cb.state()
	if _, err := cb.cloud.Autoscaling.DeleteAutoScalingGroup(bg, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("backend-asg"), ForceDelete: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.cloud.EC2.DeleteLaunchTemplate(bg, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(st.Output("autoscaling", OutFrontendLaunchTemplate))}); err != nil {
		t.Fatal(err)
	}
	cb.reload()
	cb.cloud.ResetCalls()
	cb.up("")
	got := cb.cloud.MutatingCalls()
	slices.Sort(got)
	// The backend group (waited for while it is still being deleted); the
	// frontend template, which its group then uses: its instances run
	// another template, so they are refreshed.
	want := []string{"CreateAutoScalingGroup", "CreateLaunchTemplate", "StartInstanceRefresh", "UpdateAutoScalingGroup"}
	if !slices.Equal(got, want) {
		t.Errorf("mutating calls %v, want %v", got, want)
	}
	if ids := groupInstanceIDs(cb.asg("backend-asg")); len(ids) != 2 {
		t.Errorf("backend-asg instances %v", ids)
	}
	if live := cb.liveInstances(); len(live["backend-1"])+len(live["frontend-1"]) != 0 {
		t.Errorf("stand-alone instances came back: %v", live)
	}
}

func TestKeepBootstrapInstances(t *testing.T) {
	cb := newStackBed(t)
	cb.cfg.Autoscaling.KeepBootstrapInstances = true
	cb.up("")
	st := cb.state()
	live := cb.liveInstances()
	for _, name := range []string{"frontend-1", "frontend-2", "backend-1", "backend-2"} {
		if len(live[name]) != 1 {
			t.Errorf("%s: %v", name, live[name])
		}
	}
	for _, tg := range []string{st.Output("frontend-lb", OutFrontendTGARN), st.Output("backend-lb", OutBackendTGARN)} {
		if got := cb.targets(tg); len(got["healthy"]) != 4 || len(got) != 1 {
			t.Errorf("targets %v: the stand-alone instances serve beside the group's", got)
		}
	}
	if v := st.Output("autoscaling", OutBootstrapRetired); v != "false" {
		t.Errorf("bootstrap_retired = %q", v)
	}
	cb.assertNoOpUp()

	// Turned off: they are retired. Turned on again: they come back.
	cb.cfg.Autoscaling.KeepBootstrapInstances = false
	cb.reload()
	cb.up("")
	if live := cb.liveInstances(); len(live["frontend-1"])+len(live["frontend-2"])+len(live["backend-1"])+len(live["backend-2"]) != 0 {
		t.Fatalf("not retired: %v", live)
	}
	cb.cfg.Autoscaling.KeepBootstrapInstances = true
	cb.reload()
	cb.up("")
	live = cb.liveInstances()
	for _, name := range []string{"frontend-1", "frontend-2", "backend-1", "backend-2"} {
		if len(live[name]) != 1 {
			t.Errorf("%s after keeping again: %v", name, live[name])
		}
	}
	version := settings.Version(frontendSettings(cb.state().Output("link", OutAPIURL)))
	for _, out := range []struct{ stage, key string }{{"security", OutFrontend1ID}, {"frontend-lb", OutFrontend2ID}} {
		if rep := cb.report("frontend", cb.state().Output(out.stage, out.key)); rep.SettingsVersion != version {
			t.Errorf("%s does not run with the API URL: %+v", out.key, rep)
		}
	}
	cb.assertNoOpUp()
}

func TestPlanFromScratchCoversLinkAndAutoscaling(t *testing.T) {
	cb := newStackBed(t)
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
	for k, want := range map[string]int{"link create ssm:parameter": 1, "link create ec2:instance": 0, "autoscaling create ec2:launch-template": 2,
		"autoscaling create autoscaling:group": 2, "autoscaling delete ec2:instance": 4} {
		if count[k] != want {
			t.Errorf("plan: %d × %s, want %d (all: %v)", count[k], k, want, count)
		}
	}
	if m := cb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("plan made mutating calls %v", m)
	}
}

func TestStackDestroyLeavesNothing(t *testing.T) {
	cb := newStackBed(t)
	cb.up("")
	cb.cloud.ResetCalls()
	cb.destroy()
	cb.assertNothingLeft()
	calls := cb.cloud.Calls()
	first := func(op string) int { return slices.Index(calls, op) }
	for _, order := range [][2]string{{"DeleteAutoScalingGroup", "DeleteLaunchTemplate"}, {"DeleteLaunchTemplate", "DeleteLoadBalancer"},
		{"DeleteLaunchTemplate", "DeregisterImage"}} {
		if first(order[0]) < 0 || first(order[0]) > first(order[1]) {
			t.Errorf("%s (first at %d) should come before %s (first at %d)", order[0], first(order[0]), order[1], first(order[1]))
		}
	}
	if n := cb.cloud.CountCalls("TerminateInstances"); n != 0 {
		t.Errorf("destroy terminated %d instances itself: the groups' force delete should have", n)
	}
	for _, s := range cb.runner.Stages {
		if st := cb.state().Stage(s.Name); st.Status != state.StatusDestroyed || len(st.Resources) != 0 || len(st.Outputs) != 0 {
			t.Errorf("stage %s after destroy: %+v", s.Name, st)
		}
	}
}

func TestStackDestroyWithLostStateFile(t *testing.T) {
	cb := newStackBed(t)
	cb.up("")
	must(t, os.Remove(cb.cfg.StatePath()))
	cb.reload()
	cb.destroy()
	cb.assertNothingLeft()
}

func TestStackDestroyWhileKeepingBootstrapInstances(t *testing.T) {
	cb := newStackBed(t)
	cb.cfg.Autoscaling.KeepBootstrapInstances = true
	cb.up("")
	cb.destroy()
	cb.assertNothingLeft()
}

func TestLostCreateResponsesMakeNoDuplicateTemplatesOrGroups(t *testing.T) {
	cb := newStackBed(t)
	cb.up("link")
	// Creates that worked but whose answers were lost are found by their
	// tags and adopted, in the same run.
	cb.cloud.Inject("CreateLaunchTemplate", fakeaws.LostResponse())
	cb.cloud.Inject("CreateAutoScalingGroup", fakeaws.LostResponse())
	cb.step("autoscaling")
	if n := cb.cloud.EC2.ComputeCount()["launch-template"]; n != 2 {
		t.Errorf("%d launch templates, want 2", n)
	}
	if names := cb.cloud.Autoscaling.GroupNames(); strings.Join(names, ",") != "backend-asg,frontend-asg" {
		t.Errorf("groups %v", names)
	}
}
