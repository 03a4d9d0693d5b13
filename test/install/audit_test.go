package install

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"gatewarden.dev/gatewarden/pkg/config"
)

// TestAuditOverlay checks config/audit: the base install plus the audit turned on, and
// exactly one extra permission, to create and patch events.k8s.io Events.
func TestAuditOverlay(t *testing.T) {
	objs := build(t, filepath.Join(repoRoot(t), "config", "audit"))
	base := buildBase(t)
	if got, want := len(objs), len(base)+2; got != want {
		t.Errorf("config/audit has %d objects, want the base's %d and 2 more: %v", got, len(base), objs.ids())
	}

	cm := decode[corev1.ConfigMap](t, objs.one(t, "ConfigMap", ""))
	cfg, err := config.Parse([]byte(cm.Data["config.yaml"]))
	if err != nil {
		t.Fatalf("config/audit config.yaml does not load: %v", err)
	}
	if cfg.AuditInterval <= 0 || cfg.WebhookNamespace != namespace {
		t.Errorf("auditInterval %s, webhookNamespace %q: want the audit on in %s", cfg.AuditInterval, cfg.WebhookNamespace, namespace)
	}

	role := decode[rbacv1.ClusterRole](t, objs.one(t, "ClusterRole", "gatewarden-webhook-events"))
	want := []rbacv1.PolicyRule{{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}}}
	if diff := cmp.Diff(want, role.Rules); diff != "" {
		t.Errorf("events ClusterRole rules (-want +got):\n%s", diff)
	}
	binding := decode[rbacv1.ClusterRoleBinding](t, objs.one(t, "ClusterRoleBinding", "gatewarden-webhook-events"))
	if binding.RoleRef.Name != role.Name || len(binding.Subjects) != 1 || binding.Subjects[0].Name != serviceAccount || binding.Subjects[0].Namespace != namespace {
		t.Errorf("events binding %+v does not bind %s to %s/%s", binding, role.Name, namespace, serviceAccount)
	}
}
