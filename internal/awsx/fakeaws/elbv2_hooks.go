package fakeaws

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"time"
)

// Hooks the Auto Scaling fake uses for the target groups attached to its
// groups: it registers and deregisters the instances it launches and ends,
// and reads their health as its ELB health check does. Each takes the
// ELBV2 lock and calls nothing else.

// targetGroupExists reports whether a target group exists.
func (f *ELBV2) targetGroupExists(arn string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.tgs[arn]
	return ok
}

// registerInstance registers an instance on the group's port, as
// RegisterTargets does; a group that is gone is ignored.
func (f *ELBV2) registerInstance(arn, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tgs[arn]
	if !ok {
		return
	}
	k := elbTargetKey(id, aws.ToInt32(t.tg.Port))
	if cur, ok := t.targets[k]; ok && !cur.deregistered {
		return
	}
	f.seq++
	t.targets[k] = &fakeTarget{seq: f.seq, id: id, port: aws.ToInt32(t.tg.Port), since: time.Now()}
}

// deregisterInstance lets an instance drain, as DeregisterTargets does; one
// that is not registered is ignored.
func (f *ELBV2) deregisterInstance(arn, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.tgs[arn]; ok {
		if cur, ok := t.targets[elbTargetKey(id, aws.ToInt32(t.tg.Port))]; ok && !cur.deregistered {
			cur.deregistered, cur.since = true, time.Now()
		}
	}
}

// instanceHealth is the health check's verdict on a registered instance (""
// when it is not registered or leaving); like a describe, it moves a new
// target from initial to healthy.
func (f *ELBV2) instanceHealth(arn, id string) types.TargetHealthStateEnum {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tgs[arn]
	if !ok {
		return ""
	}
	cur, ok := t.targets[elbTargetKey(id, aws.ToInt32(t.tg.Port))]
	if !ok || cur.deregistered {
		return ""
	}
	return f.observeTarget(t, cur, len(f.lbsOfTG(arn)) > 0).State
}
