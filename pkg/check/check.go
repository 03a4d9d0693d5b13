// Package check runs Gatewarden's admission rules over manifests offline, as a CI step
// before they reach a cluster: the whole batch is one world, so a Route and the
// ReferenceGrant it needs pass together whatever their order.
package check

import (
	"context"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	policyv1a1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
	"gatewarden.dev/gatewarden/pkg/config"
	"gatewarden.dev/gatewarden/pkg/policy"
)

// Source is one input: a file (or "-" for standard input) and the objects it holds.
type Source struct {
	Name    string
	Objects []policy.Object
}

// Finding is one violation of one rule by one object.
type Finding struct {
	File       string        `json:"file"`
	Document   int           `json:"document"`
	Line       int           `json:"line"`
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Namespace  string        `json:"namespace,omitempty"`
	Name       string        `json:"name"`
	Rule       policy.RuleID `json:"rule"`
	Reason     string        `json:"reason"`
	Action     policy.Action `json:"action"`
	Field      string        `json:"field"`
	// Message is what the webhook would say: field, error type and detail.
	Message string `json:"message"`
}

// Result is the outcome of a check.
type Result struct {
	// Checked counts the objects the rules judged.
	Checked  int       `json:"checked"`
	Findings []Finding `json:"findings"`
}

// Exit codes of a check.
const (
	ExitClean      = 0
	ExitViolations = 1
	ExitError      = 2
)

// ExitCode is ExitViolations when a finding would be denied, else ExitClean: warnings and
// audit findings are reported but do not fail a pipeline.
func (r Result) ExitCode() int {
	for _, f := range r.Findings {
		if f.Action == policy.ActionDeny {
			return ExitViolations
		}
	}
	return ExitClean
}

type objectKey struct {
	kind, namespace, name string
}

func keyOf(o policy.Object) objectKey {
	ns := o.Namespace
	if ns == "" && o.GVK.Kind != "Namespace" && o.GVK.Kind != "GatewayClass" {
		ns = "default"
	}
	return objectKey{o.GVK.Kind, ns, o.Name}
}

// Run judges every Gateway API object of sources, as CREATEs, against a world made of all
// sources together and the cluster objects (may be nil): an object in the sources replaces
// the cluster's object of the same kind, namespace and name, as applying it would.
func Run(ctx context.Context, sources []Source, cluster []policy.Object, cfg *config.Config) (Result, error) {
	world, _ := buildWorld(sources, cluster)

	var res Result
	for _, src := range sources {
		for _, o := range src.Objects {
			v, judged, err := validate(ctx, world, o, cfg.Timeouts)
			if err != nil {
				return Result{}, fmt.Errorf("%s:%d: %s %s: %w", src.Name, o.Line, o.GVK.Kind, o.Name, err)
			}
			if !judged || exempt(cfg, world, namespaceOf(o)) {
				continue
			}
			res.Checked++
			for _, x := range v {
				r, _ := policy.RuleByID(x.Rule)
				res.Findings = append(res.Findings, Finding{
					File: src.Name, Document: o.Index, Line: o.Line,
					APIVersion: o.GVK.GroupVersion().String(), Kind: o.GVK.Kind, Namespace: namespaceOf(o), Name: o.Name,
					Rule: x.Rule, Reason: r.Reason, Action: cfg.Action(x.Rule), Field: x.Err.Field, Message: x.Err.Error(),
				})
			}
		}
	}
	// Deterministic output: by file, then position, then field and rule.
	sort.SliceStable(res.Findings, func(i, j int) bool {
		a, b := res.Findings[i], res.Findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Document < b.Document
	})
	return res, nil
}

// buildWorld makes one world of all sources and the cluster's objects, the sources'
// replacing the cluster's objects of the same kind, namespace and name; it also returns
// which objects came from the sources.
func buildWorld(sources []Source, cluster []policy.Object) (*policy.World, map[objectKey]bool) {
	world := &policy.World{}
	inSources := map[objectKey]bool{}
	for _, src := range sources {
		for i := range src.Objects {
			defaultNamespace(&src.Objects[i])
			inSources[keyOf(src.Objects[i])] = true
			world.Add(src.Objects[i])
		}
	}
	for _, o := range cluster {
		if !inSources[keyOf(o)] {
			world.Add(o)
		}
	}
	return world, inSources
}

// defaultNamespace puts a namespaced object without a namespace into "default", as
// kubectl apply would.
func defaultNamespace(o *policy.Object) {
	obj, ok := o.Value.(interface {
		GetNamespace() string
		SetNamespace(string)
	})
	if !ok || o.GVK.Kind == "GatewayClass" || obj.GetNamespace() != "" {
		return
	}
	obj.SetNamespace("default")
	o.Namespace = "default"
}

func namespaceOf(o policy.Object) string {
	if obj, ok := o.Value.(interface{ GetNamespace() string }); ok && obj.GetNamespace() != "" {
		return obj.GetNamespace()
	}
	return o.Namespace
}

func exempt(cfg *config.Config, w *policy.World, namespace string) bool {
	if namespace == "" {
		return false
	}
	if cfg.ExemptByName(namespace) {
		return true
	}
	return cfg.HasExemptSelector() && cfg.ExemptByLabels(labels.Set(w.Namespaces[namespace]))
}

// validate runs the rule entry point for the object's kind; judged is false for kinds no
// rule judges on creation (Namespaces, GatewayClasses, ReferenceGrants, other kinds).
func validate(ctx context.Context, w *policy.World, o policy.Object, timeouts policy.TimeoutOptions) (policy.Violations, bool, error) {
	switch v := o.Value.(type) {
	case *policyv1a1.TimeoutPolicy:
		res, err := policy.ValidateTimeoutPolicy(ctx, w, v, nil, timeouts)
		return res, true, err
	case *gwv1.Gateway:
		res, err := policy.ValidateGateway(ctx, w, v, nil)
		return res, true, err
	case *gwv1.ListenerSet:
		res, err := policy.ValidateListenerSet(ctx, w, v, nil)
		return res, true, err
	}
	if r := policy.ReduceRoute(o.Value); r != nil {
		res, err := policy.ValidateRoute(ctx, w, r, nil)
		if err != nil {
			return nil, true, err
		}
		tres, err := policy.ValidateRouteTimeouts(ctx, w, r, nil, timeouts)
		return append(res, tres...), true, err
	}
	return nil, false, nil
}
