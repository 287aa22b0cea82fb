// Package awsx is myappctl's AWS layer: SDK configuration, narrow client
// interfaces per service, tagging, error-code and wait helpers.
package awsx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// Options selects the account, region and endpoint.
type Options struct {
	Region      string
	Profile     string
	EndpointURL string // sends every call to this endpoint (an emulator); AWS_ENDPOINT_URL works too
	MaxAttempts int    // SDK retry attempts per call; 0 means 8
	// CredentialTimeout bounds the credential lookup so a machine without
	// credentials fails in seconds, not after a metadata-service hang.
	CredentialTimeout time.Duration
	// Verbose logs SDK retries and warnings to stderr; otherwise the SDK is quiet.
	Verbose bool
}

// ErrNoCredentials means the default chain found nothing usable.
var ErrNoCredentials = errors.New("no AWS credentials found")

// LoadConfig builds the SDK configuration from the default chain and checks
// that credentials can be had.
func LoadConfig(ctx context.Context, o Options) (aws.Config, error) {
	attempts := o.MaxAttempts
	if attempts == 0 {
		attempts = 8
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(o.Region),
		config.WithRetryer(func() aws.Retryer { return newRetryer(attempts) }),
	}
	if o.Verbose {
		opts = append(opts, config.WithLogger(logging.NewStandardLogger(os.Stderr)), config.WithClientLogMode(aws.LogRetries))
	} else {
		opts = append(opts, config.WithLogger(logging.Nop{}))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w (check --profile and ~/.aws/config)", err)
	}
	if o.EndpointURL != "" {
		cfg.BaseEndpoint = aws.String(o.EndpointURL)
	}
	if err := checkCredentials(ctx, cfg, o.CredentialTimeout, UsesCustomEndpoint(cfg)); err != nil {
		return aws.Config{}, err
	}
	return cfg, nil
}

func checkCredentials(ctx context.Context, cfg aws.Config, timeout time.Duration, emulator bool) error {
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if cfg.Credentials == nil {
		return credentialsHelp(errors.New("no credential provider"), emulator)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return credentialsHelp(err, emulator)
	}
	return nil
}

func credentialsHelp(cause error, emulator bool) error {
	hint := "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for a lab), " +
		"or pass --profile NAME for a profile in ~/.aws/credentials, or run `aws sso login`"
	if emulator {
		hint += "; an emulator accepts any values, e.g. AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
	}
	return fmt.Errorf("%w: %v\n  %s", ErrNoCredentials, shortCause(cause), hint)
}

func shortCause(err error) string {
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// UsesCustomEndpoint reports whether calls go to an endpoint other than AWS's
// (flag or the SDK's standard AWS_ENDPOINT_URL), which needs S3 path-style.
func UsesCustomEndpoint(cfg aws.Config) bool {
	return (cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "") || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
}
