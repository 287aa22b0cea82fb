package fakeaws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// A small evaluator of identity policies, so tests can prove least
// privilege: what a tier's instance role may read and write.
//
// It decides as IAM does for one principal's identity-based policies: an
// explicit Deny wins, else an Allow whose Action and Resource match grants,
// else the request is denied. Action and Resource may be one string or a
// list, with the wildcards * (any run of characters, "/" and ":"
// included) and ? (one character); actions match case-insensitively,
// resources exactly. What it cannot decide — Condition, NotAction,
// NotResource, policy variables (${aws:username}), a managed policy whose
// document it does not know — is an error, never a guess.
//
// Resources are the ARNs IAM authorizes against, which are not always the
// objects returned: s3:GetObject is authorized against
// arn:aws:s3:::bucket/key, but ssm:GetParametersByPath against the path
// in the request (arn:aws:ssm:<region>:<account>:parameter/myappctl/s/
// backend), not against the parameters it returns (AWS Systems Manager
// User Guide, "How Parameter Store authorizes parameter retrieval"): a
// principal allowed a path reads every parameter below it, whatever
// their own ARNs allow. ParameterARN builds both kinds.

// Allowed reports whether principal — a role, or an instance profile (its
// role), by name or ARN — may call action (s3:GetObject) on the resource
// ARN, by its inline policies and the attached managed policies the fake
// knows (AddManagedPolicy). An instance profile without a role may do
// nothing.
func (f *IAM) Allowed(principal, action, resource string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.principalRole(principal)
	if err != nil || r == nil {
		return false, err
	}
	var docs []string
	for _, doc := range r.inline {
		docs = append(docs, doc)
	}
	for arn := range r.attached {
		doc, ok := f.managed[arn]
		if !ok {
			return false, fmt.Errorf("fakeaws: the role %s has the managed policy %s attached, whose document the fake does not know (AddManagedPolicy)",
				aws.ToString(r.role.RoleName), arn)
		}
		docs = append(docs, doc)
	}
	allowed := false
	for _, doc := range docs {
		effect, err := evaluatePolicy(doc, action, resource)
		if err != nil {
			return false, fmt.Errorf("fakeaws: a policy of the role %s: %w", aws.ToString(r.role.RoleName), err)
		}
		switch effect {
		case "Deny":
			return false, nil
		case "Allow":
			allowed = true
		}
	}
	return allowed, nil
}

// principalRole finds a role by name or ARN, or the role of an instance
// profile (nil when it holds none). Callers hold f.mu.
func (f *IAM) principalRole(principal string) (*fakeRole, error) {
	if r, ok := f.roles[principal]; ok {
		return r, nil
	}
	for _, r := range f.roles {
		if aws.ToString(r.role.Arn) == principal {
			return r, nil
		}
	}
	for name, p := range f.profiles {
		if name == principal || aws.ToString(p.p.Arn) == principal {
			return f.roles[p.role], nil
		}
	}
	return nil, fmt.Errorf("fakeaws: no role or instance profile %q", principal)
}

// AddManagedPolicy tells the fake the document of a managed policy (by
// ARN), so that Allowed can evaluate roles it is attached to.
func (f *IAM) AddManagedPolicy(arn, doc string) error {
	if err := validPolicy(doc); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.managed[arn] = doc
	return nil
}

type policyStatement struct {
	Effect       string
	Action       stringOrList
	Resource     stringOrList
	NotAction    stringOrList
	NotResource  stringOrList
	Condition    json.RawMessage
	NotPrincipal json.RawMessage
}

// statements is a policy's Statement: one object or a list of them.
type statements []policyStatement

func (s *statements) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '{' {
		var one policyStatement
		err := json.Unmarshal(b, &one)
		*s = statements{one}
		return err
	}
	var many []policyStatement
	err := json.Unmarshal(b, &many)
	*s = many
	return err
}

// evaluatePolicy is one document's verdict on a request: "Deny", "Allow"
// or "" (it says nothing about it).
func evaluatePolicy(doc, action, resource string) (string, error) {
	var p struct{ Statement statements }
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return "", fmt.Errorf("not a policy document: %w", err)
	}
	verdict := ""
	for i, s := range p.Statement {
		switch {
		case len(s.Condition) > 0, len(s.NotAction) > 0, len(s.NotResource) > 0, len(s.NotPrincipal) > 0:
			return "", fmt.Errorf("statement %d uses Condition, NotAction, NotResource or NotPrincipal, which the fake does not evaluate", i+1)
		case s.Effect != "Allow" && s.Effect != "Deny":
			return "", fmt.Errorf("statement %d has the effect %q (want Allow or Deny)", i+1, s.Effect)
		}
		for _, pattern := range append(append([]string{}, s.Action...), s.Resource...) {
			if strings.Contains(pattern, "${") {
				return "", fmt.Errorf("statement %d uses the policy variable in %q, which the fake does not evaluate", i+1, pattern)
			}
		}
		if !anyWildcard(s.Action, strings.ToLower(action), true) || !anyWildcard(s.Resource, resource, false) {
			continue
		}
		if s.Effect == "Deny" {
			return "Deny", nil
		}
		verdict = "Allow"
	}
	return verdict, nil
}

func anyWildcard(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}
