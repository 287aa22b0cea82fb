package wire

// The services the server speaks, and how each finds its fake in a
// fakeaws.Cloud: the fake is the Cloud field that implements methods of the
// service's SDK client with the client's own signatures, so a fake added to
// Cloud later (Auto Scaling, say) is served as soon as it exists, under
// whatever field name, and is routed by method name like the others.

import (
	"net/http"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/traits"
)

// handler serves the requests of one service.
type handler interface {
	serve(w http.ResponseWriter, r *http.Request, reqID string)
}

// serviceDef is one service: its SigV4 signing name, the probe SDK client
// the codecs learn the wire names from (and whose methods are matched
// against the fake's), and the handler for a fake.
type serviceDef struct {
	name   string
	client any
	handle func(fake reflect.Value) handler
}

// The probe clients send nothing: probeTransport captures the request and
// answers with a canned response.
const probeRegion, probeEndpoint = "us-east-1", "http://probe.invalid"

var serviceDefs = []serviceDef{
	queryDef("ec2", ec2Protocol, nil, ec2.New(ec2.Options{Region: probeRegion, Credentials: aws.AnonymousCredentials{}, HTTPClient: probeTransport{},
		Retryer: aws.NopRetryer{}, BaseEndpoint: aws.String(probeEndpoint)})),
	queryDef("sts", stsProtocol, sts.TypeRegistry, sts.New(sts.Options{Region: probeRegion, Credentials: aws.AnonymousCredentials{}, HTTPClient: probeTransport{},
		Retryer: aws.NopRetryer{}, BaseEndpoint: aws.String(probeEndpoint)})),
	queryDef("elasticloadbalancing", awsQueryProtocol("elasticloadbalancing", "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"), elbv2.TypeRegistry,
		elbv2.New(elbv2.Options{Region: probeRegion, Credentials: aws.AnonymousCredentials{}, HTTPClient: probeTransport{},
			Retryer: aws.NopRetryer{}, BaseEndpoint: aws.String(probeEndpoint)})),
	queryDef("rds", awsQueryProtocol("rds", "http://rds.amazonaws.com/doc/2014-10-31/"), rds.TypeRegistry,
		rds.New(rds.Options{Region: probeRegion, Credentials: aws.AnonymousCredentials{}, HTTPClient: probeTransport{},
			Retryer: aws.NopRetryer{}, BaseEndpoint: aws.String(probeEndpoint)})),
	queryDef("iam", awsQueryProtocol("iam", "https://iam.amazonaws.com/doc/2010-05-08/"), iam.TypeRegistry,
		iam.New(iam.Options{Region: probeRegion, Credentials: aws.AnonymousCredentials{}, HTTPClient: probeTransport{},
			Retryer: aws.NopRetryer{}, BaseEndpoint: aws.String(probeEndpoint)})),
	queryDef("autoscaling", awsQueryProtocol("autoscaling", "http://autoscaling.amazonaws.com/doc/2011-01-01/"), autoscaling.TypeRegistry,
		autoscaling.New(autoscaling.Options{Region: probeRegion, Credentials: aws.AnonymousCredentials{}, HTTPClient: probeTransport{},
			Retryer: aws.NopRetryer{}, BaseEndpoint: aws.String(probeEndpoint)})),
	restDef("s3", s3Codec, s3.New(s3.Options{Region: probeRegion, Credentials: aws.AnonymousCredentials{}, HTTPClient: probeTransport{},
		Retryer: aws.NopRetryer{}, BaseEndpoint: aws.String(probeEndpoint), UsePathStyle: true})),
	restDef("lambda", lambdaCodec, lambda.New(lambda.Options{Region: probeRegion, Credentials: aws.AnonymousCredentials{}, HTTPClient: probeTransport{},
		Retryer: aws.NopRetryer{}, BaseEndpoint: aws.String(probeEndpoint)})),
	restDef("ssm", awsJSON11Codec("ssm", ssm.TypeRegistry), ssm.New(ssm.Options{Region: probeRegion, Credentials: aws.AnonymousCredentials{}, HTTPClient: probeTransport{},
		Retryer: aws.NopRetryer{}, BaseEndpoint: aws.String(probeEndpoint)})),
}

// queryDef is a query-protocol service; errors get the HTTP status of
// their shape in the SDK's type registry (nil: 400, 500 for server faults).
func queryDef(name string, p *protocol, errors *smithy.TypeRegistry, client any) serviceDef {
	c := reflect.ValueOf(client)
	return serviceDef{name: name, client: client, handle: func(fake reflect.Value) handler {
		return &queryService{proto: p, fake: fake, client: c, errors: errors}
	}}
}

// queryErrorStatus is the status of an AWS Query error code: that of the
// error shape whose @awsQueryError code (or name) it is, as the
// trait or @httpError gives it.
func queryErrorStatus(reg *smithy.TypeRegistry, code string, status int) int {
	if reg == nil || status >= 500 {
		return status
	}
	for id, e := range reg.Entries {
		qe, ok := smithy.SchemaTrait[*traits.AWSQueryError](e.Schema)
		if !(ok && qe.ErrorCode == code || strings.HasSuffix(id, "#"+code)) {
			continue
		}
		if ok && qe.StatusCode != 0 {
			return qe.StatusCode
		}
		if he, ok := smithy.SchemaTrait[*traits.HTTPError](e.Schema); ok && he.Code != 0 {
			return he.Code
		}
	}
	return status
}

func restDef(name string, codec *restCodec, client any) serviceDef {
	c := reflect.ValueOf(client)
	return serviceDef{name: name, client: client, handle: func(fake reflect.Value) handler {
		return newRESTService(codec, fake, c)
	}}
}

// serviceDef returns the definition of a service by signing name.
func lookupDef(name string) serviceDef {
	for _, d := range serviceDefs {
		if d.name == name {
			return d
		}
	}
	panic("wire: no service " + name)
}

// fakeFor finds the fake of a service among the exported fields of cloud
// (a *fakeaws.Cloud): the one implementing the most methods of the SDK
// client with the client's signatures (nil fields and methods promoted from
// a fake's nil interface do not count). It returns an invalid Value if none.
func fakeFor(cloud reflect.Value, client reflect.Value) reflect.Value {
	v := cloud.Elem()
	best, bestN := reflect.Value{}, 0
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		f := v.Field(i)
		if !sf.IsExported() || sf.Anonymous || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.Struct {
			continue
		}
		n := 0
		for j := range client.NumMethod() {
			name := client.Type().Method(j).Name
			if m := f.MethodByName(name); m.IsValid() && m.Type() == client.Method(j).Type() && implemented(f, name) {
				n++
			}
		}
		if n > bestN {
			best, bestN = f, n
		}
	}
	return best
}
