package wire

// STS, Elastic Load Balancing v2, RDS, IAM and Auto Scaling speak the AWS
// Query protocol: the same form-encoded requests as EC2 (lists as
// Name.member.N), and PascalCase XML responses wrapped in <ActionResult>,
// lists as <member>, errors as <ErrorResponse>:
//
//	<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
//	  <GetCallerIdentityResult><Arn>…</Arn><UserId>…</UserId><Account>…</Account></GetCallerIdentityResult>
//	  <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata>
//	</GetCallerIdentityResponse>
//
// The codec of ec2query.go learns the names from each service's SDK client
// just as it does for EC2 (this SDK version's AWS Query clients use
// schema-based serde, which the probes do not care about).

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"reflect"
)

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

var stsProtocol = awsQueryProtocol("sts", stsNamespace)

// awsQueryProtocol is the AWS Query protocol of one service (its XML
// namespace): STS, Elastic Load Balancing v2, RDS, IAM, Auto Scaling.
func awsQueryProtocol(name, namespace string) *protocol {
	return newProtocol(name, "member", awsQueryCandidates, awsQueryResponse(namespace), awsQueryError(namespace))
}

// awsQueryCandidates: AWS Query elements carry the member names as they
// are, a few lists a singular one (xmlName Reference for References).
func awsQueryCandidates(f reflect.StructField, list bool) []string {
	if list {
		return append([]string{f.Name}, singulars(f.Name)...)
	}
	return []string{f.Name}
}

func awsQueryResponse(namespace string) func(action, requestID string, body []byte) []byte {
	return func(action, requestID string, body []byte) []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s<%sResponse xmlns=\"%s\"><%sResult>", xml.Header, action, namespace, action)
		b.Write(body)
		fmt.Fprintf(&b, "</%sResult><ResponseMetadata>%s</ResponseMetadata></%sResponse>", action, element("RequestId", requestID), action)
		return b.Bytes()
	}
}

func awsQueryError(namespace string) func(code, message, requestID string, server bool) []byte {
	return func(code, message, requestID string, server bool) []byte {
		typ := "Sender"
		if server {
			typ = "Receiver"
		}
		open := "<ErrorResponse>"
		if namespace != "" {
			open = "<ErrorResponse xmlns=\"" + namespace + "\">"
		}
		return []byte(xml.Header + open + "<Error>" + element("Type", typ) + element("Code", escape(code)) + element("Message", escape(message)) +
			"</Error>" + element("RequestId", requestID) + "</ErrorResponse>")
	}
}
