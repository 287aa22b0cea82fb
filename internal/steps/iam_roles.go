package steps

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/myappctl/myappctl/internal/awsx"
)

// roleSpec is an IAM role the tool owns: a trust policy and one inline
// policy, both kept exactly as wanted (drift is repaired).
type roleSpec struct {
	key, name, description string
	trust, trustDetail     string // the trust policy and who it lets in, for plans
	policyName, policy     string
	policyDetail           string // what the inline policy allows, for plans
	partition, account     string
}

// ensureRole finds or creates the role under rolePath, repairs its trust
// and inline policy, and returns its name (the id; planned when it would be
// created) and ARN. Calls right after the role's creation are retried while
// IAM propagates it.
func ensureRole(ctx context.Context, r *Run, s roleSpec) (id, arn string, err error) {
	id, err = r.Ensure(ctx, Spec{Key: s.key, Kind: iamRoleKind, Name: s.name, Detail: "assumed by " + s.trustDetail,
		Create: func(ctx context.Context, _ string) (string, error) {
			_, err := r.AWS.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(s.name), Path: aws.String(rolePath),
				AssumeRolePolicyDocument: aws.String(s.trust), Description: aws.String(s.description), Tags: r.Tags(s.name).IAM()})
			return s.name, err
		}})
	if err != nil {
		return "", "", err
	}
	arn = "arn:" + s.partition + ":iam::" + s.account + ":role" + rolePath + s.name
	if isPlanned(id) {
		return id, arn, ensureInlinePolicy(ctx, r, s, id)
	}
	var out *iam.GetRoleOutput
	err = untilVisible(ctx, r, func() (err error) {
		out, err = r.AWS.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(id)})
		return err
	})
	if err != nil {
		return "", "", &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "iam:role " + id, Err: err}
	}
	if !sameJSON(decodePolicy(out.Role.AssumeRolePolicyDocument), s.trust) {
		err := r.change("modify", iamRoleKind.Type, id, "trust: "+s.trustDetail+" only", func() error {
			_, err := r.AWS.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(id), PolicyDocument: aws.String(s.trust)})
			return err
		})
		if err != nil {
			return "", "", err
		}
	}
	return id, aws.ToString(out.Role.Arn), ensureInlinePolicy(ctx, r, s, id)
}

// ensureInlinePolicy keeps the role's inline policy at exactly what it needs.
func ensureInlinePolicy(ctx context.Context, r *Run, s roleSpec, role string) error {
	if !isPlanned(role) {
		out, err := r.AWS.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(s.policyName)})
		if err != nil && !awsx.IsNotFound(err) {
			return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "iam:role " + role, Err: err}
		}
		if err == nil && sameJSON(decodePolicy(out.PolicyDocument), s.policy) {
			return nil
		}
	}
	return r.change("modify", iamRoleKind.Type, s.name, "inline policy "+s.policyName+": "+s.policyDetail, func() error {
		return untilVisible(ctx, r, func() error {
			_, err := r.AWS.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(s.policyName), PolicyDocument: aws.String(s.policy)})
			return err
		})
	})
}
