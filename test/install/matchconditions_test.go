package install

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"gatewarden.dev/gatewarden/internal/devcerts"
	policyv1alpha1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
	"gatewarden.dev/gatewarden/test/localenv"
)

const testFinalizer = "gatewarden.dev/install-test"

// TestMatchConditions has the apiserver evaluate every matchCondition (and the rules
// they refine) against real requests. The webhook configurations from config/webhook
// are installed under other names, pointed at a closed port, and set to fail closed: a
// request the apiserver sends to a webhook then fails with "failed calling webhook
// <name>", and one it skips succeeds. The validating and mutating configurations are
// installed one at a time so each verdict names the webhook that matched.
func TestMatchConditions(t *testing.T) {
	needEnv(t)
	ctx := t.Context()
	c := env.Client
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "matchconditions"}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	applyForReal(t, buildBase(t).one(t, "Namespace", namespace))

	hooks, err := localenv.RenderWebhookConfigurations(repoRoot(t) + "/config/webhook")
	if err != nil {
		t.Fatal(err)
	}
	certs, err := devcerts.Ensure(t.TempDir(), devcerts.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := hooks.PointAt("127.0.0.1", closedPort(t), certs.CAPEM); err != nil {
		t.Fatal(err)
	}
	fail := func() *admissionregistrationv1.FailurePolicyType { p := admissionregistrationv1.Fail; return &p }
	for i := range hooks.Validating.Webhooks {
		hooks.Validating.Webhooks[i].FailurePolicy = fail()
	}
	for i := range hooks.Mutating.Webhooks {
		hooks.Mutating.Webhooks[i].FailurePolicy = fail()
	}
	hooks.Validating.Name = "gatewarden-matchconditions-test"
	hooks.Mutating.Name = "gatewarden-matchconditions-test"

	// An op returns the apiserver's answer to one request.
	type op func(ctx context.Context, objs *world) error
	cases := []struct {
		name string
		op   op
		// want is the webhook the request must be sent to, or "" if it must be skipped.
		validating, mutating string
	}{
		{"Gateway create", func(ctx context.Context, w *world) error {
			return c.Create(ctx, newGateway(ns.Name, "new"), client.DryRunAll)
		}, "validate-gateways.gatewarden.dev", "mutate-gateways.gatewarden.dev"},
		{"Gateway label-only update", func(ctx context.Context, w *world) error {
			return update(ctx, w.gateway, func(gw *gwv1.Gateway) { gw.Labels = map[string]string{"team": "web"} })
		}, "", ""},
		{"Gateway annotation and finalizer update", func(ctx context.Context, w *world) error {
			return update(ctx, w.gateway, func(gw *gwv1.Gateway) {
				gw.Annotations = map[string]string{"note": "x"}
				gw.Finalizers = append(gw.Finalizers, "example.com/other")
			})
		}, "", ""},
		{"Gateway spec update", func(ctx context.Context, w *world) error {
			return update(ctx, w.gateway, func(gw *gwv1.Gateway) { gw.Spec.Listeners[0].Port = 8080 })
		}, "validate-gateways.gatewarden.dev", "mutate-gateways.gatewarden.dev"},
		{"Gateway status update", func(ctx context.Context, w *world) error {
			gw := w.gateway.DeepCopy()
			gw.Status.Conditions = []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted",
				ObservedGeneration: gw.Generation, LastTransitionTime: metav1.Now()}}
			return c.Status().Update(ctx, gw, client.DryRunAll)
		}, "", ""},
		{"Gateway being deleted: spec update", func(ctx context.Context, w *world) error {
			return update(ctx, w.deletingGateway, func(gw *gwv1.Gateway) { gw.Spec.Listeners[0].Port = 8080 })
		}, "", ""},
		{"ListenerSet create", func(ctx context.Context, w *world) error {
			return c.Create(ctx, &gwv1.ListenerSet{
				ObjectMeta: metav1.ObjectMeta{Name: "new", Namespace: ns.Name},
				Spec: gwv1.ListenerSetSpec{
					ParentRef: gwv1.ParentGatewayReference{Name: "gw"},
					Listeners: []gwv1.ListenerEntry{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}},
				},
			}, client.DryRunAll)
		}, "validate-listenersets.gatewarden.dev", "mutate-listenersets.gatewarden.dev"},
		{"HTTPRoute create", func(ctx context.Context, w *world) error {
			return c.Create(ctx, newRoute(ns.Name, "new"), client.DryRunAll)
		}, "validate-httproutes.gatewarden.dev", ""},
		{"HTTPRoute label-only update", func(ctx context.Context, w *world) error {
			return update(ctx, w.route, func(r *gwv1.HTTPRoute) { r.Labels = map[string]string{"team": "web"} })
		}, "", ""},
		{"HTTPRoute spec update", func(ctx context.Context, w *world) error {
			return update(ctx, w.route, func(r *gwv1.HTTPRoute) { r.Spec.Hostnames = []gwv1.Hostname{"b.example.com"} })
		}, "validate-httproutes.gatewarden.dev", ""},
		{"HTTPRoute being deleted: spec update", func(ctx context.Context, w *world) error {
			return update(ctx, w.deletingRoute, func(r *gwv1.HTTPRoute) { r.Spec.Hostnames = []gwv1.Hostname{"b.example.com"} })
		}, "", ""},
		{"HTTPRoute being deleted: finalizer removal", func(ctx context.Context, w *world) error {
			return update(ctx, w.deletingRoute, func(r *gwv1.HTTPRoute) { r.Finalizers = nil })
		}, "", ""},
		{"HTTPRoute delete", func(ctx context.Context, w *world) error {
			return c.Delete(ctx, w.route.DeepCopy(), client.DryRunAll)
		}, "", ""},
		{"ReferenceGrant create", func(ctx context.Context, w *world) error {
			return c.Create(ctx, newGrant(ns.Name, "new"), client.DryRunAll)
		}, "", ""},
		{"ReferenceGrant label-only update", func(ctx context.Context, w *world) error {
			return update(ctx, w.grant, func(g *gwv1.ReferenceGrant) { g.Labels = map[string]string{"team": "web"} })
		}, "", ""},
		{"ReferenceGrant spec update", func(ctx context.Context, w *world) error {
			return update(ctx, w.grant, func(g *gwv1.ReferenceGrant) { g.Spec.From[0].Namespace = "elsewhere" })
		}, "validate-referencegrants.gatewarden.dev", ""},
		// On DELETE the request has no object, only oldObject.
		{"ReferenceGrant delete", func(ctx context.Context, w *world) error {
			return c.Delete(ctx, w.grant.DeepCopy(), client.DryRunAll)
		}, "validate-referencegrants.gatewarden.dev", ""},
		{"ReferenceGrant being deleted: spec update", func(ctx context.Context, w *world) error {
			return update(ctx, w.deletingGrant, func(g *gwv1.ReferenceGrant) { g.Spec.From[0].Namespace = "elsewhere" })
		}, "", ""},
		{"TimeoutPolicy create", func(ctx context.Context, w *world) error {
			return c.Create(ctx, newTimeoutPolicy(ns.Name, "new"), client.DryRunAll)
		}, "validate-timeoutpolicies.gatewarden.dev", ""},
		// The webhook's own namespace is left alone, but for TimeoutPolicies: it is the
		// policy namespace, where those on GatewayClasses live.
		{"TimeoutPolicy create in the webhook's namespace", func(ctx context.Context, w *world) error {
			return c.Create(ctx, newTimeoutPolicy(namespace, "new"), client.DryRunAll)
		}, "validate-timeoutpolicies.gatewarden.dev", ""},
		{"Gateway create in the webhook's namespace", func(ctx context.Context, w *world) error {
			return c.Create(ctx, newGateway(namespace, "new"), client.DryRunAll)
		}, "", ""},
		{"TimeoutPolicy create in kube-system", func(ctx context.Context, w *world) error {
			return c.Create(ctx, newTimeoutPolicy(metav1.NamespaceSystem, "new"), client.DryRunAll)
		}, "", ""},
		{"TimeoutPolicy label-only update", func(ctx context.Context, w *world) error {
			return update(ctx, w.policy, func(p *policyv1alpha1.TimeoutPolicy) { p.Labels = map[string]string{"team": "web"} })
		}, "", ""},
		{"TimeoutPolicy spec update", func(ctx context.Context, w *world) error {
			return update(ctx, w.policy, func(p *policyv1alpha1.TimeoutPolicy) { p.Spec.Default.Request = ptr(gwv1.Duration("20s")) })
		}, "validate-timeoutpolicies.gatewarden.dev", ""},
		{"TimeoutPolicy being deleted: spec update", func(ctx context.Context, w *world) error {
			return update(ctx, w.deletingPolicy, func(p *policyv1alpha1.TimeoutPolicy) { p.Spec.Default.Request = ptr(gwv1.Duration("20s")) })
		}, "", ""},
		{"TimeoutPolicy delete", func(ctx context.Context, w *world) error {
			return c.Delete(ctx, w.policy.DeepCopy(), client.DryRunAll)
		}, "", ""},
	}

	for _, phase := range []struct {
		name    string
		install client.Object
		want    func(i int) string
	}{
		{"validating", hooks.Validating, func(i int) string { return cases[i].validating }},
		{"mutating", hooks.Mutating, func(i int) string { return cases[i].mutating }},
	} {
		t.Run(phase.name, func(t *testing.T) {
			// The objects are made before the webhooks exist, fresh for each phase.
			w := newWorld(t, ns.Name, phase.name)
			if err := c.Create(ctx, phase.install); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { removeHooks(t, phase.install) })
			waitForHooks(t, ns.Name, true)
			for i, tc := range cases {
				want := phase.want(i)
				err := tc.op(ctx, w)
				switch {
				case want == "" && err != nil:
					t.Errorf("%s: want the request skipped, got: %v", tc.name, err)
				case want != "" && (err == nil || !strings.Contains(err.Error(), `failed calling webhook "`+want+`"`)):
					t.Errorf("%s: want the request sent to %s, got: %v", tc.name, want, err)
				}
			}
		})
	}
}

