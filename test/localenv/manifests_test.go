package localenv

import (
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// webhookDir is config/webhook, found from this file so the test runs from any directory.
func webhookDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate test file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "config", "webhook")
}

// TestWebhookContract pins the paths and rules that the server in cmd/webhook registers
// handlers for; a change here is a change to that contract.
func TestWebhookContract(t *testing.T) {
	hooks, err := RenderWebhookConfigurations(webhookDir(t))
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		path, group, resource, failurePolicy string
		versions, operations                 []string
	}
	const gw, gwpolicy = "gateway.networking.k8s.io", "policy.gatewarden.dev"
	cu := []string{"CREATE", "UPDATE"}
	wantValidating := map[string]entry{
		"validate-gateways.gatewarden.dev":        {"/validate-gateway", gw, "gateways", "Fail", []string{"v1", "v1beta1"}, cu},
		"validate-listenersets.gatewarden.dev":    {"/validate-listenerset", gw, "listenersets", "Fail", []string{"v1"}, cu},
		"validate-httproutes.gatewarden.dev":      {"/validate-httproute", gw, "httproutes", "Fail", []string{"v1", "v1beta1"}, cu},
		"validate-grpcroutes.gatewarden.dev":      {"/validate-grpcroute", gw, "grpcroutes", "Fail", []string{"v1"}, cu},
		"validate-tlsroutes.gatewarden.dev":       {"/validate-tlsroute", gw, "tlsroutes", "Fail", []string{"v1", "v1alpha2", "v1alpha3"}, cu},
		"validate-tcproutes.gatewarden.dev":       {"/validate-tcproute", gw, "tcproutes", "Fail", []string{"v1", "v1alpha2"}, cu},
		"validate-udproutes.gatewarden.dev":       {"/validate-udproute", gw, "udproutes", "Fail", []string{"v1", "v1alpha2"}, cu},
		"validate-timeoutpolicies.gatewarden.dev": {"/validate-timeoutpolicy", gwpolicy, "timeoutpolicies", "Fail", []string{"v1alpha1"}, cu},
		"validate-referencegrants.gatewarden.dev": {"/validate-referencegrant", gw, "referencegrants", "Ignore", []string{"v1", "v1beta1"}, []string{"UPDATE", "DELETE"}},
	}
	wantMutating := map[string]entry{
		"mutate-gateways.gatewarden.dev":     {"/mutate-gateway", gw, "gateways", "Ignore", []string{"v1", "v1beta1"}, cu},
		"mutate-listenersets.gatewarden.dev": {"/mutate-listenerset", gw, "listenersets", "Ignore", []string{"v1"}, cu},
	}
	check := func(t *testing.T, name string, want entry, cc admissionregistrationv1.WebhookClientConfig,
		rules []admissionregistrationv1.RuleWithOperations, fp *admissionregistrationv1.FailurePolicyType,
		se *admissionregistrationv1.SideEffectClass, mp *admissionregistrationv1.MatchPolicyType, timeout *int32,
		versions []string, nsSel string) {
		t.Helper()
		if cc.Service == nil || cc.Service.Name != "gatewarden-webhook" || cc.Service.Namespace != "gatewarden-system" ||
			cc.Service.Path == nil || *cc.Service.Path != want.path || cc.Service.Port == nil || *cc.Service.Port != 443 {
			t.Errorf("%s: clientConfig %+v, want service gatewarden-system/gatewarden-webhook:443%s", name, cc.Service, want.path)
		}
		if len(rules) != 1 {
			t.Fatalf("%s: %d rules, want 1", name, len(rules))
		}
		r := rules[0]
		var ops []string
		for _, op := range r.Operations {
			ops = append(ops, string(op))
		}
		if !slices.Equal(r.APIGroups, []string{want.group}) || !slices.Equal(r.APIVersions, want.versions) ||
			!slices.Equal(ops, want.operations) || !slices.Equal(r.Resources, []string{want.resource}) {
			t.Errorf("%s: rule %+v, want %s.%s %v %v", name, r, want.resource, want.group, want.versions, want.operations)
		}
		if r.Scope == nil || *r.Scope != admissionregistrationv1.NamespacedScope {
			t.Errorf("%s: rule scope %v, want Namespaced", name, r.Scope)
		}
		for _, res := range r.Resources {
			if strings.Contains(res, "/") {
				t.Errorf("%s: rule names subresource %q; status updates must not reach the webhook", name, res)
			}
		}
		if fp == nil || string(*fp) != want.failurePolicy {
			t.Errorf("%s: failurePolicy %v, want %s", name, fp, want.failurePolicy)
		}
		if se == nil || *se != admissionregistrationv1.SideEffectClassNone {
			t.Errorf("%s: sideEffects %v, want None", name, se)
		}
		if mp == nil || *mp != admissionregistrationv1.Equivalent {
			t.Errorf("%s: matchPolicy %v, want Equivalent", name, mp)
		}
		if timeout == nil || *timeout != 5 {
			t.Errorf("%s: timeoutSeconds %v, want 5", name, timeout)
		}
		if !slices.Equal(versions, []string{"v1"}) {
			t.Errorf("%s: admissionReviewVersions %v, want [v1]", name, versions)
		}
		// TimeoutPolicies on GatewayClasses live in gatewarden-system, the policy namespace.
		wantSel := "kubernetes.io/metadata.name notin (gatewarden-system,kube-system)"
		if want.resource == "timeoutpolicies" {
			wantSel = "kubernetes.io/metadata.name notin (kube-system)"
		}
		if nsSel != wantSel {
			t.Errorf("%s: namespaceSelector %q, want %q", name, nsSel, wantSel)
		}
	}
	if got := len(hooks.Validating.Webhooks); got != len(wantValidating) {
		t.Errorf("%d validating webhooks, want %d", got, len(wantValidating))
	}
	for _, wh := range hooks.Validating.Webhooks {
		want, ok := wantValidating[wh.Name]
		if !ok {
			t.Errorf("unexpected validating webhook %s", wh.Name)
			continue
		}
		check(t, wh.Name, want, wh.ClientConfig, wh.Rules, wh.FailurePolicy, wh.SideEffects, wh.MatchPolicy,
			wh.TimeoutSeconds, wh.AdmissionReviewVersions, nsSelector(wh.NamespaceSelector))
	}
	if got := len(hooks.Mutating.Webhooks); got != len(wantMutating) {
		t.Errorf("%d mutating webhooks, want %d", got, len(wantMutating))
	}
	for _, wh := range hooks.Mutating.Webhooks {
		want, ok := wantMutating[wh.Name]
		if !ok {
			t.Errorf("unexpected mutating webhook %s", wh.Name)
			continue
		}
		check(t, wh.Name, want, wh.ClientConfig, wh.Rules, wh.FailurePolicy, wh.SideEffects, wh.MatchPolicy,
			wh.TimeoutSeconds, wh.AdmissionReviewVersions, nsSelector(wh.NamespaceSelector))
		if wh.ReinvocationPolicy == nil || *wh.ReinvocationPolicy != admissionregistrationv1.IfNeededReinvocationPolicy {
			t.Errorf("%s: reinvocationPolicy %v, want IfNeeded", wh.Name, wh.ReinvocationPolicy)
		}
	}
	for _, name := range []string{hooks.Validating.Name, hooks.Mutating.Name} {
		if name != "gatewarden" {
			t.Errorf("webhook configuration named %q, want gatewarden", name)
		}
	}
	if hooks.Validating.Annotations[injectCAAnnotation] == "" || hooks.Mutating.Annotations[injectCAAnnotation] == "" {
		t.Errorf("webhook configurations lack %s", injectCAAnnotation)
	}
}

