package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"gatewarden.dev/gatewarden/pkg/policy"
)

// WriteText writes one block per finding for people: where (file, line, document), which
// object, the rule and action, and the message (which says how to fix it), then a summary.
func WriteText(w io.Writer, r Result) error {
	var b strings.Builder
	for _, f := range r.Findings {
		obj := f.Kind + " " + f.Name
		if f.Namespace != "" {
			obj = f.Kind + " " + f.Namespace + "/" + f.Name
		}
		fmt.Fprintf(&b, "%s:%d: document %d: %s: %s %s\n    %s\n", f.File, f.Line, f.Document, obj, strings.ToLower(string(f.Action)), f.Rule, f.Message)
	}
	counts := map[policy.Action]int{}
	for _, f := range r.Findings {
		counts[f.Action]++
	}
	fmt.Fprintf(&b, "%d object(s) checked: %d denied, %d warned, %d audited\n", r.Checked, counts[policy.ActionDeny], counts[policy.ActionWarn], counts[policy.ActionAudit])
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the result as one JSON document.
func WriteJSON(w io.Writer, r Result) error {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// SARIF 2.1.0, the subset code-scanning tools read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	Name             string       `json:"name"`
	ShortDescription sarifMessage `json:"shortDescription"`
	FullDescription  sarifMessage `json:"fullDescription"`
	HelpURI          string       `json:"helpUri"`
	DefaultConfig    struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region struct {
			StartLine int `json:"startLine"`
		} `json:"region"`
	} `json:"physicalLocation"`
	LogicalLocations []struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
	} `json:"logicalLocations"`
}

func sarifLevel(a policy.Action) string {
	switch a {
	case policy.ActionDeny:
		return "error"
	case policy.ActionWarn:
		return "warning"
	}
	return "note"
}

// WriteSARIF writes the result as a SARIF 2.1.0 log with every rule described.
func WriteSARIF(w io.Writer, r Result) error {
	driver := sarifDriver{Name: "gatewarden", InformationURI: "https://gatewarden.dev/docs/rules"}
	index := map[policy.RuleID]int{}
	for i, rule := range policy.Rules {
		sr := sarifRule{ID: string(rule.ID), Name: rule.Reason, ShortDescription: sarifMessage{rule.Reason + ": " + string(rule.ID)},
			FullDescription: sarifMessage{rule.Spec}, HelpURI: "https://gatewarden.dev/docs/rules#" + string(rule.ID)}
		sr.DefaultConfig.Level = sarifLevel(rule.DefaultAction)
		driver.Rules = append(driver.Rules, sr)
		index[rule.ID] = i
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	for _, f := range r.Findings {
		res := sarifResult{RuleID: string(f.Rule), RuleIndex: index[f.Rule], Level: sarifLevel(f.Action), Message: sarifMessage{f.Message}}
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation.URI = f.File
		loc.PhysicalLocation.Region.StartLine = max(f.Line, 1)
		name := f.Kind + "/" + f.Name
		if f.Namespace != "" {
			name = f.Kind + "/" + f.Namespace + "/" + f.Name
		}
		loc.LogicalLocations = append(loc.LogicalLocations, struct {
			FullyQualifiedName string `json:"fullyQualifiedName"`
		}{name + "." + f.Field})
		res.Locations = []sarifLocation{loc}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
