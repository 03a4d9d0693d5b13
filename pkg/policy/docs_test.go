package policy

import (
	"os"
	"strings"
	"testing"
)

// TestRulesDocumented keeps docs/rules.md and the rule table together: every rule has a
// section, its reason and its default action in the table.
func TestRulesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Rules {
		row := "| `" + string(r.ID) + "` | " + r.Reason + " | " + string(r.DefaultAction) + " |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/rules.md lacks the table row %q", row)
		}
		if !strings.Contains(string(doc), "### "+string(r.ID)) {
			t.Errorf("docs/rules.md lacks a section for %s", r.ID)
		}
	}
}
