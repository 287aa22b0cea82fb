package fakeaws

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// maxUserData is AWS's limit on user data before base64 encoding.
const maxUserData = 16 * 1024

type fakeInstance struct {
	inst       types.Instance
	userData   string
	volumeTags []types.Tag
	describes  int
	reboots    int
	// installed is the myappctl release on its disk: from its image, or
	// installed by its bootstrap (Agent).
	installed string
	since     time.Time // when it entered its state
}

func (i *fakeInstance) volumeID() *string {
	return i.inst.BlockDeviceMappings[0].Ebs.VolumeId
}

// RunInstances launches one instance (MinCount = MaxCount = 1) in a subnet,
// validating what AWS validates; a repeated ClientToken returns the instance
// the first call launched.
func (f *EC2) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, _ ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	fault, err := f.begin(ctx, "RunInstances")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	if id, ok := f.byToken("RunInstances", aws.ToString(in.ClientToken)); ok {
		return finish(f.reservation(c.instances[id]), nil, fault)
	}
	if aws.ToInt32(in.MinCount) != 1 || aws.ToInt32(in.MaxCount) != 1 {
		return nil, APIError("InvalidParameterValue", "fake launches exactly one instance (MinCount = MaxCount = 1)")
	}
	fi, err := f.launch(in)
	if err != nil {
		return nil, err
	}
	f.remember("RunInstances", aws.ToString(in.ClientToken), aws.ToString(fi.inst.InstanceId))
	return finish(f.reservation(fi), nil, fault)
}

// launch validates and starts one instance, as RunInstances and Auto
// Scaling groups do. Callers hold f.mu.
func (f *EC2) launch(in *ec2.RunInstancesInput) (*fakeInstance, error) {
	c := f.compute()
	subnet, err := f.launchSubnet(in)
	if err != nil {
		return nil, err
	}
	image, ok := c.images[aws.ToString(in.ImageId)]
	switch {
	case !ok:
		return nil, APIError("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", aws.ToString(in.ImageId))
	case image.img.State != types.ImageStateAvailable:
		return nil, APIError("InvalidAMIID.Unavailable", "The image id '[%s]' is not available", aws.ToString(in.ImageId))
	}
	groups, err := f.launchGroups(in.SecurityGroupIds, aws.ToString(subnet.VpcId))
	if err != nil {
		return nil, err
	}
	userData, err := base64.StdEncoding.DecodeString(aws.ToString(in.UserData))
	switch {
	case err != nil:
		return nil, APIError("InvalidParameterValue", "Invalid BASE64 encoding of user data.")
	case len(userData) > maxUserData:
		return nil, APIError("InvalidParameterValue", "User data is limited to %d bytes", maxUserData)
	}
	for _, s := range in.TagSpecifications {
		if s.ResourceType != types.ResourceTypeInstance && s.ResourceType != types.ResourceTypeVolume && s.ResourceType != types.ResourceTypeNetworkInterface {
			return nil, APIError("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", s.ResourceType)
		}
	}
	var profile *types.IamInstanceProfile
	if p := in.IamInstanceProfile; p != nil {
		if profile, err = f.instanceProfile(aws.ToString(p.Name), aws.ToString(p.Arn)); err != nil {
			return nil, err
		}
	}
	id := f.id("i")
	fi := &fakeInstance{userData: string(userData), volumeTags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeVolume), installed: image.installed}
	fi.inst = types.Instance{InstanceId: aws.String(id), ImageId: in.ImageId, InstanceType: in.InstanceType, KeyName: in.KeyName,
		SubnetId: subnet.SubnetId, VpcId: subnet.VpcId, Placement: &types.Placement{AvailabilityZone: subnet.AvailabilityZone},
		PrivateIpAddress: aws.String(f.privateIP(subnet)), SecurityGroups: groups, LaunchTime: aws.Time(time.Now()),
		MetadataOptions: metadataOptions(in.MetadataOptions), Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeInstance),
		BlockDeviceMappings: []types.InstanceBlockDeviceMapping{{DeviceName: aws.String("/dev/sda1"),
			Ebs: &types.EbsInstanceBlockDevice{VolumeId: aws.String(f.id("vol")), Status: types.AttachmentStatusAttached, DeleteOnTermination: aws.Bool(true)}}},
		RootDeviceName: aws.String("/dev/sda1"), RootDeviceType: types.DeviceTypeEbs, Architecture: types.ArchitectureValuesX8664,
		IamInstanceProfile: profile}
	if aws.ToBool(subnet.MapPublicIpOnLaunch) {
		fi.inst.PublicIpAddress = aws.String(fmt.Sprintf("203.0.113.%d", f.seq%250+1))
		fi.inst.PublicDnsName = aws.String("ec2-" + strings.ReplaceAll(*fi.inst.PublicIpAddress, ".", "-") + ".compute-1.amazonaws.com")
	}
	c.instances[id] = fi
	f.setState(fi, types.InstanceStateNamePending)
	return fi, nil
}

