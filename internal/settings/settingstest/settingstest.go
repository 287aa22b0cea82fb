// Package settingstest holds test doubles for the two AWS calls a service
// makes: Parameters answers GetParametersByPath the way Parameter Store does,
// Bucket records PutObject the way S3 keeps objects. Both take injected
// failures. Logs collects a service's log lines for the test to read.
package settingstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/myappctl/myappctl/internal/settings"
)

// Parameters is an in-memory Parameter Store. Like AWS it returns at most 10
// parameters a page with a NextToken to go on, only those directly under the
// path unless Recursive, and SecureString values encrypted unless
// WithDecryption.
type Parameters struct {
	// EmptyPages puts an empty page, with only a NextToken, before every
	// page, as AWS may when it filters a page away; callers must keep paging.
	EmptyPages bool

	mu     sync.Mutex
	values map[string]parameter // by full name
	err    error
	calls  []ssm.GetParametersByPathInput
}

type parameter struct {
	value  string
	secure bool
}

// NewParameters returns an empty store.
func NewParameters() *Parameters { return &Parameters{values: map[string]parameter{}} }

// Put replaces every parameter directly under path with values (relative
// names); the names in secure become SecureStrings.
func (p *Parameters) Put(path string, values map[string]string, secure ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name := range p.values {
		if rel, ok := strings.CutPrefix(name, path); ok && !strings.Contains(rel, "/") {
			delete(p.values, name)
		}
	}
	for name, v := range values {
		p.values[path+name] = parameter{value: v, secure: slices.Contains(secure, name)}
	}
}

// Fail makes every call fail with err (nil: succeed again).
func (p *Parameters) Fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

// Calls returns the requests received so far.
func (p *Parameters) Calls() []ssm.GetParametersByPathInput {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

const maxPage = 10

// GetParametersByPath answers one page.
func (p *Parameters) GetParametersByPath(ctx context.Context, in *ssm.GetParametersByPathInput, _ ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, *in)
	if p.err != nil {
		return nil, p.err
	}
	path, limit := aws.ToString(in.Path), int(aws.ToInt32(in.MaxResults))
	if limit == 0 {
		limit = maxPage
	}
	if !strings.HasPrefix(path, "/") || limit < 1 || limit > maxPage {
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "1 validation error detected: path or maxResults"}
	}
	var names []string
	for _, name := range slices.Sorted(maps.Keys(p.values)) {
		rel, ok := strings.CutPrefix(name, strings.TrimSuffix(path, "/")+"/")
		if ok && (aws.ToBool(in.Recursive) || !strings.Contains(rel, "/")) {
			names = append(names, name)
		}
	}
	start, err := p.offset(in.NextToken, len(names))
	if err != nil {
		return nil, err
	}
	out := &ssm.GetParametersByPathOutput{}
	if p.EmptyPages && !strings.HasSuffix(aws.ToString(in.NextToken), ".") {
		// An empty page whose token ("N.") serves position N for real.
		out.NextToken = aws.String(strconv.Itoa(start) + ".")
		return out, nil
	}
	end := min(start+limit, len(names))
	for _, name := range names[start:end] {
		out.Parameters = append(out.Parameters, p.render(name, aws.ToBool(in.WithDecryption)))
	}
	if end < len(names) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func (p *Parameters) offset(token *string, n int) (int, error) {
	if token == nil {
		return 0, nil
	}
	start, err := strconv.Atoi(strings.TrimSuffix(*token, "."))
	if err != nil || start < 0 || start > n {
		return 0, &smithy.GenericAPIError{Code: "InvalidNextToken", Message: "The specified token is not valid."}
	}
	return start, nil
}

func (p *Parameters) render(name string, decrypt bool) ssmtypes.Parameter {
	v := p.values[name]
	param := ssmtypes.Parameter{Name: aws.String(name), Value: aws.String(v.value), Type: ssmtypes.ParameterTypeString}
	if v.secure {
		param.Type = ssmtypes.ParameterTypeSecureString
		if !decrypt {
			param.Value = aws.String("AQICAHencrypted" + strconv.Itoa(len(v.value)))
		}
	}
	return param
}

// ServeHTTP answers GetParametersByPath in the SSM wire protocol
// (awsJson1.1), so a service configured with AWS_ENDPOINT_URL reads these
// parameters through the real SDK. It does not check signatures.
func (p *Parameters) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in ssm.GetParametersByPathInput
	if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParametersByPath" || json.NewDecoder(r.Body).Decode(&in) != nil {
		http.Error(w, "only GetParametersByPath is served", http.StatusBadRequest)
		return
	}
	out, err := p.GetParametersByPath(r.Context(), &in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if err != nil {
		code, msg := "InternalServerError", err.Error()
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			code, msg = apiErr.ErrorCode(), apiErr.ErrorMessage()
		}
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"Parameters": out.Parameters, "NextToken": out.NextToken})
}

// Object is one object written to a Bucket.
type Object struct {
	Bucket, Key, ContentType string
	Body                     []byte
}

// Bucket records PutObject calls; the last write of a key is its content.
type Bucket struct {
	mu     sync.Mutex
	writes []Object
	err    error
}

// Fail makes every write fail with err (nil: succeed again).
func (b *Bucket) Fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.err = err
}

// PutObject stores the object.
func (b *Bucket) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return nil, b.err
	}
	b.writes = append(b.writes, Object{Bucket: aws.ToString(in.Bucket), Key: aws.ToString(in.Key),
		ContentType: aws.ToString(in.ContentType), Body: body})
	return &s3.PutObjectOutput{}, nil
}

// Writes returns every successful write, oldest first.
func (b *Bucket) Writes() []Object {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.writes)
}

// Reports returns the reports written, oldest first, checked by
// settings.ParseReport; a write that is no report is an error.
func (b *Bucket) Reports() ([]settings.Report, error) {
	var reports []settings.Report
	for _, o := range b.Writes() {
		r, err := settings.ParseReport(o.Body)
		if err != nil {
			return nil, errors.Join(errors.New(o.Key), err)
		}
		reports = append(reports, r)
	}
	return reports, nil
}

// Last returns the last report written, if any.
func (b *Bucket) Last() (settings.Report, bool) {
	reports, err := b.Reports()
	if err != nil || len(reports) == 0 {
		return settings.Report{}, false
	}
	return reports[len(reports)-1], true
}

// AwaitReport waits up to 10 seconds for the last report written to satisfy
// cond and returns it; otherwise the test fails with the last one.
func (b *Bucket) AwaitReport(tb testing.TB, cond func(settings.Report) bool) settings.Report {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, ok := b.Last()
		if ok && cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no such report within 10s; the last: %+v", r)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Logs is a log destination that tests read while services write to it.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
