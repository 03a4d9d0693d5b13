// Package worldgen generates Gateway API worlds for benchmarks: N namespaces with
// Gateways (several listeners, every protocol, Same/All/Selector), Routes of every kind
// with realistic parentRefs, hostnames and backendRefs (a share across namespaces) and
// the ReferenceGrants those need. The same Options always give the same objects.
package worldgen

import (
	"fmt"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"gatewarden.dev/gatewarden/pkg/policy"
)

// Options sizes a world.
type Options struct {
	Seed       uint64
	Namespaces int
	Gateways   int
	Routes     int
	Grants     int
	// CrossNamespaceShare is the share of Routes with one backendRef into another
	// namespace (permitted by a grant there).
	CrossNamespaceShare float64
}

// Reference is the reference scale of docs/performance.md.
func Reference() Options {
	return Options{Seed: 1, Namespaces: 10000, Gateways: 10000, Routes: 50000, Grants: 10000, CrossNamespaceShare: 0.3}
}

// Scaled returns Reference scaled to about total objects (namespaces, Gateways, Routes,
// grants together), keeping its proportions.
func Scaled(total int) Options {
	o := Reference()
	f := float64(total) / float64(o.Namespaces+o.Gateways+o.Routes+o.Grants)
	scale := func(n int) int { return max(1, int(float64(n)*f)) }
	o.Namespaces, o.Gateways, o.Routes, o.Grants = scale(o.Namespaces), scale(o.Gateways), scale(o.Routes), scale(o.Grants)
	return o
}

// World is a generated set of objects.
type World struct {
	Namespaces     []*corev1.Namespace
	GatewayClasses []*gwv1.GatewayClass
	Gateways       []*gwv1.Gateway
	HTTPRoutes     []*gwv1.HTTPRoute
	GRPCRoutes     []*gwv1.GRPCRoute
	TLSRoutes      []*gwv1.TLSRoute
	TCPRoutes      []*gwv1.TCPRoute
	UDPRoutes      []*gwv1.UDPRoute
	Grants         []*gwv1.ReferenceGrant
}

// Objects returns every object, namespaces and the class first, in creation order.
func (w *World) Objects() []client.Object {
	var out []client.Object
	for _, o := range w.Namespaces {
		out = append(out, o)
	}
	for _, o := range w.GatewayClasses {
		out = append(out, o)
	}
	for _, o := range w.Gateways {
		out = append(out, o)
	}
	for _, o := range w.Grants {
		out = append(out, o)
	}
	for _, o := range w.HTTPRoutes {
		out = append(out, o)
	}
	for _, o := range w.GRPCRoutes {
		out = append(out, o)
	}
	for _, o := range w.TLSRoutes {
		out = append(out, o)
	}
	for _, o := range w.TCPRoutes {
		out = append(out, o)
	}
	for _, o := range w.UDPRoutes {
		out = append(out, o)
	}
	return out
}

// Len is the number of objects.
func (w *World) Len() int { return len(w.Objects()) }

// NamespaceName is the name of the i-th namespace.
func NamespaceName(i int) string { return fmt.Sprintf("ns-%05d", i) }

// GatewayName is the name of the Gateway of the i-th namespace.
const GatewayName = "gw"

// ClassName is the GatewayClass of every Gateway.
const ClassName = "bench"

var (
	fromSame     = gwv1.NamespacesFromSame
	fromAll      = gwv1.NamespacesFromAll
	fromSelector = gwv1.NamespacesFromSelector
	tlsPassthru  = gwv1.TLSModePassthrough
)

func ptr[T any](v T) *T { return &v }

