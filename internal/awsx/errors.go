package awsx

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
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
	}
	return ""
}

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
