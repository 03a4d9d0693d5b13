package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// fuzzWorld is the world the rule fuzz targets run against: every object of every
// testdata world file, so that fuzzed objects meet Gateways, ListenerSets and grants.
func fuzzWorld(f *testing.F) (*World, map[string][][]byte) {
	f.Helper()
	files, err := filepath.Glob("testdata/*/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no world files: %v", err)
	}
	w := &World{}
	seeds := map[string][][]byte{}
	for _, path := range files {
		file, err := os.Open(path)
		if err != nil {
			f.Fatal(err)
		}
		objs, err := DecodeObjects(file)
		file.Close()
		if err != nil {
			f.Fatalf("%s: %v", path, err)
		}
		for _, o := range objs {
			if o.Value == nil || o.GVK.Kind == "Case" {
				continue
			}
			w.Add(o)
			seeds[o.GVK.Kind] = append(seeds[o.GVK.Kind], o.Raw)
		}
	}
	return w, seeds
}

// fuzzRule decodes data as kind and runs the rule entry point for it: any outcome but a
// panic or a hang is fine, and every violation must carry a field path and a rule.
func fuzzRule(f *testing.F, kind gwv1.Kind, run func(context.Context, *World, any, any) (Violations, error)) {
	w, seeds := fuzzWorld(f)
	for _, s := range seeds[string(kind)] {
		f.Add(s, s)
	}
	f.Add([]byte(`{}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, data, oldData []byte) {
		gvk := schema.GroupVersionKind{Group: gwv1.GroupName, Version: "v1", Kind: string(kind)}
		obj, _ := newV1(kind)
		if err := Decode(gvk, data, obj); err != nil {
			return
		}
		old, _ := newV1(kind)
		if err := Decode(gvk, oldData, old); err != nil {
			old = nil
		}
		v, err := run(context.Background(), w, obj, old)
		if err != nil {
			t.Fatalf("the in-memory world cannot fail a lookup, yet: %v", err)
		}
		for _, x := range v {
			if x.Rule == "" || x.Err == nil || x.Err.Field == "" || !strings.HasPrefix(x.Err.Detail, "["+string(x.Rule)+"]") {
				t.Fatalf("malformed violation %+v", x)
			}
		}
	})
}

func FuzzValidateHTTPRoute(f *testing.F) {
	fuzzRule(f, KindHTTPRoute, func(ctx context.Context, w *World, obj, old any) (Violations, error) {
		var o *Route
		if old != nil {
			o = RouteFromHTTPRoute(old.(*gwv1.HTTPRoute))
		}
		return ValidateRoute(ctx, w, RouteFromHTTPRoute(obj.(*gwv1.HTTPRoute)), o)
	})
}

func FuzzValidateTLSRoute(f *testing.F) {
	fuzzRule(f, KindTLSRoute, func(ctx context.Context, w *World, obj, old any) (Violations, error) {
		var o *Route
		if old != nil {
			o = RouteFromTLSRoute(old.(*gwv1.TLSRoute))
		}
		return ValidateRoute(ctx, w, RouteFromTLSRoute(obj.(*gwv1.TLSRoute)), o)
	})
}

func FuzzValidateGateway(f *testing.F) {
	fuzzRule(f, KindGateway, func(ctx context.Context, w *World, obj, old any) (Violations, error) {
		o, _ := old.(*gwv1.Gateway)
		return ValidateGateway(ctx, w, obj.(*gwv1.Gateway), o)
	})
}

func FuzzValidateListenerSet(f *testing.F) {
	fuzzRule(f, KindListenerSet, func(ctx context.Context, w *World, obj, old any) (Violations, error) {
		o, _ := old.(*gwv1.ListenerSet)
		return ValidateListenerSet(ctx, w, obj.(*gwv1.ListenerSet), o)
	})
}

func FuzzReferenceGrantChange(f *testing.F) {
	fuzzRule(f, KindReferenceGrant, func(ctx context.Context, w *World, obj, old any) (Violations, error) {
		if old == nil {
			return ValidateReferenceGrantChange(ctx, w, nil, obj.(*gwv1.ReferenceGrant))
		}
		return ValidateReferenceGrantChange(ctx, w, obj.(*gwv1.ReferenceGrant), old.(*gwv1.ReferenceGrant))
	})
}

// FuzzDecodeObjects feeds arbitrary bytes to the multi-document reader of check and the
// test worlds: an error or objects, never a panic.
func FuzzDecodeObjects(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := DecodeObjects(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		w := &World{}
		for _, o := range objs {
			w.Add(o)
		}
		if _, err := w.ReferrersInto(context.Background(), "default"); err != nil {
			t.Fatal(err)
		}
	})
}
