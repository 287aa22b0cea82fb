package steps

import (
	"context"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/myappctl/myappctl/internal/awsx"
)

// lambdaFunctionKind is a Lambda function; its id is the function name.
// Delete removes the S3 invoke permission first, then the function.
var lambdaFunctionKind = registerKind(&Kind{
	Type:   "lambda:function",
	Lookup: lookupFunction,
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		if name := tags[awsx.TagName]; name != "" { // the name is the identity: no listing
			return lookupByName(ctx, e, lookupFunction, name, tags)
		}
		var names []string
		pages := lambda.NewListFunctionsPaginator(e.AWS.Lambda, &lambda.ListFunctionsInput{})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, fn := range page.Functions {
				out, err := e.AWS.Lambda.ListTags(ctx, &lambda.ListTagsInput{Resource: fn.FunctionArn})
				if found, err := notFoundIsAbsent(err); err != nil {
					return nil, err
				} else if found && carriesTags(out.Tags, tags) {
					names = append(names, aws.ToString(fn.FunctionName))
				}
			}
		}
		sort.Strings(names)
		return names, nil
	},
	Delete: func(ctx context.Context, e *Env, id string) error {
		_, err := e.AWS.Lambda.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(id), StatementId: aws.String(carouselPermissionSid)})
		if err != nil && !awsx.IsNotFound(err) {
			return err
		}
		_, err = e.AWS.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(id)})
		return err
	},
})

// iamRoleKind is an IAM role; its id is the role name. Only roles under the
// tool's path are swept, and (as for every kind) destroy deletes none that
// lacks the stack tag, so a role the user supplied is never touched.
var iamRoleKind = registerKind(&Kind{
	Type:   "iam:role",
	Lookup: lookupRole,
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		if name := tags[awsx.TagName]; name != "" {
			return lookupByName(ctx, e, lookupRole, name, tags)
		}
		var names []string
		pages := iam.NewListRolesPaginator(e.AWS.IAM, &iam.ListRolesInput{PathPrefix: aws.String(rolePath)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, role := range page.Roles {
				// ListRoles returns no tags.
				out, err := e.AWS.IAM.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: role.RoleName})
				if found, err := notFoundIsAbsent(err); err != nil {
					return nil, err
				} else if found && carriesTags(awsx.IAMTagMap(out.Tags), tags) {
					names = append(names, aws.ToString(role.RoleName))
				}
			}
		}
		sort.Strings(names)
		return names, nil
	},
	Delete: deleteRole,
})

// rolePath is where the tool creates IAM roles, so a sweep lists only those.
const rolePath = "/myappctl/"

// deleteRole removes what IAM requires first: inline and attached policies.
func deleteRole(ctx context.Context, e *Env, name string) error {
	inline := iam.NewListRolePoliciesPaginator(e.AWS.IAM, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	for inline.HasMorePages() {
		page, err := inline.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, p := range page.PolicyNames {
			_, err := e.AWS.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(p)})
			if err != nil && !awsx.IsNotFound(err) {
				return err
			}
		}
	}
	attached := iam.NewListAttachedRolePoliciesPaginator(e.AWS.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, p := range page.AttachedPolicies {
			_, err := e.AWS.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: p.PolicyArn})
			if err != nil && !awsx.IsNotFound(err) {
				return err
			}
		}
	}
	_, err := e.AWS.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
	return err
}

func lookupFunction(ctx context.Context, e *Env, name string) (awsx.Tags, bool, error) {
	out, err := e.AWS.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if found, err := notFoundIsAbsent(err); !found || err != nil {
		return nil, false, err
	}
	return awsx.Tags(out.Tags), true, nil
}

func lookupRole(ctx context.Context, e *Env, name string) (awsx.Tags, bool, error) {
	out, err := e.AWS.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if found, err := notFoundIsAbsent(err); !found || err != nil {
		return nil, false, err
	}
	return awsx.IAMTagMap(out.Role.Tags), true, nil
}

// lookupByName finds a resource whose name is its id when it carries the tags.
func lookupByName(ctx context.Context, e *Env, lookup func(context.Context, *Env, string) (awsx.Tags, bool, error), name string, tags awsx.Tags) ([]string, error) {
	have, found, err := lookup(ctx, e, name)
	if err != nil || !found || !carriesTags(have, tags) {
		return nil, err
	}
	return []string{name}, nil
}

// carriesTags reports whether have holds every tag of want.
func carriesTags(have map[string]string, want awsx.Tags) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
