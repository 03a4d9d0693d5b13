package admission

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"gatewarden.dev/gatewarden/pkg/config"
	"gatewarden.dev/gatewarden/pkg/policy"
)

// world is the cluster the handler tests run against: a Gateway prod/prod-web admitting
// HTTPRoutes from prod only, and a ReferenceGrant in backends for HTTPRoutes from prod to
// the Service "app".
const world = `
apiVersion: v1
kind: Namespace
metadata: {name: prod}
---
apiVersion: v1
kind: Namespace
metadata: {name: backends}
---
apiVersion: v1
kind: Namespace
metadata: {name: sandbox, labels: {gatewarden.dev/exempt: "true"}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: prod-web, namespace: prod}
spec:
  gatewayClassName: example
  listeners:
  - {name: http, protocol: HTTP, port: 80, allowedRoutes: {namespaces: {from: Same}}}
` + "---\n" + grant

const grant = `
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow-prod-traffic, namespace: backends}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: prod}]
  to: [{group: "", kind: Service, name: app}]
`

func loadWorld(t testing.TB, docs ...string) *policy.World {
	t.Helper()
	objs, err := policy.DecodeObjects(strings.NewReader(strings.Join(docs, "\n---\n")))
	if err != nil {
		t.Fatal(err)
	}
	w := &policy.World{}
	for _, o := range objs {
		w.Add(o)
	}
	return w
}

// route returns an HTTPRoute prod/foo in apiVersion version attached to prod-web with one
// backendRef to Service backend in namespace backends.
func route(version, backend string) string {
	return `{"apiVersion":"gateway.networking.k8s.io/` + version + `","kind":"HTTPRoute","metadata":{"name":"foo","namespace":"prod"},
"spec":{"parentRefs":[{"name":"prod-web"}],"rules":[{"backendRefs":[{"name":"` + backend + `","namespace":"backends","port":80}]}]}}`
}

func request(op admissionv1.Operation, kind, version, object, old string) admission.Request {
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "uid-1",
		Kind:      metav1.GroupVersionKind{Group: gwv1.GroupName, Version: version, Kind: kind},
		Operation: op,
		Namespace: "prod",
		Name:      "foo",
	}}
	if object != "" {
		req.Object = runtime.RawExtension{Raw: []byte(object)}
	}
	if old != "" {
		req.OldObject = runtime.RawExtension{Raw: []byte(old)}
	}
	return req
}

func newDeps(t testing.TB, cached, live policy.Lookup, cfg *config.Config) *Deps {
	t.Helper()
	if cfg == nil {
		cfg = config.Default()
	}
	return &Deps{Cached: cached, Live: live, Config: cfg, Log: logr.Discard()}
}

// failingLookup fails every read, as an API server that cannot be reached.
type failingLookup struct{ policy.Lookup }

func (failingLookup) Gateway(context.Context, string, string) (*gwv1.Gateway, error) {
	return nil, errors.New("connection refused")
}

func (failingLookup) NamespaceLabels(context.Context, string) (labels.Set, error) {
	return nil, errors.New("connection refused")
}

type result struct {
	Allowed  bool
	Code     int32
	Causes   []string
	Warnings []string
	Audit    map[string]string
}

func summarize(resp admission.Response) result {
	r := result{Allowed: resp.Allowed, Warnings: resp.Warnings, Audit: resp.AuditAnnotations}
	if resp.Result != nil {
		r.Code = resp.Result.Code
		if resp.Result.Details != nil {
			for _, c := range resp.Result.Details.Causes {
				r.Causes = append(r.Causes, c.Field+": "+firstWords(c.Message))
			}
		}
		if !resp.Allowed && r.Causes == nil {
			r.Causes = []string{firstWords(resp.Result.Message)}
		}
	}
	for i, w := range r.Warnings {
		r.Warnings[i] = firstWords(w)
	}
	for k, v := range r.Audit {
		r.Audit[k] = firstWords(v)
	}
	return r
}

// firstWords keeps a message up to its first colon after the rule tag, enough to tell
// which rule spoke about which field; the full texts are pinned by pkg/policy's golden files.
func firstWords(s string) string {
	if m := ruleTag.FindString(s); m != "" {
		return m
	}
	return s
}

