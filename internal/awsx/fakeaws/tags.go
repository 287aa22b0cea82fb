package fakeaws

import (
	"strings"

	"github.com/myappctl/myappctl/internal/awsx"
)

// tagCodes are the error codes a service refuses tags with.
type tagCodes struct {
	invalid, reserved, tooMany string
}

var (
	ssmTagCodes = tagCodes{invalid: "ValidationException", reserved: "InvalidTag", tooMany: "TooManyTagsError"}
	iamTagCodes = tagCodes{invalid: "ValidationError", reserved: "InvalidInput", tooMany: "LimitExceeded"}
)

// maxTags is how many tags an IAM or SSM resource can have.
const maxTags = 50

// mergeTags returns have with add added (replacing equal keys), or why
// the service would refuse them: keys of 1 to 128 characters not
// beginning with aws:, values of at most 256, 50 tags at most.
func mergeTags(have, add awsx.Tags, codes tagCodes) (awsx.Tags, error) {
	out := awsx.Tags{}
	for k, v := range have {
		out[k] = v
	}
	for k, v := range add {
		switch {
		case k == "" || len(k) > 128 || len(v) > 256:
			return nil, APIError(codes.invalid, "A tag needs a key of 1 to 128 characters and a value of at most 256 (got %q=%q).", k, v)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return nil, APIError(codes.reserved, "The tag key %s is reserved: keys can't begin with aws:.", k)
		}
		out[k] = v
	}
	if len(out) > maxTags {
		return nil, APIError(codes.tooMany, "A resource can have at most %d tags. Remove one or more tags and try the request again.", maxTags)
	}
	return out, nil
}
