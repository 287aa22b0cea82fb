package fakeaws

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Tags of parameters, and what tests read of the fake.

// tagged finds the parameter a tagging call names (by name, as AWS wants
// for parameters).
func (f *SSM) tagged(rt types.ResourceTypeForTagging, id *string) (*fakeParameter, error) {
	switch {
	case rt == types.ResourceTypeForTaggingParameter:
	case slices.Contains(rt.Values(), rt):
		return nil, APIError("InvalidResourceId", "The resource ID %q is not valid: the fake holds no %s resources.", aws.ToString(id), rt)
	default:
		return nil, APIError("InvalidResourceType", "The resource type %q is not valid.", rt)
	}
	p, ok := f.params[aws.ToString(id)]
	if !ok {
		return nil, APIError("InvalidResourceId", "The resource ID %q is not valid. Verify the ID and try again.", aws.ToString(id))
	}
	return p, nil
}

// AddTagsToResource adds or replaces a parameter's tags.
func (f *SSM) AddTagsToResource(ctx context.Context, in *ssm.AddTagsToResourceInput, _ ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error) {
	fault, err := f.begin(ctx, "AddTagsToResource")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.tagged(in.ResourceType, in.ResourceId)
	if err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, APIError("ValidationException", "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must not be null")
	}
	tags, err := mergeTags(p.tags, awsx.SSMTagMap(in.Tags), ssmTagCodes)
	if err != nil {
		return nil, err
	}
	p.tags = tags
	return finish(&ssm.AddTagsToResourceOutput{}, nil, fault)
}

// ListTagsForResource lists a parameter's tags (Name, stack, step first,
// then by key).
func (f *SSM) ListTagsForResource(ctx context.Context, in *ssm.ListTagsForResourceInput, _ ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error) {
	fault, err := f.begin(ctx, "ListTagsForResource")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.tagged(in.ResourceType, in.ResourceId)
	if err != nil {
		return nil, err
	}
	return finish(&ssm.ListTagsForResourceOutput{TagList: p.tags.SSM()}, nil, fault)
}

// RemoveTagsFromResource removes tags by key (keys it lacks are ignored).
func (f *SSM) RemoveTagsFromResource(ctx context.Context, in *ssm.RemoveTagsFromResourceInput, _ ...func(*ssm.Options)) (*ssm.RemoveTagsFromResourceOutput, error) {
	fault, err := f.begin(ctx, "RemoveTagsFromResource")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.tagged(in.ResourceType, in.ResourceId)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(p.tags, k)
	}
	return finish(&ssm.RemoveTagsFromResourceOutput{}, nil, fault)
}

// ---- for assertions ----

// ParameterState is a parameter as a test sees it: its plaintext value,
// type, key, version and tags.
type ParameterState struct {
	Name    string
	Type    types.ParameterType
	Value   string
	KeyID   string
	Version int64
	Tier    types.ParameterTier
	Tags    awsx.Tags
}

// Parameter returns a parameter's state (false when it does not exist).
// It is not logged as a call.
func (f *SSM) Parameter(name string) (ParameterState, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.params[name]
	if !ok {
		return ParameterState{}, false
	}
	tags := awsx.Tags{}
	for k, v := range p.tags {
		tags[k] = v
	}
	return ParameterState{Name: name, Type: p.meta.Type, Value: p.value, KeyID: aws.ToString(p.meta.KeyId), Version: p.meta.Version,
		Tier: p.meta.Tier, Tags: tags}, true
}

// ParameterNames lists every parameter, sorted.
func (f *SSM) ParameterNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sortedNames()
}

// Count returns how many parameters exist, for "destroy leaves nothing" checks.
func (f *SSM) Count() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return map[string]int{"parameter": len(f.params)}
}
