package fakeaws

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// GetAccountAuthorizationDetails lists the account's roles, each with its
// trust policy, inline policies, attached managed policies, the instance
// profiles that hold it and its tags, MaxItems (default 100) a page in
// name order, as IAM does. Of the entity types only roles exist in the
// fake: a Filter without Role lists nothing.
func (f *IAM) GetAccountAuthorizationDetails(ctx context.Context, in *iam.GetAccountAuthorizationDetailsInput, _ ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	fault, err := f.begin(ctx, "GetAccountAuthorizationDetails")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	limit := int(aws.ToInt32(in.MaxItems))
	if in.MaxItems != nil && (limit < 1 || limit > 1000) {
		return nil, APIError("ValidationError", "1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", limit)
	}
	if limit == 0 {
		limit = 100
	}
	out := &iam.GetAccountAuthorizationDetailsOutput{}
	if len(in.Filter) > 0 && !slices.Contains(in.Filter, types.EntityTypeRole) {
		return finish(out, nil, fault)
	}
	names := sortedKeys(f.roles)
	if m := aws.ToString(in.Marker); m != "" {
		i, found := slices.BinarySearch(names, m)
		if !found {
			return nil, APIError("ValidationError", "Invalid Marker")
		}
		names = names[i:]
	}
	if len(names) > limit {
		out.IsTruncated, out.Marker = true, aws.String(names[limit])
		names = names[:limit]
	}
	for _, name := range names {
		r := f.roles[name]
		view := r.view(true)
		d := types.RoleDetail{Arn: view.Arn, RoleName: view.RoleName, RoleId: view.RoleId, Path: view.Path, CreateDate: view.CreateDate,
			AssumeRolePolicyDocument: view.AssumeRolePolicyDocument, Tags: view.Tags}
		for _, policy := range sortedKeys(r.inline) {
			d.RolePolicyList = append(d.RolePolicyList, types.PolicyDetail{PolicyName: aws.String(policy), PolicyDocument: encodePolicy(r.inline[policy])})
		}
		for _, arn := range sortedKeys(r.attached) {
			d.AttachedManagedPolicies = append(d.AttachedManagedPolicies, types.AttachedPolicy{PolicyArn: aws.String(arn), PolicyName: aws.String(r.attached[arn])})
		}
		for _, p := range sortedKeys(f.profiles) {
			if f.profiles[p].role == name {
				d.InstanceProfileList = append(d.InstanceProfileList, f.profileView(f.profiles[p], true))
			}
		}
		out.RoleDetailList = append(out.RoleDetailList, d)
	}
	return finish(out, nil, fault)
}
