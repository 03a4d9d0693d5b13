package worldgen

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGenerateIsDeterministicAndSized(t *testing.T) {
	o := Scaled(2000)
	a, b := Generate(o), Generate(o)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("two worlds from one seed differ:\n%s", diff)
	}
	routes := len(a.HTTPRoutes) + len(a.GRPCRoutes) + len(a.TLSRoutes) + len(a.TCPRoutes) + len(a.UDPRoutes)
	got := [4]int{len(a.Namespaces), len(a.Gateways), routes, len(a.Grants)}
	want := [4]int{o.Namespaces, o.Gateways, o.Routes, o.Grants}
	if got != want {
		t.Errorf("namespaces, gateways, routes, grants = %v, want %v", got, want)
	}
	for name, n := range map[string]int{"GRPCRoute": len(a.GRPCRoutes), "TLSRoute": len(a.TLSRoutes), "TCPRoute": len(a.TCPRoutes), "UDPRoute": len(a.UDPRoutes)} {
		if n == 0 {
			t.Errorf("no %s in a world of %d Routes", name, routes)
		}
	}
	if c := Generate(Options{Seed: 2, Namespaces: o.Namespaces, Gateways: o.Gateways, Routes: o.Routes, Grants: o.Grants, CrossNamespaceShare: o.CrossNamespaceShare}); cmp.Equal(a, c) {
		t.Error("another seed gave the same world")
	}
}
