package wire

// SSM speaks AWS JSON 1.1, an RPC protocol: every request is POST / with
// the operation in X-Amz-Target (AmazonSSM.PutParameter), Content-Type
// application/x-amz-json-1.1 and the whole input as one JSON object; the
// answer is the whole output as one JSON object ({} when it has no
// members). Errors are HTTP 400 (500 for server faults; an @httpError
// status where the SDK's schema has one — not the @awsQueryError status,
// which is for the Query protocol: SSM answers ParameterNotFound with 400,
// not its 404) with
// {"__type": code, "message": …} — the message under the member name of
// the error shape, which is what the SDK decodes.
//
// The REST codec (rest.go) serves it, learning it like REST-JSON
// (rest_learn.go): the probe client's request binds every input field to
// a key of the body, and the one header no field binds, X-Amz-Target,
// routes it; the output fields are found by offering the SDK's
// deserializer candidate bodies. Nothing is hand-written per operation,
// so any JSON 1.1 service whose fake joins fakeaws.Cloud needs one line in
// services.go.

import (
	"net/http"

	"github.com/aws/smithy-go"
)

// targetHeader names the operation of an AWS JSON request.
const targetHeader = "X-Amz-Target"

// awsJSON11Codec is the AWS JSON 1.1 protocol of one service, whose
// errors the SDK's type registry describes.
func awsJSON11Codec(name string, reg *smithy.TypeRegistry) *restCodec {
	return newRESTCodec(&restCodec{
		name:        name,
		json:        true,
		contentType: "application/x-amz-json-1.1",
		status:      func(code string, server bool) int { return jsonErrorStatus(reg, code, server) },
		errorBody: func(h http.Header, code, message, _ string) []byte {
			h.Set("Content-Type", "application/x-amz-json-1.1")
			h.Set("X-Amzn-Errortype", code)
			return jsonObject("__type", code, messageKey(reg, code), message)
		},
		unknownCode:   "UnknownOperationException",
		unknownStatus: http.StatusBadRequest,
	})
}

// jsonErrorStatus is the HTTP status of an AWS JSON error code.
func jsonErrorStatus(reg *smithy.TypeRegistry, code string, server bool) int {
	if status, ok := shapeStatus(reg, code); ok {
		return status
	}
	if server {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}
