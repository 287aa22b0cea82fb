package awsx

import (
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Tag keys every resource carries.
const (
	TagName  = "Name"
	TagStack = "myappctl:stack"
	TagStep  = "myappctl:step"
	// TagRole says what a resource that belongs to no stack is for: the
	// shared state bucket carries myappctl:role=state and no stack tag, so
	// no destroy ever deletes it.
	TagRole = "myappctl:role"
)

// Tags is a resource's tag set.
type Tags map[string]string

// StackTags are the tags of a resource named name, made by step of stack.
func StackTags(stack, step, name string) Tags {
	return Tags{TagName: name, TagStack: stack, TagStep: step}
}

// EC2 converts to EC2 tags, in a stable order: Name, stack, step, then the
// others by key.
func (t Tags) EC2() []ec2types.Tag {
	out := make([]ec2types.Tag, 0, len(t))
	for _, k := range []string{TagName, TagStack, TagStep} {
		if v, ok := t[k]; ok {
			out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(t)) {
		if k != TagName && k != TagStack && k != TagStep {
			out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(t[k])})
		}
	}
	return out
}

// S3 converts to S3 tags, in the same stable order.
func (t Tags) S3() []s3types.Tag {
	out := make([]s3types.Tag, 0, len(t))
	for _, et := range t.EC2() {
		out = append(out, s3types.Tag{Key: et.Key, Value: et.Value})
	}
	return out
}

// EC2Spec is a TagSpecifications list tagging a resource type at creation.
func (t Tags) EC2Spec(rt ec2types.ResourceType) []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{ResourceType: rt, Tags: t.EC2()}}
}

// EC2TagMap reads EC2 tags into a map.
func EC2TagMap(tags []ec2types.Tag) Tags {
	m := Tags{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// OwnedBy reports whether tags mark a resource as created by stack. Nothing
// without this is ever deleted.
func (t Tags) OwnedBy(stack string) bool { return t[TagStack] == stack }

// EC2Filter is one DescribeX filter.
func EC2Filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

// StackFilters select resources of a stack (and, when name is set, of that Name).
func StackFilters(stack, name string) []ec2types.Filter {
	f := []ec2types.Filter{EC2Filter("tag:"+TagStack, stack)}
	if name != "" {
		f = append(f, EC2Filter("tag:"+TagName, name))
	}
	return f
}
