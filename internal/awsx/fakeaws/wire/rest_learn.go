package wire

// Learning the REST bindings from the SDK (see rest.go).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/smithy-go"
	smithytime "github.com/aws/smithy-go/time"
)

func contextWithProbe(pr *probe) context.Context {
	return context.WithValue(context.Background(), probeKey{}, pr)
}

// run calls the probe client's operation with pr in the context.
func (op *operation) run(in reflect.Value, pr *probe) (reflect.Value, error) {
	res := op.sdk.Call([]reflect.Value{reflect.ValueOf(contextWithProbe(pr)), in})
	err, _ := res[1].Interface().(error)
	return res[0], err
}

// leaf is one value of a serialized request and where it was.
type leaf struct {
	kind  bindKind // bindLabel, bindQuery, bindHeader, bindPayload or bindBody
	index int      // label: path segment
	name  string   // query key or header name
	keys  []string // body: JSON keys ("#" for array entries) or XML elements from the root
	text  string
}

func (c *restCodec) leaves(req *sentRequest) []leaf {
	var out []leaf
	for i, s := range splitPath(req.url.EscapedPath()) {
		out = append(out, leaf{kind: bindLabel, index: i, text: s})
	}
	for k, vs := range req.url.Query() {
		for _, v := range vs {
			out = append(out, leaf{kind: bindQuery, name: k, text: v})
		}
	}
	for k, vs := range req.header {
		for _, v := range vs {
			out = append(out, leaf{kind: bindHeader, name: k, text: v})
		}
	}
	if len(req.body) == 0 {
		return out
	}
	out = append(out, leaf{kind: bindPayload, text: string(req.body)})
	if c.json {
		var doc any
		if decodeJSON(req.body, &doc) == nil {
			walkJSON(doc, nil, func(keys []string, text string) {
				out = append(out, leaf{kind: bindBody, keys: keys, text: text})
			})
		}
	} else if root, err := parseXML(req.body); err == nil {
		walkXML(root, nil, func(names []string, text string) {
			out = append(out, leaf{kind: bindBody, keys: names, text: text})
		})
	}
	return out
}

func walkJSON(doc any, keys []string, fn func([]string, string)) {
	at := func(k string) []string { return append(keys[:len(keys):len(keys)], k) }
	switch d := doc.(type) {
	case map[string]any:
		if len(d) == 0 {
			fn(keys, "") // an empty struct
		}
		for k, v := range d {
			walkJSON(v, at(k), fn)
		}
	case []any:
		for _, v := range d {
			walkJSON(v, at("#"), fn)
		}
	case string:
		fn(keys, d)
	case json.Number:
		fn(keys, d.String())
	case bool:
		fn(keys, strconv.FormatBool(d))
	}
}

func walkXML(n *xnode, names []string, fn func([]string, string)) {
	names = append(names[:len(names):len(names)], n.name)
	if len(n.kids) == 0 {
		fn(names, strings.TrimSpace(n.text))
		return
	}
	for _, k := range n.kids {
		walkXML(k, names, fn)
	}
}

// where identifies a leaf's place.
func (lf leaf) where() string {
	return fmt.Sprintf("%d/%d/%s/%s", lf.kind, lf.index, strings.ToLower(lf.name), strings.Join(lf.keys, "/"))
}

// bodyKeys are the keys of a body leaf below the member or payload it is in.
func bodyKeys(keys []string) []string {
	if len(keys) == 0 {
		return keys
	}
	return keys[1:]
}

// requestLearner aligns the leaves of probe requests with the Go paths of
// their markers.
type requestLearner struct {
	c       *restCodec
	ro      *restOp
	labelAt map[int]int // path segment → input field
}

