package steps

import (
	"strings"
	"testing"

	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/settings"
)

func TestLinkWritesTheAPIURLAndReplacesNothing(t *testing.T) {
	cb := newStackBed(t)
	cb.up("backend-lb")
	cb.step("frontend-lb")
	st := cb.state()
	old := []string{st.Output("security", OutFrontend1ID), st.Output("frontend-lb", OutFrontend2ID)}
	tg := st.Output("frontend-lb", OutFrontendTGARN)
	guard := cb.guardServing(func() string { return tg })
	cb.cloud.Agent.Configure(func(a *fakeaws.Agent) { a.SettingsLag = 2 }) // the services re-read every few seconds
	cb.cloud.ResetCalls()

	res := cb.step("link")
	apiURL := "http://" + st.Output("backend-lb", OutBackendLBDNS) + ":8090"
	if len(res.Changes) != 1 || res.Changes[0].Kind != parameterKind.Type || res.Changes[0].Detail != "APIURL="+apiURL {
		t.Errorf("changes: %v", res.Changes)
	}
	if m := strings.Join(cb.cloud.MutatingCalls(), ","); m != "PutParameter" {
		t.Errorf("mutating calls %s: a relink launches nothing and makes no template version", m)
	}
	if guard.hits != 0 {
		t.Errorf("link deregistered or terminated %d instances", guard.hits)
	}
	if got := st.Output("link", OutAPIURL); got != apiURL {
		t.Errorf("api url %q, want %q", got, apiURL)
	}
	for _, id := range old {
		if rep := cb.report("frontend", id); rep.SettingsVersion != settings.Version(frontendSettings(apiURL)) {
			t.Errorf("%s does not serve the API URL: %+v", id, rep)
		}
	}
	if now := []string{st.Output("security", OutFrontend1ID), st.Output("frontend-lb", OutFrontend2ID)}; strings.Join(now, ",") != strings.Join(old, ",") {
		t.Errorf("link replaced the frontend: %v → %v", old, now)
	}
	if got := cb.targets(tg)["healthy"]; len(got) != 2 {
		t.Errorf("healthy targets %v", got)
	}

	// Linked: a no-op, in a new process too.
	cb.reload()
	cb.cloud.ResetCalls()
	if res := cb.step("link"); len(res.Changes) != 0 || len(cb.cloud.MutatingCalls()) != 0 {
		t.Errorf("link again: %v %v", res.Changes, cb.cloud.MutatingCalls())
	}
	if f := cb.stackFacts()["link/frontend settings"]; !strings.Contains(f, "applied by 2/2 instances") {
		t.Errorf("status link/frontend settings = %q", f)
	}
}

func TestRelinkToANewBackendLoadBalancerChangesOnlyParameters(t *testing.T) {
	cb := newStackBed(t)
	cb.up("")
	st := cb.state()
	oldURL := st.Output("link", OutAPIURL)
	// The backend load balancer is deleted by hand: up recreates it with a
	// new DNS name, and the frontend must follow.
	must(t, loadBalancerKind.Delete(bg, cb.runner.Env, st.Output("backend-lb", OutBackendLBARN)))
	cb.reload()
	cb.cloud.ResetCalls()
	cb.up("")
	if n := cb.cloud.CountCalls("RunInstances") + cb.cloud.CountCalls("CreateLaunchTemplateVersion") + cb.cloud.CountCalls("StartInstanceRefresh"); n != 0 {
		t.Errorf("relink launched instances or changed templates: %v", cb.cloud.MutatingCalls())
	}
	newURL := cb.state().Output("link", OutAPIURL)
	if newURL == oldURL || !strings.HasSuffix(newURL, ":8090") {
		t.Fatalf("api url %q (was %q)", newURL, oldURL)
	}
	if p, _ := cb.cloud.SSM.Parameter("/myappctl/myapp/frontend/APIURL"); p.Value != newURL {
		t.Errorf("APIURL parameter %q, want %q", p.Value, newURL)
	}
	for _, id := range groupInstanceIDs(cb.asg("frontend-asg")) {
		if rep := cb.report("frontend", id); rep.SettingsVersion != settings.Version(frontendSettings(newURL)) {
			t.Errorf("%s serves settings %s", id, rep.SettingsVersion)
		}
	}
}
