package wire

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
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
)

// restOutputGaps are output fields no candidate binding reaches; the
// fakes do not set them.
var restOutputGaps = map[string]string{
	"HeadObject.ExpiresString": "the raw Expires header, which the SDK also reads as the timestamp Expires",
	"GetObject.ExpiresString":  "the raw Expires header, which the SDK also reads as the timestamp Expires",
	"GetObject.Body":           "a stream the SDK hands over unread (TestS3OverHTTP reads one back)",
}

// restRoundTrip checks one REST operation as learning probes it: inputs
// serialized by the SDK are routed to the operation and decode to
// themselves; an output with every field set reads back in the SDK.
func restRoundTrip(t *testing.T, svc *restService, op *restOp) {
	c := svc.codec
	sets := [][]int{nil}
	if pr := (&probe{}); func() bool { _, _ = op.run((&filler{off: -1, rest: true}).build(op.in), pr); return pr.req == nil }() {
		required, err := requiredFields(op.operation)
		if err != nil {
			t.Fatal(err)
		}
		sets = [][]int{required}
		for i := range op.in.NumField() {
			if wireField(op.in.Field(i)) && !slices.Contains(required, i) {
				sets = append(sets, append(slices.Clone(required), i))
			}
		}
	}
	for _, only := range sets {
		var in reflect.Value
		var sent *sentRequest
		for _, enums := range []bool{false, true} {
			in = (&filler{off: -1, rest: true, only: only, enums: enums}).build(op.in)
			pr := &probe{}
			if _, _ = op.run(in, pr); pr.req != nil {
				sent = pr.req
				break
			}
		}
		if sent == nil {
			t.Errorf("the SDK serializes no request with field %s set", op.in.Field(only[len(only)-1]).Name)
			continue
		}
		r := httptest.NewRequest(sent.method, sent.url.String(), bytes.NewReader(sent.body))
		r.Header = sent.header
		got, labels := svc.route(r)
		if got == nil || got.name != op.name {
			t.Errorf("%s %s is routed to %v", sent.method, sent.url, got)
			continue
		}
		if f := in.Elem().FieldByName("ContentLength"); f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() && len(sent.body) > 0 {
			f.Elem().SetInt(int64(len(sent.body))) // a real request's length is its body's
		}
		dec, err := c.decodeRequest(op, r, labels, sent.body)
		if err != nil {
			t.Errorf("decode %s %s: %v\n%s", sent.method, sent.url, err, sent.body)
			continue
		}
		if d := diff("input", dec, in); len(d) > 0 {
			t.Errorf("request %s %s decodes wrongly:\n  %s\n%v\n%s", sent.method, sent.url, strings.Join(d, "\n  "), sent.header, sent.body)
		}
	}
	out := (&filler{off: -1, rest: true}).build(op.out)
	code, header, body := c.encodeResponse(op, out)
	decoded, err := op.run(op.probeIn, &probe{status: code, header: header, response: append([]byte{}, body...)})
	if err != nil {
		t.Fatalf("the SDK rejects our response: %v\n%s", err, body)
	}
	var d []string
	for _, line := range diff("output", decoded, out) {
		field := strings.SplitN(strings.TrimPrefix(line, "output."), ":", 2)[0]
		if _, gap := restOutputGaps[op.name+"."+field]; !gap {
			d = append(d, line)
		}
	}
	if len(d) > 0 {
		t.Errorf("response fields the SDK does not read back:\n  %s\n%v\n%s", strings.Join(d, "\n  "), header, body)
	}
}

