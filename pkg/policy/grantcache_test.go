package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// countingLookup counts ReferenceGrants reads per namespace.
type countingLookup struct {
	Lookup
	reads map[string]int
}

func (c *countingLookup) ReferenceGrants(ctx context.Context, namespace string) ([]*gwv1.ReferenceGrant, error) {
	c.reads[namespace]++
	return c.Lookup.ReferenceGrants(ctx, namespace)
}

// TestGrantsReadOncePerNamespace checks that a Route with references into more namespaces
// than the grant cache's slice holds reads each namespace's grants once, and that each
// reference is judged by its own namespace's grants, before and after the map takes over.
func TestGrantsReadOncePerNamespace(t *testing.T) {
	const namespaces = 3 * grantCacheSlice
	var docs, refs []string
	var want []string
	for i := range namespaces {
		ns := fmt.Sprintf("ns-%02d", i)
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}", ns))
		if i%3 != 0 {
			docs = append(docs, fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: from-app, namespace: %s}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: app}]
  to: [{group: "", kind: Service}]`, ns))
		}
		// Twice each, out of order: the second reference must hit the cache.
		refs = append(refs, fmt.Sprintf("{name: svc, namespace: %s, port: 80}", ns))
	}
	for i := range namespaces {
		refs = append(refs, fmt.Sprintf("{name: svc, namespace: ns-%02d, port: 80}", namespaces-1-i))
	}
	for j, ref := range refs {
		var i int
		fmt.Sscanf(ref[strings.Index(ref, "ns-")+3:], "%d", &i)
		if i%3 == 0 {
			want = append(want, fmt.Sprintf("spec.rules[0].backendRefs[%d]", j))
		}
	}
	docs = append(docs, "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}",
		"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: app}\nspec:\n  rules:\n  - backendRefs: ["+strings.Join(refs, ", ")+"]")
	objs, err := DecodeObjects(strings.NewReader(strings.Join(docs, "\n---\n")))
	if err != nil {
		t.Fatal(err)
	}
	w := &World{}
	var route *Route
	for _, o := range objs {
		w.Add(o)
		if r := ReduceRoute(o.Value); r != nil {
			route = r
		}
	}
	lk := &countingLookup{Lookup: w, reads: map[string]int{}}
	v, err := ValidateRoute(context.Background(), lk, route, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range v {
		if x.Rule == RuleRefNotPermitted {
			got = append(got, x.Err.Field)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("references denied:\n got %v\nwant %v", got, want)
	}
	for ns, n := range lk.reads {
		if n != 1 {
			t.Errorf("grants of %s read %d times, want once", ns, n)
		}
	}
	if len(lk.reads) != namespaces {
		t.Errorf("grants read in %d namespaces, want %d", len(lk.reads), namespaces)
	}
}
