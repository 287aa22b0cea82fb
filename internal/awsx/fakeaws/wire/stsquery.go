package wire

// STS speaks the AWS Query protocol: the same form-encoded requests as EC2
// (lists as Name.member.N), and PascalCase XML responses wrapped in
// <ActionResult>, lists as <member>, errors as <ErrorResponse>:
//
//	<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
//	  <GetCallerIdentityResult><Arn>…</Arn><UserId>…</UserId><Account>…</Account></GetCallerIdentityResult>
//	  <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata>
//	</GetCallerIdentityResponse>
//
// The codec of ec2query.go learns the names from the SDK's STS client just
// as it does for EC2 (this SDK version's STS uses schema-based serde, which
// the probes do not care about).

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

var stsProtocol = newProtocol("sts", "member", awsQueryCandidates, awsQueryResponse(stsNamespace), awsQueryError(stsNamespace))

func newSTSService(f *fakeaws.STS) *queryService {
	client := sts.New(sts.Options{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, HTTPClient: probeTransport{},
		Retryer: aws.NopRetryer{}, BaseEndpoint: aws.String("http://probe.invalid")})
	return &queryService{proto: stsProtocol, fake: reflect.ValueOf(f), client: reflect.ValueOf(client)}
}

// awsQueryCandidates: AWS Query elements carry the member names as they are.
func awsQueryCandidates(f reflect.StructField, _ bool) []string { return []string{f.Name} }

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
