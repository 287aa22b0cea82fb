package steps

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/myappctl/myappctl/internal/awsx"
)

// syncRolePolicyName is the role's one inline policy.
const syncRolePolicyName = "carousel-sync"

// syncRole is the role the function runs as.
type syncRole struct {
	arn string
	// own is set for a role the tool created (and may retry on while IAM
	// propagates it); a configured role is used as it is and never changed.
	own bool
}

// ensureSyncRole returns carousel.lambda_role_arn when set (an ARN, or the
// name of a role in the account such as a lab's LabRole), else a role of the
// tool's own with least privilege on the bucket.
func ensureSyncRole(ctx context.Context, r *Run, c carousel) (syncRole, error) {
	if role := r.Cfg.Carousel.LambdaRoleARN; role != "" {
		if !strings.HasPrefix(role, "arn:") {
			role = "arn:" + c.partition + ":iam::" + c.account + ":role/" + role
		}
		return syncRole{arn: role}, nil
	}
	name := r.Name("carousel-sync-" + c.region)
	trust := lambdaTrustPolicy()
	id, err := r.Ensure(ctx, Spec{Key: "role", Kind: iamRoleKind, Name: name, Detail: "assumed by lambda.amazonaws.com",
		Create: func(ctx context.Context, _ string) (string, error) {
			_, err := r.AWS.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String(rolePath),
				AssumeRolePolicyDocument: aws.String(trust), Description: aws.String("myappctl: runs the carousel sync Lambda of stack " + r.Cfg.Stack),
				Tags: r.Tags(name).IAM()})
			return name, err
		}})
	if err != nil {
		return syncRole{}, err
	}
	arn := "arn:" + c.partition + ":iam::" + c.account + ":role" + rolePath + name
	if isPlanned(id) {
		return syncRole{arn: arn, own: true}, ensureRolePolicy(ctx, r, c, id, name)
	}
	var out *iam.GetRoleOutput
	err = untilVisible(ctx, r, func() (err error) {
		out, err = r.AWS.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(id)})
		return err
	})
	if err != nil {
		return syncRole{}, &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "iam:role " + id, Err: err}
	}
	if !sameJSON(decodePolicy(out.Role.AssumeRolePolicyDocument), trust) {
		err := r.change("modify", iamRoleKind.Type, id, "trust: lambda.amazonaws.com only", func() error {
			_, err := r.AWS.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(id), PolicyDocument: aws.String(trust)})
			return err
		})
		if err != nil {
			return syncRole{}, err
		}
	}
	return syncRole{arn: aws.ToString(out.Role.Arn), own: true}, ensureRolePolicy(ctx, r, c, id, name)
}

// ensureRolePolicy keeps the inline policy at exactly what the function needs.
func ensureRolePolicy(ctx context.Context, r *Run, c carousel, role, name string) error {
	want := syncRolePolicy(c)
	if !isPlanned(role) {
		out, err := r.AWS.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(syncRolePolicyName)})
		if err != nil && !awsx.IsNotFound(err) {
			return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "iam:role " + role, Err: err}
		}
		if err == nil && sameJSON(decodePolicy(out.PolicyDocument), want) {
			return nil
		}
	}
	return r.change("modify", iamRoleKind.Type, name, "inline policy "+syncRolePolicyName+": list images/, read images/*, write the index, own logs", func() error {
		return untilVisible(ctx, r, func() error {
			_, err := r.AWS.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(syncRolePolicyName), PolicyDocument: aws.String(want)})
			return err
		})
	})
}

// decodePolicy undoes IAM's URL-encoding of policy documents.
func decodePolicy(doc *string) string {
	s, err := url.QueryUnescape(aws.ToString(doc))
	if err != nil {
		return aws.ToString(doc)
	}
	return s
}

func lambdaTrustPolicy() string {
	return policyJSON(map[string]any{
		"Effect": "Allow", "Principal": map[string]string{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
	})
}

// syncRolePolicy is least privilege for the function: list images/, read the
// images, write the index, and write its own log group.
func syncRolePolicy(c carousel) string {
	logGroup := "arn:" + c.partition + ":logs:" + c.region + ":" + c.account + ":log-group:/aws/lambda/" + c.function
	return policyJSON(
		map[string]any{"Sid": "ListImages", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": c.bucketARN(),
			"Condition": map[string]any{"StringLike": map[string]any{"s3:prefix": []string{carouselImagesPrefix, carouselImagesPrefix + "*"}}}},
		map[string]any{"Sid": "ReadImages", "Effect": "Allow", "Action": "s3:GetObject", "Resource": c.bucketARN() + "/" + carouselImagesPrefix + "*"},
		map[string]any{"Sid": "WriteIndex", "Effect": "Allow", "Action": "s3:PutObject", "Resource": c.bucketARN() + "/" + carouselIndexKey},
		map[string]any{"Sid": "OwnLogs", "Effect": "Allow", "Action": []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
			"Resource": []string{logGroup, logGroup + ":*"}},
	)
}

func policyJSON(statements ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(b)
}
