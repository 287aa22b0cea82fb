package steps

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// carouselPermissionSid names the function-policy statement that lets S3
// invoke the function; lambdaFunctionKind's Delete removes it too.
const carouselPermissionSid = "myappctl-s3-invoke"

// carouselTriggerID names the bucket's notification for the function; other
// notifications on the bucket are kept.
const carouselTriggerID = "myappctl-carousel-sync"

// invokeStatement is the part of a Lambda policy statement we check.
type invokeStatement struct {
	Sid       string
	Effect    string
	Action    string
	Principal struct{ Service string }
	Condition map[string]map[string]string
}

// ensureInvokePermission lets s3.amazonaws.com invoke the function for this
// bucket in this account only. It must exist before the trigger is saved.
func ensureInvokePermission(ctx context.Context, r *Run, c carousel, fn string) error {
	var current *invokeStatement
	if !isPlanned(fn) {
		var err error
		if current, err = invokePermission(ctx, r, fn); err != nil {
			return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: lambdaFunctionKind.Type + " " + fn + " policy", Err: err}
		}
	}
	if current.allows(c) {
		return nil
	}
	return r.change("modify", lambdaFunctionKind.Type, c.function, "allow s3.amazonaws.com to invoke it for "+c.bucketARN(), func() error {
		if current != nil {
			_, err := r.AWS.Lambda.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(fn), StatementId: aws.String(carouselPermissionSid)})
			if err != nil && !awsx.IsNotFound(err) {
				return err
			}
		}
		_, err := r.AWS.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(fn), StatementId: aws.String(carouselPermissionSid),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"),
			SourceArn: aws.String(c.bucketARN()), SourceAccount: aws.String(c.account)})
		if awsx.HasCode(err, "ResourceConflictException") {
			// The statement exists: the SDK retried a call whose response
			// was lost. Done if it is the one asked for.
			if now, gerr := invokePermission(ctx, r, fn); gerr == nil && now.allows(c) {
				return nil
			}
		}
		return err
	})
}

// invokePermission is the function policy's statement for S3 (nil if none).
func invokePermission(ctx context.Context, r *Run, fn string) (*invokeStatement, error) {
	out, err := r.AWS.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn)})
	if awsx.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return findStatement(aws.ToString(out.Policy), carouselPermissionSid), nil
}

// allows reports whether the statement lets S3 invoke the function for
// this bucket in this account only.
func (s *invokeStatement) allows(c carousel) bool {
	return s != nil && s.Effect == "Allow" && s.Action == "lambda:InvokeFunction" && s.Principal.Service == "s3.amazonaws.com" &&
		s.Condition["ArnLike"]["AWS:SourceArn"] == c.bucketARN() && s.Condition["StringEquals"]["AWS:SourceAccount"] == c.account
}

func findStatement(policy, sid string) *invokeStatement {
	var doc struct{ Statement []json.RawMessage }
	if json.Unmarshal([]byte(policy), &doc) != nil {
		return &invokeStatement{Sid: sid} // unreadable: replace ours, in case it is there
	}
	for _, raw := range doc.Statement {
		var head struct{ Sid string }
		if json.Unmarshal(raw, &head) != nil || head.Sid != sid {
			continue
		}
		s := invokeStatement{}
		_ = json.Unmarshal(raw, &s) // a shape we do not expect fails the comparison: it is replaced
		s.Sid = sid
		return &s
	}
	return nil
}

// carouselTrigger runs the function on object create and remove events
// under images/.
func carouselTrigger(fnARN string) s3types.LambdaFunctionConfiguration {
	return s3types.LambdaFunctionConfiguration{
		Id: aws.String(carouselTriggerID), LambdaFunctionArn: aws.String(fnARN),
		Events: []s3types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"},
		Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
			{Name: s3types.FilterRuleNamePrefix, Value: aws.String(carouselImagesPrefix)},
		}}},
	}
}

// ensureBucketTrigger saves the trigger, keeping the bucket's other
// notification settings.
func ensureBucketTrigger(ctx context.Context, r *Run, c carousel, bucket string) error {
	want := carouselTrigger(c.functionARN())
	current := &s3.GetBucketNotificationConfigurationOutput{}
	if !isPlanned(bucket) {
		out, err := r.AWS.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
		if err != nil {
			return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "s3:bucket " + bucket + " notifications", Err: err}
		}
		current = out
	}
	var others []s3types.LambdaFunctionConfiguration
	for _, l := range current.LambdaFunctionConfigurations {
		if aws.ToString(l.Id) != carouselTriggerID {
			others = append(others, l)
		} else if sameTrigger(l, want) {
			return nil
		}
	}
	return r.change("modify", "s3:bucket", bucket, "run "+c.function+" on object create/remove under "+carouselImagesPrefix, func() error {
		_, err := r.AWS.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(bucket),
			NotificationConfiguration: &s3types.NotificationConfiguration{
				LambdaFunctionConfigurations: append(others, want), QueueConfigurations: current.QueueConfigurations,
				TopicConfigurations: current.TopicConfigurations, EventBridgeConfiguration: current.EventBridgeConfiguration,
			}})
		return err
	})
}

// sameTrigger compares a saved trigger with the wanted one; S3 returns the
// filter rule name capitalised ("Prefix").
func sameTrigger(have, want s3types.LambdaFunctionConfiguration) bool {
	if aws.ToString(have.LambdaFunctionArn) != aws.ToString(want.LambdaFunctionArn) {
		return false
	}
	events := func(l s3types.LambdaFunctionConfiguration) []string {
		var out []string
		for _, e := range l.Events {
			out = append(out, string(e))
		}
		slices.Sort(out)
		return out
	}
	rules := func(l s3types.LambdaFunctionConfiguration) []string {
		var out []string
		if l.Filter != nil && l.Filter.Key != nil {
			for _, f := range l.Filter.Key.FilterRules {
				out = append(out, strings.ToLower(string(f.Name))+"="+aws.ToString(f.Value))
			}
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(events(have), events(want)) && slices.Equal(rules(have), rules(want))
}
