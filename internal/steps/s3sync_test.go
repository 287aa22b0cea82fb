package steps

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
	"github.com/myappctl/myappctl/internal/state"
)

const (
	testCarouselBucket = "carrousel-myapp-" + fakeaws.Account
	testCarouselRole   = "carousel-sync-us-east-1"
)

// newCarouselBed is a testbed whose artifacts directory holds a small fake
// bootstrap binary, as `make build` would leave it.
func newCarouselBed(t *testing.T) *testbed {
	t.Helper()
	tb := newTestbed(t)
	tb.cfg.ArtifactsDir = t.TempDir()
	writeBootstrap(t, tb, "bootstrap v1")
	return tb
}

func writeBootstrap(t *testing.T, tb *testbed, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(tb.cfg.ArtifactsDir, "bootstrap"), []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

// inRegion moves the testbed (config, state file and fakes) to region.
func inRegion(tb *testbed, region string) {
	tb.cfg.Region = region
	tb.cloud.S3.Region = region
	tb.cloud.Lambda.Region = region
	tb.reload()
}

func (tb *testbed) function(name string) *lambda.GetFunctionOutput {
	tb.t.Helper()
	out, err := tb.cloud.Lambda.GetFunction(bg, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		tb.t.Fatalf("function %s: %v", name, err)
	}
	return out
}

// assertNoCarousel checks that destroy left no bucket, function or role.
func (tb *testbed) assertNoCarousel(keepRoles ...string) {
	tb.t.Helper()
	if b := tb.cloud.S3.BucketNames(); len(b) != 0 {
		tb.t.Errorf("buckets left: %v", b)
	}
	if f := tb.cloud.Lambda.FunctionNames(); len(f) != 0 {
		tb.t.Errorf("functions left: %v", f)
	}
	if r := tb.cloud.IAM.RoleNames(); !slices.Equal(r, keepRoles) {
		tb.t.Errorf("roles left: %v, want %v", r, keepRoles)
	}
}

func TestS3SyncBuildsTheCarousel(t *testing.T) {
	tb := newCarouselBed(t)
	res := tb.step("s3-sync")
	if len(res.Changes) == 0 {
		t.Fatal("no changes")
	}
	b := tb.cloud.S3.Bucket(testCarouselBucket)
	if b == nil || b.Region != "us-east-1" || !awsx.Tags(b.Tags).OwnedBy("myapp") || b.Tags[awsx.TagStep] != "s3-sync" || b.Tags[awsx.TagName] != testCarouselBucket {
		t.Fatalf("bucket = %+v", b)
	}
	assertBucketAccess(t, tb, testCarouselBucket)
	assertCarouselObjects(t, tb, testCarouselBucket)

	fn := tb.function("syncS3Bucket")
	cfg := fn.Configuration
	if cfg.Runtime != lambdatypes.RuntimeProvidedal2023 || aws.ToString(cfg.Handler) != "bootstrap" || cfg.Architectures[0] != lambdatypes.ArchitectureX8664 ||
		cfg.State != lambdatypes.StateActive || aws.ToInt32(cfg.Timeout) != 30 || aws.ToInt32(cfg.MemorySize) != 128 {
		t.Errorf("function configuration = %+v", cfg)
	}
	if env := cfg.Environment.Variables; env["IMAGES_PREFIX"] != "images/" || env["CAROUSEL_KEY"] != "carrousel/carrousel.json" || len(env) != 2 {
		t.Errorf("environment = %v", env)
	}
	if want := "arn:aws:iam::" + fakeaws.Account + ":role/myappctl/" + testCarouselRole; aws.ToString(cfg.Role) != want {
		t.Errorf("role = %s, want %s", aws.ToString(cfg.Role), want)
	}
	if !awsx.Tags(fn.Tags).OwnedBy("myapp") || fn.Tags[awsx.TagStep] != "s3-sync" {
		t.Errorf("function tags = %v", fn.Tags)
	}
	assertDeployedZip(t, tb, "bootstrap v1")
	assertRolePolicy(t, tb)
	assertTrigger(t, tb, testCarouselBucket, *cfg.FunctionArn)

	st := tb.state()
	for k, want := range map[string]string{
		OutCarouselBucket:      testCarouselBucket,
		OutCarouselURL:         "https://" + testCarouselBucket + ".s3.amazonaws.com/carrousel/carrousel.json",
		OutCarouselFunctionARN: "arn:aws:lambda:us-east-1:" + fakeaws.Account + ":function:syncS3Bucket",
	} {
		if got := st.Output("s3-sync", k); got != want {
			t.Errorf("output %s = %q, want %q", k, got, want)
		}
	}
	if got := st.Stage("s3-sync"); got.Status != state.StatusComplete || len(got.Resources) != 3 {
		t.Errorf("state: %s with %d resources, want complete with 3 (bucket, role, function)", got.Status, len(got.Resources))
	}
}

func assertBucketAccess(t *testing.T, tb *testbed, bucket string) {
	t.Helper()
	s := tb.cloud.S3
	pab, _ := s.GetPublicAccessBlock(bg, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	if c := pab.PublicAccessBlockConfiguration; !*c.BlockPublicAcls || !*c.IgnorePublicAcls || *c.BlockPublicPolicy || *c.RestrictPublicBuckets {
		t.Errorf("public access block = %+v", *c)
	}
	own, _ := s.GetBucketOwnershipControls(bg, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
	if o := own.OwnershipControls.Rules[0].ObjectOwnership; o != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("object ownership = %s", o)
	}
	enc, _ := s.GetBucketEncryption(bg, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	if a := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm; a != s3types.ServerSideEncryptionAes256 {
		t.Errorf("default encryption = %s", a)
	}
	pol, err := s.GetBucketPolicy(bg, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("bucket policy: %v", err)
	}
	var doc struct {
		Statement []struct {
			Effect, Action string
			Principal      any
			Resource       []string
		}
	}
	if err := json.Unmarshal([]byte(*pol.Policy), &doc); err != nil {
		t.Fatal(err)
	}
	want := []string{"arn:aws:s3:::" + bucket + "/images/*", "arn:aws:s3:::" + bucket + "/carrousel/carrousel.json"}
	if len(doc.Statement) != 1 || doc.Statement[0].Effect != "Allow" || doc.Statement[0].Action != "s3:GetObject" ||
		doc.Statement[0].Principal != "*" || !slices.Equal(doc.Statement[0].Resource, want) {
		t.Errorf("bucket policy = %s, want public s3:GetObject on exactly %v", *pol.Policy, want)
	}
}

func assertCarouselObjects(t *testing.T, tb *testbed, bucket string) {
	t.Helper()
	b := tb.cloud.S3.Bucket(bucket)
	var urls []string
	for i := 1; i <= 4; i++ {
		key := fmt.Sprintf("images/sample-%d.png", i)
		if o := b.Objects[key]; o == nil || o.ContentType != "image/png" || len(o.Data) == 0 {
			t.Errorf("%s = %+v", key, o)
		}
		urls = append(urls, fmt.Sprintf(`{"url":"https://%s.s3.amazonaws.com/%s"}`, bucket, key))
	}
	index := b.Objects["carrousel/carrousel.json"]
	if index == nil {
		t.Fatal("no carrousel/carrousel.json")
	}
	if want := "[" + strings.Join(urls, ",") + "]"; string(index.Data) != want {
		t.Errorf("carrousel.json = %s\nwant %s", index.Data, want)
	}
	if index.ContentType != "application/json" || index.CacheControl != "max-age=30" {
		t.Errorf("carrousel.json content type %q, cache control %q", index.ContentType, index.CacheControl)
	}
}

func assertDeployedZip(t *testing.T, tb *testbed, content string) {
	t.Helper()
	code, ok := tb.cloud.Lambda.Code("syncS3Bucket")
	if !ok {
		t.Fatal("no function code")
	}
	zr, err := zip.NewReader(bytes.NewReader(code), int64(len(code)))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		t.Fatalf("zip: %v, files %+v", err, zr.File)
	}
	rc, _ := zr.File[0].Open()
	data, _ := io.ReadAll(rc)
	if string(data) != content {
		t.Errorf("bootstrap in the zip = %q, want %q", data, content)
	}
	sum := sha256.Sum256(code)
	if got := aws.ToString(tb.function("syncS3Bucket").Configuration.CodeSha256); got != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("CodeSha256 = %s", got)
	}
}

func assertRolePolicy(t *testing.T, tb *testbed) {
	t.Helper()
	role, err := tb.cloud.IAM.GetRole(bg, &iam.GetRoleInput{RoleName: aws.String(testCarouselRole)})
	if err != nil {
		t.Fatal(err)
	}
	if tags := awsx.IAMTagMap(role.Role.Tags); !tags.OwnedBy("myapp") || tags[awsx.TagStep] != "s3-sync" {
		t.Errorf("role tags = %v", tags)
	}
	if trust := decodePolicy(role.Role.AssumeRolePolicyDocument); !strings.Contains(trust, `"Service":"lambda.amazonaws.com"`) {
		t.Errorf("trust policy = %s", trust)
	}
	doc, ok := tb.cloud.IAM.InlinePolicy(testCarouselRole, "carousel-sync")
	if !ok {
		t.Fatal("no inline policy")
	}
	var p struct {
		Statement []struct {
			Action    any
			Resource  any
			Condition map[string]map[string][]string
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:s3:::" + testCarouselBucket
	got := map[string]any{}
	for _, s := range p.Statement {
		got[fmt.Sprint(s.Action)] = s.Resource
	}
	want := map[string]any{
		"s3:ListBucket": arn, "s3:GetObject": arn + "/images/*", "s3:PutObject": arn + "/carrousel/carrousel.json",
		"[logs:CreateLogGroup logs:CreateLogStream logs:PutLogEvents]": []any{
			"arn:aws:logs:us-east-1:" + fakeaws.Account + ":log-group:/aws/lambda/syncS3Bucket",
			"arn:aws:logs:us-east-1:" + fakeaws.Account + ":log-group:/aws/lambda/syncS3Bucket:*"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("inline policy grants %v\nwant %v", got, want)
	}
	if prefixes := p.Statement[0].Condition["StringLike"]["s3:prefix"]; !slices.Equal(prefixes, []string{"images/", "images/*"}) {
		t.Errorf("ListBucket limited to prefixes %v", prefixes)
	}
}

func assertTrigger(t *testing.T, tb *testbed, bucket, fnARN string) {
	t.Helper()
	n, _ := tb.cloud.S3.GetBucketNotificationConfiguration(bg, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
	if len(n.LambdaFunctionConfigurations) != 1 {
		t.Fatalf("notifications = %+v", n.LambdaFunctionConfigurations)
	}
	l := n.LambdaFunctionConfigurations[0]
	rule := l.Filter.Key.FilterRules[0]
	if aws.ToString(l.LambdaFunctionArn) != fnARN || fmt.Sprint(l.Events) != "[s3:ObjectCreated:* s3:ObjectRemoved:*]" ||
		len(l.Filter.Key.FilterRules) != 1 || rule.Name != s3types.FilterRuleNamePrefix || aws.ToString(rule.Value) != "images/" {
		t.Errorf("trigger = %+v", l)
	}
}

func TestS3SyncAddsThePermissionBeforeTheTrigger(t *testing.T) {
	tb := newCarouselBed(t)
	tb.step("s3-sync")
	calls := tb.cloud.Calls()
	perm, trig := slices.Index(calls, "AddPermission"), slices.Index(calls, "PutBucketNotificationConfiguration")
	if perm < 0 || trig < 0 || perm > trig {
		t.Errorf("AddPermission at %d, PutBucketNotificationConfiguration at %d: the permission must come first", perm, trig)
	}
	// S3 refuses a trigger for a function that has not allowed it.
	fnARN := tb.state().Output("s3-sync", OutCarouselFunctionARN)
	if _, err := tb.cloud.Lambda.RemovePermission(bg, &lambda.RemovePermissionInput{FunctionName: aws.String("syncS3Bucket"), StatementId: aws.String(carouselPermissionSid)}); err != nil {
		t.Fatal(err)
	}
	_, err := tb.cloud.S3.PutBucketNotificationConfiguration(bg, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(testCarouselBucket),
		NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{carouselTrigger(fnARN)}}})
	if awsx.ErrorCode(err) != "InvalidArgument" {
		t.Errorf("trigger without permission: err = %v, want InvalidArgument", err)
	}
	// up puts the permission back (and the trigger, which still stands, is left alone).
	tb.cloud.ResetCalls()
	tb.step("s3-sync")
	if m := tb.cloud.MutatingCalls(); !slices.Equal(m, []string{"AddPermission"}) {
		t.Errorf("repair made %v, want [AddPermission]", m)
	}
}

func TestS3SyncInAnotherRegionSendsTheLocationConstraint(t *testing.T) {
	tb := newCarouselBed(t)
	inRegion(tb, "eu-west-1")
	tb.step("s3-sync")
	b := tb.cloud.S3.Bucket(testCarouselBucket)
	if b == nil || b.Region != "eu-west-1" {
		t.Fatalf("bucket = %+v", b)
	}
	if got := tb.state().Output("s3-sync", OutCarouselFunctionARN); got != "arn:aws:lambda:eu-west-1:"+fakeaws.Account+":function:syncS3Bucket" {
		t.Errorf("function ARN = %s", got)
	}
	if roles := tb.cloud.IAM.RoleNames(); !slices.Equal(roles, []string{"carousel-sync-eu-west-1"}) {
		t.Errorf("roles = %v", roles)
	}
	assertCarouselObjects(t, tb, testCarouselBucket)
	tb.destroy()
	tb.assertNoCarousel()
}

func TestS3SyncSecondRunMakesNoChanges(t *testing.T) {
	tb := newCarouselBed(t)
	tb.step("s3-sync")
	tb.reload()
	tb.cloud.ResetCalls()
	if res := tb.step("s3-sync"); len(res.Changes) != 0 {
		t.Errorf("second run changed %v", res.Changes)
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("second run made mutating calls %v", m)
	}
}

func TestS3SyncRetriesWhileTheNewRolePropagates(t *testing.T) {
	tb := newCarouselBed(t)
	tb.cloud.IAM.PropagationCalls = 2
	tb.step("s3-sync")
	if n := tb.cloud.CountCalls("CreateFunction"); n != 3 {
		t.Errorf("CreateFunction called %d times, want 3 (two refused while the role propagates)", n)
	}
	if got := tb.function("syncS3Bucket").Configuration.State; got != lambdatypes.StateActive {
		t.Errorf("function state = %s", got)
	}
}

func TestS3SyncDoesNotRetryOnOtherErrors(t *testing.T) {
	tb := newCarouselBed(t)
	tb.cloud.Inject("CreateFunction", fakeaws.Fault{Err: fakeaws.APIError("InvalidParameterValueException", "Could not unzip uploaded file.")})
	if _, err := tb.runner.Step(bg, "s3-sync"); err == nil || awsx.ErrorCode(err) != "InvalidParameterValueException" {
		t.Fatalf("err = %v", err)
	}
	if n := tb.cloud.CountCalls("CreateFunction"); n != 1 {
		t.Errorf("CreateFunction called %d times, want 1", n)
	}
}

func TestS3SyncUpdatesCodeOnlyWhenTheBinaryChanges(t *testing.T) {
	tb := newCarouselBed(t)
	tb.step("s3-sync")
	a, errA := lambdaPackage(tb.cfg.ArtifactsDir)
	b, errB := lambdaPackage(tb.cfg.ArtifactsDir)
	if errA != nil || errB != nil || a.sha256 != b.sha256 || !bytes.Equal(a.zip, b.zip) {
		t.Fatalf("the zip is not deterministic: %s vs %s (%v, %v)", a.sha256, b.sha256, errA, errB)
	}
	tb.cloud.ResetCalls()
	tb.step("s3-sync")
	if n := tb.cloud.CountCalls("UpdateFunctionCode"); n != 0 {
		t.Errorf("unchanged binary: %d code updates", n)
	}
	writeBootstrap(t, tb, "bootstrap v2")
	tb.cloud.ResetCalls()
	res := tb.step("s3-sync")
	if n := tb.cloud.CountCalls("UpdateFunctionCode"); n != 1 || len(res.Changes) != 1 {
		t.Errorf("changed binary: %d code updates, changes %v; want exactly one", n, res.Changes)
	}
	assertDeployedZip(t, tb, "bootstrap v2")
	tb.cloud.ResetCalls()
	if tb.step("s3-sync"); tb.cloud.CountCalls("UpdateFunctionCode") != 0 {
		t.Error("code uploaded again after it was current")
	}
}

func TestS3SyncUsesTheConfiguredRoleAndNeverDeletesIt(t *testing.T) {
	for _, form := range []string{"arn", "name"} {
		t.Run(form, func(t *testing.T) { testConfiguredRole(t, form) })
	}
}

func testConfiguredRole(t *testing.T, form string) {
	tb := newCarouselBed(t)
	labRole := tb.cloud.IAM.AddRole("LabRole", "lambda.amazonaws.com")
	tb.cfg.Carousel.LambdaRoleARN = labRole
	if form == "name" { // as the learner-lab preset gives it
		tb.cfg.Carousel.LambdaRoleARN = "LabRole"
	}
	tb.step("s3-sync")
	if n := tb.cloud.CountCalls("CreateRole") + tb.cloud.CountCalls("PutRolePolicy"); n != 0 {
		t.Errorf("%d role calls with a configured role", n)
	}
	if got := aws.ToString(tb.function("syncS3Bucket").Configuration.Role); got != labRole {
		t.Errorf("function role = %s, want %s", got, labRole)
	}
	tb.destroy()
	tb.assertNoCarousel("LabRole")
	for _, op := range []string{"DeleteRole", "DeleteRolePolicy", "DetachRolePolicy"} {
		if n := tb.cloud.CountCalls(op); n != 0 {
			t.Errorf("%s called %d times", op, n)
		}
	}
}

func TestS3SyncRejectsARoleLambdaCannotAssume(t *testing.T) {
	tb := newCarouselBed(t)
	tb.cfg.Carousel.LambdaRoleARN = tb.cloud.IAM.AddRole("EC2Role", "ec2.amazonaws.com")
	_, err := tb.runner.Step(bg, "s3-sync")
	if err == nil || !strings.Contains(err.Error(), "check carousel.lambda_role_arn") {
		t.Fatalf("err = %v", err)
	}
	if n := tb.cloud.CountCalls("CreateFunction"); n != 1 {
		t.Errorf("CreateFunction called %d times for a role that is not the tool's: want no retries", n)
	}
}

func TestS3SyncNeedsTheBuiltBinary(t *testing.T) {
	tb := newTestbed(t)
	tb.cfg.ArtifactsDir = t.TempDir()
	_, err := tb.runner.Step(bg, "s3-sync")
	if err == nil || !strings.Contains(err.Error(), "run `make build` first") {
		t.Fatalf("err = %v", err)
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("made %v before refusing", m)
	}
	// A plan still works and says the code is not built.
	plan, err := tb.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	if changes := fmt.Sprint(plan[8].Changes); !strings.Contains(changes, "code not built yet") || !strings.Contains(changes, "create s3:bucket "+testCarouselBucket) {
		t.Errorf("plan = %s", changes)
	}
}

func TestS3SyncPlanFromScratchChangesNothing(t *testing.T) {
	tb := newCarouselBed(t)
	plan, err := tb.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range plan[8].Changes {
		got = append(got, c.Action+" "+c.Kind+" "+c.Name)
	}
	for _, want := range []string{"create s3:bucket " + testCarouselBucket, "create s3:object carrousel/carrousel.json",
		"create iam:role " + testCarouselRole, "create lambda:function syncS3Bucket", "modify lambda:function syncS3Bucket"} {
		if !slices.Contains(got, want) {
			t.Errorf("plan lacks %q: %v", want, got)
		}
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("plan made mutating calls %v", m)
	}
}

func TestS3SyncDriftIsPlannedThenRepaired(t *testing.T) {
	tb := newCarouselBed(t)
	tb.step("s3-sync")
	s, l := tb.cloud.S3, tb.cloud.Lambda
	bucket := aws.String(testCarouselBucket)
	// Somebody closes the bucket, switches to KMS, turns ACLs on, edits the
	// policy, the function and the role's policy, and removes a sample.
	on := aws.Bool(true)
	_, _ = s.PutPublicAccessBlock(bg, &s3.PutPublicAccessBlockInput{Bucket: bucket, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
		BlockPublicAcls: on, IgnorePublicAcls: on, BlockPublicPolicy: on, RestrictPublicBuckets: on}})
	_, _ = s.PutBucketEncryption(bg, &s3.PutBucketEncryptionInput{Bucket: bucket, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
		Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms}}}}})
	_, _ = s.PutBucketOwnershipControls(bg, &s3.PutBucketOwnershipControlsInput{Bucket: bucket, OwnershipControls: &s3types.OwnershipControls{
		Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}}})
	_, _ = l.UpdateFunctionConfiguration(bg, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("syncS3Bucket"), Timeout: aws.Int32(3)})
	_, _ = tb.cloud.IAM.PutRolePolicy(bg, &iam.PutRolePolicyInput{RoleName: aws.String(testCarouselRole), PolicyName: aws.String("carousel-sync"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)})
	_, _ = s.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("images/sample-2.png")}}}})
	writeBootstrap(t, tb, "bootstrap v2") // and a new build, in the same run as the settings repair

	tb.cloud.ResetCalls()
	plan, err := tb.runner.Plan(bg)
	if err != nil {
		t.Fatal(err)
	}
	// ownership, public access block, encryption, role policy, code, settings, the sample, the index
	if n := len(plan[8].Changes); n != 8 {
		t.Errorf("plan found %d changes, want 8: %v", n, plan[8].Changes)
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("plan made mutating calls %v", m)
	}
	if res := tb.step("s3-sync"); len(res.Changes) != 8 {
		t.Errorf("up made %d changes: %v", len(res.Changes), res.Changes)
	}
	assertBucketAccess(t, tb, testCarouselBucket)
	assertCarouselObjects(t, tb, testCarouselBucket)
	assertRolePolicy(t, tb)
	assertDeployedZip(t, tb, "bootstrap v2")
	if got := aws.ToInt32(tb.function("syncS3Bucket").Configuration.Timeout); got != 30 {
		t.Errorf("timeout = %d", got)
	}
	tb.cloud.ResetCalls()
	if res := tb.step("s3-sync"); len(res.Changes) != 0 {
		t.Errorf("not converged after repair: %v", res.Changes)
	}
}

