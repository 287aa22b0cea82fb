package awsx

import (
	"context"
	"errors"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// newRetryer is the SDK's adaptive retryer with attempts attempts per call.
// Expired credentials are never retried: the run stops at once and says
// how to refresh them.
func newRetryer(attempts int) aws.Retryer {
	return retry.AddWithMaxAttempts(retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				if IsCredentialsExpired(err) {
					return aws.FalseTernary
				}
				return aws.UnknownTernary
			})}, so.Retryables...)
		})
	}), attempts)
}

// EC2CreateOnce is the per-call option of EC2 creates that take no client
// token (CreateVpc, CreateSubnet, CreateInternetGateway,
// CreateSecurityGroup): the SDK repeats such a call only when the request
// surely did nothing (throttled, or the connection was never made), never
// after a 5xx or a broken connection, which may come after the resource
// was made; steps' Run.Ensure then looks for it by its tags before it
// tries again, so a lost response leaves no duplicate.
func EC2CreateOnce(o *ec2.Options) { o.Retryer = createOnce(o.Retryer) }

// createOnce narrows a retryer to errors after which nothing was done.
func createOnce(r aws.Retryer) aws.Retryer {
	if r == nil {
		return r
	}
	v2, ok := r.(aws.RetryerV2)
	if !ok {
		v2 = retryerV2{r}
	}
	return &onlyUndoneRetryer{v2}
}

type onlyUndoneRetryer struct{ aws.RetryerV2 }

func (r *onlyUndoneRetryer) IsErrorRetryable(err error) bool {
	return r.RetryerV2.IsErrorRetryable(err) && (IsThrottle(err) || neverSent(err))
}

// retryerV2 adapts a Retryer without GetAttemptToken.
type retryerV2 struct{ aws.Retryer }

func (r retryerV2) GetAttemptToken(context.Context) (func(error) error, error) {
	return r.GetInitialToken(), nil
}

// IsThrottle reports an error by which AWS refused a request for its rate
// (RequestLimitExceeded, Throttling, SlowDown, ...): nothing was done.
func IsThrottle(err error) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}

// neverSent reports a connection that could not be made: the request never left.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
