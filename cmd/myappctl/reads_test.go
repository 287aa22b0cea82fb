package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

// statusView is what the test reads of `status --output json`.
type statusView struct {
	Stages []struct {
		Name       string
		Resources  []struct{ Type, Name, ID, Live string }
		Facts      []struct{ Name, Value string }
		Drift      []struct{ Action, Kind, Name, Detail string }
		DriftError string
	}
}

// TestReadsSeeWhatChangedBetweenCommands changes a built stack by hand
// between commands — a rule revoked, a health check edited, a group
// resized, a setting and the S3 endpoint deleted, a group instance
// terminated — and checks, over HTTP with the read cache and the stack
// sets, that status reports every one (drift, a missing resource, live
// facts), plan plans the repairs, up makes them (its later reads seeing
// its own changes), and status then finds nothing left to do.
func TestReadsSeeWhatChangedBetweenCommands(t *testing.T) {
	cloud := newServingCloud()
	wb := newWireBed(t, cloud)
	state := filepath.Join(t.TempDir(), "myapp.json")
	run := func(args ...string) string { t.Helper(); return wb.mustRun(append(args, "--state", state)...) }
	status := func() statusView {
		t.Helper()
		var v statusView
		if err := json.Unmarshal([]byte(run("status", "--output", "json")), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	run("up")
	ctx := context.Background()
	stack := []ec2types.Filter{awsx.EC2Filter("tag:"+awsx.TagStack, "myapp")}

	// By hand, between commands.
	groups, err := cloud.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: append(stack, awsx.EC2Filter("tag:Name", "MyFront-End-Load-Balancer"))})
	if err != nil || len(groups.SecurityGroups) != 1 {
		t.Fatalf("frontend-lb group: %v", err)
	}
	lbGroup := groups.SecurityGroups[0]
	mustDo(t)(cloud.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: lbGroup.GroupId, IpPermissions: lbGroup.IpPermissions}))
	endpoints, err := cloud.EC2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: stack})
	if err != nil || len(endpoints.VpcEndpoints) != 1 {
		t.Fatalf("endpoint: %v", err)
	}
	endpoint := aws.ToString(endpoints.VpcEndpoints[0].VpcEndpointId)
	mustDo(t)(cloud.EC2.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{endpoint}}))
	mustDo(t)(cloud.SSM.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/myappctl/myapp/frontend/APIURL")}))
	mustDo(t)(cloud.Autoscaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("backend-asg"), MaxSize: aws.Int32(4)}))
	tgs, err := cloud.ELBV2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"frontend-tg"}})
	if err != nil {
		t.Fatal(err)
	}
	frontendTG := tgs.TargetGroups[0].TargetGroupArn
	mustDo(t)(cloud.ELBV2.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: frontendTG, HealthCheckPath: aws.String("/by-hand")}))
	group, err := cloud.Autoscaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"frontend-asg"}})
	if err != nil || len(group.AutoScalingGroups[0].Instances) == 0 {
		t.Fatalf("frontend-asg: %v", err)
	}
	mustDo(t)(cloud.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{aws.ToString(group.AutoScalingGroups[0].Instances[0].InstanceId)}}))

	wantDrift := map[string]string{ // stage → part of a planned change
		"vpc":         "create ec2:vpc-endpoint",
		"security":    "authorize tcp 80 from 0.0.0.0/0",
		"frontend-lb": "health check: path /by-hand → /",
		"link":        "create ssm:parameter /myappctl/myapp/frontend/APIURL",
		"autoscaling": "max 4 → 5",
	}
	v := status()
	for _, st := range v.Stages {
		var drift []string
		for _, d := range st.Drift {
			drift = append(drift, d.Action+" "+d.Kind+" "+d.Name+" "+d.Detail)
		}
		if want, ok := wantDrift[st.Name]; ok && !slices.ContainsFunc(drift, func(d string) bool { return strings.Contains(d, want) }) {
			t.Errorf("status: stage %s drift %q, want %q", st.Name, drift, want)
		} else if !ok && len(drift) > 0 {
			t.Errorf("status: stage %s drift %q, want none", st.Name, drift)
		}
		for _, r := range st.Resources {
			if deleted := r.ID == endpoint || r.ID == "/myappctl/myapp/frontend/APIURL"; deleted != (r.Live == "missing") {
				t.Errorf("status: %s %s is %q", r.Type, r.ID, r.Live)
			}
		}
		if st.Name == "autoscaling" && !slices.ContainsFunc(st.Facts, func(f struct{ Name, Value string }) bool {
			return f.Name == "frontend-asg" && strings.Contains(f.Value, "desired 2, 1 in service") // the group may have launched a replacement
		}) {
			t.Errorf("status: the terminated instance is not in the live facts: %+v", st.Facts)
		}
	}

	plan := run("plan")
	for stage, want := range wantDrift {
		if !strings.Contains(plan, want) || !strings.Contains(plan, stage+" ") {
			t.Errorf("plan does not plan %q for %s:\n%s", want, stage, plan)
		}
	}

	cloud.ResetCalls()
	run("up")
	var made []string
	for _, op := range cloud.MutatingCalls() {
		if !slices.Contains(made, op) {
			made = append(made, op)
		}
	}
	for _, op := range []string{"CreateVpcEndpoint", "AuthorizeSecurityGroupIngress", "ModifyTargetGroup", "PutParameter", "UpdateAutoScalingGroup"} {
		if !slices.Contains(made, op) {
			t.Errorf("up did not repair with %s (made %v)", op, made)
		}
	}
	for _, st := range status().Stages {
		if len(st.Drift) > 0 || st.DriftError != "" {
			t.Errorf("after up: stage %s drift %+v %s", st.Name, st.Drift, st.DriftError)
		}
		for _, r := range st.Resources {
			if r.Live != "exists" {
				t.Errorf("after up: %s %s is %q", r.Type, r.ID, r.Live)
			}
		}
	}
	wb.checkAnswered()
}

func mustDo(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadsStayWithinTheirBudget: on a converged stack, status, plan and a
// no-op up each make at most 40 AWS calls (issue 12's budget; make
// bench-read measures their time at 80 ms a call).
func TestReadsStayWithinTheirBudget(t *testing.T) {
	cloud := fakeaws.New()
	wb := newWireBed(t, cloud)
	state := filepath.Join(t.TempDir(), "myapp.json")
	wb.mustRun("up", "--state", state)
	for _, cmd := range []string{"status", "plan", "up"} {
		before := wb.total()
		wb.mustRun(cmd, "--state", state)
		if n := wb.total() - before; n > 40 {
			t.Errorf("%s made %d AWS calls, budget 40", cmd, n)
		}
	}
}
