package integration

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestApplyOrder covers the apply orders that break naive webhooks: a ReferenceGrant and
// its Route in one file in either order, and a Route applied before its Gateway.
func TestApplyOrder(t *testing.T) {
	mustApply(t, "testdata/ordering/00-world.yaml")

	t.Run("grant first", func(t *testing.T) {
		stdout, stderr := mustApply(t, "testdata/ordering/grant-first.yaml")
		for _, want := range []string{"referencegrant.gateway.networking.k8s.io/grant-first created", "httproute.gateway.networking.k8s.io/grant-first created"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, stdout)
			}
		}
		if stderr != "" {
			t.Errorf("unexpected stderr:\n%s", stderr)
		}
	})

	t.Run("route first", func(t *testing.T) {
		stdout, stderr, err := kubectlApply(t, "testdata/ordering/route-first.yaml")
		if err == nil {
			t.Fatalf("first apply succeeded, want the Route denied:\n%s", stdout)
		}
		if !strings.Contains(stderr, `The HTTPRoute "route-first" is invalid: spec.rules[0].backendRefs[0]: Forbidden: [ref-not-permitted]`) {
			t.Errorf("first apply: stderr lacks the denial of the Route:\n%s", stderr)
		}
		if !strings.Contains(stdout, "referencegrant.gateway.networking.k8s.io/route-first created") {
			t.Errorf("first apply: the grant after the denied Route was not created:\n%s", stdout)
		}
		assertAbsent(t, httpRoutes, "order-app", "route-first")

		stdout, _ = mustApply(t, "testdata/ordering/route-first.yaml")
		if !strings.Contains(stdout, "httproute.gateway.networking.k8s.io/route-first created") {
			t.Errorf("second apply did not create the Route:\n%s", stdout)
		}
	})

	t.Run("parent later", func(t *testing.T) {
		stdout, stderr := mustApply(t, "testdata/ordering/parent-later.yaml")
		if !strings.Contains(stdout, "httproute.gateway.networking.k8s.io/early created") {
			t.Errorf("the Route was not created:\n%s", stdout)
		}
		if !strings.Contains(stderr, "Warning: spec.parentRefs[0].name: Not found: \"later\": [route-parent-not-found] NoMatchingParent: Gateway order-gw/later does not exist (yet)") {
			t.Errorf("stderr lacks the missing-parent warning:\n%s", stderr)
		}
	})
}

// TestGrantThenRouteImmediately creates a ReferenceGrant and, right after, a Route that
// needs it, many times over: the webhook's cache may not have seen the grant yet, and it
// must confirm with the API server instead of denying.
func TestGrantThenRouteImmediately(t *testing.T) {
	mustApply(t, "testdata/ordering/00-world.yaml")
	ctx := t.Context()
	const rounds = 40
	for i := range rounds {
		name := fmt.Sprintf("race-%d", i)
		svc := gwv1.ObjectName(name)
		grant := &gwv1.ReferenceGrant{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "order-backends"},
			Spec: gwv1.ReferenceGrantSpec{
				From: []gwv1.ReferenceGrantFrom{{Group: gwv1.GroupName, Kind: "HTTPRoute", Namespace: "order-app"}},
				To:   []gwv1.ReferenceGrantTo{{Group: "", Kind: "Service", Name: &svc}},
			},
		}
		ns := gwv1.Namespace("order-backends")
		gwNS := gwv1.Namespace("order-gw")
		port := gwv1.PortNumber(80)
		route := &gwv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "order-app"},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "shared", Namespace: &gwNS}}},
				Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
					BackendObjectReference: gwv1.BackendObjectReference{Name: svc, Namespace: &ns, Port: &port}}}}}},
			},
		}
		if err := env.Client.Create(ctx, grant); err != nil {
			t.Fatalf("round %d: creating the grant: %v", i, err)
		}
		if err := env.Client.Create(ctx, route); err != nil {
			t.Fatalf("round %d of %d: the Route created right after its grant was denied: %v", i, rounds, err)
		}
	}
}
