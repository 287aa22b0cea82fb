package wire

// The EC2 Query protocol, and the query codec it shares with AWS Query
// (stsquery.go).
//
// A request is a form post, Action=CreateVpc&Version=2016-11-15&CidrBlock=…
// &TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name…;
// a response is XML, <CreateVpcResponse xmlns=…><requestId>…</requestId>
// <vpc><vpcId>…</vpcId><tagSet><item><key>…</key>…</item></tagSet></vpc>…
//
// The names on the wire are exactly those of the SDK in go.mod because they
// are learned from it, per Go type, the first time an operation is served:
//
//   - Request keys are the serializers' object.Key("CidrBlock") and
//     FlatKey("TagSpecification") names (list fields are mostly singular,
//     with locationName overrides such as VpcIds → VpcId, Description →
//     GroupDescription). The probe client serializes an input holding a
//     distinct marker in every leaf; each form key is then matched with the
//     Go field path of its marker, segment by segment (bools, which cannot
//     carry markers, get one probe each).
//   - Response elements are the deserializers' strings.EqualFold("vpcId",
//     …) cases: lowerCamel names, lists as <xxxSet><item>, with exceptions
//     such as availabilityZoneInfo or instanceState. For every output field,
//     candidate names (the regular ones, then ec2Irregular) are fed to the
//     SDK deserializer in a canned response until one fills the field.
//
// So every operation a fake implements is served, operations added later
// included, and nothing here needs editing when the SDK changes.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/aws/smithy-go/middleware"
	smithytime "github.com/aws/smithy-go/time"
)

const ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

var ec2Protocol = newProtocol("ec2", "item", ec2Candidates,
	func(action, requestID string, body []byte) []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s<%sResponse xmlns=\"%s\">%s", xml.Header, action, ec2Namespace, element("requestId", requestID))
		b.Write(body)
		fmt.Fprintf(&b, "</%sResponse>", action)
		return b.Bytes()
	},
	func(code, message, requestID string, _ bool) []byte {
		return []byte(xml.Header + "<Response><Errors><Error>" + element("Code", escape(code)) + element("Message", escape(message)) +
			"</Error></Errors>" + element("RequestID", requestID) + "</Response>")
	})

// ec2Candidates are the element names tried for an output field: the
// regular lowerCamel ones (lists: tagSet for Tags, instancesSet, …) and the
// irregular ones of the EC2 deserializers.
func ec2Candidates(f reflect.StructField, list bool) []string {
	lf := lowerFirst(f.Name)
	var c []string
	if list {
		for _, s := range singulars(lf) {
			c = append(c, s+"Set")
		}
		c = append(c, lf+"Set", lf)
		c = append(c, singulars(lf)...)
	} else {
		c = append(c, lf)
	}
	return append(c, ec2Irregular[f.Name]...)
}

// ec2Irregular are element names of the EC2 deserializers (deserializers.go)
// that do not follow from the Go field name (field → names).
var ec2Irregular = map[string][]string{
	"AvailabilityZones":     {"availabilityZoneInfo"},
	"Regions":               {"regionInfo"},
	"State":                 {"status", "instanceState", "imageState", "zoneState"},
	"StateMessage":          {"statusMessage"},
	"StateTransitionReason": {"reason"},
	"ReturnValue":           {"return"},
	"SecurityGroups":        {"groupSet", "securityGroupInfo"},
	"UserIdGroupPairs":      {"groups"},
	"BlockDeviceMappings":   {"blockDeviceMapping"},
	"OwnerId":               {"imageOwnerId", "instanceOwnerId"},
	"KernelId":              {"kernel"},
	"RamdiskId":             {"ramdisk"},
	"Public":                {"isPublic"},
	"IsDefault":             {"default"},
	"PublicDnsName":         {"dnsName"},
	"PublicIpAddress":       {"ipAddress"},
	"ProductCodeId":         {"productCode"},
	"ProductCodeType":       {"type"},
	"Description":           {"groupDescription"},
	"KeyPairs":              {"keySet"},
	"Tags":                  {"tag"},
	"LaunchPermissions":     {"launchPermission"},
	"StartingInstances":     {"instancesSet"},
	"StoppingInstances":     {"instancesSet"},
	"TerminatingInstances":  {"instancesSet"},
	"DnsServers":            {"dnsServer"},
	"VpcAttachments":        {"attachments"},
	"VpcAttachment":         {"attachment"},
	"LicenseSpecifications": {"licenseSet"},
	"Groups":                {"groupSet"},
}

