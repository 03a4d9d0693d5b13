package admission

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"gatewarden.dev/gatewarden/pkg/check"
	"gatewarden.dev/gatewarden/pkg/config"
	"gatewarden.dev/gatewarden/pkg/policy"
)

// MaxAuditEvents bounds the Events one audit run emits; the gauge still counts every
// violation.
const MaxAuditEvents = 50

// Auditor evaluates every cached object against the rules every Interval: objects created
// while the webhook was not watching, or made invalid by a later change (a deleted grant),
// show up in the gatewarden_audit_violations gauge, in the log, and as Warning Events on
// the objects (only for violations that are new since the previous run, at most
// MaxAuditEvents per run).
type Auditor struct {
	Reader    client.Reader
	Available func(gwv1.Kind) bool
	Config    *config.Config
	Metrics   *Metrics
	Recorder  events.EventRecorder
	Interval  time.Duration
	Log       logr.Logger
	// WaitForSync blocks until the cache has synced.
	WaitForSync func(context.Context) bool

	seen map[string]bool
}

// Start implements manager.Runnable: it audits every Interval until ctx ends.
func (a *Auditor) Start(ctx context.Context) error {
	if a.WaitForSync != nil && !a.WaitForSync(ctx) {
		return nil
	}
	ticker := time.NewTicker(a.Interval)
	defer ticker.Stop()
	for {
		if _, err := a.RunOnce(ctx); err != nil {
			a.Log.Error(err, "audit failed")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// RunOnce audits the cached objects once.
func (a *Auditor) RunOnce(ctx context.Context) (check.Result, error) {
	start := time.Now()
	objs, err := ReadCluster(ctx, a.Reader, a.Available)
	if err == nil {
		var res check.Result
		if res, err = check.Run(ctx, []check.Source{{Name: "cluster", Objects: objs}}, nil, a.Config); err == nil {
			a.report(objs, res)
			a.Metrics.AuditRuns.WithLabelValues("success").Inc()
			a.Metrics.AuditDuration.Observe(time.Since(start).Seconds())
			return res, nil
		}
	}
	a.Metrics.AuditRuns.WithLabelValues("error").Inc()
	return check.Result{}, err
}

func (a *Auditor) report(objs []policy.Object, res check.Result) {
	type key struct{ kind, namespace, name string }
	byKey := map[key]runtime.Object{}
	for _, o := range objs {
		if ro, ok := o.Value.(runtime.Object); ok {
			byKey[key{o.GVK.Kind, o.Namespace, o.Name}] = ro
		}
	}
	a.Metrics.AuditViolations.Reset()
	seen := map[string]bool{}
	emitted := 0
	for _, f := range res.Findings {
		a.Metrics.AuditViolations.WithLabelValues(string(f.Rule), f.Namespace).Inc()
		id := fmt.Sprintf("%s/%s/%s|%s|%s", f.Kind, f.Namespace, f.Name, f.Rule, f.Field)
		seen[id] = true
		if a.seen[id] {
			continue
		}
		a.Log.Info("audit violation", "kind", f.Kind, "namespace", f.Namespace, "name", f.Name, "rule", f.Rule, "field", f.Field)
		if obj := byKey[key{f.Kind, f.Namespace, f.Name}]; obj != nil && a.Recorder != nil && emitted < MaxAuditEvents {
			emitted++
			note := f.Message
			if len(note) > 1000 { // events.k8s.io notes hold at most 1 kB
				note = note[:997] + "..."
			}
			a.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, f.Reason, "Audit", "%s", note)
		}
	}
	a.seen = seen
}
