package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"gatewarden.dev/gatewarden/pkg/config"
	"gatewarden.dev/gatewarden/test/bench/worldgen"
)

// benchRoute is the HTTPRoute of the decision benchmarks: 2 parentRefs (its namespace's
// Gateway and the next namespace's), 3 backendRefs, one of them into the next namespace,
// which a ReferenceGrant there permits. It is admitted, as most writes are.
const benchRoute = `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"bench","namespace":"ns-00000"},
"spec":{"parentRefs":[{"name":"gw"},{"name":"gw","namespace":"ns-00001","sectionName":"http"}],
"hostnames":["bench.ns-00000.example.com","bench.ns-00001.example.com"],
"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/"}}],
"backendRefs":[{"name":"a","port":8080},{"name":"b","port":8080},{"name":"shared","namespace":"ns-00001","port":8080}]}]}}`

// benchGateway is ns-00000's Gateway with its hostnames changed, which detaches Routes.
const benchGateway = `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway","metadata":{"name":"gw","namespace":"ns-00000"},
"spec":{"gatewayClassName":"bench","listeners":[
{"name":"http","protocol":"HTTP","port":80,"hostname":%q,"allowedRoutes":{"namespaces":{"from":"Same"}}},
{"name":"https","protocol":"HTTPS","port":443,"hostname":%q,"allowedRoutes":{"namespaces":{"from":"Same"}},"tls":{"certificateRefs":[{"name":"cert"}]}},
{"name":"tls","protocol":"TLS","port":8443,"hostname":%q,"allowedRoutes":{"namespaces":{"from":"Same"}},"tls":{"mode":"Passthrough"}},
{"name":"tcp","protocol":"TCP","port":5432,"allowedRoutes":{"namespaces":{"from":"Same"}}},
{"name":"udp","protocol":"UDP","port":53,"allowedRoutes":{"namespaces":{"from":"Same"}}}]}}`

func benchDeps(b *testing.B, objects int) *Deps {
	b.Helper()
	w := worldgen.Generate(worldgen.Scaled(objects)).PolicyWorld()
	return &Deps{Cached: w, Live: w, Config: config.Default(), Log: logr.Discard()}
}

type namedRequest struct{ admission.Request }

func (r namedRequest) WithNamespace(namespace, name string) admission.Request {
	r.Namespace, r.Name = namespace, name
	return r.Request
}

func benchHandle(b *testing.B, h admission.Handler, req admission.Request, wantAllowed bool) {
	b.Helper()
	ctx := context.Background()
	if resp := h.Handle(ctx, req); resp.Allowed != wantAllowed {
		b.Fatalf("allowed = %v, want %v: %v %v", resp.Allowed, wantAllowed, resp.Result, resp.Warnings)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.Handle(ctx, req)
	}
}

// BenchmarkDecideHTTPRoute measures one HTTPRoute CREATE, decode included, in worlds of
// growing size: the cost must not grow with the world.
func BenchmarkDecideHTTPRoute(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			h := NewHTTPRouteValidator(benchDeps(b, n))
			benchHandle(b, h, namedRequest{request(admissionv1.Create, "HTTPRoute", "v1", benchRoute, "")}.WithNamespace("ns-00000", "bench"), true)
		})
	}
}

// BenchmarkDecideGatewayUpdate measures a Gateway UPDATE that changes listener hostnames,
// with the reverse check over the Routes attached to it.
func BenchmarkDecideGatewayUpdate(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			h := NewGatewayValidator(benchDeps(b, n))
			old := fmt.Sprintf(benchGateway, "*.ns-00000.example.com", "*.ns-00000.example.com", "*.ns-00000.example.com")
			upd := fmt.Sprintf(benchGateway, "*.other.example.com", "*.ns-00000.example.com", "*.ns-00000.example.com")
			benchHandle(b, h, namedRequest{request(admissionv1.Update, "Gateway", "v1", upd, old)}.WithNamespace("ns-00000", "gw"), true)
		})
	}
}

// BenchmarkDefaultGateway measures the mutating webhook on a Gateway whose listeners lack
// allowedRoutes kinds.
func BenchmarkDefaultGateway(b *testing.B) {
	h := NewGatewayDefaulter(benchDeps(b, 1000))
	gw := `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway","metadata":{"name":"new","namespace":"ns-00000"},
"spec":{"gatewayClassName":"bench","listeners":[{"name":"http","protocol":"HTTP","port":80},{"name":"tls","protocol":"TLS","port":443,"tls":{"mode":"Passthrough"}}]}}`
	benchHandle(b, h, namedRequest{request(admissionv1.Create, "Gateway", "v1", gw, "")}.WithNamespace("ns-00000", "new"), true)
}

// benchReview is the AdmissionReview the end-to-end load tool (test/bench/load) sends:
// benchRoute's CREATE as the kube-apiserver encodes it.
const benchReview = `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"bench-0",` +
	`"kind":{"group":"gateway.networking.k8s.io","version":"v1","kind":"HTTPRoute"},` +
	`"resource":{"group":"gateway.networking.k8s.io","version":"v1","resource":"httproutes"},` +
	`"requestKind":{"group":"gateway.networking.k8s.io","version":"v1","kind":"HTTPRoute"},` +
	`"requestResource":{"group":"gateway.networking.k8s.io","version":"v1","resource":"httproutes"},` +
	`"name":"bench","namespace":"ns-00000","operation":"CREATE","userInfo":{"username":"bench","groups":["system:authenticated"]},` +
	`"object":@OBJECT@,"oldObject":null,"dryRun":false,"options":{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}}}`

var benchLoggerOnce sync.Once

// BenchmarkServeHTTP measures one AdmissionReview through the handler chain the server
// mounts (RequireReviewV1, controller-runtime's webhook, the handler, with metrics and a
// production logger), without TLS and the network, next to the no-op handler of the
// end-to-end baseline on the same chain. The difference is what Gatewarden adds per request,
// in CPU and in allocations (which, with a large cache to mark, cost GC time too).
func BenchmarkServeHTTP(b *testing.B) {
	benchLoggerOnce.Do(func() { logf.SetLogger(zap.New(zap.WriteTo(io.Discard))) })
	var object bytes.Buffer
	if err := json.Compact(&object, []byte(benchRoute)); err != nil {
		b.Fatal(err)
	}
	body := []byte(strings.Replace(benchReview, "@OBJECT@", object.String(), 1))
	deps := benchDeps(b, 1000)
	metrics, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	deps.Metrics, deps.Cached = metrics, InstrumentLookup(deps.Cached, "cache", metrics)
	deps.Log = logf.Log.WithName("gatewarden")
	for _, tc := range []struct {
		name string
		hook *webhook.Admission
	}{
		{"noop", &webhook.Admission{Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response { return admission.Allowed("") })}},
		{"webhook", &webhook.Admission{Handler: NewHTTPRouteValidator(deps), LogConstructor: RequestLogger}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			hook := RequireReviewV1(tc.hook)
			serve := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/validate-httproute", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				hook.ServeHTTP(rec, req)
				return rec
			}
			var review admissionv1.AdmissionReview
			if rec := serve(); rec.Code != http.StatusOK {
				b.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
			} else if err := json.Unmarshal(rec.Body.Bytes(), &review); err != nil || review.Response == nil || !review.Response.Allowed || review.Response.UID != "bench-0" {
				b.Fatalf("want bench-0 allowed, got %s (%v)", rec.Body, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}
