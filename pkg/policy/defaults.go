package policy

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// NeedsDefaults tells whether any listener lacks allowedRoutes.namespaces.from or kinds, so
// that the caller can skip the GatewayClass lookup when there is nothing to fill.
func NeedsDefaults(listeners []gwv1.Listener) bool {
	for _, l := range listeners {
		ar := l.AllowedRoutes
		if ar == nil || ar.Namespaces == nil || ar.Namespaces.From == nil {
			return true
		}
		if _, known := compatibleKinds(l.Protocol); known && len(ar.Kinds) == 0 {
			return true
		}
	}
	return false
}

// SetListenerDefaults fills each listener's allowedRoutes where unset: namespaces.from Same,
// and kinds with those its protocol supports, limited to the Route kinds class declares in
// status.supportedFeatures when it declares any (listing a kind the implementation lacks
// would make it report InvalidRouteKinds). class may be nil. Set fields are never changed,
// so applying it twice changes nothing more. It reports whether it changed anything.
func SetListenerDefaults(listeners []gwv1.Listener, class *gwv1.GatewayClass) bool {
	changed := false
	for i := range listeners {
		l := &listeners[i]
		if l.AllowedRoutes == nil {
			l.AllowedRoutes = &gwv1.AllowedRoutes{}
			changed = true
		}
		ar := l.AllowedRoutes
		if ar.Namespaces == nil {
			ar.Namespaces = &gwv1.RouteNamespaces{}
			changed = true
		}
		if ar.Namespaces.From == nil {
			from := gwv1.NamespacesFromSame
			ar.Namespaces.From = &from
			changed = true
		}
		if len(ar.Kinds) > 0 {
			continue
		}
		for _, k := range supportedKinds(l.Protocol, class) {
			group := Group
			ar.Kinds = append(ar.Kinds, gwv1.RouteGroupKind{Group: &group, Kind: k})
			changed = true
		}
	}
	return changed
}

// supportedKinds returns the kinds compatible with protocol that class supports.
func supportedKinds(protocol gwv1.ProtocolType, class *gwv1.GatewayClass) []gwv1.Kind {
	compatible, _ := compatibleKinds(protocol)
	if class == nil || len(class.Status.SupportedFeatures) == 0 {
		return compatible
	}
	var kinds []gwv1.Kind
	for _, k := range compatible {
		for _, f := range class.Status.SupportedFeatures {
			if string(f.Name) == string(k) {
				kinds = append(kinds, k)
				break
			}
		}
	}
	return kinds
}

// ListenerSetListeners returns a ListenerSet's listeners as Listeners, for the functions
// that serve Gateways and ListenerSets alike.
func ListenerSetListeners(ls *gwv1.ListenerSet) []gwv1.Listener {
	return parentFromListenerSet(ls).Listeners
}

// SetListenerSetListeners writes listeners back into ls.
func SetListenerSetListeners(ls *gwv1.ListenerSet, listeners []gwv1.Listener) {
	for i := range listeners {
		ls.Spec.Listeners[i] = gwv1.ListenerEntry(listeners[i])
	}
}