// Generate builds the world for o.
func Generate(o Options) *World {
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	w := &World{GatewayClasses: []*gwv1.GatewayClass{{
		ObjectMeta: metav1.ObjectMeta{Name: ClassName},
		Spec:       gwv1.GatewayClassSpec{ControllerName: "example.com/bench"},
	}}}
	for i := range o.Namespaces {
		tier := []string{"web", "api", "data"}[i%3]
		w.Namespaces = append(w.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: NamespaceName(i), Labels: map[string]string{"tier": tier, "team": fmt.Sprintf("team-%d", i%50)},
		}})
	}
	// Gateways: one per namespace while there are namespaces, each with HTTP, HTTPS, TLS,
	// TCP and UDP listeners; admission from Same, All or Selector in turn.
	for i := range o.Gateways {
		ns := NamespaceName(i % o.Namespaces)
		name := GatewayName
		if i >= o.Namespaces {
			name = fmt.Sprintf("gw-%d", i/o.Namespaces)
		}
		from := []*gwv1.FromNamespaces{&fromSame, &fromAll, &fromSelector}[i%3]
		routeNS := &gwv1.RouteNamespaces{From: from}
		if *from == fromSelector {
			routeNS.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "web"}}
		}
		host := gwv1.Hostname(fmt.Sprintf("*.%s.example.com", ns))
		w.Gateways = append(w.Gateways, &gwv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: gwv1.GatewaySpec{GatewayClassName: ClassName, Listeners: []gwv1.Listener{
				{Name: "http", Protocol: gwv1.HTTPProtocolType, Port: 80, Hostname: &host, AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: routeNS}},
				{Name: "https", Protocol: gwv1.HTTPSProtocolType, Port: 443, Hostname: &host, AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: routeNS},
					TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "cert"}}}},
				{Name: "tls", Protocol: gwv1.TLSProtocolType, Port: 8443, Hostname: &host, AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: routeNS},
					TLS: &gwv1.ListenerTLSConfig{Mode: &tlsPassthru}},
				{Name: "tcp", Protocol: gwv1.TCPProtocolType, Port: 5432, AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: routeNS}},
				{Name: "udp", Protocol: gwv1.UDPProtocolType, Port: 53, AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: routeNS}},
			}},
		})
	}
	// Grants: the i-th permits HTTPRoutes and GRPCRoutes from the previous namespace to the
	// Services of its own.
	for i := range o.Grants {
		ns := i % o.Namespaces
		from := NamespaceName((ns + o.Namespaces - 1) % o.Namespaces)
		name := "allow-neighbour"
		if i >= o.Namespaces {
			name = fmt.Sprintf("allow-neighbour-%d", i/o.Namespaces)
		}
		w.Grants = append(w.Grants, &gwv1.ReferenceGrant{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: NamespaceName(ns)},
			Spec: gwv1.ReferenceGrantSpec{
				From: []gwv1.ReferenceGrantFrom{
					{Group: gwv1.GroupName, Kind: "HTTPRoute", Namespace: gwv1.Namespace(from)},
					{Group: gwv1.GroupName, Kind: "GRPCRoute", Namespace: gwv1.Namespace(from)},
				},
				To: []gwv1.ReferenceGrantTo{{Group: "", Kind: "Service"}},
			},
		})
	}
	// Routes: 70% HTTPRoute, 10% each GRPCRoute and TLSRoute, 5% each TCPRoute and UDPRoute,
	// attached to their own namespace's Gateway and, for every other HTTPRoute, to the next
	// namespace's Gateway too.
	for i := range o.Routes {
		n := i % o.Namespaces
		ns := NamespaceName(n)
		meta := metav1.ObjectMeta{Name: fmt.Sprintf("route-%d", i/o.Namespaces), Namespace: ns}
		parents := []gwv1.ParentReference{{Name: GatewayName}}
		host := gwv1.Hostname(fmt.Sprintf("app%d.%s.example.com", i/o.Namespaces, ns))
		var backends []gwv1.BackendObjectReference
		for b := range 1 + r.IntN(3) {
			backends = append(backends, gwv1.BackendObjectReference{Name: gwv1.ObjectName(fmt.Sprintf("svc-%d", b)), Port: ptr(gwv1.PortNumber(8080))})
		}
		if r.Float64() < o.CrossNamespaceShare {
			backends = append(backends, gwv1.BackendObjectReference{Name: "shared", Namespace: ptr(gwv1.Namespace(NamespaceName((n + 1) % o.Namespaces))), Port: ptr(gwv1.PortNumber(8080))})
		}
		switch k := r.IntN(100); {
		case k < 70:
			if i%2 == 0 {
				parents = append(parents, gwv1.ParentReference{Name: GatewayName, Namespace: ptr(gwv1.Namespace(NamespaceName((n + 1) % o.Namespaces))), SectionName: ptr(gwv1.SectionName("http"))})
			}
			var refs []gwv1.HTTPBackendRef
			for _, b := range backends {
				refs = append(refs, gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: b}})
			}
			w.HTTPRoutes = append(w.HTTPRoutes, &gwv1.HTTPRoute{ObjectMeta: meta, Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: parents},
				Hostnames:       []gwv1.Hostname{host},
				Rules: []gwv1.HTTPRouteRule{{
					Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr("/")}}},
					BackendRefs: refs,
				}},
			}})
		case k < 80:
			var refs []gwv1.GRPCBackendRef
			for _, b := range backends {
				refs = append(refs, gwv1.GRPCBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: b}})
			}
			w.GRPCRoutes = append(w.GRPCRoutes, &gwv1.GRPCRoute{ObjectMeta: meta, Spec: gwv1.GRPCRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: parents},
				Hostnames:       []gwv1.Hostname{host},
				Rules:           []gwv1.GRPCRouteRule{{BackendRefs: refs}},
			}})
		case k < 90:
			w.TLSRoutes = append(w.TLSRoutes, &gwv1.TLSRoute{ObjectMeta: meta, Spec: gwv1.TLSRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: GatewayName, SectionName: ptr(gwv1.SectionName("tls"))}}},
				Hostnames:       []gwv1.Hostname{host},
				Rules:           []gwv1.TLSRouteRule{{BackendRefs: []gwv1.BackendRef{{BackendObjectReference: backends[0]}}}},
			}})
		case k < 95:
			w.TCPRoutes = append(w.TCPRoutes, &gwv1.TCPRoute{ObjectMeta: meta, Spec: gwv1.TCPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: GatewayName, SectionName: ptr(gwv1.SectionName("tcp"))}}},
				Rules:           []gwv1.TCPRouteRule{{BackendRefs: []gwv1.BackendRef{{BackendObjectReference: backends[0]}}}},
			}})
		default:
			w.UDPRoutes = append(w.UDPRoutes, &gwv1.UDPRoute{ObjectMeta: meta, Spec: gwv1.UDPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: GatewayName, SectionName: ptr(gwv1.SectionName("udp"))}}},
				Rules:           []gwv1.UDPRouteRule{{BackendRefs: []gwv1.BackendRef{{BackendObjectReference: backends[0]}}}},
			}})
		}
	}
	return w
}

// PolicyWorld returns the world as an in-memory policy.World.
func (w *World) PolicyWorld() *policy.World {
	pw := &policy.World{}
	for _, ns := range w.Namespaces {
		pw.Add(policy.Object{Name: ns.Name, Value: labels.Set(ns.Labels)})
	}
	for _, o := range w.Objects() {
		if _, ok := o.(*corev1.Namespace); !ok {
			pw.Add(policy.Object{Namespace: o.GetNamespace(), Name: o.GetName(), Value: o})
		}
	}
	return pw
}
