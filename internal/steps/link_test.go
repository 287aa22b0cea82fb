package steps

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

func TestLinkRollsTheFrontendKeepingAHealthyTarget(t *testing.T) {
	cb := newStackBed(t)
	cb.up("backend-lb")
	cb.step("frontend-lb")
	st := cb.state()
	old := []string{st.Output("security", OutFrontend1ID), st.Output("frontend-lb", OutFrontend2ID)}
	backend := []string{st.Output("backend", OutBackend1ID), st.Output("backend", OutBackend2ID)}
	tg := st.Output("frontend-lb", OutFrontendTGARN)
	guard := cb.guardServing(func() string { return tg })

	res := cb.step("link")
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
	apiURL := "http://" + st.Output("backend-lb", OutBackendLBDNS) + ":8090"
	if got := st.Output("link", OutAPIURL); got != apiURL {
		t.Errorf("api url %q, want %q", got, apiURL)
	}
	now := []string{st.Output("security", OutFrontend1ID), st.Output("frontend-lb", OutFrontend2ID)}
	for i, id := range now {
		if id == old[i] {
			t.Fatalf("frontend member %d was not replaced", i+1)
		}
		ud, _ := cb.cloud.EC2.InstanceUserData(id)
		if !strings.Contains(ud, `APIURL="`+apiURL+`"`) || awsx.EC2TagMap(cb.instance(id).Tags)[tagConfig] != frontendSettings(apiURL).hash() {
			t.Errorf("%s does not run with the API URL:\n%s", id, ud)
		}
		if s := cb.instance(old[i]).State.Name; s != ec2types.InstanceStateNameTerminated {
			t.Errorf("old %s is %s", old[i], s)
		}
	}
	if got := cb.targets(tg)["healthy"]; strings.Join(got, ",") != strings.Join(sortedStrings(now), ",") {
		t.Errorf("healthy targets %v, want %v", got, now)
	}
	if got := []string{st.Output("backend", OutBackend1ID), st.Output("backend", OutBackend2ID)}; strings.Join(got, ",") != strings.Join(backend, ",") {
		t.Errorf("link replaced the backend: %v → %v", backend, got)
	}

	// Linked: a no-op, in a new process too.
	cb.reload()
	cb.cloud.ResetCalls()
	if res := cb.step("link"); len(res.Changes) != 0 || len(cb.cloud.MutatingCalls()) != 0 {
		t.Errorf("link again: %v %v", res.Changes, cb.cloud.MutatingCalls())
	}
	status, err := cb.runner.Status(bg, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range status {
		for _, f := range s.Facts {
			if s.Name == "link" && f.Name == "frontend" && f.Value != "2/2 stand-alone instances run with this API URL" {
				t.Errorf("status link/frontend = %q", f.Value)
			}
		}
	}
}

func TestLinkReplacesAFrontendRecreatedWithTheLinkedURLOnlyOnce(t *testing.T) {
	cb := newStackBed(t)
	cb.up("link")
	st := cb.state()
	fe2 := st.Output("frontend-lb", OutFrontend2ID)
	cb.terminate(fe2)
	cb.reload()
	cb.cloud.ResetCalls()
	cb.up("link")
	// frontend-lb relaunches frontend-2 with the linked URL, so link has nothing to replace.
	if n := cb.cloud.CountCalls("RunInstances"); n != 1 {
		t.Errorf("%d launches, want 1", n)
	}
	if id := cb.state().Output("frontend-lb", OutFrontend2ID); id == fe2 || aws.ToString(cb.instance(id).InstanceId) != id {
		t.Errorf("frontend-2 is %s", id)
	}
}
