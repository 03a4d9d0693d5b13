package integration

import (
	"strings"
	"testing"
)

// TestReverseChecksAndUpdates covers what the webhook says about changes to objects others
// rely on (a Gateway update that detaches Routes, a grant deletion), and how Route updates
// ratchet: metadata-only updates pass, an unrelated spec edit of a Route whose Gateway
// changed passes with a warning, a new bad value is denied. Dry runs get the real verdict.
func TestReverseChecksAndUpdates(t *testing.T) {
	mustApply(t, "testdata/reverse/00-world.yaml")

	t.Run("gateway update that detaches routes warns", func(t *testing.T) {
		stdout, stderr := mustApply(t, "testdata/reverse/gateway-narrowed.yaml")
		if !strings.Contains(stdout, "gateway.gateway.networking.k8s.io/rev configured") {
			t.Errorf("the Gateway update was not stored:\n%s", stdout)
		}
		want := `Warning: spec.listeners: Forbidden: [gateway-detaches-routes] NotAllowedByListeners: this change detaches 2 Route parentRef(s) attached today: HTTPRoute local-route (route-not-allowed-by-listeners); 1 parentRef(s) of Routes in other namespaces`
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks\n%s\nhave:\n%s", want, stderr)
		}
	})

	t.Run("metadata-only update is not judged", func(t *testing.T) {
		_, stderr := mustKubectlBoth(t, "label", "httproutes.gateway.networking.k8s.io", "app-route", "--namespace", "rev-app", "team=web")
		if w := ruleWarnings(stderr); len(w) > 0 {
			t.Errorf("a label change drew findings: %v", w)
		}
	})

	t.Run("unrelated spec edit is ratcheted to a warning", func(t *testing.T) {
		stdout, stderr := mustApply(t, "testdata/reverse/app-route-new-port.yaml")
		if !strings.Contains(stdout, "httproute.gateway.networking.k8s.io/app-route configured") {
			t.Errorf("the update was not stored:\n%s", stdout)
		}
		if !strings.Contains(stderr, "Warning: spec.parentRefs[0]: Forbidden: [route-not-allowed-by-listeners] NotAllowedByListeners") {
			t.Errorf("stderr lacks the ratcheted warning:\n%s", stderr)
		}
	})

	t.Run("new bad value is denied", func(t *testing.T) {
		_, stderr, err := kubectlApply(t, "testdata/reverse/app-route-new-parent.yaml")
		if err == nil || !strings.Contains(stderr, `The HTTPRoute "app-route" is invalid: spec.parentRefs[0]: Forbidden: [route-not-allowed-by-listeners]`) {
			t.Errorf("err=%v, want a denial; stderr:\n%s", err, stderr)
		}
	})

	t.Run("server-side dry run gets the real verdict", func(t *testing.T) {
		_, stderr, err := kubectl(t, "apply", "--dry-run=server", "-f", "testdata/reverse/route-dry-run.yaml")
		// The narrowed Gateway no longer admits HTTPRoutes either: kubectl lists both causes.
		for _, want := range []string{`The HTTPRoute "dry" is invalid:`, "* spec.parentRefs[0]: Forbidden: [route-not-allowed-by-listeners]", "* spec.rules[0].backendRefs[0]: Forbidden: [ref-not-permitted]"} {
			if err == nil || !strings.Contains(stderr, want) {
				t.Errorf("err=%v, want a denial with %q; stderr:\n%s", err, want, stderr)
			}
		}
		assertAbsent(t, httpRoutes, "rev-gw", "dry")
	})

	t.Run("deleting a grant in use warns and deletes", func(t *testing.T) {
		stdout, stderr := mustKubectlBoth(t, "delete", "referencegrants.gateway.networking.k8s.io", "rev-grant", "--namespace", "rev-backends")
		if !strings.Contains(stdout, `referencegrant.gateway.networking.k8s.io "rev-grant" deleted`) {
			t.Errorf("the grant was not deleted:\n%s", stdout)
		}
		want := `Warning: metadata.name: Forbidden: [referencegrant-revokes-references] RefNotPermitted: deleting this ReferenceGrant leaves 1 existing reference(s) into namespace "rev-backends" unpermitted (1 from HTTPRoute in namespace "rev-app")`
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks\n%s\nhave:\n%s", want, stderr)
		}
		assertAbsent(t, grants, "rev-backends", "rev-grant")
	})
}

// mustKubectlBoth is mustKubectl that also returns stderr, where warnings go.
func mustKubectlBoth(t *testing.T, args ...string) (string, string) {
	t.Helper()
	stdout, stderr, err := kubectl(t, args...)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	return stdout, stderr
}
