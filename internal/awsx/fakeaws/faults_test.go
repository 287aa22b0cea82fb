package fakeaws

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/myappctl/myappctl/internal/awsx"
)

func TestCloudSwitchesInProcess(t *testing.T) {
	ctx := context.Background()
	createVpc := func(c *Cloud) error {
		_, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
		return err
	}
	describe := func(c *Cloud) error {
		_, err := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		return err
	}

	t.Run("lose responses once: the first call of each mutating action, after its work", func(t *testing.T) {
		c := New()
		c.LoseResponsesOnce()
		if err := createVpc(c); !awsx.IsUnclear(err) || awsx.ErrorCode(err) != "ServiceUnavailable" {
			t.Errorf("first create: %v", err)
		}
		if err := createVpc(c); err != nil {
			t.Errorf("second create: %v", err)
		}
		if err := describe(c); err != nil {
			t.Errorf("describe: %v", err)
		}
		if n := c.EC2.Count()["vpc"]; n != 2 {
			t.Errorf("%d VPCs, want 2 (the lost call did its work)", n)
		}
		// A call of the wire server is one SDK invocation: its retry gets through.
		call := WithCallID(ctx, "invocation-1")
		if _, err := c.EC2.CreateInternetGateway(call, &ec2.CreateInternetGatewayInput{}); !awsx.IsUnclear(err) {
			t.Errorf("first attempt: %v", err)
		}
		if _, err := c.EC2.CreateInternetGateway(call, &ec2.CreateInternetGatewayInput{}); awsx.IsUnclear(err) {
			t.Errorf("retry: %v", err)
		}
	})

	t.Run("credentials expire after n calls, until renewed", func(t *testing.T) {
		c := New()
		c.ExpireCredentialsAfter(2, "")
		for i, want := range []string{"", "", "ExpiredToken", "ExpiredToken"} {
			if err := describe(c); awsx.ErrorCode(err) != want {
				t.Errorf("call %d: %v, want %q", i+1, err, want)
			}
		}
		if err := createVpc(c); !awsx.IsCredentialsExpired(err) || c.EC2.Count()["vpc"] != 0 {
			t.Errorf("create after expiry: %v, %d VPCs", err, c.EC2.Count()["vpc"])
		}
		c.RenewCredentials()
		if err := describe(c); err != nil {
			t.Errorf("after renewing: %v", err)
		}
	})

	t.Run("a lacking action answers NotImplemented and does nothing", func(t *testing.T) {
		c := New()
		c.Lack("CreateVpc")
		c.Inject("CreateVpc", Fault{Err: ServerError()}) // a lacking action stays lacking
		if err := createVpc(c); !awsx.IsNotImplemented(err) || awsx.ErrorCode(err) != "InternalFailure" || c.EC2.Count()["vpc"] != 0 {
			t.Errorf("err = %v, %d VPCs", err, c.EC2.Count()["vpc"])
		}
		if err := describe(c); err != nil {
			t.Errorf("describe: %v", err)
		}
	})
}
