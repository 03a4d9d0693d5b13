package policy

import (
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestHostnamesIntersect(t *testing.T) {
	tests := map[string]struct {
		listener, route gwv1.Hostname
		want            bool
	}{
		"exact equal":                       {"foo.example.com", "foo.example.com", true},
		"exact different":                   {"foo.example.com", "bar.example.com", false},
		"exact is case-insensitive":         {"Foo.Example.com", "foo.example.COM", true},
		"exact suffix is not a match":       {"example.com", "foo.example.com", false},
		"listener wildcard one label":       {"*.example.com", "foo.example.com", true},
		"listener wildcard many labels":     {"*.example.com", "a.b.example.com", true},
		"listener wildcard not bare domain": {"*.example.com", "example.com", false},
		"listener wildcard label boundary":  {"*.example.com", "fooexample.com", false},
		"listener wildcard other domain":    {"*.example.com", "foo.example.org", false},
		"route wildcard one label":          {"foo.example.com", "*.example.com", true},
		"route wildcard many labels":        {"a.b.example.com", "*.example.com", true},
		"route wildcard not bare domain":    {"example.com", "*.example.com", false},
		"route wildcard label boundary":     {"fooexample.com", "*.example.com", false},
		"both wildcards equal":              {"*.example.com", "*.example.com", true},
		"both wildcards route broader":      {"*.apps.example.com", "*.example.com", true},
		"both wildcards listener broader":   {"*.example.com", "*.apps.example.com", true},
		"both wildcards disjoint":           {"*.example.com", "*.example.org", false},
		"both wildcards label boundary":     {"*.example.com", "*.myexample.com", false},
		"top-level wildcard":                {"*.com", "example.com", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := hostnamesIntersect(tc.listener, tc.route); got != tc.want {
				t.Errorf("hostnamesIntersect(%q, %q) = %v, want %v", tc.listener, tc.route, got, tc.want)
			}
			// Intersection is symmetric: which side is the listener does not matter.
			if got := hostnamesIntersect(tc.route, tc.listener); got != tc.want {
				t.Errorf("hostnamesIntersect(%q, %q) = %v, want %v (swapped)", tc.route, tc.listener, got, tc.want)
			}
		})
	}
}

func TestListenerAcceptsHostnames(t *testing.T) {
	h := func(s gwv1.Hostname) *gwv1.Hostname { return &s }
	tests := map[string]struct {
		listener *gwv1.Hostname
		route    []gwv1.Hostname
		want     bool
	}{
		"listener without hostname":    {nil, []gwv1.Hostname{"foo.example.com"}, true},
		"listener with empty hostname": {h(""), []gwv1.Hostname{"foo.example.com"}, true},
		"route without hostnames":      {h("foo.example.com"), nil, true},
		"one of several intersects":    {h("*.example.com"), []gwv1.Hostname{"example.org", "example.com", "a.example.com"}, true},
		"none intersects":              {h("*.example.com"), []gwv1.Hostname{"example.org", "example.com"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := listenerAcceptsHostnames(tc.listener, tc.route); got != tc.want {
				t.Errorf("listenerAcceptsHostnames = %v, want %v", got, tc.want)
			}
		})
	}
}
