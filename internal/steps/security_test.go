package steps

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

// rulesOf lists a group's inbound rules as "tcp 80 from X (description)",
// with group ids replaced by their roles.
func (cb *computeBed) rulesOf(role string) []string {
	cb.t.Helper()
	roles := map[string]string{}
	for _, g := range securityGroups {
		roles[cb.state().Output("security", g.out)] = "sg:" + g.role
	}
	var out []string
	for _, x := range splitRules(cb.group(role).IpPermissions) {
		s := x.String()
		for id, name := range roles {
			s = strings.ReplaceAll(s, id, name)
		}
		out = append(out, s+" ("+x.desc+")")
	}
	return sortedStrings(out)
}

func TestSecurityBuildsTheDocumentedGroupsAndFrontend1(t *testing.T) {
	cb := newComputeBed(t)
	cb.step("vpc")
	cb.step("security")
	st := cb.state()

	want := map[string][]string{
		"frontend-lb": {"tcp 80 from 0.0.0.0/0 (HTTP from anywhere)"},
		"frontend":    {"tcp 80 from sg:frontend-lb (HTTP from the frontend load balancer)"},
		"backend-lb":  {"tcp 8090 from 0.0.0.0/0 (API from anywhere)"},
		"backend":     {"tcp 8090 from sg:backend-lb (API from the backend load balancer)"},
		"db":          {"tcp 3306 from sg:backend (MySQL from the backend instances)"},
	}
	names := map[string]string{"frontend-lb": "MyFront-End-Load-Balancer", "frontend": "MyFront-End", "backend-lb": "MyBack-End-API", "backend": "MyBack-End", "db": "My-DB"}
	for role, rules := range want {
		g := cb.group(role)
		if aws.ToString(g.GroupName) != names[role] || aws.ToString(g.VpcId) != st.Output("vpc", OutVPCID) || !hasStackTags(g.Tags, "myapp", "security") {
			t.Errorf("%s: %s in %s, tags %v", role, aws.ToString(g.GroupName), aws.ToString(g.VpcId), awsx.EC2TagMap(g.Tags))
		}
		if got := cb.rulesOf(role); strings.Join(got, "; ") != strings.Join(rules, "; ") {
			t.Errorf("%s rules = %v, want %v", role, got, rules)
		}
	}

	// frontend-1: Ubuntu 22.04 (newest Canonical), public subnet 1, IMDSv2, no key.
	id := st.Output("security", OutFrontend1ID)
	in := cb.instance(id)
	subnet1 := strings.Split(st.Output("vpc", OutPublicSubnets), ",")[0]
	switch {
	case aws.ToString(in.ImageId) != fakeaws.NewestJammyAMI:
		t.Errorf("image %s, want the newest Canonical jammy amd64", aws.ToString(in.ImageId))
	case aws.ToString(in.SubnetId) != subnet1 || in.InstanceType != "t2.micro" || in.KeyName != nil:
		t.Errorf("subnet %s type %s key %v", aws.ToString(in.SubnetId), in.InstanceType, in.KeyName)
	case len(in.SecurityGroups) != 1 || aws.ToString(in.SecurityGroups[0].GroupId) != st.Output("security", OutFrontendSG):
		t.Errorf("groups %+v", in.SecurityGroups)
	case in.MetadataOptions.HttpTokens != ec2types.HttpTokensStateRequired || aws.ToInt32(in.MetadataOptions.HttpPutResponseHopLimit) != 2:
		t.Errorf("metadata options %+v", in.MetadataOptions)
	case in.State.Name != ec2types.InstanceStateNameRunning:
		t.Errorf("state %s", in.State.Name)
	}
	tags := awsx.EC2TagMap(in.Tags)
	if tags["Name"] != "frontend-1" || tags[awsx.TagStep] != "security" || tags[tagRelease] != cb.sha("myapp-frontend") || tags[tagSource] != sourceBootstrap {
		t.Errorf("instance tags %v", tags)
	}
	if in.IamInstanceProfile == nil || !strings.HasSuffix(aws.ToString(in.IamInstanceProfile.Arn), "/frontend-instance-us-east-1") {
		t.Errorf("instance profile %+v", in.IamInstanceProfile)
	}
	if vt := awsx.EC2TagMap(cb.cloud.EC2.InstanceVolumeTags(id)); vt["Name"] != "frontend-1" || vt[awsx.TagStack] != "myapp" {
		t.Errorf("volume tags %v", vt)
	}

	// The binary went to the private artifacts bucket; the user data fetches it with the instance's role.
	bucket := "myappctl-artifacts-myapp-" + fakeaws.Account
	if st.Output("security", OutArtifactsBucket) != bucket {
		t.Errorf("bucket output %q", st.Output("security", OutArtifactsBucket))
	}
	b := cb.cloud.S3.Bucket(bucket)
	if b == nil || b.Tags[awsx.TagStack] != "myapp" || b.Tags[awsx.TagName] != bucket {
		t.Fatalf("bucket %+v", b)
	}
	key := "releases/frontend/" + cb.sha("myapp-frontend")
	if data, ok := cb.cloud.S3.Object(bucket, key); !ok || string(data) != string(cb.binaries["myapp-frontend"]) {
		t.Errorf("object %s missing or wrong", key)
	}
	ud, _ := cb.cloud.EC2.InstanceUserData(id)
	for _, w := range []string{"MYAPP_RELEASE='" + cb.sha("myapp-frontend") + "'", "'" + key + "'", `REPORT_BUCKET="` + bucket + `"`,
		`SETTINGS_PATH="/myappctl/myapp/frontend/"`, `PORT="80"`} {
		if !strings.Contains(ud, w) {
			t.Errorf("user data lacks %q", w)
		}
	}
	if strings.Contains(ud, "X-Amz") || strings.Contains(ud, "APIURL") {
		t.Errorf("user data holds a presigned URL or a setting:\n%s", ud)
	}
	pab, _ := cb.cloud.S3.GetPublicAccessBlock(bg, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	if !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicPolicy) {
		t.Error("the artifacts bucket is not private")
	}
}

