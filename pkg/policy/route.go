package policy

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Group is the API group of Gateway API objects.
const Group = gwv1.Group(gwv1.GroupName)

// Kinds of the objects the rules know.
const (
	KindGateway        gwv1.Kind = "Gateway"
	KindListenerSet    gwv1.Kind = "ListenerSet"
	KindHTTPRoute      gwv1.Kind = "HTTPRoute"
	KindGRPCRoute      gwv1.Kind = "GRPCRoute"
	KindTLSRoute       gwv1.Kind = "TLSRoute"
	KindTCPRoute       gwv1.Kind = "TCPRoute"
	KindUDPRoute       gwv1.Kind = "UDPRoute"
	KindReferenceGrant gwv1.Kind = "ReferenceGrant"
	KindService        gwv1.Kind = "Service"
	KindSecret         gwv1.Kind = "Secret"
)

// Ref is one reference from an object to another object, with the field that holds it.
// Namespace is empty for a reference within the referrer's namespace.
type Ref struct {
	Path      *field.Path
	Group     gwv1.Group
	Kind      gwv1.Kind
	Namespace string
	Name      string
	// What names the reference in messages, e.g. "backendRef" or "certificateRef".
	What string
}

// Referrer is an object that holds references, reduced to what the ReferenceGrant rules need.
type Referrer struct {
	Kind      gwv1.Kind
	Namespace string
	Name      string
	Refs      []Ref
}

// Route is a Route of any kind, reduced to what the binding and reference rules need.
// One set of rules serves every Route kind and API version through it.
type Route struct {
	Referrer
	ParentRefs []gwv1.ParentReference
	// Hostnames are empty for a Route that matches every hostname, and for kinds
	// without hostnames (see UsesHostnames).
	Hostnames []gwv1.Hostname
	// Rules are the names and timeouts of the rules, for TimeoutPolicies; empty for kinds
	// that have neither.
	Rules []RouteRule
}

// UsesHostnames tells whether the Route's kind takes part in hostname matching.
func (r *Route) UsesHostnames() bool {
	switch r.Kind {
	case KindHTTPRoute, KindGRPCRoute, KindTLSRoute:
		return true
	}
	return false
}

func backendRef(ref gwv1.BackendObjectReference, fldPath *field.Path) Ref {
	r := Ref{Path: fldPath, Group: "", Kind: KindService, Name: string(ref.Name), What: "backendRef"}
	if ref.Group != nil {
		r.Group = *ref.Group
	}
	if ref.Kind != nil {
		r.Kind = *ref.Kind
	}
	if ref.Namespace != nil {
		r.Namespace = string(*ref.Namespace)
	}
	return r
}

func secretRef(ref gwv1.SecretObjectReference, fldPath *field.Path) Ref {
	r := Ref{Path: fldPath, Group: "", Kind: KindSecret, Name: string(ref.Name), What: "certificateRef"}
	if ref.Group != nil {
		r.Group = *ref.Group
	}
	if ref.Kind != nil {
		r.Kind = *ref.Kind
	}
	if ref.Namespace != nil {
		r.Namespace = string(*ref.Namespace)
	}
	return r
}

func objectRef(ref gwv1.ObjectReference, what string, fldPath *field.Path) Ref {
	r := Ref{Path: fldPath, Group: ref.Group, Kind: ref.Kind, Name: string(ref.Name), What: what}
	if ref.Namespace != nil {
		r.Namespace = string(*ref.Namespace)
	}
	return r
}

// RouteFromHTTPRoute reduces an HTTPRoute, including the backendRefs inside its filters.
func RouteFromHTTPRoute(hr *gwv1.HTTPRoute) *Route {
	r := &Route{
		Referrer:   Referrer{Kind: KindHTTPRoute, Namespace: hr.Namespace, Name: hr.Name},
		ParentRefs: hr.Spec.ParentRefs,
		Hostnames:  hr.Spec.Hostnames,
	}
	reduceRules(r, hr.Spec.Rules,
		func(x gwv1.HTTPRouteRule) (RouteRule, []gwv1.HTTPRouteFilter, []gwv1.HTTPBackendRef) {
			return RouteRule{Name: x.Name, Timeouts: x.Timeouts}, x.Filters, x.BackendRefs
		},
		func(b gwv1.HTTPBackendRef) (gwv1.BackendObjectReference, []gwv1.HTTPRouteFilter) {
			return b.BackendObjectReference, b.Filters
		},
		func(f gwv1.HTTPRouteFilter) *gwv1.HTTPRequestMirrorFilter { return f.RequestMirror })
	return r
}