func TestS3SyncRecreatesADeletedFunction(t *testing.T) {
	tb := newCarouselBed(t)
	tb.step("s3-sync")
	if _, err := tb.cloud.Lambda.DeleteFunction(bg, &lambda.DeleteFunctionInput{FunctionName: aws.String("syncS3Bucket")}); err != nil {
		t.Fatal(err)
	}
	tb.reload()
	tb.step("s3-sync")
	tb.function("syncS3Bucket")
	if n := tb.cloud.CountCalls("AddPermission"); n != 2 {
		t.Errorf("AddPermission called %d times in all, want 2", n)
	}
}

func TestS3SyncRefusesAnUntaggedBucketOfTheSameName(t *testing.T) {
	tb := newCarouselBed(t)
	if _, err := tb.cloud.S3.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(testCarouselBucket)}); err != nil {
		t.Fatal(err)
	}
	tb.cloud.ResetCalls()
	_, err := tb.runner.Step(bg, "s3-sync")
	if err == nil || !strings.Contains(err.Error(), "not tagged") || !strings.Contains(err.Error(), "carousel.bucket") {
		t.Fatalf("err = %v", err)
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("touched the bucket: %v", m)
	}
}

func TestS3SyncStatusShowsBucketFunctionAndImages(t *testing.T) {
	tb := newCarouselBed(t)
	tb.step("s3-sync")
	all, err := tb.runner.Status(bg, false)
	if err != nil {
		t.Fatal(err)
	}
	facts := map[string]string{}
	for _, f := range all[8].Facts {
		facts[f.Name] = f.Value
	}
	if facts["bucket"] != testCarouselBucket || facts["images"] != "4" || !strings.Contains(facts["function"], "Active") {
		t.Errorf("facts = %v", facts)
	}
	if len(all[8].Drift) != 0 {
		t.Errorf("drift right after up: %v", all[8].Drift)
	}
}

