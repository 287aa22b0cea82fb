package awsx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }

// answered is err as the SDK returns an HTTP answer with status.
func answered(status int, err error) error {
	return &smithy.OperationError{ServiceID: "EC2", OperationName: "CreateVpc", Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}
}

func TestErrorFamilies(t *testing.T) {
	dial := &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}
	reset := &smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}}
	for _, c := range []struct {
		name                                   string
		err                                    error
		exists, done, unclear, expired, notImp bool
	}{
		{"IAM", apiErr("EntityAlreadyExists"), true, false, false, false, false},
		{"RDS", apiErr("DBInstanceAlreadyExists"), true, false, false, false, false},
		{"Auto Scaling", apiErr("AlreadyExists"), true, false, false, false, false},
		{"launch template", apiErr("InvalidLaunchTemplateName.AlreadyExistsException"), true, false, false, false, false},
		{"security group", apiErr("InvalidGroup.Duplicate"), true, false, false, false, false},
		{"target group", apiErr("DuplicateTargetGroupName"), true, false, false, false, false},
		{"Lambda", apiErr("ResourceConflictException"), true, false, false, false, false},
		{"own bucket", apiErr("BucketAlreadyOwnedByYou"), true, false, false, false, false},
		{"another account's bucket", apiErr("BucketAlreadyExists"), false, false, false, false, false},
		{"attached", apiErr("Resource.AlreadyAssociated"), false, true, false, false, false},
		{"rule", apiErr("InvalidPermission.Duplicate"), true, true, false, false, false},
		{"503", answered(503, apiErr("ServiceUnavailable")), false, false, true, false, false},
		{"500 in process", &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}, false, false, true, false, false},
		{"connection reset", reset, false, false, true, false, false},
		{"timeout", fmt.Errorf("op: %w", context.DeadlineExceeded), false, false, true, false, false},
		{"cancelled", fmt.Errorf("op: %w", context.Canceled), false, false, false, false, false},
		{"400", answered(400, apiErr("InvalidParameterValue")), false, false, false, false, false},
		{"501", answered(501, apiErr("InternalFailure")), false, false, false, false, true},
		{"refused: never sent", dial, false, false, false, false, false},
		{"EC2", answered(400, apiErr("RequestExpired")), false, false, false, true, false},
		{"STS", apiErr("ExpiredToken"), false, false, false, true, false},
		{"Lambda expired", apiErr("ExpiredTokenException"), false, false, false, true, false},
		{"SSO", fmt.Errorf("failed to retrieve credentials: %w", &ssocreds.InvalidTokenError{}), false, false, false, true, false},
	} {
		if IsAlreadyExists(c.err) != c.exists || IsAlreadyDone(c.err) != c.done || IsUnclear(c.err) != c.unclear ||
			IsCredentialsExpired(c.err) != c.expired || IsNotImplemented(c.err) != c.notImp {
			t.Errorf("%s: exists %v, done %v, unclear %v, expired %v, not implemented %v", c.name,
				IsAlreadyExists(c.err), IsAlreadyDone(c.err), IsUnclear(c.err), IsCredentialsExpired(c.err), IsNotImplemented(c.err))
		}
	}
}

func TestCredentialsExpiredSaysHowToRefreshThem(t *testing.T) {
	if err := apiErr("AccessDenied"); CredentialsExpired(err, "") != err {
		t.Error("another error was wrapped")
	}
	err := CredentialsExpired(answered(400, apiErr("RequestExpired")), "lab")
	msg := err.Error()
	for _, want := range []string{"AWS credentials expired: refresh them (", "AWS Details", "`aws sso login --profile lab`",
		"), then run the same command again to resume", "EC2 CreateVpc answered RequestExpired", "state file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if !strings.HasPrefix(msg, "AWS credentials expired: refresh them (") || CredentialsExpired(fmt.Errorf("again: %w", err), "") == err {
		t.Errorf("message %q", msg)
	}
	var e *ExpiredCredentialsError
	if again := CredentialsExpired(fmt.Errorf("stage: %w", err), ""); !errors.As(again, &e) || strings.Count(again.Error(), "AWS credentials expired") != 1 {
		t.Errorf("wrapped twice: %v", again)
	}
}

func TestRetryers(t *testing.T) {
	throttled := answered(400, apiErr("RequestLimitExceeded"))
	lost := answered(503, apiErr("ServiceUnavailable"))
	refused := &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}
	expired := answered(400, apiErr("ExpiredToken"))
	std := newRetryer(3)
	once := createOnce(std)
	for _, c := range []struct {
		name        string
		err         error
		retry, once bool
	}{
		{"throttled: nothing was done", throttled, true, true},
		{"lost response: maybe done", lost, true, false},
		{"refused: never sent", refused, true, true},
		{"expired credentials", expired, false, false},
	} {
		if std.IsErrorRetryable(c.err) != c.retry || once.IsErrorRetryable(c.err) != c.once {
			t.Errorf("%s: retried %v, by create-once %v", c.name, std.IsErrorRetryable(c.err), once.IsErrorRetryable(c.err))
		}
	}
	if once.MaxAttempts() != 3 || createOnce(retry.NewStandard()).MaxAttempts() != retry.DefaultMaxAttempts {
		t.Error("create-once changed the attempts")
	}
}
