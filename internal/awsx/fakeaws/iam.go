package fakeaws

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// IAM is the fake IAM service (global: one account's roles).
type IAM struct {
	awsx.IAMAPI
	*Core
	// PropagationCalls is how many CreateFunction (or role-changing
	// UpdateFunctionConfiguration) calls a new role is refused by Lambda
	// before it can be assumed, as while a real role propagates; 0 means at once.
	PropagationCalls int
	// ProfilePropagationCalls is how many times EC2 does not find a new
	// instance profile yet — RunInstances, a launch from a launch template
	// (an Auto Scaling group's), an Auto Scaling group checking its
	// template — as for several seconds after CreateInstanceProfile in AWS
	// ("Invalid IAM Instance Profile name"); 0 (the default) means at once.
	ProfilePropagationCalls int

	mu       sync.Mutex
	roles    map[string]*fakeRole
	profiles map[string]*fakeProfile // instance profiles by name (iam_profiles.go)
	managed  map[string]string       // managed policy documents the fake knows, by ARN (iam_eval.go)
}

type fakeRole struct {
	role     types.Role
	trust    string
	tags     []types.Tag
	inline   map[string]string
	attached map[string]string // policy ARN -> name
	// unassumable counts the Lambda calls still to refuse.
	unassumable int
}

// NewIAM returns an empty fake IAM.
func NewIAM(core *Core) *IAM {
	return &IAM{Core: core, roles: map[string]*fakeRole{}, profiles: map[string]*fakeProfile{}, managed: map[string]string{}}
}

var roleNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// encodePolicy is how IAM returns policy documents: URL-encoded JSON.
func encodePolicy(doc string) *string { return aws.String(url.QueryEscape(doc)) }

func validPolicy(doc string) error {
	var v map[string]any
	if err := json.Unmarshal([]byte(doc), &v); err != nil || v["Statement"] == nil {
		return APIError("MalformedPolicyDocument", "Syntax errors in policy.")
	}
	return nil
}

func (f *IAM) role(name *string) (*fakeRole, error) {
	r, ok := f.roles[aws.ToString(name)]
	if !ok {
		return nil, APIError("NoSuchEntity", "The role with name %s cannot be found.", aws.ToString(name))
	}
	return r, nil
}

func (f *IAM) CreateRole(ctx context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	fault, err := f.begin(ctx, "CreateRole")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name, path := aws.ToString(in.RoleName), aws.ToString(in.Path)
	if path == "" {
		path = "/"
	}
	switch {
	case !roleNamePattern.MatchString(name):
		return nil, APIError("ValidationError", "1 validation error detected: Value '%s' at 'roleName' failed to satisfy constraint", name)
	case !validIAMPath(path):
		return nil, APIError("ValidationError", "The specified value for path is invalid: it must begin and end with /.")
	case f.roles[name] != nil:
		return nil, APIError("EntityAlreadyExists", "Role with name %s already exists.", name)
	}
	trust := aws.ToString(in.AssumeRolePolicyDocument)
	if err := validPolicy(trust); err != nil {
		return nil, err
	}
	r := &fakeRole{trust: trust, tags: in.Tags, inline: map[string]string{}, attached: map[string]string{}, unassumable: f.PropagationCalls}
	r.role = types.Role{RoleName: aws.String(name), Path: aws.String(path), RoleId: aws.String("AROA" + strings.ToUpper(newID("r")[2:])),
		Arn: aws.String("arn:aws:iam::" + Account + ":role" + path + name), CreateDate: aws.Time(iamNow()),
		Description: in.Description, MaxSessionDuration: aws.Int32(3600)}
	f.roles[name] = r
	return finish(&iam.CreateRoleOutput{Role: r.view(true)}, nil, fault)
}

// validIAMPath: / alone, or one that begins and ends with / (at most 512
// characters, no *).
func validIAMPath(path string) bool {
	return strings.HasPrefix(path, "/") && strings.HasSuffix(path, "/") && len(path) <= 512 && !strings.Contains(path, "*")
}

// view is the role as IAM returns it; ListRoles omits the tags.
func (r *fakeRole) view(withTags bool) *types.Role {
	out := r.role
	out.AssumeRolePolicyDocument = encodePolicy(r.trust)
	if withTags {
		out.Tags = append([]types.Tag(nil), r.tags...)
	}
	return &out
}

func (f *IAM) GetRole(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	fault, err := f.begin(ctx, "GetRole")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	return finish(&iam.GetRoleOutput{Role: r.view(true)}, nil, fault)
}

