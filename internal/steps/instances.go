package steps

import (
	"context"
	"encoding/base64"
	"fmt"
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
// the source of the tier's AMI; the second starts from that AMI and only
// gets its runtime settings. Every instance carries the hash of its
// runtime settings in a tag, so a later stage can tell whether it runs
// with the settings it should (see rollInstances).

// Tags on every tier instance, next to Name and the stack tags. The step
// tag names the stage that owns the instance (lists it in its state),
// whichever stage launched it.
const (
	tagConfig       = "myappctl:config" // runtimeSettings.hash() it was launched with
	tagSource       = "myappctl:source" // how it was installed
	sourceBootstrap = "bootstrap"       // from Ubuntu, installs the binary from S3
	sourceAMI       = "ami"             // from the tier AMI, only writes settings
)

// Ubuntu 22.04 amd64 from Canonical (DESIGN.md §8).
const (
	canonicalOwner   = "099720109477"
	jammyNamePattern = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"
)

// appTier is one tier of stand-alone instances.
type appTier struct {
	Name        string // frontend, backend: the object prefix in the artifacts bucket
	Service     string // systemd unit and binary (file in artifacts_dir)
	Port        int32  // the app's port and the target group's
	HealthPath  string
	GroupOutput string // stage security's output holding the tier's group
	AMIName     string
	AMIStage    string // stage that bakes the AMI and records it as AMIOutput
	AMIOutput   string
	Members     [2]tierMember
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
	AMIName: "frontend-AMI", AMIStage: "frontend-lb", AMIOutput: OutFrontendAMI,
	Members: [2]tierMember{{"frontend-1", "security", OutFrontend1ID, 1}, {"frontend-2", "frontend-lb", OutFrontend2ID, 2}}}

var backendTier = appTier{Name: "backend", Service: "myapp-backend", Port: 8090, HealthPath: "/health", GroupOutput: OutBackendSG,
	AMIName: "backend-AMI", AMIStage: "backend", AMIOutput: OutBackendAMI,
	Members: [2]tierMember{{"backend-1", "backend", OutBackend1ID, 3}, {"backend-2", "backend", OutBackend2ID, 4}}}

// placeholderAPIURL is the documented APIURL until stage 7 links the tiers.
const placeholderAPIURL = "http://localhost:8090"

// frontendSettings are the frontend's runtime settings.
func frontendSettings(apiURL string) runtimeSettings {
	return runtimeSettings{{"PORT", "80"}, {"APIURL", apiURL}}
}

// backendSettings are the backend's runtime settings: the database once
// stage rds wrote it (without DBURL the backend runs on SQLite), and the
// carousel index URL, which follows from the configuration and account
// whether or not stage s3-sync has run yet.
func backendSettings(ctx context.Context, r *Run) (runtimeSettings, error) {
	s := runtimeSettings{{"PORT", fmt.Sprint(backendTier.Port)}}
	if endpoint := r.Output("rds", OutDBEndpoint); endpoint != "" {
		s = append(s, envVar{"DBURL", endpoint}, envVar{"DBPORT", r.Output("rds", OutDBPort)},
			envVar{"DBUSER", r.Output("rds", OutDBUsername)}, envVar{"DBPASSWORD", r.State.Secret("rds", SecretDBPassword)},
			envVar{"DBDATABASE", r.Output("rds", OutDBName)})
	}
	u, err := carouselIndexURL(ctx, r.Env)
	if err != nil {
		return nil, &StageError{Stage: r.Stage.Name, Action: "name", Resource: "carousel bucket", Err: err}
	}
	return append(s, envVar{"CAROUSEL_URL", u}), nil
}

// ensureSourceInstance makes the tier's first instance: plain Ubuntu whose
// user data installs the app from the artifacts bucket. An instance that
// exists is kept whatever its settings (rollInstances changes those).
func ensureSourceInstance(ctx context.Context, r *Run, t *appTier, settings runtimeSettings) (string, error) {
	m := t.Members[0]
	detail := fmt.Sprintf("%s in public subnet %d, Ubuntu 22.04 installing %s%s", r.Cfg.InstanceType, m.Subnet, t.Service, artifactNote(r, t.Service))
	return ensureMemberInstance(ctx, r, m, detail, func(ctx context.Context, token string) (string, error) {
		art, err := publishArtifact(ctx, r, t)
		if err != nil {
			return "", err
		}
		image, err := baseImage(ctx, r)
		if err != nil {
			return "", err
		}
		userData, err := renderBootstrapUserData(t.Service, settings, art, defaultUserDataPaths())
		if err != nil {
			return "", err
		}
		return launchInstance(ctx, r, t, m, launch{token: token, image: image, userData: userData, config: settings.hash(), source: sourceBootstrap})
	})
}

// ensureAMIInstance makes the tier's second instance from the tier AMI.
func ensureAMIInstance(ctx context.Context, r *Run, t *appTier, ami string, settings runtimeSettings) (string, error) {
	m := t.Members[1]
	detail := fmt.Sprintf("%s in public subnet %d, from %s", r.Cfg.InstanceType, m.Subnet, ami)
	return ensureMemberInstance(ctx, r, m, detail, func(ctx context.Context, token string) (string, error) {
		userData, err := renderRuntimeUserData(t.Service, settings, defaultUserDataPaths())
		if err != nil {
			return "", err
		}
		return launchInstance(ctx, r, t, m, launch{token: token, image: ami, userData: userData, config: settings.hash(), source: sourceAMI})
	})
}

// ensureMemberInstance finds (state id, else Name tag) or launches a member
// owned by this stage, then waits until it runs.
func ensureMemberInstance(ctx context.Context, r *Run, m tierMember, detail string, create func(context.Context, string) (string, error)) (string, error) {
	name := r.Name(m.Name)
	id, err := r.Ensure(ctx, Spec{Key: m.key(), Kind: instanceKind, Name: name, Detail: detail, Create: create})
	if err != nil || isPlanned(id) || r.DryRun {
		return id, err
	}
	return id, waitInstanceRunning(ctx, r, id, name)
}

// launch is one RunInstances of a tier member.
type launch struct {
	token, image, userData, config, source string
}

// launchInstance starts a member: its tier's group, its public subnet,
// IMDSv2 only, a key pair only when configured, tagged (instance and root
// volume) in the call, owned by the member's stage.
func launchInstance(ctx context.Context, r *Run, t *appTier, m tierMember, l launch) (string, error) {
	subnets := strings.Split(r.Output("vpc", OutPublicSubnets), ",")
	group := r.Output("security", t.GroupOutput)
	if len(subnets) < m.Subnet || group == "" {
		return "", fmt.Errorf("stage %s: the public subnets or the %s security group are not in the state file: run `myappctl up --to security` first", r.Stage.Name, t.Name)
	}
	name := r.Name(m.Name)
	tags := awsx.StackTags(r.Cfg.Stack, m.Owner, name)
	instanceTags := awsx.Tags{tagConfig: l.config, tagSource: l.source}
	for k, v := range tags {
		instanceTags[k] = v
	}
	in := &ec2.RunInstancesInput{ImageId: aws.String(l.image), InstanceType: ec2types.InstanceType(r.Cfg.InstanceType),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnets[m.Subnet-1]), SecurityGroupIds: []string{group},
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(l.userData))), ClientToken: aws.String(l.token),
		MetadataOptions: &ec2types.InstanceMetadataOptionsRequest{HttpTokens: ec2types.HttpTokensStateRequired,
			HttpPutResponseHopLimit: aws.Int32(2), HttpEndpoint: ec2types.InstanceMetadataEndpointStateEnabled},
		TagSpecifications: append(instanceTags.EC2Spec(ec2types.ResourceTypeInstance), tags.EC2Spec(ec2types.ResourceTypeVolume)...)}
	if r.Cfg.KeyName != "" {
		in.KeyName = aws.String(r.Cfg.KeyName)
	}
	out, err := r.AWS.EC2.RunInstances(ctx, in)
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

