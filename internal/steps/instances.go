package steps

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// The stand-alone instances of stages 2-4: two per tier. The first of a
// tier is installed from S3 on plain Ubuntu (bootstrap user data) and is
// the source of the tier's first AMI; the second starts from that AMI.
// Every instance runs with its tier's instance profile, carries the release
// it runs in a tag, and reads its runtime settings from Parameter Store
// (settings.go), so no setting and no secret is in its user data and a
// settings change replaces no instance. Only a new release does.

// Ubuntu 22.04 amd64 from Canonical (DESIGN.md §8).
const (
	canonicalOwner   = "099720109477"
	jammyNamePattern = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"
)

// appTier is one tier of instances.
type appTier struct {
	Name        string // frontend, backend: the tier in settings paths, release keys and reports
	Service     string // systemd unit and binary (file in artifacts_dir)
	Port        int32  // the app's port and the target group's
	HealthPath  string
	GroupOutput string // stage security's output holding the tier's group
	// ProfileOutput is stage security's output holding the instance profile
	// (its name, or the configured name or ARN).
	ProfileOutput string
	AMIName       string
	AMIStage      string // stage that bakes the AMI and records it as AMIOutput
	AMIOutput     string
	ReleaseOutput string // the AMI stage's output: the release the AMI holds
	Members       [2]tierMember
}

// tierMember is one stand-alone instance.
type tierMember struct {
	Name   string // Name tag (stack-prefixed by r.Name)
	Owner  string // stage that lists it in its state and output
	Output string // owner's output holding its id
	Subnet int    // public subnet number, 1-4
}

func (m tierMember) key() string { return "instance/" + m.Name }

var frontendTier = appTier{Name: "frontend", Service: "myapp-frontend", Port: 80, HealthPath: "/", GroupOutput: OutFrontendSG,
	ProfileOutput: OutFrontendProfile, AMIName: "frontend-AMI", AMIStage: "frontend-lb", AMIOutput: OutFrontendAMI, ReleaseOutput: OutFrontendRelease,
	Members: [2]tierMember{{"frontend-1", "security", OutFrontend1ID, 1}, {"frontend-2", "frontend-lb", OutFrontend2ID, 2}}}

var backendTier = appTier{Name: "backend", Service: "myapp-backend", Port: 8090, HealthPath: "/health", GroupOutput: OutBackendSG,
	ProfileOutput: OutBackendProfile, AMIName: "backend-AMI", AMIStage: "backend", AMIOutput: OutBackendAMI, ReleaseOutput: OutBackendRelease,
	Members: [2]tierMember{{"backend-1", "backend", OutBackend1ID, 3}, {"backend-2", "backend", OutBackend2ID, 4}}}

// serviceEnv is the environment the tier's service runs with on every
// instance: where its settings and reports live. No setting, no secret.
func serviceEnv(r *Run, t *appTier) runtimeSettings {
	return runtimeSettings{
		{"PORT", fmt.Sprint(t.Port)},
		{"SETTINGS_PATH", settingsPath(r, t)},
		{"SETTINGS_REFRESH", r.Cfg.SettingsRefresh.String()},
		{"REPORT_BUCKET", r.Output("security", OutArtifactsBucket)},
		{"REPORT_TIER", t.Name},
		{"STACK", r.Cfg.Stack},
		{"AWS_REGION", r.Cfg.Region},
	}
}

// ensureSourceInstance makes the tier's first instance: plain Ubuntu whose
// user data installs the release from the artifacts bucket. An instance
// that exists is kept whatever it runs (rollInstances replaces it when its
// release differs).
func ensureSourceInstance(ctx context.Context, r *Run, t *appTier, rel release) (string, error) {
	m := t.Members[0]
	detail := fmt.Sprintf("%s in public subnet %d, Ubuntu 22.04 installing %s release %s%s", r.Cfg.InstanceType, m.Subnet, t.Service, rel.short(), artifactNote(r, t.Service))
	return ensureMemberInstance(ctx, r, m, detail, func(ctx context.Context, token string) (string, error) {
		userData, image, err := bootstrapLaunch(ctx, r, t, rel)
		if err != nil {
			return "", err
		}
		return launchInstance(ctx, r, t, launch{name: r.Name(m.Name), owner: m.Owner, subnet: m.Subnet, token: token,
			image: image, userData: userData, release: rel.sha, source: sourceBootstrap})
	})
}

