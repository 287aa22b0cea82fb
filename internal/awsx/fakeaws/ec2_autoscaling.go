package fakeaws

import (
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Hooks the Auto Scaling fake uses to launch, watch and end the instances of
// its groups. Each takes the EC2 lock; Auto Scaling calls them holding its
// own lock, and EC2 never calls Auto Scaling, so the order is fixed.

// templateRef names a launch template version as a group does.
type templateRef struct {
	id, name, version string // version: a number, $Default or $Latest
}

// resolveTemplate returns the template's id and the number of the version,
// once its instance profile (if any) is one EC2 can use, as Auto Scaling
// checks when a group is given a template.
func (f *EC2) resolveTemplate(ref templateRef) (id, version string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, v, err := f.templateVersion(ref)
	if err != nil {
		return "", "", err
	}
	if p := t.versions[v-1].LaunchTemplateData.IamInstanceProfile; p != nil {
		if _, err := f.instanceProfile(aws.ToString(p.Name), aws.ToString(p.Arn)); err != nil {
			return "", "", err
		}
	}
	return aws.ToString(t.lt.LaunchTemplateId), strconv.FormatInt(v, 10), nil
}

func (f *EC2) templateVersion(ref templateRef) (*fakeLaunchTemplate, int64, error) {
	var id, name *string
	if ref.id != "" {
		id = aws.String(ref.id)
	} else {
		name = aws.String(ref.name)
	}
	t, err := f.template(id, name)
	if err != nil {
		return nil, 0, err
	}
	v := ref.version
	if v == "" {
		v = "$Default"
	}
	n, err := t.versionNumber(v)
	return t, n, err
}

// launchFromTemplate starts an instance from a template version in a
// subnet. groupTags are added to the instance and win over the template's
// instance tags with the same key, as in AWS.
func (f *EC2) launchFromTemplate(ref templateRef, subnet string, groupTags []types.Tag) (id, version string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, n, err := f.templateVersion(ref)
	if err != nil {
		return "", "", err
	}
	d := t.versions[n-1].LaunchTemplateData
	in := &ec2.RunInstancesInput{ImageId: d.ImageId, InstanceType: d.InstanceType, KeyName: d.KeyName, SubnetId: aws.String(subnet),
		SecurityGroupIds: d.SecurityGroupIds, UserData: d.UserData, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
	if p := d.IamInstanceProfile; p != nil {
		in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: p.Name, Arn: p.Arn}
	}
	if m := d.MetadataOptions; m != nil {
		in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensState(m.HttpTokens),
			HttpPutResponseHopLimit: m.HttpPutResponseHopLimit, HttpEndpoint: types.InstanceMetadataEndpointState(m.HttpEndpoint)}
	}
	instanceTags := groupTags
	for _, s := range d.TagSpecifications {
		switch s.ResourceType {
		case types.ResourceTypeInstance:
			instanceTags = mergeEC2Tags(s.Tags, groupTags)
		case types.ResourceTypeVolume:
			in.TagSpecifications = append(in.TagSpecifications, types.TagSpecification{ResourceType: s.ResourceType, Tags: s.Tags})
		}
	}
	in.TagSpecifications = append(in.TagSpecifications, types.TagSpecification{ResourceType: types.ResourceTypeInstance, Tags: instanceTags})
	fi, err := f.launch(in)
	if err != nil {
		return "", "", err
	}
	return aws.ToString(fi.inst.InstanceId), strconv.FormatInt(n, 10), nil
}

// mergeEC2Tags adds or replaces tags by key.
func mergeEC2Tags(have, add []types.Tag) []types.Tag {
	out := slices.Clone(have)
	for _, t := range add {
		i := slices.IndexFunc(out, func(o types.Tag) bool { return aws.ToString(o.Key) == aws.ToString(t.Key) })
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	return out
}

// tickInstances lets time pass for instances (a pending one starts, a
// shutting-down one ends, as a describe would) and returns their states;
// ids the fake does not know are absent.
func (f *EC2) tickInstances(ids []string) map[string]types.InstanceStateName {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]types.InstanceStateName{}
	for _, id := range ids {
		if fi, ok := f.compute().instances[id]; ok {
			f.advance(fi)
			out[id] = fi.inst.State.Name
		}
	}
	return out
}

// terminate ends instances as TerminateInstances does.
func (f *EC2) terminate(ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		fi, ok := f.compute().instances[id]
		if ok && fi.inst.State.Name != types.InstanceStateNameTerminated && fi.inst.State.Name != types.InstanceStateNameShuttingDown {
			f.setState(fi, types.InstanceStateNameShuttingDown)
		}
	}
}

// templateName returns a launch template's name ("" when it is gone).
func (f *EC2) templateName(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.compute().templates[id]; ok {
		return aws.ToString(t.lt.LaunchTemplateName)
	}
	return ""
}