// RouteFromGRPCRoute reduces a GRPCRoute, including the backendRefs inside its filters.
func RouteFromGRPCRoute(gr *gwv1.GRPCRoute) *Route {
	r := &Route{
		Referrer:   Referrer{Kind: KindGRPCRoute, Namespace: gr.Namespace, Name: gr.Name},
		ParentRefs: gr.Spec.ParentRefs,
		Hostnames:  gr.Spec.Hostnames,
	}
	reduceRules(r, gr.Spec.Rules,
		func(x gwv1.GRPCRouteRule) (RouteRule, []gwv1.GRPCRouteFilter, []gwv1.GRPCBackendRef) {
			return RouteRule{Name: x.Name}, x.Filters, x.BackendRefs
		},
		func(b gwv1.GRPCBackendRef) (gwv1.BackendObjectReference, []gwv1.GRPCRouteFilter) {
			return b.BackendObjectReference, b.Filters
		},
		func(f gwv1.GRPCRouteFilter) *gwv1.HTTPRequestMirrorFilter { return f.RequestMirror })
	return r
}

// reduceRules fills r's Rules and Refs from the rules of an HTTPRoute or a GRPCRoute,
// whose rule (R), backendRef (B) and filter (F) types differ but have the same shape:
// each rule's backendRefs, and the RequestMirror backendRefs of the filters on a rule and
// on each of its backendRefs.
func reduceRules[R, B, F any](r *Route, rules []R,
	rule func(R) (RouteRule, []F, []B),
	backend func(B) (gwv1.BackendObjectReference, []F),
	mirror func(F) *gwv1.HTTPRequestMirrorFilter,
) {
	if len(rules) == 0 {
		return
	}
	r.Rules = make([]RouteRule, 0, len(rules))
	refs := 0
	for _, x := range rules {
		_, _, backends := rule(x)
		refs += len(backends)
	}
	r.Refs = make([]Ref, 0, refs)
	filterRefs := func(filters []F, fldPath *field.Path) {
		for i, f := range filters {
			if m := mirror(f); m != nil {
				r.Refs = append(r.Refs, backendRef(m.BackendRef, fldPath.Index(i).Child("requestMirror", "backendRef")))
			}
		}
	}
	rulesPath := field.NewPath("spec", "rules")
	for i, x := range rules {
		reduced, filters, backends := rule(x)
		r.Rules = append(r.Rules, reduced)
		rulePath := rulesPath.Index(i)
		if len(filters) > 0 {
			filterRefs(filters, rulePath.Child("filters"))
		}
		refsPath := rulePath.Child("backendRefs")
		for j, b := range backends {
			ref, brFilters := backend(b)
			brPath := refsPath.Index(j)
			r.Refs = append(r.Refs, backendRef(ref, brPath))
			if len(brFilters) > 0 {
				filterRefs(brFilters, brPath.Child("filters"))
			}
		}
	}
}

// plainRoute reduces a Route kind whose rules hold only backendRefs (TLS, TCP, UDP).
func plainRoute(kind gwv1.Kind, meta metav1.ObjectMeta, parentRefs []gwv1.ParentReference, hostnames []gwv1.Hostname, ruleRefs [][]gwv1.BackendRef) *Route {
	r := &Route{
		Referrer:   Referrer{Kind: kind, Namespace: meta.Namespace, Name: meta.Name},
		ParentRefs: parentRefs,
		Hostnames:  hostnames,
	}
	if len(ruleRefs) == 0 {
		return r
	}
	n := 0
	for _, refs := range ruleRefs {
		n += len(refs)
	}
	r.Refs = make([]Ref, 0, n)
	rulesPath := field.NewPath("spec", "rules")
	for i, refs := range ruleRefs {
		refsPath := rulesPath.Index(i).Child("backendRefs")
		for j, br := range refs {
			r.Refs = append(r.Refs, backendRef(br.BackendObjectReference, refsPath.Index(j)))
		}
	}
	return r
}

