package admission

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	policyv1a1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
	"gatewarden.dev/gatewarden/pkg/policy"
)

// Metrics are Gatewarden's Prometheus metrics; docs/operations.md explains each.
// controller-runtime's own webhook metrics (controller_runtime_webhook_*) stay alongside.
type Metrics struct {
	Requests        *prometheus.CounterVec
	Findings        *prometheus.CounterVec
	Duration        *prometheus.HistogramVec
	LookupDuration  *prometheus.HistogramVec
	Confirmations   *prometheus.CounterVec
	AuditViolations *prometheus.GaugeVec
	AuditRuns       *prometheus.CounterVec
	AuditDuration   prometheus.Histogram
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatewarden_admission_requests_total",
			Help: "Admission requests by kind, operation, verdict (allowed, denied, errored) and dry run.",
		}, []string{"kind", "operation", "verdict", "dry_run"}),
		Findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatewarden_rule_findings_total",
			Help: "Rule violations found at admission, by kind, operation, rule, action taken (deny, warn, audit) and dry run.",
		}, []string{"kind", "operation", "rule", "action", "dry_run"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatewarden_decision_duration_seconds",
			Help:    "Time to decide one admission request, decoding and lookups included.",
			Buckets: []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
		}, []string{"kind", "operation"}),
		LookupDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatewarden_lookup_duration_seconds",
			Help:    "Time of one read by the rules, from the cache or (confirming a denial) the API server.",
			Buckets: []float64{0.000001, 0.00001, 0.0001, 0.001, 0.01, 0.1, 1},
		}, []string{"source", "lookup"}),
		Confirmations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatewarden_denial_confirmations_total",
			Help: "Denials re-checked with uncached reads, by kind and outcome: confirmed, or overturned (the cache was stale).",
		}, []string{"kind", "outcome"}),
		AuditViolations: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gatewarden_audit_violations",
			Help: "Objects in the cluster that violate a rule, by rule and namespace, as of the last audit.",
		}, []string{"rule", "namespace"}),
		AuditRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatewarden_audit_runs_total",
			Help: "Audit runs by result (success, error).",
		}, []string{"result"}),
		AuditDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gatewarden_audit_duration_seconds",
			Help:    "Time of one audit of every cached object.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
	}
	for _, c := range []prometheus.Collector{m.Requests, m.Findings, m.Duration, m.LookupDuration, m.Confirmations, m.AuditViolations, m.AuditRuns, m.AuditDuration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// lookupNames are the methods of policy.Lookup, the values of the lookup label.
var lookupNames = []string{"Gateway", "ListenerSet", "GatewayClass", "NamespaceLabels", "ReferenceGrants",
	"RoutesForParent", "ReferrersInto", "Route", "GatewaysOfClass", "TimeoutPolicies"}

// instrumentedLookup times every read of a Lookup. Its observers are resolved once, so a
// read on the admission path costs no label hashing.
type instrumentedLookup struct {
	lk        policy.Lookup
	observers map[string]prometheus.Observer
}

// InstrumentLookup returns lk with each read timed into m.LookupDuration under source
// ("cache" or "apiserver"). With m nil it returns lk.
func InstrumentLookup(lk policy.Lookup, source string, m *Metrics) policy.Lookup {
	if m == nil {
		return lk
	}
	l := &instrumentedLookup{lk: lk, observers: map[string]prometheus.Observer{}}
	for _, name := range lookupNames {
		l.observers[name] = m.LookupDuration.WithLabelValues(source, name)
	}
	return l
}

func (l *instrumentedLookup) observe(lookup string, start time.Time) {
	l.observers[lookup].Observe(time.Since(start).Seconds())
}

func (l *instrumentedLookup) Gateway(ctx context.Context, namespace, name string) (*gwv1.Gateway, error) {
	defer l.observe("Gateway", time.Now())
	return l.lk.Gateway(ctx, namespace, name)
}

func (l *instrumentedLookup) ListenerSet(ctx context.Context, namespace, name string) (*gwv1.ListenerSet, error) {
	defer l.observe("ListenerSet", time.Now())
	return l.lk.ListenerSet(ctx, namespace, name)
}

func (l *instrumentedLookup) GatewayClass(ctx context.Context, name string) (*gwv1.GatewayClass, error) {
	defer l.observe("GatewayClass", time.Now())
	return l.lk.GatewayClass(ctx, name)
}

func (l *instrumentedLookup) NamespaceLabels(ctx context.Context, name string) (labels.Set, error) {
	defer l.observe("NamespaceLabels", time.Now())
	return l.lk.NamespaceLabels(ctx, name)
}

func (l *instrumentedLookup) ReferenceGrants(ctx context.Context, namespace string) ([]*gwv1.ReferenceGrant, error) {
	defer l.observe("ReferenceGrants", time.Now())
	return l.lk.ReferenceGrants(ctx, namespace)
}

func (l *instrumentedLookup) RoutesForParent(ctx context.Context, parentKind gwv1.Kind, namespace, name string) ([]*policy.Route, error) {
	defer l.observe("RoutesForParent", time.Now())
	return l.lk.RoutesForParent(ctx, parentKind, namespace, name)
}

func (l *instrumentedLookup) ReferrersInto(ctx context.Context, namespace string) ([]*policy.Referrer, error) {
	defer l.observe("ReferrersInto", time.Now())
	return l.lk.ReferrersInto(ctx, namespace)
}

func (l *instrumentedLookup) Route(ctx context.Context, kind gwv1.Kind, namespace, name string) (*policy.Route, error) {
	defer l.observe("Route", time.Now())
	return l.lk.Route(ctx, kind, namespace, name)
}

func (l *instrumentedLookup) GatewaysOfClass(ctx context.Context, class string) ([]*gwv1.Gateway, error) {
	defer l.observe("GatewaysOfClass", time.Now())
	return l.lk.GatewaysOfClass(ctx, class)
}

func (l *instrumentedLookup) TimeoutPolicies(ctx context.Context, kind gwv1.Kind, namespace, name string) ([]*policyv1a1.TimeoutPolicy, error) {
	defer l.observe("TimeoutPolicies", time.Now())
	return l.lk.TimeoutPolicies(ctx, kind, namespace, name)
}

func boolLabel(b bool) string { return strconv.FormatBool(b) }