// world holds the objects made before a phase installs its webhooks.
type world struct {
	gateway, deletingGateway *gwv1.Gateway
	route, deletingRoute     *gwv1.HTTPRoute
	grant, deletingGrant     *gwv1.ReferenceGrant
	policy, deletingPolicy   *policyv1alpha1.TimeoutPolicy
}

// newWorld creates one of each object and one of each that is being deleted (held by a
// finalizer, which cleanup removes).
func newWorld(t *testing.T, ns, prefix string) *world {
	t.Helper()
	ctx := t.Context()
	w := &world{
		gateway: newGateway(ns, prefix+"-gw"), deletingGateway: newGateway(ns, prefix+"-gw-deleting"),
		route: newRoute(ns, prefix+"-route"), deletingRoute: newRoute(ns, prefix+"-route-deleting"),
		grant: newGrant(ns, prefix+"-grant"), deletingGrant: newGrant(ns, prefix+"-grant-deleting"),
		policy: newTimeoutPolicy(ns, prefix+"-policy"), deletingPolicy: newTimeoutPolicy(ns, prefix+"-policy-deleting"),
	}
	for _, obj := range []client.Object{w.gateway, w.route, w.grant, w.policy} {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	for _, obj := range []client.Object{w.deletingGateway, w.deletingRoute, w.deletingGrant, w.deletingPolicy} {
		obj.SetFinalizers([]string{testFinalizer})
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			// After the webhooks are gone (cleanups run last-in first-out).
			ctx := context.Background()
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err == nil && len(obj.GetFinalizers()) > 0 {
				obj.SetFinalizers(nil)
				if err := env.Client.Update(ctx, obj); err != nil {
					t.Errorf("removing the finalizer of %s: %v", obj.GetName(), err)
				}
			}
		})
		if err := env.Client.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil || obj.GetDeletionTimestamp() == nil {
			t.Fatalf("%s is not being deleted (%v)", obj.GetName(), err)
		}
	}
	return w
}