// instanceProfile resolves the instance profile a launch names (by name
// or ARN) as EC2 sees it; nil when it names none. Until a new profile has
// propagated, EC2 answers as if it did not exist.
func (f *EC2) instanceProfile(name, arn string) (*types.IamInstanceProfile, error) {
	switch {
	case name == "" && arn == "":
		return nil, nil
	case name != "" && arn != "":
		return nil, APIError("InvalidParameterCombination", "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'")
	}
	if f.InstanceProfile != nil {
		if profileARN, id, ok := f.InstanceProfile(name, arn); ok {
			return &types.IamInstanceProfile{Arn: aws.String(profileARN), Id: aws.String(id)}, nil
		}
	}
	if arn != "" {
		return nil, APIError("InvalidParameterValue", "Value (%s) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN", arn)
	}
	return nil, APIError("InvalidParameterValue", "Value (%s) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name", name)
}

func (f *EC2) launchSubnet(in *ec2.RunInstancesInput) (*types.Subnet, error) {
	subnet, ok := f.subnets[aws.ToString(in.SubnetId)]
	if !ok {
		return nil, APIError("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", aws.ToString(in.SubnetId))
	}
	it := string(in.InstanceType)
	if it == "" {
		return nil, APIError("MissingParameter", "The request must contain the parameter InstanceType")
	}
	if zones, listed := f.Offered[it]; listed && !slices.Contains(zones, aws.ToString(subnet.AvailabilityZone)) {
		return nil, APIError("Unsupported", "Your requested instance type (%s) is not supported in your requested Availability Zone (%s).", it, aws.ToString(subnet.AvailabilityZone))
	}
	return subnet, nil
}

