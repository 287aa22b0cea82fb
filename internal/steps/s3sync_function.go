package steps

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/myappctl/myappctl/internal/awsx"
)

// The function's settings: a small Go binary that lists a prefix and writes
// one object needs little time or memory.
const (
	syncRuntime = lambdatypes.RuntimeProvidedal2023
	syncHandler = "bootstrap"
	syncTimeout = 30  // seconds
	syncMemory  = 128 // MB
	syncArch    = lambdatypes.ArchitectureX8664
)

func syncEnvironment() map[string]string {
	return map[string]string{"IMAGES_PREFIX": carouselImagesPrefix, "CAROUSEL_KEY": carouselIndexKey}
}

// ensureSyncFunction makes the function, waits until it is active, and
// updates its code only when the zip's hash changed and its settings only
// when they drifted.
func ensureSyncFunction(ctx context.Context, r *Run, c carousel, role syncRole, code codePackage) (string, error) {
	detail := string(syncRuntime) + ", code " + code.sha256
	if code.unknown != nil {
		detail = string(syncRuntime) + ", code not built yet"
	}
	id, err := r.Ensure(ctx, Spec{Key: "function", Kind: lambdaFunctionKind, Name: c.function, Detail: detail,
		Create: func(ctx context.Context, _ string) (string, error) {
			return c.function, createSyncFunction(ctx, r, c, role, code)
		}})
	if err != nil || isPlanned(id) {
		return id, err
	}
	cfg, err := readyFunction(ctx, r, id)
	if err != nil {
		return "", err
	}
	if err := ensureFunctionCode(ctx, r, id, cfg, code); err != nil {
		return "", err
	}
	return id, ensureFunctionSettings(ctx, r, id, cfg, role)
}

// createSyncFunction retries while a role the tool just created is not yet
// assumable by Lambda (IAM propagates new roles within seconds).
func createSyncFunction(ctx context.Context, r *Run, c carousel, role syncRole, code codePackage) error {
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(c.function), Role: aws.String(role.arn), Runtime: syncRuntime, Handler: aws.String(syncHandler),
		Architectures: []lambdatypes.Architecture{syncArch}, Code: &lambdatypes.FunctionCode{ZipFile: code.zip},
		Timeout: aws.Int32(syncTimeout), MemorySize: aws.Int32(syncMemory), Environment: &lambdatypes.Environment{Variables: syncEnvironment()},
		Description: aws.String("myappctl: rewrites " + carouselIndexKey + " when " + carouselImagesPrefix + " changes"),
		Tags:        r.Tags(c.function),
	}
	err := untilPropagated(ctx, r, func(err error) bool {
		if !roleNotAssumable(err) || !role.own {
			return false
		}
		r.Logf("role %s is not assumable by Lambda yet (IAM is propagating it); retrying", role.arn)
		return true
	}, func() error {
		_, err := r.AWS.Lambda.CreateFunction(ctx, in)
		return err
	})
	switch {
	case !roleNotAssumable(err):
		return err
	case !role.own:
		return fmt.Errorf("%w\n  check carousel.lambda_role_arn (%s): the role must exist and trust lambda.amazonaws.com", err, role.arn)
	}
	return fmt.Errorf("role %s was still not assumable by Lambda after %s: %w", role.arn, propagationLimit, err)
}

// roleNotAssumable recognises Lambda's answer while a role propagates. The
// error code alone (InvalidParameterValueException) also covers bad input,
// which retrying cannot fix, so the message is what tells them apart.
func roleNotAssumable(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidParameterValueException" &&
		strings.Contains(apiErr.ErrorMessage(), "cannot be assumed by Lambda")
}

func waitFunctionActive(ctx context.Context, r *Run, name string) error {
	spec := r.wait("function "+name+" to become active", 0, "check it with `aws lambda get-function --function-name "+name+"`")
	return awsx.WaitWithProgress(ctx, spec, func(ctx context.Context, maxWait time.Duration) error {
		return lambda.NewFunctionActiveV2Waiter(r.AWS.Lambda, func(o *lambda.FunctionActiveV2WaiterOptions) {
			o.MinDelay, o.MaxDelay = spec.Interval, spec.Interval
		}).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, maxWait)
	})
}

