package install

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// TestPolicyExamples applies examples/policy (with the seed scenario it refers to, and the
// Route examples/denied/route-no-timeout.yaml) by server-side dry run with kubectl: the
// TimeoutPolicy CRD that the install ships must accept them, CEL rules included. There is
// no webhook here, so the Route is accepted too; that it is denied once the policies exist
// is test/integration's to show. Broken variants of the policies are then rejected with
// the CEL rule's message, which shows that the rules ran.
func TestPolicyExamples(t *testing.T) {
	needEnv(t)
	root := repoRoot(t)
	// Dry-run objects need their namespaces to exist.
	applyForReal(t, buildBase(t).one(t, "Namespace", namespace))
	for _, u := range readYAML(t, filepath.Join(root, "examples", "seed", "01-namespaces.yaml")) {
		applyForReal(t, u)
	}

	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), env.Kubectl, "--kubeconfig", env.Kubeconfig,
		"apply", "--server-side", "--dry-run=server", "--field-manager=gatewarden-install-test",
		"-f", filepath.Join(root, "examples", "seed"), "-f", filepath.Join(root, "examples", "policy"),
		"-f", filepath.Join(root, "examples", "denied", "route-no-timeout.yaml"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("kubectl wrote to stderr:\n%s", stderr.String())
	}
	for _, want := range []string{
		"timeoutpolicy.policy.gatewarden.dev/no-infinite-timeouts serverside-applied (server dry run)",
		"timeoutpolicy.policy.gatewarden.dev/prod-web-defaults serverside-applied (server dry run)",
		"httproute.gateway.networking.k8s.io/slow serverside-applied (server dry run)",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}

	override := readYAML(t, filepath.Join(root, "examples", "policy", "01-gatewayclass-override.yaml"))[0]
	defaults := readYAML(t, filepath.Join(root, "examples", "policy", "02-gateway-defaults.yaml"))[0]
	cases := map[string]struct {
		base   *unstructured.Unstructured
		change func(spec map[string]any)
		want   string
	}{
		"neither default nor override": {defaults, func(spec map[string]any) {
			delete(spec, "default")
		}, "set default, override or both"},
		"GatewayClass section": {override, func(spec map[string]any) {
			spec["targetRefs"].([]any)[0].(map[string]any)["sectionName"] = "http"
		}, "a GatewayClass has no sections"},
		"Service target": {defaults, func(spec map[string]any) {
			spec["targetRefs"] = []any{map[string]any{"group": "", "kind": "Service", "name": "app"}}
		}, "targetRefs must name a gateway.networking.k8s.io GatewayClass, Gateway, HTTPRoute or GRPCRoute"},
		"backendRequest above request": {defaults, func(spec map[string]any) {
			spec["default"].(map[string]any)["backendRequest"] = "30s"
		}, "backendRequest must not be greater than request"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			u := tc.base.DeepCopy()
			tc.change(u.Object["spec"].(map[string]any))
			data, err := json.Marshal(u.Object)
			if err != nil {
				t.Fatal(err)
			}
			err = env.Client.Patch(t.Context(), u, client.RawPatch(types.ApplyPatchType, data),
				client.DryRunAll, client.ForceOwnership, fieldOwner, client.FieldValidation("Strict"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("dry-run apply: %v, want a rejection with %q", err, tc.want)
			}
		})
	}
}

// readYAML reads the documents of one YAML file.
func readYAML(t *testing.T, file string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(string(data), "\n---\n") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
	return out
}
