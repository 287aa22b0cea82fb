package steps

import (
	"context"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/myappctl/myappctl/internal/awsx"
)

// instanceProfileKind is an IAM instance profile the tool created (under
// rolePath), whose id is its name. Delete takes its roles out first, as IAM
// requires.
var instanceProfileKind = registerKind(&Kind{
	Type:   "iam:instance-profile",
	Lookup: lookupInstanceProfile,
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		if name := tags[awsx.TagName]; name != "" {
			return lookupByName(ctx, e, lookupInstanceProfile, name, tags)
		}
		var names []string
		pages := iam.NewListInstanceProfilesPaginator(e.AWS.IAM, &iam.ListInstanceProfilesInput{PathPrefix: aws.String(rolePath)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, p := range page.InstanceProfiles {
				// ListInstanceProfiles returns no tags.
				have, found, err := lookupInstanceProfile(ctx, e, aws.ToString(p.InstanceProfileName))
				if err != nil {
					return nil, err
				}
				if found && carriesTags(have, tags) {
					names = append(names, aws.ToString(p.InstanceProfileName))
				}
			}
		}
		sort.Strings(names)
		return names, nil
	},
	Delete: func(ctx context.Context, e *Env, name string) error {
		out, err := e.AWS.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
		if err != nil {
			return err
		}
		for _, role := range out.InstanceProfile.Roles {
			_, err := e.AWS.IAM.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: role.RoleName})
			if err != nil && !awsx.IsNotFound(err) {
				return err
			}
		}
		_, err = e.AWS.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(name)})
		return err
	},
})

func lookupInstanceProfile(ctx context.Context, e *Env, name string) (awsx.Tags, bool, error) {
	out, err := e.AWS.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if found, err := notFoundIsAbsent(err); !found || err != nil {
		return nil, false, err
	}
	return awsx.IAMTagMap(out.InstanceProfile.Tags), true, nil
}
