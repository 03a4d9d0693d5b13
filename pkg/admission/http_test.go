package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// review wraps an object in an AdmissionReview for an HTTPRoute CREATE in prod.
func review(apiVersion, uid, object string) string {
	return fmt.Sprintf(`{"apiVersion":%q,"kind":"AdmissionReview","request":{"uid":%q,
"kind":{"group":"gateway.networking.k8s.io","version":"v1","kind":"HTTPRoute"},
"resource":{"group":"gateway.networking.k8s.io","version":"v1","resource":"httproutes"},
"operation":"CREATE","namespace":"prod","name":"foo","userInfo":{"username":"dev"},"object":%s}}`, apiVersion, uid, object)
}

// TestHTTPBadInput sends what a broken or hostile client might over HTTP to the handler as
// the server mounts it: each gets a clear error or a bounded answer, never a panic, and
// never a 500 (under failurePolicy Fail a 500 blocks every write).
func TestHTTPBadInput(t *testing.T) {
	w := loadWorld(t, world)
	hook := RequireReviewV1(&webhook.Admission{Handler: NewHTTPRouteValidator(newDeps(t, w, w, nil))})
	huge := `{"metadata":{"name":"foo","namespace":"prod"},"spec":{"hostnames":["` + strings.Repeat("a", 8<<20) + `"]}}`

	cases := map[string]struct {
		body        string
		contentType string
		wantStatus  int
		wantAllowed bool
		wantCode    int32
		wantMessage string
	}{
		"good request":           {body: review("admission.k8s.io/v1", "u1", route("v1", "app")), wantStatus: 200, wantAllowed: true, wantCode: 200},
		"denied request":         {body: review("admission.k8s.io/v1", "u2", route("v1", "other")), wantStatus: 200, wantCode: 422, wantMessage: "[ref-not-permitted]"},
		"malformed review":       {body: `{"apiVersion":`, wantStatus: 200, wantCode: 400, wantMessage: "json parse error: unexpected end of JSON input"},
		"truncated body":         {body: review("admission.k8s.io/v1", "u3", route("v1", "app"))[:200], wantStatus: 200, wantCode: 400},
		"malformed object":       {body: review("admission.k8s.io/v1", "u4", `{"spec":{"parentRefs":7}}`), wantStatus: 200, wantCode: 400, wantMessage: "decoding HTTPRoute: spec.parentRefs: must be an array, not a number"},
		"wrong review version":   {body: review("admission.k8s.io/v1beta2", "u5", route("v1", "app")), wantStatus: 200, wantCode: 400, wantMessage: "AdmissionReview admission.k8s.io/v1beta2 is not served"},
		"kind before apiVersion": {body: strings.Replace(review("admission.k8s.io/v1", "u8", route("v1", "app")), `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",`, `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1",`, 1), wantStatus: 200, wantAllowed: true, wantCode: 200},
		"missing UID":            {body: review("admission.k8s.io/v1", "", route("v1", "app")), wantStatus: 200, wantAllowed: true, wantCode: 200},
		"empty body":             {body: "", wantStatus: 200, wantCode: 400, wantMessage: "the request has no kind"},
		"wrong content type":     {body: review("admission.k8s.io/v1", "u6", route("v1", "app")), contentType: "text/plain", wantStatus: 200, wantCode: 400, wantMessage: "contentType=text/plain, expected application/json"},
		"body over the limit":    {body: review("admission.k8s.io/v1", "u7", huge), wantStatus: 200, wantCode: 413, wantMessage: "request entity is too large"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			req := httptest.NewRequest(http.MethodPost, "/validate-httproute", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", ct)
			rec := httptest.NewRecorder()
			start := time.Now()
			hook.ServeHTTP(rec, req)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
			if rec.Code != tc.wantStatus {
				t.Fatalf("HTTP status %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body.String())
			}
			var out admissionv1.AdmissionReview
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
				t.Fatalf("response is not an AdmissionReview: %v\n%s", err, firstBytes(rec.Body.Bytes()))
			}
			r := out.Response
			if r.Allowed != tc.wantAllowed || r.Result == nil || r.Result.Code != tc.wantCode {
				t.Errorf("allowed=%v code=%v, want allowed=%v code=%d: %s", r.Allowed, r.Result, tc.wantAllowed, tc.wantCode, firstBytes(rec.Body.Bytes()))
			}
			if tc.wantMessage != "" && !strings.Contains(r.Result.Message+fmt.Sprint(r.Result.Details), tc.wantMessage) {
				t.Errorf("message %q lacks %q", firstBytes([]byte(r.Result.Message)), tc.wantMessage)
			}
		})
	}
}

// ruleID finds the "[rule-id]" tag of a message.
var ruleID = regexp.MustCompile(`\[[a-z]+(-[a-z]+)+\]`)

func firstBytes(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// TestObjectAtCRDLimits decides an HTTPRoute at the CRD's limits (32 parentRefs, 16
// hostnames, 16 rules of 16 backendRefs, long names) in bounded time.
func TestObjectAtCRDLimits(t *testing.T) {
	w := loadWorld(t, world)
	h := NewHTTPRouteValidator(newDeps(t, w, w, nil))
	long := strings.Repeat("a", 253)
	var b bytes.Buffer
	b.WriteString(`{"metadata":{"name":"` + long + `","namespace":"prod"},"spec":{"parentRefs":[`)
	for i := range 32 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name":"prod-web","sectionName":"s%d"}`, i)
	}
	b.WriteString(`],"hostnames":[`)
	for i := range 16 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"h%d.%s.example.com"`, i, strings.Repeat("x", 40))
	}
	b.WriteString(`],"rules":[`)
	for i := range 16 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"backendRefs":[`)
		for j := range 16 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"name":"svc-%d-%d","namespace":"ns-%d","port":80}`, i, j, j)
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}}`)
	start := time.Now()
	resp := h.Handle(context.Background(), request(admissionv1.Create, "HTTPRoute", "v1", b.String(), ""))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("deciding took %s", d)
	}
	// Every parentRef names a missing listener and every backendRef leaves the namespace
	// without a grant: 32 + 256 causes, each at its own field, in order.
	if resp.Allowed || resp.Result.Details == nil {
		t.Fatalf("allowed=%v, want a denial with causes", resp.Allowed)
	}
	var want []string
	for i := range 32 {
		want = append(want, fmt.Sprintf("spec.parentRefs[%d].sectionName [route-no-matching-parent]", i))
	}
	for i := range 16 {
		for j := range 16 {
			want = append(want, fmt.Sprintf("spec.rules[%d].backendRefs[%d] [ref-not-permitted]", i, j))
		}
	}
	var got []string
	for _, c := range resp.Result.Details.Causes {
		got = append(got, c.Field+" "+ruleID.FindString(c.Message))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("causes (-want +got):\n%s", diff)
	}
}
