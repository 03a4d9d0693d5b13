package admission

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"gatewarden.dev/gatewarden/pkg/policy"
)

// FuzzAdmissionReview sends arbitrary bodies through the HTTP stack the server mounts for
// HTTPRoutes and Gateways, seeded with reviews of every object in pkg/policy's world files:
// every answer is an HTTP 200 AdmissionReview, never a panic, a hang or a 500.
func FuzzAdmissionReview(f *testing.F) {
	files, _ := filepath.Glob("../policy/testdata/*/*.yaml")
	for _, path := range files {
		file, err := os.Open(path)
		if err != nil {
			f.Fatal(err)
		}
		objs, err := policy.DecodeObjects(file)
		file.Close()
		if err != nil {
			continue
		}
		for _, o := range objs {
			if o.GVK.Kind == "HTTPRoute" || o.GVK.Kind == "Gateway" {
				f.Add(o.GVK.Kind, review("admission.k8s.io/v1", "u", string(o.Raw)))
			}
		}
	}
	f.Add("HTTPRoute", `{"apiVersion":"admission.k8s.io/v1","request":{}}`)
	w := loadWorld(f, world)
	deps := newDeps(f, w, w, nil)
	recoverPanic := false // a panic must fail the fuzzer, not be turned into a response
	hooks := map[string]http.Handler{
		"HTTPRoute": RequireReviewV1(&webhook.Admission{Handler: NewHTTPRouteValidator(deps), RecoverPanic: &recoverPanic}),
		"Gateway":   RequireReviewV1(&webhook.Admission{Handler: NewGatewayValidator(deps), RecoverPanic: &recoverPanic}),
	}
	f.Fuzz(func(t *testing.T, kind, body string) {
		hook := hooks[kind]
		if hook == nil {
			hook = hooks["HTTPRoute"]
		}
		// The review's kind follows the object, so that fuzzed Gateways reach the Gateway rules.
		if kind == "Gateway" {
			body = strings.Replace(body, `"kind":"HTTPRoute"`, `"kind":"Gateway"`, 1)
		}
		req := httptest.NewRequest(http.MethodPost, "/validate", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		hook.ServeHTTP(rec, req)
		var out admissionv1.AdmissionReview
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.Response == nil {
			t.Fatalf("HTTP %d, body %s", rec.Code, firstBytes(rec.Body.Bytes()))
		}
		if r := out.Response; r.Result != nil && r.Result.Code == http.StatusInternalServerError {
			t.Fatalf("500 for a request: %s", r.Result.Message)
		}
	})
}