// ec2IrregularMembers are list entry elements of the EC2 deserializers
// that are neither item nor the singular of the list (field → names).
var ec2IrregularMembers = map[string][]string{
	"Groups": {"groupId"}, // LaunchTemplateInstanceNetworkInterfaceSpecification.groupSet
}

func init() { ec2Protocol.irregularMembers = ec2IrregularMembers }

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// singulars are the possible singular forms of a plural name.
func singulars(s string) []string {
	var out []string
	if strings.HasSuffix(s, "ies") {
		out = append(out, strings.TrimSuffix(s, "ies")+"y")
	}
	if strings.HasSuffix(s, "s") {
		out = append(out, strings.TrimSuffix(s, "s"))
	}
	if strings.HasSuffix(s, "es") {
		out = append(out, strings.TrimSuffix(s, "es"))
	}
	return out
}

// ---- the query codec ----

// protocol is one query protocol's envelope and the names learned for it.
type protocol struct {
	name       string
	listMember string // element of a list entry: item (EC2) or member (AWS Query)
	candidates func(f reflect.StructField, list bool) []string
	response   func(action, requestID string, body []byte) []byte
	errorBody  func(code, message, requestID string, server bool) []byte
	// irregularMembers are list entry elements that do not follow from the
	// list's field name (field → names).
	irregularMembers map[string][]string

	mu      sync.RWMutex
	learned map[reflect.Type]error          // by input type: operation learned (or why it failed)
	query   map[reflect.Type]map[string]int // struct type → request key segment → field index
	xml     map[reflect.Type][]xmlName      // struct type → element of each field
}

// xmlName is a field's response element; lists also name their entries.
type xmlName struct{ name, member string }

func newProtocol(name, listMember string, candidates func(reflect.StructField, bool) []string,
	response func(string, string, []byte) []byte, errorBody func(string, string, string, bool) []byte) *protocol {
	return &protocol{name: name, listMember: listMember, candidates: candidates, response: response, errorBody: errorBody,
		learned: map[reflect.Type]error{}, query: map[reflect.Type]map[string]int{}, xml: map[reflect.Type][]xmlName{}}
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	metadataType = reflect.TypeFor[middleware.Metadata]()
)

// fields are the struct fields that are on the wire.
func wireField(f reflect.StructField) bool { return f.IsExported() && f.Type != metadataType }