var ruleTag = regexp.MustCompile(`^.*?\[[a-z-]+\] [A-Za-z]+`)

func TestValidatingHandlers(t *testing.T) {
	full := loadWorld(t, world)
	exemptCfg, err := config.Parse([]byte(`{apiVersion: config.gatewarden.dev/v1alpha1, kind: GatewardenConfiguration, exemptNamespaces: [prod]}`))
	if err != nil {
		t.Fatal(err)
	}
	auditCfg, err := config.Parse([]byte(`{apiVersion: config.gatewarden.dev/v1alpha1, kind: GatewardenConfiguration, rules: {ref-not-permitted: Audit}}`))
	if err != nil {
		t.Fatal(err)
	}
	labelCfg, err := config.Parse([]byte(`{apiVersion: config.gatewarden.dev/v1alpha1, kind: GatewardenConfiguration, exemptNamespaceSelector: {matchLabels: {gatewarden.dev/exempt: "true"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	dryRunCfg, err := config.Parse([]byte(`{apiVersion: config.gatewarden.dev/v1alpha1, kind: GatewardenConfiguration, dryRunDenials: Warn}`))
	if err != nil {
		t.Fatal(err)
	}
	denyApp := result{Code: http.StatusUnprocessableEntity, Causes: []string{"spec.rules[0].backendRefs[0]: Forbidden: [ref-not-permitted] RefNotPermitted"}}
	withoutGrant := loadWorld(t, strings.TrimSuffix(world, grant))

	cases := map[string]struct {
		handler      func(*Deps) admission.Handler
		cached, live policy.Lookup
		cfg          *config.Config
		req          admission.Request
		want         result
	}{
		"allowed v1": {
			handler: NewHTTPRouteValidator, req: request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "app"), ""),
			want: result{Allowed: true, Code: http.StatusOK},
		},
		"allowed v1beta1": {
			handler: NewHTTPRouteValidator, req: request(admissionv1.Create, "HTTPRoute", "v1beta1", route("v1beta1", "app"), ""),
			want: result{Allowed: true, Code: http.StatusOK},
		},
		"denied with 422 and field causes": {
			handler: NewHTTPRouteValidator, req: request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "other"), ""),
			want: denyApp,
		},
		"stale cache: grant only the API server has": {
			handler: NewHTTPRouteValidator, cached: withoutGrant, req: request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "app"), ""),
			want: result{Allowed: true, Code: http.StatusOK},
		},
		"confirmed denial": {
			handler: NewHTTPRouteValidator, cached: withoutGrant, live: withoutGrant, req: request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "app"), ""),
			want: denyApp,
		},
		"warned: parent not found": {
			handler: NewHTTPRouteValidator,
			req:     request(admissionv1.Create, "HTTPRoute", "v1", strings.Replace(route("v1", "app"), `"prod-web"`, `"later"`, 1), ""),
			want:    result{Allowed: true, Code: http.StatusOK, Warnings: []string{"spec.parentRefs[0].name: Not found: \"later\": [route-parent-not-found] NoMatchingParent"}},
		},
		"ratcheted update warns": {
			handler: NewHTTPRouteValidator,
			req:     request(admissionv1.Update, "HTTPRoute", "v1", strings.Replace(route("v1", "other"), `"port":80`, `"port":81`, 1), route("v1", "other")),
			want:    result{Allowed: true, Code: http.StatusOK, Warnings: []string{"spec.rules[0].backendRefs[0]: Forbidden: [ref-not-permitted] RefNotPermitted"}},
		},
		"metadata-only update is not judged": {
			handler: NewHTTPRouteValidator,
			req:     request(admissionv1.Update, "HTTPRoute", "v1", strings.Replace(route("v1", "other"), `"name":"foo"`, `"name":"foo","labels":{"a":"b"}`, 1), route("v1", "other")),
			want:    result{Allowed: true, Code: http.StatusOK},
		},
		"dry run denials as warnings when configured": {
			handler: NewHTTPRouteValidator, cfg: dryRunCfg,
			req: func() admission.Request {
				r := request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "other"), "")
				r.DryRun = ptr.To(true)
				return r
			}(),
			want: result{Allowed: true, Code: http.StatusOK, Warnings: []string{"spec.rules[0].backendRefs[0]: Forbidden: [ref-not-permitted] RefNotPermitted"}},
		},
		"dry run denied by default": {
			handler: NewHTTPRouteValidator,
			req: func() admission.Request {
				r := request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "other"), "")
				r.DryRun = ptr.To(true)
				return r
			}(),
			want: denyApp,
		},
		"audit action": {
			handler: NewHTTPRouteValidator, cfg: auditCfg, req: request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "other"), ""),
			want: result{Allowed: true, Code: http.StatusOK, Audit: map[string]string{"ref-not-permitted": "spec.rules[0].backendRefs[0]: Forbidden: [ref-not-permitted] RefNotPermitted"}},
		},
		"exempt namespace": {
			handler: NewHTTPRouteValidator, cfg: exemptCfg, req: request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "other"), ""),
			want: result{Allowed: true, Code: http.StatusOK},
		},
		"exempt namespace by label": {
			handler: NewHTTPRouteValidator, cfg: labelCfg,
			req: func() admission.Request {
				r := request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "other"), "")
				r.Namespace = "sandbox"
				return r
			}(),
			want: result{Allowed: true, Code: http.StatusOK},
		},
		"namespace without the exempt label is checked": {
			handler: NewHTTPRouteValidator, cfg: labelCfg, req: request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "other"), ""),
			want: denyApp,
		},
		"grant delete warns and is allowed": {
			handler: NewReferenceGrantValidator, cached: loadWorld(t, world, route("v1", "app")),
			req: func() admission.Request {
				g, _ := yaml.YAMLToJSON([]byte(grant))
				r := request(admissionv1.Delete, "ReferenceGrant", "v1beta1", "", string(g))
				r.Namespace, r.Name = "backends", "allow-prod-traffic"
				return r
			}(),
			want: result{Allowed: true, Code: http.StatusOK, Warnings: []string{"metadata.name: Forbidden: [referencegrant-revokes-references] RefNotPermitted"}},
		},
		"malformed JSON is 400": {
			handler: NewHTTPRouteValidator, req: request(admissionv1.Create, "HTTPRoute", "v1", `{"spec": [`, ""),
			want: result{Code: http.StatusBadRequest, Causes: []string{`decoding HTTPRoute: spec: must be an object, not an array`}},
		},
		"wrong type is 400": {
			handler: NewHTTPRouteValidator, req: request(admissionv1.Create, "HTTPRoute", "v1", `{"spec": {"parentRefs": "prod-web"}}`, ""),
			want: result{Code: http.StatusBadRequest, Causes: []string{`decoding HTTPRoute: spec.parentRefs: must be an array, not a string`}},
		},
		"unknown version is 400": {
			handler: NewHTTPRouteValidator, req: request(admissionv1.Create, "HTTPRoute", "v1alpha9", route("v1alpha9", "app"), ""),
			want: result{Code: http.StatusBadRequest, Causes: []string{"HTTPRoute.gateway.networking.k8s.io version v1alpha9 is not served (served: v1, v1beta1)"}},
		},
		"kind of another endpoint is 400": {
			handler: NewGatewayValidator, req: request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "app"), ""),
			want: result{Code: http.StatusBadRequest, Causes: []string{"this endpoint validates Gateway.gateway.networking.k8s.io, not HTTPRoute.gateway.networking.k8s.io"}},
		},
		"unknown operation is 400": {
			handler: NewHTTPRouteValidator, req: request("PATCH", "HTTPRoute", "v1", route("v1", "app"), ""),
			want: result{Code: http.StatusBadRequest, Causes: []string{`unknown operation "PATCH"`}},
		},
		"lookup failure is 500, not a verdict": {
			handler: NewHTTPRouteValidator, cached: failingLookup{full}, req: request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "app"), ""),
			want: result{Code: http.StatusInternalServerError, Causes: []string{"gatewarden could not read the objects it checks against: connection refused"}},
		},
	}
	cases["not ready yet: an error at once, not a verdict"] = struct {
		handler      func(*Deps) admission.Handler
		cached, live policy.Lookup
		cfg          *config.Config
		req          admission.Request
		want         result
	}{
		handler: func(d *Deps) admission.Handler {
			d.Ready = func() bool { return false }
			return NewHTTPRouteValidator(d)
		},
		req:  request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "other"), ""),
		want: result{Code: http.StatusInternalServerError, Causes: []string{"gatewarden is starting: its caches have not synced yet"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cached, live := tc.cached, tc.live
			if cached == nil {
				cached = full
			}
			if live == nil {
				live = full
			}
			resp := tc.handler(newDeps(t, cached, live, tc.cfg)).Handle(context.Background(), tc.req)
			if diff := cmp.Diff(tc.want, summarize(resp)); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGatewayDefaulter(t *testing.T) {
	w := loadWorld(t, world, `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: example}
spec: {controllerName: example.com/gateway}
status:
  supportedFeatures: [{name: Gateway}, {name: HTTPRoute}, {name: TLSRoute}]
`)
	gw := `{"apiVersion":"gateway.networking.k8s.io/v1beta1","kind":"Gateway","metadata":{"name":"g","namespace":"prod"},
"spec":{"gatewayClassName":"example","listeners":[
 {"name":"http","protocol":"HTTP","port":80},
 {"name":"tls","protocol":"TLS","port":443,"allowedRoutes":{"namespaces":{"from":"All"}}},
 {"name":"tcp","protocol":"TCP","port":9000,"allowedRoutes":{"kinds":[{"kind":"TCPRoute"}]}}],
 "futureField":{"kept":true}}}`
	h := NewGatewayDefaulter(newDeps(t, w, w, nil))
	resp := h.Handle(context.Background(), request(admissionv1.Create, "Gateway", "v1beta1", gw, ""))
	if !resp.Allowed {
		t.Fatalf("denied: %v", resp.Result)
	}
	patched := applyPatch(t, gw, resp)

	var got struct {
		Spec struct {
			Listeners   []gwv1.Listener `json:"listeners"`
			FutureField map[string]bool `json:"futureField"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(patched, &got); err != nil {
		t.Fatal(err)
	}
	group := gwv1.Group(gwv1.GroupName)
	same, all := gwv1.NamespacesFromSame, gwv1.NamespacesFromAll
	want := []*gwv1.AllowedRoutes{
		// GRPCRoute is compatible with HTTP but the class does not declare it.
		{Namespaces: &gwv1.RouteNamespaces{From: &same}, Kinds: []gwv1.RouteGroupKind{{Group: &group, Kind: "HTTPRoute"}}},
		{Namespaces: &gwv1.RouteNamespaces{From: &all}, Kinds: []gwv1.RouteGroupKind{{Group: &group, Kind: "TLSRoute"}}},
		// Set kinds are never overwritten, even with a kind the class lacks.
		{Namespaces: &gwv1.RouteNamespaces{From: &same}, Kinds: []gwv1.RouteGroupKind{{Kind: "TCPRoute"}}},
	}
	var have []*gwv1.AllowedRoutes
	for _, l := range got.Spec.Listeners {
		have = append(have, l.AllowedRoutes)
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("allowedRoutes (-want +got):\n%s", diff)
	}
	if !got.Spec.FutureField["kept"] {
		t.Errorf("a field unknown to Gatewarden was dropped: %s", patched)
	}

	// Idempotent: the defaulted object needs no further patch.
	again := h.Handle(context.Background(), request(admissionv1.Create, "Gateway", "v1beta1", string(patched), ""))
	if !again.Allowed || len(again.Patches) != 0 {
		t.Errorf("second pass: allowed=%v patches=%v, want allowed and no patches", again.Allowed, again.Patches)
	}
}

func applyPatch(t *testing.T, doc string, resp admission.Response) []byte {
	t.Helper()
	ops, err := json.Marshal(resp.Patches)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		t.Fatal(err)
	}
	out, err := patch.Apply([]byte(doc))
	if err != nil {
		t.Fatalf("applying %s: %v", ops, err)
	}
	return out
}