func TestS3SyncDestroyEmptiesTheBucketAndLeavesNothing(t *testing.T) {
	tb := newCarouselBed(t)
	tb.step("s3-sync")
	for i := 0; i < 1500; i++ {
		_, err := tb.cloud.S3.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(testCarouselBucket),
			Key: aws.String(fmt.Sprintf("images/upload-%04d.jpg", i)), Body: strings.NewReader("jpeg")})
		if err != nil {
			t.Fatal(err)
		}
	}
	// A managed policy attached by hand does not stop the role's deletion.
	_, _ = tb.cloud.IAM.AttachRolePolicy(bg, &iam.AttachRolePolicyInput{RoleName: aws.String(testCarouselRole),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")})
	tb.cloud.ResetCalls()
	rep := tb.destroy()
	if len(rep.Deleted) != 3 {
		t.Errorf("deleted %v, want the function, the bucket and the role", rep.Deleted)
	}
	if n := tb.cloud.CountCalls("DeleteObjects"); n < 2 {
		t.Errorf("DeleteObjects called %d times for 1,504 objects", n)
	}
	tb.assertNoCarousel()
	if st := tb.state().Stage("s3-sync"); st.Status != state.StatusDestroyed || len(st.Resources) != 0 {
		t.Errorf("state after destroy: %+v", st)
	}
}

func TestS3SyncDestroyWithLostStateFileFindsEverythingByTag(t *testing.T) {
	tb := newCarouselBed(t)
	tb.step("s3-sync")
	if err := os.Remove(tb.cfg.StatePath()); err != nil {
		t.Fatal(err)
	}
	tb.reload()
	rep := tb.destroy()
	if len(rep.Deleted) != 3 {
		t.Errorf("deleted %v, want 3", rep.Deleted)
	}
	tb.assertNoCarousel()
}

func TestCarouselIndexEscapesKeysLikeTheLambda(t *testing.T) {
	c := carousel{bucket: "b"}
	got, err := carouselIndex(c, []string{"images/café ünï.png", "images/a+b.png", "images/50%.png"})
	if err != nil {
		t.Fatal(err)
	}
	// The README's example, and the Lambda's own key tests.
	want := `[{"url":"https://b.s3.amazonaws.com/images/caf%C3%A9%20%C3%BCn%C3%AF.png"},` +
		`{"url":"https://b.s3.amazonaws.com/images/a%2Bb.png"},{"url":"https://b.s3.amazonaws.com/images/50%25.png"}]`
	if string(got) != want {
		t.Errorf("index = %s\nwant  %s", got, want)
	}
	if empty, _ := carouselIndex(c, nil); string(empty) != "[]" {
		t.Errorf("empty index = %s", empty)
	}
}

func TestS3SyncRefusesToRenameTheBucket(t *testing.T) {
	tb := newCarouselBed(t)
	tb.step("s3-sync")
	tb.cfg.Carousel.Bucket = "another-carousel-bucket"
	tb.cloud.ResetCalls()
	_, err := tb.runner.Step(bg, "s3-sync")
	if err == nil || !strings.Contains(err.Error(), "cannot be renamed") {
		t.Fatalf("err = %v", err)
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("made %v", m)
	}
}

func TestS3SyncUsesTheConfiguredBucketName(t *testing.T) {
	tb := newCarouselBed(t)
	tb.cfg.Carousel.Bucket = "my-carousel"
	tb.step("s3-sync")
	if names := tb.cloud.S3.BucketNames(); !slices.Equal(names, []string{"my-carousel"}) {
		t.Errorf("buckets = %v", names)
	}
	assertBucketAccess(t, tb, "my-carousel")
	if got := tb.state().Output("s3-sync", OutCarouselURL); got != "https://my-carousel.s3.amazonaws.com/carrousel/carrousel.json" {
		t.Errorf("carousel_url = %s", got)
	}
}

func TestS3SyncWaitsUntilNewResourcesAreVisible(t *testing.T) {
	tb := newCarouselBed(t)
	// Reads right after a create may not see it yet (eventual consistency).
	// The lookup by tags (GetBucketTagging) and the check before the create
	// see no bucket, as they should; the first looks after the create (its
	// tag check, its region check) do not see it yet, the second ones do.
	tb.cloud.Inject("GetBucketTagging", fakeaws.Fault{}, fakeaws.Fault{Err: fakeaws.APIError("NoSuchBucket", "The specified bucket does not exist")})
	tb.cloud.Inject("HeadBucket", fakeaws.Fault{}, fakeaws.Fault{Err: fakeaws.APIError("NotFound", "Not Found")})
	tb.cloud.Inject("GetRole", fakeaws.Fault{}, fakeaws.Fault{Err: fakeaws.APIError("NoSuchEntity", "The role cannot be found.")})
	tb.cloud.Inject("PutRolePolicy", fakeaws.Fault{Err: fakeaws.APIError("NoSuchEntity", "The role cannot be found.")})
	tb.step("s3-sync")
	for op, want := range map[string]int{"GetBucketTagging": 3, "HeadBucket": 3, "GetRole": 3, "PutRolePolicy": 2} {
		if n := tb.cloud.CountCalls(op); n != want {
			t.Errorf("%s called %d times, want %d", op, n, want)
		}
	}
}