// learn makes sure the names of op's input and output types are known.
func (p *protocol) learn(op *operation) error {
	p.mu.RLock()
	err, ok := p.learned[op.in]
	p.mu.RUnlock()
	if ok {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err, ok := p.learned[op.in]; ok {
		return err
	}
	in, err := p.learnInput(op)
	if err == nil {
		p.learnStruct(op, in, op.out, func(inner []byte) []byte { return p.response(op.name, "probe", inner) },
			func(out reflect.Value) reflect.Value { return out.Elem() })
	}
	p.learned[op.in] = err
	return err
}

// call runs the probe client's operation: it returns the form the SDK
// serialized and, given a response body, the output the SDK decoded.
func (op *operation) call(in reflect.Value, response []byte) (url.Values, reflect.Value, error) {
	pr := &probe{response: response}
	res := op.sdk.Call([]reflect.Value{reflect.ValueOf(context.WithValue(context.Background(), probeKey{}, pr)), in})
	err, _ := res[1].Interface().(error)
	return pr.form, res[0], err
}

// pathStep is one step from an input to a leaf: a field of a struct, or
// (typ nil) the entry of a list.
type pathStep struct {
	typ   reflect.Type
	field int
}

// learnInput learns the request keys of op's input types and returns the
// fully populated probe input (it passes the SDK's validation).
func (p *protocol) learnInput(op *operation) (reflect.Value, error) {
	base := &filler{off: -1}
	in := base.build(op.in)
	form, _, err := op.call(in, nil)
	if form == nil {
		return in, fmt.Errorf("learn the request names of %s: the SDK did not serialize a probe: %v", op.name, err)
	}
	for key, vs := range form {
		if path, ok := base.markers[vs[0]]; ok {
			p.alignQuery(key, path)
		}
	}
	// Every bool is true in the base probe; turning one off shows its key.
	for i, path := range base.flags {
		f := &filler{off: i}
		form, _, _ := op.call(f.build(op.in), nil)
		for key, vs := range form {
			if vs[0] == "false" {
				p.alignQuery(key, path)
			}
		}
	}
	return in, nil
}

// alignQuery walks a request key (TagSpecification.1.Tag.1.Key) along the
// Go path of its value and records each struct field's key segment.
func (p *protocol) alignQuery(key string, path []pathStep) bool {
	segs := strings.Split(key, ".")
	var learnt []pathStep
	var names []string
	i := 0
	for _, st := range path {
		if i >= len(segs) {
			return false
		}
		if st.typ == nil { // list entry: N, or member.N in AWS Query
			if !isIndex(segs[i]) && i+1 < len(segs) && isIndex(segs[i+1]) {
				i++
			}
			if !isIndex(segs[i]) {
				return false
			}
			i++
			continue
		}
		learnt, names = append(learnt, st), append(names, segs[i])
		i++
	}
	if i != len(segs) {
		return false
	}
	for j, st := range learnt {
		m := p.query[st.typ]
		if m == nil {
			m = map[string]int{}
			p.query[st.typ] = m
		}
		m[names[j]] = st.field
	}
	return true
}

func isIndex(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1
}

// learnStruct finds the response element of every field of t by offering
// the SDK deserializer candidate names until one fills the field; wrap puts
// an element where t sits in a response, get finds t in a decoded output.
func (p *protocol) learnStruct(op *operation, in reflect.Value, t reflect.Type, wrap func([]byte) []byte, get func(reflect.Value) reflect.Value) {
	if _, ok := p.xml[t]; ok {
		return
	}
	names := make([]xmlName, t.NumField())
	p.xml[t] = names
	for i := range t.NumField() {
		sf := t.Field(i)
		if !wireField(sf) {
			continue
		}
		list := isList(sf.Type)
		members := []string{""}
		if list {
			members = dedupe(append(append([]string{p.listMember, "item", "member"}, singulars(lowerFirst(sf.Name))...), p.irregularMembers[sf.Name]...))
		}
	search:
		for _, name := range dedupe(p.candidates(sf, list)) {
			for _, m := range members {
				_, out, err := op.call(in, wrap([]byte(element(name, sample(sf.Type, m)))))
				if err != nil {
					continue
				}
				if v := get(out); v.IsValid() && isSet(v.Field(i)) {
					names[i] = xmlName{name, m}
					break search
				}
			}
		}
		n := names[i]
		et := structOf(sf.Type)
		if n.name == "" || et == nil {
			continue
		}
		p.learnStruct(op, in, et,
			func(inner []byte) []byte {
				if list {
					inner = []byte(element(n.member, string(inner)))
				}
				return wrap([]byte(element(n.name, string(inner))))
			},
			func(out reflect.Value) reflect.Value {
				v := get(out)
				if !v.IsValid() {
					return v
				}
				v = v.Field(i)
				if list {
					if v.Len() == 0 {
						return reflect.Value{}
					}
					v = v.Index(0)
				}
				if v.Kind() == reflect.Pointer {
					v = v.Elem()
				}
				return v
			})
	}
}

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func isBlob(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
}

func isList(t reflect.Type) bool { return t.Kind() == reflect.Slice && !isBlob(t) }

// structOf is the struct type a field holds (directly, by pointer or as
// list entries), nil for scalars.
func structOf(t reflect.Type) reflect.Type {
	if isList(t) {
		t = t.Elem()
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && t != timeType {
		return t
	}
	return nil
}

// sample is element content the deserializer accepts for a value of type t
// (an empty element for a struct), lists holding one entry.
func sample(t reflect.Type, member string) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return "2020-01-02T03:04:05.000Z"
	case isBlob(t):
		return "eA=="
	case isList(t):
		return element(member, sample(t.Elem(), "item"))
	}
	switch t.Kind() {
	case reflect.String:
		return "x"
	case reflect.Bool:
		return "true"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "7"
	}
	return ""
}

func isSet(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map:
		return !v.IsNil()
	case reflect.Slice:
		return v.Len() > 0
	}
	return !v.IsZero()
}

// filler builds probe values: every field set, each leaf a distinct marker.
type filler struct {
	n       int
	markers map[string][]pathStep // leaf value as serialized → its path
	flags   [][]pathStep          // bool leaves in fill order
	off     int                   // index of the bool left false; all others are true (-1: none)
	rest    bool                  // also fill maps and io.Reader payloads (REST protocols)
	only    []int                 // the top-level fields to fill (nil: all)
	empties [][]pathStep          // structs without fields (REST), which hold no marker
	enums   bool                  // enums get their first known value, not a marker
}

