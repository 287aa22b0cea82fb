package fakeaws

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// ---- targets ----

func elbTargetKey(id string, port int32) string { return id + ":" + strconv.Itoa(int(port)) }

// elbTargets resolves each target's port (the group's by default) and checks ids.
func elbTargets(t *fakeTG, targets []types.TargetDescription) ([]fakeTarget, error) {
	if len(targets) == 0 {
		return nil, APIError("ValidationError", "At least one target must be specified")
	}
	var out []fakeTarget
	for _, d := range targets {
		id, port := aws.ToString(d.Id), aws.ToInt32(t.tg.Port)
		if d.Port != nil {
			port = *d.Port
		}
		if t.tg.TargetType == types.TargetTypeEnumInstance && !strings.HasPrefix(id, "i-") {
			return nil, APIError("InvalidTarget", "The target '%s' is not a valid instance ID", id)
		}
		if port < 1 || port > 65535 {
			return nil, APIError("ValidationError", "Target port '%d' must be between 1 and 65535", port)
		}
		out = append(out, fakeTarget{id: id, port: port})
	}
	return out, nil
}

func (f *ELBV2) RegisterTargets(ctx context.Context, in *elbv2.RegisterTargetsInput, _ ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error) {
	fault, err := f.begin(ctx, "RegisterTargets")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.targetGroup(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	targets, err := elbTargets(t, in.Targets)
	if err != nil {
		return nil, err
	}
	for _, want := range targets {
		k := elbTargetKey(want.id, want.port)
		if cur, ok := t.targets[k]; ok && !cur.deregistered {
			continue // registering again changes nothing
		}
		f.seq++
		t.targets[k] = &fakeTarget{seq: f.seq, id: want.id, port: want.port, since: time.Now()}
	}
	return finish(&elbv2.RegisterTargetsOutput{}, nil, fault)
}

func (f *ELBV2) DeregisterTargets(ctx context.Context, in *elbv2.DeregisterTargetsInput, _ ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error) {
	fault, err := f.begin(ctx, "DeregisterTargets")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.targetGroup(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	targets, err := elbTargets(t, in.Targets)
	if err != nil {
		return nil, err
	}
	for _, want := range targets {
		if _, ok := t.targets[elbTargetKey(want.id, want.port)]; !ok {
			return nil, APIError("InvalidTarget", "The following targets are not registered: '%s'", want.id)
		}
	}
	for _, want := range targets {
		if cur := t.targets[elbTargetKey(want.id, want.port)]; !cur.deregistered {
			cur.deregistered, cur.since = true, time.Now()
		}
	}
	return finish(&elbv2.DeregisterTargetsOutput{}, nil, fault)
}

func (f *ELBV2) DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	fault, err := f.begin(ctx, "DescribeTargetHealth")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.targetGroup(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	inUse := len(f.lbsOfTG(aws.ToString(t.tg.TargetGroupArn))) > 0
	out := &elbv2.DescribeTargetHealthOutput{}
	if len(in.Targets) > 0 {
		asked, err := elbTargets(t, in.Targets)
		if err != nil {
			return nil, err
		}
		for _, a := range asked {
			h := &types.TargetHealth{State: types.TargetHealthStateEnumUnused, Reason: types.TargetHealthReasonEnumNotRegistered,
				Description: aws.String("Target is not registered to the target group")}
			if cur, ok := t.targets[elbTargetKey(a.id, a.port)]; ok {
				h = f.observeTarget(t, cur, inUse)
			}
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, elbTargetHealth(a.id, a.port, h))
		}
		return finish(out, nil, fault)
	}
	for _, cur := range elbBySeq(t.targets, func(x *fakeTarget) int { return x.seq }) {
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, elbTargetHealth(cur.id, cur.port, f.observeTarget(t, cur, inUse)))
	}
	return finish(out, nil, fault)
}

