package steps

import (
	"context"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// parameterKind is an SSM parameter (a tier's runtime setting) whose id is
// its full name, /myappctl/<stack>/<tier>/<NAME>.
var parameterKind = registerKind(&Kind{
	Type: "ssm:parameter",
	Lookup: func(ctx context.Context, e *Env, name string) (awsx.Tags, bool, error) {
		out, err := e.AWS.SSM.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
			{Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{name}}}})
		if err != nil || len(out.Parameters) == 0 {
			return nil, false, err
		}
		tags, err := parameterTags(ctx, e, name)
		return tags, err == nil, err
	},
	// Exists needs no tags: a parameter of the stack's path is found in
	// the read of all the stack's settings the stages make anyway (one
	// cached read), any other by a describe of its name.
	Exists: func(ctx context.Context, e *Env, name string) (bool, error) {
		if root := settingsRoot(e.Cfg.Stack); strings.HasPrefix(name, root) {
			all, err := readStackSettings(ctx, e)
			if err != nil {
				return false, err
			}
			_, ok := all[name]
			return ok, nil
		}
		out, err := e.AWS.SSM.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
			{Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{name}}}})
		return err == nil && len(out.Parameters) > 0, err
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		var filters []ssmtypes.ParameterStringFilter
		for _, k := range sortedTagKeys(tags) {
			if k == awsx.TagName {
				filters = append(filters, ssmtypes.ParameterStringFilter{Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{tags[k]}})
				continue
			}
			filters = append(filters, ssmtypes.ParameterStringFilter{Key: aws.String("tag:" + k), Values: []string{tags[k]}})
		}
		var names []string
		pages := ssm.NewDescribeParametersPaginator(e.AWS.SSM, &ssm.DescribeParametersInput{ParameterFilters: filters})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, p := range page.Parameters {
				names = append(names, aws.ToString(p.Name))
			}
		}
		sort.Strings(names)
		return names, nil
	},
	Delete: func(ctx context.Context, e *Env, name string) error {
		_, err := e.AWS.SSM.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
		return err
	},
})

func parameterTags(ctx context.Context, e *Env, name string) (awsx.Tags, error) {
	out, err := e.AWS.SSM.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return awsx.SSMTagMap(out.TagList), nil
}

func sortedTagKeys(t awsx.Tags) []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
