package policy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestCheckServed(t *testing.T) {
	gvk := func(version, kind string) schema.GroupVersionKind {
		return schema.GroupVersionKind{Group: gwv1.GroupName, Version: version, Kind: kind}
	}
	tests := map[string]struct {
		gvk     schema.GroupVersionKind
		wantErr string
	}{
		"HTTPRoute v1":            {gvk: gvk("v1", "HTTPRoute")},
		"HTTPRoute v1beta1":       {gvk: gvk("v1beta1", "HTTPRoute")},
		"TLSRoute v1alpha3":       {gvk: gvk("v1alpha3", "TLSRoute")},
		"TCPRoute v1alpha2":       {gvk: gvk("v1alpha2", "TCPRoute")},
		"ReferenceGrant v1beta1":  {gvk: gvk("v1beta1", "ReferenceGrant")},
		"GRPCRoute v1alpha2":      {gvk: gvk("v1alpha2", "GRPCRoute"), wantErr: "GRPCRoute.gateway.networking.k8s.io version v1alpha2 is not served (served: v1)"},
		"ReferenceGrant v1alpha2": {gvk: gvk("v1alpha2", "ReferenceGrant"), wantErr: "ReferenceGrant.gateway.networking.k8s.io version v1alpha2 is not served (served: v1, v1beta1)"},
		"Gateway v1alpha2":        {gvk: gvk("v1alpha2", "Gateway"), wantErr: "Gateway.gateway.networking.k8s.io version v1alpha2 is not served (served: v1, v1beta1)"},
		"unknown kind": {gvk: gvk("v1", "BackendTLSPolicy"),
			wantErr: "kind BackendTLSPolicy.gateway.networking.k8s.io is not one Gatewarden validates (it serves gateway.networking.k8s.io kinds GRPCRoute, Gateway, GatewayClass, HTTPRoute, ListenerSet, ReferenceGrant, TCPRoute, TLSRoute, UDPRoute)"},
		"known kind in another group": {gvk: schema.GroupVersionKind{Group: "gateway.networking.x-k8s.io", Version: "v1alpha1", Kind: "HTTPRoute"},
			wantErr: "kind HTTPRoute.gateway.networking.x-k8s.io is not one Gatewarden validates"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckServed(tc.gvk)
			checkErr(t, err, tc.wantErr)
		})
	}
}

func TestDecode(t *testing.T) {
	v1 := func(kind string) schema.GroupVersionKind {
		return schema.GroupVersionKind{Group: gwv1.GroupName, Version: "v1", Kind: kind}
	}
	tests := map[string]struct {
		gvk     schema.GroupVersionKind
		raw     string
		wantErr string
		check   func(t *testing.T, into *gwv1.HTTPRoute)
	}{
		"valid": {
			gvk: v1("HTTPRoute"),
			raw: `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"a","namespace":"ns"},"spec":{"hostnames":["a.example.com"]}}`,
			check: func(t *testing.T, hr *gwv1.HTTPRoute) {
				if hr.Name != "a" || hr.Namespace != "ns" || !cmp.Equal(hr.Spec.Hostnames, []gwv1.Hostname{"a.example.com"}) {
					t.Errorf("decoded %+v", hr)
				}
			},
		},
		"v1beta1 decodes into the v1 type": {
			gvk: schema.GroupVersionKind{Group: gwv1.GroupName, Version: "v1beta1", Kind: "HTTPRoute"},
			raw: `{"metadata":{"name":"b"},"spec":{"parentRefs":[{"name":"gw","sectionName":"http"}]}}`,
			check: func(t *testing.T, hr *gwv1.HTTPRoute) {
				if len(hr.Spec.ParentRefs) != 1 || hr.Spec.ParentRefs[0].SectionName == nil || *hr.Spec.ParentRefs[0].SectionName != "http" {
					t.Errorf("decoded %+v", hr.Spec.ParentRefs)
				}
			},
		},
		"unknown field is ignored": {
			gvk: v1("HTTPRoute"),
			raw: `{"metadata":{"name":"c"},"spec":{"futureField":true,"hostnames":["c.example.com"]}}`,
			check: func(t *testing.T, hr *gwv1.HTTPRoute) {
				if len(hr.Spec.Hostnames) != 1 {
					t.Errorf("decoded %+v", hr.Spec)
				}
			},
		},
		"field names are case-sensitive": {
			gvk: v1("HTTPRoute"),
			raw: `{"metadata":{"name":"d"},"spec":{"Hostnames":["d.example.com"]}}`,
			check: func(t *testing.T, hr *gwv1.HTTPRoute) {
				if len(hr.Spec.Hostnames) != 0 {
					t.Errorf("a field spelt Hostnames was decoded into hostnames: %+v", hr.Spec)
				}
			},
		},
		"duplicate field": {
			gvk:     v1("HTTPRoute"),
			raw:     `{"metadata":{"name":"e"},"spec":{"hostnames":["a.example.com"],"hostnames":["b.example.com"]}}`,
			wantErr: `decoding HTTPRoute: spec.hostnames: duplicate field`,
		},
		"malformed JSON": {
			gvk:     v1("HTTPRoute"),
			raw:     `{"metadata":{"name":"f"},"spec":{`,
			wantErr: `decoding HTTPRoute: spec: invalid JSON: unexpected EOF (at byte 33)`,
		},
		"wrong type": {
			gvk:     v1("HTTPRoute"),
			raw:     `{"spec":{"hostnames":"a.example.com"}}`,
			wantErr: `decoding HTTPRoute: spec.hostnames: must be an array, not a string`,
		},
		"number out of range": {
			gvk:     v1("HTTPRoute"),
			raw:     `{"spec":{"rules":[{"backendRefs":[{"name":"a","weight":1.5}]}]}}`,
			wantErr: `decoding HTTPRoute: spec.rules[0].backendRefs[0].weight: must be an integer in range, not 1.5`,
		},
		"not an object": {
			gvk:     v1("HTTPRoute"),
			raw:     `["spec"]`,
			wantErr: `decoding HTTPRoute: must be an object, not an array`,
		},
		"a field's own decoder fails": {
			gvk:     v1("HTTPRoute"),
			raw:     `{"metadata":{"name":"g","creationTimestamp":"yesterday"}}`,
			wantErr: `decoding HTTPRoute: metadata.creationTimestamp: parsing time "yesterday"`,
		},
		"unserved version": {
			gvk:     schema.GroupVersionKind{Group: gwv1.GroupName, Version: "v1alpha2", Kind: "HTTPRoute"},
			raw:     `{}`,
			wantErr: "HTTPRoute.gateway.networking.k8s.io version v1alpha2 is not served (served: v1, v1beta1)",
		},
		"unknown kind": {
			gvk:     v1("MeshRoute"),
			raw:     `{}`,
			wantErr: "kind MeshRoute.gateway.networking.k8s.io is not one Gatewarden validates",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var hr gwv1.HTTPRoute
			err := Decode(tc.gvk, []byte(tc.raw), &hr)
			checkErr(t, err, tc.wantErr)
			if err == nil && tc.check != nil {
				tc.check(t, &hr)
			}
		})
	}
}