// RouteFromTLSRoute reduces a TLSRoute.
func RouteFromTLSRoute(tr *gwv1.TLSRoute) *Route {
	refs := make([][]gwv1.BackendRef, 0, len(tr.Spec.Rules))
	for _, rule := range tr.Spec.Rules {
		refs = append(refs, rule.BackendRefs)
	}
	return plainRoute(KindTLSRoute, tr.ObjectMeta, tr.Spec.ParentRefs, tr.Spec.Hostnames, refs)
}

// RouteFromTCPRoute reduces a TCPRoute.
func RouteFromTCPRoute(tr *gwv1.TCPRoute) *Route {
	refs := make([][]gwv1.BackendRef, 0, len(tr.Spec.Rules))
	for _, rule := range tr.Spec.Rules {
		refs = append(refs, rule.BackendRefs)
	}
	return plainRoute(KindTCPRoute, tr.ObjectMeta, tr.Spec.ParentRefs, nil, refs)
}

// RouteFromUDPRoute reduces a UDPRoute.
func RouteFromUDPRoute(ur *gwv1.UDPRoute) *Route {
	refs := make([][]gwv1.BackendRef, 0, len(ur.Spec.Rules))
	for _, rule := range ur.Spec.Rules {
		refs = append(refs, rule.BackendRefs)
	}
	return plainRoute(KindUDPRoute, ur.ObjectMeta, ur.Spec.ParentRefs, nil, refs)
}

// ReferrerFromGateway collects a Gateway's references: listener certificateRefs, the
// backend client certificate and the frontend CA certificates.
func ReferrerFromGateway(gw *gwv1.Gateway) *Referrer {
	r := &Referrer{Kind: KindGateway, Namespace: gw.Namespace, Name: gw.Name}
	listenersPath := field.NewPath("spec", "listeners")
	for i, l := range gw.Spec.Listeners {
		if l.TLS == nil {
			continue
		}
		certsPath := listenersPath.Index(i).Child("tls", "certificateRefs")
		for j, ref := range l.TLS.CertificateRefs {
			r.Refs = append(r.Refs, secretRef(ref, certsPath.Index(j)))
		}
	}
	tls := gw.Spec.TLS
	if tls == nil {
		return r
	}
	tlsPath := field.NewPath("spec", "tls")
	if tls.Backend != nil && tls.Backend.ClientCertificateRef != nil {
		ref := secretRef(*tls.Backend.ClientCertificateRef, tlsPath.Child("backend", "clientCertificateRef"))
		ref.What = "clientCertificateRef"
		r.Refs = append(r.Refs, ref)
	}
	if fe := tls.Frontend; fe != nil {
		r.Refs = append(r.Refs, validationRefs(fe.Default.Validation, tlsPath.Child("frontend", "default", "validation", "caCertificateRefs"))...)
		for k, pp := range fe.PerPort {
			caPath := tlsPath.Child("frontend", "perPort").Index(k).Child("tls", "validation", "caCertificateRefs")
			r.Refs = append(r.Refs, validationRefs(pp.TLS.Validation, caPath)...)
		}
	}
	return r
}

func validationRefs(v *gwv1.FrontendTLSValidation, fldPath *field.Path) []Ref {
	if v == nil {
		return nil
	}
	refs := make([]Ref, 0, len(v.CACertificateRefs))
	for i, ref := range v.CACertificateRefs {
		refs = append(refs, objectRef(ref, "caCertificateRef", fldPath.Index(i)))
	}
	return refs
}

// ReferrerFromListenerSet collects a ListenerSet's listener certificateRefs. A ListenerSet
// is its own referrer: grants given to its Gateway do not extend to it.
func ReferrerFromListenerSet(ls *gwv1.ListenerSet) *Referrer {
	r := &Referrer{Kind: KindListenerSet, Namespace: ls.Namespace, Name: ls.Name}
	listenersPath := field.NewPath("spec", "listeners")
	for i, l := range ls.Spec.Listeners {
		if l.TLS == nil {
			continue
		}
		certsPath := listenersPath.Index(i).Child("tls", "certificateRefs")
		for j, ref := range l.TLS.CertificateRefs {
			r.Refs = append(r.Refs, secretRef(ref, certsPath.Index(j)))
		}
	}
	return r
}
