package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestSetListenerDefaults(t *testing.T) {
	group := Group
	same, all := gwv1.NamespacesFromSame, gwv1.NamespacesFromAll
	kinds := func(ks ...gwv1.Kind) []gwv1.RouteGroupKind {
		out := make([]gwv1.RouteGroupKind, 0, len(ks))
		for _, k := range ks {
			out = append(out, gwv1.RouteGroupKind{Group: &group, Kind: k})
		}
		return out
	}
	defaulted := func(protocol gwv1.ProtocolType, ks ...gwv1.Kind) gwv1.Listener {
		l := gwv1.Listener{Name: "l", Protocol: protocol, Port: 80, AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &same}}}
		if len(ks) > 0 {
			l.AllowedRoutes.Kinds = kinds(ks...)
		}
		return l
	}
	bare := func(protocol gwv1.ProtocolType) gwv1.Listener {
		return gwv1.Listener{Name: "l", Protocol: protocol, Port: 80}
	}
	classWith := func(features ...gwv1.FeatureName) *gwv1.GatewayClass {
		gc := &gwv1.GatewayClass{}
		for _, f := range features {
			gc.Status.SupportedFeatures = append(gc.Status.SupportedFeatures, gwv1.SupportedFeature{Name: f})
		}
		return gc
	}
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}
	selectorFrom := gwv1.NamespacesFromSelector

	tests := map[string]struct {
		in          gwv1.Listener
		class       *gwv1.GatewayClass
		want        gwv1.Listener
		wantChanged bool
	}{
		"HTTP gets Same and HTTPRoute, GRPCRoute": {
			in: bare(gwv1.HTTPProtocolType), want: defaulted(gwv1.HTTPProtocolType, KindHTTPRoute, KindGRPCRoute), wantChanged: true,
		},
		"HTTPS gets HTTPRoute, GRPCRoute": {
			in: bare(gwv1.HTTPSProtocolType), want: defaulted(gwv1.HTTPSProtocolType, KindHTTPRoute, KindGRPCRoute), wantChanged: true,
		},
		"TLS gets TLSRoute": {
			in: bare(gwv1.TLSProtocolType), want: defaulted(gwv1.TLSProtocolType, KindTLSRoute), wantChanged: true,
		},
		"TCP gets TCPRoute": {
			in: bare(gwv1.TCPProtocolType), want: defaulted(gwv1.TCPProtocolType, KindTCPRoute), wantChanged: true,
		},
		"UDP gets UDPRoute": {
			in: bare(gwv1.UDPProtocolType), want: defaulted(gwv1.UDPProtocolType, KindUDPRoute), wantChanged: true,
		},
		"unknown protocol gets from but no kinds": {
			in: bare("example.com/mqtt"), want: defaulted("example.com/mqtt"), wantChanged: true,
		},
		"class without supportedFeatures does not limit kinds": {
			in: bare(gwv1.HTTPProtocolType), class: classWith(), want: defaulted(gwv1.HTTPProtocolType, KindHTTPRoute, KindGRPCRoute), wantChanged: true,
		},
		"kinds limited to the class's supportedFeatures": {
			in: bare(gwv1.HTTPProtocolType), class: classWith("Gateway", "HTTPRoute", "HTTPRouteQueryParamMatching"),
			want: defaulted(gwv1.HTTPProtocolType, KindHTTPRoute), wantChanged: true,
		},
		"class supporting no compatible kind leaves kinds empty": {
			in: bare(gwv1.TCPProtocolType), class: classWith("HTTPRoute"), want: defaulted(gwv1.TCPProtocolType), wantChanged: true,
		},
		"set from and kinds are kept": {
			in: gwv1.Listener{Name: "l", Protocol: gwv1.HTTPProtocolType, Port: 80, AllowedRoutes: &gwv1.AllowedRoutes{
				Namespaces: &gwv1.RouteNamespaces{From: &all}, Kinds: []gwv1.RouteGroupKind{{Kind: KindGRPCRoute}}}},
			want: gwv1.Listener{Name: "l", Protocol: gwv1.HTTPProtocolType, Port: 80, AllowedRoutes: &gwv1.AllowedRoutes{
				Namespaces: &gwv1.RouteNamespaces{From: &all}, Kinds: []gwv1.RouteGroupKind{{Kind: KindGRPCRoute}}}},
			wantChanged: false,
		},
		"set invalid kinds are kept (validation reports them)": {
			in: gwv1.Listener{Name: "l", Protocol: gwv1.TCPProtocolType, Port: 80, AllowedRoutes: &gwv1.AllowedRoutes{
				Namespaces: &gwv1.RouteNamespaces{From: &all}, Kinds: []gwv1.RouteGroupKind{{Kind: KindHTTPRoute}}}},
			want: gwv1.Listener{Name: "l", Protocol: gwv1.TCPProtocolType, Port: 80, AllowedRoutes: &gwv1.AllowedRoutes{
				Namespaces: &gwv1.RouteNamespaces{From: &all}, Kinds: []gwv1.RouteGroupKind{{Kind: KindHTTPRoute}}}},
			wantChanged: false,
		},
		"set selector is kept, kinds filled": {
			in: gwv1.Listener{Name: "l", Protocol: gwv1.UDPProtocolType, Port: 53, AllowedRoutes: &gwv1.AllowedRoutes{
				Namespaces: &gwv1.RouteNamespaces{From: &selectorFrom, Selector: selector}}},
			want: gwv1.Listener{Name: "l", Protocol: gwv1.UDPProtocolType, Port: 53, AllowedRoutes: &gwv1.AllowedRoutes{
				Namespaces: &gwv1.RouteNamespaces{From: &selectorFrom, Selector: selector}, Kinds: kinds(KindUDPRoute)}},
			wantChanged: true,
		},
		"namespaces without from gets Same": {
			in:   gwv1.Listener{Name: "l", Protocol: "example.com/x", Port: 80, AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{}}},
			want: defaulted("example.com/x"), wantChanged: true,
		},
		"fully defaulted listener is unchanged": {
			in: defaulted(gwv1.TLSProtocolType, KindTLSRoute), want: defaulted(gwv1.TLSProtocolType, KindTLSRoute), wantChanged: false,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			listeners := []gwv1.Listener{*tc.in.DeepCopy()}
			if changed := SetListenerDefaults(listeners, tc.class); changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			if diff := cmp.Diff([]gwv1.Listener{tc.want}, listeners); diff != "" {
				t.Errorf("listeners (-want +got):\n%s", diff)
			}
			// Idempotent: a second pass changes nothing.
			once := []gwv1.Listener{*listeners[0].DeepCopy()}
			if changed := SetListenerDefaults(listeners, tc.class); changed {
				t.Errorf("second SetListenerDefaults reported a change")
			}
			if diff := cmp.Diff(once, listeners); diff != "" {
				t.Errorf("second SetListenerDefaults changed the listeners (-once +twice):\n%s", diff)
			}
		})
	}
}

