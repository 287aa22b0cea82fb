package wire

// S3 speaks REST-XML (rest.go). The CLI addresses buckets path-style
// against a custom endpoint, so every request is /{Bucket}[/{Key+}]?…
// with the operation told apart by method and query keys (?tagging,
// ?list-type=2, ?delete, x-id=PutObject); configurations travel as XML
// payloads (<Tagging>, <Delete>, <NotificationConfiguration>…), object
// bytes as the raw body, object and bucket facts in headers (ETag,
// x-amz-bucket-region). Errors are <Error><Code>… with the status S3 uses
// for the code; a HEAD error has no body, so the SDK reads the status
// alone (404 → NotFound).

import (
	"encoding/xml"
	"net/http"
	"strings"
)

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// s3Roots are the root elements of S3's response bodies that are not the
// payload's own type name.
var s3Roots = map[string]string{
	"ListBuckets":                        "ListAllMyBucketsResult",
	"ListObjectsV2":                      "ListBucketResult",
	"ListObjects":                        "ListBucketResult",
	"DeleteObjects":                      "DeleteResult",
	"GetBucketTagging":                   "Tagging",
	"GetBucketNotificationConfiguration": "NotificationConfiguration",
	"CreateMultipartUpload":              "InitiateMultipartUploadResult",
	"CopyObject":                         "CopyObjectResult",
}

var s3Codec = newRESTCodec(&restCodec{
	name:  "s3",
	xmlns: s3Namespace,
	rootName: func(op string) string {
		if n, ok := s3Roots[op]; ok {
			return n
		}
		return op + "Result"
	},
	status: s3Status,
	errorBody: func(h http.Header, code, message, requestID string) []byte {
		h.Set("Content-Type", "application/xml")
		return []byte(xml.Header + "<Error>" + element("Code", escape(code)) + element("Message", escape(message)) +
			element("RequestId", requestID) + element("HostId", requestID) + "</Error>")
	},
	unknownCode:   "NotImplemented",
	unknownStatus: http.StatusNotImplemented,
	irregularHeaders: map[string][]string{
		"Size":       {"x-amz-object-size"},
		"PartsCount": {"x-amz-mp-parts-count"},
		"TagCount":   {"x-amz-tagging-count"},
	},
})

// s3Status is the HTTP status S3 answers an error code with.
func s3Status(code string, server bool) int {
	switch {
	case server:
		return http.StatusInternalServerError
	case code == "NotFound" || strings.HasPrefix(code, "NoSuch"):
		return http.StatusNotFound
	case code == "BucketAlreadyExists" || code == "BucketAlreadyOwnedByYou" || code == "BucketNotEmpty" ||
		code == "OperationAborted" || code == "InvalidBucketState":
		return http.StatusConflict
	case code == "AccessDenied" || code == "AllAccessDisabled" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch":
		return http.StatusForbidden
	case code == "MethodNotAllowed":
		return http.StatusMethodNotAllowed
	case code == "PreconditionFailed":
		return http.StatusPreconditionFailed
	case code == "SlowDown":
		return http.StatusServiceUnavailable
	case code == "NotImplemented":
		return http.StatusNotImplemented
	}
	return http.StatusBadRequest
}