func waitFunctionUpdated(ctx context.Context, r *Run, name string) error {
	spec := r.wait("function "+name+" to finish updating", 0, "check it with `aws lambda get-function --function-name "+name+"`")
	return awsx.WaitWithProgress(ctx, spec, func(ctx context.Context, maxWait time.Duration) error {
		return lambda.NewFunctionUpdatedV2Waiter(r.AWS.Lambda, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
			o.MinDelay, o.MaxDelay = spec.Interval, spec.Interval
		}).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, maxWait)
	})
}

// readyFunction waits until the function is active and no update is running
// (an interrupted run may have left one), then returns its configuration.
func readyFunction(ctx context.Context, r *Run, name string) (lambdatypes.FunctionConfiguration, error) {
	// What this run has read already may say there is nothing to wait for.
	if out, err := r.AWS.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}); err != nil || out.Configuration.State != lambdatypes.StateActive {
		if err := waitFunctionActive(ctx, r, name); err != nil {
			return lambdatypes.FunctionConfiguration{}, err
		}
	}
	for {
		out, err := r.AWS.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
		if err != nil {
			return lambdatypes.FunctionConfiguration{}, &StageError{Stage: r.Stage.Name, Action: "describe", Resource: lambdaFunctionKind.Type + " " + name, Err: err}
		}
		if out.Configuration.LastUpdateStatus != lambdatypes.LastUpdateStatusInProgress {
			return *out.Configuration, nil
		}
		if err := waitFunctionUpdated(ctx, r, name); err != nil {
			return lambdatypes.FunctionConfiguration{}, err
		}
	}
}

// ensureFunctionCode uploads the zip when Lambda's hash of the deployed
// code differs from this build's.
func ensureFunctionCode(ctx context.Context, r *Run, name string, cfg lambdatypes.FunctionConfiguration, code codePackage) error {
	if code.unknown != nil { // only when planning
		return r.change("modify", lambdaFunctionKind.Type, name, "code not checked: "+code.unknown.Error(), func() error { return code.unknown })
	}
	if aws.ToString(cfg.CodeSha256) == code.sha256 && len(cfg.Architectures) == 1 && cfg.Architectures[0] == syncArch {
		return nil
	}
	return r.change("modify", lambdaFunctionKind.Type, name, "code "+aws.ToString(cfg.CodeSha256)+" → "+code.sha256, func() error {
		_, err := r.AWS.Lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: code.zip,
			Architectures: []lambdatypes.Architecture{syncArch}})
		if err != nil {
			return err
		}
		return waitFunctionUpdated(ctx, r, name)
	})
}

// ensureFunctionSettings repairs runtime, handler, role, limits and environment.
func ensureFunctionSettings(ctx context.Context, r *Run, name string, cfg lambdatypes.FunctionConfiguration, role syncRole) error {
	var env map[string]string
	if cfg.Environment != nil {
		env = cfg.Environment.Variables
	}
	var diffs []string
	for _, d := range []struct {
		what      string
		have, fix string
	}{
		{"runtime", string(cfg.Runtime), string(syncRuntime)},
		{"handler", aws.ToString(cfg.Handler), syncHandler},
		{"role", aws.ToString(cfg.Role), role.arn},
		{"timeout", fmt.Sprint(aws.ToInt32(cfg.Timeout)), fmt.Sprint(syncTimeout)},
		{"memory", fmt.Sprint(aws.ToInt32(cfg.MemorySize)), fmt.Sprint(syncMemory)},
	} {
		if d.have != d.fix {
			diffs = append(diffs, d.what+" "+d.have+" → "+d.fix)
		}
	}
	if !maps.Equal(env, syncEnvironment()) {
		diffs = append(diffs, "environment")
	}
	if len(diffs) == 0 {
		return nil
	}
	return r.change("modify", lambdaFunctionKind.Type, name, strings.Join(diffs, ", "), func() error {
		_, err := r.AWS.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name),
			Runtime: syncRuntime, Handler: aws.String(syncHandler), Role: aws.String(role.arn), Timeout: aws.Int32(syncTimeout),
			MemorySize: aws.Int32(syncMemory), Environment: &lambdatypes.Environment{Variables: syncEnvironment()}})
		if err != nil {
			return err
		}
		return waitFunctionUpdated(ctx, r, name)
	})
}