// A pathStep into a map: typ is the map type, field one of these.
const (
	mapValue = 0
	mapKey   = 1
)

var readerType = reflect.TypeFor[io.Reader]()
var readCloserType = reflect.TypeFor[io.ReadCloser]()

// build returns a *t with every field set.
func (f *filler) build(t reflect.Type) reflect.Value {
	if f.markers == nil {
		f.markers = map[string][]pathStep{}
	}
	v := reflect.New(t)
	if f.only == nil {
		f.fill(v.Elem(), nil, map[reflect.Type]bool{})
		return v
	}
	for _, i := range f.only {
		f.fill(v.Elem().Field(i), []pathStep{{t, i}}, map[reflect.Type]bool{t: true})
	}
	return v
}

func (f *filler) mark(s string, path []pathStep) { f.markers[s] = path }

func (f *filler) fill(v reflect.Value, path []pathStep, open map[reflect.Type]bool) {
	t := v.Type()
	if t == timeType {
		f.n++
		tm := time.Unix(1_000_000_000+int64(f.n), 0).UTC()
		v.Set(reflect.ValueOf(tm))
		f.mark(smithytime.FormatDateTime(tm), path)
		f.mark(smithytime.FormatHTTPDate(tm), path)
		f.mark(strconv.FormatInt(tm.Unix(), 10), path)
		return
	}
	if len(path) > 40 {
		return
	}
	step := func(st pathStep) []pathStep { return append(path[:len(path):len(path)], st) }
	switch t.Kind() {
	case reflect.Pointer:
		if open[t.Elem()] {
			return // a recursive type: leave the inner one out
		}
		p := reflect.New(t.Elem())
		f.fill(p.Elem(), path, open)
		v.Set(p)
	case reflect.Struct:
		if open[t] {
			return
		}
		open[t] = true
		defer delete(open, t)
		empty := true
		for i := range t.NumField() {
			if wireField(t.Field(i)) {
				empty = false
				f.fill(v.Field(i), step(pathStep{t, i}), open)
			}
		}
		if empty && f.rest {
			f.empties = append(f.empties, path)
		}
	case reflect.Slice:
		f.n++
		if isBlob(t) {
			b := fmt.Appendf(nil, "blob%d", f.n)
			v.Set(reflect.ValueOf(b).Convert(t))
			f.mark(base64.StdEncoding.EncodeToString(b), path)
			f.mark(string(b), path) // a raw payload
			return
		}
		s := reflect.MakeSlice(t, 1, 1)
		f.fill(s.Index(0), step(pathStep{}), open)
		v.Set(s)
	case reflect.Map:
		if !f.rest || t.Key().Kind() != reflect.String {
			return
		}
		f.n++
		key := reflect.New(t.Key()).Elem()
		key.SetString(fmt.Sprintf("m%dx", f.n))
		f.mark(key.String(), step(pathStep{t, mapKey}))
		val := reflect.New(t.Elem()).Elem()
		f.fill(val, step(pathStep{t, mapValue}), open)
		m := reflect.MakeMap(t)
		m.SetMapIndex(key, val)
		v.Set(m)
	case reflect.Interface:
		if f.rest && t == readerType {
			f.n++
			s := fmt.Sprintf("m%dx", f.n)
			v.Set(reflect.ValueOf(strings.NewReader(s)))
			f.mark(s, path)
		}
	case reflect.String:
		f.n++
		s := fmt.Sprintf("m%dx", f.n)
		if values := v.MethodByName("Values"); f.enums && values.IsValid() && values.Type().NumIn() == 0 && values.Type().NumOut() == 1 {
			if known := values.Call(nil)[0]; known.Kind() == reflect.Slice && known.Len() > 0 {
				s = known.Index(0).String()
			}
		}
		v.SetString(s)
		f.mark(s, path)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f.n++
		v.SetInt(int64(100 + f.n%27)) // fits int8
		if t.Bits() > 8 {
			v.SetInt(int64(1000 + f.n))
		}
		f.mark(strconv.FormatInt(v.Int(), 10), path)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f.n++
		v.SetUint(uint64(100 + f.n%27))
		if t.Bits() > 8 {
			v.SetUint(uint64(1000 + f.n))
		}
		f.mark(strconv.FormatUint(v.Uint(), 10), path)
	case reflect.Float32, reflect.Float64:
		f.n++
		v.SetFloat(float64(1000 + f.n))
		f.mark(strconv.FormatFloat(v.Float(), 'f', -1, 64), path)
	case reflect.Bool:
		v.SetBool(len(f.flags) != f.off)
		f.flags = append(f.flags, path)
	}
}

