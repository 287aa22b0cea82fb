package fakeaws

import (
	"context"

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
		Autoscaling: c.Autoscaling, SSM: c.SSM, Presign: Presigner{}}
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
