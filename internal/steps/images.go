package steps

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Tier AMIs: one per release, named after it (frontend-AMI-3f2a9c1) and
// tagged with it. The source is an instance that reports running the
// release: on a fresh stack the tier's first stand-alone instance, else a
// build instance launched for the purpose from plain Ubuntu and terminated
// once the image is available. Old AMIs (and their snapshots) are deleted
// once no instance and no launch template uses them.

// tierImageSpec is the tier's AMI for a release.
func tierImageSpec(r *Run, t *appTier, rel release) Spec {
	return Spec{Key: "image/" + t.Name + "/" + rel.short(), Kind: imageKind, Name: r.Name(t.AMIName) + "-" + rel.short()}
}

// ensureTierImage returns the tier's AMI of rel, baking it when there is
// none: it waits until the source instance reports the release installed,
// creates the image (tagged, with its snapshots, in the call) and waits
// until it is available.
func ensureTierImage(ctx context.Context, r *Run, t *appTier, rel release) (string, error) {
	spec := tierImageSpec(r, t, rel)
	id, err := r.Find(ctx, spec)
	if err != nil {
		return "", err
	}
	if id == "" {
		source, sourceName, err := imageSource(ctx, r, t, rel)
		if err != nil {
			return "", err
		}
		if err := waitReports(ctx, r, t, map[string]string{source: sourceName}, reportWant{release: rel.sha, what: "to install release " + rel.short()}); err != nil {
			return "", err
		}
		spec.Detail = fmt.Sprintf("release %s, from %s", rel.short(), sourceName)
		if cur := r.Output(t.AMIStage, t.ReleaseOutput); cur != "" && cur != rel.sha && !isPlanned(cur) {
			spec.Detail = fmt.Sprintf("release %s → %s, from %s", shortRelease(cur), rel.short(), sourceName)
		}
		spec.Create = func(ctx context.Context, _ string) (string, error) {
			return createTierImage(ctx, r, t, rel, spec.Name, source)
		}
		if id, err = r.Ensure(ctx, spec); err != nil {
			return "", err
		}
	}
	if isPlanned(id) || r.DryRun {
		return id, retireBuildInstances(ctx, r, t)
	}
	if err := waitImageAvailable(ctx, r, id, spec.Name); err != nil {
		return "", err
	}
	return id, retireBuildInstances(ctx, r, t)
}

func createTierImage(ctx context.Context, r *Run, t *appTier, rel release, name, source string) (string, error) {
	tags := r.Tags(name)
	tags[tagRelease], tags[tagTier] = rel.sha, t.Name
	out, err := r.AWS.EC2.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(source), Name: aws.String(name),
		Description: aws.String("myappctl " + r.Cfg.Stack + ": " + t.Service + " release " + rel.sha + " on Ubuntu 22.04"),
		// A reboot gives a consistent file system; the source serves no
		// traffic yet (or is a build instance), and its service restarts.
		NoReboot:          aws.Bool(false),
		TagSpecifications: append(tags.EC2Spec(ec2types.ResourceTypeImage), tags.EC2Spec(ec2types.ResourceTypeSnapshot)...)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ImageId), nil
}

// buildMember is the tier's build instance: installs a release to bake an
// AMI from when no stand-alone instance runs it.
func buildMember(t *appTier) tierMember {
	return tierMember{Name: t.Name + "-build", Owner: t.AMIStage, Subnet: t.Members[0].Subnet}
}

// imageSource is an instance that runs rel to bake the AMI from: the
// tier's first instance when it runs rel (a fresh stack), else a build
// instance (found, or launched from plain Ubuntu).
func imageSource(ctx context.Context, r *Run, t *appTier, rel release) (id, name string, err error) {
	first := t.Members[0]
	if !bootstrapRetired(r) {
		if id := r.Output(first.Owner, first.Output); id != "" && !isPlanned(id) {
			in, err := describeInstance(ctx, r.Env, id)
			if err != nil {
				return "", "", &StageError{Stage: r.Stage.Name, Action: "describe", Resource: instanceKind.Type + " " + id, Err: err}
			}
			if in != nil && releaseOf(*in) == rel.sha {
				return id, r.Name(first.Name), nil
			}
		} else if isPlanned(id) {
			return id, r.Name(first.Name), nil
		}
	}
	b := buildMember(t)
	name = r.Name(b.Name) + "-" + rel.short()
	detail := fmt.Sprintf("%s, Ubuntu 22.04 installing %s release %s to bake %s from", r.Cfg.InstanceType, t.Service, rel.short(), tierImageSpec(r, t, rel).Name)
	id, err = r.Ensure(ctx, Spec{Key: "build/" + t.Name + "/" + rel.short(), Kind: instanceKind, Name: name, Detail: detail,
		Create: func(ctx context.Context, token string) (string, error) {
			userData, image, err := bootstrapLaunch(ctx, r, t, rel)
			if err != nil {
				return "", err
			}
			return launchInstance(ctx, r, t, launch{name: name, owner: b.Owner, subnet: b.Subnet, token: token, image: image,
				userData: userData, release: rel.sha, source: sourceBootstrap})
		}})
	if err != nil || isPlanned(id) || r.DryRun {
		return id, name, err
	}
	return id, name, waitInstanceRunning(ctx, r, id, name)
}

