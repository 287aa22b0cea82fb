package fakeaws

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/myappctl/myappctl/internal/awsx"
)

const ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// instanceRole makes a role trusted by EC2 with an inline policy, and a
// profile of the same name holding it.
func instanceRole(t *testing.T, f *IAM, name, policy string) {
	t.Helper()
	if _, err := f.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(ec2Trust)}); err != nil {
		t.Fatal(err)
	}
	if policy != "" {
		if _, err := f.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

func TestInstanceProfileLifecycle(t *testing.T) {
	f := NewIAM(NewCore())
	profile, role := aws.String("myapp-frontend"), aws.String("myapp-frontend-role")
	if _, err := f.CreateRole(ctx, &iam.CreateRoleInput{RoleName: role, AssumeRolePolicyDocument: aws.String(ec2Trust)}); err != nil {
		t.Fatal(err)
	}
	in := &iam.CreateInstanceProfileInput{InstanceProfileName: profile, Path: aws.String("/myappctl/"), Tags: awsx.StackTags("s", "security", "frontend").IAM()}
	out, err := f.CreateInstanceProfile(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	p := out.InstanceProfile
	if aws.ToString(p.Arn) != "arn:aws:iam::"+Account+":instance-profile/myappctl/myapp-frontend" || len(p.Roles) != 0 || !awsx.IAMTagMap(p.Tags).OwnedBy("s") ||
		p.CreateDate == nil || aws.ToString(p.InstanceProfileId) == "" {
		t.Errorf("profile = %+v", p)
	}
	steps := []struct {
		name string
		call func() error
		code string
	}{
		{"again", func() error { _, err := f.CreateInstanceProfile(ctx, in); return err }, "EntityAlreadyExists"},
		{"bad name", func() error {
			_, err := f.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("a b")})
			return err
		}, "ValidationError"},
		{"bad path", func() error {
			_, err := f.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("x"), Path: aws.String("myappctl")})
			return err
		}, "ValidationError"},
		{"get unknown", func() error {
			_, err := f.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("nope")})
			return err
		}, "NoSuchEntity"},
		{"unknown role", func() error {
			_, err := f.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: profile, RoleName: aws.String("nope")})
			return err
		}, "NoSuchEntity"},
		{"unknown profile", func() error {
			_, err := f.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("nope"), RoleName: role})
			return err
		}, "NoSuchEntity"},
		{"add role", func() error {
			_, err := f.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: profile, RoleName: role})
			return err
		}, ""},
		{"a second role", func() error {
			_, err := f.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: profile, RoleName: role})
			return err
		}, "LimitExceeded"},
		{"delete the profile with its role", func() error {
			_, err := f.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: profile})
			return err
		}, "DeleteConflict"},
		{"delete the role in a profile", func() error { _, err := f.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role}); return err }, "DeleteConflict"},
		{"tag", func() error {
			_, err := f.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: profile, Tags: awsx.Tags{awsx.TagStep: "security2", "x": "y"}.IAM()})
			return err
		}, ""},
		{"reserved tag", func() error {
			_, err := f.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: profile, Tags: awsx.Tags{"aws:x": "y"}.IAM()})
			return err
		}, "InvalidInput"},
		{"remove a role it does not hold", func() error {
			_, err := f.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: profile, RoleName: aws.String("other")})
			return err
		}, "NoSuchEntity"},
	}
	for _, s := range steps {
		if err := s.call(); awsx.ErrorCode(err) != s.code {
			t.Fatalf("%s: err = %v, want %q", s.name, err, s.code)
		}
	}
	got, _ := f.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: profile})
	if r := got.InstanceProfile.Roles; len(r) != 1 || aws.ToString(r[0].RoleName) != *role || aws.ToString(r[0].Arn) == "" {
		t.Errorf("roles = %+v", r)
	}
	tags, _ := f.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: profile})
	if m := awsx.IAMTagMap(tags.Tags); len(m) != 4 || m[awsx.TagStep] != "security2" || m["x"] != "y" {
		t.Errorf("tags = %v", m)
	}
	forRole, _ := f.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: role})
	if len(forRole.InstanceProfiles) != 1 || aws.ToString(forRole.InstanceProfiles[0].InstanceProfileName) != *profile {
		t.Errorf("for role = %+v", forRole.InstanceProfiles)
	}
	_, err = f.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("nope")})
	wantCode(t, err, "NoSuchEntity")
	// Teardown in AWS's order: profile emptied and deleted, then the role.
	for _, call := range []func() error{
		func() error {
			_, err := f.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: profile, RoleName: role})
			return err
		},
		func() error {
			_, err := f.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: profile})
			return err
		},
		func() error { _, err := f.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role}); return err },
	} {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.InstanceProfileNames())+len(f.RoleNames()) != 0 {
		t.Errorf("left: %v %v", f.InstanceProfileNames(), f.RoleNames())
	}
}

func TestListInstanceProfilesPagesByPath(t *testing.T) {
	f := NewIAM(NewCore())
	for i := range 7 {
		path := map[bool]string{true: "/myappctl/", false: "/other/"}[i%2 == 0]
		if _, err := f.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(fmt.Sprint("p", i)), Path: aws.String(path)}); err != nil {
			t.Fatal(err)
		}
	}
	f.AddInstanceProfile("LabInstanceProfile", "")
	var got []string
	pages := 0
	for p := iam.NewListInstanceProfilesPaginator(f, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/myappctl/"), MaxItems: aws.Int32(3)}); p.HasMorePages(); pages++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ip := range out.InstanceProfiles {
			got = append(got, aws.ToString(ip.InstanceProfileName))
			if len(ip.Tags) != 0 {
				t.Error("ListInstanceProfiles returns tags")
			}
		}
	}
	if !slices.Equal(got, []string{"p0", "p2", "p4", "p6"}) || pages != 2 {
		t.Errorf("got %v in %d pages", got, pages)
	}
	all, _ := f.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	if len(all.InstanceProfiles) != 8 || all.IsTruncated {
		t.Errorf("all: %d", len(all.InstanceProfiles))
	}
	_, err := f.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{MaxItems: aws.Int32(0)})
	wantCode(t, err, "ValidationError")
}
