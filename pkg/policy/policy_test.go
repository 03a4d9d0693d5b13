package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	policyv1a1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
)

var updateGolden = os.Getenv("UPDATE_GOLDEN") == "1"

// subjectAnnotation marks the document a case validates. On UPDATE, the world holds the old
// object of the same kind, namespace and name; on DELETE the subject itself is the old one.
const subjectAnnotation = "test.gatewarden.dev/subject"

// caseSpec is the "kind: Case" document of a world file: the operation and the expected
// violations (rule, error type and field path; the full messages live in the golden file).
type caseSpec struct {
	Operation string `json:"operation"`
	Want      []struct {
		Rule      RuleID `json:"rule"`
		Type      string `json:"type"`
		Field     string `json:"field"`
		Ratcheted bool   `json:"ratcheted"`
	} `json:"want"`
}

type worldCase struct {
	world   *World
	subject Object
	old     any
	spec    caseSpec
}

func loadCase(t *testing.T, path string) worldCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	objs, err := DecodeObjects(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := worldCase{world: &World{}}
	// Read the Case first: where its document stands in the file must not matter.
	for _, o := range objs {
		if o.GVK.Kind == "Case" {
			if err := yaml.UnmarshalStrict(stripTypeMeta(t, o.Raw), &c.spec); err != nil {
				t.Fatalf("%s: Case: %v", path, err)
			}
		}
	}
	var subjects []Object
	for _, o := range objs {
		if o.GVK.Kind == "Case" {
			continue
		}
		if strings.Contains(string(o.Raw), subjectAnnotation) {
			subjects = append(subjects, o)
			if c.spec.Operation != "DELETE" {
				continue
			}
		}
		c.world.Add(o)
	}
	if len(subjects) != 1 {
		t.Fatalf("%s: want exactly one document annotated %s, have %d", path, subjectAnnotation, len(subjects))
	}
	c.subject = subjects[0]
	if c.spec.Operation == "" {
		c.spec.Operation = "CREATE"
	}
	if c.spec.Operation != "CREATE" {
		c.old = findOld(c.world, c.subject)
		if c.old == nil {
			t.Fatalf("%s: %s needs the old %s %s in the world", path, c.spec.Operation, c.subject.GVK.Kind, c.subject.Name)
		}
	}
	return c
}

func stripTypeMeta(t *testing.T, raw []byte) []byte {
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "apiVersion")
	delete(m, "kind")
	out, _ := yaml.Marshal(m)
	return out
}

func namespaceOr(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

func findOld(w *World, subject Object) any {
	ns, name := namespaceOr(subject.Namespace), subject.Name
	switch subject.Value.(type) {
	case *gwv1.Gateway:
		if gw, err := w.Gateway(context.Background(), ns, name); err == nil {
			return gw
		}
	case *gwv1.ListenerSet:
		if ls, err := w.ListenerSet(context.Background(), ns, name); err == nil {
			return ls
		}
	case *gwv1.ReferenceGrant:
		for _, g := range w.Grants {
			if g.Namespace == ns && g.Name == name {
				return g
			}
		}
	case *policyv1a1.TimeoutPolicy:
		for _, p := range w.Policies {
			if p.Namespace == ns && p.Name == name {
				return p
			}
		}
	default:
		for _, r := range w.Routes {
			if string(r.Kind) == subject.GVK.Kind && r.Namespace == ns && r.Name == name {
				return r
			}
		}
	}
	return nil
}

// validateCase runs the rule entry point for the subject's kind.
func validateCase(ctx context.Context, c worldCase) (Violations, error) {
	switch o := c.subject.Value.(type) {
	case *gwv1.Gateway:
		o.Namespace = namespaceOr(o.Namespace)
		old, _ := c.old.(*gwv1.Gateway)
		return ValidateGateway(ctx, c.world, o, old)
	case *gwv1.ListenerSet:
		o.Namespace = namespaceOr(o.Namespace)
		old, _ := c.old.(*gwv1.ListenerSet)
		return ValidateListenerSet(ctx, c.world, o, old)
	case *gwv1.ReferenceGrant:
		o.Namespace = namespaceOr(o.Namespace)
		if c.spec.Operation == "DELETE" {
			return ValidateReferenceGrantChange(ctx, c.world, nil, o)
		}
		return ValidateReferenceGrantChange(ctx, c.world, o, c.old.(*gwv1.ReferenceGrant))
	case *policyv1a1.TimeoutPolicy:
		o.Namespace = namespaceOr(o.Namespace)
		old, _ := c.old.(*policyv1a1.TimeoutPolicy)
		return ValidateTimeoutPolicy(ctx, c.world, o, old, testTimeoutOptions)
	default:
		r := ReduceRoute(o)
		r.Namespace = namespaceOr(r.Namespace)
		old, _ := c.old.(*Route)
		v, err := ValidateRoute(ctx, c.world, r, old)
		if err != nil {
			return nil, err
		}
		tv, err := ValidateRouteTimeouts(ctx, c.world, r, old, testTimeoutOptions)
		return append(v, tv...), err
	}
}

// testTimeoutOptions are the TimeoutPolicy settings of the world tests: the default
// policy namespace.
var testTimeoutOptions = TimeoutOptions{PolicyNamespace: "gatewarden-system"}

// TestWorlds runs every testdata/<rule>/<case>.yaml: it checks the rule, type and field of
// each violation against the case's want list, and the full messages against <case>.golden
// (UPDATE_GOLDEN=1 rewrites the golden files).
func TestWorlds(t *testing.T) {
	files, err := filepath.Glob("testdata/*/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no world files: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "testdata/"), ".yaml")
		t.Run(name, func(t *testing.T) {
			c := loadCase(t, path)
			got, err := validateCase(context.Background(), c)
			if err != nil {
				t.Fatalf("validate: %v", err)
			}
			type brief struct {
				Rule      RuleID
				Type      string
				Field     string
				Ratcheted bool
			}
			var want, have []brief
			for _, w := range c.spec.Want {
				want = append(want, brief{w.Rule, w.Type, w.Field, w.Ratcheted})
			}
			for _, v := range got {
				have = append(have, brief{v.Rule, string(v.Err.Type), v.Err.Field, v.Ratcheted})
			}
			if diff := cmp.Diff(want, have); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
			checkGolden(t, strings.TrimSuffix(path, ".yaml")+".golden", render(got))
		})
	}
}

func render(v Violations) string {
	var b strings.Builder
	for _, x := range v {
		b.WriteString(string(x.Rule))
		if x.Ratcheted {
			b.WriteString(" (ratcheted)")
		}
		b.WriteString("\n  ")
		b.WriteString(x.Err.Error())
		b.WriteString("\n")
	}
	return b.String()
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("messages differ from %s (-want +got):\n%s", path, diff)
	}
}

// TestEveryRuleHasCases keeps the world table complete: every rule has a folder of cases
// with at least one that breaks it, and every folder is named after a rule.
func TestEveryRuleHasCases(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if _, ok := RuleByID(RuleID(filepath.Base(dir))); !ok {
			t.Errorf("%s is not named after a rule", dir)
		}
	}
	for _, r := range Rules {
		files, _ := filepath.Glob(filepath.Join("testdata", string(r.ID), "*.yaml"))
		denied := 0
		for _, f := range files {
			if !strings.HasPrefix(filepath.Base(f), "accepted-") {
				denied++
			}
		}
		if denied == 0 {
			t.Errorf("rule %s has no world case that breaks it", r.ID)
		}
	}
}