// retireBuildInstances terminates the tier's build instances once their
// AMI exists, and forgets them.
func retireBuildInstances(ctx context.Context, r *Run, t *appTier) error {
	st := r.State.Stage(r.Stage.Name)
	for _, res := range st.Resources {
		if res.Type != instanceKind.Type || !strings.HasPrefix(res.Key, "build/"+t.Name+"/") {
			continue
		}
		err := r.change("delete", instanceKind.Type, res.Name, res.ID+" (its AMI is baked)", func() error {
			if _, err := r.AWS.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{res.ID}}); err != nil && !awsx.IsNotFound(err) {
				return err
			}
			return r.State.DropResource(r.Stage.Name, res.Key)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// pruneTierImages deletes the tier's AMIs (and snapshots) other than keep
// that no live instance and no launch template's default version uses, and
// forgets them in the AMI stage's state.
func pruneTierImages(ctx context.Context, r *Run, t *appTier, keep string) error {
	if isPlanned(keep) {
		return nil
	}
	ids, err := imageKind.FindTagged(ctx, r.Env, awsx.Tags{awsx.TagStack: r.Cfg.Stack, awsx.TagStep: t.AMIStage})
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "find", Resource: "old " + t.Name + " AMIs", Err: err}
	}
	for _, id := range ids {
		if id == keep {
			continue
		}
		user, err := imageUser(ctx, r, t, id)
		if err != nil {
			return err
		}
		if user != "" {
			r.logOnce("keep-image/"+id, "keeping the old %s AMI %s while %s uses it", t.Name, id, user)
			continue
		}
		err = r.change("delete", imageKind.Type, id, "an old "+t.Name+" AMI nothing uses any more (and its snapshots)", func() error {
			if err := imageKind.Delete(ctx, r.Env, id); err != nil && !awsx.IsNotFound(err) {
				return err
			}
			return dropResourceByID(r, t.AMIStage, id)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// imageUser names a live instance or the tier's launch template when one
// uses the image ("" when nothing does).
func imageUser(ctx context.Context, r *Run, t *appTier, image string) (string, error) {
	out, err := r.AWS.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{awsx.EC2Filter("image-id", image),
		awsx.EC2Filter("instance-state-name", "pending", "running", "stopping", "stopped")}})
	if err != nil {
		return "", &StageError{Stage: r.Stage.Name, Action: "describe", Resource: "instances of " + image, Err: err}
	}
	for _, res := range out.Reservations {
		for _, in := range res.Instances {
			return "instance " + aws.ToString(in.InstanceId), nil
		}
	}
	for _, s := range scaledTiers {
		lt := r.Output("autoscaling", s.templateOutput)
		if s.tier.Name != t.Name || lt == "" || isPlanned(lt) {
			continue
		}
		v, err := r.AWS.EC2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: []string{"$Default"}})
		if awsx.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", &StageError{Stage: r.Stage.Name, Action: "describe", Resource: launchTemplateKind.Type + " " + lt, Err: err}
		}
		if len(v.LaunchTemplateVersions) > 0 && aws.ToString(v.LaunchTemplateVersions[0].LaunchTemplateData.ImageId) == image {
			return "launch template " + r.Name(s.template), nil
		}
	}
	return "", nil
}

// dropResourceByID forgets a resource of a stage by its id.
func dropResourceByID(r *Run, stage, id string) error {
	for _, res := range r.State.Stage(stage).Resources {
		if res.ID == id {
			return r.State.DropResource(stage, res.Key)
		}
	}
	return nil
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
