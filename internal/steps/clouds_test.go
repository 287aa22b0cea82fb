package steps

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/state"
)

// Stages against a fake that behaves like clouds that differ from it
// (bucket_test.go: S3s that ignore or deny tags on create).

// Credentials that expire mid-run stop every stage at once with the one
// message that says how to refresh them; the state file keeps what was
// done, and the same command resumes.
func TestExpiredCredentialsStopTheRunAndItResumes(t *testing.T) {
	for _, code := range []string{"ExpiredToken", "ExpiredTokenException", "RequestExpired"} {
		t.Run(code, func(t *testing.T) {
			cb := newStackBed(t)
			// s3-sync (it needs no stage) is stuck in a slow call while the
			// credentials expire under stage vpc.
			cb.cloud.Delay("CreateBucket", time.Minute)
			cb.cloud.ExpireCredentialsAfter(25, code)
			start := time.Now()
			_, err := cb.runner.Up(bg, UpOptions{})
			var expired *awsx.ExpiredCredentialsError
			if !errors.As(err, &expired) || !strings.HasPrefix(err.Error(), "AWS credentials expired: refresh them (") ||
				!strings.Contains(err.Error(), "then run the same command again to resume") || strings.Contains(err.Error(), "\n\n") {
				t.Fatalf("err = %v", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("the run took %v to stop", d)
			}
			// Only the calls in flight met the expired credentials: nothing was retried.
			calls := cb.cloud.Calls()
			if n := len(calls) - 25; n > 2 {
				t.Errorf("%d calls after the credentials expired: %v", n, calls[25:])
			}
			cb.reload() // the state file is whole
			for _, s := range []string{"vpc", "s3-sync"} {
				if st := cb.state().Stage(s); st.Status != state.StatusFailed || !strings.Contains(st.Error, "AWS credentials expired") {
					t.Errorf("stage %s: %s %q", s, st.Status, st.Error)
				}
			}
			cb.cloud.RenewCredentials()
			cb.cloud.Delay("CreateBucket", 0)
			cb.up("")
			cb.assertSecondUpConverged(len(cb.runner.Stages))
		})
	}
}

func TestExpiredCredentialsStopStatusAndDestroy(t *testing.T) {
	cb := newStackBed(t)
	cb.up("")
	cb.cloud.ExpireCredentialsAfter(3, "ExpiredToken")
	if _, err := cb.runner.Status(bg, false); !awsx.IsCredentialsExpired(err) {
		t.Errorf("status: %v", err)
	}
	cb.cloud.ExpireCredentialsAfter(10, "ExpiredToken")
	var expired *awsx.ExpiredCredentialsError
	if _, err := cb.runner.Destroy(bg); !errors.As(err, &expired) {
		t.Errorf("destroy: %v", err)
	}
	cb.cloud.RenewCredentials()
	cb.reload()
	cb.destroy()
	cb.assertNothingLeft()
}

// Emulators built on moto lack DescribeInstanceRefreshes: a new group
// needs no refresh, so up never asks.
func TestNewGroupsAskForNoInstanceRefresh(t *testing.T) {
	cb := newStackBed(t)
	cb.cloud.Lack("DescribeInstanceRefreshes")
	cb.up("")
	if n := cb.cloud.CountCalls("DescribeInstanceRefreshes"); n != 0 {
		t.Errorf("DescribeInstanceRefreshes called %d times", n)
	}
	cb.assertSecondUpConverged(len(cb.runner.Stages))
	// A new launch template version does need one; the endpoint that lacks
	// it is named in the error.
	cb.cfg.InstanceType = "t3.micro"
	_, err := cb.runner.Step(bg, "autoscaling")
	if !awsx.IsNotImplemented(err) || !strings.Contains(err.Error(), "does not implement this action") {
		t.Errorf("err = %v", err)
	}
}