// learnRequest learns where the SDK puts each input field of op.
func (c *restCodec) learnRequest(op *operation) (*restOp, error) {
	ro := &restOp{operation: op, ins: make([]binding, op.in.NumField()), outs: make([]binding, op.out.NumField())}
	l := &requestLearner{c: c, ro: ro, labelAt: map[int]int{}}
	sets := [][]int{nil} // the top-level fields of each probe (nil: all)
	if pr := (&probe{}); l.capture(nil, -1, pr) == nil {
		required, err := requiredFields(op)
		if err != nil {
			return nil, fmt.Errorf("learn the request of %s %s: %w", c.name, op.name, err)
		}
		sets = [][]int{required}
		for i := range op.in.NumField() {
			if wireField(op.in.Field(i)) && !slices.Contains(required, i) {
				sets = append(sets, append(slices.Clone(required), i))
			}
		}
	}
	var base *sentRequest
	for _, only := range sets {
		f := &filler{off: -1, rest: true, only: only}
		in := f.build(op.in)
		pr := &probe{}
		if _, _ = op.run(in, pr); pr.req == nil && base != nil {
			// An enum the SDK acts on (a checksum algorithm): a value it knows.
			f = &filler{off: -1, rest: true, only: only, enums: true}
			in = f.build(op.in)
			_, _ = op.run(in, pr)
		}
		if pr.req == nil {
			if base == nil {
				return nil, fmt.Errorf("learn the request of %s %s: the SDK serializes no probe", c.name, op.name)
			}
			continue // the SDK refuses any value of this field the filler makes
		}
		if base == nil {
			base, ro.probeIn = pr.req, in
		}
		leaves := c.leaves(pr.req)
		for _, lf := range leaves {
			if path, ok := f.markers[lf.text]; ok {
				l.align(lf, path, f)
			}
		}
		// Empty structs (<EventBridgeConfiguration/>, {}) carry no marker:
		// an empty leaf is one when its place fits exactly one of them.
		for _, lf := range leaves {
			if lf.kind != bindBody || lf.text != "" {
				continue
			}
			var fits [][]pathStep
			for _, path := range f.empties {
				if len(path) > 0 && c.alignBody(bodyKeys(lf.keys), path[1:], false) {
					fits = append(fits, path)
				}
			}
			if len(fits) == 1 {
				l.align(lf, fits[0], f)
			}
		}
		// A bool is where the base probe has true and the probe with that
		// bool false has false or nothing (omitted when false).
		for i, path := range f.flags {
			off := &filler{off: i, rest: true, only: only, enums: f.enums}
			pr := &probe{}
			if _, _ = op.run(off.build(op.in), pr); pr.req == nil {
				continue
			}
			offText := map[string]string{}
			for _, lf := range c.leaves(pr.req) {
				offText[lf.where()] = lf.text
			}
			for _, lf := range leaves {
				if lf.text == "true" && offText[lf.where()] != "true" {
					l.align(lf, path, off)
				}
			}
		}
	}
	// The route: the base request's method, target, path and the query
	// keys that bind no field.
	ro.method, ro.target = base.method, base.header.Get(targetHeader)
	for i, s := range splitPath(base.url.EscapedPath()) {
		if f, ok := l.labelAt[i]; ok {
			ro.segs = append(ro.segs, segment{field: f})
		} else {
			ro.segs = append(ro.segs, segment{lit: s, field: -1})
		}
	}
	ro.literals = url.Values{}
	for k, vs := range base.url.Query() {
		bound := false
		for _, b := range ro.ins {
			bound = bound || b.kind == bindQuery && b.name == k
		}
		if !bound {
			ro.literals[k] = vs
		}
	}
	if n := len(ro.segs); n > 0 && ro.segs[n-1].field >= 0 {
		ro.segs[n-1].greedy = l.greedy(ro.segs[n-1].field, n-1)
	}
	return ro, nil
}

// capture probes op with the fields only (nil: all), bool off left false.
func (l *requestLearner) capture(only []int, off int, pr *probe) *sentRequest {
	f := &filler{off: off, rest: true, only: only}
	_, _ = l.ro.run(f.build(l.ro.operation.in), pr)
	return pr.req
}

