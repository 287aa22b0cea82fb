package settings_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/myappctl/myappctl/internal/settings"
	"github.com/myappctl/myappctl/internal/settings/settingstest"
)

const backendPath = "/myappctl/myapp/backend/"

func TestParameterStoreReadsEveryPage(t *testing.T) {
	for _, emptyPages := range []bool{false, true} {
		t.Run(fmt.Sprint("empty pages ", emptyPages), func(t *testing.T) {
			params := settingstest.NewParameters()
			params.EmptyPages = emptyPages
			want := map[string]string{"DBPASSWORD": "s3cret"}
			for i := range 24 {
				want[fmt.Sprintf("P%02d", i)] = fmt.Sprint("value ", i)
			}
			params.Put(backendPath, want, "DBPASSWORD")
			params.Put(backendPath+"nested/", map[string]string{"DEEP": "x"})         // below the path: not ours
			params.Put("/myappctl/myapp/frontend/", map[string]string{"APIURL": "y"}) // another tier

			got, err := settings.ParameterStore{Client: params, Path: backendPath}.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Read = %v\nwant %v", got, want)
			}
			calls := params.Calls()
			if pages := 3 * map[bool]int{false: 1, true: 2}[emptyPages]; len(calls) != pages {
				t.Errorf("%d calls for 25 parameters, want %d", len(calls), pages)
			}
			for _, c := range calls {
				if !aws.ToBool(c.WithDecryption) || aws.ToBool(c.Recursive) || aws.ToString(c.Path) != backendPath {
					t.Errorf("call %+v: want the path, WithDecryption and not Recursive", c)
				}
			}
		})
	}
}

func TestParameterStoreEmptyPath(t *testing.T) {
	got, err := settings.ParameterStore{Client: settingstest.NewParameters(), Path: backendPath}.Read(context.Background())
	if err != nil || len(got) != 0 || got == nil {
		t.Errorf("Read of an empty path = %v, %v; want an empty set", got, err)
	}
}

func TestParameterStoreErrors(t *testing.T) {
	params := settingstest.NewParameters()
	params.Fail(&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform ssm:GetParametersByPath"})
	_, err := settings.ParameterStore{Client: params, Path: backendPath}.Read(context.Background())
	var apiErr smithy.APIError
	if err == nil || !strings.Contains(err.Error(), backendPath) || !strings.Contains(err.Error(), "AccessDeniedException: not authorized") {
		t.Errorf("error %v does not say where and why", err)
	}
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Errorf("error %v does not keep the AWS error code", err)
	}
}
