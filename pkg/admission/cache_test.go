package admission

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"gatewarden.dev/gatewarden/pkg/policy"
	"gatewarden.dev/gatewarden/test/bench/worldgen"
)

// mirrorRoutes has what the generated world lacks: filters of every sort, in rules and in
// backendRefs, GRPC too, and metadata the transform drops.
const mirrorRoutes = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: m, namespace: a, labels: {team: web}, annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [a.example.com]
  rules:
  - name: first
    matches: [{path: {type: PathPrefix, value: /}}]
    filters:
    - {type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: x-env, value: prod}]}}
    - {type: RequestMirror, requestMirror: {backendRef: {name: mirror, namespace: b, port: 80}, percent: 10}}
    backendRefs:
    - name: app
      namespace: b
      port: 80
      weight: 3
      filters: [{type: RequestMirror, requestMirror: {backendRef: {name: shadow, namespace: c, port: 80}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: g, namespace: a}
spec:
  parentRefs: [{name: gw}]
  rules:
  - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: mirror, namespace: b, port: 80}}}]
    backendRefs: [{name: app, namespace: b, port: 80, filters: [{type: RequestMirror, requestMirror: {backendRef: {name: s, namespace: c, port: 80}}}]}]
`

var pathsByString = cmp.Comparer(func(a, b *field.Path) bool { return a.String() == b.String() })

// TestSlimTransformKeepsWhatRulesRead checks, object by object, that the rules see the
// same Route, referrer and listeners in a slimmed object as in the original.
func TestSlimTransformKeepsWhatRulesRead(t *testing.T) {
	objs := worldgen.Generate(worldgen.Scaled(500)).Objects()
	decoded, err := policy.DecodeObjects(strings.NewReader(mirrorRoutes))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range decoded {
		objs = append(objs, d.Value.(client.Object))
	}
	class := &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "c", Annotations: map[string]string{"a": "b"}},
		Status: gwv1.GatewayClassStatus{SupportedFeatures: []gwv1.SupportedFeature{{Name: "HTTPRoute"}}, Conditions: []metav1.Condition{{Type: "Accepted"}}}}
	objs = append(objs, class)

	transform := SlimTransform()
	for _, orig := range objs {
		slimmed, err := transform(orig.DeepCopyObject())
		if err != nil {
			t.Fatal(err)
		}
		s := slimmed.(client.Object)
		if len(s.GetAnnotations()) > 0 || len(s.GetManagedFields()) > 0 {
			t.Errorf("%T %s: annotations or managedFields kept", orig, orig.GetName())
		}
		if s.GetName() != orig.GetName() || s.GetNamespace() != orig.GetNamespace() {
			t.Errorf("%T %s: identity changed", orig, orig.GetName())
		}
		switch o := orig.(type) {
		case *gwv1.Gateway:
			if diff := cmp.Diff(o.Spec.Listeners, s.(*gwv1.Gateway).Spec.Listeners); diff != "" {
				t.Errorf("Gateway %s listeners (-orig +slim):\n%s", o.Name, diff)
			}
			if diff := cmp.Diff(policy.ReferrerFromGateway(o), policy.ReferrerFromGateway(s.(*gwv1.Gateway)), pathsByString); diff != "" {
				t.Errorf("Gateway %s references (-orig +slim):\n%s", o.Name, diff)
			}
		case *gwv1.GatewayClass:
			if diff := cmp.Diff(o.Status.SupportedFeatures, s.(*gwv1.GatewayClass).Status.SupportedFeatures); diff != "" {
				t.Errorf("GatewayClass supportedFeatures (-orig +slim):\n%s", diff)
			}
		case *gwv1.ReferenceGrant:
			if diff := cmp.Diff(o.Spec, s.(*gwv1.ReferenceGrant).Spec); diff != "" {
				t.Errorf("ReferenceGrant %s spec (-orig +slim):\n%s", o.Name, diff)
			}
		default:
			want, got := policy.ReduceRoute(orig), policy.ReduceRoute(s)
			if want == nil {
				continue
			}
			if diff := cmp.Diff(want, got, pathsByString); diff != "" {
				t.Errorf("%T %s/%s as the rules see it (-orig +slim):\n%s", orig, o.GetNamespace(), o.GetName(), diff)
			}
		}
	}
	// The slimmed HTTPRoute is smaller: matches and other filters are gone.
	hr, _ := transform(decoded[0].Value.(runtime.Object).DeepCopyObject())
	rule := hr.(*gwv1.HTTPRoute).Spec.Rules[0]
	if len(rule.Matches) != 0 || rule.Filters[0].RequestHeaderModifier != nil {
		t.Errorf("slimmed rule kept what the rules never read: %+v", rule)
	}
}