// greedy reports whether the label in the last path segment keeps a "/"
// (an S3 key): the SDK then leaves it unescaped.
func (l *requestLearner) greedy(field, seg int) bool {
	in := reflect.New(l.ro.operation.in)
	in.Elem().Set(l.ro.probeIn.Elem())
	f := in.Elem().Field(field)
	if f.Kind() == reflect.Pointer {
		f = f.Elem()
	}
	if f.Kind() != reflect.String {
		return false
	}
	f.SetString(f.String() + "/g")
	pr := &probe{}
	if _, _ = l.ro.run(in, pr); pr.req == nil {
		return false
	}
	segs := strings.Split(strings.TrimPrefix(pr.req.url.EscapedPath(), "/"), "/")
	return len(segs) == seg+2 && segs[seg+1] == "g"
}

// requiredFields are the top-level fields the SDK's validation asks for.
func requiredFields(op *operation) ([]int, error) {
	_, err := op.run(reflect.New(op.in), &probe{})
	var ipe smithy.InvalidParamsError
	var pipe *smithy.InvalidParamsError
	var errs []error
	switch {
	case errors.As(err, &ipe):
		errs = ipe.Errs()
	case errors.As(err, &pipe):
		errs = pipe.Errs()
	default:
		return nil, fmt.Errorf("the SDK refuses the probe: %v", err)
	}
	var out []int
	for _, e := range errs {
		var pe smithy.InvalidParamError
		if !errors.As(e, &pe) {
			continue
		}
		name := pe.Field()
		if i := strings.Index(name, "."); i >= 0 {
			name = name[i+1:]
		}
		name = strings.FieldsFunc(name, func(r rune) bool { return r == '.' || r == '[' })[0]
		if sf, ok := op.in.FieldByName(name); ok && !slices.Contains(out, sf.Index[0]) {
			out = append(out, sf.Index[0])
		}
	}
	return out, nil
}

// align binds the field at path to where lf was.
func (l *requestLearner) align(lf leaf, path []pathStep, f *filler) {
	ro, c := l.ro, l.c
	if len(path) == 0 || path[0].typ != ro.operation.in {
		return
	}
	field := path[0].field
	rest := path[1:]
	name := ro.operation.in.Field(field).Name
	scalarOrList := len(rest) == 0 || len(rest) == 1 && rest[0].typ == nil
	switch lf.kind {
	case bindLabel:
		if len(rest) == 0 {
			l.labelAt[lf.index] = field
			ro.ins[field] = binding{kind: bindLabel}
		}
	case bindQuery:
		if scalarOrList {
			ro.ins[field] = binding{kind: bindQuery, name: lf.name}
		}
	case bindHeader:
		switch {
		case scalarOrList:
			ro.ins[field] = binding{kind: bindHeader, name: lf.name}
			if t := ro.operation.in.Field(field).Type; t == timeType || t == reflect.PointerTo(timeType) {
				ro.ins[field].timeFormat = timeFormatOf(lf.text)
			}
			c.seenHeaders[name] = appendNew(c.seenHeaders[name], lf.name)
		case len(rest) == 1 && rest[0].typ.Kind() == reflect.Map && rest[0].field == mapValue:
			for key, kp := range f.markers {
				if len(kp) == 2 && kp[0] == path[0] && kp[1].field == mapKey && strings.HasSuffix(strings.ToLower(lf.name), strings.ToLower(key)) {
					prefix := strings.ToLower(lf.name[:len(lf.name)-len(key)])
					ro.ins[field] = binding{kind: bindPrefix, name: prefix}
					c.seenHeaders[name] = appendNew(c.seenHeaders[name], prefix+"*")
				}
			}
		}
	case bindPayload:
		if len(rest) == 0 && ro.ins[field].kind == bindNone {
			ro.ins[field] = binding{kind: bindPayload}
		}
	case bindBody:
		if c.json {
			// a body member (its key), or the payload (the whole object)
			if len(lf.keys) > 0 && c.alignBody(lf.keys[1:], rest, true) {
				ro.ins[field] = binding{kind: bindBody, name: lf.keys[0]}
				c.nameField(ro.operation.in, field, bodyName{name: lf.keys[0]}, true)
			} else if c.alignBody(lf.keys, rest, true) {
				ro.ins[field] = binding{kind: bindPayload}
			}
			return
		}
		// XML: the root element is the payload.
		if len(lf.keys) > 0 && c.alignBody(lf.keys[1:], rest, true) {
			ro.ins[field] = binding{kind: bindPayload}
		}
	}
}

