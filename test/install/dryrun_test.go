package install

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const fieldOwner = client.FieldOwner("gatewarden-install-test")

// TestServerSideDryRun sends every object of both installs to the apiserver as a
// server-side apply with dryRun=All and strict field validation: schema (cert-manager's
// CRDs included), defaulting, validation of the webhook configurations and their CEL
// matchConditions, RBAC rules, the PodDisruptionBudget and the Deployment all run as on
// a real install, and nothing is stored. The Namespace is created for real first, as
// dry-run objects in a namespace that does not exist are rejected.
func TestServerSideDryRun(t *testing.T) {
	needEnv(t)
	overlay, _ := withoutCertManagerDir(t)
	for name, dir := range map[string]string{
		"config/webhook":              filepath.Join(repoRoot(t), "config", "webhook"),
		"config/without-cert-manager": overlay,
		"config/audit":                filepath.Join(repoRoot(t), "config", "audit"),
	} {
		t.Run(name, func(t *testing.T) {
			objs := build(t, dir)
			applyForReal(t, objs.one(t, "Namespace", namespace))
			for _, u := range objs {
				data, err := json.Marshal(u.Object)
				if err != nil {
					t.Fatal(err)
				}
				obj := u.DeepCopy()
				err = env.Client.Patch(t.Context(), obj, client.RawPatch(types.ApplyPatchType, data),
					client.DryRunAll, client.ForceOwnership, fieldOwner, client.FieldValidation("Strict"))
				if err != nil {
					t.Errorf("server-side dry-run apply of %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
				}
			}
		})
		// The documented command, with kubectl's own kustomize: it must build the same
		// directory and the apiserver must accept it without warnings.
		t.Run(name+"/kubectl apply -k", func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(t.Context(), env.Kubectl, "--kubeconfig", env.Kubeconfig,
				"apply", "--server-side", "--dry-run=server", "--field-manager=gatewarden-install-test", "-k", dir)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			if strings.Contains(stderr.String(), "Warning") {
				t.Errorf("the apiserver warned:\n%s", stderr.String())
			}
			for _, want := range []string{
				"validatingwebhookconfiguration.admissionregistration.k8s.io/gatewarden serverside-applied (server dry run)",
				"customresourcedefinition.apiextensions.k8s.io/timeoutpolicies.policy.gatewarden.dev serverside-applied (server dry run)",
			} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
		})
	}
}

// applyForReal server-side applies objects without dry run.
func applyForReal(t *testing.T, objs ...*unstructured.Unstructured) {
	t.Helper()
	for _, u := range objs {
		data, err := json.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Patch(t.Context(), u.DeepCopy(), client.RawPatch(types.ApplyPatchType, data),
			client.ForceOwnership, fieldOwner, client.FieldValidation("Strict")); err != nil {
			t.Fatalf("applying %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
}
