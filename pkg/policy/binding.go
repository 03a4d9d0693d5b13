package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// parent is a Gateway or a ListenerSet that Routes attach to, reduced to its listeners.
// A parentRef to a Gateway selects only the Gateway's own listeners, never those of its
// ListenerSets; a parentRef to a ListenerSet selects only the ListenerSet's.
type parent struct {
	Kind      gwv1.Kind
	Namespace string
	Name      string
	Listeners []gwv1.Listener
}

func parentFromGateway(gw *gwv1.Gateway) *parent {
	return &parent{Kind: KindGateway, Namespace: gw.Namespace, Name: gw.Name, Listeners: gw.Spec.Listeners}
}

func parentFromListenerSet(ls *gwv1.ListenerSet) *parent {
	p := &parent{Kind: KindListenerSet, Namespace: ls.Namespace, Name: ls.Name}
	for _, l := range ls.Spec.Listeners {
		p.Listeners = append(p.Listeners, gwv1.Listener(l))
	}
	return p
}

func (p *parent) String() string { return fmt.Sprintf("%s %s/%s", p.Kind, p.Namespace, p.Name) }

// protocolKinds are the Route kinds compatible with each core protocol (Listener.protocol and
// the "Compatible Route kinds" table of the Gateway API spec).
var protocolKinds = map[gwv1.ProtocolType][]gwv1.Kind{
	gwv1.HTTPProtocolType:  {KindHTTPRoute, KindGRPCRoute},
	gwv1.HTTPSProtocolType: {KindHTTPRoute, KindGRPCRoute},
	gwv1.TLSProtocolType:   {KindTLSRoute},
	gwv1.TCPProtocolType:   {KindTCPRoute},
	gwv1.UDPProtocolType:   {KindUDPRoute},
}

// compatibleKinds returns the Route kinds a protocol supports; known is false for an
// implementation-specific protocol ("example.com/proto"), about which nothing can be said.
func compatibleKinds(protocol gwv1.ProtocolType) (kinds []gwv1.Kind, known bool) {
	kinds, known = protocolKinds[protocol]
	return kinds, known
}

// listenerAllowsKind tells whether a listener admits Routes of kind: an explicit
// allowedRoutes.kinds admits the kinds it lists that its protocol supports, an empty one
// every kind its protocol supports.
func listenerAllowsKind(l *gwv1.Listener, kind gwv1.Kind) bool {
	compatible, known := compatibleKinds(l.Protocol)
	if l.AllowedRoutes == nil || len(l.AllowedRoutes.Kinds) == 0 {
		return !known || slices.Contains(compatible, kind)
	}
	for _, rgk := range l.AllowedRoutes.Kinds {
		group := Group
		if rgk.Group != nil {
			group = *rgk.Group
		}
		if group == Group && rgk.Kind == kind && (!known || slices.Contains(compatible, kind)) {
			return true
		}
	}
	return false
}

// namespaceAllowed tells whether a listener of a parent in parentNS admits Routes from
// routeNS. allowedRoutes.namespaces.from defaults to Same; Selector is matched against the
// live labels of the Route's Namespace.
func namespaceAllowed(ctx context.Context, lk Lookup, ns *gwv1.RouteNamespaces, parentNS, routeNS string) (bool, error) {
	from := gwv1.NamespacesFromSame
	if ns != nil && ns.From != nil {
		from = *ns.From
	}
	switch from {
	case gwv1.NamespacesFromAll:
		return true, nil
	case gwv1.NamespacesFromSame:
		return parentNS == routeNS, nil
	case gwv1.NamespacesFromSelector:
		return selectorMatchesNamespace(ctx, lk, ns.Selector, routeNS)
	}
	return false, nil
}

