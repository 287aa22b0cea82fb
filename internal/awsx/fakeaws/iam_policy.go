package fakeaws

import (
	"context"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func (f *IAM) PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	fault, err := f.begin(ctx, "PutRolePolicy")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	if err := validPolicy(aws.ToString(in.PolicyDocument)); err != nil {
		return nil, err
	}
	r.inline[aws.ToString(in.PolicyName)] = aws.ToString(in.PolicyDocument)
	return finish(&iam.PutRolePolicyOutput{}, nil, fault)
}

func (f *IAM) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	fault, err := f.begin(ctx, "GetRolePolicy")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	doc, ok := r.inline[aws.ToString(in.PolicyName)]
	if !ok {
		return nil, APIError("NoSuchEntity", "The role policy with name %s cannot be found.", aws.ToString(in.PolicyName))
	}
	return finish(&iam.GetRolePolicyOutput{RoleName: in.RoleName, PolicyName: in.PolicyName, PolicyDocument: encodePolicy(doc)}, nil, fault)
}

func (f *IAM) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	fault, err := f.begin(ctx, "ListRolePolicies")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	out := &iam.ListRolePoliciesOutput{}
	for n := range r.inline {
		out.PolicyNames = append(out.PolicyNames, n)
	}
	sort.Strings(out.PolicyNames)
	return finish(out, nil, fault)
}

func (f *IAM) DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	fault, err := f.begin(ctx, "DeleteRolePolicy")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	if _, ok := r.inline[aws.ToString(in.PolicyName)]; !ok {
		return nil, APIError("NoSuchEntity", "The role policy with name %s cannot be found.", aws.ToString(in.PolicyName))
	}
	delete(r.inline, aws.ToString(in.PolicyName))
	return finish(&iam.DeleteRolePolicyOutput{}, nil, fault)
}

// AttachRolePolicy attaches a managed policy (tests use it to play a user
// who attached one by hand).
func (f *IAM) AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, _ ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error) {
	fault, err := f.begin(ctx, "AttachRolePolicy")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	arn := aws.ToString(in.PolicyArn)
	r.attached[arn] = arn[strings.LastIndex(arn, "/")+1:]
	return finish(&iam.AttachRolePolicyOutput{}, nil, fault)
}

func (f *IAM) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	fault, err := f.begin(ctx, "ListAttachedRolePolicies")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	out := &iam.ListAttachedRolePoliciesOutput{}
	for arn, name := range r.attached {
		out.AttachedPolicies = append(out.AttachedPolicies, types.AttachedPolicy{PolicyArn: aws.String(arn), PolicyName: aws.String(name)})
	}
	sort.Slice(out.AttachedPolicies, func(i, j int) bool {
		return *out.AttachedPolicies[i].PolicyArn < *out.AttachedPolicies[j].PolicyArn
	})
	return finish(out, nil, fault)
}

func (f *IAM) DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, _ ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error) {
	fault, err := f.begin(ctx, "DetachRolePolicy")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	if _, ok := r.attached[aws.ToString(in.PolicyArn)]; !ok {
		return nil, APIError("NoSuchEntity", "Policy %s was not found.", aws.ToString(in.PolicyArn))
	}
	delete(r.attached, aws.ToString(in.PolicyArn))
	return finish(&iam.DetachRolePolicyOutput{}, nil, fault)
}

// InlinePolicy returns a role's inline policy document, for assertions.
func (f *IAM) InlinePolicy(role, policy string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.roles[role]
	if !ok {
		return "", false
	}
	doc, ok := r.inline[policy]
	return doc, ok
}
