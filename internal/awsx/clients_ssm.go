package awsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSMAPI is the part of SSM Parameter Store myappctl calls: each tier's
// runtime settings live under /myappctl/<stack>/<tier>/. The SDK client and
// fakeaws.SSM both satisfy it.
type SSMAPI interface {
	PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	// GetParameters reads known names (up to 10); missing ones come back
	// as InvalidParameters, not an error: a parameter deleted by hand.
	GetParameters(context.Context, *ssm.GetParametersInput, ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
	GetParametersByPath(context.Context, *ssm.GetParametersByPathInput, ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
	DescribeParameters(context.Context, *ssm.DescribeParametersInput, ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error)
	DeleteParameter(context.Context, *ssm.DeleteParameterInput, ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
	// DeleteParameters deletes up to 10 names in one call (destroy).
	DeleteParameters(context.Context, *ssm.DeleteParametersInput, ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error)
	AddTagsToResource(context.Context, *ssm.AddTagsToResourceInput, ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
	ListTagsForResource(context.Context, *ssm.ListTagsForResourceInput, ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
	// RemoveTagsFromResource repairs tag drift (PutParameter cannot tag an
	// existing parameter).
	RemoveTagsFromResource(context.Context, *ssm.RemoveTagsFromResourceInput, ...func(*ssm.Options)) (*ssm.RemoveTagsFromResourceOutput, error)
}

// SSM converts to SSM tags, in a stable order.
func (t Tags) SSM() []ssmtypes.Tag {
	out := make([]ssmtypes.Tag, 0, len(t))
	for _, tag := range t.EC2() {
		out = append(out, ssmtypes.Tag{Key: tag.Key, Value: tag.Value})
	}
	return out
}

// SSMTagMap reads SSM tags into a map.
func SSMTagMap(tags []ssmtypes.Tag) Tags {
	m := Tags{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
