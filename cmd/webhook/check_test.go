package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRunCheckExitCodes drives `webhook check` as a CI pipeline would: the exit code says
// clean (0), violations (1) or a usage or input error (2), and errors name what is wrong.
func TestRunCheckExitCodes(t *testing.T) {
	cases := map[string]struct {
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		"clean folder":             {args: []string{"-f", "../../examples/seed"}, wantCode: 0, wantStdout: "2 object(s) checked: 0 denied, 0 warned, 0 audited"},
		"violation":                {args: []string{"-f", "../../examples/seed", "-f", "../../examples/denied/route-without-grant.yaml"}, wantCode: 1, wantStdout: "deny ref-not-permitted"},
		"order does not matter":    {args: []string{"-f", "../../examples/seed/04-httproute.yaml", "-f", "../../examples/seed/01-namespaces.yaml", "-f", "../../examples/seed/03-referencegrant.yaml", "-f", "../../examples/seed/02-gateway.yaml"}, wantCode: 0},
		"warning only exits 0":     {args: []string{"-f", "-"}, stdin: "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec: {parentRefs: [{name: later}]}\n", wantCode: 0, wantStdout: "-:1: document 0: HTTPRoute default/r: warn route-parent-not-found"},
		"sarif":                    {args: []string{"-o", "sarif", "-f", "../../examples/denied/route-from-dev.yaml", "-f", "../../examples/seed"}, wantCode: 1, wantStdout: `"ruleId": "route-not-allowed-by-listeners"`},
		"parse error names line":   {args: []string{"-f", "-"}, stdin: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: [\n", wantCode: 2, wantStderr: "check: -: line 5 (document 1): yaml: line 1: did not find expected node content"},
		"missing file":             {args: []string{"-f", "missing.yaml"}, wantCode: 2, wantStderr: "check: stat missing.yaml: no such file or directory"},
		"no input":                 {args: nil, wantCode: 2, wantStderr: "Usage: webhook check -f"},
		"unknown format":           {args: []string{"-f", "-", "-o", "xml"}, wantCode: 2, wantStderr: `check: -o "xml": use text, json or sarif`},
		"unknown flag":             {args: []string{"--frobnicate"}, wantCode: 2, wantStderr: "flag provided but not defined: -frobnicate"},
		"bad configuration":        {args: []string{"-f", "-", "--config", "check_test.go"}, wantCode: 2, wantStderr: "check: configuration:"},
		"unknown Gateway API kind": {args: []string{"-f", "-"}, stdin: "apiVersion: gateway.networking.k8s.io/v1\nkind: Mesh\nmetadata: {name: m}\n", wantCode: 2, wantStderr: "kind Mesh is not one Gatewarden reads"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runCheck(context.Background(), tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantStdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, stderr.String())
			}
		})
	}
}
