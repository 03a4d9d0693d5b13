package check

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"gatewarden.dev/gatewarden/pkg/config"
	"gatewarden.dev/gatewarden/pkg/policy"
)

// Explanation is the effective timeouts of one Route, per rule and parent Gateway.
type Explanation struct {
	Kind      string                     `json:"kind"`
	Namespace string                     `json:"namespace"`
	Name      string                     `json:"name"`
	Timeouts  []policy.EffectiveTimeouts `json:"timeouts"`
}

// Explain computes the effective timeouts of every Route in sources (or only of the one
// named "Kind/namespace/name" by only), in the world of sources and cluster objects.
func Explain(ctx context.Context, sources []Source, cluster []policy.Object, cfg *config.Config, only string) ([]Explanation, error) {
	world, inSources := buildWorld(sources, cluster)
	var out []Explanation
	for _, r := range world.Routes {
		id := fmt.Sprintf("%s/%s/%s", r.Kind, r.Namespace, r.Name)
		if only != "" && id != only {
			continue
		}
		if only == "" && !inSources[objectKey{string(r.Kind), r.Namespace, r.Name}] {
			continue
		}
		eff, err := policy.ComputeEffectiveTimeouts(ctx, world, r, cfg.Timeouts)
		if err != nil {
			return nil, err
		}
		out = append(out, Explanation{Kind: string(r.Kind), Namespace: r.Namespace, Name: r.Name, Timeouts: eff})
	}
	if only != "" && len(out) == 0 {
		return nil, fmt.Errorf("no Route %s in the input", only)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Kind+"/"+out[i].Namespace+"/"+out[i].Name < out[j].Kind+"/"+out[j].Namespace+"/"+out[j].Name
	})
	return out, nil
}

func describe(v policy.Value) (string, string) {
	if !v.Set {
		return "-", "not set"
	}
	return v.Value, v.Origin.String()
}

// WriteExplainTable writes one table per Route: rule, Gateway, field, value, origin.
func WriteExplainTable(w io.Writer, exps []Explanation) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, e := range exps {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "%s %s/%s\n", e.Kind, e.Namespace, e.Name)
		if len(e.Timeouts) == 0 {
			fmt.Fprintln(tw, "  no parent Gateway exists: nothing is attached")
			continue
		}
		fmt.Fprintln(tw, "RULE\tGATEWAY\tFIELD\tVALUE\tFROM")
		for _, t := range e.Timeouts {
			rule := fmt.Sprint(t.Rule)
			if t.RuleName != "" {
				rule += " (" + t.RuleName + ")"
			}
			for _, f := range []struct {
				name string
				v    policy.Value
			}{{"request", t.Request}, {"backendRequest", t.BackendRequest}, {"maximum", t.Maximum}, {"allowNoTimeout", t.AllowNoTimeout}} {
				value, from := describe(f.v)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", rule, t.Gateway, f.name, value, from)
			}
			for _, c := range t.Conflicts {
				fmt.Fprintf(tw, "%s\t%s\tconflict\t%s.%s\t%s wins over %s on %s\n", rule, t.Gateway, c.Block, c.Field, c.Winner, c.Loser, c.Target)
			}
		}
	}
	return tw.Flush()
}

// WriteExplainJSON writes the explanations as JSON.
func WriteExplainJSON(w io.Writer, exps []Explanation) error {
	if exps == nil {
		exps = []Explanation{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(exps)
}

// WriteExplainDOT writes the attachment hierarchy as a Graphviz graph: GatewayClass ->
// Gateway -> Route -> rule, with each policy that supplies a value pointing at the object
// it is attached to, the edge labelled with the fields it supplies.
func WriteExplainDOT(w io.Writer, exps []Explanation) error {
	var b strings.Builder
	b.WriteString("digraph timeouts {\n  rankdir=TB;\n  node [shape=box, fontname=\"sans-serif\"];\n")
	nodes := map[string]bool{}
	edges := map[string]bool{}
	node := func(id, label, shape string) {
		if !nodes[id] {
			nodes[id] = true
			fmt.Fprintf(&b, "  %q [label=%q, shape=%s];\n", id, label, shape)
		}
	}
	edge := func(from, to, label, style string) {
		key := from + "->" + to + label
		if !edges[key] {
			edges[key] = true
			fmt.Fprintf(&b, "  %q -> %q [label=%q, style=%s];\n", from, to, label, style)
		}
	}
	for _, e := range exps {
		route := fmt.Sprintf("%s %s/%s", e.Kind, e.Namespace, e.Name)
		node(route, route, "box")
		for _, t := range e.Timeouts {
			class := "GatewayClass " + t.GatewayClass
			gw := "Gateway " + t.Gateway
			rule := fmt.Sprintf("%s rule %d", route, t.Rule)
			node(class, class, "box")
			node(gw, gw, "box")
			node(rule, fmt.Sprintf("rule %d\nrequest=%s backendRequest=%s", t.Rule, valueOrDash(t.Request), valueOrDash(t.BackendRequest)), "ellipse")
			edge(class, gw, "", "solid")
			edge(gw, route, "", "solid")
			edge(route, rule, "", "solid")
			for _, f := range []struct {
				name string
				v    policy.Value
			}{{"request", t.Request}, {"backendRequest", t.BackendRequest}, {"maximum", t.Maximum}, {"allowNoTimeout", t.AllowNoTimeout}} {
				if !f.v.Set || f.v.Origin.Policy == "" {
					continue
				}
				p := "TimeoutPolicy " + f.v.Origin.Policy
				node(p, p, "note")
				edge(p, f.v.Origin.AttachedTo, f.v.Origin.Block+" "+f.name+"="+f.v.Value, "dashed")
				node(f.v.Origin.AttachedTo, f.v.Origin.AttachedTo, "box")
			}
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func valueOrDash(v policy.Value) string {
	if !v.Set {
		return "-"
	}
	return v.Value
}
