package wire

// The REST protocols: REST-XML (S3) and REST-JSON (Lambda). An operation is
// a method and a path template (/{Bucket}/{Key+}, /2015-03-31/functions/
// {FunctionName}/policy) plus the query keys that tell operations on the
// same path apart (?tagging, ?list-type=2, ?x-id=PutObject); input members
// travel in path labels, query parameters, headers (x-amz-meta-* prefix
// headers for maps) and the body (the @httpPayload member, or the JSON
// object of the body members); output members come back in headers, the
// status code and the body.
//
// As for the query protocols, all of it is learned from the SDK in go.mod
// (rest_learn.go), once per operation the fake implements, before the first
// request is routed:
//
//   - Requests: the probe client serializes an input holding a distinct
//     marker in every leaf (bools: one probe each with it false); where each
//     marker lands — path segment, query key, header, prefix header, raw
//     body, JSON key path, XML element path — binds that Go field. Literal
//     path segments and query keys left over make the route. When the SDK
//     refuses the fully populated input (an S3 checksum algorithm "m12x",
//     say), each top-level field is probed on its own over the required ones.
//   - Responses: for every output field, candidate bindings (a header named
//     after the field or after a request header of a field of that name,
//     the payload, body names, the status code) are offered to the SDK
//     deserializer until one decodes to the value sent.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// restCodec is one REST protocol: its body format, error shape and the
// names learned for it (shared by every server of the process).
type restCodec struct {
	name string
	json bool // JSON bodies; XML otherwise
	// xmlns is the namespace of XML response roots.
	xmlns string
	// rootName is the root element of an operation's XML response body
	// (the SDK does not read it; AWS's names make responses readable).
	rootName func(op string) string
	// status is the HTTP status of an error code.
	status func(code string, server bool) int
	// errorBody renders an error; HEAD responses never carry one.
	errorBody func(h http.Header, code, message, requestID string) []byte
	// unknown is the code and status of a request no operation matches.
	unknownCode   string
	unknownStatus int
	// contentType of response bodies ("": application/json or
	// application/xml).
	contentType string

	mu    sync.RWMutex
	ops   map[reflect.Type]*restOp // learned operations, by input type
	names map[reflect.Type][]bodyName
	// doneOut are the struct types whose fields were learned for responses.
	doneOut map[reflect.Type]bool
	// seen are the bindings request fields of each name have, candidates
	// for output fields of the same name (a Content-Type header, an XML list
	// entry name such as CloudFunctionConfiguration).
	seenHeaders map[string][]string
	seenBody    map[string][]bodyName
	// irregularHeaders are output headers that follow neither from the
	// field name nor from a request header (field → names).
	irregularHeaders map[string][]string
}

func newRESTCodec(c *restCodec) *restCodec {
	c.ops = map[reflect.Type]*restOp{}
	c.names = map[reflect.Type][]bodyName{}
	c.seenHeaders = map[string][]string{}
	c.seenBody = map[string][]bodyName{}
	c.doneOut = map[reflect.Type]bool{}
	return c
}

// bodyName is a struct field's element (XML) or key (JSON). An XML list is
// wrapped (<TagSet><Tag>…</Tag></TagSet>: member names the entries) or
// flat (<Contents>…</Contents><Contents>…</Contents>).
type bodyName struct {
	name   string
	member string
	flat   bool
}

func (n bodyName) known() bool { return n.name != "" }

// bindKind is where a top-level member travels.
type bindKind int

const (
	bindNone    bindKind = iota
	bindLabel            // a path segment
	bindQuery            // a query parameter
	bindHeader           // a header
	bindPrefix           // headers with a prefix (a map)
	bindPayload          // the whole body
	bindBody             // a member of the body (JSON object)
	bindStatus           // the status code (outputs)
)

type binding struct {
	kind bindKind
	name string // query key, header name or prefix, body key
	// timeFormat of a header holding a timestamp: httpDate, dateTime or epochSeconds.
	timeFormat string
}

const (
	httpDate     = "http-date"
	dateTime     = "date-time"
	epochSeconds = "epoch-seconds"
)

