package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const (
	gateways     = "gateways.gateway.networking.k8s.io"
	httpRoutes   = "httproutes.gateway.networking.k8s.io"
	tlsRoutes    = "tlsroutes.gateway.networking.k8s.io"
	grants       = "referencegrants.gateway.networking.k8s.io"
	listenerSets = "listenersets.gateway.networking.k8s.io"
)

// assertDenied applies file, expects kubectl to fail with the webhook's denial naming rule
// and field, and checks that the object was not stored.
func assertDenied(t *testing.T, file, rule, fieldPath, resource, namespace, name string) {
	t.Helper()
	stdout, stderr, err := kubectlApply(t, file)
	if err == nil {
		t.Fatalf("kubectl apply -f %s succeeded, want a denial by %s\nstdout:\n%s\nstderr:\n%s", file, rule, stdout, stderr)
	}
	for _, want := range []string{" is invalid: ", fieldPath + ": ", "[" + rule + "]"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("kubectl apply -f %s: stderr lacks %q:\n%s", file, want, stderr)
		}
	}
	assertAbsent(t, resource, namespace, name)
}

// assertAbsent checks that an object is not stored.
func assertAbsent(t *testing.T, resource, namespace, name string) {
	t.Helper()
	_, stderr, err := kubectl(t, "get", resource, name, "--namespace", namespace)
	if err == nil || !strings.Contains(stderr, "NotFound") {
		t.Errorf("%s %s/%s is stored (or the read failed: %v %s), want it absent", resource, namespace, name, err, stderr)
	}
}

// mustApply applies files and fails the test if kubectl fails; it returns stdout and stderr
// (where kubectl prints admission warnings).
func mustApply(t *testing.T, files ...string) (string, string) {
	t.Helper()
	stdout, stderr, err := kubectlApply(t, files...)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	return stdout, stderr
}

// TestExamples applies the seed scenario of examples/ (accepted, with listener defaults
// filled in) and then each examples/denied file (denied by the rule its header names, and
// not stored). It owns the namespaces infra, prod, dev and backends.
func TestExamples(t *testing.T) {
	stdout, stderr := mustApply(t, "../../examples/seed")
	for _, want := range []string{"gateway.gateway.networking.k8s.io/prod-web created", "referencegrant.gateway.networking.k8s.io/allow-prod-traffic created", "httproute.gateway.networking.k8s.io/foo created"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("kubectl apply -f examples/seed: stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stderr, "Warning") {
		t.Errorf("the seed scenario drew warnings:\n%s", stderr)
	}

	// The defaulter filled allowedRoutes.kinds from the protocol and kept the Selector.
	gw := getObject(t, gateways, "infra", "prod-web")
	listeners, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
	allowed := listeners[0].(map[string]any)["allowedRoutes"]
	want := map[string]any{
		"kinds": []any{
			map[string]any{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"},
			map[string]any{"group": "gateway.networking.k8s.io", "kind": "GRPCRoute"},
		},
		"namespaces": map[string]any{"from": "Selector", "selector": map[string]any{"matchLabels": map[string]any{"env": "prod"}}},
	}
	if diff := cmp.Diff(want, allowed); diff != "" {
		t.Errorf("prod-web listener allowedRoutes read back (-want +got):\n%s", diff)
	}

	cases := map[string]struct {
		rule, field, resource, namespace, name string
	}{
		"route-without-grant.yaml":               {"ref-not-permitted", "spec.rules[0].backendRefs[0]", httpRoutes, "prod", "bar"},
		"route-from-dev.yaml":                    {"route-not-allowed-by-listeners", "spec.parentRefs[0]", httpRoutes, "dev", "foo"},
		"route-unknown-section.yaml":             {"route-no-matching-parent", "spec.parentRefs[0].sectionName", httpRoutes, "prod", "secure"},
		"route-foreign-hostname.yaml":            {"route-no-matching-listener-hostname", "spec.hostnames", httpRoutes, "prod", "elsewhere"},
		"gateway-certificate-without-grant.yaml": {"ref-not-permitted", "spec.listeners[0].tls.certificateRefs[0]", gateways, "infra", "prod-tls"},
		"gateway-invalid-route-kinds.yaml":       {"listener-invalid-route-kinds", "spec.listeners[0].allowedRoutes.kinds[0]", gateways, "infra", "prod-tcp"},
	}
	for file, tc := range cases {
		t.Run(file, func(t *testing.T) {
			assertDenied(t, filepath.Join("../../examples/denied", file), tc.rule, tc.field, tc.resource, tc.namespace, tc.name)
		})
	}

	// examples/policy: the class-wide override in the policy namespace (the webhook's own,
	// which the install creates) and the Gateway default are accepted without findings;
	// then the Route that turns its timeout off is denied by the override.
	t.Run("policy", func(t *testing.T) {
		// Later tests must not find the policies in force (t.Context is done by cleanup).
		t.Cleanup(func() {
			cmd := exec.Command(env.Kubectl, "--kubeconfig", env.Kubeconfig, "delete", "-f", "../../examples/policy", "--ignore-not-found")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("deleting examples/policy: %v\n%s", err, out)
			}
		})
		stdout, stderr := mustApply(t, "../../examples/policy")
		for _, want := range []string{"timeoutpolicy.policy.gatewarden.dev/no-infinite-timeouts created", "timeoutpolicy.policy.gatewarden.dev/prod-web-defaults created"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("kubectl apply -f examples/policy: stdout lacks %q:\n%s", want, stdout)
			}
		}
		if w := ruleWarnings(stderr); len(w) != 0 {
			t.Errorf("examples/policy drew findings:\n%s", strings.Join(w, "\n"))
		}
		assertDenied(t, "../../examples/denied/route-no-timeout.yaml", "route-timeout-exceeds-override",
			"spec.rules[0].timeouts.request", httpRoutes, "prod", "slow")

		// explain, reading the cluster: foo sets no timeout, so the Gateway's default is in
		// force, under the class's bounds.
		bin := os.Getenv("GATEWARDEN_WEBHOOK_BIN")
		if bin == "" {
			bin = filepath.Join(env.Root, "bin", "webhook")
		}
		out, err := exec.CommandContext(t.Context(), bin, "explain", "--kubeconfig", env.Kubeconfig, "--route", "HTTPRoute/prod/foo").CombinedOutput()
		if err != nil {
			t.Fatalf("webhook explain: %v\n%s", err, out)
		}
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`0\s+infra/prod-web\s+request\s+15s\s+TimeoutPolicy infra/prod-web-defaults \(default on Gateway infra/prod-web\)`),
			regexp.MustCompile(`0\s+infra/prod-web\s+allowNoTimeout\s+false\s+TimeoutPolicy gatewarden-system/no-infinite-timeouts \(override on GatewayClass example\)`),
		} {
			if !want.Match(out) {
				t.Errorf("webhook explain lacks %s:\n%s", want, out)
			}
		}
	})
}

var ruleTag = regexp.MustCompile(`\[[a-z]+(-[a-z]+)+\] [A-Za-z]+:`)

// ruleWarnings returns the lines of kubectl's stderr that are Gatewarden findings (other
// warnings, such as a CRD version's deprecation notice, are not).
func ruleWarnings(stderr string) []string {
	var out []string
	for _, line := range strings.Split(stderr, "\n") {
		if ruleTag.MatchString(line) {
			out = append(out, line)
		}
	}
	return out
}
