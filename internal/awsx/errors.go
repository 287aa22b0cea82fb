package awsx

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ErrorCode returns the AWS error code of err ("" when it is not an API error).
func ErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// HasCode reports whether err is an API error with one of the codes.
func HasCode(err error, codes ...string) bool {
	code := ErrorCode(err)
	if code == "" {
		return false
	}
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return false
}

// IsNotFound reports the "it is not there" family of codes
// (InvalidVpcID.NotFound, NoSuchBucket, DBInstanceNotFound,
// InvalidLaunchTemplateName.NotFoundException, ...).
func IsNotFound(err error) bool {
	code := ErrorCode(err)
	if code == "" {
		return false
	}
	return strings.HasSuffix(code, ".NotFound") || strings.HasSuffix(code, "NotFound") ||
		strings.HasSuffix(code, "NotFoundFault") || strings.HasSuffix(code, ".NotFoundException") || strings.HasPrefix(code, "NoSuch") ||
		code == "ResourceNotFoundException"
}

// IsDependency reports errors that mean "something still uses it; retry later".
func IsDependency(err error) bool {
	return HasCode(err, "DependencyViolation", "ResourceInUse", "ResourceInUseException",
		"InvalidDBSubnetGroupStateFault", "InvalidDBInstanceState", "BucketNotEmpty",
		"IncorrectState", "InvalidState", "ScalingActivityInProgress")
}

// Hint suggests what a user can do about an AWS error code.
func Hint(err error) string {
	switch code := ErrorCode(err); {
	case code == "":
		return ""
	case code == "UnauthorizedOperation" || code == "AccessDenied" || code == "AccessDeniedException" || strings.HasSuffix(code, "AccessDenied"):
		return "your credentials lack this permission: check the IAM policy of the user or role (a lab role may not allow it)"
	case code == "AuthFailure" || code == "InvalidClientTokenId" || code == "SignatureDoesNotMatch" || code == "ExpiredToken" || code == "ExpiredTokenException":
		return "the credentials were rejected or have expired: refresh them (lab sessions expire after a few hours)"
	case strings.HasSuffix(code, "LimitExceeded") || strings.Contains(code, "Quota"):
		return "an account quota is reached: delete unused resources or request a quota increase"
	case code == "RequestLimitExceeded" || code == "Throttling" || code == "ThrottlingException":
		return "AWS is throttling requests: wait a minute and run the command again"
	case code == "OptInRequired":
		return "the region or service is not enabled for this account"
	case IsNotImplemented(err):
		return "the endpoint does not implement this action (an emulator such as LocalStack may lack it): check --endpoint-url"
	}
	return ""
}

// IsAlreadyExists reports the "it is there already" family of codes a
// create answers, e.g. when the SDK retried a create whose first response
// was lost: EntityAlreadyExists (IAM), DBInstanceAlreadyExists,
// DBSubnetGroupAlreadyExists, AlreadyExists (Auto Scaling),
// InvalidLaunchTemplateName.AlreadyExistsException, InvalidGroup.Duplicate,
// InvalidAMIName.Duplicate, DuplicateTargetGroupName,
// DuplicateLoadBalancerName, ResourceConflictException (Lambda),
// BucketAlreadyOwnedByYou, ParameterAlreadyExists (SSM). Not
// BucketAlreadyExists: that bucket is another account's.
func IsAlreadyExists(err error) bool {
	code := ErrorCode(err)
	switch code {
	case "", "BucketAlreadyExists":
		return false
	case "BucketAlreadyOwnedByYou", "ResourceConflictException":
		return true
	}
	for _, suffix := range []string{"AlreadyExists", "AlreadyExistsException", "AlreadyExistsFault", ".Duplicate"} {
		if strings.HasSuffix(code, suffix) {
			return true
		}
	}
	return strings.HasPrefix(code, "Duplicate")
}

// IsAlreadyDone reports codes by which AWS refuses a change because exactly
// what it asks is in place: an attachment or association
// (Resource.AlreadyAssociated), a security-group rule
// (InvalidPermission.Duplicate), a route (RouteAlreadyExists). A retry of a
// change whose first response was lost answers so.
func IsAlreadyDone(err error) bool {
	return HasCode(err, "Resource.AlreadyAssociated", "InvalidPermission.Duplicate", "RouteAlreadyExists")
}

