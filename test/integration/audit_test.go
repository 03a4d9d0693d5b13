package integration

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gatewarden.dev/gatewarden/pkg/check"
)

// TestAuditOneShot makes an existing Route invalid by deleting the ReferenceGrant it relies
// on (the webhook warns but must not block a DELETE), then runs `webhook audit` against the
// cluster and expects the Route reported with the rule, field and exit code 1.
func TestAuditOneShot(t *testing.T) {
	mustApply(t, "testdata/audit/world.yaml")
	mustKubectlBoth(t, "delete", grants, "app-to-data", "--namespace", "audit-data")

	bin := os.Getenv("GATEWARDEN_WEBHOOK_BIN")
	if bin == "" {
		bin = filepath.Join(env.Root, "bin", "webhook")
	}
	cmd := exec.CommandContext(t.Context(), bin, "audit", "--kubeconfig", env.Kubeconfig, "-o", "json")
	out, err := cmd.Output()
	var exitErr *exec.ExitError
	if err != nil && !(errors.As(err, &exitErr) && exitErr.ExitCode() == check.ExitViolations) {
		t.Fatalf("webhook audit: %v\n%s", err, out)
	}
	if cmd.ProcessState.ExitCode() != check.ExitViolations {
		t.Errorf("exit code %d, want %d (violations)", cmd.ProcessState.ExitCode(), check.ExitViolations)
	}
	var res check.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("decoding the audit: %v\n%s", err, out)
	}
	found := false
	for _, f := range res.Findings {
		if f.Namespace == "audit-app" && f.Name == "uses-data" {
			found = f.Rule == "ref-not-permitted" && f.Field == "spec.rules[0].backendRefs[0]" && f.Kind == "HTTPRoute" && f.File == "cluster"
			if !found {
				t.Errorf("finding for uses-data: %+v", f)
			}
		}
	}
	if !found {
		t.Errorf("the audit does not report HTTPRoute audit-app/uses-data:\n%s", out)
	}
}