// restOp is one learned operation.
type restOp struct {
	*operation
	method   string
	segs     []segment     // the path template
	literals url.Values    // query keys (with values) identifying the operation
	ins      []binding     // by input field
	outs     []binding     // by output field
	probeIn  reflect.Value // an input the SDK serializes, for response probes
	// target is the X-Amz-Target header naming the operation of an RPC
	// protocol (AWS JSON: AmazonSSM.PutParameter); "" for REST.
	target string
}

// segment is a literal path segment or a label (field >= 0); a greedy
// label is the last one and takes the rest of the path (an S3 key).
type segment struct {
	lit    string
	field  int
	greedy bool
}

// restService serves one fake over a REST protocol.
type restService struct {
	codec  *restCodec
	fake   reflect.Value
	client reflect.Value
	ops    []*restOp
	err    error // why learning failed, reported on every request
}

func newRESTService(codec *restCodec, fake, client reflect.Value) handler {
	s := &restService{codec: codec, fake: fake, client: client}
	qs := &queryService{fake: fake, client: client} // for operation()
	var ops []*operation
	for i := range client.NumMethod() {
		if op := qs.operation(client.Type().Method(i).Name); op != nil {
			ops = append(ops, op)
		}
	}
	s.ops, s.err = codec.learnAll(ops)
	return s
}

