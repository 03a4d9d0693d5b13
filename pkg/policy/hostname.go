package policy

import (
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// hostnamesIntersect tells whether a listener hostname and a Route hostname can both match
// one request host. A leading "*." is a suffix match over one or more labels that does not
// match the bare domain, on either side: a Route's "*.example.com" covers a listener's
// "foo.example.com", and a listener's "*.example.com" covers a Route's "a.b.example.com".
func hostnamesIntersect(listener, route gwv1.Hostname) bool {
	l, r := strings.ToLower(string(listener)), strings.ToLower(string(route))
	lWild, rWild := strings.HasPrefix(l, "*."), strings.HasPrefix(r, "*.")
	switch {
	case !lWild && !rWild:
		return l == r
	case lWild && !rWild:
		return strings.HasSuffix(r, l[1:])
	case !lWild && rWild:
		return strings.HasSuffix(l, r[1:])
	default:
		return strings.HasSuffix(l, r[1:]) || strings.HasSuffix(r, l[1:])
	}
}

// listenerAcceptsHostnames tells whether a listener admits a Route with the given
// hostnames: a listener without a hostname, or a Route without hostnames, matches all.
func listenerAcceptsHostnames(listener *gwv1.Hostname, routeHostnames []gwv1.Hostname) bool {
	if listener == nil || *listener == "" || len(routeHostnames) == 0 {
		return true
	}
	for _, h := range routeHostnames {
		if hostnamesIntersect(*listener, h) {
			return true
		}
	}
	return false
}