// waitInstanceReady waits until the instance's user data reports on the
// console that the service is installed and configured: the bootstrap
// prints the ready marker, an instance from an AMI the configured marker.
func waitInstanceReady(ctx context.Context, r *Run, id, name, service string) error {
	in, err := describeInstance(ctx, r.Env, id)
	if err != nil || in == nil {
		if err == nil {
			err = fmt.Errorf("it no longer exists: run `myappctl up` to recreate it")
		}
		return &StageError{Stage: r.Stage.Name, Action: "describe", Resource: instanceKind.Type + " " + name, Err: err}
	}
	marker := markerReady + " " + service + " "
	if awsx.EC2TagMap(in.Tags)[tagSource] == sourceAMI {
		marker = markerConfigured + " " + service + " "
	}
	spec := r.wait(name+" ("+id+") to finish installing "+service, 0,
		"read its console with `aws ec2 get-console-output --instance-id "+id+" --output text` (cloud-init logs are in /var/log/cloud-init-output.log)")
	latest := true // Nitro instances show the console as it is; others only refresh it now and then
	err = awsx.Poll(ctx, spec, func(ctx context.Context) (bool, string, error) {
		out, err := r.AWS.EC2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id), Latest: aws.Bool(latest)})
		if err != nil && latest && awsx.ErrorCode(err) != "" && !awsx.IsNotFound(err) {
			latest = false // not a Nitro instance (t2): ask for the buffered output
			out, err = r.AWS.EC2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
		}
		if err != nil {
			return false, "", err
		}
		text, _ := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
		for _, line := range strings.Split(string(text), "\n") {
			if i := strings.Index(line, markerFailed); i >= 0 {
				return false, "", fmt.Errorf("its user data failed: %s; see /var/log/cloud-init-output.log on the instance, fix the cause, then terminate it and run again", strings.TrimSpace(line[i:]))
			}
			if strings.Contains(line, marker) {
				return true, "", nil
			}
		}
		if len(text) == 0 {
			return false, "no console output yet", nil
		}
		return false, "booting", nil
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