func TestS3OverHTTP(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	c, fake := tb.s3, tb.cloud.S3
	bucket := aws.String("myapp-site")

	created := must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})).ok(t)
	if aws.ToString(created.Location) != "/myapp-site" {
		t.Errorf("location %q", aws.ToString(created.Location))
	}
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
	wantStatus(t, err, "BucketAlreadyOwnedByYou", http.StatusConflict)
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("x"), CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
	wantCode(t, err, "InvalidBucketName")
	if head := must(c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: bucket})).ok(t); aws.ToString(head.BucketRegion) != "us-east-1" {
		t.Errorf("region %q", aws.ToString(head.BucketRegion))
	}
	// A HEAD error has no body: the SDK makes NotFound of the bare 404.
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope-bucket")})
	var nf *s3types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadBucket of a missing bucket: %v, want types.NotFound", err)
	}
	wantStatus(t, err, "NotFound", http.StatusNotFound)
	_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("nope-bucket")})
	wantStatus(t, err, "NoSuchBucket", http.StatusNotFound)
	if !awsx.IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}

	// Tags.
	_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bucket})
	wantStatus(t, err, "NoSuchTagSet", http.StatusNotFound)
	tags := awsx.Tags{"Name": "site", awsx.TagStack: "myapp", "a&b": "<c>"}
	var tagSet []s3types.Tag
	for _, tg := range tags.EC2() {
		tagSet = append(tagSet, s3types.Tag{Key: tg.Key, Value: tg.Value})
	}
	must(c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: bucket, Tagging: &s3types.Tagging{TagSet: tagSet}})).ok(t)
	tagIn := &s3.GetBucketTaggingInput{Bucket: bucket}
	got := must(c.GetBucketTagging(ctx, tagIn)).ok(t)
	if len(got.TagSet) != 3 || !reflect.DeepEqual(fake.Bucket("myapp-site").Tags, map[string]string(tags)) {
		t.Errorf("tags = %+v", got.TagSet)
	}
	sameAsFake(t, "GetBucketTagging", got, must(fake.GetBucketTagging(ctx, tagIn)).ok(t))

	// Privacy settings: AWS's defaults, then changed.
	pab := must(c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket})).ok(t).PublicAccessBlockConfiguration
	if pab == nil || !aws.ToBool(pab.BlockPublicAcls) || !aws.ToBool(pab.BlockPublicPolicy) || !aws.ToBool(pab.IgnorePublicAcls) || !aws.ToBool(pab.RestrictPublicBuckets) {
		t.Errorf("default public access block = %+v", pab)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::myapp-site/*"}]}`
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(policy)})
	wantStatus(t, err, "AccessDenied", http.StatusForbidden)
	off := aws.Bool(false)
	must(c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: bucket, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: off, RestrictPublicBuckets: off}})).ok(t)
	pab = must(c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket})).ok(t).PublicAccessBlockConfiguration
	if !aws.ToBool(pab.BlockPublicAcls) || aws.ToBool(pab.BlockPublicPolicy) || pab.RestrictPublicBuckets == nil || aws.ToBool(pab.RestrictPublicBuckets) {
		t.Errorf("public access block = %+v", pab)
	}
	_, err = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	wantStatus(t, err, "NoSuchBucketPolicy", http.StatusNotFound)
	must(c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(policy)})).ok(t)
	if p := aws.ToString(must(c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})).ok(t).Policy); p != policy {
		t.Errorf("policy = %s", p)
	}
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String("not json")})
	wantCode(t, err, "MalformedPolicy")

	own := must(c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: bucket})).ok(t).OwnershipControls
	if own == nil || len(own.Rules) != 1 || own.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("ownership = %+v", own)
	}
	must(c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: bucket, OwnershipControls: &s3types.OwnershipControls{
		Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerPreferred}}}})).ok(t)
	if own = must(c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: bucket})).ok(t).OwnershipControls; own.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerPreferred {
		t.Errorf("ownership = %+v", own)
	}
	enc := must(c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: bucket})).ok(t).ServerSideEncryptionConfiguration
	if enc == nil || len(enc.Rules) != 1 || enc.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
		t.Errorf("encryption = %+v", enc)
	}
	must(c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: bucket, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
		Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
			SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("alias/x")}, BucketKeyEnabled: aws.Bool(true)}}}})).ok(t)
	encIn := &s3.GetBucketEncryptionInput{Bucket: bucket}
	sameAsFake(t, "GetBucketEncryption", must(c.GetBucketEncryption(ctx, encIn)).ok(t), must(fake.GetBucketEncryption(ctx, encIn)).ok(t))

	// Notifications (the Lambda destination is checked in TestLambdaOverHTTP).
	if n := must(c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: bucket})).ok(t); len(n.LambdaFunctionConfigurations) != 0 {
		t.Errorf("notifications = %+v", n)
	}
	notif := &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{
		Id: aws.String("sync"), LambdaFunctionArn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:f"),
		Events: []s3types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"},
		Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{{Name: "prefix", Value: aws.String("images/")}}}}}},
		EventBridgeConfiguration: &s3types.EventBridgeConfiguration{}}
	_, err = c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: bucket, NotificationConfiguration: notif})
	wantCode(t, err, "InvalidArgument")
	must(c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: bucket, NotificationConfiguration: notif,
		SkipDestinationValidation: aws.Bool(true)})).ok(t)
	notIn := &s3.GetBucketNotificationConfigurationInput{Bucket: bucket}
	n := must(c.GetBucketNotificationConfiguration(ctx, notIn)).ok(t)
	if len(n.LambdaFunctionConfigurations) != 1 || len(n.LambdaFunctionConfigurations[0].Events) != 2 || n.EventBridgeConfiguration == nil ||
		aws.ToString(n.LambdaFunctionConfigurations[0].Filter.Key.FilterRules[0].Value) != "images/" {
		t.Errorf("notifications = %+v", n)
	}
	sameAsFake(t, "GetBucketNotificationConfiguration", n, must(fake.GetBucketNotificationConfiguration(ctx, notIn)).ok(t))

	// Objects: bytes and headers, keys with slashes, pages, deletes.
	page := []byte("<h1>todo</h1>")
	put := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("index.html"), Body: bytes.NewReader(page),
		ContentType: aws.String("text/html"), CacheControl: aws.String("no-cache")})).ok(t)
	sum := md5.Sum(page)
	if aws.ToString(put.ETag) != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("etag %s", aws.ToString(put.ETag))
	}
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("assets/js/app v1.js"), Body: strings.NewReader("x()")})).ok(t)
	if data, ok := fake.Object("myapp-site", "assets/js/app v1.js"); !ok || string(data) != "x()" {
		t.Errorf("object = %q, %v", data, ok)
	}
	if o := fake.Bucket("myapp-site").Objects["index.html"]; !bytes.Equal(o.Data, page) || o.ContentType != "text/html" || o.CacheControl != "no-cache" {
		t.Errorf("stored object = %+v", o)
	}
	headIn := &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("index.html")}
	head := must(c.HeadObject(ctx, headIn)).ok(t)
	if aws.ToInt64(head.ContentLength) != int64(len(page)) || aws.ToString(head.ContentType) != "text/html" || aws.ToString(head.ETag) != aws.ToString(put.ETag) || head.LastModified == nil {
		t.Errorf("head = %+v", head)
	}
	direct := must(fake.HeadObject(ctx, headIn)).ok(t)
	if !head.LastModified.Equal(direct.LastModified.Truncate(1e9)) {
		t.Errorf("last modified %v, fake %v", head.LastModified, direct.LastModified)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("nope.html")})
	if !errors.As(err, &nf) {
		t.Errorf("HeadObject of a missing key: %v, want types.NotFound", err)
	}
	obj := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("index.html")})).ok(t)
	if body, err := io.ReadAll(obj.Body); err != nil || !bytes.Equal(body, page) || aws.ToString(obj.ETag) != aws.ToString(put.ETag) ||
		aws.ToString(obj.ContentType) != "text/html" {
		t.Errorf("get = %q, %v, %+v", body, err, obj)
	}
	var noKey *s3types.NoSuchKey
	if _, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("nope.html")}); !errors.As(err, &noKey) {
		t.Errorf("GetObject of a missing key: %v, want types.NoSuchKey", err)
	}
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("tmp/x"), Body: strings.NewReader("x")})).ok(t)
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("tmp/x")})).ok(t)
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("tmp/x")})).ok(t)
	if _, ok := fake.Object("myapp-site", "tmp/x"); ok {
		t.Error("DeleteObject left the object")
	}
	if l := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("assets/")})).ok(t); len(l.Contents) != 1 ||
		aws.ToString(l.Contents[0].Key) != "assets/js/app v1.js" || aws.ToInt64(l.Contents[0].Size) != 3 || aws.ToInt32(l.KeyCount) != 1 {
		t.Errorf("list = %+v", l)
	}
	first := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(1)})).ok(t)
	if len(first.Contents) != 1 || !aws.ToBool(first.IsTruncated) || first.NextContinuationToken == nil {
		t.Fatalf("first page = %+v", first)
	}
	second := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(1), ContinuationToken: first.NextContinuationToken})).ok(t)
	if len(second.Contents) != 1 || aws.ToBool(second.IsTruncated) || aws.ToString(second.Contents[0].Key) != "index.html" {
		t.Errorf("second page = %+v", second)
	}
	if b := must(c.ListBuckets(ctx, &s3.ListBucketsInput{})).ok(t).Buckets; len(b) != 1 || aws.ToString(b[0].Name) != "myapp-site" || b[0].CreationDate == nil {
		t.Errorf("buckets = %+v", b)
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bucket})
	wantStatus(t, err, "BucketNotEmpty", http.StatusConflict)
	del := must(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{
		{Key: aws.String("index.html")}, {Key: aws.String("assets/js/app v1.js")}}, Quiet: aws.Bool(false)}})).ok(t)
	if len(del.Deleted) != 2 || aws.ToString(del.Deleted[1].Key) != "assets/js/app v1.js" {
		t.Errorf("deleted = %+v", del.Deleted)
	}
	must(c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bucket})).ok(t)
	if names := fake.BucketNames(); len(names) != 0 {
		t.Errorf("buckets left: %v", names)
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bucket})
	wantStatus(t, err, "NoSuchBucket", http.StatusNotFound)
}

func lambdaZip(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, _ := w.Create("bootstrap")
	_, _ = f.Write([]byte("#!/bin/sh\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLambdaOverHTTP(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	c, fake := tb.lambda, tb.cloud.Lambda
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role := must(tb.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("sync-role"), AssumeRolePolicyDocument: aws.String(trust)})).ok(t).Role

	name := aws.String("myapp-sync")
	in := &lambda.CreateFunctionInput{FunctionName: name, Runtime: lambdatypes.RuntimeProvidedal2023, Role: role.Arn, Handler: aws.String("bootstrap"),
		Code: &lambdatypes.FunctionCode{ZipFile: lambdaZip(t)}, Tags: map[string]string{awsx.TagStack: "myapp", "Name": "sync"},
		Environment: &lambdatypes.Environment{Variables: map[string]string{"BUCKET": "myapp-site", "EMPTY": ""}}, Timeout: aws.Int32(30),
		Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureArm64}}
	created := must(c.CreateFunction(ctx, in)).ok(t)
	if aws.ToString(created.FunctionArn) != "arn:aws:lambda:us-east-1:"+fakeaws.Account+":function:myapp-sync" || created.State != lambdatypes.StatePending ||
		aws.ToInt32(created.Timeout) != 30 || aws.ToInt32(created.MemorySize) != 128 || created.Environment.Variables["BUCKET"] != "myapp-site" ||
		created.Architectures[0] != lambdatypes.ArchitectureArm64 || created.CodeSize == 0 {
		t.Errorf("created = %+v", created)
	}
	if code, _ := fake.Code("myapp-sync"); !bytes.Equal(code, in.Code.ZipFile) {
		t.Error("the zip did not arrive intact")
	}
	_, err := c.CreateFunction(ctx, in)
	wantStatus(t, err, "ResourceConflictException", http.StatusConflict)
	var conflict *lambdatypes.ResourceConflictException
	if !errors.As(err, &conflict) || conflict.ErrorMessage() == "" {
		t.Errorf("err = %#v, want a typed ResourceConflictException with its message", err)
	}
	bad := *in
	bad.FunctionName, bad.Code = aws.String("other"), &lambdatypes.FunctionCode{ZipFile: []byte("not a zip")}
	_, err = c.CreateFunction(ctx, &bad)
	wantCode(t, err, "InvalidParameterValueException")

	// Pending, then Active, as GetFunction sees it.
	if got := must(c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: name})).ok(t); got.Configuration.State != lambdatypes.StatePending ||
		got.Tags[awsx.TagStack] != "myapp" || got.Code == nil || aws.ToString(got.Code.RepositoryType) != "S3" {
		t.Errorf("get = %+v", got)
	}
	getIn := &lambda.GetFunctionInput{FunctionName: created.FunctionArn}
	got := must(c.GetFunction(ctx, getIn)).ok(t)
	if got.Configuration.State != lambdatypes.StateActive || got.Configuration.Environment.Variables["EMPTY"] != "" || len(got.Configuration.Environment.Variables) != 2 {
		t.Errorf("get = %+v", got.Configuration)
	}
	sameAsFake(t, "GetFunction", got, must(fake.GetFunction(ctx, getIn)).ok(t))
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("nope")})
	wantStatus(t, err, "ResourceNotFoundException", http.StatusNotFound)
	var missing *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &missing) || !strings.Contains(missing.ErrorMessage(), "Function not found") || !awsx.IsNotFound(err) {
		t.Errorf("err = %#v, want a typed ResourceNotFoundException with its message", err)
	}
	if fns := must(c.ListFunctions(ctx, &lambda.ListFunctionsInput{})).ok(t).Functions; len(fns) != 1 || aws.ToString(fns[0].FunctionName) != "myapp-sync" {
		t.Errorf("functions = %+v", fns)
	}
	if tags := must(c.ListTags(ctx, &lambda.ListTagsInput{Resource: created.FunctionArn})).ok(t).Tags; !reflect.DeepEqual(tags, in.Tags) {
		t.Errorf("tags = %v", tags)
	}

	// Updates: one at a time.
	upd := must(c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: name, Timeout: aws.Int32(60),
		Environment: &lambdatypes.Environment{Variables: map[string]string{"BUCKET": "b2"}}})).ok(t)
	if upd.LastUpdateStatus != lambdatypes.LastUpdateStatusInProgress || aws.ToInt32(upd.Timeout) != 60 {
		t.Errorf("update = %+v", upd)
	}
	_, err = c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: name, ZipFile: lambdaZip(t)})
	wantStatus(t, err, "ResourceConflictException", http.StatusConflict)
	must(c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: name})).ok(t) // settles
	if code := must(c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: name, ZipFile: lambdaZip(t), Publish: true})).ok(t); aws.ToString(code.CodeSha256) == "" {
		t.Errorf("code = %+v", code)
	}

	// Permissions, and S3 accepting the function as a destination.
	perm := must(c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: name, StatementId: aws.String("s3-invoke"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::myapp-site"), SourceAccount: aws.String(fakeaws.Account)})).ok(t)
	var stmt map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(perm.Statement)), &stmt); err != nil || stmt["Sid"] != "s3-invoke" {
		t.Errorf("statement = %s (%v)", aws.ToString(perm.Statement), err)
	}
	_, err = c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: name, StatementId: aws.String("s3-invoke"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")})
	wantStatus(t, err, "ResourceConflictException", http.StatusConflict)
	if p := aws.ToString(must(c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: name})).ok(t).Policy); !strings.Contains(p, `"Sid":"s3-invoke"`) {
		t.Errorf("policy = %s", p)
	}
	must(tb.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("myapp-site")})).ok(t)
	must(tb.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("myapp-site"),
		NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{
			LambdaFunctionArn: created.FunctionArn, Events: []s3types.Event{"s3:ObjectCreated:*"}}}}})).ok(t)
	must(c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: name, StatementId: aws.String("s3-invoke")})).ok(t)
	_, err = c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: name, StatementId: aws.String("s3-invoke")})
	wantStatus(t, err, "ResourceNotFoundException", http.StatusNotFound)
	_, err = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: name})
	wantStatus(t, err, "ResourceNotFoundException", http.StatusNotFound)

	del := must(c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: name})).ok(t)
	if del.StatusCode != http.StatusNoContent {
		t.Errorf("delete status %d", del.StatusCode)
	}
	if names := fake.FunctionNames(); len(names) != 0 {
		t.Errorf("functions left: %v", names)
	}
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: name})
	wantStatus(t, err, "ResourceNotFoundException", http.StatusNotFound)
}

func TestRESTWireFormat(t *testing.T) {
	tb := newTestbed(t)
	do := func(method, path, service string, body io.Reader) (int, http.Header, string) {
		t.Helper()
		return tb.do(t, method, path, service, nil, body)
	}
	if status, _, _ := do(http.MethodPut, "/wire-bucket", "s3", nil); status != http.StatusOK {
		t.Fatalf("create bucket: %d", status)
	}
	status, h, body := do(http.MethodPut, "/wire-bucket?tagging", "s3", strings.NewReader(`<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>k</Key><Value>a&amp;b</Value></Tag></TagSet></Tagging>`))
	if status != http.StatusOK || h.Get("X-Amz-Request-Id") == "" {
		t.Errorf("put tagging: %d %v %s", status, h, body)
	}
	status, _, body = do(http.MethodGet, "/wire-bucket?tagging", "s3", nil)
	if want := `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>k</Key><Value>a&amp;b</Value></Tag></TagSet></Tagging>`; status != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("get tagging: %d\n%s\nwant %s", status, body, want)
	}
	status, _, body = do(http.MethodGet, "/nope-bucket?tagging", "s3", nil)
	if status != http.StatusNotFound || !strings.Contains(body, "<Error><Code>NoSuchBucket</Code><Message>") {
		t.Errorf("missing bucket: %d\n%s", status, body)
	}
	status, _, body = do(http.MethodHead, "/nope-bucket", "s3", nil)
	if status != http.StatusNotFound || body != "" {
		t.Errorf("HEAD of a missing bucket: %d %q", status, body)
	}
	status, _, body = do(http.MethodPost, "/wire-bucket?restore", "s3", nil)
	if status != http.StatusNotImplemented || !strings.Contains(body, "<Code>NotImplemented</Code>") {
		t.Errorf("unknown S3 operation: %d\n%s", status, body)
	}
	status, _, body = do(http.MethodPut, "/wire-bucket?tagging", "s3", strings.NewReader(`<Tagging><Bogus/></Tagging>`))
	if status != http.StatusBadRequest || !strings.Contains(body, "<Code>MalformedXML</Code>") {
		t.Errorf("bad XML: %d\n%s", status, body)
	}

	status, h, body = do(http.MethodGet, "/2015-03-31/functions/nope", "lambda", nil)
	if status != http.StatusNotFound || h.Get("X-Amzn-Errortype") != "ResourceNotFoundException" || !strings.Contains(body, `"Message":"Function not found: `) {
		t.Errorf("missing function: %d %v\n%s", status, h, body)
	}
	status, _, body = do(http.MethodPost, "/2015-03-31/functions", "lambda", strings.NewReader(`{"FunctionName":"f","Bogus":1}`))
	if status != http.StatusBadRequest || !strings.Contains(body, "SerializationException") && !strings.Contains(body, "Unrecognized field") {
		t.Errorf("unknown member: %d\n%s", status, body)
	}
	status, h, _ = do(http.MethodGet, "/2015-03-31/layers", "lambda", nil)
	if status != http.StatusNotFound || h.Get("X-Amzn-Errortype") != "UnknownOperationException" {
		t.Errorf("unknown Lambda operation: %d %v", status, h)
	}
	if len(tb.cloud.MutatingCalls()) != 2 {
		t.Errorf("calls: %v", tb.cloud.Calls())
	}
}
