package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads the webhook's /metrics.
func scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", env.MetricsPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// metricValue returns the value of the series of family with exactly these labels (and
// any others), or -1 when there is none.
func metricValue(families map[string]*dto.MetricFamily, family string, want map[string]string) float64 {
	mf := families[family]
	if mf == nil {
		return -1
	}
	for _, m := range mf.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if have[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		}
	}
	return -1
}

// TestMetricsCountDecisions makes one denial and one warning through kubectl and finds
// both counted in /metrics with the right labels.
func TestMetricsCountDecisions(t *testing.T) {
	mustApply(t, "testdata/metrics/world.yaml")
	assertDenied(t, "testdata/metrics/denied.yaml", "ref-not-permitted", "spec.rules[0].backendRefs[0]", httpRoutes, "metrics-app", "denied")
	if _, stderr := mustApply(t, "testdata/metrics/warned.yaml"); len(ruleWarnings(stderr)) != 1 ||
		!strings.Contains(stderr, `Warning: spec.parentRefs[0].name: Not found: "not-yet": [route-parent-not-found]`) {
		t.Errorf("want the one route-parent-not-found warning, stderr:\n%s", stderr)
	}

	families := scrape(t)
	for _, tc := range []struct {
		family string
		labels map[string]string
	}{
		{"gatewarden_rule_findings_total", map[string]string{"kind": "HTTPRoute", "operation": "CREATE", "rule": "ref-not-permitted", "action": "deny", "dry_run": "false"}},
		{"gatewarden_rule_findings_total", map[string]string{"rule": "route-parent-not-found", "action": "warn", "dry_run": "false"}},
		{"gatewarden_admission_requests_total", map[string]string{"kind": "HTTPRoute", "verdict": "denied"}},
		{"gatewarden_admission_requests_total", map[string]string{"kind": "HTTPRoute", "verdict": "allowed"}},
		{"gatewarden_denial_confirmations_total", map[string]string{"kind": "HTTPRoute", "outcome": "confirmed"}},
	} {
		if v := metricValue(families, tc.family, tc.labels); v < 1 {
			t.Errorf("%s%v = %v, want at least 1", tc.family, tc.labels, v)
		}
	}
	for _, name := range []string{"gatewarden_decision_duration_seconds", "gatewarden_lookup_duration_seconds", "controller_runtime_webhook_requests_total"} {
		if families[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

// TestAuditLoop makes a Route invalid behind the webhook's back (its grant is deleted) and
// waits for the server's audit to count it in the gauge and record a Warning Event on it.
func TestAuditLoop(t *testing.T) {
	mustApply(t, "testdata/audit/loop.yaml")
	mustKubectlBoth(t, "delete", grants, "loop-grant", "--namespace", "loop-data")

	labels := map[string]string{"rule": "ref-not-permitted", "namespace": "loop-app"}
	deadline := time.Now().Add(30 * time.Second)
	for metricValue(scrape(t), "gatewarden_audit_violations", labels) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("gatewarden_audit_violations%v did not reach 1 within 30s", labels)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for {
		out := mustKubectl(t, "get", "events.events.k8s.io", "--namespace", "loop-app", "-o",
			"jsonpath={range .items[*]}{.type} {.reason} {.regarding.kind}/{.regarding.name}: {.note}{\"\\n\"}{end}")
		if strings.Contains(out, "Warning RefNotPermitted HTTPRoute/loop-route: spec.rules[0].backendRefs[0]: Forbidden: [ref-not-permitted]") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit Event on HTTPRoute loop-app/loop-route within 30s; events:\n%s", out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
