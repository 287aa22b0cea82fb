package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Instance identity: each tier's instances run with an instance profile
// whose role may do exactly what the tier's service and install script do
// (read its own settings, read its own releases, write its own reports),
// so the frontend cannot read the backend's database password. Stage
// security creates a role and a profile per tier, or uses the configured
// existing profiles (instance_profiles.*, e.g. a lab's LabInstanceProfile)
// and creates no IAM resource at all.

// Outputs of stage 2: the profile each tier's instances launch with (the
// name the tool gave it, or the configured name or ARN).
const (
	OutFrontendProfile = "frontend_instance_profile"
	OutBackendProfile  = "backend_instance_profile"
)

// instancePolicyName is the tier role's one inline policy.
const instancePolicyName = "instance"

// ensureInstanceIdentity makes (or checks the configured) instance profile
// of the tier and records it as the tier's output.
func ensureInstanceIdentity(ctx context.Context, r *Run, t *appTier, bucket string) error {
	if configured := configuredProfile(r, t); configured != "" {
		if err := checkConfiguredProfile(ctx, r, t, configured); err != nil {
			return err
		}
		return r.SetOutput(t.ProfileOutput, configured)
	}
	account, err := r.AccountID(ctx)
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "look up", Resource: "the account id", Err: err}
	}
	partition := partitionOf(r.Cfg.Region)
	name := r.Name(t.Name + "-instance-" + r.Cfg.Region)
	role, _, err := ensureRole(ctx, r, roleSpec{key: "role/" + t.Name, name: name, trust: ec2TrustPolicy(), trustDetail: "ec2.amazonaws.com",
		description: "myappctl: the " + t.Name + " instances of stack " + r.Cfg.Stack,
		policyName:  instancePolicyName, policy: instancePolicy(r, t, partition, account, bucket),
		policyDetail: fmt.Sprintf("read %s*, read releases/%s/*, write reports/%s/*", settingsPath(r, t), t.Name, t.Name),
		partition:    partition, account: account})
	if err != nil {
		return err
	}
	profile, err := r.Ensure(ctx, Spec{Key: "instance-profile/" + t.Name, Kind: instanceProfileKind, Name: name, Detail: "holds role " + name,
		Create: func(ctx context.Context, _ string) (string, error) {
			_, err := r.AWS.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name),
				Path: aws.String(rolePath), Tags: r.Tags(name).IAM()})
			return name, err
		}})
	if err != nil {
		return err
	}
	if err := ensureProfileRole(ctx, r, profile, role); err != nil {
		return err
	}
	return r.SetOutput(t.ProfileOutput, name)
}

func configuredProfile(r *Run, t *appTier) string {
	if t.Name == frontendTier.Name {
		return r.Cfg.InstanceProfiles.Frontend
	}
	return r.Cfg.InstanceProfiles.Backend
}

// checkConfiguredProfile makes sure a configured profile exists and holds
// a role, so a typo fails here and not as a launch error later.
func checkConfiguredProfile(ctx context.Context, r *Run, t *appTier, profile string) error {
	name := profile[strings.LastIndex(profile, "/")+1:]
	out, err := r.AWS.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	switch {
	case awsx.IsNotFound(err):
		return fmt.Errorf("stage %s: instance_profiles.%s names %q, which does not exist in this account: fix the name (a lab's is LabInstanceProfile), or remove the key to let myappctl create one", r.Stage.Name, t.Name, profile)
	case err != nil:
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: instanceProfileKind.Type + " " + name, Err: err}
	case len(out.InstanceProfile.Roles) == 0:
		return fmt.Errorf("stage %s: instance profile %s (instance_profiles.%s) holds no role, so its instances could read no settings: add a role to it, or remove the key to let myappctl create one", r.Stage.Name, profile, t.Name)
	}
	r.logOnce("profile/"+t.Name, "the %s instances use the configured instance profile %s (role %s)", t.Name, profile, aws.ToString(out.InstanceProfile.Roles[0].RoleName))
	return nil
}

