package policy

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// timeoutWorld is the hierarchy of the merge tests: GatewayClass example, Gateway
// infra/web with listeners http and admin, and HTTPRoute prod/app attached through http,
// with a rule named fast (request 5s in its spec) and an unnamed rule with no timeouts.
const timeoutWorld = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: example}
spec: {controllerName: example.com/gateway}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: example
  listeners:
  - {name: http, protocol: HTTP, port: 80, allowedRoutes: {namespaces: {from: All}}}
  - {name: admin, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: prod}
spec:
  parentRefs: [{name: web, namespace: infra, sectionName: http}]
  rules:
  - name: fast
    timeouts: {request: 5s}
  - backendRefs: [{name: b, port: 80}]
`

// tp writes a TimeoutPolicy document.
func tp(ns, name, created, target, spec string) string {
	return "---\napiVersion: policy.gatewarden.dev/v1alpha1\nkind: TimeoutPolicy\nmetadata: {name: " + name + ", namespace: " + ns +
		", creationTimestamp: \"" + created + "\"}\nspec:\n  targetRefs: [" + target + "]\n  " + spec + "\n"
}

const (
	onClass    = "{group: gateway.networking.k8s.io, kind: GatewayClass, name: example}"
	onGateway  = "{group: gateway.networking.k8s.io, kind: Gateway, name: web}"
	onListener = "{group: gateway.networking.k8s.io, kind: Gateway, name: web, sectionName: http}"
	onAdmin    = "{group: gateway.networking.k8s.io, kind: Gateway, name: web, sectionName: admin}"
	onRoute    = "{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}"
	onRule     = "{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app, sectionName: fast}"
	t1, t2     = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"
)

// TestEffectiveTimeouts checks the GEP-713 merge field by field, value and origin, for
// rule 0 (fast, request 5s in its spec) and rule 1 (nothing in its spec).
func TestEffectiveTimeouts(t *testing.T) {
	cases := map[string]struct {
		policies string
		// want[rule] lists request, backendRequest, maximum, allowNoTimeout as
		// "value <- origin" ("-" when unset).
		want      [2][4]string
		conflicts []Conflict
	}{
		"nothing attached": {
			want: [2][4]string{{"5s <- spec", "-", "-", "-"}, {"-", "-", "-", "-"}},
		},
		"class default cascades where nothing is set": {
			policies: tp("gatewarden-system", "c", t1, onClass, "default: {request: 30s, backendRequest: 10s}"),
			want: [2][4]string{
				{"5s <- spec", "10s <- gatewarden-system/c default on GatewayClass example", "-", "-"},
				{"30s <- gatewarden-system/c default on GatewayClass example", "10s <- gatewarden-system/c default on GatewayClass example", "-", "-"}},
		},
		"gateway default beats class default (more specific wins)": {
			policies: tp("gatewarden-system", "c", t1, onClass, "default: {request: 30s, backendRequest: 10s}") +
				tp("infra", "g", t1, onGateway, "default: {request: 15s}"),
			want: [2][4]string{
				{"5s <- spec", "10s <- gatewarden-system/c default on GatewayClass example", "-", "-"},
				{"15s <- infra/g default on Gateway infra/web", "10s <- gatewarden-system/c default on GatewayClass example", "-", "-"}},
		},
		"listener and rule sections are the most specific defaults": {
			policies: tp("infra", "g", t1, onGateway, "default: {request: 15s}") +
				tp("infra", "l", t1, onListener, "default: {request: 12s}") +
				tp("infra", "a", t1, onAdmin, "default: {request: 1s}") +
				tp("prod", "r", t1, onRoute, "default: {backendRequest: 3s}") +
				tp("prod", "f", t1, onRule, "default: {backendRequest: 2s}"),
			want: [2][4]string{
				{"5s <- spec", "2s <- prod/f default on rule fast of HTTPRoute prod/app", "-", "-"},
				{"12s <- infra/l default on listener http of Gateway infra/web", "3s <- prod/r default on HTTPRoute prod/app", "-", "-"}},
		},
		"class override beats gateway override and the route's spec (less specific wins)": {
			policies: tp("gatewarden-system", "c", t1, onClass, "override: {request: 20s, maximum: 60s, allowNoTimeout: false}") +
				tp("infra", "g", t1, onGateway, "override: {request: 40s, backendRequest: 8s, maximum: 120s}"),
			want: [2][4]string{
				{"20s <- gatewarden-system/c override on GatewayClass example", "8s <- infra/g override on Gateway infra/web", "60s <- gatewarden-system/c override on GatewayClass example", "false <- gatewarden-system/c override on GatewayClass example"},
				{"20s <- gatewarden-system/c override on GatewayClass example", "8s <- infra/g override on Gateway infra/web", "60s <- gatewarden-system/c override on GatewayClass example", "false <- gatewarden-system/c override on GatewayClass example"}},
		},
		"override above, default below: the override wins": {
			policies: tp("infra", "g", t1, onGateway, "override: {backendRequest: 4s}") +
				tp("prod", "r", t1, onRoute, "default: {request: 9s, backendRequest: 1s}"),
			want: [2][4]string{
				{"5s <- spec", "4s <- infra/g override on Gateway infra/web", "-", "-"},
				{"9s <- prod/r default on HTTPRoute prod/app", "4s <- infra/g override on Gateway infra/web", "-", "-"}},
		},
		"class policy outside the policy namespace is ignored": {
			policies: tp("prod", "c", t1, onClass, "override: {request: 1s}"),
			want:     [2][4]string{{"5s <- spec", "-", "-", "-"}, {"-", "-", "-", "-"}},
		},
		"conflict at one target: the oldest wins, the other is reported": {
			policies:  tp("infra", "new", t2, onGateway, "default: {request: 25s}") + tp("infra", "old", t1, onGateway, "default: {request: 15s}"),
			want:      [2][4]string{{"5s <- spec", "-", "-", "-"}, {"15s <- infra/old default on Gateway infra/web", "-", "-", "-"}},
			conflicts: []Conflict{{Field: "request", Block: "default", Winner: "infra/old", Loser: "infra/new", Target: "Gateway infra/web"}},
		},
		"conflict with equal age: namespace/name decides": {
			policies: tp("infra", "b", t1, onGateway, "override: {maximum: 30s}") + tp("infra", "a", t1, onGateway, "override: {maximum: 90s}"),
			want: [2][4]string{
				{"5s <- spec", "-", "90s <- infra/a override on Gateway infra/web", "-"},
				{"-", "-", "90s <- infra/a override on Gateway infra/web", "-"}},
			conflicts: []Conflict{{Field: "maximum", Block: "override", Winner: "infra/a", Loser: "infra/b", Target: "Gateway infra/web"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := loadTestWorld(t, timeoutWorld+tc.policies)
			route, err := w.Route(context.Background(), KindHTTPRoute, "prod", "app")
			if err != nil {
				t.Fatal(err)
			}
			got, err := ComputeEffectiveTimeouts(context.Background(), w, route, testTimeoutOptions)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Fatalf("%d results, want one per rule (2) through the one Gateway", len(got))
			}
			var have [2][4]string
			for i, e := range got {
				for j, v := range []Value{e.Request, e.BackendRequest, e.Maximum, e.AllowNoTimeout} {
					have[i][j] = show(v)
				}
				if e.Gateway != "infra/web" || e.GatewayClass != "example" || e.Rule != i {
					t.Errorf("result %d is for rule %d via %s (%s)", i, e.Rule, e.Gateway, e.GatewayClass)
				}
				var conflicts []Conflict
				for _, c := range e.Conflicts {
					if !strings.HasPrefix(c.Target, "rule ") {
						conflicts = append(conflicts, c)
					}
				}
				if diff := cmp.Diff(tc.conflicts, conflicts); diff != "" {
					t.Errorf("rule %d conflicts (-want +got):\n%s", i, diff)
				}
			}
			if diff := cmp.Diff(tc.want, have); diff != "" {
				t.Errorf("effective timeouts (-want +got):\n%s", diff)
			}
		})
	}
}

func show(v Value) string {
	if !v.Set {
		return "-"
	}
	if v.Origin.Policy == "" {
		return v.Value + " <- spec"
	}
	return v.Value + " <- " + v.Origin.Policy + " " + v.Origin.Block + " on " + v.Origin.AttachedTo
}

func loadTestWorld(t *testing.T, docs string) *World {
	t.Helper()
	objs, err := DecodeObjects(strings.NewReader(docs))
	if err != nil {
		t.Fatal(err)
	}
	w := &World{}
	for _, o := range objs {
		w.Add(o)
	}
	return w
}
