package fakeaws

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// GetParametersByPath lists the parameters below a path (its direct
// children, or every level with Recursive), 10 at most a page, in name
// order. SecureString values come back encrypted unless WithDecryption.
func (f *SSM) GetParametersByPath(ctx context.Context, in *ssm.GetParametersByPathInput, _ ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error) {
	fault, err := f.begin(ctx, "GetParametersByPath")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	path := aws.ToString(in.Path)
	if !strings.HasPrefix(path, "/") || !parameterNameChars.MatchString(path) || strings.Count(strings.TrimSuffix(path, "/"), "/") > maxLevels {
		return nil, APIError("ValidationException", "The parameter path %q is not valid: a path begins with / and has at most %d levels.", path, maxLevels)
	}
	size, err := ssmPageSize(in.MaxResults, 10)
	if err != nil {
		return nil, err
	}
	filters, err := checkStringFilters(in.ParameterFilters, true)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, name := range f.sortedNames() {
		p := f.params[name]
		if underPath(name, path, aws.ToBool(in.Recursive)) && filters.match(p) {
			names = append(names, name)
		}
	}
	page, next, err := f.ssmPage(names, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	out := &ssm.GetParametersByPathOutput{NextToken: next}
	for _, name := range page {
		out.Parameters = append(out.Parameters, f.params[name].view(aws.ToBool(in.WithDecryption)))
	}
	return finish(out, nil, fault)
}

// underPath reports whether name lies below path: one level down, or any
// number with recursive.
func underPath(name, path string, recursive bool) bool {
	prefix := strings.TrimSuffix(path, "/") + "/"
	rest, ok := strings.CutPrefix(name, prefix)
	return ok && rest != "" && (recursive || !strings.Contains(rest, "/"))
}

// DescribeParameters lists parameter metadata (never values) that matches
// every ParameterFilter, 50 at most a page, in name order.
func (f *SSM) DescribeParameters(ctx context.Context, in *ssm.DescribeParametersInput, _ ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error) {
	fault, err := f.begin(ctx, "DescribeParameters")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(in.Filters) > 0 {
		return nil, APIError("ValidationException", "The fake supports ParameterFilters only, not the legacy Filters.")
	}
	size, err := ssmPageSize(in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	filters, err := checkStringFilters(in.ParameterFilters, false)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, name := range f.sortedNames() {
		if filters.match(f.params[name]) {
			names = append(names, name)
		}
	}
	page, next, err := f.ssmPage(names, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	out := &ssm.DescribeParametersOutput{NextToken: next}
	for _, name := range page {
		m := f.params[name].meta
		m.Policies = []types.ParameterInlinePolicy{}
		out.Parameters = append(out.Parameters, m)
	}
	return finish(out, nil, fault)
}

func (f *SSM) sortedNames() []string { return sortedKeys(f.params) }

// ssmPageSize is MaxResults (1 to most; unset: most).
func ssmPageSize(asked *int32, most int) (int, error) {
	if asked == nil {
		return most, nil
	}
	if n := int(*asked); n >= 1 && n <= most {
		return n, nil
	}
	return 0, APIError("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", *asked, most)
}

// ssmPage cuts a page out of sorted names. The token is opaque to callers:
// "n:" or, after an empty page (EmptyPages), "e:", then the last name
// returned.
func (f *SSM) ssmPage(names []string, token *string, size int) ([]string, *string, error) {
	kind, after := "n", ""
	if token != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*token)
		k, name, ok := strings.Cut(string(raw), ":")
		if err != nil || !ok || k != "n" && k != "e" {
			return nil, nil, APIError("InvalidNextToken", "The specified token isn't valid.")
		}
		kind, after = k, name
	}
	next := func(kind, name string) *string {
		return aws.String(base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + name)))
	}
	if f.EmptyPages && kind != "e" {
		return nil, next("e", after), nil
	}
	if after != "" {
		i, _ := slices.BinarySearch(names, after+"\x00")
		names = names[i:]
	}
	if len(names) <= size {
		return names, nil, nil
	}
	return names[:size], next("n", names[size-1]), nil
}

// stringFilter is a checked ParameterStringFilter.
type stringFilter struct {
	key, option string
	values      []string
}

type stringFilters []stringFilter

// checkStringFilters validates ParameterFilters for GetParametersByPath
// (byPath) or DescribeParameters: the keys and options each allows.
func checkStringFilters(in []types.ParameterStringFilter, byPath bool) (stringFilters, error) {
	var out stringFilters
	for _, f := range in {
		key, option := aws.ToString(f.Key), aws.ToString(f.Option)
		known := []string{"Name", "Path", "Type", "KeyId", "Tier", "DataType"}
		if byPath {
			known = []string{"Type", "KeyId", "Label"}
		}
		tag := strings.HasPrefix(key, "tag:") && len(key) > len("tag:")
		if !slices.Contains(known, key) && (byPath || !tag) {
			return nil, APIError("InvalidFilterKey", "The filter key %s is not valid here; valid keys are %s%s.", key, strings.Join(known, ", "),
				map[bool]string{true: "", false: " and tag:<key>"}[byPath])
		}
		options := []string{"Equals", "BeginsWith"}
		switch {
		case key == "Path":
			options = []string{"OneLevel", "Recursive"}
		case key == "Name":
			options = append(options, "Contains")
		case key == "Label":
			options = []string{"Equals"}
		}
		if option == "" {
			option = options[0]
		}
		if !slices.Contains(options, option) {
			return nil, APIError("InvalidFilterOption", "The filter option %s is not valid for the key %s; valid options are %s.", option, key, strings.Join(options, ", "))
		}
		if len(f.Values) == 0 && !tag {
			return nil, APIError("InvalidFilterValue", "The filter %s needs at least one value.", key)
		}
		if key == "Path" {
			for _, v := range f.Values {
				if !strings.HasPrefix(v, "/") {
					return nil, APIError("InvalidFilterValue", "The path %s is not valid: a path begins with /.", v)
				}
			}
		}
		out = append(out, stringFilter{key: key, option: option, values: f.Values})
	}
	return out, nil
}

// match reports whether a parameter passes every filter (any of a
// filter's values).
func (fs stringFilters) match(p *fakeParameter) bool {
	for _, f := range fs {
		if !f.match(p) {
			return false
		}
	}
	return true
}

func (f stringFilter) match(p *fakeParameter) bool {
	m := p.meta
	var have string
	switch {
	case f.key == "Path":
		return slices.ContainsFunc(f.values, func(v string) bool { return underPath(aws.ToString(m.Name), v, f.option == "Recursive") })
	case f.key == "Label":
		return false // the fake keeps no version labels
	case strings.HasPrefix(f.key, "tag:"):
		v, ok := p.tags[strings.TrimPrefix(f.key, "tag:")]
		if !ok {
			return false
		}
		if len(f.values) == 0 {
			return true
		}
		have = v
	case f.key == "Name":
		have = aws.ToString(m.Name)
	case f.key == "Type":
		have = string(m.Type)
	case f.key == "KeyId":
		have = aws.ToString(m.KeyId)
	case f.key == "Tier":
		have = string(m.Tier)
	case f.key == "DataType":
		have = aws.ToString(m.DataType)
	}
	return slices.ContainsFunc(f.values, func(v string) bool {
		switch f.option {
		case "BeginsWith":
			return strings.HasPrefix(have, v)
		case "Contains":
			return strings.Contains(have, v)
		}
		return have == v
	})
}