func (f *EC2) launchGroups(ids []string, vpc string) ([]types.GroupIdentifier, error) {
	if len(ids) == 0 {
		return nil, APIError("MissingParameter", "fake needs SecurityGroupIds (the VPC default group is not implied)")
	}
	var out []types.GroupIdentifier
	for _, id := range ids {
		g, ok := f.sgs[id]
		if !ok {
			return nil, APIError("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
		if aws.ToString(g.VpcId) != vpc {
			return nil, APIError("InvalidParameter", "Security group %s and subnet belong to different networks.", id)
		}
		out = append(out, types.GroupIdentifier{GroupId: g.GroupId, GroupName: g.GroupName})
	}
	return out, nil
}

func (f *EC2) privateIP(s *types.Subnet) string {
	p := netip.MustParsePrefix(aws.ToString(s.CidrBlock)).Addr()
	for i := 0; i < 4+f.seq%200; i++ {
		p = p.Next()
	}
	return p.String()
}

// metadataOptions applies AWS's defaults: IMDSv1 and v2 allowed, hop limit 1.
func metadataOptions(req *types.InstanceMetadataOptionsRequest) *types.InstanceMetadataOptionsResponse {
	out := &types.InstanceMetadataOptionsResponse{HttpEndpoint: types.InstanceMetadataEndpointStateEnabled, HttpTokens: types.HttpTokensStateOptional,
		HttpPutResponseHopLimit: aws.Int32(1), State: types.InstanceMetadataOptionsStateApplied}
	if req == nil {
		return out
	}
	if req.HttpTokens != "" {
		out.HttpTokens = req.HttpTokens
	}
	if req.HttpPutResponseHopLimit != nil {
		out.HttpPutResponseHopLimit = req.HttpPutResponseHopLimit
	}
	if req.HttpEndpoint != "" {
		out.HttpEndpoint = req.HttpEndpoint
	}
	return out
}

func (f *EC2) reservation(fi *fakeInstance) *ec2.RunInstancesOutput {
	return &ec2.RunInstancesOutput{ReservationId: aws.String("r-" + strings.TrimPrefix(*fi.inst.InstanceId, "i-")), OwnerId: aws.String(Account),
		Instances: []types.Instance{copyInstance(fi.inst)}}
}

func copyInstance(in types.Instance) types.Instance {
	in.Tags = slices.Clone(in.Tags)
	in.SecurityGroups = slices.Clone(in.SecurityGroups)
	if p := in.IamInstanceProfile; p != nil {
		in.IamInstanceProfile = &types.IamInstanceProfile{Arn: p.Arn, Id: p.Id}
	}
	state := *in.State
	in.State = &state
	return in
}

// DescribeInstances lists instances; each describe moves a pending instance
// toward running and a shutting-down one toward terminated. Terminated
// instances stay listed, as in AWS.
func (f *EC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	fault, err := f.begin(ctx, "DescribeInstances")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	for _, id := range in.InstanceIds {
		if _, ok := c.instances[id]; !ok {
			return nil, APIError("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
		}
	}
	for _, k := range sortedKeys(c.instances) {
		if len(in.InstanceIds) == 0 || slices.Contains(in.InstanceIds, k) {
			f.advance(c.instances[k])
		}
	}
	is, err := describe(c.instances, in.InstanceIds, "InvalidInstanceID.NotFound", in.Filters, func(fi *fakeInstance) ([]types.Tag, map[string][]string) {
		i := fi.inst
		attrs := map[string][]string{"instance-id": {*i.InstanceId}, "instance-state-name": {string(i.State.Name)}, "subnet-id": {*i.SubnetId},
			"vpc-id": {*i.VpcId}, "image-id": {*i.ImageId}, "instance-type": {string(i.InstanceType)}, "availability-zone": {*i.Placement.AvailabilityZone}}
		for _, g := range i.SecurityGroups {
			attrs["instance.group-id"] = append(attrs["instance.group-id"], *g.GroupId)
		}
		if p := i.IamInstanceProfile; p != nil {
			attrs["iam-instance-profile.arn"] = []string{aws.ToString(p.Arn)}
		}
		return i.Tags, attrs
	})
	if err != nil {
		return nil, err
	}
	out := &ec2.DescribeInstancesOutput{}
	for _, fi := range is {
		out.Reservations = append(out.Reservations, types.Reservation{ReservationId: aws.String("r-" + strings.TrimPrefix(*fi.inst.InstanceId, "i-")),
			OwnerId: aws.String(Account), Instances: []types.Instance{copyInstance(fi.inst)}})
	}
	return finish(out, nil, fault)
}

// advance moves an instance one describe along its lifecycle. Callers hold f.mu.
func (f *EC2) advance(fi *fakeInstance) {
	fi.describes++
	settled := fi.describes > f.cmp.pendingDescribes
	if f.cmp.bootTime > 0 {
		settled = time.Since(fi.since) >= f.cmp.bootTime
	}
	switch fi.inst.State.Name {
	case types.InstanceStateNamePending:
		if settled {
			f.setState(fi, types.InstanceStateNameRunning)
		}
	case types.InstanceStateNameShuttingDown:
		if settled {
			f.setState(fi, types.InstanceStateNameTerminated)
			fi.inst.PublicIpAddress, fi.inst.PublicDnsName = nil, aws.String("")
		}
	}
}

func (f *EC2) TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, _ ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	fault, err := f.begin(ctx, "TerminateInstances")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	for _, id := range in.InstanceIds {
		if _, ok := c.instances[id]; !ok {
			return nil, APIError("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
		}
	}
	out := &ec2.TerminateInstancesOutput{}
	for _, id := range in.InstanceIds {
		fi := c.instances[id]
		prev := *fi.inst.State
		if prev.Name != types.InstanceStateNameTerminated && prev.Name != types.InstanceStateNameShuttingDown {
			f.setState(fi, types.InstanceStateNameShuttingDown)
		}
		out.TerminatingInstances = append(out.TerminatingInstances, types.InstanceStateChange{InstanceId: aws.String(id),
			PreviousState: &prev, CurrentState: &types.InstanceState{Name: fi.inst.State.Name, Code: fi.inst.State.Code}})
	}
	return finish(out, nil, fault)
}

// InstanceUserData returns an instance's decoded user data (for assertions).
func (f *EC2) InstanceUserData(id string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, ok := f.compute().instances[id]
	if !ok {
		return "", false
	}
	return fi.userData, true
}

// InstanceVolumeTags returns the tags the launch gave an instance's root volume.
func (f *EC2) InstanceVolumeTags(id string) []types.Tag {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fi, ok := f.compute().instances[id]; ok {
		return slices.Clone(fi.volumeTags)
	}
	return nil
}

// Reboots returns how often CreateImage rebooted an instance.
func (f *EC2) Reboots(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fi, ok := f.compute().instances[id]; ok {
		return fi.reboots
	}
	return 0
}
