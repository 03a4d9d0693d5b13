package integration

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestPlumbing proves the wiring, not a rule: kubectl reaches the apiserver, the
// apiserver calls the webhook for Gateway writes (a Fail-policy webhook it could not
// reach would fail the apply), and the object reads back as written.
func TestPlumbing(t *testing.T) {
	stdout, stderr, err := kubectlApply(t, "testdata/plumbing/gateway.yaml")
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	t.Logf("kubectl apply:\n%s%s", stdout, stderr)

	gw := getObject(t, "gateways.gateway.networking.k8s.io", "plumbing", "plumbing")
	if got := gw.GetAPIVersion(); got != "gateway.networking.k8s.io/v1" {
		t.Errorf("apiVersion = %q, want gateway.networking.k8s.io/v1", got)
	}
	if got, _, _ := unstructured.NestedString(gw.Object, "spec", "gatewayClassName"); got != "example" {
		t.Errorf("spec.gatewayClassName = %q, want example", got)
	}
	listeners, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
	if len(listeners) != 1 {
		t.Fatalf("spec.listeners = %v, want the one listener applied", listeners)
	}
	if got, _, _ := unstructured.NestedString(listeners[0].(map[string]any), "name"); got != "http" {
		t.Errorf("spec.listeners[0].name = %q, want http", got)
	}
}