func elbTargetHealth(id string, port int32, h *types.TargetHealth) types.TargetHealthDescription {
	return types.TargetHealthDescription{Target: &types.TargetDescription{Id: aws.String(id), Port: aws.Int32(port)},
		HealthCheckPort: aws.String(strconv.Itoa(int(port))), TargetHealth: h}
}

// observeTarget is a target's health as one describe sees it, moving it
// along: registered → initial once → healthy (or HealthOf's verdict);
// deregistered → draining once → gone.
func (f *ELBV2) observeTarget(t *fakeTG, cur *fakeTarget, inUse bool) *types.TargetHealth {
	h := f.targetHealth(t, cur, inUse)
	cur.last = h.State
	return h
}

func (f *ELBV2) targetHealth(t *fakeTG, cur *fakeTarget, inUse bool) *types.TargetHealth {
	switch {
	case cur.deregistered:
		if f.DrainTime == 0 || time.Since(cur.since) >= f.DrainTime {
			delete(t.targets, elbTargetKey(cur.id, cur.port))
		}
		return elbHealth(types.TargetHealthStateEnumDraining, string(types.TargetHealthReasonEnumDeregistrationInProgress))
	case !inUse:
		return elbHealth(types.TargetHealthStateEnumUnused, string(types.TargetHealthReasonEnumNotInUse))
	}
	cur.describes++
	if f.HealthOf != nil {
		if state, reason := f.HealthOf(aws.ToString(t.tg.TargetGroupArn), cur.id); state != "" {
			return elbHealth(state, reason)
		}
	}
	if cur.describes == 1 && f.HealthyTime == 0 || f.HealthyTime > 0 && time.Since(cur.since) < f.HealthyTime {
		return elbHealth(types.TargetHealthStateEnumInitial, string(types.TargetHealthReasonEnumRegistrationInProgress))
	}
	return &types.TargetHealth{State: types.TargetHealthStateEnumHealthy}
}

// ServingTargets counts a group's registered targets that were healthy
// when last described, without describing them (a test's view of what
// serves traffic: it moves nothing along).
func (f *ELBV2) ServingTargets(tgARN string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tgs[tgARN]
	if !ok {
		return 0
	}
	n := 0
	for _, cur := range t.targets {
		if !cur.deregistered && cur.last == types.TargetHealthStateEnumHealthy {
			n++
		}
	}
	return n
}

// elbHealthDescriptions are AWS's descriptions of the reason codes.
var elbHealthDescriptions = map[types.TargetHealthReasonEnum]string{
	types.TargetHealthReasonEnumRegistrationInProgress:   "Target registration is in progress",
	types.TargetHealthReasonEnumInitialHealthChecking:    "Initial health checks in progress",
	types.TargetHealthReasonEnumResponseCodeMismatch:     "Health checks failed with these codes: [502]",
	types.TargetHealthReasonEnumTimeout:                  "Request timed out",
	types.TargetHealthReasonEnumFailedHealthChecks:       "Health checks failed",
	types.TargetHealthReasonEnumNotRegistered:            "Target is not registered to the target group",
	types.TargetHealthReasonEnumNotInUse:                 "Target group is not configured to receive traffic from the load balancer",
	types.TargetHealthReasonEnumDeregistrationInProgress: "Target deregistration is in progress",
	types.TargetHealthReasonEnumInvalidState:             "Target is in the stopped state",
}

// health builds a TargetHealth from a reason "code" or "code: description".
func elbHealth(state types.TargetHealthStateEnum, reason string) *types.TargetHealth {
	h := &types.TargetHealth{State: state}
	if reason == "" {
		return h
	}
	code, desc, ok := strings.Cut(reason, ": ")
	h.Reason = types.TargetHealthReasonEnum(code)
	if !ok {
		desc = elbHealthDescriptions[h.Reason]
	}
	if desc != "" {
		h.Description = aws.String(desc)
	}
	return h
}