func TestPointAt(t *testing.T) {
	hooks, err := RenderWebhookConfigurations(webhookDir(t))
	if err != nil {
		t.Fatal(err)
	}
	ca := []byte("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n")
	if err := hooks.PointAt("127.0.0.1", 19443, ca); err != nil {
		t.Fatal(err)
	}
	ccs := map[string]admissionregistrationv1.WebhookClientConfig{}
	for _, wh := range hooks.Validating.Webhooks {
		ccs[wh.Name] = wh.ClientConfig
		if wh.NamespaceSelector == nil {
			t.Errorf("%s: namespaceSelector dropped", wh.Name)
		}
	}
	for _, wh := range hooks.Mutating.Webhooks {
		ccs[wh.Name] = wh.ClientConfig
	}
	for name, want := range map[string]string{
		"validate-httproutes.gatewarden.dev": "https://127.0.0.1:19443/validate-httproute",
		"mutate-gateways.gatewarden.dev":     "https://127.0.0.1:19443/mutate-gateway",
	} {
		cc := ccs[name]
		if cc.URL == nil || *cc.URL != want || cc.Service != nil || string(cc.CABundle) != string(ca) {
			t.Errorf("%s: clientConfig url=%v service=%v caBundle=%q, want url %s and the CA", name, cc.URL, cc.Service, cc.CABundle, want)
		}
	}
	if _, ok := hooks.Validating.Annotations[injectCAAnnotation]; ok {
		t.Errorf("validating configuration keeps %s", injectCAAnnotation)
	}
	if _, ok := hooks.Mutating.Annotations[injectCAAnnotation]; ok {
		t.Errorf("mutating configuration keeps %s", injectCAAnnotation)
	}
}

func nsSelector(sel *metav1.LabelSelector) string {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return err.Error()
	}
	return s.String()
}