// IsUnclear reports a failure after which the call may or may not have
// taken effect: a 5xx answer (but 501: not implemented), a timeout, or a
// connection that broke before the answer came (not one that could not be
// made). A cancellation is not unclear: the run stops, and the next one
// settles it.
func IsUnclear(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || neverSent(err) {
		return false
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() != 0 {
		code := status.HTTPStatusCode()
		return code >= 500 && code != http.StatusNotImplemented
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorFault() == smithy.FaultServer
	}
	var sendErr *smithyhttp.RequestSendError
	var netErr net.Error
	return errors.As(err, &sendErr) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

// IsNotImplemented reports an endpoint's answer that it lacks the action
// (an emulator: HTTP 501, or the NotImplemented code).
func IsNotImplemented(err error) bool {
	var status interface{ HTTPStatusCode() int }
	return HasCode(err, "NotImplemented") || errors.As(err, &status) && status.HTTPStatusCode() == http.StatusNotImplemented
}

// IsCredentialsExpired reports that the credentials expired: the codes AWS
// answers with (ExpiredToken, ExpiredTokenException, RequestExpired) and
// the SDK's own error when it cannot refresh them (an SSO session that
// ended).
func IsCredentialsExpired(err error) bool {
	var sso *ssocreds.InvalidTokenError
	var expired *ExpiredCredentialsError
	return HasCode(err, "ExpiredToken", "ExpiredTokenException", "RequestExpired") || errors.As(err, &sso) || errors.As(err, &expired)
}

// ExpiredCredentialsError stops a run whose credentials expired. It says
// how to refresh them; the state file keeps everything done so far.
type ExpiredCredentialsError struct {
	Err     error  // what AWS or the SDK answered
	Profile string // --profile, if any
}

// CredentialsExpired wraps err (IsCredentialsExpired) as the error that
// tells the user what to do; it leaves other errors alone.
func CredentialsExpired(err error, profile string) error {
	var done *ExpiredCredentialsError
	if !IsCredentialsExpired(err) || errors.As(err, &done) {
		return err
	}
	return &ExpiredCredentialsError{Err: err, Profile: profile}
}

func (e *ExpiredCredentialsError) Error() string {
	profile := ""
	if e.Profile != "" {
		profile = " --profile " + e.Profile
	}
	why := shortCause(e.Err) // the SDK's own error: an SSO session that ended
	if code := ErrorCode(e.Err); code != "" {
		what := "AWS"
		var op *smithy.OperationError
		if errors.As(e.Err, &op) {
			what = op.Service() + " " + op.Operation()
		}
		why = what + " answered " + code
	}
	return "AWS credentials expired: refresh them (AWS Academy lab: start the lab, open AWS Details and copy the new keys into " +
		"~/.aws/credentials or the variables AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; SSO: `aws sso login" + profile +
		"`; another profile: renew its keys, e.g. `aws configure" + profile + "`), then run the same command again to resume\n  (" +
		why + "; the state file keeps everything done so far)"
}

func (e *ExpiredCredentialsError) Unwrap() error { return e.Err }

// IsInstanceProfileNotVisible reports EC2's and Auto Scaling's refusal of
// an instance profile they cannot see: RunInstances' InvalidParameterValue
// and Auto Scaling's ValidationError ("You must use a valid fully-formed
// launch template", from a group or its launches) for the parameter
// iamInstanceProfile.name or iamInstanceProfile.arn. AWS gives it for
// several seconds after CreateInstanceProfile and AddRoleToInstanceProfile,
// while IAM propagates the profile to EC2, and forever when the profile
// does not exist: retry it for a bounded time only.
//
// The code alone cannot tell: both codes cover any invalid parameter (user
// data, an AMI, a group id). The parameter the message names is what
// identifies the profile, and it is an API member name (as in
// "Value (x) for parameter iamInstanceProfile.name is invalid"), so it is
// matched rather than the sentence around it.
func IsInstanceProfileNotVisible(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || !HasCode(err, "InvalidParameterValue", "ValidationError") {
		return false
	}
	msg := apiErr.ErrorMessage()
	return strings.Contains(msg, "parameter iamInstanceProfile.name ") || strings.Contains(msg, "parameter iamInstanceProfile.arn ")
}
