package settings

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
)

// Source reads a tier's whole set of settings, by name.
type Source interface {
	Read(ctx context.Context) (map[string]string, error)
}

// SSMAPI is the one Parameter Store call a service makes. The SDK's
// *ssm.Client satisfies it; tests use settingstest.Parameters.
type SSMAPI = ssm.GetParametersByPathAPIClient

// ssmPageSize is the most parameters GetParametersByPath returns a page.
const ssmPageSize = 10

// ParameterStore reads the parameters directly under Path (not below it),
// decrypting SecureStrings, every page of them. Names come back relative to
// the path: /myappctl/myapp/backend/DBURL is DBURL.
type ParameterStore struct {
	Client SSMAPI
	Path   string // ends with "/"
}

// Read returns the parameters under the path; an empty path is an empty set.
func (p ParameterStore) Read(ctx context.Context) (map[string]string, error) {
	pages := ssm.NewGetParametersByPathPaginator(p.Client, &ssm.GetParametersByPathInput{
		Path:           aws.String(p.Path),
		Recursive:      aws.Bool(false),
		WithDecryption: aws.Bool(true),
		MaxResults:     aws.Int32(ssmPageSize),
	})
	values := map[string]string{}
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the parameters under %s: %w", p.Path, steadyError{err})
		}
		for _, param := range page.Parameters {
			name := aws.ToString(param.Name)
			rel, ok := strings.CutPrefix(name, p.Path)
			if !ok || rel == "" || strings.Contains(rel, "/") {
				continue // not directly under the path (a broken or odd answer)
			}
			values[rel] = aws.ToString(param.Value)
		}
	}
	return values, nil
}

// steadyError words an AWS error by its code and message, without the
// request id that changes on every call, so a repeated failure reads the same.
type steadyError struct{ err error }

func (e steadyError) Error() string {
	var apiErr smithy.APIError
	if errors.As(e.err, &apiErr) {
		return apiErr.ErrorCode() + ": " + apiErr.ErrorMessage()
	}
	return e.err.Error()
}

func (e steadyError) Unwrap() error { return e.err }
