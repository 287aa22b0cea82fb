package fakeaws

import (
	"encoding/base64"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// compute is the fake EC2's security-group rules, instances, images and
// snapshots, guarded by EC2.mu (but for the states mirror).
type compute struct {
	rules     map[string][]sgRule // by group id
	instances map[string]*fakeInstance
	images    map[string]*fakeImage
	snapshots map[string]*types.Snapshot
	templates map[string]*fakeLaunchTemplate // launch templates by id

	// PendingDescribes is how many DescribeInstances answers show a new
	// instance pending (and a terminated one shutting-down); images likewise.
	pendingDescribes      int
	imagePendingDescribes int
	// bootTime and bakeTime, when set, replace the describe counts by the
	// clock: how long an instance is pending (and shutting down) and an
	// image pending (SetTiming).
	bootTime, bakeTime time.Duration
	bootFails          bool
	ready              bool // seeded and registered (compute)

	// states mirrors instance states for other fakes (ELBv2 health), which
	// read it without the EC2 lock: a leaf lock, taken last.
	statesMu sync.Mutex
	states   map[string]types.InstanceStateName
}

func newCompute() *compute {
	return &compute{rules: map[string][]sgRule{}, instances: map[string]*fakeInstance{}, images: map[string]*fakeImage{},
		snapshots: map[string]*types.Snapshot{}, templates: map[string]*fakeLaunchTemplate{}, pendingDescribes: 1, imagePendingDescribes: 1,
		states: map[string]types.InstanceStateName{}}
}

// compute returns the compute state, seeding the public images and
// registering instances as users of subnets and groups on first use.
// Callers hold f.mu.
func (f *EC2) compute() *compute {
	if !f.cmp.ready {
		f.cmp.ready = true
		f.seedCanonicalImages()
		// Instances use their subnet and security groups, as ENIs do in AWS.
		f.users = append(f.users, f.instanceUsers)
	}
	return f.cmp
}

// instanceUsers names a live instance that uses a subnet or security group.
// EC2 calls it with f.mu held.
func (f *EC2) instanceUsers(kind, id string) string {
	for _, k := range sortedKeys(f.cmp.instances) {
		in := f.cmp.instances[k].inst
		if in.State.Name == types.InstanceStateNameTerminated {
			continue
		}
		switch {
		case kind == "subnet" && aws.ToString(in.SubnetId) == id:
			return "used by instance " + k
		case kind == "security-group":
			for _, g := range in.SecurityGroups {
				if aws.ToString(g.GroupId) == id {
					return "used by instance " + k
				}
			}
		}
	}
	return ""
}

// setState changes an instance's state and its lock-free mirror. Callers hold f.mu.
func (f *EC2) setState(in *fakeInstance, s types.InstanceStateName) {
	codes := map[types.InstanceStateName]int32{types.InstanceStateNamePending: 0, types.InstanceStateNameRunning: 16,
		types.InstanceStateNameShuttingDown: 32, types.InstanceStateNameTerminated: 48}
	in.inst.State = &types.InstanceState{Name: s, Code: aws.Int32(codes[s])}
	in.describes, in.since = 0, time.Now()
	c := f.cmp
	c.statesMu.Lock()
	c.states[aws.ToString(in.inst.InstanceId)] = s
	c.statesMu.Unlock()
}

// InstanceState returns an instance's state without taking the EC2 lock, so
// other fakes (ELBv2 target health) may call it under their own lock.
func (f *EC2) InstanceState(id string) (types.InstanceStateName, bool) {
	c := f.cmp
	c.statesMu.Lock()
	defer c.statesMu.Unlock()
	s, ok := c.states[id]
	return s, ok
}

// SetComputeTiming sets how many describes a new instance stays pending (and
// a terminated one shutting-down) and how many an image stays pending.
func (f *EC2) SetComputeTiming(instanceDescribes, imageDescribes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	c.pendingDescribes, c.imagePendingDescribes = instanceDescribes, imageDescribes
}

// SetClockTiming makes instances pending (and shutting down) for boot and
// images pending for bake, by the clock; zero keeps the describe counts.
func (f *EC2) SetClockTiming(boot, bake time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	c.bootTime, c.bakeTime = boot, bake
}

// SetBootFailure makes the install scripts of instances fail: the Agent
// reports them failed, with a log.
func (f *EC2) SetBootFailure(fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.compute().bootFails = fail
}

// ComputeCount returns how many live instances, images, snapshots, launch
// templates and non-default security groups exist, for "destroy leaves nothing" checks.
func (f *EC2) ComputeCount() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	live, own := 0, 0
	for _, in := range c.instances {
		if in.inst.State.Name != types.InstanceStateNameTerminated {
			live++
		}
	}
	for _, im := range c.images {
		if aws.ToString(im.img.OwnerId) == Account {
			own++
		}
	}
	groups := 0
	for _, g := range f.sgs {
		if aws.ToString(g.GroupName) != "default" {
			groups++
		}
	}
	return map[string]int{"instance": live, "image": own, "snapshot": len(c.snapshots), "launch-template": len(c.templates), "security-group": groups}
}

// InstancesLaunched counts every instance ever launched (terminated ones
// stay listed), by RunInstances or by a group.
func (f *EC2) InstancesLaunched() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.compute().instances)
}

// LaunchTemplateUserData returns the decoded user data of every version
// (not deleted) of every launch template (for "no secret anywhere" checks).
func (f *EC2) LaunchTemplateUserData() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, id := range sortedKeys(f.compute().templates) {
		t := f.cmp.templates[id]
		for i, v := range t.versions {
			if d := v.LaunchTemplateData; d != nil && d.UserData != nil && !t.deleted[int64(i+1)] {
				raw, _ := base64.StdEncoding.DecodeString(*d.UserData)
				out = append(out, string(raw))
			}
		}
	}
	return out
}

func sortedKeys[T any](m map[string]T) []string { return slices.Sorted(maps.Keys(m)) }
