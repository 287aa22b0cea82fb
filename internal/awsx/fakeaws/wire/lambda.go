package wire

// Lambda speaks REST-JSON (rest.go): /2015-03-31/functions[/{FunctionName}
// [/code|/configuration|/policy[/{StatementId}]]], /2017-03-31/tags/{ARN},
// JSON bodies of the input's body members. Errors carry their code in
// X-Amzn-ErrorType and {"Type":…,"Message":…} in the body, with the HTTP
// status of the error shape's @httpError trait in the SDK's schemas (404
// for ResourceNotFoundException, 409 for ResourceConflictException, …).

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/traits"
)

var lambdaCodec = newRESTCodec(&restCodec{
	name:   "lambda",
	json:   true,
	status: func(code string, server bool) int { return schemaStatus(lambda.TypeRegistry, code, server) },
	errorBody: func(h http.Header, code, message, _ string) []byte {
		return jsonError(lambda.TypeRegistry, h, code, message)
	},
	unknownCode:   "UnknownOperationException",
	unknownStatus: http.StatusNotFound,
})

// schemaStatus is the status of an error code: its shape's @httpError in
// the service's type registry, else by the code's form.
func schemaStatus(reg *smithy.TypeRegistry, code string, server bool) int {
	if status, ok := shapeStatus(reg, code); ok {
		return status
	}
	switch {
	case server:
		return http.StatusInternalServerError
	case strings.HasSuffix(code, "NotFoundException") || strings.HasSuffix(code, "NotFound"):
		return http.StatusNotFound
	case strings.Contains(code, "Conflict") || strings.HasSuffix(code, "InUseException"):
		return http.StatusConflict
	case strings.HasPrefix(code, "AccessDenied"):
		return http.StatusForbidden
	case strings.HasPrefix(code, "TooManyRequests") || strings.HasPrefix(code, "Throttl"):
		return http.StatusTooManyRequests
	}
	return http.StatusBadRequest
}

// shapeStatus is the status the error shape of a code gives: its
// @httpError, or 500 for a server error; false when it gives none.
func shapeStatus(reg *smithy.TypeRegistry, code string) (int, bool) {
	if e, ok := reg.LookupEntry(code); ok {
		if t, ok := smithy.SchemaTrait[*traits.HTTPError](e.Schema); ok && t.Code != 0 {
			return t.Code, true
		}
		if t, ok := smithy.SchemaTrait[*traits.Error](e.Schema); ok && t.Type == "server" {
			return http.StatusInternalServerError, true
		}
	}
	return 0, false
}

// jsonError is a REST-JSON error body; the message goes under the member
// name the error shape has ("Message" or "message").
func jsonError(reg *smithy.TypeRegistry, h http.Header, code, message string) []byte {
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", code)
	typ := "User"
	if e, ok := reg.LookupEntry(code); ok {
		if t, ok := smithy.SchemaTrait[*traits.Error](e.Schema); ok && t.Type == "server" {
			typ = "Service"
		}
	}
	return jsonObject("Type", typ, messageKey(reg, code), message)
}

// messageKey is the member an error shape holds its message in: "Message"
// or "message" (the SDK reads only its own).
func messageKey(reg *smithy.TypeRegistry, code string) string {
	if e, ok := reg.LookupEntry(code); ok && e.Schema.Member("Message") != nil {
		return "Message"
	}
	return "message"
}

// jsonObject is a JSON object of string members, in the order given.
func jsonObject(kv ...string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, kv[i])
		b.WriteByte(':')
		writeJSONString(&b, kv[i+1])
	}
	b.WriteByte('}')
	return b.Bytes()
}
