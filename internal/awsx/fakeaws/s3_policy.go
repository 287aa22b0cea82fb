package fakeaws

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Bucket policy and event notifications, kept in Bucket.Extra.
const (
	extraPolicy       = "policy"
	extraNotification = "notification"
)

func (f *S3) GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, _ ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	b, fault, err := f.configBucket(ctx, "GetBucketPolicy", in.Bucket)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	p, ok := b.Extra[extraPolicy].(string)
	if !ok {
		return nil, APIError("NoSuchBucketPolicy", "The bucket policy does not exist")
	}
	return finish(&s3.GetBucketPolicyOutput{Policy: aws.String(p)}, nil, fault)
}

// PutBucketPolicy checks what S3 checks: valid JSON, resources inside the
// bucket, and no public grant while BlockPublicPolicy is on.
func (f *S3) PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, _ ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	b, fault, err := f.configBucket(ctx, "PutBucketPolicy", in.Bucket)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	var doc struct {
		Statement []struct {
			Effect    string
			Principal any
			Resource  stringOrList
		}
	}
	if json.Unmarshal([]byte(aws.ToString(in.Policy)), &doc) != nil || len(doc.Statement) == 0 {
		return nil, APIError("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
	}
	public := false
	for _, s := range doc.Statement {
		for _, r := range s.Resource {
			if r != "arn:aws:s3:::"+b.Name && !strings.HasPrefix(r, "arn:aws:s3:::"+b.Name+"/") {
				return nil, APIError("MalformedPolicy", "Policy has invalid resource")
			}
		}
		public = public || (s.Effect == "Allow" && isPublicPrincipal(s.Principal))
	}
	if public && aws.ToBool(b.publicAccessBlock().BlockPublicPolicy) {
		return nil, APIError("AccessDenied", "User is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::%s\" because public policies are blocked by the BlockPublicPolicy block public access setting.", b.Name)
	}
	b.Extra[extraPolicy] = aws.ToString(in.Policy)
	return finish(&s3.PutBucketPolicyOutput{}, nil, fault)
}

func isPublicPrincipal(p any) bool {
	switch v := p.(type) {
	case string:
		return v == "*"
	case map[string]any:
		return v["AWS"] == "*"
	}
	return false
}

func (f *S3) GetBucketNotificationConfiguration(ctx context.Context, in *s3.GetBucketNotificationConfigurationInput, _ ...func(*s3.Options)) (*s3.GetBucketNotificationConfigurationOutput, error) {
	b, fault, err := f.configBucket(ctx, "GetBucketNotificationConfiguration", in.Bucket)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	c, _ := b.Extra[extraNotification].(types.NotificationConfiguration)
	return finish(&s3.GetBucketNotificationConfigurationOutput{LambdaFunctionConfigurations: c.LambdaFunctionConfigurations,
		QueueConfigurations: c.QueueConfigurations, TopicConfigurations: c.TopicConfigurations, EventBridgeConfiguration: c.EventBridgeConfiguration}, nil, fault)
}

// PutBucketNotificationConfiguration replaces the whole configuration. Like
// S3 it refuses a Lambda destination whose resource policy does not let
// s3.amazonaws.com invoke it for this bucket (AddPermission must come first).
func (f *S3) PutBucketNotificationConfiguration(ctx context.Context, in *s3.PutBucketNotificationConfigurationInput, _ ...func(*s3.Options)) (*s3.PutBucketNotificationConfigurationOutput, error) {
	b, fault, err := f.configBucket(ctx, "PutBucketNotificationConfiguration", in.Bucket)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	c := in.NotificationConfiguration
	if c == nil {
		return nil, APIError("MissingRequestBodyError", "Request Body is empty")
	}
	for _, l := range c.LambdaFunctionConfigurations {
		if len(l.Events) == 0 {
			return nil, APIError("InvalidArgument", "At least one event must be specified")
		}
		for _, e := range l.Events {
			if !strings.HasPrefix(string(e), "s3:") {
				return nil, APIError("InvalidArgument", "The event is not supported for notifications")
			}
		}
		if aws.ToBool(in.SkipDestinationValidation) {
			continue
		}
		if f.LambdaInvokable == nil || !f.LambdaInvokable(aws.ToString(l.LambdaFunctionArn), "arn:aws:s3:::"+b.Name, Account) {
			return nil, APIError("InvalidArgument", "Unable to validate the following destination configurations")
		}
	}
	b.Extra[extraNotification] = *c
	return finish(&s3.PutBucketNotificationConfigurationOutput{}, nil, fault)
}
