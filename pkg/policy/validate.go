package policy

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// parentKey returns the group, kind and namespace of a parentRef with its defaults
// applied (group gateway.networking.k8s.io, kind Gateway, the Route's namespace).
func parentKey(ref gwv1.ParentReference, routeNamespace string) (gwv1.Group, gwv1.Kind, string) {
	group, kind, ns := Group, KindGateway, routeNamespace
	if ref.Group != nil {
		group = *ref.Group
	}
	if ref.Kind != nil {
		kind = *ref.Kind
	}
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	return group, kind, ns
}

// getParent reads the Gateway or ListenerSet a parentRef names; nil without error when it
// does not exist.
func getParent(ctx context.Context, lk Lookup, kind gwv1.Kind, namespace, name string) (*parent, error) {
	switch kind {
	case KindGateway:
		gw, err := lk.Gateway(ctx, namespace, name)
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return parentFromGateway(gw), nil
	case KindListenerSet:
		ls, err := lk.ListenerSet(ctx, namespace, name)
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return parentFromListenerSet(ls), nil
	}
	return nil, nil
}

// ValidateRoute checks a Route of any kind: that each parentRef to a Gateway or ListenerSet
// attaches (NoMatchingParent, NotAllowedByListeners, NoMatchingListenerHostname), and that
// every reference into another namespace is permitted by a ReferenceGrant (RefNotPermitted).
// ParentRefs to other kinds (a Service, for mesh) are not judged. On UPDATE old is the Route
// before the change and violations of values it already had are marked Ratcheted.
func ValidateRoute(ctx context.Context, lk Lookup, route, old *Route) (Violations, error) {
	var v Violations
	for i, ref := range route.ParentRefs {
		refPath := field.NewPath("spec", "parentRefs").Index(i)
		group, kind, ns := parentKey(ref, route.Namespace)
		if group != Group || (kind != KindGateway && kind != KindListenerSet) {
			continue
		}
		p, err := getParent(ctx, lk, kind, ns, string(ref.Name))
		if err != nil {
			return nil, err
		}
		if p == nil {
			err := field.NotFound(refPath.Child("name"), string(ref.Name))
			err.Detail = fmt.Sprintf("%s %s/%s does not exist (yet); the %s attaches once it is created. Check the name and namespace if it is not about to be created", kind, ns, ref.Name, route.Kind)
			v.add(RuleParentNotFound, err)
			continue
		}
		b, err := bindParentRef(ctx, lk, route, ref, p, refPath)
		if err != nil {
			return nil, err
		}
		if b.rule != "" {
			viol := v.add(b.rule, b.err)
			viol.Ratcheted = old != nil && slices.ContainsFunc(old.ParentRefs, func(o gwv1.ParentReference) bool { return reflect.DeepEqual(o, ref) }) &&
				(b.rule != RuleNoMatchingListenerHostname || slices.Equal(old.Hostnames, route.Hostnames))
		}
	}
	var oldRef *Referrer
	if old != nil {
		oldRef = &old.Referrer
	}
	if err := validateRefs(ctx, lk, &route.Referrer, oldRef, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// validateListeners checks what one Gateway or ListenerSet alone can tell about its
// listeners and the CRD's CEL rules do not: allowedRoutes.kinds its protocol cannot serve
// (InvalidRouteKinds) and a Selector without a selector.
func validateListeners(listeners, old []gwv1.Listener, fldPath *field.Path, v *Violations) {
	for i := range listeners {
		l := &listeners[i]
		lPath := fldPath.Index(i)
		var oldL *gwv1.Listener
		if j := slices.IndexFunc(old, func(o gwv1.Listener) bool { return o.Name == l.Name }); j >= 0 {
			oldL = &old[j]
		}
		if l.AllowedRoutes == nil {
			continue
		}
		ar := l.AllowedRoutes
		if compatible, known := compatibleKinds(l.Protocol); known {
			for j, rgk := range ar.Kinds {
				group := Group
				if rgk.Group != nil {
					group = *rgk.Group
				}
				if group == Group && slices.Contains(compatible, rgk.Kind) {
					continue
				}
				valid := make([]string, 0, len(compatible))
				for _, k := range compatible {
					valid = append(valid, string(k))
				}
				err := field.NotSupported(lPath.Child("allowedRoutes", "kinds").Index(j), fmt.Sprintf("%s/%s", group, rgk.Kind), valid)
				err.Detail = fmt.Sprintf("protocol %s cannot serve %s %s; %s", l.Protocol, group, rgk.Kind, err.Detail)
				viol := v.add(RuleInvalidRouteKinds, err)
				viol.Ratcheted = oldL != nil && oldL.Protocol == l.Protocol && oldL.AllowedRoutes != nil && slices.ContainsFunc(oldL.AllowedRoutes.Kinds, func(o gwv1.RouteGroupKind) bool { return reflect.DeepEqual(o, rgk) })
			}
		}
		if ns := ar.Namespaces; ns != nil && ns.From != nil && *ns.From == gwv1.NamespacesFromSelector && ns.Selector == nil {
			err := field.Required(lPath.Child("allowedRoutes", "namespaces", "selector"), "from: Selector admits the namespaces the selector matches; set a selector, or use from: Same or All")
			viol := v.add(RuleSelectorRequired, err)
			viol.Ratcheted = oldL != nil && reflect.DeepEqual(oldL.AllowedRoutes, l.AllowedRoutes)
		}
	}
}

// ValidateGateway checks a Gateway: its listeners, the ReferenceGrants for its certificate
// references, and on UPDATE (old set) the Routes its change would detach.
func ValidateGateway(ctx context.Context, lk Lookup, gw, old *gwv1.Gateway) (Violations, error) {
	var v Violations
	var oldListeners []gwv1.Listener
	var oldRef *Referrer
	if old != nil {
		oldListeners = old.Spec.Listeners
		oldRef = ReferrerFromGateway(old)
	}
	validateListeners(gw.Spec.Listeners, oldListeners, field.NewPath("spec", "listeners"), &v)
	if al := gw.Spec.AllowedListeners; al != nil && al.Namespaces != nil && al.Namespaces.From != nil &&
		*al.Namespaces.From == gwv1.NamespacesFromSelector && al.Namespaces.Selector == nil {
		v.add(RuleSelectorRequired, field.Required(field.NewPath("spec", "allowedListeners", "namespaces", "selector"),
			"from: Selector admits ListenerSets from the namespaces the selector matches; set a selector, or use from: Same or All"))
	}
	if err := validateRefs(ctx, lk, ReferrerFromGateway(gw), oldRef, &v); err != nil {
		return nil, err
	}
	if old != nil {
		if err := validateDetach(ctx, lk, parentFromGateway(gw), parentFromGateway(old), &v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// ValidateListenerSet checks a ListenerSet: that its Gateway admits it (allowedListeners,
// reason NotAllowed), its listeners, its certificate references, and on UPDATE the Routes
// its change would detach.
func ValidateListenerSet(ctx context.Context, lk Lookup, ls, old *gwv1.ListenerSet) (Violations, error) {
	var v Violations
	refPath := field.NewPath("spec", "parentRef")
	pr := ls.Spec.ParentRef
	ns := ls.Namespace
	if pr.Namespace != nil && *pr.Namespace != "" {
		ns = string(*pr.Namespace)
	}
	if (pr.Group == nil || *pr.Group == Group) && (pr.Kind == nil || *pr.Kind == KindGateway) {
		gw, err := lk.Gateway(ctx, ns, string(pr.Name))
		switch {
		case apierrors.IsNotFound(err):
			e := field.NotFound(refPath.Child("name"), string(pr.Name))
			e.Detail = fmt.Sprintf("Gateway %s/%s does not exist (yet); the ListenerSet attaches once it is created and admits it", ns, pr.Name)
			v.add(RuleListenerSetParentNotFound, e)
		case err != nil:
			return nil, err
		default:
			ok, err := gatewayAdmitsListenerSet(ctx, lk, gw, ls.Namespace)
			if err != nil {
				return nil, err
			}
			if !ok {
				viol := v.add(RuleListenerSetNotAllowed, field.Forbidden(refPath, fmt.Sprintf(
					"Gateway %s/%s does not admit ListenerSets from namespace %q (its spec.allowedListeners.namespaces is %s); ask its owner to admit this namespace",
					gw.Namespace, gw.Name, ls.Namespace, describeAllowedListeners(gw))))
				viol.Ratcheted = old != nil && reflect.DeepEqual(old.Spec.ParentRef, pr)
			}
		}
	}
	var oldListeners []gwv1.Listener
	var oldRef *Referrer
	if old != nil {
		oldListeners = parentFromListenerSet(old).Listeners
		oldRef = ReferrerFromListenerSet(old)
	}
	validateListeners(parentFromListenerSet(ls).Listeners, oldListeners, field.NewPath("spec", "listeners"), &v)
	if err := validateRefs(ctx, lk, ReferrerFromListenerSet(ls), oldRef, &v); err != nil {
		return nil, err
	}
	if old != nil {
		if err := validateDetach(ctx, lk, parentFromListenerSet(ls), parentFromListenerSet(old), &v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func allowedListenersFrom(gw *gwv1.Gateway) gwv1.FromNamespaces {
	if al := gw.Spec.AllowedListeners; al != nil && al.Namespaces != nil && al.Namespaces.From != nil {
		return *al.Namespaces.From
	}
	return gwv1.NamespacesFromNone
}

// describeAllowedListeners renders a Gateway's allowedListeners.namespaces for messages.
func describeAllowedListeners(gw *gwv1.Gateway) string {
	from := allowedListenersFrom(gw)
	switch {
	case gw.Spec.AllowedListeners == nil || gw.Spec.AllowedListeners.Namespaces == nil || gw.Spec.AllowedListeners.Namespaces.From == nil:
		return "unset, which admits none"
	case from == gwv1.NamespacesFromSame:
		return fmt.Sprintf("from: Same (%s)", gw.Namespace)
	case from == gwv1.NamespacesFromSelector && gw.Spec.AllowedListeners.Namespaces.Selector != nil:
		return "from: Selector " + metav1.FormatLabelSelector(gw.Spec.AllowedListeners.Namespaces.Selector)
	}
	return "from: " + string(from)
}

// gatewayAdmitsListenerSet applies Gateway.spec.allowedListeners, which defaults to None.
func gatewayAdmitsListenerSet(ctx context.Context, lk Lookup, gw *gwv1.Gateway, lsNamespace string) (bool, error) {
	switch allowedListenersFrom(gw) {
	case gwv1.NamespacesFromAll:
		return true, nil
	case gwv1.NamespacesFromSame:
		return gw.Namespace == lsNamespace, nil
	case gwv1.NamespacesFromSelector:
		return selectorMatchesNamespace(ctx, lk, gw.Spec.AllowedListeners.Namespaces.Selector, lsNamespace)
	}
	return false, nil
}

// validateDetach warns about the Routes attached to old that would no longer attach to p.
// Routes in the parent's own namespace are named; those elsewhere are counted, which is
// what the parent's status (attachedRoutes) already tells its readers.
func validateDetach(ctx context.Context, lk Lookup, p, old *parent, v *Violations) error {
	if reflect.DeepEqual(p.Listeners, old.Listeners) {
		return nil
	}
	routes, err := lk.RoutesForParent(ctx, p.Kind, p.Namespace, p.Name)
	if err != nil {
		return err
	}
	var named []string
	elsewhere := 0
	for _, route := range routes {
		for i, ref := range route.ParentRefs {
			group, kind, ns := parentKey(ref, route.Namespace)
			if group != Group || kind != p.Kind || ns != p.Namespace || string(ref.Name) != p.Name {
				continue
			}
			refPath := field.NewPath("spec", "parentRefs").Index(i)
			before, err := bindParentRef(ctx, lk, route, ref, old, refPath)
			if err != nil {
				return err
			}
			after, err := bindParentRef(ctx, lk, route, ref, p, refPath)
			if err != nil {
				return err
			}
			if before.rule != "" || after.rule == "" {
				continue
			}
			if route.Namespace == p.Namespace {
				named = append(named, fmt.Sprintf("%s %s (%s)", route.Kind, route.Name, after.rule))
			} else {
				elsewhere++
			}
		}
	}
	if len(named)+elsewhere == 0 {
		return nil
	}
	var parts []string
	if len(named) > MaxListed {
		parts = append(parts, strings.Join(named[:MaxListed], ", "), fmt.Sprintf("and %d more in namespace %q", len(named)-MaxListed, p.Namespace))
	} else if len(named) > 0 {
		parts = append(parts, strings.Join(named, ", "))
	}
	if elsewhere > 0 {
		parts = append(parts, fmt.Sprintf("%d parentRef(s) of Routes in other namespaces", elsewhere))
	}
	v.add(RuleDetachesRoutes, field.Forbidden(field.NewPath("spec", "listeners"), fmt.Sprintf(
		"this change detaches %d Route parentRef(s) attached today: %s", len(named)+elsewhere, strings.Join(parts, "; "))))
	return nil
}
