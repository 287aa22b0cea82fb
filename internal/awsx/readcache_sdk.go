package awsx

import (
	"context"

	"github.com/aws/smithy-go/middleware"
)

// readCacheMiddleware puts a ReadCache in front of every operation of an
// SDK client: reads go through ReadCache.Do, every other operation tells
// the cache that something changed once it returns (failed or not: a lost
// response may have done the work). It sits at the end of the Initialize
// step, so a read answered from the cache is neither signed nor sent.
type readCacheMiddleware struct{ cache *ReadCache }

func (readCacheMiddleware) ID() string { return "myappctl.ReadCache" }

func (m readCacheMiddleware) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	service, operation := middleware.GetServiceID(ctx), middleware.GetOperationName(ctx)
	if !isRead(operation) {
		out, md, err := next.HandleInitialize(ctx, in)
		m.cache.Mutated(service)
		return out, md, err
	}
	if scopeOf(ctx) == nil || isUncached(ctx) || streams(service, operation) {
		return next.HandleInitialize(ctx, in)
	}
	var md middleware.Metadata
	result, err := m.cache.Do(ctx, service, operation, in.Parameters, func(ctx context.Context) (any, error) {
		out, meta, err := next.HandleInitialize(ctx, in)
		md = meta
		return out.Result, err
	})
	return middleware.InitializeOutput{Result: result}, md, err
}

// addTo is an API option (aws.Config.APIOptions) that adds the middleware
// to an operation's stack.
func (c *ReadCache) addTo(stack *middleware.Stack) error {
	return stack.Initialize.Add(readCacheMiddleware{c}, middleware.After)
}
