package fakeaws

import (
	"context"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// CanonicalOwner is Canonical's account, which publishes the Ubuntu images.
const CanonicalOwner = "099720109477"

// NewestJammyAMI is the newest Ubuntu 22.04 amd64 image the fake publishes;
// the other seeded images are older, for another architecture or release,
// or not Canonical's.
const NewestJammyAMI = "ami-0jammy0amd64new"

type fakeImage struct {
	img       types.Image
	describes int
	installed string // the myappctl release its source instance had installed
	created   time.Time
}

// seedCanonicalImages publishes a few public images. Callers hold f.mu.
func (f *EC2) seedCanonicalImages() {
	pub := func(id, owner, name, arch, created string) {
		f.cmp.images[id] = &fakeImage{img: types.Image{ImageId: aws.String(id), OwnerId: aws.String(owner), Name: aws.String(name),
			Architecture: types.ArchitectureValues(arch), CreationDate: aws.String(created), State: types.ImageStateAvailable,
			Public: aws.Bool(true), RootDeviceType: types.DeviceTypeEbs, VirtualizationType: types.VirtualizationTypeHvm,
			RootDeviceName: aws.String("/dev/sda1")}}
	}
	const jammy = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-"
	pub("ami-0jammy0amd64old", CanonicalOwner, jammy+"amd64-server-20240301", "x86_64", "2024-03-01T10:00:00.000Z")
	pub(NewestJammyAMI, CanonicalOwner, jammy+"amd64-server-20250601", "x86_64", "2025-06-01T10:00:00.000Z")
	pub("ami-0jammy0amd64mid", CanonicalOwner, jammy+"amd64-server-20241101", "x86_64", "2024-11-01T10:00:00.000Z")
	pub("ami-0jammy0arm64new", CanonicalOwner, jammy+"arm64-server-20250901", "arm64", "2025-09-01T10:00:00.000Z")
	pub("ami-0noble0amd64new", CanonicalOwner, "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250901", "x86_64", "2025-09-01T10:00:00.000Z")
	pub("ami-0impostor0jammy", "111122223333", jammy+"amd64-server-20251201", "x86_64", "2025-12-01T10:00:00.000Z")
}

func (f *EC2) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	fault, err := f.begin(ctx, "DescribeImages")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	owners := slices.Clone(in.Owners)
	for i, o := range owners {
		if o == "self" {
			owners[i] = Account
		}
	}
	// A pending image becomes available after it was described a few times.
	for _, k := range sortedKeys(c.images) {
		if live := c.images[k]; live.img.State == types.ImageStatePending && (len(in.ImageIds) == 0 || slices.Contains(in.ImageIds, k)) {
			live.describes++
			if c.bakeTime == 0 && live.describes > c.imagePendingDescribes || c.bakeTime > 0 && time.Since(live.created) >= c.bakeTime {
				live.img.State = types.ImageStateAvailable
			}
		}
	}
	ims, err := describe(c.images, in.ImageIds, "InvalidAMIID.NotFound", in.Filters, func(im *fakeImage) ([]types.Tag, map[string][]string) {
		i := im.img
		return i.Tags, map[string][]string{"image-id": {*i.ImageId}, "name": {aws.ToString(i.Name)}, "owner-id": {*i.OwnerId},
			"state": {string(i.State)}, "architecture": {string(i.Architecture)}, "root-device-type": {string(i.RootDeviceType)},
			"virtualization-type": {string(i.VirtualizationType)}, "is-public": {boolString(aws.ToBool(i.Public))}}
	})
	if err != nil {
		return nil, err
	}
	out := &ec2.DescribeImagesOutput{}
	for _, im := range ims {
		if len(owners) > 0 && !slices.Contains(owners, aws.ToString(im.img.OwnerId)) {
			continue
		}
		img := im.img
		img.Tags = slices.Clone(img.Tags)
		img.BlockDeviceMappings = slices.Clone(img.BlockDeviceMappings)
		out.Images = append(out.Images, img)
	}
	return finish(out, nil, fault)
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

var amiName = regexp.MustCompile(`^[a-zA-Z0-9()\[\] ./\-'@_]{3,128}$`)

// CreateImage snapshots the instance's root volume into a new image, tagging
// both from TagSpecifications; without NoReboot the instance reboots.
func (f *EC2) CreateImage(ctx context.Context, in *ec2.CreateImageInput, _ ...func(*ec2.Options)) (*ec2.CreateImageOutput, error) {
	fault, err := f.begin(ctx, "CreateImage")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	id, name := aws.ToString(in.InstanceId), aws.ToString(in.Name)
	inst, ok := c.instances[id]
	if !ok {
		return nil, APIError("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	if s := inst.inst.State.Name; s != types.InstanceStateNameRunning && s != types.InstanceStateNameStopped {
		return nil, APIError("IncorrectInstanceState", "Instance '%s' is not in a state from which it can be imaged (%s)", id, s)
	}
	if !amiName.MatchString(name) {
		return nil, APIError("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'")
	}
	for _, im := range c.images {
		if aws.ToString(im.img.OwnerId) == Account && aws.ToString(im.img.Name) == name {
			return nil, APIError("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s", name, aws.ToString(im.img.ImageId))
		}
	}
	for _, s := range in.TagSpecifications {
		if s.ResourceType != types.ResourceTypeImage && s.ResourceType != types.ResourceTypeSnapshot {
			return nil, APIError("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", s.ResourceType)
		}
	}
	snapID, imageID := f.id("snap"), f.id("ami")
	c.snapshots[snapID] = &types.Snapshot{SnapshotId: aws.String(snapID), OwnerId: aws.String(Account), State: types.SnapshotStateCompleted,
		VolumeId: inst.volumeID(), VolumeSize: aws.Int32(8), StartTime: aws.Time(time.Now()), Progress: aws.String("100%"),
		Description: aws.String("Created by CreateImage(" + id + ") for " + imageID), Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeSnapshot)}
	c.images[imageID] = &fakeImage{img: types.Image{ImageId: aws.String(imageID), OwnerId: aws.String(Account), Name: aws.String(name),
		Description: in.Description, Architecture: types.ArchitectureValuesX8664, State: types.ImageStatePending, Public: aws.Bool(false),
		CreationDate: aws.String(time.Now().UTC().Format("2006-01-02T15:04:05.000Z")), RootDeviceType: types.DeviceTypeEbs,
		VirtualizationType: types.VirtualizationTypeHvm, RootDeviceName: aws.String("/dev/sda1"),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sda1"), Ebs: &types.EbsBlockDevice{SnapshotId: aws.String(snapID), VolumeSize: aws.Int32(8)}}},
		Tags:                tagsFromSpecs(in.TagSpecifications, types.ResourceTypeImage)}, installed: inst.installed, created: time.Now()}
	if !aws.ToBool(in.NoReboot) {
		inst.reboots++
	}
	return finish(&ec2.CreateImageOutput{ImageId: aws.String(imageID)}, nil, fault)
}

// DeregisterImage removes an image; its snapshots stay (and are billed)
// unless DeleteAssociatedSnapshots is set, as in AWS.
func (f *EC2) DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, _ ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error) {
	fault, err := f.begin(ctx, "DeregisterImage")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	id := aws.ToString(in.ImageId)
	im, ok := c.images[id]
	if !ok || aws.ToString(im.img.OwnerId) != Account {
		return nil, APIError("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
	}
	delete(c.images, id)
	if aws.ToBool(in.DeleteAssociatedSnapshots) {
		for _, m := range im.img.BlockDeviceMappings {
			if m.Ebs != nil {
				delete(c.snapshots, aws.ToString(m.Ebs.SnapshotId))
			}
		}
	}
	return finish(&ec2.DeregisterImageOutput{Return: aws.Bool(true)}, nil, fault)
}

func (f *EC2) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	fault, err := f.begin(ctx, "DescribeSnapshots")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	ss, err := describe(c.snapshots, in.SnapshotIds, "InvalidSnapshot.NotFound", in.Filters, func(s *types.Snapshot) ([]types.Tag, map[string][]string) {
		return s.Tags, map[string][]string{"snapshot-id": {*s.SnapshotId}, "status": {string(s.State)}, "volume-id": {aws.ToString(s.VolumeId)},
			"owner-id": {*s.OwnerId}, "description": {aws.ToString(s.Description)}}
	})
	if err != nil {
		return nil, err
	}
	for i := range ss {
		ss[i].Tags = slices.Clone(ss[i].Tags)
	}
	return finish(&ec2.DescribeSnapshotsOutput{Snapshots: ss}, nil, fault)
}

// DeleteSnapshot refuses while an image still uses the snapshot, as AWS does.
func (f *EC2) DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, _ ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error) {
	fault, err := f.begin(ctx, "DeleteSnapshot")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	id := aws.ToString(in.SnapshotId)
	if _, ok := c.snapshots[id]; !ok {
		return nil, APIError("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
	}
	for _, k := range sortedKeys(c.images) {
		for _, m := range c.images[k].img.BlockDeviceMappings {
			if m.Ebs != nil && aws.ToString(m.Ebs.SnapshotId) == id {
				return nil, APIError("InvalidSnapshot.InUse", "The snapshot %s is currently in use by %s", id, k)
			}
		}
	}
	delete(c.snapshots, id)
	return finish(&ec2.DeleteSnapshotOutput{}, nil, fault)
}
