package admission

import (
	"context"
	"os"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"

	"gatewarden.dev/gatewarden/pkg/policy"
)

// TestMetricsCountFindings runs a denial and a warning through a handler and reads the
// counters: each decision counted once, with its rule and action.
func TestMetricsCountFindings(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	w := loadWorld(t, world)
	deps := newDeps(t, InstrumentLookup(w, "cache", m), InstrumentLookup(w, "apiserver", m), nil)
	deps.Metrics = m
	h := NewHTTPRouteValidator(deps)
	h.Handle(context.Background(), request(admissionv1.Create, "HTTPRoute", "v1", route("v1", "other"), ""))
	h.Handle(context.Background(), request(admissionv1.Create, "HTTPRoute", "v1beta1", `{"metadata":{"name":"foo","namespace":"prod"},"spec":{"parentRefs":[{"name":"later"}]}}`, ""))

	for name, tc := range map[string]struct {
		c    prometheus.Collector
		want float64
	}{
		"denied request":        {m.Requests.WithLabelValues("HTTPRoute", "CREATE", "denied", "false"), 1},
		"warned request":        {m.Requests.WithLabelValues("HTTPRoute", "CREATE", "allowed", "false"), 1},
		"deny finding":          {m.Findings.WithLabelValues("HTTPRoute", "CREATE", "ref-not-permitted", "deny", "false"), 1},
		"warn finding":          {m.Findings.WithLabelValues("HTTPRoute", "CREATE", "route-parent-not-found", "warn", "false"), 1},
		"confirmed denial":      {m.Confirmations.WithLabelValues("HTTPRoute", "confirmed"), 1},
		"no overturned denials": {m.Confirmations.WithLabelValues("HTTPRoute", "overturned"), 0},
	} {
		if got := testutil.ToFloat64(tc.c); got != tc.want {
			t.Errorf("%s = %v, want %v", name, got, tc.want)
		}
	}
	if n := testutil.CollectAndCount(m.LookupDuration); n == 0 {
		t.Error("no lookups were timed")
	}
}

// TestDocumentedMetricsExist keeps docs/operations.md and the dashboard true: every
// gatewarden_* metric they name is one NewMetrics registers.
func TestDocumentedMetricsExist(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{}
	ch := make(chan *prometheus.Desc, 32)
	go func() {
		for _, c := range []prometheus.Collector{m.Requests, m.Findings, m.Duration, m.LookupDuration, m.Confirmations, m.AuditViolations, m.AuditRuns, m.AuditDuration} {
			c.Describe(ch)
		}
		close(ch)
	}()
	fqName := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	for d := range ch {
		registered[fqName.FindStringSubmatch(d.String())[1]] = true
	}
	used := regexp.MustCompile(`gatewarden_[a-z_]+`)
	for _, file := range []string{"../../docs/operations.md", "../../config/grafana/gatewarden-dashboard.json"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range used.FindAllString(string(data), -1) {
			base := regexp.MustCompile(`_(bucket|sum|count)$`).ReplaceAllString(name, "")
			if !registered[base] {
				t.Errorf("%s names %s, which is not registered", file, name)
			}
		}
	}
}

// TestEveryLookupIsTimed keeps lookupNames in step with policy.Lookup: a method without
// an observer would panic on the admission path.
func TestEveryLookupIsTimed(t *testing.T) {
	lt := reflect.TypeOf((*policy.Lookup)(nil)).Elem()
	var methods []string
	for i := range lt.NumMethod() {
		methods = append(methods, lt.Method(i).Name)
	}
	got := slices.Clone(lookupNames)
	slices.Sort(got)
	if !slices.Equal(methods, got) {
		t.Errorf("lookupNames %v, want the methods of policy.Lookup %v", got, methods)
	}
}
