package fakeaws

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/smithy-go"
)

// Switches that make the fake behave like clouds that differ from it (the
// S3 ones are fields of S3: IgnoreCreateTags, DenyCreateTags). Each is off
// until a test turns it on.

// StatusError is an API error with the HTTP status the wire server answers
// it with (a 503, a 501) instead of the one its code usually has. Like the
// SDK's response errors it tells its status through HTTPStatusCode.
type StatusError struct {
	smithy.GenericAPIError
	Status int
}

// HTTPStatusCode is the status of the answer.
func (e *StatusError) HTTPStatusCode() int { return e.Status }

func statusError(status int, code, format string, args ...any) *StatusError {
	fault := smithy.FaultClient
	if status >= 500 {
		fault = smithy.FaultServer
	}
	return &StatusError{GenericAPIError: smithy.GenericAPIError{Code: code, Message: fmt.Sprintf(format, args...), Fault: fault}, Status: status}
}

// Unavailable is the 503 a proxy or an overloaded endpoint answers; the SDK
// retries it. As an after-effect fault it is a lost response.
func Unavailable() error {
	return statusError(http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unable to handle request.")
}

// LostResponse is a fault that lets the call take effect and then answers
// 503, as when the response is lost after the work was done.
func LostResponse() Fault { return Fault{Err: Unavailable(), AfterEffect: true} }

// NotImplemented is LocalStack's answer to an action it lacks (moto's
// server answers 500): HTTP 501, code InternalFailure. The SDK does not
// retry it.
func NotImplemented(op string) error {
	return statusError(http.StatusNotImplemented, "InternalFailure",
		"API action '%s' not yet implemented or pro feature - please check https://docs.localstack.cloud/references/coverage/ for further information", op)
}

// ExpiredCredentials is the answer to a call signed with expired
// credentials: code is ExpiredToken (STS, IAM, S3, ...), RequestExpired
// (EC2) or ExpiredTokenException (Lambda and other JSON services).
func ExpiredCredentials(code string) error {
	status := http.StatusBadRequest
	if code == "ExpiredTokenException" {
		status = http.StatusForbidden
	}
	return statusError(status, code, "The security token included in the request is expired")
}

// clouds holds the switches kept by Core (under Core.mu).
type clouds struct {
	// loseOnce: every mutating call loses its first response.
	loseOnce bool
	lost     map[string]bool // calls whose response was lost
	// expireLeft counts the calls until the credentials expire (-1: never).
	expireLeft  int
	expiredCode string
	lacking     map[string]bool
}

func newClouds() clouds {
	return clouds{lost: map[string]bool{}, expireLeft: -1, lacking: map[string]bool{}}
}

// refusal is the fault of a call that never reaches the service: an action
// the cloud lacks, or credentials that expired.
func (c *clouds) refusal(op string) *Fault {
	switch {
	case c.lacking[op]:
		return &Fault{Err: NotImplemented(op)}
	case c.expireLeft == 0:
		return &Fault{Err: ExpiredCredentials(c.expiredCode)}
	case c.expireLeft > 0:
		c.expireLeft--
	}
	return nil
}

// loss is the lost-response fault of a mutating call, the first time.
func (c *clouds) loss(ctx context.Context, op string) *Fault {
	if !c.loseOnce || !IsMutating(op) {
		return nil
	}
	call := op
	if id, _ := ctx.Value(callIDKey{}).(string); id != "" {
		call += "/" + id
	}
	if c.lost[call] {
		return nil
	}
	c.lost[call] = true
	f := LostResponse()
	return &f
}

type callIDKey struct{}

// WithCallID marks ctx as one attempt of the call id: the wire server
// passes the SDK's amz-sdk-invocation-id, which its retries of a request
// keep.
func WithCallID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, callIDKey{}, id)
}

// LoseResponsesOnce makes every mutating call lose its first response: the
// call takes effect, then answers 503, as behind a proxy that drops one
// answer per request. Over the wire a call is one SDK invocation, so the
// SDK's retry of it gets through (and meets what the first attempt did:
// "already exists", a duplicate, ...). In process, where nothing retries,
// a call is an operation: the first call of each mutating action loses its
// response. Inject loses the response of one action's next calls.
func (c *Core) LoseResponsesOnce() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.loseOnce = true
}

// ExpireCredentialsAfter lets n more calls through, then answers every
// call with the expired-credentials error code (ExpiredToken if empty), as
// when a lab session or an SSO role's credentials end mid-run.
func (c *Core) ExpireCredentialsAfter(n int, code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if code == "" {
		code = "ExpiredToken"
	}
	c.expireLeft, c.expiredCode = n, code
}

// RenewCredentials ends ExpireCredentialsAfter: the user refreshed them.
func (c *Core) RenewCredentials() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLeft = -1
}

// Lack makes the actions answer as an emulator that does not implement
// them (NotImplemented), without taking effect.
func (c *Core) Lack(ops ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, op := range ops {
		c.lacking[op] = true
	}
}
