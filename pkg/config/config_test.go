package config

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"gatewarden.dev/gatewarden/pkg/policy"
)

func TestParse(t *testing.T) {
	const head = "apiVersion: config.gatewarden.dev/v1alpha1\nkind: GatewardenConfiguration\n"
	cases := map[string]struct {
		in      string
		wantErr string
	}{
		"empty file keeps defaults": {in: head},
		"actions by rule":           {in: head + "rules: {ref-not-permitted: Warn, route-parent-not-found: Audit}"},
		"unknown field":             {in: head + "rule: {}", wantErr: `unknown field "rule"`},
		"unknown rule":              {in: head + "rules: {no-such-rule: Deny}", wantErr: `unknown rule ID "no-such-rule"`},
		"unknown action":            {in: head + "rules: {ref-not-permitted: Block}", wantErr: `unknown action "Block"`},
		"wrong kind":                {in: "apiVersion: v1\nkind: ConfigMap\n", wantErr: "apiVersion/kind must be"},
		"bad dry-run mode":          {in: head + "dryRunDenials: Audit", wantErr: `dryRunDenials: "Audit"`},
		"bad selector":              {in: head + "exemptNamespaceSelector: {matchExpressions: [{key: a, operator: Near}]}", wantErr: "exemptNamespaceSelector"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestActionsAndExemptions(t *testing.T) {
	c, err := Parse([]byte(`{apiVersion: config.gatewarden.dev/v1alpha1, kind: GatewardenConfiguration,
  rules: {ref-not-permitted: Warn}, exemptNamespaces: [conformance], exemptNamespaceSelector: {matchLabels: {skip: "yes"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[policy.RuleID]policy.Action{
		policy.RuleRefNotPermitted:       policy.ActionWarn,
		policy.RuleNotAllowedByListeners: policy.ActionDeny,
		policy.RuleParentNotFound:        policy.ActionWarn,
	} {
		if got := c.Action(id); got != want {
			t.Errorf("Action(%s) = %s, want %s", id, got, want)
		}
	}
	for ns, want := range map[string]bool{"kube-system": true, "gatewarden-system": true, "conformance": true, "prod": false} {
		if got := c.ExemptByName(ns); got != want {
			t.Errorf("ExemptByName(%s) = %v, want %v", ns, got, want)
		}
	}
	if !c.ExemptByLabels(labels.Set{"skip": "yes"}) || c.ExemptByLabels(labels.Set{"skip": "no"}) {
		t.Error("exemptNamespaceSelector does not select by labels")
	}
	if d := Default(); d.HasExemptSelector() || d.ExemptByLabels(labels.Set{}) {
		t.Error("the default configuration exempts namespaces by labels")
	}
}