func TestNeedsDefaults(t *testing.T) {
	same := gwv1.NamespacesFromSame
	group := Group
	full := &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &same}, Kinds: []gwv1.RouteGroupKind{{Group: &group, Kind: KindHTTPRoute}}}
	tests := map[string]struct {
		listeners []gwv1.Listener
		want      bool
	}{
		"no listeners":                     {nil, false},
		"allowedRoutes unset":              {[]gwv1.Listener{{Protocol: gwv1.HTTPProtocolType}}, true},
		"kinds unset for a known protocol": {[]gwv1.Listener{{Protocol: gwv1.HTTPProtocolType, AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &same}}}}, true},
		"kinds unset for unknown protocol": {[]gwv1.Listener{{Protocol: "example.com/x", AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &same}}}}, false},
		"all set":                          {[]gwv1.Listener{{Protocol: gwv1.HTTPProtocolType, AllowedRoutes: full}}, false},
		"second listener needs defaults":   {[]gwv1.Listener{{Protocol: gwv1.HTTPProtocolType, AllowedRoutes: full}, {Protocol: gwv1.TCPProtocolType}}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := NeedsDefaults(tc.listeners); got != tc.want {
				t.Errorf("NeedsDefaults = %v, want %v", got, tc.want)
			}
		})
	}
}
