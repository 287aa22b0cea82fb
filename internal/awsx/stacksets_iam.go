package awsx

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const serviceIAM = "IAM"

func init() {
	// IAM: one GetAccountAuthorizationDetails (roles only) gives every
	// role's trust policy, inline policies, tags and the instance profiles
	// that hold it. A principal that may not call it (a lab role) just
	// keeps asking role by role.
	answers(serviceIAM, "GetRole", func(src setSource, input any) (any, bool) {
		in := input.(*iam.GetRoleInput)
		d, ok := roleDetail(src, aws.ToString(in.RoleName))
		if !ok || !onlyFields(in, "RoleName") {
			return nil, false
		}
		return &iam.GetRoleOutput{Role: &iamtypes.Role{Arn: d.Arn, RoleName: d.RoleName, RoleId: d.RoleId, Path: d.Path, CreateDate: d.CreateDate,
			AssumeRolePolicyDocument: d.AssumeRolePolicyDocument, Tags: copyItems(d.Tags)}}, true
	})
	answers(serviceIAM, "GetRolePolicy", func(src setSource, input any) (any, bool) {
		in := input.(*iam.GetRolePolicyInput)
		d, ok := roleDetail(src, aws.ToString(in.RoleName))
		if !ok || !onlyFields(in, "RoleName", "PolicyName") {
			return nil, false
		}
		i := slices.IndexFunc(d.RolePolicyList, func(p iamtypes.PolicyDetail) bool { return aws.ToString(p.PolicyName) == aws.ToString(in.PolicyName) })
		if i < 0 {
			return nil, false // IAM says NoSuchEntity
		}
		return &iam.GetRolePolicyOutput{RoleName: d.RoleName, PolicyName: in.PolicyName, PolicyDocument: d.RolePolicyList[i].PolicyDocument}, true
	})
	answers(serviceIAM, "GetInstanceProfile", func(src setSource, input any) (any, bool) {
		in := input.(*iam.GetInstanceProfileInput)
		roles, ok := iamRoles(src)
		if !ok || !onlyFields(in, "InstanceProfileName") {
			return nil, false
		}
		for _, d := range roles {
			for _, p := range d.InstanceProfileList {
				// Only with its tags: a listing without them cannot say
				// whose the profile is (and one that holds no role is not
				// listed at all), so AWS is asked.
				if aws.ToString(p.InstanceProfileName) == aws.ToString(in.InstanceProfileName) && len(p.Tags) > 0 {
					out := deepCopy(p).(iamtypes.InstanceProfile)
					return &iam.GetInstanceProfileOutput{InstanceProfile: &out}, true
				}
			}
		}
		return nil, false
	})
}

// iamRoles is the set of every role of the account with its details.
func iamRoles(src setSource) ([]iamtypes.RoleDetail, bool) {
	v, ok := src.get(serviceIAM, "roles", func(ctx context.Context, c *Clients, _ setSource) (any, error) {
		p := iam.NewGetAccountAuthorizationDetailsPaginator(c.IAM, &iam.GetAccountAuthorizationDetailsInput{Filter: []iamtypes.EntityType{iamtypes.EntityTypeRole}})
		return collect(ctx, p.HasMorePages, p.NextPage, func(o *iam.GetAccountAuthorizationDetailsOutput) []iamtypes.RoleDetail { return o.RoleDetailList })
	})
	if !ok {
		return nil, false
	}
	return v.([]iamtypes.RoleDetail), true
}

// roleDetail is one role of the set (false when the set cannot be read or
// lacks it: a new role, or one of another account, is asked of AWS).
func roleDetail(src setSource, name string) (iamtypes.RoleDetail, bool) {
	roles, ok := iamRoles(src)
	if !ok {
		return iamtypes.RoleDetail{}, false
	}
	i := slices.IndexFunc(roles, func(d iamtypes.RoleDetail) bool { return aws.ToString(d.RoleName) == name })
	if i < 0 {
		return iamtypes.RoleDetail{}, false
	}
	return roles[i], true
}