// update applies change to a copy of obj and sends it as a dry-run update.
func update[T client.Object](ctx context.Context, obj T, change func(T)) error {
	cp := obj.DeepCopyObject().(T)
	change(cp)
	return env.Client.Update(ctx, cp, client.DryRunAll)
}

func newGateway(ns, name string) *gwv1.Gateway {
	return &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: gwv1.GatewaySpec{
			GatewayClassName: "example",
			Listeners:        []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}},
		},
	}
}

func newRoute(ns, name string) *gwv1.HTTPRoute {
	return &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Hostnames:       []gwv1.Hostname{"a.example.com"},
		},
	}
}

func newGrant(ns, name string) *gwv1.ReferenceGrant {
	return &gwv1.ReferenceGrant{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: gwv1.ReferenceGrantSpec{
			From: []gwv1.ReferenceGrantFrom{{Group: gwv1.GroupName, Kind: "HTTPRoute", Namespace: "prod"}},
			To:   []gwv1.ReferenceGrantTo{{Kind: "Service"}},
		},
	}
}

// newTimeoutPolicy returns a TimeoutPolicy that the CRD's schema and CEL rules accept.
func newTimeoutPolicy(ns, name string) *policyv1alpha1.TimeoutPolicy {
	return &policyv1alpha1.TimeoutPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: policyv1alpha1.TimeoutPolicySpec{
			TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{
				Group: gwv1.GroupName, Kind: "Gateway", Name: "gw",
			}}},
			Default: &policyv1alpha1.Timeouts{Request: ptr(gwv1.Duration("10s"))},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// waitForHooks waits until the apiserver does (or no longer does) call the installed
// Gateway webhooks: configuration changes reach its admission plugins asynchronously.
func waitForHooks(t *testing.T, ns string, installed bool) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		last = env.Client.Create(ctx, newGateway(ns, "probe"), client.DryRunAll)
		failed := last != nil && strings.Contains(last.Error(), "failed calling webhook")
		return failed == installed, nil
	})
	if err != nil {
		t.Fatalf("webhooks installed=%v not in effect: %v; last probe: %v", installed, err, last)
	}
}

func removeHooks(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Delete(context.Background(), obj); err != nil {
		t.Errorf("deleting %s: %v", obj.GetName(), err)
		return
	}
	waitForHooks(t, "matchconditions", false)
}

// closedPort returns a port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
	return port
}
