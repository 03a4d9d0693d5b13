package policy

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// grantAllows tells whether one of grants (all in ref's target namespace) permits a
// reference from a kind in fromNamespace to ref (GEP-709): a `from` entry must match the
// referrer's group, kind and namespace, and a `to` entry the target's group, kind and, when
// the entry names one, name.
func grantAllows(grants []*gwv1.ReferenceGrant, fromKind gwv1.Kind, fromNamespace string, ref Ref) bool {
	for _, g := range grants {
		if g.DeletionTimestamp != nil {
			continue
		}
		fromOK := false
		for _, f := range g.Spec.From {
			if f.Group == Group && f.Kind == fromKind && string(f.Namespace) == fromNamespace {
				fromOK = true
				break
			}
		}
		if !fromOK {
			continue
		}
		for _, t := range g.Spec.To {
			if t.Group == ref.Group && t.Kind == ref.Kind && (t.Name == nil || *t.Name == "" || string(*t.Name) == ref.Name) {
				return true
			}
		}
	}
	return false
}

// grantCache reads each namespace's ReferenceGrants once per validation. A Route's
// references leave for one or two namespaces: a short slice serves them without the cost
// of a map, which takes over past a few namespaces (a Gateway's certificateRefs may name
// hundreds).
type grantCache struct {
	lk     Lookup
	loaded []namespaceGrants
	byNS   map[string][]*gwv1.ReferenceGrant
}

type namespaceGrants struct {
	namespace string
	grants    []*gwv1.ReferenceGrant
}

// grantCacheSlice is how many namespaces the slice holds before the map takes over.
const grantCacheSlice = 8

func newGrantCache(lk Lookup) *grantCache { return &grantCache{lk: lk} }

func (c *grantCache) get(ctx context.Context, namespace string) ([]*gwv1.ReferenceGrant, error) {
	if c.byNS != nil {
		if grants, ok := c.byNS[namespace]; ok {
			return grants, nil
		}
	} else {
		for _, l := range c.loaded {
			if l.namespace == namespace {
				return l.grants, nil
			}
		}
	}
	grants, err := c.lk.ReferenceGrants(ctx, namespace)
	if err != nil {
		return nil, err
	}
	switch {
	case c.byNS != nil:
		c.byNS[namespace] = grants
	case len(c.loaded) < grantCacheSlice:
		c.loaded = append(c.loaded, namespaceGrants{namespace, grants})
	default:
		c.byNS = make(map[string][]*gwv1.ReferenceGrant, 2*grantCacheSlice)
		for _, l := range c.loaded {
			c.byNS[l.namespace] = l.grants
		}
		c.byNS[namespace] = grants
		c.loaded = nil
	}
	return grants, nil
}

// crossNamespace tells whether ref leaves its referrer's namespace.
func crossNamespace(r *Referrer, ref Ref) bool {
	return ref.Namespace != "" && ref.Namespace != r.Namespace
}

// validateRefs reports every reference of r into another namespace that no ReferenceGrant
// permits. It never looks at the target itself, so its message cannot tell whether the
// target exists.
func validateRefs(ctx context.Context, lk Lookup, r *Referrer, old *Referrer, v *Violations) error {
	grants := newGrantCache(lk)
	for _, ref := range r.Refs {
		if !crossNamespace(r, ref) {
			continue
		}
		inNS, err := grants.get(ctx, ref.Namespace)
		if err != nil {
			return err
		}
		if grantAllows(inNS, r.Kind, r.Namespace, ref) {
			continue
		}
		viol := v.add(RuleRefNotPermitted, field.Forbidden(ref.Path, fmt.Sprintf(
			"%s to %s %q in namespace %q is not permitted: no ReferenceGrant in namespace %q allows references from %s in namespace %q; the owner of namespace %q can allow it with: %s",
			ref.What, ref.Kind, ref.Name, ref.Namespace, ref.Namespace, r.Kind, r.Namespace, ref.Namespace, GrantSnippet(r, ref))))
		viol.Ratcheted = old != nil && old.hasRef(ref)
	}
	return nil
}

func (r *Referrer) hasRef(ref Ref) bool {
	for _, o := range r.Refs {
		if o.Group == ref.Group && o.Kind == ref.Kind && o.Namespace == ref.Namespace && o.Name == ref.Name {
			return true
		}
	}
	return false
}

// GrantSnippet returns a ReferenceGrant, as one line of YAML ready for `kubectl apply -f -`,
// that permits ref from r and nothing more.
func GrantSnippet(r *Referrer, ref Ref) string {
	name := strings.ToLower(fmt.Sprintf("allow-%s-%s-to-%s", r.Namespace, r.Kind, ref.Kind))
	return fmt.Sprintf(`{apiVersion: gateway.networking.k8s.io/v1, kind: ReferenceGrant, metadata: {name: %s, namespace: %s}, spec: {from: [{group: %s, kind: %s, namespace: %s}], to: [{group: %q, kind: %s, name: %s}]}}`,
		name, ref.Namespace, Group, r.Kind, r.Namespace, ref.Group, ref.Kind, ref.Name)
}

// MaxListed bounds how many affected objects a warning names before it gives a count.
const MaxListed = 10

// ValidateReferenceGrantChange reports the existing references that an UPDATE (newGrant set)
// or DELETE (newGrant nil) of oldGrant leaves unpermitted, counted per referrer kind and
// namespace. Names are left out: a grant's owner may not be allowed to see the referrers'
// namespaces, and the namespaces come from the grant itself.
func ValidateReferenceGrantChange(ctx context.Context, lk Lookup, newGrant, oldGrant *gwv1.ReferenceGrant) (Violations, error) {
	var v Violations
	ns := oldGrant.Namespace
	current, err := lk.ReferenceGrants(ctx, ns)
	if err != nil {
		return nil, err
	}
	var before, after []*gwv1.ReferenceGrant
	for _, g := range current {
		if g.Name != oldGrant.Name {
			before, after = append(before, g), append(after, g)
		}
	}
	before = append(before, oldGrant)
	if newGrant != nil {
		after = append(after, newGrant)
	}
	referrers, err := lk.ReferrersInto(ctx, ns)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, r := range referrers {
		for _, ref := range r.Refs {
			if ref.Namespace != ns || !crossNamespace(r, ref) {
				continue
			}
			if grantAllows(before, r.Kind, r.Namespace, ref) && !grantAllows(after, r.Kind, r.Namespace, ref) {
				counts[fmt.Sprintf("%s in namespace %q", r.Kind, r.Namespace)]++
			}
		}
	}
	if len(counts) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(counts))
	total := 0
	for k, n := range counts {
		keys = append(keys, k)
		total += n
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d from %s", counts[k], k))
	}
	verb := "this change"
	fldPath := field.NewPath("spec")
	if newGrant == nil {
		verb = "deleting this ReferenceGrant"
		fldPath = field.NewPath("metadata", "name")
	}
	v.add(RuleGrantRevokesReferences, field.Forbidden(fldPath, fmt.Sprintf(
		"%s leaves %d existing reference(s) into namespace %q unpermitted (%s); their owners lose those backends or certificates until another ReferenceGrant permits them",
		verb, total, ns, strings.Join(parts, ", "))))
	return v, nil
}