func selectorMatchesNamespace(ctx context.Context, lk Lookup, sel *metav1.LabelSelector, namespace string) (bool, error) {
	if sel == nil {
		return false, nil
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		// An unparsable selector selects nothing; the Gateway's own validation reports it.
		return false, nil
	}
	nsLabels, err := lk.NamespaceLabels(ctx, namespace)
	if err != nil && !apierrors.IsNotFound(err) {
		return false, err
	}
	return selector.Matches(nsLabels), nil
}

// binding is the outcome of attaching one parentRef of a Route: the rule it breaks (empty
// when the Route attaches) and the error to report.
type binding struct {
	rule RuleID
	err  *field.Error
}

// bindParentRef decides whether route attaches to p through ref, in the order the Gateway
// API reports it: NoMatchingParent (sectionName/port), then NotAllowedByListeners (kind and
// namespace), then NoMatchingListenerHostname.
func bindParentRef(ctx context.Context, lk Lookup, route *Route, ref gwv1.ParentReference, p *parent, refPath *field.Path) (binding, error) {
	var matched []*gwv1.Listener
	for i := range p.Listeners {
		l := &p.Listeners[i]
		if ref.SectionName != nil && l.Name != *ref.SectionName {
			continue
		}
		if ref.Port != nil && l.Port != *ref.Port {
			continue
		}
		matched = append(matched, l)
	}
	if len(matched) == 0 {
		return noMatchingParent(ref, p, refPath), nil
	}

	var allowed []*gwv1.Listener
	for _, l := range matched {
		if !listenerAllowsKind(l, route.Kind) {
			continue
		}
		var ns *gwv1.RouteNamespaces
		if l.AllowedRoutes != nil {
			ns = l.AllowedRoutes.Namespaces
		}
		ok, err := namespaceAllowed(ctx, lk, ns, p.Namespace, route.Namespace)
		if err != nil {
			return binding{}, err
		}
		if ok {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		// Widening allowedRoutes cannot help when no matched listener's protocol serves the
		// kind (an HTTPRoute on a TCP listener): say so instead.
		fix := fmt.Sprintf("attach to a listener that does, or ask the owner of %s to admit it in allowedRoutes", p)
		if !slices.ContainsFunc(matched, func(l *gwv1.Listener) bool {
			compatible, known := compatibleKinds(l.Protocol)
			return !known || slices.Contains(compatible, route.Kind)
		}) {
			fix = fmt.Sprintf("no protocol of these listeners serves %s; attach to a listener whose protocol does", route.Kind)
		}
		return binding{rule: RuleNotAllowedByListeners, err: field.Forbidden(refPath, fmt.Sprintf(
			"no listener of %s%s admits kind %s from namespace %q: %s; %s",
			p, sectionSuffix(ref, ""), route.Kind, route.Namespace, describeAllowedRoutes(matched, p.Namespace), fix))}, nil
	}

	if !route.UsesHostnames() {
		return binding{}, nil
	}
	for _, l := range allowed {
		if listenerAcceptsHostnames(l.Hostname, route.Hostnames) {
			return binding{}, nil
		}
	}
	return binding{rule: RuleNoMatchingListenerHostname, err: field.Invalid(field.NewPath("spec", "hostnames"), route.Hostnames, fmt.Sprintf(
		"no hostname intersects the hostnames of the listeners of %s%s that admit this %s: %s; use a hostname those listeners serve",
		p, sectionSuffix(ref, "parentRefs["+refIndex(refPath)+"]"), route.Kind, describeHostnames(allowed)))}, nil
}

func noMatchingParent(ref gwv1.ParentReference, p *parent, refPath *field.Path) binding {
	names := make([]string, 0, len(p.Listeners))
	for _, l := range p.Listeners {
		names = append(names, fmt.Sprintf("%s (port %d)", l.Name, l.Port))
	}
	have := "it has no listeners"
	if len(names) > 0 {
		have = "its listeners are " + strings.Join(names, ", ")
	}
	if ref.SectionName != nil && !slices.ContainsFunc(p.Listeners, func(l gwv1.Listener) bool { return l.Name == *ref.SectionName }) {
		err := field.NotFound(refPath.Child("sectionName"), string(*ref.SectionName))
		err.Detail = fmt.Sprintf("%s has no listener named %q: %s; set sectionName to one of them", p, *ref.SectionName, have)
		return binding{rule: RuleNoMatchingParent, err: err}
	}
	if ref.Port == nil {
		// Only a parent without listeners gets here; the CRDs require one, but offline
		// checks read objects no API server has validated.
		return binding{rule: RuleNoMatchingParent, err: field.Invalid(refPath.Child("name"), string(ref.Name),
			fmt.Sprintf("%s has no listeners; attach to a parent that has one", p))}
	}
	if ref.SectionName != nil {
		// The named listener exists (checked above) but has another port.
		i := slices.IndexFunc(p.Listeners, func(l gwv1.Listener) bool { return l.Name == *ref.SectionName })
		return binding{rule: RuleNoMatchingParent, err: field.Invalid(refPath.Child("port"), *ref.Port,
			fmt.Sprintf("listener %q of %s has port %d, not %d; set port to %d or remove it", *ref.SectionName, p, p.Listeners[i].Port, *ref.Port, p.Listeners[i].Port))}
	}
	return binding{rule: RuleNoMatchingParent, err: field.Invalid(refPath.Child("port"), *ref.Port,
		fmt.Sprintf("%s has no listener with port %d: %s; set port to one of those or remove it", p, *ref.Port, have))}
}

// sectionSuffix describes how a parentRef narrows its parent, e.g. " (parentRefs[0],
// sectionName \"http\")"; first, when set, leads the list.
func sectionSuffix(ref gwv1.ParentReference, first string) string {
	var parts []string
	if first != "" {
		parts = append(parts, first)
	}
	if ref.SectionName != nil {
		parts = append(parts, fmt.Sprintf("sectionName %q", *ref.SectionName))
	}
	if ref.Port != nil {
		parts = append(parts, fmt.Sprintf("port %d", *ref.Port))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// refIndex recovers the index of a parentRef from its path, for messages only.
func refIndex(refPath *field.Path) string {
	s := refPath.String()
	return s[strings.LastIndex(s, "[")+1 : len(s)-1]
}

func describeAllowedRoutes(listeners []*gwv1.Listener, parentNS string) string {
	parts := make([]string, 0, len(listeners))
	for _, l := range listeners {
		from := gwv1.NamespacesFromSame
		if l.AllowedRoutes != nil && l.AllowedRoutes.Namespaces != nil && l.AllowedRoutes.Namespaces.From != nil {
			from = *l.AllowedRoutes.Namespaces.From
		}
		kinds := "any kind"
		if compatible, known := compatibleKinds(l.Protocol); known {
			var names []string
			for _, k := range compatible {
				if listenerAllowsKind(l, k) {
					names = append(names, string(k))
				}
			}
			kinds = strings.Join(names, ", ")
			if kinds == "" {
				kinds = "no kinds"
			}
		}
		where := string(from)
		switch from {
		case gwv1.NamespacesFromSame:
			where = fmt.Sprintf("Same (%s)", parentNS)
		case gwv1.NamespacesFromSelector:
			if sel := l.AllowedRoutes.Namespaces.Selector; sel != nil {
				where = "Selector " + metav1.FormatLabelSelector(sel)
			}
		}
		parts = append(parts, fmt.Sprintf("listener %q admits %s from namespaces %s", l.Name, kinds, where))
	}
	return strings.Join(parts, "; ")
}

func describeHostnames(listeners []*gwv1.Listener) string {
	parts := make([]string, 0, len(listeners))
	for _, l := range listeners {
		parts = append(parts, fmt.Sprintf("%s=%q", l.Name, *l.Hostname))
	}
	return strings.Join(parts, ", ")
}