func TestSecurityOpensSSHOnlyWhenConfigured(t *testing.T) {
	cb := newComputeBed(t)
	cb.cfg.SSHCIDR, cb.cfg.KeyName = "203.0.113.7/32", "vockey"
	cb.step("vpc")
	cb.step("security")
	for _, role := range []string{"frontend", "backend"} {
		if got := cb.rulesOf(role); len(got) != 2 || !strings.Contains(strings.Join(got, ";"), "tcp 22 from 203.0.113.7/32 (SSH from ssh_cidr)") {
			t.Errorf("%s: %v", role, got)
		}
	}
	for _, role := range []string{"frontend-lb", "backend-lb", "db"} {
		if got := cb.rulesOf(role); len(got) != 1 {
			t.Errorf("%s: %v", role, got)
		}
	}
	if in := cb.instance(cb.state().Output("security", OutFrontend1ID)); aws.ToString(in.KeyName) != "vockey" {
		t.Errorf("key %v", in.KeyName)
	}
	// Closing SSH again is a drift repair.
	cb.cfg.SSHCIDR = ""
	res := cb.step("security")
	if len(res.Changes) != 2 || !strings.Contains(res.Changes[0].Detail, "revoke tcp 22") {
		t.Errorf("changes %v", res.Changes)
	}
}

func TestSecurityRuleDriftIsPlannedThenRepaired(t *testing.T) {
	cb := newComputeBed(t)
	cb.step("vpc")
	cb.step("security")
	st := cb.state()
	frontend, backend := st.Output("security", OutFrontendSG), st.Output("security", OutBackendSG)
	// Somebody removes the LB → frontend rule and opens SSH to the world on the backend.
	ec := cb.cloud.EC2
	if _, err := ec.RevokeSecurityGroupIngress(bg, &ec2.RevokeSecurityGroupIngressInput{GroupId: &frontend, IpPermissions: []ec2types.IpPermission{
		tcpFrom(80, "", st.Output("security", OutFrontendLBSG), "").perm}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.AuthorizeSecurityGroupIngress(bg, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &backend, IpPermissions: []ec2types.IpPermission{
		tcpFrom(22, "0.0.0.0/0", "", "debugging").perm}}); err != nil {
		t.Fatal(err)
	}
	cb.cloud.ResetCalls()
	plan, err := cb.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	if got := changeDetails(plan[1].Changes); got != "authorize tcp 80 from "+st.Output("security", OutFrontendLBSG)+" (HTTP from the frontend load balancer); revoke tcp 22 from 0.0.0.0/0 (not a documented rule)" {
		t.Errorf("plan: %s", got)
	}
	if m := cb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("plan made mutating calls %v", m)
	}
	status, _ := cb.runner.Status(bg, false)
	if len(status[1].Drift) != 2 {
		t.Errorf("status drift = %v", status[1].Drift)
	}
	if res := cb.step("security"); len(res.Changes) != 2 {
		t.Errorf("repair made %v", res.Changes)
	}
	cb.cloud.ResetCalls()
	if res := cb.step("security"); len(res.Changes) != 0 || len(cb.cloud.MutatingCalls()) != 0 {
		t.Errorf("not converged: %v %v", res.Changes, cb.cloud.MutatingCalls())
	}
}

func changeDetails(cs []Change) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Detail)
	}
	return strings.Join(out, "; ")
}

func TestArtifactsBucketPrivacyDriftIsRepaired(t *testing.T) {
	cb := newComputeBed(t)
	cb.step("vpc")
	cb.step("security")
	bucket := cb.state().Output("security", OutArtifactsBucket)
	_, _ = cb.cloud.S3.PutPublicAccessBlock(bg, &s3.PutPublicAccessBlockInput{Bucket: &bucket, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{}})
	_, _ = cb.cloud.S3.PutBucketOwnershipControls(bg, &s3.PutBucketOwnershipControlsInput{Bucket: &bucket, OwnershipControls: &s3types.OwnershipControls{
		Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}}})
	res := cb.step("security")
	if got := changeDetails(res.Changes); got != "block all public access; object ownership BucketOwnerEnforced (ACLs off)" {
		t.Errorf("changes: %s", got)
	}
}

func TestMissingBinariesSayMakeBuild(t *testing.T) {
	cb := newComputeBed(t)
	cb.cfg.ArtifactsDir = t.TempDir()
	plan, err := cb.runner.Plan(bg)
	if err != nil {
		t.Fatalf("plan failed: %v", err)
	}
	if d := changeDetails(plan[1].Changes); !strings.Contains(d, "myapp-frontend is missing: run `make build` first") {
		t.Errorf("plan does not warn: %s", d)
	}
	cb.step("vpc")
	_, err = cb.runner.Step(bg, "security")
	if !errors.Is(err, ErrArtifactMissing) || !strings.Contains(err.Error(), "run `make build` first") {
		t.Errorf("err = %v", err)
	}
	if n := cb.cloud.CountCalls("RunInstances"); n != 0 {
		t.Errorf("launched %d instances without a binary", n)
	}
}
