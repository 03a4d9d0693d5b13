package policy

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ServedVersions lists, per kind, the API versions of gateway.networking.k8s.io that the
// v1.6.3 CRDs (standard and experimental channels) serve. Those CRDs convert between
// versions with strategy None: every served version has the v1 schema, so one v1 Go type
// decodes them all and one rule implementation serves every version.
var ServedVersions = map[gwv1.Kind][]string{
	KindGateway:        {"v1", "v1beta1"},
	"GatewayClass":     {"v1", "v1beta1"},
	KindHTTPRoute:      {"v1", "v1beta1"},
	KindGRPCRoute:      {"v1"},
	KindTLSRoute:       {"v1", "v1alpha2", "v1alpha3"},
	KindTCPRoute:       {"v1", "v1alpha2"},
	KindUDPRoute:       {"v1", "v1alpha2"},
	KindListenerSet:    {"v1"},
	KindReferenceGrant: {"v1", "v1beta1"},
}

// CheckServed returns an error naming the served versions when gvk is not one of them.
func CheckServed(gvk schema.GroupVersionKind) error {
	versions, ok := ServedVersions[gwv1.Kind(gvk.Kind)]
	if gvk.Group != gwv1.GroupName || !ok {
		return fmt.Errorf("kind %s is not one Gatewarden validates (it serves %s kinds %s)", gvk.GroupKind(), gwv1.GroupName, servedKinds())
	}
	if !slices.Contains(versions, gvk.Version) {
		return fmt.Errorf("%s version %s is not served (served: %s)", gvk.GroupKind(), gvk.Version, strings.Join(versions, ", "))
	}
	return nil
}

func servedKinds() string {
	kinds := make([]string, 0, len(ServedVersions))
	for k := range ServedVersions {
		kinds = append(kinds, string(k))
	}
	slices.Sort(kinds)
	return strings.Join(kinds, ", ")
}

// Decode decodes raw JSON of a served gvk into into, a pointer to the kind's v1 type.
// Field names are case-sensitive and duplicates are errors, as for the API server. Fields
// the v1 type lacks are ignored rather than refused: a newer CRD may add fields, and a
// webhook that fails closed must not block every write when it does.
//
// The decoder is encoding/json/v2 (its module, github.com/go-json-experiment/json, until
// Go 1.27 makes it standard), whose defaults are exactly those rules; it decodes a Route
// in half the time and allocations of encoding/json, and this decode is on the path of
// every review.
func Decode(gvk schema.GroupVersionKind, raw []byte, into any) error {
	if err := CheckServed(gvk); err != nil {
		return err
	}
	if err := jsonv2.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("decoding %s: %w", gvk.Kind, jsonError{err})
	}
	return nil
}

// DecodeJSON decodes raw strictly on case and duplicates, as Decode does, for kinds
// outside gateway.networking.k8s.io.
func DecodeJSON(raw []byte, into any) error {
	if err := jsonv2.Unmarshal(raw, into); err != nil {
		return jsonError{err}
	}
	return nil
}

// jsonError words a decoding error for people, with the field path in the notation of
// field.Path (spec.rules[0].backendRefs), and the same way every time: the decoder's own
// messages vary their wording on purpose, so that no one depends on them.
type jsonError struct{ err error }

func (e jsonError) Unwrap() error { return e.err }

func (e jsonError) Error() string {
	var sem *jsonv2.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(e.err, &syn):
		if errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			return fmt.Sprintf("%s: duplicate field", fieldPath(syn.JSONPointer))
		}
		msg := "invalid JSON"
		if syn.Err != nil {
			msg += ": " + syn.Err.Error()
		}
		if syn.JSONPointer != "" {
			msg = fmt.Sprintf("%s: %s", fieldPath(syn.JSONPointer), msg)
		}
		return fmt.Sprintf("%s (at byte %d)", msg, syn.ByteOffset)
	case errors.As(e.err, &sem):
		where := ""
		if sem.JSONPointer != "" {
			where = fieldPath(sem.JSONPointer) + ": "
		}
		want := jsonKindOf(sem.GoType)
		switch {
		case want != "" && (errors.Is(sem.Err, strconv.ErrSyntax) || errors.Is(sem.Err, strconv.ErrRange)):
			return fmt.Sprintf("%smust be %s in range, not %s", where, want, sem.JSONValue)
		case sem.Err != nil:
			return fmt.Sprintf("%s%v", where, sem.Err)
		case sem.JSONKind == 0 || want == "":
			return fmt.Sprintf("%scannot be decoded into %v", where, sem.GoType)
		}
		return fmt.Sprintf("%smust be %s, not %s", where, want, jsonKindName(sem.JSONKind))
	case errors.Is(e.err, io.ErrUnexpectedEOF), errors.Is(e.err, io.EOF):
		return "invalid JSON: unexpected end of input"
	}
	return e.err.Error()
}

// fieldPath turns a JSON pointer (/spec/rules/0/backendRefs) into a field path
// (spec.rules[0].backendRefs).
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// jsonKindOf names the JSON value a Go type decodes from ("" when it is not plain).
func jsonKindOf(t reflect.Type) string {
	if t == nil {
		return ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return ""
}

func jsonKindName(k jsontext.Kind) string {
	switch k {
	case '[':
		return "an array"
	case '{':
		return "an object"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case '0':
		return "a number"
	case 'n':
		return "null"
	}
	return k.String()
}