// ListRoles pages by MaxItems (default 100) in name order; like IAM, it
// returns no tags.
func (f *IAM) ListRoles(ctx context.Context, in *iam.ListRolesInput, _ ...func(*iam.Options)) (*iam.ListRolesOutput, error) {
	fault, err := f.begin(ctx, "ListRoles")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	page, err := iamPage(f.roles, in.Marker, in.MaxItems, func(r *fakeRole) bool {
		return strings.HasPrefix(aws.ToString(r.role.Path), aws.ToString(in.PathPrefix))
	})
	if err != nil {
		return nil, err
	}
	out := &iam.ListRolesOutput{IsTruncated: page.truncated, Marker: page.marker}
	for _, n := range page.names {
		out.Roles = append(out.Roles, *f.roles[n].view(false))
	}
	return finish(out, nil, fault)
}

func pageLimit(maxItems *int32, def int) int {
	if n := int(aws.ToInt32(maxItems)); n > 0 {
		return n
	}
	return def
}

// namePage is one page of an IAM listing: names in order, and the marker
// of the next page when truncated.
type namePage struct {
	names     []string
	truncated bool
	marker    *string
}

// iamPage pages the names of the entities that keep, after marker (the
// last name of the previous page), MaxItems (1 to 1000, default 100) at a time.
func iamPage[T any](all map[string]T, marker *string, maxItems *int32, keep func(T) bool) (namePage, error) {
	limit := 100
	if maxItems != nil {
		if limit = int(*maxItems); limit < 1 || limit > 1000 {
			return namePage{}, APIError("ValidationError", "1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", limit)
		}
	}
	var page namePage
	for _, n := range sortedKeys(all) {
		if n > aws.ToString(marker) && keep(all[n]) {
			page.names = append(page.names, n)
		}
	}
	if len(page.names) > limit {
		page.names = page.names[:limit]
		page.truncated, page.marker = true, aws.String(page.names[limit-1])
	}
	return page, nil
}

func (f *IAM) ListRoleTags(ctx context.Context, in *iam.ListRoleTagsInput, _ ...func(*iam.Options)) (*iam.ListRoleTagsOutput, error) {
	fault, err := f.begin(ctx, "ListRoleTags")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	return finish(&iam.ListRoleTagsOutput{Tags: append([]types.Tag(nil), r.tags...)}, nil, fault)
}

func (f *IAM) UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	fault, err := f.begin(ctx, "UpdateAssumeRolePolicy")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	if err := validPolicy(aws.ToString(in.PolicyDocument)); err != nil {
		return nil, err
	}
	r.trust = aws.ToString(in.PolicyDocument)
	return finish(&iam.UpdateAssumeRolePolicyOutput{}, nil, fault)
}

// DeleteRole refuses while the role is in an instance profile or still has
// policies, attached or inline, as IAM does.
func (f *IAM) DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	fault, err := f.begin(ctx, "DeleteRole")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	for _, p := range f.profiles {
		if p.role == aws.ToString(in.RoleName) {
			return nil, APIError("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
		}
	}
	if len(r.inline) > 0 || len(r.attached) > 0 {
		return nil, APIError("DeleteConflict", "Cannot delete entity, must delete policies first.")
	}
	delete(f.roles, aws.ToString(in.RoleName))
	return finish(&iam.DeleteRoleOutput{}, nil, fault)
}

// AddRole creates a role outside the tool (untagged), e.g. a lab's LabRole
// trusted by service, and returns its ARN. It is not logged as a call.
func (f *IAM) AddRole(name, service string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":"sts:AssumeRole"}]}`
	arn := "arn:aws:iam::" + Account + ":role/" + name
	f.roles[name] = &fakeRole{trust: trust, inline: map[string]string{}, attached: map[string]string{},
		role: types.Role{RoleName: aws.String(name), Path: aws.String("/"), Arn: aws.String(arn), RoleId: aws.String("AROA" + name), CreateDate: aws.Time(iamNow())}}
	return arn
}

// RoleNames lists the roles, for assertions.
func (f *IAM) RoleNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.roles {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// lambdaCanAssume reports whether Lambda may assume the role with this ARN:
// it exists, trusts lambda.amazonaws.com and has propagated. Each refusal of
// a fresh role counts towards its propagation.
func (f *IAM) lambdaCanAssume(arn string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.roles {
		if aws.ToString(r.role.Arn) != arn {
			continue
		}
		if !trusts(r.trust, "lambda.amazonaws.com") {
			return false
		}
		if r.unassumable > 0 {
			r.unassumable--
			return false
		}
		return true
	}
	return false
}

// trusts reports whether a trust policy lets service assume the role.
func trusts(doc, service string) bool {
	var p struct {
		Statement []struct {
			Effect    string
			Action    stringOrList
			Principal struct{ Service stringOrList }
		}
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return false
	}
	for _, s := range p.Statement {
		if s.Effect == "Allow" && s.Action.has("sts:AssumeRole") && s.Principal.Service.has(service) {
			return true
		}
	}
	return false
}

// stringOrList is an IAM policy field that may be one string or a list.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	err := json.Unmarshal(b, &many)
	*s = many
	return err
}

func (s stringOrList) has(v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// iamNow is the time IAM records: whole seconds, as it reports them.
func iamNow() time.Time { return time.Now().UTC().Truncate(time.Second) }
