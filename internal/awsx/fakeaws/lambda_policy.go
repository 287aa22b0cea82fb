package fakeaws

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// permission is one statement of a function's resource policy.
type permission struct {
	Sid       string
	Effect    string
	Principal map[string]string
	Action    string
	Resource  string
	Condition map[string]map[string]string `json:",omitempty"`
}

func (f *Lambda) AddPermission(ctx context.Context, in *lambda.AddPermissionInput, _ ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error) {
	fault, err := f.begin(ctx, "AddPermission")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, err := f.function(in.FunctionName)
	if err != nil {
		return nil, err
	}
	sid := aws.ToString(in.StatementId)
	for _, p := range fn.policy {
		if p.Sid == sid {
			return nil, APIError("ResourceConflictException", "The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", sid)
		}
	}
	p := permission{Sid: sid, Effect: "Allow", Action: aws.ToString(in.Action), Resource: aws.ToString(fn.cfg.FunctionArn), Principal: map[string]string{}}
	if principal := aws.ToString(in.Principal); strings.HasSuffix(principal, ".amazonaws.com") {
		p.Principal["Service"] = principal
	} else {
		p.Principal["AWS"] = principal
	}
	if in.SourceArn != nil || in.SourceAccount != nil {
		p.Condition = map[string]map[string]string{}
		if in.SourceAccount != nil {
			p.Condition["StringEquals"] = map[string]string{"AWS:SourceAccount": aws.ToString(in.SourceAccount)}
		}
		if in.SourceArn != nil {
			p.Condition["ArnLike"] = map[string]string{"AWS:SourceArn": aws.ToString(in.SourceArn)}
		}
	}
	fn.policy = append(fn.policy, p)
	doc, _ := json.Marshal(p)
	return finish(&lambda.AddPermissionOutput{Statement: aws.String(string(doc))}, nil, fault)
}

func (f *Lambda) GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, _ ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error) {
	fault, err := f.begin(ctx, "GetPolicy")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, err := f.function(in.FunctionName)
	if err != nil {
		return nil, err
	}
	if len(fn.policy) == 0 {
		return nil, APIError("ResourceNotFoundException", "The resource you requested does not exist.")
	}
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": fn.policy})
	return finish(&lambda.GetPolicyOutput{Policy: aws.String(string(doc)), RevisionId: fn.cfg.RevisionId}, nil, fault)
}

func (f *Lambda) RemovePermission(ctx context.Context, in *lambda.RemovePermissionInput, _ ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error) {
	fault, err := f.begin(ctx, "RemovePermission")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, err := f.function(in.FunctionName)
	if err != nil {
		return nil, err
	}
	for i, p := range fn.policy {
		if p.Sid == aws.ToString(in.StatementId) {
			fn.policy = append(fn.policy[:i], fn.policy[i+1:]...)
			return finish(&lambda.RemovePermissionOutput{}, nil, fault)
		}
	}
	return nil, APIError("ResourceNotFoundException", "The resource you requested does not exist.")
}

// AllowsInvoke reports whether the resource policy of the function lets
// service invoke it on behalf of sourceARN in account, as S3 checks before
// accepting a notification destination.
func (f *Lambda) AllowsInvoke(functionARN, service, sourceARN, account string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, err := f.function(&functionARN)
	if err != nil {
		return false
	}
	for _, p := range fn.policy {
		if p.Effect != "Allow" || p.Principal["Service"] != service || (p.Action != "lambda:InvokeFunction" && p.Action != "lambda:*") {
			continue
		}
		if want, ok := p.Condition["ArnLike"]["AWS:SourceArn"]; ok && !wildcardMatch(want, sourceARN) {
			continue
		}
		if want, ok := p.Condition["StringEquals"]["AWS:SourceAccount"]; ok && want != account {
			continue
		}
		return true
	}
	return false
}

// wildcardMatch matches IAM-style patterns: * any run, ? one character.
func wildcardMatch(pattern, s string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	ok, _ := regexp.MatchString(re, s)
	return ok
}
