package fakeaws

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// SSM is the fake SSM Parameter Store of one region.
type SSM struct {
	awsx.SSMAPI
	*Core
	Region string
	// TypeChangeFails makes an overwrite that changes a parameter's type
	// fail with HierarchyTypeMismatchException, as some clouds and
	// emulators answer; false (the default) changes the type, as AWS does
	// today.
	TypeChangeFails bool
	// EmptyPages puts an empty page, with only a NextToken, before every
	// page of GetParametersByPath and DescribeParameters, as AWS may (it
	// returns results "on a best-effort basis"): callers must keep paging
	// while there is a token. Off by default.
	EmptyPages bool

	mu     sync.Mutex
	params map[string]*fakeParameter
}

// fakeParameter is a parameter's latest version and its tags.
type fakeParameter struct {
	meta  types.ParameterMetadata
	value string
	// cipher is what a read without decryption returns for a SecureString.
	cipher string
	tags   awsx.Tags
}

// NewSSM returns an empty fake Parameter Store.
func NewSSM(core *Core, region string) *SSM {
	return &SSM{Core: core, Region: region, params: map[string]*fakeParameter{}}
}

// Limits of Parameter Store.
const (
	// maxParameterARN is the longest parameter ARN (it bounds the name).
	maxParameterARN = 1011
	maxLevels       = 15
	maxStandard     = 4096
	maxAdvanced     = 8192
	// DefaultParameterKey is the key a SecureString is encrypted with
	// when PutParameter names none: the account's AWS-managed key for SSM.
	DefaultParameterKey = "alias/aws/ssm"
)

var parameterNameChars = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)

// ParameterARN is the ARN of a parameter, or of a path (as GetParametersByPath
// is authorized against it), in region.
func ParameterARN(region, nameOrPath string) string {
	if !strings.HasPrefix(nameOrPath, "/") {
		nameOrPath = "/" + nameOrPath
	}
	return "arn:aws:ssm:" + region + ":" + Account + ":parameter" + nameOrPath
}

// validParameterName applies Parameter Store's naming rules.
func (f *SSM) validParameterName(name string) error {
	switch {
	case name == "":
		return APIError("ValidationException", "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case len(ParameterARN(f.Region, name)) > maxParameterARN:
		return APIError("ValidationException", "Parameter name: the fully qualified name (its ARN) can be at most %d characters.", maxParameterARN)
	case !parameterNameChars.MatchString(name):
		return APIError("ValidationException", "Parameter name: can only contain the characters a-zA-Z0-9_.- and / (to delimit a hierarchy).")
	case strings.Contains(name, "/") && !strings.HasPrefix(name, "/"):
		return APIError("ValidationException", "Parameter name must be a fully qualified name: a name in a hierarchy begins with /.")
	case strings.Contains(name, "//") || strings.HasSuffix(name, "/"):
		return APIError("ValidationException", "Parameter name: a hierarchy level cannot be empty.")
	}
	if first := strings.ToLower(strings.TrimPrefix(name, "/")); strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
		return APIError("ValidationException", "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).")
	}
	if levels := strings.Count(name, "/"); levels > maxLevels {
		return APIError("HierarchyLevelLimitExceededException", "Parameter name hierarchy limit exceeded: %s has %d levels, at most %d are allowed.", name, levels, maxLevels)
	}
	return nil
}

