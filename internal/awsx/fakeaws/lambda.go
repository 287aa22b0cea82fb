package fakeaws

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Lambda is the fake Lambda service. Functions start Pending and turn
// Active, and updates InProgress turn Successful, after SettleCalls
// GetFunction calls; updates meanwhile fail with ResourceConflictException.
type Lambda struct {
	awsx.LambdaAPI
	*Core
	Region string
	// IAM holds the roles functions assume.
	IAM *IAM
	// SettleCalls is how many GetFunction calls see a new function Pending
	// (or an update InProgress).
	SettleCalls int

	mu        sync.Mutex
	functions map[string]*fakeFunction
}

type fakeFunction struct {
	cfg      types.FunctionConfiguration
	code     []byte
	tags     map[string]string
	policy   []permission
	settling int
}

// NewLambda returns an empty fake Lambda whose functions assume roles of iam.
func NewLambda(core *Core, region string, iam *IAM) *Lambda {
	return &Lambda{Core: core, Region: region, IAM: iam, SettleCalls: 1, functions: map[string]*fakeFunction{}}
}

var functionNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// function finds a function by name or ARN.
func (f *Lambda) function(nameOrARN *string) (*fakeFunction, error) {
	name := aws.ToString(nameOrARN)
	if i := strings.LastIndex(name, ":function:"); i >= 0 {
		name = strings.SplitN(name[i+len(":function:"):], ":", 2)[0]
	}
	fn, ok := f.functions[name]
	if !ok {
		return nil, APIError("ResourceNotFoundException", "Function not found: arn:aws:lambda:%s:%s:function:%s", f.Region, Account, name)
	}
	return fn, nil
}

func roleNotAssumable() error {
	return APIError("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")
}

func codeSummary(zipFile []byte) (sha string, err error) {
	if _, err := zip.NewReader(bytes.NewReader(zipFile), int64(len(zipFile))); err != nil {
		return "", APIError("InvalidParameterValueException", "Could not unzip uploaded file. Please check your file, then try to upload again.")
	}
	sum := sha256.Sum256(zipFile)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

func (f *Lambda) CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, _ ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error) {
	fault, err := f.begin(ctx, "CreateFunction")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.FunctionName)
	switch {
	case !functionNamePattern.MatchString(name):
		return nil, APIError("ValidationException", "1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint", name)
	case f.functions[name] != nil:
		return nil, APIError("ResourceConflictException", "Function already exist: %s", name)
	case in.Runtime == types.RuntimeGo1x:
		return nil, APIError("InvalidParameterValueException", "The runtime parameter of go1.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.")
	case in.Code == nil || len(in.Code.ZipFile) == 0:
		return nil, APIError("InvalidParameterValueException", "Please provide a source for function code.")
	}
	if err := checkSizes(in.Timeout, in.MemorySize); err != nil {
		return nil, err
	}
	sha, err := codeSummary(in.Code.ZipFile)
	if err != nil {
		return nil, err
	}
	if !f.IAM.lambdaCanAssume(aws.ToString(in.Role)) {
		return nil, roleNotAssumable()
	}
	fn := &fakeFunction{code: in.Code.ZipFile, tags: map[string]string{}, settling: f.SettleCalls}
	for k, v := range in.Tags {
		fn.tags[k] = v
	}
	arch := in.Architectures
	if len(arch) == 0 {
		arch = []types.Architecture{types.ArchitectureX8664}
	}
	fn.cfg = types.FunctionConfiguration{
		FunctionName: aws.String(name), FunctionArn: aws.String(f.arn(name)), Runtime: in.Runtime, Role: in.Role,
		Handler: in.Handler, Description: in.Description, Timeout: orInt32(in.Timeout, 3), MemorySize: orInt32(in.MemorySize, 128),
		Architectures: arch, CodeSha256: aws.String(sha), CodeSize: int64(len(in.Code.ZipFile)), Version: aws.String("$LATEST"),
		PackageType: types.PackageTypeZip, State: types.StatePending, StateReasonCode: types.StateReasonCodeCreating,
		LastUpdateStatus: types.LastUpdateStatusSuccessful, RevisionId: aws.String(newID("rev")), LastModified: aws.String(now()),
	}
	if in.Environment != nil {
		fn.cfg.Environment = &types.EnvironmentResponse{Variables: cloneStrings(in.Environment.Variables)}
	}
	if fn.settling == 0 {
		fn.settle()
	}
	f.functions[name] = fn
	out := &lambda.CreateFunctionOutput{}
	copyConfig(fn.cfg, out)
	return finish(out, nil, fault)
}

func checkSizes(timeout, memory *int32) error {
	if t := aws.ToInt32(timeout); timeout != nil && (t < 1 || t > 900) {
		return APIError("InvalidParameterValueException", "Timeout must be between 1 and 900 seconds, got %d", t)
	}
	if m := aws.ToInt32(memory); memory != nil && (m < 128 || m > 10240) {
		return APIError("InvalidParameterValueException", "MemorySize must be between 128 and 10240 MB, got %d", m)
	}
	return nil
}

func (f *Lambda) arn(name string) string {
	return "arn:aws:lambda:" + f.Region + ":" + Account + ":function:" + name
}

func (fn *fakeFunction) settle() {
	fn.cfg.State, fn.cfg.StateReasonCode = types.StateActive, types.StateReasonCodeIdle
	fn.cfg.LastUpdateStatus = types.LastUpdateStatusSuccessful
}

// busy is the error for a change while the function is not ready for one.
func (fn *fakeFunction) busy() error {
	if fn.cfg.State == types.StatePending {
		return APIError("ResourceConflictException", "The operation cannot be performed at this time. The function is currently in the following state: Pending")
	}
	if fn.cfg.LastUpdateStatus == types.LastUpdateStatusInProgress {
		return APIError("ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: %s", aws.ToString(fn.cfg.FunctionArn))
	}
	return nil
}