func timeFormatOf(s string) string {
	switch {
	case strings.HasSuffix(s, "GMT"):
		return httpDate
	case strings.Contains(s, "T"):
		return dateTime
	}
	return epochSeconds
}

func appendNew[T comparable](s []T, v T) []T {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// nameField records the body name of a struct field; seen ones (from
// requests) are candidates for output fields of the same name.
func (c *restCodec) nameField(t reflect.Type, i int, n bodyName, seen bool) {
	names := c.names[t]
	if names == nil {
		names = make([]bodyName, t.NumField())
		c.names[t] = names
	}
	names[i] = n
	if seen {
		c.seenBody[t.Field(i).Name] = appendNew(c.seenBody[t.Field(i).Name], n)
	}
}

// alignBody matches body keys (JSON keys, or XML elements below the one
// that holds the struct) with a Go path and, if they match and record is
// set, names the fields. XML lists are wrapped (the field's element, then
// one per entry) or flat (one element per entry); names already known
// decide, else wrapped is tried first.
func (c *restCodec) alignBody(keys []string, path []pathStep, record bool) bool {
	type naming struct {
		t reflect.Type
		i int
		n bodyName
	}
	var found []naming
	var walk func(keys []string, path []pathStep) bool
	walk = func(keys []string, path []pathStep) bool {
		if len(path) == 0 {
			return len(keys) == 0
		}
		if len(keys) == 0 {
			return false
		}
		st := path[0]
		switch {
		case st.typ == nil: // a list entry (JSON: "#"); XML entries are handled with their field
			if c.json && keys[0] == "#" {
				return walk(keys[1:], path[1:])
			}
			return false
		case st.typ.Kind() == reflect.Map:
			if st.field == mapValue && c.json {
				return walk(keys[1:], path[1:])
			}
			return false
		}
		entry := len(path) > 1 && path[1].typ == nil && !c.json
		if !entry {
			found = append(found, naming{st.typ, st.field, bodyName{name: keys[0]}})
			if walk(keys[1:], path[1:]) {
				return true
			}
			found = found[:len(found)-1]
			return false
		}
		known := bodyName{}
		if names := c.names[st.typ]; names != nil {
			known = names[st.field]
		}
		if !known.known() || !known.flat { // wrapped
			if len(keys) > 1 {
				found = append(found, naming{st.typ, st.field, bodyName{name: keys[0], member: keys[1]}})
				if walk(keys[2:], path[2:]) {
					return true
				}
				found = found[:len(found)-1]
			}
		}
		if !known.known() || known.flat {
			found = append(found, naming{st.typ, st.field, bodyName{name: keys[0], flat: true}})
			if walk(keys[1:], path[2:]) {
				return true
			}
			found = found[:len(found)-1]
		}
		return false
	}
	if !walk(keys, path) {
		return false
	}
	if record {
		for _, n := range found {
			c.nameField(n.t, n.i, n.n, true)
		}
	}
	return true
}

// ---- responses ----

// learnResponse finds the binding of every output field, top-level
// members first, then the fields of the structs they hold.
func (c *restCodec) learnResponse(ro *restOp) {
	out := ro.operation.out
	payload := false
	for i := range out.NumField() {
		sf := out.Field(i)
		if wireField(sf) && sf.Type == readCloserType && !payload { // a streaming payload: the HTTP body itself
			ro.outs[i], payload = binding{kind: bindPayload}, true
			continue
		}
		if !wireField(sf) || sf.Type.Kind() == reflect.Interface {
			continue
		}
		for _, cand := range c.topCandidates(sf, payload) {
			ro.outs[i] = cand.b
			if cand.b.kind == bindBody {
				c.nameField(out, i, cand.n, false)
			}
			if c.tryField(ro, nil, out, i, cand.b.kind == bindStatus) {
				break
			}
			ro.outs[i] = binding{}
			if names := c.names[out]; names != nil {
				names[i] = bodyName{}
			}
		}
		payload = payload || ro.outs[i].kind == bindPayload
	}
	for i, b := range ro.outs {
		if b.kind == bindBody || b.kind == bindPayload {
			c.learnNested(ro, []pathStep{{out, i}}, out.Field(i).Type, map[reflect.Type]bool{})
		}
	}
}

// learnNested learns the body names of the fields of the struct that a
// field of type t holds (directly, by pointer or as list entries).
func (c *restCodec) learnNested(ro *restOp, chain []pathStep, t reflect.Type, open map[reflect.Type]bool) {
	if isList(t) {
		chain = append(chain[:len(chain):len(chain)], pathStep{})
	}
	st := structOf(t)
	if st == nil || open[st] {
		return
	}
	open[st] = true
	defer delete(open, st)
	if !c.outLearned(st) {
		for i := range st.NumField() {
			sf := st.Field(i)
			if !wireField(sf) || sf.Type.Kind() == reflect.Interface || c.names[st] != nil && c.names[st][i].known() {
				continue
			}
			for _, n := range c.bodyCandidates(sf) {
				c.nameField(st, i, n, false)
				if c.tryField(ro, chain, st, i, false) {
					break
				}
				c.names[st][i] = bodyName{}
			}
		}
	}
	for i, n := range c.names[st] {
		if n.known() {
			c.learnNested(ro, append(chain[:len(chain):len(chain)], pathStep{st, i}), st.Field(i).Type, open)
		}
	}
}

// outLearned marks a struct type's fields as learned for responses and
// reports whether they were already.
func (c *restCodec) outLearned(t reflect.Type) bool {
	done := c.doneOut[t]
	c.doneOut[t] = true
	if c.names[t] == nil {
		c.names[t] = make([]bodyName, t.NumField())
	}
	return done
}

type candidate struct {
	b binding
	n bodyName
}

// topCandidates are the bindings tried for a top-level output field.
func (c *restCodec) topCandidates(sf reflect.StructField, payloadTaken bool) []candidate {
	var out []candidate
	t := sf.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if !payloadTaken && (t.Kind() == reflect.Struct && t != timeType || t.Kind() == reflect.String || isBlob(t)) {
		out = append(out, candidate{b: binding{kind: bindPayload}})
	}
	scalar := t.Kind() != reflect.Struct && t.Kind() != reflect.Map || t == timeType
	if isList(t) {
		e := t.Elem()
		scalar = e.Kind() != reflect.Struct && e.Kind() != reflect.Pointer && !isList(e)
	}
	var headers []string
	for _, h := range c.seenHeaders[sf.Name] {
		if strings.HasSuffix(h, "*") == (t.Kind() == reflect.Map) {
			headers = append(headers, strings.TrimSuffix(h, "*"))
		}
	}
	if scalar {
		k := kebab(sf.Name)
		headers = appendNew(appendNew(appendNew(headers, sf.Name), k), "x-amz-"+k)
		headers = append(headers, c.irregularHeaders[sf.Name]...)
	}
	for _, h := range headers {
		if t.Kind() == reflect.Map {
			out = append(out, candidate{b: binding{kind: bindPrefix, name: h}})
			continue
		}
		for _, tf := range []string{httpDate, dateTime, epochSeconds} {
			out = append(out, candidate{b: binding{kind: bindHeader, name: http.CanonicalHeaderKey(h), timeFormat: tf}})
			if t != timeType {
				break
			}
		}
	}
	for _, n := range c.bodyCandidates(sf) {
		out = append(out, candidate{b: binding{kind: bindBody, name: n.name}, n: n})
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
		out = append(out, candidate{b: binding{kind: bindStatus}})
	}
	return out
}

// bodyCandidates are the body names tried for a field: those fields of the
// same name have in requests, then the field's own name and, for XML lists,
// flat and wrapped forms with entry names made from it.
func (c *restCodec) bodyCandidates(sf reflect.StructField) []bodyName {
	out := slices.Clone(c.seenBody[sf.Name])
	names := []string{sf.Name, lowerFirst(sf.Name)}
	if !isList(sf.Type) || c.json {
		for _, n := range names {
			out = appendNew(out, bodyName{name: n})
		}
		return out
	}
	for _, n := range append(names, singulars(sf.Name)...) {
		out = appendNew(out, bodyName{name: n, flat: true})
	}
	members := append(singulars(sf.Name), "member", "item")
	if e := structOf(sf.Type.Elem()); e != nil {
		members = append(members, e.Name())
	}
	for _, n := range names {
		for _, m := range members {
			out = appendNew(out, bodyName{name: n, member: m})
		}
	}
	return out
}

// kebab is BucketRegion → bucket-region.
func kebab(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 && (unicode.IsLower(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// tryField answers the probe client's call with an output in which only
// the field i of the struct at chain is set, encoded with the bindings as
// they stand, and reports whether the SDK decoded that value.
func (c *restCodec) tryField(ro *restOp, chain []pathStep, t reflect.Type, i int, status bool) bool {
	out := reflect.New(ro.operation.out)
	holder := walkChain(out.Elem(), chain, true)
	want := sampleValue(t.Field(i).Type, status)
	if !want.IsValid() {
		return false
	}
	holder.Field(i).Set(want)
	code, header, body := c.encodeLocked(ro, out)
	if body == nil {
		body = []byte{}
	}
	got, err := ro.run(ro.probeIn, &probe{status: code, header: header, response: body})
	if err != nil || got.IsNil() {
		return false
	}
	g := walkChain(got.Elem(), chain, false)
	return g.IsValid() && len(diff("", g.Field(i), want)) == 0
}

// walkChain follows a chain of fields and list entries from v; make
// creates what is missing (one list entry), else an invalid Value is
// returned when something is.
func walkChain(v reflect.Value, chain []pathStep, make bool) reflect.Value {
	for _, st := range chain {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !make {
					return reflect.Value{}
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		if st.typ == nil {
			if v.Len() == 0 {
				if !make {
					return reflect.Value{}
				}
				v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			}
			v = v.Index(0)
			continue
		}
		v = v.Field(st.field)
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			if !make {
				return reflect.Value{}
			}
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	return v
}

var sampleTime = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// sampleValue is a value of t the probes look for: lists of one entry,
// maps of one, structs empty; status is a 2xx status code.
func sampleValue(t reflect.Type, status bool) reflect.Value {
	v := reflect.New(t).Elem()
	switch {
	case t == timeType:
		v.Set(reflect.ValueOf(sampleTime))
		return v
	case isBlob(t):
		v.Set(reflect.ValueOf([]byte("x")).Convert(t))
		return v
	}
	switch t.Kind() {
	case reflect.Pointer:
		e := sampleValue(t.Elem(), status)
		if !e.IsValid() {
			return e
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(e)
		v.Set(p)
	case reflect.Slice:
		e := sampleValue(t.Elem(), status)
		if !e.IsValid() {
			return e
		}
		v.Set(reflect.Append(v, e))
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return reflect.Value{}
		}
		e := sampleValue(t.Elem(), status)
		if !e.IsValid() {
			return e
		}
		k := reflect.New(t.Key()).Elem()
		k.SetString("k")
		m := reflect.MakeMap(t)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
		if status {
			v.SetInt(http.StatusPartialContent)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(7.5)
	default:
		return reflect.Value{}
	}
	return v
}

// ---- scalars ----

func parseTime(s string) (time.Time, error) {
	if t, err := smithytime.ParseDateTime(s); err == nil {
		return t, nil
	}
	if t, err := smithytime.ParseHTTPDate(s); err == nil {
		return t, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("not a timestamp: %q", s)
	}
	return smithytime.ParseEpochSeconds(f), nil
}

// scalarText is a scalar's text (timestamps in timeFormat); false for a
// nil pointer, or an unset non-pointer value.
func scalarText(v reflect.Value, timeFormat string) (string, bool) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", false
		}
		v = v.Elem()
	} else if v.IsZero() {
		return "", false
	}
	t := v.Type()
	switch {
	case t == timeType:
		tm := v.Interface().(time.Time)
		switch timeFormat {
		case httpDate:
			return smithytime.FormatHTTPDate(tm), true
		case epochSeconds:
			return strconv.FormatFloat(smithytime.FormatEpochSeconds(tm), 'f', -1, 64), true
		}
		return smithytime.FormatDateTime(tm), true
	case isBlob(t):
		return base64.StdEncoding.EncodeToString(v.Bytes()), true
	}
	switch t.Kind() {
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), true
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, t.Bits()), true
	}
	return "", false
}

// headerText is a header's value: a scalar, or a list joined by commas.
func headerText(v reflect.Value, timeFormat string) (string, bool) {
	if isList(v.Type()) {
		var parts []string
		for j := range v.Len() {
			if s, ok := scalarText(v.Index(j), timeFormat); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ","), len(parts) > 0
	}
	return scalarText(v, timeFormat)
}

// diff lists where two values differ (nil and empty lists are equal; the
// SDK's ResultMetadata is ignored).
func diff(path string, a, b reflect.Value) []string {
	if !a.IsValid() || !b.IsValid() {
		if a.IsValid() != b.IsValid() {
			return []string{path + ": one side missing"}
		}
		return nil
	}
	if a.Type() != b.Type() {
		return []string{fmt.Sprintf("%s: %s vs %s", path, a.Type(), b.Type())}
	}
	switch {
	case a.Type() == timeType:
		if !a.Interface().(time.Time).Equal(b.Interface().(time.Time)) {
			return []string{fmt.Sprintf("%s: %v vs %v", path, a, b)}
		}
		return nil
	case isBlob(a.Type()):
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			return []string{fmt.Sprintf("%s: %q vs %q", path, a.Bytes(), b.Bytes())}
		}
		return nil
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return []string{fmt.Sprintf("%s: nil vs set (%v / %v)", path, a, b)}
			}
			return nil
		}
		return diff(path, a.Elem(), b.Elem())
	case reflect.Struct:
		var out []string
		for i := range a.NumField() {
			if f := a.Type().Field(i); wireField(f) {
				out = append(out, diff(path+"."+f.Name, a.Field(i), b.Field(i))...)
			}
		}
		return out
	case reflect.Slice:
		if a.Len() != b.Len() {
			return []string{fmt.Sprintf("%s: %d vs %d entries", path, a.Len(), b.Len())}
		}
		var out []string
		for i := range a.Len() {
			out = append(out, diff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i))...)
		}
		return out
	case reflect.Map:
		if a.Len() != b.Len() {
			return []string{fmt.Sprintf("%s: %d vs %d entries", path, a.Len(), b.Len())}
		}
		var out []string
		iter := a.MapRange()
		for iter.Next() {
			out = append(out, diff(fmt.Sprintf("%s[%v]", path, iter.Key()), iter.Value(), b.MapIndex(iter.Key()))...)
		}
		return out
	case reflect.Interface:
		if a.IsNil() != b.IsNil() {
			return []string{path + ": differs"}
		}
		return nil
	}
	if a.Interface() != b.Interface() {
		return []string{fmt.Sprintf("%s: %v vs %v", path, a, b)}
	}
	return nil
}
