package steps

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/myappctl/myappctl/internal/awsx"
)

var securityGroupKind = registerKind(&Kind{
	Type: "ec2:security-group",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		g, err := describeSecurityGroup(ctx, e, id)
		if g == nil || err != nil {
			return nil, false, err
		}
		return awsx.EC2TagMap(g.Tags), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		out, err := e.AWS.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: tagFilters(tags)})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, g := range out.SecurityGroups {
			ids = append(ids, aws.ToString(g.GroupId))
		}
		return ids, nil
	},
	// Cross-references are revoked first (stage security's BeforeDestroy);
	// ENIs of load balancers and instances make this DependencyViolation for
	// a while, which destroy retries.
	Delete: func(ctx context.Context, e *Env, id string) error {
		_, err := e.AWS.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		return err
	},
})

func describeSecurityGroup(ctx context.Context, e *Env, id string) (*ec2types.SecurityGroup, error) {
	out, err := e.AWS.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.SecurityGroups) == 0 {
		return nil, err
	}
	return &out.SecurityGroups[0], nil
}

// liveInstanceStates are the states of an instance that still exists;
// shutting-down and terminated ones are gone for every purpose but billing.
var liveInstanceStates = []string{"pending", "running", "stopping", "stopped"}

var instanceKind = registerKind(&Kind{
	Type: "ec2:instance",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		in, err := describeInstance(ctx, e, id)
		if in == nil || err != nil {
			return nil, false, err
		}
		return awsx.EC2TagMap(in.Tags), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		ins, err := findInstances(ctx, e, tags)
		if err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(ins))
		for _, in := range ins {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
		return ids, nil
	},
	// Delete terminates and waits until the instance is gone, so its subnet
	// and security groups can go next.
	Delete: func(ctx context.Context, e *Env, id string) error {
		if _, err := e.AWS.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			return err
		}
		return waitInstancesTerminated(ctx, e, []string{id})
	},
})

// describeInstance returns a live instance (nil when it is gone).
func describeInstance(ctx context.Context, e *Env, id string) (*ec2types.Instance, error) {
	out, err := e.AWS.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if found, err := notFoundIsAbsent(err); !found || err != nil {
		return nil, err
	}
	for _, res := range out.Reservations {
		for _, in := range res.Instances {
			if in.State != nil && contains(liveInstanceStates, string(in.State.Name)) {
				return &in, nil
			}
		}
	}
	return nil, nil
}

// findInstances returns the live instances carrying all the tags, oldest first.
func findInstances(ctx context.Context, e *Env, tags awsx.Tags) ([]ec2types.Instance, error) {
	filters := append(tagFilters(tags), awsx.EC2Filter("instance-state-name", liveInstanceStates...))
	p := ec2.NewDescribeInstancesPaginator(e.AWS.EC2, &ec2.DescribeInstancesInput{Filters: filters})
	var out []ec2types.Instance
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, res := range page.Reservations {
			out = append(out, res.Instances...)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return aws.ToTime(out[i].LaunchTime).Before(aws.ToTime(out[j].LaunchTime))
	})
	return out, nil
}

func waitInstancesTerminated(ctx context.Context, e *Env, ids []string) error {
	spec := awsx.WaitSpec{What: "instance(s) " + joinIDs(ids) + " to terminate", Interval: e.Cfg.Wait.PollInterval, Timeout: e.Cfg.Wait.Timeout, Log: e.Log,
		Hint: "check with `aws ec2 describe-instances --instance-ids " + joinIDs(ids) + "`"}
	return awsx.WaitWithProgress(ctx, spec, func(ctx context.Context, maxWait time.Duration) error {
		w := ec2.NewInstanceTerminatedWaiter(e.AWS.EC2, func(o *ec2.InstanceTerminatedWaiterOptions) {
			o.MinDelay, o.MaxDelay = spec.Interval, spec.Interval
		})
		return w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, maxWait)
	})
}

var imageKind = registerKind(&Kind{
	Type: "ec2:image",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		im, err := describeImage(ctx, e, id)
		if im == nil || err != nil {
			return nil, false, err
		}
		return awsx.EC2TagMap(im.Tags), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		out, err := e.AWS.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: tagFilters(tags)})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, im := range out.Images {
			ids = append(ids, aws.ToString(im.ImageId))
		}
		return ids, nil
	},
	// Delete deregisters the image and deletes its snapshots, which AWS
	// would otherwise keep (and bill).
	Delete: func(ctx context.Context, e *Env, id string) error {
		im, err := describeImage(ctx, e, id)
		if err != nil {
			return err
		}
		if im == nil {
			return &smithy.GenericAPIError{Code: "InvalidAMIID.NotFound", Message: "image " + id + " does not exist"}
		}
		if _, err := e.AWS.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil {
			return err
		}
		for _, snap := range imageSnapshots(*im) {
			if _, err := e.AWS.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)}); err != nil && !awsx.IsNotFound(err) {
				return err
			}
		}
		return nil
	},
})

func describeImage(ctx context.Context, e *Env, id string) (*ec2types.Image, error) {
	out, err := e.AWS.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.Images) == 0 {
		return nil, err
	}
	if s := out.Images[0].State; s == ec2types.ImageStateDeregistered || s == ec2types.ImageStateDisabled {
		return nil, nil
	}
	return &out.Images[0], nil
}

func imageSnapshots(im ec2types.Image) []string {
	var out []string
	for _, m := range im.BlockDeviceMappings {
		if m.Ebs != nil && aws.ToString(m.Ebs.SnapshotId) != "" {
			out = append(out, aws.ToString(m.Ebs.SnapshotId))
		}
	}
	return out
}

// snapshotKind sweeps tagged snapshots an image left behind (deleting the
// image deletes its snapshots; this catches an interrupted delete).
var snapshotKind = registerKind(&Kind{
	Type: "ec2:snapshot",
	Lookup: func(ctx context.Context, e *Env, id string) (awsx.Tags, bool, error) {
		out, err := e.AWS.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
		if found, err := notFoundIsAbsent(err); !found || err != nil || len(out.Snapshots) == 0 {
			return nil, false, err
		}
		return awsx.EC2TagMap(out.Snapshots[0].Tags), true, nil
	},
	FindTagged: func(ctx context.Context, e *Env, tags awsx.Tags) ([]string, error) {
		out, err := e.AWS.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: tagFilters(tags)})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, s := range out.Snapshots {
			ids = append(ids, aws.ToString(s.SnapshotId))
		}
		return ids, nil
	},
	Delete: func(ctx context.Context, e *Env, id string) error {
		_, err := e.AWS.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
		return err
	},
})

func joinIDs(ids []string) string { return strings.Join(ids, " ") }
