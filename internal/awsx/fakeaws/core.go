// Package fakeaws is a stateful in-memory AWS for tests, in the spirit of
// kops' cloudmock: creates are visible to describes, tag and id filters are
// honoured, deletes check dependencies the way AWS does, and tests can inject
// errors ("lost responses" included) and delays per operation.
//
// Each fake embeds the awsx interface it implements, so a call that nobody
// implemented panics loudly instead of silently returning nothing.
package fakeaws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go"
)

// Fault is one injected outcome of a call.
type Fault struct {
	Err error
	// AfterEffect makes the call take effect and then fail anyway, as when a
	// response is lost (a timeout or a 5xx after the work was done).
	AfterEffect bool
}

// Core is the bookkeeping every fake service shares: the call log, faults
// and delays. One Core may back several services so the log is global.
type Core struct {
	mu     sync.Mutex
	calls  []string
	faults map[string][]Fault
	delays map[string]time.Duration
	// clouds are the switches that make the fake behave like other clouds
	// (faults.go): lost responses, expiring credentials, missing actions.
	clouds
}

// NewCore returns an empty Core.
func NewCore() *Core {
	return &Core{faults: map[string][]Fault{}, delays: map[string]time.Duration{}, clouds: newClouds()}
}

// Inject queues faults for the next calls of op (e.g. "CreateSubnet").
func (c *Core) Inject(op string, faults ...Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults[op] = append(c.faults[op], faults...)
}

// Delay makes every call of op sleep d first (respecting the context).
func (c *Core) Delay(op string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.delays[op] = d
}

// Calls returns every operation called so far, in order.
func (c *Core) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// ResetCalls clears the call log.
func (c *Core) ResetCalls() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
}

var mutatingPrefixes = []string{
	"Create", "Delete", "Modify", "Attach", "Detach", "Associate", "Disassociate", "Replace", "Put",
	"Authorize", "Revoke", "Register", "Deregister", "Terminate", "Run", "Update", "Add", "Remove",
	"Start", "Stop", "Reboot", "Set", "Copy", "Deregister", "Enable", "Disable", "Apply", "Upload",
}

// IsMutating reports whether an operation name changes anything.
func IsMutating(op string) bool {
	for _, p := range mutatingPrefixes {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// MutatingCalls returns the calls that change something.
func (c *Core) MutatingCalls() []string {
	var out []string
	for _, op := range c.Calls() {
		if IsMutating(op) {
			out = append(out, op)
		}
	}
	return out
}

// CountCalls returns how often op was called.
func (c *Core) CountCalls(op string) int {
	n := 0
	for _, o := range c.Calls() {
		if o == op {
			n++
		}
	}
	return n
}

// begin records a call, applies its delay and returns the fault to apply, if any.
func (c *Core) begin(ctx context.Context, op string) (*Fault, error) {
	c.mu.Lock()
	c.calls = append(c.calls, op)
	d := c.delays[op]
	f := c.clouds.refusal(op) // a missing action, expired credentials: nothing else happens
	if q := c.faults[op]; f == nil && len(q) > 0 {
		f = &q[0]
		c.faults[op] = q[1:]
	}
	if f == nil {
		f = c.clouds.loss(ctx, op)
	}
	c.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f != nil && !f.AfterEffect {
		return nil, f.Err
	}
	return f, nil
}

// finish applies an after-effect fault to a call's result.
func finish[T any](out T, err error, f *Fault) (T, error) {
	if err == nil && f != nil && f.AfterEffect {
		var zero T
		return zero, f.Err
	}
	return out, err
}

// APIError builds an error carrying an AWS error code, as the SDK returns.
func APIError(code, format string, args ...any) error {
	return &smithy.GenericAPIError{Code: code, Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

// ServerError is a 5xx-style error, e.g. for a lost response (Unavailable
// in faults.go is the 503 a proxy or an overloaded endpoint answers).
func ServerError() error {
	return &smithy.GenericAPIError{Code: "InternalError", Message: "We encountered an internal error. Please try again.", Fault: smithy.FaultServer}
}

func newID(prefix string) string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)[:17]
}
