package steps

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/myappctl/myappctl/internal/state"
)

func TestComputeDestroyLeavesNothing(t *testing.T) {
	cb := newComputeBed(t)
	cb.up("")
	cb.cloud.ResetCalls()
	cb.destroy()
	cb.assertNothingLeft()
	for _, s := range []string{"vpc", "security", "frontend-lb", "backend", "backend-lb"} {
		if st := cb.state().Stage(s); st.Status != state.StatusDestroyed || len(st.Resources) != 0 {
			t.Errorf("stage %s after destroy: %+v", s, st)
		}
	}
	// Cross-references go before any group; listeners before load balancers
	// before target groups; images before their snapshots are deleted.
	calls := cb.cloud.Calls()
	first := func(op string) int { return slices.Index(calls, op) }
	last := func(op string) int {
		for i := len(calls) - 1; i >= 0; i-- {
			if calls[i] == op {
				return i
			}
		}
		return -1
	}
	for _, order := range [][2]string{{"RevokeSecurityGroupIngress", "DeleteSecurityGroup"}, {"DeleteListener", "DeleteLoadBalancer"},
		{"DeleteLoadBalancer", "DeleteTargetGroup"}, {"DeregisterImage", "DeleteSnapshot"}, {"TerminateInstances", "DeleteSecurityGroup"}} {
		if first(order[0]) < 0 || first(order[0]) > first(order[1]) {
			t.Errorf("%s (first at %d) should come before %s (first at %d)", order[0], first(order[0]), order[1], first(order[1]))
		}
	}
	if last("RevokeSecurityGroupIngress") > first("DeleteSecurityGroup") {
		t.Error("a cross-reference was revoked after a group was deleted")
	}
	if rep := cb.destroy(); len(rep.Deleted) != 0 {
		t.Errorf("second destroy deleted %v", rep.Deleted)
	}
}

func TestComputeDestroyWithLostStateFile(t *testing.T) {
	cb := newComputeBed(t)
	cb.up("")
	must(t, os.Remove(cb.cfg.StatePath()))
	cb.reload()
	cb.destroy()
	cb.assertNothingLeft()
}

func TestComputeDestroyAfterAnInterruptedUp(t *testing.T) {
	cb := newComputeBed(t)
	cb.up("backend")
	cb.step("rds")
	cb.cfg.Wait.Timeout = 50 * time.Millisecond
	cb.cloud.ELBV2.ProvisioningDescribes = 1 << 20 // the load balancer never gets active
	if _, err := cb.runner.Step(bg, "backend-lb"); err == nil {
		t.Fatal("step succeeded")
	}
	cb.cfg.Wait.Timeout = 2 * time.Second
	cb.destroy()
	cb.assertNothingLeft()
}
