package install

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"gatewarden.dev/gatewarden/pkg/config"
	"gatewarden.dev/gatewarden/pkg/policy"
)

// TestInstallDocsWarnFirst loads the "Warn first" configuration of docs/install.md the
// way the server would and checks that it really turns every Deny into a warning: a rule
// added later with default Deny must be added to the document too.
func TestInstallDocsWarnFirst(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "install.md"))
	if err != nil {
		t.Fatal(err)
	}
	var found string
	for _, block := range strings.Split(string(data), "```yaml\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if strings.Contains(block, "kind: GatewardenConfiguration") && strings.Contains(block, ": Warn") {
			found = dedent(block)
			break
		}
	}
	if found == "" {
		t.Fatal("docs/install.md has no Warn-first GatewardenConfiguration")
	}
	cfg, err := config.Parse([]byte(found))
	if err != nil {
		t.Fatalf("the Warn-first configuration does not load: %v\n%s", err, found)
	}
	for _, r := range policy.Rules {
		if r.DefaultAction == policy.ActionDeny && cfg.Action(r.ID) == policy.ActionDeny {
			t.Errorf("rule %s still denies in the Warn-first configuration", r.ID)
		}
	}
}

// dedent removes the indentation of the first line from every line (Markdown list items
// indent their code blocks).
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	indent := len(lines[0]) - len(strings.TrimLeft(lines[0], " "))
	for i, l := range lines {
		if len(l) >= indent && strings.TrimSpace(l[:indent]) == "" {
			lines[i] = l[indent:]
		}
	}
	return strings.Join(lines, "\n")
}

// TestInstallDocsWebhookIndexes checks the webhook indexes docs/install.md tells overlays
// to patch: the fail-closed validating webhooks come first (TestWebhookConfigurations
// checks that the Ignore one is last), and every webhook is counted.
func TestInstallDocsWebhookIndexes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "install.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(string(data)), " ")
	objs := buildBase(t)
	vwc := decode[admissionregistrationv1.ValidatingWebhookConfiguration](t, objs.one(t, "ValidatingWebhookConfiguration", ""))
	mwc := decode[admissionregistrationv1.MutatingWebhookConfiguration](t, objs.one(t, "MutatingWebhookConfiguration", ""))
	failing := 0
	for _, wh := range vwc.Webhooks {
		if wh.FailurePolicy != nil && *wh.FailurePolicy == admissionregistrationv1.Fail {
			failing++
		}
	}
	for _, want := range []string{
		fmt.Sprintf("one line per webhook index 0-%d", failing-1),
		fmt.Sprintf("(validating indexes 0-%d, mutating 0-%d)", len(vwc.Webhooks)-1, len(mwc.Webhooks)-1),
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/install.md lacks %q", want)
		}
	}
}
