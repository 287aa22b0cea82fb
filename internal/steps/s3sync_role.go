package steps

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	_, arn, err := ensureRole(ctx, r, roleSpec{key: "role", name: name, trust: lambdaTrustPolicy(), trustDetail: "lambda.amazonaws.com",
		description: "myappctl: runs the carousel sync Lambda of stack " + r.Cfg.Stack,
		policyName:  syncRolePolicyName, policy: syncRolePolicy(c), policyDetail: "list images/, read images/*, write the index, own logs",
		partition: c.partition, account: c.account})
	if err != nil {
		return syncRole{}, err
	}
	return syncRole{arn: arn, own: true}, nil
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
