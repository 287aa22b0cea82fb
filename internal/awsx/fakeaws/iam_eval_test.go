package fakeaws

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// tierPolicy is a least-privilege instance policy of a tier, as stage
// security would write it: its settings path (the path itself, which
// GetParametersByPath is authorized against, and what is below it), its
// release objects, its reports.
func tierPolicy(tier string) string {
	path := "arn:aws:ssm:us-east-1:" + Account + ":parameter/myappctl/s/" + tier
	return `{"Version":"2012-10-17","Statement":[
	{"Effect":"Allow","Action":["ssm:GetParametersByPath","ssm:GetParameters"],"Resource":["` + path + `","` + path + `/*"]},
	{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::artifacts-s/releases/` + tier + `/*"},
	{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::artifacts-s/reports/` + tier + `/i-*.json"}]}`
}

func TestAllowedEvaluatesInstanceRoles(t *testing.T) {
	f := NewIAM(NewCore())
	instanceRole(t, f, "s-frontend", tierPolicy("frontend"))
	instanceRole(t, f, "s-backend", tierPolicy("backend"))
	f.AddInstanceProfile("empty", "")
	backendPath := ParameterARN("us-east-1", "/myappctl/s/backend")
	for _, c := range []struct {
		principal, action, resource string
		want                        bool
	}{
		{"s-backend", "ssm:GetParametersByPath", backendPath, true},
		{"s-backend", "ssm:GetParametersByPath", ParameterARN("us-east-1", "/myappctl/s/backend/"), true},
		{"s-backend", "ssm:GetParameters", ParameterARN("us-east-1", "/myappctl/s/backend/DBPASSWORD"), true},
		{"s-backend", "SSM:getParametersByPath", backendPath, true}, // actions are case-insensitive
		{"s-frontend", "ssm:GetParametersByPath", backendPath, false},
		{"s-frontend", "ssm:GetParametersByPath", ParameterARN("us-east-1", "/myappctl/s/backend/"), false},
		{"s-frontend", "ssm:GetParametersByPath", ParameterARN("us-east-1", "/myappctl/s"), false}, // a parent path would read every tier
		{"s-frontend", "ssm:GetParametersByPath", ParameterARN("us-east-1", "/myappctl/s/frontend"), true},
		{"s-frontend", "ssm:GetParametersByPath", ParameterARN("us-east-1", "/myappctl/s/frontendx"), false},
		{"s-frontend", "ssm:GetParametersByPath", ParameterARN("eu-west-1", "/myappctl/s/frontend"), false},
		{"s-frontend", "ssm:PutParameter", ParameterARN("us-east-1", "/myappctl/s/frontend/APIURL"), false},
		{"s-frontend", "s3:GetObject", "arn:aws:s3:::artifacts-s/releases/frontend/3f2a9c1/myapp-frontend", true},
		{"s-frontend", "s3:GetObject", "arn:aws:s3:::artifacts-s/releases/backend/3f2a9c1/myapp-backend", false},
		{"s-frontend", "s3:PutObject", "arn:aws:s3:::artifacts-s/reports/frontend/i-0abc.json", true},
		{"s-frontend", "s3:PutObject", "arn:aws:s3:::artifacts-s/reports/backend/i-0abc.json", false},
		{"s-frontend", "s3:PutObject", "arn:aws:s3:::artifacts-s/reports/frontend/x-0abc.json", false},
		{"s-frontend", "s3:DeleteObject", "arn:aws:s3:::artifacts-s/reports/frontend/i-0abc.json", false},
		// By the profile's ARN, and the role's.
		{"arn:aws:iam::" + Account + ":instance-profile/s-backend", "ssm:GetParametersByPath", backendPath, true},
		{"arn:aws:iam::" + Account + ":role/s-frontend", "ssm:GetParametersByPath", backendPath, false},
		{"empty", "ssm:GetParametersByPath", backendPath, false},
	} {
		got, err := f.Allowed(c.principal, c.action, c.resource)
		if err != nil || got != c.want {
			t.Errorf("%s %s %s = %v, %v; want %v", c.principal, c.action, c.resource, got, err, c.want)
		}
	}
}

func TestAllowedDenyWildcardsAndWhatItCannotTell(t *testing.T) {
	for _, c := range []struct {
		name, policy, action, resource string
		want                           bool
		err                            string
	}{
		{"star action", `{"Statement":{"Effect":"Allow","Action":"ssm:*","Resource":"*"}}`, "ssm:DeleteParameter", "arn:x", true, ""},
		{"question mark", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/v?/*"}]}`, "s3:GetObject", "arn:aws:s3:::b/v1/k", true, ""},
		{"question mark is one character", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/v?/*"}]}`, "s3:GetObject", "arn:aws:s3:::b/v12/k", false, ""},
		{"resources match exactly", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::B/*"}]}`, "s3:GetObject", "arn:aws:s3:::b/k", false, ""},
		{"deny wins", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ssm:GetParameter*","Resource":"*"}]}`,
			"ssm:GetParametersByPath", "arn:x", false, ""},
		{"implicit deny", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, "s3:PutObject", "arn:x", false, ""},
		{"condition", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`, "s3:GetObject", "arn:x", false, "Condition"},
		{"not action", `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`, "s3:GetObject", "arn:x", false, "NotAction"},
		{"variable", `{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/${aws:userid}"}]}`, "s3:PutObject", "arn:x", false, "policy variable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := NewIAM(NewCore())
			instanceRole(t, f, "r", c.policy)
			got, err := f.Allowed("r", c.action, c.resource)
			if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
				t.Errorf("= %v, %v; want %v, error with %q", got, err, c.want, c.err)
			}
		})
	}
}

func TestAllowedReadsManagedPoliciesItKnows(t *testing.T) {
	f := NewIAM(NewCore())
	instanceRole(t, f, "r", "")
	arn := "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"
	if _, err := f.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Allowed("r", "ssm:GetParametersByPath", "arn:x"); err == nil || !strings.Contains(err.Error(), arn) {
		t.Errorf("an unknown managed policy: %v", err)
	}
	if err := f.AddManagedPolicy(arn, `{"Statement":[{"Effect":"Allow","Action":["ssm:Describe*","ssm:Get*","ssm:List*"],"Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.Allowed("r", "ssm:GetParametersByPath", "arn:x"); !ok || err != nil {
		t.Errorf("= %v, %v", ok, err)
	}
	if _, err := f.Allowed("nobody", "ssm:GetParametersByPath", "arn:x"); err == nil {
		t.Error("an unknown principal is no error")
	}
}