// PutParameter creates a parameter (version 1) or, with Overwrite, a new
// version of it; tags only at creation, as AWS allows.
func (f *SSM) PutParameter(ctx context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	fault, err := f.begin(ctx, "PutParameter")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name, value := aws.ToString(in.Name), aws.ToString(in.Value)
	if err := f.validParameterName(name); err != nil {
		return nil, err
	}
	overwrite := aws.ToBool(in.Overwrite)
	if overwrite && len(in.Tags) > 0 {
		return nil, APIError("ValidationException", "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. "+
			"To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	p := f.params[name]
	if p != nil && !overwrite {
		return nil, APIError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}
	next, err := f.nextVersion(p, in)
	if err != nil {
		return nil, err
	}
	if p == nil {
		tags, err := mergeTags(awsx.Tags{}, awsx.SSMTagMap(in.Tags), ssmTagCodes)
		if err != nil {
			return nil, err
		}
		p = &fakeParameter{tags: tags}
		f.params[name] = p
	}
	next.Name, next.ARN = aws.String(name), aws.String(ParameterARN(f.Region, name))
	next.Version = p.meta.Version + 1
	// AWS keeps milliseconds, as the JSON protocol's epoch seconds carry them.
	next.LastModifiedDate, next.LastModifiedUser = aws.Time(time.Now().Truncate(time.Millisecond)), aws.String("arn:aws:iam::"+Account+":user/test")
	p.meta, p.value, p.cipher = next, value, ""
	if next.Type == types.ParameterTypeSecureString {
		p.cipher = ciphertext()
	}
	return finish(&ssm.PutParameterOutput{Version: next.Version, Tier: next.Tier}, nil, fault)
}

// nextVersion validates a put and returns the metadata of the new version
// (without name, version and time); p is the parameter, nil when new.
func (f *SSM) nextVersion(p *fakeParameter, in *ssm.PutParameterInput) (types.ParameterMetadata, error) {
	var m types.ParameterMetadata
	if p != nil {
		m = p.meta
	}
	switch typ := in.Type; {
	case typ == "" && p == nil:
		return m, APIError("ValidationException", "A parameter type is required when you create a parameter.")
	case typ != "" && !slices.Contains(typ.Values(), typ):
		return m, APIError("ValidationException", "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", typ)
	case typ != "" && p != nil && typ != m.Type && f.TypeChangeFails:
		return m, APIError("HierarchyTypeMismatchException", "The parameter type can't be changed from %s to %s: delete the parameter and create it again.", m.Type, typ)
	case typ != "":
		m.Type = typ
	}
	switch {
	case in.KeyId != nil && m.Type != types.ParameterTypeSecureString:
		return m, APIError("ValidationException", "KeyId is required for SecureString type parameter only.")
	case m.Type != types.ParameterTypeSecureString:
		m.KeyId = nil
	case in.KeyId != nil:
		m.KeyId = in.KeyId
	case m.KeyId == nil:
		m.KeyId = aws.String(DefaultParameterKey)
	}
	tier, err := parameterTier(m.Tier, in.Tier, len(aws.ToString(in.Value)))
	if err != nil {
		return m, err
	}
	m.Tier = tier
	if in.Description != nil {
		m.Description = in.Description
	}
	if in.AllowedPattern != nil {
		m.AllowedPattern = in.AllowedPattern
	}
	if pat := aws.ToString(m.AllowedPattern); pat != "" {
		re, err := regexp.Compile(pat)
		switch {
		case err != nil:
			return m, APIError("InvalidAllowedPatternException", "The allowed pattern %s is not a valid regular expression.", pat)
		case !re.MatchString(aws.ToString(in.Value)):
			return m, APIError("ParameterPatternMismatchException", "Parameter value, cannot be validated against allowedPattern: %s", pat)
		}
	}
	switch dt := aws.ToString(in.DataType); dt {
	case "", "text":
		m.DataType = aws.String("text")
	default:
		return m, APIError("ValidationException", "The fake supports the data type text only, not %s.", dt)
	}
	return m, nil
}

// parameterTier is the tier of a new version: Standard unless asked for
// (an advanced parameter stays advanced); the value must fit it.
func parameterTier(had, asked types.ParameterTier, size int) (types.ParameterTier, error) {
	if size == 0 {
		return "", APIError("ValidationException", "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	tier := asked
	switch asked {
	case "", types.ParameterTierStandard:
		tier = types.ParameterTierStandard
		if had == types.ParameterTierAdvanced {
			if asked != "" {
				return "", APIError("ValidationException", "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier.")
			}
			tier = had
		}
	case types.ParameterTierIntelligentTiering:
		tier = types.ParameterTierStandard
		if size > maxStandard || had == types.ParameterTierAdvanced {
			tier = types.ParameterTierAdvanced
		}
	case types.ParameterTierAdvanced:
	default:
		return "", APIError("ValidationException", "1 validation error detected: Value '%s' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]", asked)
	}
	if tier == types.ParameterTierStandard && size > maxStandard {
		return "", APIError("ValidationException", "Standard tier parameters support a maximum parameter value of %d characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.", maxStandard)
	}
	if size > maxAdvanced {
		return "", APIError("ValidationException", "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to %d", maxAdvanced)
	}
	return tier, nil
}

// ciphertext stands for a SecureString's encrypted value: KMS-looking
// base64 that carries nothing of the plaintext.
func ciphertext() string {
	b := make([]byte, 96)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(append([]byte{1, 2, 2, 0}, b...))
}

// view is the parameter as GetParameter* returns it.
func (p *fakeParameter) view(decrypt bool) types.Parameter {
	value := p.value
	if p.meta.Type == types.ParameterTypeSecureString && !decrypt {
		value = p.cipher
	}
	return types.Parameter{Name: p.meta.Name, ARN: p.meta.ARN, Type: p.meta.Type, Value: aws.String(value), Version: p.meta.Version,
		LastModifiedDate: p.meta.LastModifiedDate, DataType: p.meta.DataType}
}

// GetParameters reads up to 10 parameters by name; names that do not
// exist are listed as InvalidParameters.
func (f *SSM) GetParameters(ctx context.Context, in *ssm.GetParametersInput, _ ...func(*ssm.Options)) (*ssm.GetParametersOutput, error) {
	fault, err := f.begin(ctx, "GetParameters")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(in.Names) < 1 || len(in.Names) > 10 {
		return nil, APIError("ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10")
	}
	out := &ssm.GetParametersOutput{}
	for _, name := range in.Names {
		if p, ok := f.params[name]; ok {
			out.Parameters = append(out.Parameters, p.view(aws.ToBool(in.WithDecryption)))
		} else {
			out.InvalidParameters = append(out.InvalidParameters, name)
		}
	}
	return finish(out, nil, fault)
}

// DeleteParameter deletes a parameter, all its versions and its tags.
func (f *SSM) DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, _ ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error) {
	fault, err := f.begin(ctx, "DeleteParameter")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.Name)
	if _, ok := f.params[name]; !ok {
		return nil, APIError("ParameterNotFound", "Parameter %s not found.", name)
	}
	delete(f.params, name)
	return finish(&ssm.DeleteParameterOutput{}, nil, fault)
}

// DeleteParameters deletes up to 10 parameters; names that do not exist
// are listed as InvalidParameters, not an error.
func (f *SSM) DeleteParameters(ctx context.Context, in *ssm.DeleteParametersInput, _ ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error) {
	fault, err := f.begin(ctx, "DeleteParameters")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(in.Names) < 1 || len(in.Names) > 10 {
		return nil, APIError("ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10")
	}
	out := &ssm.DeleteParametersOutput{}
	for _, name := range in.Names {
		if _, ok := f.params[name]; ok {
			delete(f.params, name)
			out.DeletedParameters = append(out.DeletedParameters, name)
		} else {
			out.InvalidParameters = append(out.InvalidParameters, name)
		}
	}
	return finish(out, nil, fault)
}
