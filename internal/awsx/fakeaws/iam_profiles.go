package fakeaws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// fakeProfile is an instance profile: at most one role, and tags.
type fakeProfile struct {
	p    types.InstanceProfile // name, id, ARN, path, creation time
	role string                // the role's name; "" when it holds none
	tags awsx.Tags
	// unseen counts the EC2 lookups still to fail while it propagates.
	unseen int
}

func (f *IAM) profile(name *string) (*fakeProfile, error) {
	p, ok := f.profiles[aws.ToString(name)]
	if !ok {
		return nil, APIError("NoSuchEntity", "Instance Profile %s cannot be found.", aws.ToString(name))
	}
	return p, nil
}

// view is the profile as IAM returns it: with its role, and (but for
// listings) its tags.
func (f *IAM) profileView(p *fakeProfile, withTags bool) types.InstanceProfile {
	out := p.p
	out.Roles = []types.Role{}
	if r, ok := f.roles[p.role]; ok {
		out.Roles = append(out.Roles, *r.view(false))
	}
	if withTags {
		out.Tags = p.tags.IAM()
	}
	return out
}

// CreateInstanceProfile makes an empty instance profile, tagged in the call.
func (f *IAM) CreateInstanceProfile(ctx context.Context, in *iam.CreateInstanceProfileInput, _ ...func(*iam.Options)) (*iam.CreateInstanceProfileOutput, error) {
	fault, err := f.begin(ctx, "CreateInstanceProfile")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name, path := aws.ToString(in.InstanceProfileName), aws.ToString(in.Path)
	if path == "" {
		path = "/"
	}
	switch {
	case !roleNamePattern.MatchString(name) || len(name) > 128:
		return nil, APIError("ValidationError", "1 validation error detected: Value '%s' at 'instanceProfileName' failed to satisfy constraint", name)
	case !validIAMPath(path):
		return nil, APIError("ValidationError", "The specified value for path is invalid: it must begin and end with /.")
	case f.profiles[name] != nil:
		return nil, APIError("EntityAlreadyExists", "Instance Profile %s already exists.", name)
	}
	tags, err := mergeTags(awsx.Tags{}, awsx.IAMTagMap(in.Tags), iamTagCodes)
	if err != nil {
		return nil, err
	}
	p := &fakeProfile{tags: tags, unseen: f.ProfilePropagationCalls,
		p: types.InstanceProfile{InstanceProfileName: aws.String(name), Path: aws.String(path), CreateDate: aws.Time(iamNow()),
			InstanceProfileId: aws.String("AIPA" + strings.ToUpper(newID("p")[2:])),
			Arn:               aws.String("arn:aws:iam::" + Account + ":instance-profile" + path + name)}}
	f.profiles[name] = p
	view := f.profileView(p, true)
	return finish(&iam.CreateInstanceProfileOutput{InstanceProfile: &view}, nil, fault)
}