// ensureProfileRole makes the profile hold exactly the role.
func ensureProfileRole(ctx context.Context, r *Run, profile, role string) error {
	var held []string
	if !isPlanned(profile) {
		var out *iam.GetInstanceProfileOutput
		err := untilVisible(ctx, r, func() (err error) {
			out, err = r.AWS.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(profile)})
			return err
		})
		if err != nil {
			return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: instanceProfileKind.Type + " " + profile, Err: err}
		}
		for _, rl := range out.InstanceProfile.Roles {
			held = append(held, aws.ToString(rl.RoleName))
		}
	}
	if len(held) == 1 && held[0] == role {
		return nil
	}
	return r.change("modify", instanceProfileKind.Type, profile, "role "+strings.Join(append(held, ""), "")+"→ "+role, func() error {
		for _, other := range held {
			_, err := r.AWS.IAM.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(profile), RoleName: aws.String(other)})
			if err != nil && !awsx.IsNotFound(err) {
				return err
			}
		}
		return untilVisible(ctx, r, func() error {
			_, err := r.AWS.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(profile), RoleName: aws.String(role)})
			if awsx.HasCode(err, "LimitExceeded") && profileHolds(ctx, r, profile, role) {
				return nil // the SDK retried an add whose response was lost: the role is in
			}
			return err
		})
	})
}

// profileHolds reports whether the profile holds exactly the role.
func profileHolds(ctx context.Context, r *Run, profile, role string) bool {
	out, err := r.AWS.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(profile)})
	return err == nil && len(out.InstanceProfile.Roles) == 1 && aws.ToString(out.InstanceProfile.Roles[0].RoleName) == role
}

func ec2TrustPolicy() string {
	return policyJSON(map[string]any{
		"Effect": "Allow", "Principal": map[string]string{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole",
	})
}

// instancePolicy is least privilege for a tier's instances: read the tier's
// settings (GetParametersByPath is authorized on the path itself; a
// SecureString under the AWS-managed key aws/ssm needs no KMS grant), read
// the tier's releases, write the tier's reports.
func instancePolicy(r *Run, t *appTier, partition, account, bucket string) string {
	params := "arn:" + partition + ":ssm:" + r.Cfg.Region + ":" + account + ":parameter" + strings.TrimSuffix(settingsPath(r, t), "/")
	objects := "arn:" + partition + ":s3:::" + bucket + "/"
	return policyJSON(
		map[string]any{"Sid": "ReadOwnSettings", "Effect": "Allow", "Action": []string{"ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"},
			"Resource": []string{params, params + "/*"}},
		map[string]any{"Sid": "ReadOwnReleases", "Effect": "Allow", "Action": "s3:GetObject", "Resource": objects + "releases/" + t.Name + "/*"},
		map[string]any{"Sid": "WriteOwnReports", "Effect": "Allow", "Action": "s3:PutObject", "Resource": objects + "reports/" + t.Name + "/*"},
	)
}

// profileSpec names a profile for RunInstances or a launch template.
func profileSpec(profile string) *ec2types.IamInstanceProfileSpecification {
	if strings.HasPrefix(profile, "arn:") {
		return &ec2types.IamInstanceProfileSpecification{Arn: aws.String(profile)}
	}
	return &ec2types.IamInstanceProfileSpecification{Name: aws.String(profile)}
}

// untilProfileVisible retries a launch while EC2 does not yet know a
// freshly created instance profile (IAM is eventually consistent: for a few
// seconds RunInstances answers that the profile name is invalid).
func untilProfileVisible(ctx context.Context, r *Run, profile string, launch func() error) error {
	return untilPropagated(ctx, r, func(err error) bool {
		if !awsx.IsInstanceProfileNotVisible(err) {
			return false
		}
		r.logOnce("profile-propagation/"+profile, "instance profile %s is not visible to EC2 yet (IAM propagates it): retrying", profile)
		return true
	}, launch)
}