// decode sets in (a *Input) from a request form.
func (p *protocol) decode(form url.Values, in reflect.Value) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "Action" && k != "Version" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := p.set(in.Elem(), strings.Split(k, "."), k, form.Get(k)); err != nil {
			return err
		}
	}
	return nil
}

func (p *protocol) set(v reflect.Value, segs []string, key, val string) error {
	unknown := &paramError{"UnknownParameter", fmt.Sprintf("The parameter %s is not recognized", key)}
	invalid := &paramError{"InvalidParameterValue", fmt.Sprintf("Value (%s) for parameter %s is invalid.", val, key)}
	for {
		t := v.Type()
		if t.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(t.Elem()))
			}
			v = v.Elem()
			continue
		}
		if t == timeType || isBlob(t) || t.Kind() != reflect.Struct && t.Kind() != reflect.Slice {
			if len(segs) > 0 {
				return unknown
			}
			if err := setLeaf(v, val); err != nil {
				return invalid
			}
			return nil
		}
		if len(segs) == 0 {
			return invalid
		}
		if t.Kind() == reflect.Struct {
			i, ok := p.query[t][segs[0]]
			if !ok {
				return unknown
			}
			v, segs = v.Field(i), segs[1:]
			continue
		}
		// a list entry: N, or member.N (AWS Query)
		if !isIndex(segs[0]) && len(segs) > 1 && isIndex(segs[1]) {
			segs = segs[1:]
		}
		n, err := strconv.Atoi(segs[0])
		if err != nil || n < 1 || n > 10000 {
			return unknown
		}
		if v.Len() < n {
			grown := reflect.MakeSlice(t, n, n)
			reflect.Copy(grown, v)
			v.Set(grown)
		}
		v, segs = v.Index(n-1), segs[1:]
	}
}

func setLeaf(v reflect.Value, s string) error {
	t := v.Type()
	switch {
	case t == timeType:
		tm, err := smithytime.ParseDateTime(s)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	case isBlob(t):
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(b).Convert(t))
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, t.Bits())
		if err != nil {
			return err
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, t.Bits())
		if err != nil {
			return err
		}
		v.SetFloat(n)
	default:
		return fmt.Errorf("unsupported type %s", t)
	}
	return nil
}

// encode renders an output (a *Output) as the elements of a response.
func (p *protocol) encode(out reflect.Value) []byte {
	if out.Kind() == reflect.Pointer && out.IsNil() {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	var b bytes.Buffer
	p.encodeStruct(&b, reflect.Indirect(out))
	return b.Bytes()
}

func (p *protocol) encodeStruct(b *bytes.Buffer, v reflect.Value) {
	for i, n := range p.xml[v.Type()] {
		if n.name != "" {
			p.encodeValue(b, n.name, n.member, v.Field(i))
		}
	}
}

func (p *protocol) encodeValue(b *bytes.Buffer, name, member string, v reflect.Value) {
	ptr := false
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v, ptr = v.Elem(), true
	}
	t := v.Type()
	text := func(s string) {
		b.WriteString("<" + name + ">")
		_ = xml.EscapeText(b, []byte(s))
		b.WriteString("</" + name + ">")
	}
	switch {
	case t == timeType:
		text(smithytime.FormatDateTime(v.Interface().(time.Time)))
		return
	case isBlob(t):
		if !v.IsNil() {
			text(base64.StdEncoding.EncodeToString(v.Bytes()))
		}
		return
	case isList(t):
		if v.IsNil() {
			return
		}
		b.WriteString("<" + name + ">")
		for j := range v.Len() {
			p.encodeValue(b, member, p.listMember, v.Index(j))
		}
		b.WriteString("</" + name + ">")
		return
	case t.Kind() == reflect.Struct:
		b.WriteString("<" + name + ">")
		p.encodeStruct(b, v)
		b.WriteString("</" + name + ">")
		return
	}
	if !ptr && v.IsZero() { // an unset enum or plain number
		return
	}
	switch t.Kind() {
	case reflect.String:
		text(v.String())
	case reflect.Bool:
		text(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		text(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		text(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		text(strconv.FormatFloat(v.Float(), 'f', -1, t.Bits()))
	}
}
