package integration

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestAPIVersions runs the binding rules through every served version of the Route kinds:
// one rule implementation must give the same verdict whatever version a manifest uses.
func TestAPIVersions(t *testing.T) {
	mustApply(t, "testdata/versions/00-world.yaml")
	cases := map[string]struct {
		rule, field, resource, name string
	}{
		"tlsroute-v1-hostname.yaml":            {"route-no-matching-listener-hostname", "spec.hostnames", tlsRoutes, "tls-v1"},
		"tlsroute-v1alpha2-hostname.yaml":      {"route-no-matching-listener-hostname", "spec.hostnames", tlsRoutes, "tls-v1alpha2"},
		"tlsroute-v1alpha3-hostname.yaml":      {"route-no-matching-listener-hostname", "spec.hostnames", tlsRoutes, "tls-v1alpha3"},
		"tcproute-v1-http-listener.yaml":       {"route-not-allowed-by-listeners", "spec.parentRefs[0]", "tcproutes.gateway.networking.k8s.io", "tcp-v1"},
		"tcproute-v1alpha2-http-listener.yaml": {"route-not-allowed-by-listeners", "spec.parentRefs[0]", "tcproutes.gateway.networking.k8s.io", "tcp-v1alpha2"},
		"httproute-v1beta1-port.yaml":          {"route-no-matching-parent", "spec.parentRefs[0].port", httpRoutes, "wrong-port"},
	}
	for file, tc := range cases {
		t.Run(file, func(t *testing.T) {
			assertDenied(t, "testdata/versions/"+file, tc.rule, tc.field, tc.resource, "versions", tc.name)
		})
	}
	for _, file := range []string{"tlsroute-v1alpha2-accepted.yaml", "grpcroute-v1-accepted.yaml"} {
		t.Run(file, func(t *testing.T) {
			if _, stderr := mustApply(t, "testdata/versions/"+file); len(ruleWarnings(stderr)) > 0 {
				t.Errorf("unexpected findings:\n%s", stderr)
			}
		})
	}
}

// TestListenerSets covers ListenerSet admission (allowedListeners), its defaults, Routes
// attaching to it, and that grants do not pass between a Gateway and its ListenerSets.
func TestListenerSets(t *testing.T) {
	mustApply(t, "testdata/listenersets/00-world.yaml")
	mustApply(t, "testdata/listenersets/accepted.yaml")

	ls := getObject(t, listenerSets, "ls-payments", "payments")
	listeners, _, _ := unstructured.NestedSlice(ls.Object, "spec", "listeners")
	want := map[string]any{
		"kinds": []any{
			map[string]any{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"},
			map[string]any{"group": "gateway.networking.k8s.io", "kind": "GRPCRoute"},
		},
		"namespaces": map[string]any{"from": "Same"},
	}
	if diff := cmp.Diff(want, listeners[0].(map[string]any)["allowedRoutes"]); diff != "" {
		t.Errorf("ListenerSet listener allowedRoutes read back (-want +got):\n%s", diff)
	}

	assertDenied(t, "testdata/listenersets/not-allowed.yaml", "listenerset-not-allowed", "spec.parentRef", listenerSets, "ls-other", "other")
	assertDenied(t, "testdata/listenersets/route-to-gateway-not-listenerset.yaml", "route-no-matching-parent", "spec.parentRefs[0].sectionName", httpRoutes, "ls-payments", "via-gateway")
	if _, stderr := mustApply(t, "testdata/listenersets/route-to-listenerset.yaml"); len(ruleWarnings(stderr)) > 0 {
		t.Errorf("Route to the ListenerSet: unexpected stderr:\n%s", stderr)
	}
	stdout, stderr, err := kubectlApply(t, "testdata/listenersets/certificate-grant-for-gateway.yaml")
	if err == nil || !strings.Contains(stderr, `The ListenerSet "payments-tls" is invalid: spec.listeners[0].tls.certificateRefs[0]: Forbidden: [ref-not-permitted]`) {
		t.Errorf("ListenerSet certificateRef with a grant for Gateways: err=%v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	assertAbsent(t, listenerSets, "ls-payments", "payments-tls")

	_, stderr = mustApply(t, "testdata/listenersets/parent-missing.yaml")
	if !strings.Contains(stderr, `Warning: spec.parentRef.name: Not found: "not-yet": [listenerset-parent-not-found]`) {
		t.Errorf("ListenerSet with a missing parent: stderr lacks the warning:\n%s", stderr)
	}
	assertDenied(t, "testdata/listenersets/gateway-selector-without-selector.yaml", "listener-selector-required",
		"spec.listeners[0].allowedRoutes.namespaces.selector", gateways, "ls-gw", "no-selector")
}
