package steps

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

// The first run that changes something records the account in the state
// file; later commands take it from there instead of asking STS, and a run
// with another account's credentials changes nothing.
func TestTheStateFileKeepsTheAccount(t *testing.T) {
	tb := newCarouselBed(t)
	tb.step("s3-sync")
	if got := tb.state().Account(); got != fakeaws.Account {
		t.Fatalf("account in the state file = %q, want %s", got, fakeaws.Account)
	}

	tb.reload()
	tb.cloud.ResetCalls()
	if _, err := tb.runner.Plan(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.runner.Status(bg, false); err != nil {
		t.Fatal(err)
	}
	if n := tb.cloud.CountCalls("GetCallerIdentity"); n != 0 {
		t.Errorf("plan and status asked STS %d times: the state file names the account", n)
	}

	// A stack built before the account was kept: a run that changes
	// nothing records it too.
	if err := tb.state().SetAccount(""); err != nil {
		t.Fatal(err)
	}
	tb.reload()
	if res := tb.step("s3-sync"); len(res.Changes) != 0 {
		t.Fatalf("changes: %v", res.Changes)
	}
	if got := tb.state().Account(); got != fakeaws.Account {
		t.Errorf("account after a run without changes = %q", got)
	}

	// Another account's credentials: the change is refused before it is made.
	tb.step("vpc")
	if err := tb.state().SetAccount("210987654321"); err != nil {
		t.Fatal(err)
	}
	tb.reload()
	vpc := tb.state().Output("vpc", OutVPCID)
	if _, err := tb.cloud.EC2.ModifyVpcAttribute(bg, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(vpc),
		EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	tb.cloud.ResetCalls()
	_, err := tb.runner.Step(bg, "vpc")
	if err == nil || !strings.Contains(err.Error(), "credentials are of account "+fakeaws.Account) || !strings.Contains(err.Error(), "in account 210987654321") {
		t.Errorf("err = %v, want the two accounts named", err)
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("changed %v with another account's credentials", m)
	}
}

// Destroy sweeps by the stack tag, so with another account's credentials it
// would delete a same-named stack there: it refuses before any call.
func TestDestroyRefusesAnotherAccountsCredentials(t *testing.T) {
	tb := newCarouselBed(t)
	tb.step("vpc")
	must(t, tb.state().SetAccount("210987654321"))
	tb.reload()
	tb.cloud.ResetCalls()
	_, err := tb.runner.Destroy(bg)
	if err == nil || !strings.Contains(err.Error(), "in account 210987654321") {
		t.Errorf("err = %v, want the accounts named", err)
	}
	if m := tb.cloud.MutatingCalls(); len(m) != 0 {
		t.Errorf("destroy made %v with another account's credentials", m)
	}
	if n := tb.cloud.EC2.Count()["vpc"]; n != 1 {
		t.Errorf("%d VPCs left, want the stack's", n)
	}
}
