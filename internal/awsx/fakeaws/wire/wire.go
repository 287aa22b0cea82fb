// Package wire serves the in-memory fakes (package fakeaws) over HTTP in the
// wire protocols the real AWS SDK clients speak, so a real client — or the
// whole CLI run with --endpoint-url — can be pointed at an httptest server:
// requests are serialized, signed, sent, retried and decoded by the SDK
// exactly as against AWS.
//
// Requests are routed by the service named in their SigV4 credential scope
// (Credential=AKID/<date>/<region>/<service>/aws4_request), each to the
// fake of the Cloud that implements that service's operations
// (services.go):
//
//   - "ec2": the EC2 Query protocol (ec2query.go);
//   - "sts", "elasticloadbalancing", "rds", "iam", "autoscaling": the AWS
//     Query protocol (awsquery.go); the Action names a method of the fake;
//   - "s3": REST-XML, path-style (s3.go), and "lambda": REST-JSON
//     (lambda.go): method, path and query keys name the operation (rest.go);
//   - "ssm": AWS JSON 1.1 (json.go): X-Amz-Target names the operation,
//     served by the REST codec.
//
// Fakes are called by reflection; any method a fake implements with the
// SDK's signature is served. Names on the wire are learned from the SDK
// itself, by serializing probe inputs and offering probe responses to its
// deserializers (ec2query.go, rest_learn.go), not hand-written. Anything
// else — an unknown service or operation, a method the fake does not
// implement — gets a proper AWS error response, never a panic; errors of
// the fakes keep their AWS code, with the HTTP status each protocol uses
// (S3 404 NoSuchBucket, a bare 404 for HEAD; Lambda's from the SDK's error
// shapes; 400 for AWS JSON).
package wire

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"go/token"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

// Server is the HTTP face of one fake account.
type Server struct {
	services map[string]handler // by SigV4 service name
}

// NewServer returns a handler serving every fake of c that implements
// operations of a service in serviceDefs (services.go).
func NewServer(c *fakeaws.Cloud) http.Handler {
	s := &Server{services: map[string]handler{}}
	cloud := reflect.ValueOf(c)
	for _, d := range serviceDefs {
		if fake := fakeFor(cloud, reflect.ValueOf(d.client)); fake.IsValid() {
			s.services[d.name] = d.handle(fake)
		}
	}
	return s
}