func (s *restService) serve(w http.ResponseWriter, r *http.Request, reqID string) {
	c := s.codec
	head := r.Method == http.MethodHead
	fail := func(status int, code, msg string) {
		h := w.Header()
		h.Set("X-Amzn-Requestid", reqID)
		h.Set("X-Amz-Request-Id", reqID)
		var body []byte
		if !head {
			body = c.errorBody(h, code, msg, reqID)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
	name := "?"
	defer func() {
		if p := recover(); p != nil {
			fail(http.StatusInternalServerError, "InternalError", fmt.Sprintf("fake %s %s panicked: %v", c.name, name, p))
		}
	}()
	if s.err != nil {
		fail(http.StatusInternalServerError, "InternalError", s.err.Error())
		return
	}
	op, labels := s.route(r)
	if op == nil {
		what := r.Method + " " + r.URL.RequestURI()
		if target := r.Header.Get(targetHeader); target != "" {
			what = targetHeader + " " + target
		}
		fail(c.unknownStatus, c.unknownCode, fmt.Sprintf("%s matches no operation the fake %s implements", what, c.name))
		return
	}
	name = op.name
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		fail(http.StatusBadRequest, "IncompleteBody", err.Error())
		return
	}
	in, err := c.decodeRequest(op, r, labels, body)
	if err != nil {
		var pe *paramError
		if errors.As(err, &pe) {
			fail(http.StatusBadRequest, pe.code, pe.msg)
		} else {
			fail(http.StatusBadRequest, "SerializationException", err.Error())
		}
		return
	}
	res := op.fake.Call([]reflect.Value{reflect.ValueOf(r.Context()), in})
	if err, _ := res[1].Interface().(error); err != nil {
		status, code, msg := errorParts(err)
		status = statusOr(err, func() int { return c.status(code, status >= 500) })
		// An error that carries its HTTP answer (S3's 301 for a bucket of
		// another region, with x-amz-bucket-region) is sent as it is.
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.Response != nil {
			status = re.HTTPStatusCode()
			for k, v := range re.Response.Header {
				w.Header()[k] = v
			}
		}
		fail(status, code, msg)
		return
	}
	status, header, out := c.encodeResponse(op, res[0])
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("X-Amzn-Requestid", reqID)
	w.Header().Set("X-Amz-Request-Id", reqID)
	if out == nil && op.target != "" {
		out = []byte("{}") // an RPC answers with an object, empty or not
	}
	if status == http.StatusNoContent || head {
		out = nil
	}
	if out != nil && w.Header().Get("Content-Type") == "" {
		ct := c.contentType
		if ct == "" {
			ct = map[bool]string{true: "application/json", false: "application/xml"}[c.json]
		}
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// route finds the operation of a request: same method (and X-Amz-Target
// for an RPC), a path matching its template, all its literal query keys
// present; the most specific (most literal keys, then most literal
// segments) wins.
func (s *restService) route(r *http.Request) (*restOp, map[int]string) {
	segs := splitPath(r.URL.EscapedPath())
	query := r.URL.Query()
	var best *restOp
	var bestLabels map[int]string
	bestScore := -1
	for _, op := range s.ops {
		if op.method != r.Method || op.target != r.Header.Get(targetHeader) {
			continue
		}
		labels, ok := matchPath(op.segs, segs)
		if !ok {
			continue
		}
		score := 0
		for k, vs := range op.literals {
			got, present := query[k]
			if !present || (vs[0] != "" && (len(got) == 0 || got[0] != vs[0])) {
				ok = false
				break
			}
			score += 100
		}
		if !ok {
			continue
		}
		for _, sg := range op.segs {
			if sg.field < 0 {
				score++
			}
		}
		if score > bestScore {
			best, bestLabels, bestScore = op, labels, score
		}
	}
	return best, bestLabels
}

// splitPath splits an escaped path into unescaped segments ("/" is none).
func splitPath(escaped string) []string {
	escaped = strings.TrimPrefix(escaped, "/")
	if escaped == "" {
		return nil
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}

func matchPath(tmpl []segment, segs []string) (map[int]string, bool) {
	labels := map[int]string{}
	for i, sg := range tmpl {
		if i >= len(segs) {
			return nil, false
		}
		if sg.field < 0 {
			if segs[i] != sg.lit {
				return nil, false
			}
			continue
		}
		if sg.greedy && i == len(tmpl)-1 {
			v := strings.Join(segs[i:], "/")
			if v == "" {
				return nil, false
			}
			labels[sg.field] = v
			return labels, true
		}
		if segs[i] == "" {
			return nil, false
		}
		labels[sg.field] = segs[i]
	}
	return labels, len(segs) == len(tmpl)
}

// learnAll learns every operation (requests first: their names are
// candidates for the responses) and returns them.
func (c *restCodec) learnAll(ops []*operation) ([]*restOp, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*restOp
	var fresh []*restOp
	for _, op := range ops {
		ro, ok := c.ops[op.in]
		if !ok {
			var err error
			if ro, err = c.learnRequest(op); err != nil {
				return nil, err
			}
			c.ops[op.in] = ro
			fresh = append(fresh, ro)
		}
		// The learned names are per type; the bound methods are this fake's.
		cp := *ro
		cp.operation = op
		out = append(out, &cp)
	}
	for _, ro := range fresh {
		c.learnResponse(ro) // fills outs, which the copies share
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// ---- requests ----

// decodeRequest builds the input of op from a request.
func (c *restCodec) decodeRequest(op *restOp, r *http.Request, labels map[int]string, body []byte) (reflect.Value, error) {
	c.mu.RLock() // names may be extended by another server's learning
	defer c.mu.RUnlock()
	in := reflect.New(op.in)
	v := in.Elem()
	invalid := func(where, val string) error {
		return &paramError{"InvalidArgument", fmt.Sprintf("Value (%s) for %s is invalid.", val, where)}
	}
	for i, val := range labels {
		if err := setText(v.Field(i), val, ""); err != nil {
			return in, invalid("the path", val)
		}
	}
	query := r.URL.Query()
	var payload = -1
	bodyMembers := false
	for i, b := range op.ins {
		f := v.Field(i)
		switch b.kind {
		case bindQuery:
			for _, val := range query[b.name] {
				if err := setText(f, val, ""); err != nil {
					return in, invalid("the query parameter "+b.name, val)
				}
			}
		case bindHeader:
			vals := r.Header.Values(b.name)
			if strings.EqualFold(b.name, "Content-Length") && r.ContentLength >= 0 {
				vals = []string{fmt.Sprint(r.ContentLength)}
			}
			for _, val := range vals {
				vals := []string{val}
				if isList(f.Type()) {
					vals = splitHeaderList(val)
				}
				for _, one := range vals {
					if err := setText(f, strings.TrimSpace(one), b.timeFormat); err != nil {
						return in, invalid("the header "+b.name, val)
					}
				}
			}
		case bindPrefix:
			for name, vals := range r.Header {
				if len(name) > len(b.name) && strings.EqualFold(name[:len(b.name)], b.name) {
					if f.IsNil() {
						f.Set(reflect.MakeMap(f.Type()))
					}
					key := reflect.New(f.Type().Key()).Elem()
					key.SetString(strings.ToLower(name[len(b.name):]))
					f.SetMapIndex(key, reflect.ValueOf(vals[0]).Convert(f.Type().Elem()))
				}
			}
		case bindPayload:
			payload = i
		case bindBody:
			bodyMembers = true
		}
	}
	if payload >= 0 {
		return in, c.decodePayload(v.Field(payload), body)
	}
	if bodyMembers && len(bytes.TrimSpace(body)) > 0 {
		if !c.json {
			return in, errors.New("this fake reads XML bodies only as payloads")
		}
		var doc any
		if err := decodeJSON(body, &doc); err != nil {
			return in, err
		}
		obj, ok := doc.(map[string]any)
		if !ok {
			return in, errors.New("the body is not a JSON object")
		}
		for key, val := range obj {
			i := -1
			for j, b := range op.ins {
				if b.kind == bindBody && b.name == key {
					i = j
				}
			}
			if i < 0 {
				return in, &paramError{"SerializationException", fmt.Sprintf("Unrecognized field %q", key)}
			}
			if err := c.fromJSON(v.Field(i), val); err != nil {
				return in, fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	return in, nil
}

func splitHeaderList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *restCodec) decodePayload(f reflect.Value, body []byte) error {
	t := f.Type()
	switch {
	case t == readerType:
		f.Set(reflect.ValueOf(bytes.NewReader(body)))
		return nil
	case isBlob(t):
		f.Set(reflect.ValueOf(bytes.Clone(body)).Convert(t))
		return nil
	case t.Kind() == reflect.String || t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String:
		return setText(f, string(body), "")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if c.json {
		var doc any
		if err := decodeJSON(body, &doc); err != nil {
			return err
		}
		return c.fromJSON(f, doc)
	}
	root, err := parseXML(body)
	if err != nil {
		return &paramError{"MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema: " + err.Error()}
	}
	return c.fromXML(f, root)
}

func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return &paramError{"SerializationException", "the body is not valid JSON: " + err.Error()}
	}
	return nil
}

// xnode is an XML element.
type xnode struct {
	name string
	text string
	kids []*xnode
}

func parseXML(b []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*xnode
	var root *xnode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: t.Name.Local}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.kids = append(top.kids, n)
			} else if root == nil {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// fromXML sets v (of a struct, list entry or scalar type) from element n.
func (c *restCodec) fromXML(v reflect.Value, n *xnode) error {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return c.fromXML(v.Elem(), n)
	}
	if t.Kind() != reflect.Struct || t == timeType {
		return setText(v, strings.TrimSpace(n.text), "")
	}
	names := c.names[t]
	for _, kid := range n.kids {
		i := -1
		for j, bn := range names {
			if bn.known() && bn.name == kid.name {
				i = j
				break
			}
		}
		if i < 0 {
			return &paramError{"MalformedXML", fmt.Sprintf("The XML you provided was not well-formed or did not validate against our published schema: unexpected element <%s> in <%s>", kid.name, n.name)}
		}
		f := v.Field(i)
		if !isList(f.Type()) {
			if err := c.fromXML(f, kid); err != nil {
				return err
			}
			continue
		}
		entries := kid.kids
		if names[i].flat {
			entries = []*xnode{kid}
		}
		for _, e := range entries {
			f.Set(reflect.Append(f, reflect.New(f.Type().Elem()).Elem()))
			if err := c.fromXML(f.Index(f.Len()-1), e); err != nil {
				return err
			}
		}
	}
	return nil
}

// fromJSON sets v from a decoded JSON value.
func (c *restCodec) fromJSON(v reflect.Value, doc any) error {
	if doc == nil {
		return nil
	}
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return c.fromJSON(v.Elem(), doc)
	}
	switch {
	case t == timeType:
		if n, ok := doc.(json.Number); ok {
			return setText(v, n.String(), epochSeconds)
		}
	case isBlob(t):
		if s, ok := doc.(string); ok {
			return setLeaf(v, s)
		}
	case t.Kind() == reflect.Struct:
		obj, ok := doc.(map[string]any)
		if !ok {
			return fmt.Errorf("want an object for %s", t.Name())
		}
		names := c.names[t]
		for key, val := range obj {
			i := -1
			for j, bn := range names {
				if bn.known() && bn.name == key {
					i = j
					break
				}
			}
			if i < 0 {
				return &paramError{"SerializationException", fmt.Sprintf("Unrecognized field %q in %s", key, t.Name())}
			}
			if err := c.fromJSON(v.Field(i), val); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		}
		return nil
	case t.Kind() == reflect.Slice:
		arr, ok := doc.([]any)
		if !ok {
			return fmt.Errorf("want an array")
		}
		s := reflect.MakeSlice(t, len(arr), len(arr))
		for i, e := range arr {
			if err := c.fromJSON(s.Index(i), e); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case t.Kind() == reflect.Map:
		obj, ok := doc.(map[string]any)
		if !ok {
			return fmt.Errorf("want an object")
		}
		m := reflect.MakeMapWithSize(t, len(obj))
		for k, e := range obj {
			val := reflect.New(t.Elem()).Elem()
			if err := c.fromJSON(val, e); err != nil {
				return err
			}
			key := reflect.New(t.Key()).Elem()
			key.SetString(k)
			m.SetMapIndex(key, val)
		}
		v.Set(m)
		return nil
	}
	switch d := doc.(type) {
	case string:
		return setText(v, d, "")
	case json.Number:
		return setText(v, d.String(), "")
	case bool:
		return setText(v, fmt.Sprint(d), "")
	}
	return fmt.Errorf("unexpected %T for %s", doc, t)
}

// setText sets a scalar (or appends a list entry) from its text form;
// timestamps in any of the formats the protocols use.
func setText(v reflect.Value, s, timeFormat string) error {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		if err := setText(p.Elem(), s, timeFormat); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	if isList(t) {
		e := reflect.New(t.Elem()).Elem()
		if err := setText(e, s, timeFormat); err != nil {
			return err
		}
		v.Set(reflect.Append(v, e))
		return nil
	}
	if t == timeType {
		tm, err := parseTime(s)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	}
	return setLeaf(v, s)
}

// ---- responses ----

// encodeResponse renders an output: status, headers and body.
func (c *restCodec) encodeResponse(op *restOp, out reflect.Value) (int, http.Header, []byte) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.encodeLocked(op, out)
}

func (c *restCodec) encodeLocked(op *restOp, out reflect.Value) (int, http.Header, []byte) {
	status, header := http.StatusOK, http.Header{}
	if out.IsNil() {
		return status, header, nil
	}
	v := out.Elem()
	var body bytes.Buffer
	payload, members := -1, false
	for i, b := range op.outs {
		f := v.Field(i)
		switch b.kind {
		case bindHeader:
			if s, ok := headerText(f, b.timeFormat); ok {
				header.Set(b.name, s)
			}
		case bindPrefix:
			iter := f.MapRange()
			for iter.Next() {
				header.Set(b.name+iter.Key().String(), iter.Value().String())
			}
		case bindStatus:
			if f = reflect.Indirect(f); f.IsValid() && f.Int() >= 200 && f.Int() < 600 {
				status = int(f.Int())
			}
		case bindPayload:
			payload = i
		case bindBody:
			members = true
		}
	}
	switch {
	case payload >= 0:
		f := reflect.Indirect(v.Field(payload))
		switch {
		case !f.IsValid():
		case f.Type() == readerType || f.Kind() == reflect.Interface:
			if r, ok := f.Interface().(io.Reader); ok && r != nil { // a streaming payload (GetObject's Body)
				if _, err := io.Copy(&body, r); err != nil {
					return http.StatusInternalServerError, header, nil
				}
				if cl, ok := r.(io.Closer); ok {
					_ = cl.Close()
				}
			}
		case isBlob(f.Type()):
			body.Write(f.Bytes())
		case f.Kind() == reflect.String:
			body.WriteString(f.String())
		case c.json:
			c.toJSON(&body, f)
		default:
			c.toXMLRoot(&body, f.Type().Name(), f)
		}
	case members && c.json:
		body.WriteByte('{')
		first := true
		for i, b := range op.outs {
			if b.kind == bindBody && isSet(v.Field(i)) {
				if !first {
					body.WriteByte(',')
				}
				first = false
				writeJSONString(&body, b.name)
				body.WriteByte(':')
				c.toJSON(&body, v.Field(i))
			}
		}
		body.WriteByte('}')
	case members:
		fmt.Fprintf(&body, "%s<%s xmlns=\"%s\">", xml.Header, c.rootName(op.name), c.xmlns)
		for i, b := range op.outs {
			if b.kind == bindBody {
				c.toXML(&body, c.names[op.out][i], v.Field(i))
			}
		}
		fmt.Fprintf(&body, "</%s>", c.rootName(op.name))
	default:
		return status, header, nil
	}
	return status, header, body.Bytes()
}

func (c *restCodec) toXMLRoot(b *bytes.Buffer, name string, v reflect.Value) {
	fmt.Fprintf(b, "%s<%s xmlns=\"%s\">", xml.Header, name, c.xmlns)
	c.xmlFields(b, v)
	fmt.Fprintf(b, "</%s>", name)
}

func (c *restCodec) xmlFields(b *bytes.Buffer, v reflect.Value) {
	for i, n := range c.names[v.Type()] {
		if n.known() {
			c.toXML(b, n, v.Field(i))
		}
	}
}

// toXML writes a field as its element(s).
func (c *restCodec) toXML(b *bytes.Buffer, n bodyName, v reflect.Value) {
	if !n.known() {
		return
	}
	orig := v
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	t := v.Type()
	switch {
	case isList(t):
		if v.IsNil() {
			return
		}
		if !n.flat {
			b.WriteString("<" + n.name + ">")
		}
		entry := bodyName{name: n.member}
		if n.flat {
			entry.name = n.name
		}
		for j := range v.Len() {
			c.toXML(b, entry, v.Index(j))
		}
		if !n.flat {
			b.WriteString("</" + n.name + ">")
		}
	case t.Kind() == reflect.Struct && t != timeType:
		b.WriteString("<" + n.name + ">")
		c.xmlFields(b, v)
		b.WriteString("</" + n.name + ">")
	case t.Kind() == reflect.Map || t.Kind() == reflect.Interface:
	default:
		if s, ok := scalarText(orig, dateTime); ok {
			b.WriteString("<" + n.name + ">")
			_ = xml.EscapeText(b, []byte(s))
			b.WriteString("</" + n.name + ">")
		}
	}
}

// toJSON writes a value as JSON.
func (c *restCodec) toJSON(b *bytes.Buffer, v reflect.Value) {
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		v = v.Elem()
	}
	t := v.Type()
	switch {
	case t == timeType:
		s, _ := scalarText(v, epochSeconds)
		b.WriteString(s)
	case isBlob(t):
		s, _ := scalarText(v, "")
		writeJSONString(b, s)
	case isList(t):
		b.WriteByte('[')
		for j := range v.Len() {
			if j > 0 {
				b.WriteByte(',')
			}
			c.toJSON(b, v.Index(j))
		}
		b.WriteByte(']')
	case t.Kind() == reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		b.WriteByte('{')
		for j, k := range keys {
			if j > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k.String())
			b.WriteByte(':')
			c.toJSON(b, v.MapIndex(k))
		}
		b.WriteByte('}')
	case t.Kind() == reflect.Struct:
		b.WriteByte('{')
		first := true
		for i, n := range c.names[t] {
			if n.known() && isSet(v.Field(i)) {
				if !first {
					b.WriteByte(',')
				}
				first = false
				writeJSONString(b, n.name)
				b.WriteByte(':')
				c.toJSON(b, v.Field(i))
			}
		}
		b.WriteByte('}')
	case t.Kind() == reflect.String:
		writeJSONString(b, v.String())
	default:
		s, _ := scalarText(v, "")
		b.WriteString(s)
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}
