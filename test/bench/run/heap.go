package main

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/pprof"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	gwadmission "gatewarden.dev/gatewarden/pkg/admission"
)

// kindHeap is the heap that caching one kind takes.
type kindHeap struct {
	kind           string
	objects        int
	bytesPerObject float64
}

// onlyInformers passes on the GetInformer calls for one Go type and answers the others
// with an informer that drops its indexes, so that SetupIndexes registers (and thereby
// starts) one kind's informer at a time.
type onlyInformers struct {
	cache.Cache
	typ reflect.Type
}

func (o onlyInformers) GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error) {
	if reflect.TypeOf(obj) != o.typ {
		return discardInformer{}, nil
	}
	return o.Cache.GetInformer(ctx, obj, opts...)
}

// discardInformer takes indexes and keeps nothing.
type discardInformer struct{ cache.Informer }

func (discardInformer) AddIndexers(toolscache.Indexers) error { return nil }
func (discardInformer) GetIndexer() toolscache.Indexer        { return nil }

// heapPerKind measures, in this process, what the server's cache holds per object: a
// controller-runtime cache with the server's options, scheme and field indexes, whose
// informers start one kind at a time, with the live heap (after a GC) read before and
// after each has synced.
//
// With indexed false, the field indexes are left out, to tell what they cost; with
// heapProfile set, a heap profile of the process is written there once every kind is in.
func heapPerKind(ctx context.Context, cfg *rest.Config, indexed bool, only []string, heapProfile string) ([]kindHeap, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := gwadmission.CacheOptions()
	opts.Scheme = serverScheme()
	c, err := cache.New(cfg, opts)
	if err != nil {
		return nil, err
	}
	startErr := make(chan error, 1)
	go func() { startErr <- c.Start(ctx) }()
	defer func() { cancel(); <-startErr }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("in-process cache did not start: %w", ctx.Err())
	}
	// Discovery of the Gateway API group, the typed client and the like are one-off costs:
	// pay them with the GatewayClass informer (one object), which is not measured.
	if _, err := c.GetInformer(ctx, &gwv1.GatewayClass{}); err != nil {
		return nil, err
	}

	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	nsList := &metav1.PartialObjectMetadataList{}
	nsList.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NamespaceList"))
	kinds := []struct {
		kind string
		obj  client.Object
		list client.ObjectList
	}{
		{"Namespace", ns, nsList},
		{"Gateway", &gwv1.Gateway{}, &gwv1.GatewayList{}},
		{"ReferenceGrant", &gwv1.ReferenceGrant{}, &gwv1.ReferenceGrantList{}},
		{"HTTPRoute", &gwv1.HTTPRoute{}, &gwv1.HTTPRouteList{}},
		{"GRPCRoute", &gwv1.GRPCRoute{}, &gwv1.GRPCRouteList{}},
		{"TLSRoute", &gwv1.TLSRoute{}, &gwv1.TLSRouteList{}},
		{"TCPRoute", &gwv1.TCPRoute{}, &gwv1.TCPRouteList{}},
		{"UDPRoute", &gwv1.UDPRoute{}, &gwv1.UDPRouteList{}},
	}
	all := func(gwv1.Kind) bool { return true }
	var out []kindHeap
	for _, k := range kinds {
		if len(only) > 0 && !slices.Contains(only, k.kind) {
			continue
		}
		before := liveHeap()
		if indexed {
			if _, err := gwadmission.SetupIndexes(ctx, onlyInformers{c, reflect.TypeOf(k.obj)}, all); err != nil {
				return nil, err
			}
		}
		inf, err := c.GetInformer(ctx, k.obj)
		if err != nil {
			return nil, fmt.Errorf("informer for %s: %w", k.kind, err)
		}
		if !toolscache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return nil, fmt.Errorf("informer for %s did not sync: %w", k.kind, ctx.Err())
		}
		after := liveHeap()
		if err := c.List(ctx, k.list); err != nil {
			return nil, err
		}
		n := meta.LenList(k.list)
		kh := kindHeap{kind: k.kind, objects: n}
		if n > 0 {
			kh.bytesPerObject = float64(after-before) / float64(n)
		}
		logf("cache: %-14s %6d objects, %7.0f bytes of heap each (indexes: %v)", k.kind, n, kh.bytesPerObject, indexed)
		out = append(out, kh)
	}
	if heapProfile != "" {
		runtime.GC()
		f, err := os.Create(heapProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// liveHeap is the heap in use by live objects after a full collection.
func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
