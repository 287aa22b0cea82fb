package fakeaws

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

func testZip(t *testing.T, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("bootstrap")
	_, _ = w.Write([]byte(content))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func wantLambdaCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := awsx.ErrorCode(err); got != code {
		t.Errorf("err = %v, want %s", err, code)
	}
}

func newFunctionInput(role string, code []byte) *lambda.CreateFunctionInput {
	return &lambda.CreateFunctionInput{FunctionName: aws.String("fn"), Role: aws.String(role), Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: code}}
}

func TestLambdaFunctionLifecycle(t *testing.T) {
	ctx := context.Background()
	c := New()
	role := c.IAM.AddRole("LabRole", "lambda.amazonaws.com")
	code := testZip(t, "v1")
	out, err := c.Lambda.CreateFunction(ctx, newFunctionInput(role, code))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(code)
	if out.State != lambdatypes.StatePending || aws.ToString(out.CodeSha256) != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("created: state %s, sha %s", out.State, aws.ToString(out.CodeSha256))
	}
	update := &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("fn"), ZipFile: testZip(t, "v2")}
	_, err = c.Lambda.UpdateFunctionCode(ctx, update)
	wantLambdaCode(t, err, "ResourceConflictException") // still Pending
	get := &lambda.GetFunctionInput{FunctionName: aws.String("fn")}
	if g, _ := c.Lambda.GetFunction(ctx, get); g.Configuration.State != lambdatypes.StatePending {
		t.Errorf("first look: %s", g.Configuration.State)
	}
	if g, _ := c.Lambda.GetFunction(ctx, get); g.Configuration.State != lambdatypes.StateActive {
		t.Errorf("second look: %s", g.Configuration.State)
	}
	if u, err := c.Lambda.UpdateFunctionCode(ctx, update); err != nil || u.LastUpdateStatus != lambdatypes.LastUpdateStatusInProgress {
		t.Fatalf("update: %v, %+v", err, u)
	}
	_, err = c.Lambda.UpdateFunctionCode(ctx, update)
	wantLambdaCode(t, err, "ResourceConflictException") // an update is in progress
	_, _ = c.Lambda.GetFunction(ctx, get)
	if g, _ := c.Lambda.GetFunction(ctx, get); g.Configuration.LastUpdateStatus != lambdatypes.LastUpdateStatusSuccessful {
		t.Errorf("after the update: %s", g.Configuration.LastUpdateStatus)
	}
	_, err = c.Lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("fn"), ZipFile: []byte("not a zip")})
	wantLambdaCode(t, err, "InvalidParameterValueException")
	if _, err := c.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("fn")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Lambda.GetFunction(ctx, get)
	wantLambdaCode(t, err, "ResourceNotFoundException")
}

func TestLambdaAssumesOnlyPropagatedRolesThatTrustIt(t *testing.T) {
	ctx := context.Background()
	c := New()
	code := testZip(t, "v1")
	_, err := c.Lambda.CreateFunction(ctx, newFunctionInput("arn:aws:iam::"+Account+":role/Nobody", code))
	wantLambdaCode(t, err, "InvalidParameterValueException")
	_, err = c.Lambda.CreateFunction(ctx, newFunctionInput(c.IAM.AddRole("EC2Role", "ec2.amazonaws.com"), code))
	wantLambdaCode(t, err, "InvalidParameterValueException")

	c.IAM.PropagationCalls = 2
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`
	role, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("new"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		_, err = c.Lambda.CreateFunction(ctx, newFunctionInput(*role.Role.Arn, code))
		wantLambdaCode(t, err, "InvalidParameterValueException")
	}
	if _, err := c.Lambda.CreateFunction(ctx, newFunctionInput(*role.Role.Arn, code)); err != nil {
		t.Errorf("third attempt: %v", err)
	}
}

func TestIAMRoleRules(t *testing.T) {
	ctx := context.Background()
	c := New()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	_, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), Path: aws.String("/myappctl/"), AssumeRolePolicyDocument: aws.String(trust),
		Tags: awsx.StackTags("s", "s3-sync", "r").IAM()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust)})
	wantLambdaCode(t, err, "EntityAlreadyExists")
	list, _ := c.IAM.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/myappctl/")})
	if len(list.Roles) != 1 || len(list.Roles[0].Tags) != 0 {
		t.Errorf("ListRoles = %+v (IAM returns no tags there)", list.Roles)
	}
	doc := `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::carousel-b/a b+c"}]}`
	_, _ = c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
	got, _ := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p")})
	if decoded, _ := url.QueryUnescape(*got.PolicyDocument); *got.PolicyDocument == doc || decoded != doc {
		t.Errorf("policy document %q: IAM returns it URL-encoded", *got.PolicyDocument)
	}
	_, err = c.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")})
	wantLambdaCode(t, err, "DeleteConflict")
	_, _ = c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p")})
	if _, err := c.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")}); err != nil {
		t.Error(err)
	}
	_, err = c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	wantLambdaCode(t, err, "NoSuchEntity")
}

func TestS3TriggerNeedsTheLambdaPermissionFirst(t *testing.T) {
	ctx := context.Background()
	c := New()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("carousel-b")}); err != nil {
		t.Fatal(err)
	}
	fn, err := c.Lambda.CreateFunction(ctx, newFunctionInput(c.IAM.AddRole("LabRole", "lambda.amazonaws.com"), testZip(t, "v1")))
	if err != nil {
		t.Fatal(err)
	}
	trigger := &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("carousel-b"), NotificationConfiguration: &s3types.NotificationConfiguration{
		LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{LambdaFunctionArn: fn.FunctionArn, Events: []s3types.Event{"s3:ObjectCreated:*"}}}}}
	_, err = c.S3.PutBucketNotificationConfiguration(ctx, trigger)
	wantLambdaCode(t, err, "InvalidArgument")
	permit := func(sid, sourceARN string) {
		_, err := c.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("fn"), StatementId: aws.String(sid),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String(sourceARN), SourceAccount: aws.String(Account)})
		if err != nil {
			t.Fatal(err)
		}
	}
	permit("other-bucket", "arn:aws:s3:::other")
	_, err = c.S3.PutBucketNotificationConfiguration(ctx, trigger)
	wantLambdaCode(t, err, "InvalidArgument")
	permit("this-bucket", "arn:aws:s3:::carousel-b")
	if _, err := c.S3.PutBucketNotificationConfiguration(ctx, trigger); err != nil {
		t.Errorf("with the permission: %v", err)
	}
	_, err = c.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("fn"), StatementId: aws.String("this-bucket"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")})
	wantLambdaCode(t, err, "ResourceConflictException")
}

func TestS3PublicPolicyNeedsBlockPublicPolicyOff(t *testing.T) {
	ctx := context.Background()
	c := New()
	_, _ = c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("carousel-b")})
	public := &s3.PutBucketPolicyInput{Bucket: aws.String("carousel-b"),
		Policy: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::carousel-b/images/*"}]}`)}
	_, err := c.S3.PutBucketPolicy(ctx, public)
	wantLambdaCode(t, err, "AccessDenied") // new buckets block public policies
	off, on := aws.Bool(false), aws.Bool(true)
	_, _ = c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String("carousel-b"), PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
		BlockPublicAcls: on, IgnorePublicAcls: on, BlockPublicPolicy: off, RestrictPublicBuckets: off}})
	if _, err := c.S3.PutBucketPolicy(ctx, public); err != nil {
		t.Error(err)
	}
	_, err = c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("carousel-b"),
		Policy: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}`)})
	wantLambdaCode(t, err, "MalformedPolicy")
}