func TestDecodeObjects(t *testing.T) {
	tests := map[string]struct {
		in      string
		wantErr string
		want    []string
	}{
		"several documents, other kinds kept without value": {
			in: `apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: Gateway
metadata: {name: web, namespace: prod}
spec: {gatewayClassName: example, listeners: [{name: http, protocol: HTTP, port: 80}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
`,
			want: []string{"/v1, Kind=Namespace prod labels.Set", "gateway.networking.k8s.io/v1beta1, Kind=Gateway web *v1.Gateway", "/v1, Kind=ConfigMap cm <nil>"},
		},
		"missing kind": {
			in:      "apiVersion: v1\nmetadata: {name: x}\n",
			wantErr: "line 1 (document 0): apiVersion and kind are required",
		},
		"unserved version names the document": {
			in:      "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: ReferenceGrant\nmetadata: {name: g}\n",
			wantErr: "line 5 (document 1, ReferenceGrant g): ReferenceGrant.gateway.networking.k8s.io version v1alpha2 is not served (served: v1, v1beta1)",
		},
		"unknown Gateway API kind": {
			in:      "apiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\nmetadata: {name: p}\n",
			wantErr: "line 1 (document 0, BackendTLSPolicy p): kind BackendTLSPolicy is not one Gatewarden reads",
		},
		"duplicate field": {
			in:      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  hostnames: [a.example.com]\n  hostnames: [b.example.com]\n",
			wantErr: "line 6 (document 0): yaml: unmarshal errors:\n  line 6: key \"hostnames\" already set in map",
		},
		"malformed YAML": {
			in:      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r\n",
			wantErr: "line 3 (document 0): yaml: line 3: did not find expected ',' or '}'",
		},
		"error lines count from the start of the stream": {
			in:      "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r\n",
			wantErr: "line 7 (document 1): yaml: line 3: did not find expected ',' or '}'",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs, err := DecodeObjects(strings.NewReader(tc.in))
			checkErr(t, err, tc.wantErr)
			if err != nil {
				return
			}
			var got []string
			for _, o := range objs {
				got = append(got, strings.TrimSpace(strings.Join([]string{o.GVK.String(), o.Name, typeName(o.Value)}, " ")))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

// checkErr asserts that err is nil when want is empty, and otherwise that its message
// starts with want (errors from the JSON decoder may carry details we do not pin).
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want %q", want)
	case want != "" && !strings.HasPrefix(err.Error(), want):
		t.Fatalf("error %q, want it to start with %q", err, want)
	}
}