// Services lists the SigV4 service names the server answers.
func (s *Server) Services() []string {
	var out []string
	for name := range s.services {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// ServiceOf returns the SigV4 service name of an SDK client (an
// *ec2.Client, say) when the server answers that service.
func (s *Server) ServiceOf(client any) (string, bool) {
	t := reflect.TypeOf(client)
	for _, d := range serviceDefs {
		if reflect.TypeOf(d.client) == t {
			_, ok := s.services[d.name]
			return d.name, ok
		}
	}
	return "", false
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	service := SignedService(r)
	svc, ok := s.services[service]
	if !ok {
		s.unknownService(w, r, service, reqID)
		return
	}
	// The SDK keeps the invocation id across its retries of one call: the
	// fake's lost responses are per call (fakeaws.Core.LoseResponsesOnce).
	if id := r.Header.Get("Amz-Sdk-Invocation-Id"); id != "" {
		r = r.WithContext(fakeaws.WithCallID(r.Context(), id))
	}
	svc.serve(w, r, reqID)
}

// SignedService returns the service of a request's SigV4 credential scope
// (Authorization header, or X-Amz-Credential of a presigned URL), or "".
func SignedService(r *http.Request) string {
	cred := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		i := strings.Index(auth, "Credential=")
		if i < 0 {
			return ""
		}
		cred = auth[i+len("Credential="):]
		if j := strings.IndexAny(cred, ", "); j >= 0 {
			cred = cred[:j]
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	parts := strings.Split(cred, "/") // AKID/date/region/service/aws4_request
	if len(parts) < 5 || parts[len(parts)-1] != "aws4_request" {
		return ""
	}
	return parts[len(parts)-2]
}

// unknownService answers in the error shape the client most likely parses:
// JSON for JSON protocols, AWS Query XML for form posts, REST-XML otherwise.
// X-Amzn-ErrorType carries the code for every REST-JSON client.
func (s *Server) unknownService(w http.ResponseWriter, r *http.Request, service, reqID string) {
	msg := fmt.Sprintf("this fake endpoint does not serve the service %q; it serves %s", service, strings.Join(s.Services(), ", "))
	status := http.StatusBadRequest
	code := "UnknownOperationException"
	if service == "" {
		status, code = http.StatusForbidden, "MissingAuthenticationToken"
		msg = "the request is not signed with AWS Signature Version 4, so its service is unknown"
	}
	w.Header().Set("X-Amzn-Requestid", reqID)
	w.Header().Set("X-Amzn-Errortype", code)
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.Contains(ct, "json"):
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		if service != "" {
			code = "InvalidAction"
		}
		writeXML(w, status, awsQueryError("")(code, msg, reqID, false))
	default:
		writeXML(w, status, []byte(xml.Header+"<Error>"+element("Code", escape(code))+element("Message", escape(msg))+
			element("RequestId", reqID)+"</Error>"))
	}
}

// queryService serves one fake over a query protocol (EC2 Query or AWS
// Query): form-encoded requests, XML responses.
type queryService struct {
	proto  *protocol
	fake   reflect.Value        // e.g. *fakeaws.EC2
	client reflect.Value        // the SDK client whose transport is probeTransport, for learning names
	errors *smithy.TypeRegistry // the service's error shapes, for their HTTP status (nil: 400)
}

// operation is one action: the fake's method and the SDK client's.
type operation struct {
	name    string
	fake    reflect.Value // bound method of the fake
	sdk     reflect.Value // bound method of the probe client
	in, out reflect.Type  // input and output struct types
}

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// operation returns the action if the fake implements it with the same
// signature as the SDK client's method of that name.
func (s *queryService) operation(action string) *operation {
	if !token.IsExported(action) {
		return nil
	}
	m, c := s.fake.MethodByName(action), s.client.MethodByName(action)
	if !m.IsValid() || !c.IsValid() || m.Type() != c.Type() || !implemented(s.fake, action) {
		return nil
	}
	t := m.Type()
	if t.NumIn() != 3 || t.In(0) != contextType || !isStructPtr(t.In(1)) || !t.IsVariadic() ||
		t.NumOut() != 2 || !isStructPtr(t.Out(0)) || t.Out(1) != errorType {
		return nil
	}
	return &operation{name: action, fake: m, sdk: c, in: t.In(1).Elem(), out: t.Out(0).Elem()}
}

func isStructPtr(t reflect.Type) bool {
	return t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct
}

// implemented reports whether the fake really implements a method. A fake
// embeds its awsx interface as nil, so a method nobody wrote is promoted
// from it (and would panic); promoted methods are in the method set of the
// struct value type, while the fakes' own methods have pointer receivers.
func implemented(fake reflect.Value, name string) bool {
	t := fake.Type()
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return true
	}
	if _, promoted := t.Elem().MethodByName(name); !promoted {
		return true
	}
	for i := range t.Elem().NumField() {
		f := t.Elem().Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Interface {
			if _, ok := f.Type.MethodByName(name); ok {
				return !fake.Elem().Field(i).IsNil()
			}
		}
	}
	return true
}

func (s *queryService) serve(w http.ResponseWriter, r *http.Request, reqID string) {
	fail := func(status int, code, msg string) {
		w.Header().Set("X-Amzn-Requestid", reqID)
		writeXML(w, status, s.proto.errorBody(code, msg, reqID, status >= 500))
	}
	action := "?"
	defer func() {
		if p := recover(); p != nil {
			fail(http.StatusInternalServerError, "InternalError", fmt.Sprintf("fake %s %s panicked: %v", s.proto.name, action, p))
		}
	}()
	r.Body = http.MaxBytesReader(w, r.Body, 10<<20)
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "MalformedQueryString", err.Error())
		return
	}
	action = r.Form.Get("Action")
	op := s.operation(action)
	if op == nil {
		fail(http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service (the fake %s does not implement it).", action, s.proto.name))
		return
	}
	if err := s.proto.learn(op); err != nil {
		fail(http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	in := reflect.New(op.in)
	if err := s.proto.decode(r.Form, in); err != nil {
		var pe *paramError
		if errors.As(err, &pe) {
			fail(http.StatusBadRequest, pe.code, pe.msg)
		} else {
			fail(http.StatusBadRequest, "InvalidParameterValue", err.Error())
		}
		return
	}
	res := op.fake.Call([]reflect.Value{reflect.ValueOf(r.Context()), in})
	if err, _ := res[1].Interface().(error); err != nil {
		status, code, msg := errorParts(err)
		fail(statusOr(err, func() int { return queryErrorStatus(s.errors, code, status) }), code, msg)
		return
	}
	w.Header().Set("X-Amzn-Requestid", reqID)
	writeXML(w, http.StatusOK, s.proto.response(op.name, reqID, s.proto.encode(res[0])))
}

// errorParts maps a fake's error to an HTTP status and AWS error code:
// smithy API errors keep their code (5xx for server faults, which the SDK
// retries as it would against AWS); anything else is an InternalError.
func errorParts(err error) (status int, code, msg string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		status = http.StatusBadRequest
		if ae.ErrorFault() == smithy.FaultServer {
			status = http.StatusInternalServerError
		}
		return status, ae.ErrorCode(), ae.ErrorMessage()
	}
	return http.StatusInternalServerError, "InternalError", err.Error()
}

// statusOr is the status an error asks for (fakeaws.StatusError: a 503,
// a 501), else the protocol's status for its code.
func statusOr(err error, protocolStatus func() int) int {
	var se interface{ HTTPStatusCode() int }
	if errors.As(err, &se) && se.HTTPStatusCode() != 0 {
		return se.HTTPStatusCode()
	}
	return protocolStatus()
}

// paramError is a request the protocol cannot map onto the input type.
type paramError struct{ code, msg string }

func (e *paramError) Error() string { return e.code + ": " + e.msg }

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// element is <name>inner</name>; inner must already be escaped.
func element(name, inner string) string { return "<" + name + ">" + inner + "</" + name + ">" }

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// probeTransport is the HTTP client of the SDK clients the codecs learn
// names from: it records the serialized request and answers with a canned
// response, without any network. Each call carries its *probe in the context.
type probeTransport struct{}

type probeKey struct{}

type probe struct {
	form url.Values // the request the SDK serialized, as a form (query protocols)
	req  *sentRequest

	response []byte      // the body to answer with; nil (and no status) fails the call
	status   int         // the status to answer with; 0 means 200
	header   http.Header // headers to answer with
}

// sentRequest is a request the SDK serialized.
type sentRequest struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
}

var errProbeDone = errors.New("wire: probe request captured")

func (probeTransport) Do(req *http.Request) (*http.Response, error) {
	p, _ := req.Context().Value(probeKey{}).(*probe)
	if p == nil {
		return nil, errors.New("wire: probe client used outside a probe")
	}
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		p.form, _ = url.ParseQuery(string(body))
	}
	p.req = &sentRequest{method: req.Method, url: req.URL, header: req.Header.Clone(), body: body}
	if req.ContentLength > 0 {
		p.req.header.Set("Content-Length", fmt.Sprint(req.ContentLength))
	}
	if p.response == nil && p.status == 0 {
		return nil, errProbeDone
	}
	status := p.status
	if status == 0 {
		status = http.StatusOK
	}
	header := http.Header{"Content-Type": {"text/xml"}}
	for k, v := range p.header {
		header[k] = v
	}
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, Body: io.NopCloser(bytes.NewReader(p.response)), ContentLength: int64(len(p.response)), Request: req}, nil
}