// bootstrapLaunch publishes the release and returns the user data that
// installs it and the base image it installs on.
func bootstrapLaunch(ctx context.Context, r *Run, t *appTier, rel release) (userData, image string, err error) {
	ref, err := publishRelease(ctx, r, t, rel)
	if err != nil {
		return "", "", err
	}
	if image, err = baseImage(ctx, r); err != nil {
		return "", "", err
	}
	userData, err = renderBootstrapUserData(t.Name, t.Service, serviceEnv(r, t), ref, defaultUserDataPaths())
	return userData, image, err
}

// ensureAMIInstance makes the tier's second instance from the tier AMI.
func ensureAMIInstance(ctx context.Context, r *Run, t *appTier, ami string, rel release) (string, error) {
	m := t.Members[1]
	detail := fmt.Sprintf("%s in public subnet %d, from %s (release %s)", r.Cfg.InstanceType, m.Subnet, ami, rel.short())
	return ensureMemberInstance(ctx, r, m, detail, func(ctx context.Context, token string) (string, error) {
		return launchFromAMI(ctx, r, t, m, token, ami, rel)
	})
}

// launchFromAMI starts a member from the tier AMI (which holds rel).
func launchFromAMI(ctx context.Context, r *Run, t *appTier, m tierMember, token, ami string, rel release) (string, error) {
	userData, err := renderRuntimeUserData(t.Name, t.Service, serviceEnv(r, t), defaultUserDataPaths())
	if err != nil {
		return "", err
	}
	return launchInstance(ctx, r, t, launch{name: r.Name(m.Name), owner: m.Owner, subnet: m.Subnet, token: token,
		image: ami, userData: userData, release: rel.sha, source: sourceAMI})
}

// ensureMemberInstance finds (state id, else Name tag) or launches a member
// owned by this stage, then waits until it runs.
func ensureMemberInstance(ctx context.Context, r *Run, m tierMember, detail string, create func(context.Context, string) (string, error)) (string, error) {
	name := r.Name(m.Name)
	id, err := r.Ensure(ctx, Spec{Key: m.key(), Kind: instanceKind, Name: name, Detail: detail, Create: create})
	if err == nil && m.Owner == r.Stage.Name {
		err = r.SetOutput(m.Output, id)
	}
	if err != nil || isPlanned(id) || r.DryRun {
		return id, err
	}
	return id, waitInstanceRunning(ctx, r, id, name)
}

// launch is one RunInstances of a tier instance.
type launch struct {
	name, owner string // Name tag; the stage whose step tag it carries
	subnet      int    // public subnet number
	token, image, userData,
	release, source string
	extraTags awsx.Tags
}

// launchInstance starts a tier instance: its tier's group, instance profile
// and public subnet, IMDSv2 only, a key pair only when configured, tagged
// (instance and root volume) in the call. A profile IAM has not yet
// propagated to EC2 is retried.
func launchInstance(ctx context.Context, r *Run, t *appTier, l launch) (string, error) {
	subnets := strings.Split(r.Output("vpc", OutPublicSubnets), ",")
	group, profile := r.Output("security", t.GroupOutput), r.Output("security", t.ProfileOutput)
	if len(subnets) < l.subnet || group == "" || profile == "" {
		return "", fmt.Errorf("stage %s: the public subnets, the %s security group or instance profile are not in the state file: run `myappctl up --to security` first", r.Stage.Name, t.Name)
	}
	tags := awsx.StackTags(r.Cfg.Stack, l.owner, l.name)
	instanceTags := awsx.Tags{tagRelease: l.release, tagSource: l.source, tagTier: t.Name}
	maps.Copy(instanceTags, l.extraTags)
	maps.Copy(instanceTags, tags)
	in := &ec2.RunInstancesInput{ImageId: aws.String(l.image), InstanceType: ec2types.InstanceType(r.Cfg.InstanceType),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnets[l.subnet-1]), SecurityGroupIds: []string{group},
		IamInstanceProfile: profileSpec(profile),
		UserData:           aws.String(base64.StdEncoding.EncodeToString([]byte(l.userData))), ClientToken: aws.String(l.token),
		MetadataOptions: &ec2types.InstanceMetadataOptionsRequest{HttpTokens: ec2types.HttpTokensStateRequired,
			HttpPutResponseHopLimit: aws.Int32(2), HttpEndpoint: ec2types.InstanceMetadataEndpointStateEnabled},
		TagSpecifications: append(instanceTags.EC2Spec(ec2types.ResourceTypeInstance), tags.EC2Spec(ec2types.ResourceTypeVolume)...)}
	if r.Cfg.KeyName != "" {
		in.KeyName = aws.String(r.Cfg.KeyName)
	}
	var out *ec2.RunInstancesOutput
	err := untilProfileVisible(ctx, r, profile, func() (err error) {
		out, err = r.AWS.EC2.RunInstances(ctx, in)
		return err
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Instances[0].InstanceId), nil
}

