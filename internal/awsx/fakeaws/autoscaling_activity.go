package fakeaws

import (
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// What a group does between two describes. Callers hold f.mu; the EC2 and
// ELBv2 hooks take their own locks.

// tick moves a group one step: its instances start or end, an unhealthy
// one is replaced, a refresh replaces one instance, capacity is kept. It
// reports whether a deleted group is now gone.
func (f *AutoScaling) tick(g *fakeGroup) (gone bool) {
	f.syncMembers(g)
	if g.deleting {
		if len(g.ending) > 0 {
			return false
		}
		if g.deleteLeft--; g.deleteLeft < 0 {
			delete(f.groups, aws.ToString(g.g.AutoScalingGroupName))
			return true
		}
		return false
	}
	if r := g.activeRefresh(); r != nil {
		f.stepRefresh(g, r)
	}
	f.keepCapacity(g)
	return false
}

// syncMembers follows the instances' states: pending ones become InService
// once running; ones ended, stopped or found unhealthy leave the group.
func (f *AutoScaling) syncMembers(g *fakeGroup) {
	ids := append(slices.Clone(g.ending), memberIDs(g)...)
	states := f.ec2.tickInstances(ids)
	g.ending = slices.DeleteFunc(g.ending, func(id string) bool {
		s, ok := states[id]
		return !ok || s == ec2types.InstanceStateNameTerminated
	})
	for _, m := range slices.Clone(g.members) {
		switch s, ok := states[m.id]; {
		case !ok || s == ec2types.InstanceStateNameShuttingDown || s == ec2types.InstanceStateNameTerminated:
			f.drop(g, m.id) // ended out of band
		case s == ec2types.InstanceStateNameStopping || s == ec2types.InstanceStateNameStopped:
			f.retire(g, m.id) // EC2 health check: not running
		case s == ec2types.InstanceStateNameRunning:
			m.state = types.LifecycleStateInService
			if f.failsELBHealth(g, m) {
				f.retire(g, m.id)
			}
		}
	}
}

func memberIDs(g *fakeGroup) []string {
	ids := make([]string, 0, len(g.members))
	for _, m := range g.members {
		ids = append(ids, m.id)
	}
	return ids
}

func (g *fakeGroup) member(id string) *fakeMember {
	for _, m := range g.members {
		if m.id == id {
			return m
		}
	}
	return nil
}

// failsELBHealth runs the target groups' health checks on an InService
// instance (time passes for them too) and applies the group's ELB health
// check: after the grace period, an instance found unhealthy
// UnhealthyChecks times in a row is to be replaced.
func (f *AutoScaling) failsELBHealth(g *fakeGroup, m *fakeMember) bool {
	m.healthy = true
	unhealthy := false
	for _, tg := range g.g.TargetGroupARNs {
		switch f.elb.instanceHealth(tg, m.id) {
		case elbtypes.TargetHealthStateEnumHealthy:
		case elbtypes.TargetHealthStateEnumUnhealthy:
			m.healthy, unhealthy = false, true
		default:
			m.healthy = false
		}
	}
	grace := time.Duration(aws.ToInt32(g.g.HealthCheckGracePeriod)) * time.Second
	if !unhealthy || aws.ToString(g.g.HealthCheckType) != "ELB" || time.Since(m.launched) < grace {
		m.failedChecks = 0
		return false
	}
	m.failedChecks++
	return m.failedChecks >= f.UnhealthyChecks
}

// healthy reports an InService instance that every target group found
// healthy at the last check.
func (f *AutoScaling) healthy(m *fakeMember) bool {
	return m.state == types.LifecycleStateInService && m.healthy
}

// keepCapacity launches up to the desired capacity (one more while a
// refresh replaces an instance) and, outside refreshes, scales in.
func (f *AutoScaling) keepCapacity(g *fakeGroup) {
	want := int(aws.ToInt32(g.g.DesiredCapacity))
	r := g.activeRefresh()
	if r != nil && r.replacement != "" && r.old != "" {
		want++
	}
	for len(g.members) < want {
		if f.launch(g, "") == nil {
			return
		}
	}
	for r == nil && len(g.members) > want {
		f.retire(g, f.scaleInVictim(g).id)
	}
}

// scaleInVictim follows AWS's default policy: the zone with the most
// instances, then the oldest launch template version, then the oldest.
func (f *AutoScaling) scaleInVictim(g *fakeGroup) *fakeMember {
	perZone := map[string]int{}
	for _, m := range g.members {
		perZone[m.zone]++
	}
	best := g.members[0]
	for _, m := range g.members[1:] {
		switch {
		case perZone[m.zone] != perZone[best.zone]:
			if perZone[m.zone] > perZone[best.zone] {
				best = m
			}
		case m.version != best.version:
			if versionLess(m.version, best.version) {
				best = m
			}
		case m.launched.Before(best.launched):
			best = m
		}
	}
	return best
}

func versionLess(a, b string) bool {
	return len(a) < len(b) || (len(a) == len(b) && a < b)
}

// launch starts an instance from the group's template (version overrides
// the group's version when set) in its least used subnet and registers it
// in the target groups. A failed launch is recorded and returns nil.
func (f *AutoScaling) launch(g *fakeGroup, version string) *fakeMember {
	lt := g.g.LaunchTemplate
	ref := templateRef{id: aws.ToString(lt.LaunchTemplateId), version: aws.ToString(lt.Version)}
	if version != "" {
		ref.version = version
	}
	subnet := f.leastUsedSubnet(g)
	id, v, err := f.ec2.launchFromTemplate(ref, subnet, g.propagatedTags())
	if err != nil {
		g.g.Status = aws.String("Launching a new EC2 instance failed: " + errorMessage(err))
		return nil
	}
	g.g.Status = nil
	zone, _, _ := f.ec2.SubnetZone(subnet)
	m := &fakeMember{id: id, zone: zone, subnet: subnet, template: ref.id, version: v, state: types.LifecycleStatePending, launched: time.Now()}
	g.members = append(g.members, m)
	for _, tg := range g.g.TargetGroupARNs {
		f.elb.registerInstance(tg, id)
	}
	return m
}

func (f *AutoScaling) leastUsedSubnet(g *fakeGroup) string {
	subnets := strings.Split(aws.ToString(g.g.VPCZoneIdentifier), ",")
	best, bestN := strings.TrimSpace(subnets[0]), -1
	for _, s := range subnets {
		s = strings.TrimSpace(s)
		n := 0
		for _, m := range g.members {
			if m.subnet == s {
				n++
			}
		}
		if bestN < 0 || n < bestN {
			best, bestN = s, n
		}
	}
	return best
}

// retire takes an instance out of the group: deregister, terminate.
func (f *AutoScaling) retire(g *fakeGroup, id string) {
	f.ec2.terminate(id)
	g.ending = append(g.ending, id)
	f.drop(g, id)
}

// drop forgets an instance and deregisters it from the target groups.
func (f *AutoScaling) drop(g *fakeGroup, id string) {
	for _, tg := range g.g.TargetGroupARNs {
		f.elb.deregisterInstance(tg, id)
	}
	g.members = slices.DeleteFunc(g.members, func(m *fakeMember) bool { return m.id == id })
}
