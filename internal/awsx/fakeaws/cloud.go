package fakeaws

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Account is the fake account id.
const Account = "123456789012"

// STS is the fake STS service.
type STS struct {
	awsx.STSAPI
	*Core
}

func (f *STS) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	fault, err := f.begin(ctx, "GetCallerIdentity")
	if err != nil {
		return nil, err
	}
	return finish(&sts.GetCallerIdentityOutput{Account: aws.String(Account), Arn: aws.String("arn:aws:iam::" + Account + ":user/test"), UserId: aws.String("AIDATEST")}, nil, fault)
}

// Cloud is a whole fake AWS account: every fake service over one Core, so
// the call log covers them all.
type Cloud struct {
	*Core
	EC2   *EC2
	STS   *STS
	S3    *S3
	ELBV2 *ELBV2
	RDS   *RDS
	// Lambda and IAM hold stage 9's function and role.
	Lambda *Lambda
	IAM    *IAM
	// Autoscaling holds stage 8's groups; they launch into EC2 and register in ELBV2.
	Autoscaling *AutoScaling
	// SSM is Parameter Store: the tiers' runtime settings.
	SSM *SSM
	// Agent plays the instances' install scripts and services: it writes
	// their reports when something reads them.
	Agent *Agent
}

// New returns an empty fake account in us-east-1.
func New() *Cloud {
	core := NewCore()
	ec2 := NewEC2(core)
	c := &Cloud{Core: core, EC2: ec2, STS: &STS{Core: core}, S3: NewS3(core, "us-east-1"), ELBV2: NewELBV2(core, ec2), RDS: NewRDS(core, ec2)}
	c.Autoscaling = NewAutoScaling(core, ec2, c.ELBV2)
	c.IAM = NewIAM(core)
	ec2.InstanceProfile = c.IAM.instanceProfileForEC2
	c.SSM = NewSSM(core, "us-east-1")
	c.Lambda = NewLambda(core, "us-east-1", c.IAM)
	c.S3.LambdaInvokable = func(fn, source, account string) bool {
		return c.Lambda.AllowsInvoke(fn, "s3.amazonaws.com", source, account)
	}
	c.Agent = newAgent(c)
	c.S3.BeforeRead = c.Agent.sync
	return c
}

// Clients returns the fakes as the client set stages use.
func (c *Cloud) Clients() *awsx.Clients {
	return &awsx.Clients{EC2: c.EC2, STS: c.STS, S3: c.S3, RDS: c.RDS, ELBV2: c.ELBV2, Lambda: c.Lambda, IAM: c.IAM,
		Autoscaling: c.Autoscaling, SSM: c.SSM}
}

// Timing is how long AWS takes to make things ready, by the clock (fields
// left zero keep the fakes' describe counts).
type Timing struct {
	InstanceBoot  time.Duration // pending → running, shutting-down → terminated
	ImageBake     time.Duration // image pending → available
	LoadBalancer  time.Duration // provisioning → active
	Database      time.Duration // creating → available
	TargetHealthy time.Duration // registered → healthy
	TargetDrain   time.Duration // deregistered → gone
}

// AWSTiming is what AWS takes, roughly, for the stack's resources.
var AWSTiming = Timing{InstanceBoot: 45 * time.Second, ImageBake: 5 * time.Minute, LoadBalancer: 3 * time.Minute,
	Database: 8 * time.Minute, TargetHealthy: 30 * time.Second, TargetDrain: 15 * time.Second}

// Scaled divides every duration by n (benchmarks replay AWS at 1/30).
func (t Timing) Scaled(n int) Timing {
	d := time.Duration(n)
	return Timing{t.InstanceBoot / d, t.ImageBake / d, t.LoadBalancer / d, t.Database / d, t.TargetHealthy / d, t.TargetDrain / d}
}

// SetTiming makes every fake follow the clock as t says.
func (c *Cloud) SetTiming(t Timing) {
	c.EC2.SetClockTiming(t.InstanceBoot, t.ImageBake)
	c.ELBV2.ProvisioningTime, c.ELBV2.HealthyTime, c.ELBV2.DrainTime = t.LoadBalancer, t.TargetHealthy, t.TargetDrain
	c.RDS.CreatingTime = t.Database
}

// HealthyWhileRunning makes a registered target healthy while its instance
// runs and unhealthy otherwise, as on AWS once the app on it answers (the
// stand-alone CLI runs and the dev server use it).
func (c *Cloud) HealthyWhileRunning() {
	c.ELBV2.HealthOf = func(_, id string) (elbv2types.TargetHealthStateEnum, string) {
		if s, ok := c.EC2.InstanceState(id); ok && s != ec2types.InstanceStateNameRunning {
			return elbv2types.TargetHealthStateEnumUnhealthy, string(elbv2types.TargetHealthReasonEnumInvalidState)
		}
		return "", ""
	}
}