// baseImage is base_ami, else the newest Ubuntu 22.04 amd64 from Canonical.
func baseImage(ctx context.Context, r *Run) (string, error) {
	in := &ec2.DescribeImagesInput{Owners: []string{canonicalOwner}, Filters: []ec2types.Filter{
		awsx.EC2Filter("name", jammyNamePattern), awsx.EC2Filter("state", "available"), awsx.EC2Filter("architecture", "x86_64"),
		awsx.EC2Filter("root-device-type", "ebs"), awsx.EC2Filter("virtualization-type", "hvm")}}
	if r.Cfg.BaseAMI != "" {
		in = &ec2.DescribeImagesInput{ImageIds: []string{r.Cfg.BaseAMI}}
	}
	out, err := r.AWS.EC2.DescribeImages(ctx, in)
	if err == nil && len(out.Images) == 0 {
		err = fmt.Errorf("none found")
	}
	switch {
	case err != nil && r.Cfg.BaseAMI != "":
		return "", fmt.Errorf("stage %s: base_ami %s is not an image this account can use in %s: %w", r.Stage.Name, r.Cfg.BaseAMI, r.Cfg.Region, err)
	case err != nil:
		return "", fmt.Errorf("stage %s: look for Ubuntu 22.04 images of Canonical (%s) in %s: %w; set base_ami to an Ubuntu 22.04 amd64 AMI", r.Stage.Name, canonicalOwner, r.Cfg.Region, err)
	}
	sort.Slice(out.Images, func(i, j int) bool {
		return aws.ToString(out.Images[i].CreationDate) > aws.ToString(out.Images[j].CreationDate)
	})
	r.Logf("base image: %s (%s)", aws.ToString(out.Images[0].ImageId), aws.ToString(out.Images[0].Name))
	return aws.ToString(out.Images[0].ImageId), nil
}

// waitInstanceRunning waits with the SDK waiter; a stopped instance is an
// error with what to do, not a 15-minute wait.
func waitInstanceRunning(ctx context.Context, r *Run, id, name string) error {
	in, err := describeInstance(ctx, r.Env, id)
	if err != nil || in == nil {
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: instanceKind.Type + " " + name, Err: err}
	}
	switch in.State.Name {
	case ec2types.InstanceStateNameRunning:
		return nil
	case ec2types.InstanceStateNameStopped, ec2types.InstanceStateNameStopping:
		return fmt.Errorf("stage %s: instance %s (%s) is %s: start it (`aws ec2 start-instances --instance-ids %s`) or terminate it, then run again",
			r.Stage.Name, name, id, in.State.Name, id)
	}
	spec := r.wait("instance "+name+" ("+id+") to run", 0, "check it with `aws ec2 describe-instances --instance-ids "+id+"`")
	err = awsx.WaitWithProgress(ctx, spec, func(ctx context.Context, maxWait time.Duration) error {
		w := ec2.NewInstanceRunningWaiter(r.AWS.EC2, func(o *ec2.InstanceRunningWaiterOptions) {
			o.MinDelay, o.MaxDelay = spec.Interval, spec.Interval
		})
		return w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, maxWait)
	})
	if err != nil {
		return &StageError{Stage: r.Stage.Name, Action: "wait for", Resource: instanceKind.Type + " " + name, Err: err}
	}
	return nil
}

// instanceStateOf is an instance's state for status.
func instanceStateOf(ctx context.Context, e *Env, id string) string {
	if id == "" {
		return "not created"
	}
	in, err := describeInstance(ctx, e, id)
	switch {
	case err != nil:
		return "unknown: " + shortErr(err)
	case in == nil:
		return "missing"
	}
	return string(in.State.Name)
}
