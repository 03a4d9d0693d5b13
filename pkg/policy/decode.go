package policy

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	sigsjson "sigs.k8s.io/json"
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
func Decode(gvk schema.GroupVersionKind, raw []byte, into any) error {
	if err := CheckServed(gvk); err != nil {
		return err
	}
	strictErrs, err := sigsjson.UnmarshalStrict(raw, into, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return fmt.Errorf("decoding %s: %w", gvk.Kind, err)
	}
	if len(strictErrs) > 0 {
		return fmt.Errorf("decoding %s: %w", gvk.Kind, strictErrs[0])
	}
	return nil
}

// DecodeJSON decodes raw strictly on case and duplicates, as Decode does, for kinds
// outside gateway.networking.k8s.io.
func DecodeJSON(raw []byte, into any) error {
	strictErrs, err := sigsjson.UnmarshalStrict(raw, into, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return err
	}
	if len(strictErrs) > 0 {
		return strictErrs[0]
	}
	return nil
}
