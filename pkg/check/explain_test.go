package check

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatewarden.dev/gatewarden/pkg/config"
)

// TestExplainSeedWithPolicies explains the seed scenario with examples/policy applied: a
// Gateway default (request 15s) for a Route that sets nothing, under the GatewayClass
// override (maximum 60s, no 0s). Table, JSON and DOT outputs are golden files in
// testdata/explain.golden (UPDATE_GOLDEN=1 rewrites them).
func TestExplainSeedWithPolicies(t *testing.T) {
	sources, err := ReadSources([]string{"../../examples/seed", "../../examples/policy"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	exps, err := Explain(context.Background(), sources, nil, config.Default(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 1 || len(exps[0].Timeouts) != 1 {
		t.Fatalf("want one Route with one rule through one Gateway, have %+v", exps)
	}
	got := exps[0].Timeouts[0]
	if got.Request.Value != "15s" || got.Request.Origin.Policy != "infra/prod-web-defaults" || got.Request.Origin.Block != "default" {
		t.Errorf("request = %+v, want 15s from the Gateway default infra/prod-web-defaults", got.Request)
	}
	if got.Maximum.Value != "60s" || got.AllowNoTimeout.Value != "false" || got.Maximum.Origin.AttachedTo != "GatewayClass example" {
		t.Errorf("bounds = %+v / %+v, want 60s and false from the GatewayClass override", got.Maximum, got.AllowNoTimeout)
	}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"table.txt": func(b *bytes.Buffer) error { return WriteExplainTable(b, exps) },
		"out.json":  func(b *bytes.Buffer) error { return WriteExplainJSON(b, exps) },
		"graph.dot": func(b *bytes.Buffer) error { return WriteExplainDOT(b, exps) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "explain.golden", name)
		if updateGolden {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (UPDATE_GOLDEN=1 creates it)", err)
		}
		if diff := cmp.Diff(string(want), b.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}
}