func (fn *fakeFunction) startUpdate(settle int) {
	fn.cfg.LastUpdateStatus = types.LastUpdateStatusInProgress
	fn.cfg.RevisionId, fn.cfg.LastModified = aws.String(newID("rev")), aws.String(now())
	fn.settling = settle
	if settle == 0 {
		fn.settle()
	}
}

func (f *Lambda) GetFunction(ctx context.Context, in *lambda.GetFunctionInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	fault, err := f.begin(ctx, "GetFunction")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, err := f.function(in.FunctionName)
	if err != nil {
		return nil, err
	}
	cfg := fn.cfg // what this call sees; the next one may see it settled
	if fn.settling > 0 {
		if fn.settling--; fn.settling == 0 {
			fn.settle()
		}
	}
	return finish(&lambda.GetFunctionOutput{Configuration: &cfg, Tags: cloneStrings(fn.tags),
		Code: &types.FunctionCodeLocation{RepositoryType: aws.String("S3"), Location: aws.String("https://awslambda-fake.s3.amazonaws.com/" + *cfg.FunctionName)}}, nil, fault)
}

// ListFunctions pages by MaxItems (default 50) in name order.
func (f *Lambda) ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, _ ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error) {
	fault, err := f.begin(ctx, "ListFunctions")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for n := range f.functions {
		if n > aws.ToString(in.Marker) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := &lambda.ListFunctionsOutput{}
	if limit := pageLimit(in.MaxItems, 50); len(names) > limit {
		names = names[:limit]
		out.NextMarker = aws.String(names[limit-1])
	}
	for _, n := range names {
		out.Functions = append(out.Functions, f.functions[n].cfg)
	}
	return finish(out, nil, fault)
}

func (f *Lambda) ListTags(ctx context.Context, in *lambda.ListTagsInput, _ ...func(*lambda.Options)) (*lambda.ListTagsOutput, error) {
	fault, err := f.begin(ctx, "ListTags")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, err := f.function(in.Resource)
	if err != nil {
		return nil, err
	}
	return finish(&lambda.ListTagsOutput{Tags: cloneStrings(fn.tags)}, nil, fault)
}

func (f *Lambda) UpdateFunctionCode(ctx context.Context, in *lambda.UpdateFunctionCodeInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error) {
	fault, err := f.begin(ctx, "UpdateFunctionCode")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, err := f.function(in.FunctionName)
	if err != nil {
		return nil, err
	}
	if err := fn.busy(); err != nil {
		return nil, err
	}
	sha, err := codeSummary(in.ZipFile)
	if err != nil {
		return nil, err
	}
	fn.code = in.ZipFile
	fn.cfg.CodeSha256, fn.cfg.CodeSize = aws.String(sha), int64(len(in.ZipFile))
	if len(in.Architectures) > 0 {
		fn.cfg.Architectures = in.Architectures
	}
	fn.startUpdate(f.SettleCalls)
	out := &lambda.UpdateFunctionCodeOutput{}
	copyConfig(fn.cfg, out)
	return finish(out, nil, fault)
}

func (f *Lambda) UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	fault, err := f.begin(ctx, "UpdateFunctionConfiguration")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, err := f.function(in.FunctionName)
	if err != nil {
		return nil, err
	}
	if err := fn.busy(); err != nil {
		return nil, err
	}
	if err := checkSizes(in.Timeout, in.MemorySize); err != nil {
		return nil, err
	}
	if in.Runtime == types.RuntimeGo1x {
		return nil, APIError("InvalidParameterValueException", "The runtime parameter of go1.x is no longer supported for creating or updating AWS Lambda functions.")
	}
	if in.Role != nil && aws.ToString(in.Role) != aws.ToString(fn.cfg.Role) && !f.IAM.lambdaCanAssume(aws.ToString(in.Role)) {
		return nil, roleNotAssumable()
	}
	c := &fn.cfg
	setIf(&c.Role, in.Role)
	setIf(&c.Handler, in.Handler)
	setIf(&c.Description, in.Description)
	setIf(&c.Timeout, in.Timeout)
	setIf(&c.MemorySize, in.MemorySize)
	if in.Runtime != "" {
		c.Runtime = in.Runtime
	}
	if in.Environment != nil {
		c.Environment = &types.EnvironmentResponse{Variables: cloneStrings(in.Environment.Variables)}
	}
	fn.startUpdate(f.SettleCalls)
	out := &lambda.UpdateFunctionConfigurationOutput{}
	copyConfig(fn.cfg, out)
	return finish(out, nil, fault)
}

func setIf[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

func (f *Lambda) DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, _ ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error) {
	fault, err := f.begin(ctx, "DeleteFunction")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, err := f.function(in.FunctionName)
	if err != nil {
		return nil, err
	}
	delete(f.functions, aws.ToString(fn.cfg.FunctionName))
	return finish(&lambda.DeleteFunctionOutput{StatusCode: 204}, nil, fault)
}

// Code returns a function's deployed zip, for assertions.
func (f *Lambda) Code(name string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, ok := f.functions[name]
	if !ok {
		return nil, false
	}
	return bytes.Clone(fn.code), true
}

// FunctionNames lists the functions, for assertions.
func (f *Lambda) FunctionNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.functions {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func orInt32(v *int32, def int32) *int32 {
	if v == nil {
		return aws.Int32(def)
	}
	return v
}

func cloneStrings(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000+0000") }

// copyConfig fills a Create/Update output from a configuration: the outputs
// are distinct types with the same fields.
func copyConfig(c types.FunctionConfiguration, out any) {
	b, _ := json.Marshal(c)
	_ = json.Unmarshal(b, out)
}