func (f *IAM) GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, _ ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error) {
	fault, err := f.begin(ctx, "GetInstanceProfile")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.profile(in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	view := f.profileView(p, true)
	return finish(&iam.GetInstanceProfileOutput{InstanceProfile: &view}, nil, fault)
}

// AddRoleToInstanceProfile puts a role in a profile, which holds one at most.
func (f *IAM) AddRoleToInstanceProfile(ctx context.Context, in *iam.AddRoleToInstanceProfileInput, _ ...func(*iam.Options)) (*iam.AddRoleToInstanceProfileOutput, error) {
	fault, err := f.begin(ctx, "AddRoleToInstanceProfile")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.profile(in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	if _, err := f.role(in.RoleName); err != nil {
		return nil, err
	}
	if p.role != "" {
		return nil, APIError("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	}
	p.role = aws.ToString(in.RoleName)
	return finish(&iam.AddRoleToInstanceProfileOutput{}, nil, fault)
}

func (f *IAM) RemoveRoleFromInstanceProfile(ctx context.Context, in *iam.RemoveRoleFromInstanceProfileInput, _ ...func(*iam.Options)) (*iam.RemoveRoleFromInstanceProfileOutput, error) {
	fault, err := f.begin(ctx, "RemoveRoleFromInstanceProfile")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.profile(in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	if _, err := f.role(in.RoleName); err != nil {
		return nil, err
	}
	if p.role != aws.ToString(in.RoleName) {
		return nil, APIError("NoSuchEntity", "The role %s is not in the instance profile %s.", aws.ToString(in.RoleName), aws.ToString(in.InstanceProfileName))
	}
	p.role = ""
	return finish(&iam.RemoveRoleFromInstanceProfileOutput{}, nil, fault)
}

// DeleteInstanceProfile refuses while the profile holds a role, as IAM does.
func (f *IAM) DeleteInstanceProfile(ctx context.Context, in *iam.DeleteInstanceProfileInput, _ ...func(*iam.Options)) (*iam.DeleteInstanceProfileOutput, error) {
	fault, err := f.begin(ctx, "DeleteInstanceProfile")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.profile(in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	if p.role != "" {
		return nil, APIError("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
	}
	delete(f.profiles, aws.ToString(in.InstanceProfileName))
	return finish(&iam.DeleteInstanceProfileOutput{}, nil, fault)
}

// ListInstanceProfiles pages by MaxItems (default 100) in name order; like
// IAM, it returns no tags.
func (f *IAM) ListInstanceProfiles(ctx context.Context, in *iam.ListInstanceProfilesInput, _ ...func(*iam.Options)) (*iam.ListInstanceProfilesOutput, error) {
	fault, err := f.begin(ctx, "ListInstanceProfiles")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	profiles, page, err := f.listProfiles(in.Marker, in.MaxItems, func(p *fakeProfile) bool {
		return strings.HasPrefix(aws.ToString(p.p.Path), aws.ToString(in.PathPrefix))
	})
	if err != nil {
		return nil, err
	}
	return finish(&iam.ListInstanceProfilesOutput{InstanceProfiles: profiles, IsTruncated: page.truncated, Marker: page.marker}, nil, fault)
}

// ListInstanceProfilesForRole lists the profiles that hold a role.
func (f *IAM) ListInstanceProfilesForRole(ctx context.Context, in *iam.ListInstanceProfilesForRoleInput, _ ...func(*iam.Options)) (*iam.ListInstanceProfilesForRoleOutput, error) {
	fault, err := f.begin(ctx, "ListInstanceProfilesForRole")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.role(in.RoleName); err != nil {
		return nil, err
	}
	profiles, page, err := f.listProfiles(in.Marker, in.MaxItems, func(p *fakeProfile) bool { return p.role == aws.ToString(in.RoleName) })
	if err != nil {
		return nil, err
	}
	return finish(&iam.ListInstanceProfilesForRoleOutput{InstanceProfiles: profiles, IsTruncated: page.truncated, Marker: page.marker}, nil, fault)
}

// listProfiles is a page of the profiles that keep, as listings show
// them (without tags). Callers hold f.mu.
func (f *IAM) listProfiles(marker *string, maxItems *int32, keep func(*fakeProfile) bool) ([]types.InstanceProfile, namePage, error) {
	page, err := iamPage(f.profiles, marker, maxItems, keep)
	if err != nil {
		return nil, page, err
	}
	var out []types.InstanceProfile
	for _, n := range page.names {
		out = append(out, f.profileView(f.profiles[n], false))
	}
	return out, page, nil
}

func (f *IAM) ListInstanceProfileTags(ctx context.Context, in *iam.ListInstanceProfileTagsInput, _ ...func(*iam.Options)) (*iam.ListInstanceProfileTagsOutput, error) {
	fault, err := f.begin(ctx, "ListInstanceProfileTags")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.profile(in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	return finish(&iam.ListInstanceProfileTagsOutput{Tags: p.tags.IAM()}, nil, fault)
}

// TagInstanceProfile adds or replaces tags.
func (f *IAM) TagInstanceProfile(ctx context.Context, in *iam.TagInstanceProfileInput, _ ...func(*iam.Options)) (*iam.TagInstanceProfileOutput, error) {
	fault, err := f.begin(ctx, "TagInstanceProfile")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.profile(in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	tags, err := mergeTags(p.tags, awsx.IAMTagMap(in.Tags), iamTagCodes)
	if err != nil {
		return nil, err
	}
	p.tags = tags
	return finish(&iam.TagInstanceProfileOutput{}, nil, fault)
}

// AddInstanceProfile creates an instance profile outside the tool
// (untagged, visible to EC2 at once) holding role (none when ""), e.g. a
// lab's LabInstanceProfile with LabRole, and returns its ARN. It is not
// logged as a call.
func (f *IAM) AddInstanceProfile(name, role string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	arn := "arn:aws:iam::" + Account + ":instance-profile/" + name
	f.profiles[name] = &fakeProfile{role: role, tags: awsx.Tags{}, p: types.InstanceProfile{InstanceProfileName: aws.String(name), Path: aws.String("/"),
		Arn: aws.String(arn), InstanceProfileId: aws.String("AIPA" + strings.ToUpper(name)), CreateDate: aws.Time(iamNow())}}
	return arn
}

// InstanceProfileNames lists the instance profiles, for assertions.
func (f *IAM) InstanceProfileNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sortedKeys(f.profiles)
}

// InstanceProfileRole returns the role an instance profile holds ("" for
// none; false when the profile does not exist).
func (f *IAM) InstanceProfileRole(name string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.profiles[name]
	if !ok {
		return "", false
	}
	return p.role, true
}

// instanceProfileForEC2 is EC2's view of an instance profile, by name or
// ARN: its ARN and id, or false while it does not exist, or has not yet
// propagated (each such miss counts towards its propagation).
func (f *IAM) instanceProfileForEC2(name, arn string) (profileARN, id string, found bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if name == "" && arn == "" {
		return "", "", false
	}
	for _, p := range f.profiles {
		if name != "" && aws.ToString(p.p.InstanceProfileName) != name || arn != "" && aws.ToString(p.p.Arn) != arn {
			continue
		}
		if p.unseen > 0 {
			p.unseen--
			return "", "", false
		}
		return aws.ToString(p.p.Arn), aws.ToString(p.p.InstanceProfileId), true
	}
	return "", "", false
}
