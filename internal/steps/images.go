package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// ensureTierImage bakes the tier's AMI from its first instance once that
// instance reports (on its console) that the app is installed. The image
// and its snapshots are tagged in the CreateImage call; the stage waits
// until the image is available.
func ensureTierImage(ctx context.Context, r *Run, t *appTier, sourceID string) (string, error) {
	name := r.Name(t.AMIName)
	detail := "from " + sourceID
	if sourceID == "" {
		detail = "its source instance was retired"
	}
	id, err := r.Ensure(ctx, Spec{Key: "image/" + t.Name, Kind: imageKind, Name: name, Detail: detail,
		Create: func(ctx context.Context, _ string) (string, error) {
			if sourceID == "" {
				return "", fmt.Errorf("its source instance %s is not in the state file: it was retired by stage autoscaling; set autoscaling.keep_bootstrap_instances: true and run `myappctl up` to launch it and bake the AMI again",
					r.Name(t.Members[0].Name))
			}
			if err := waitInstanceReady(ctx, r, sourceID, r.Name(t.Members[0].Name), t.Service); err != nil {
				return "", err
			}
			tags := r.Tags(name)
			out, err := r.AWS.EC2.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(sourceID), Name: aws.String(name),
				Description: aws.String("myappctl " + r.Cfg.Stack + ": " + t.Service + " installed on Ubuntu 22.04"),
				// A reboot gives a consistent file system; nothing serves from
				// the source instance yet, and its service restarts on boot.
				NoReboot:          aws.Bool(false),
				TagSpecifications: append(tags.EC2Spec(ec2types.ResourceTypeImage), tags.EC2Spec(ec2types.ResourceTypeSnapshot)...)})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.ImageId), nil
		}})
	if err != nil || isPlanned(id) || r.DryRun {
		return id, err
	}
	return id, waitImageAvailable(ctx, r, id, name)
}

// waitImageAvailable waits with the SDK waiter (a new image may not be
// visible at once: NotFound is retried).
func waitImageAvailable(ctx context.Context, r *Run, id, name string) error {
	spec := r.wait("image "+name+" ("+id+") to become available", 0, "check it with `aws ec2 describe-images --image-ids "+id+"`")
	err := awsx.WaitWithProgress(ctx, spec, func(ctx context.Context, maxWait time.Duration) error {
		w := ec2.NewImageAvailableWaiter(r.AWS.EC2, func(o *ec2.ImageAvailableWaiterOptions) {
			o.MinDelay, o.MaxDelay = spec.Interval, spec.Interval
			retryable := o.Retryable
			o.Retryable = func(ctx context.Context, in *ec2.DescribeImagesInput, out *ec2.DescribeImagesOutput, err error) (bool, error) {
				if awsx.IsNotFound(err) {
					return true, nil
				}
				return retryable(ctx, in, out, err)
			}
		})
		return w.Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}, maxWait)
	})
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "wait for", Resource: imageKind.Type + " " + name, Err: err}
	}
	return nil
}
