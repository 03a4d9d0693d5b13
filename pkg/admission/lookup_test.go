package admission

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// storeInformers hands out one client-go indexer per Go type, as controller-runtime's
// informers do underneath, filled with objs.
type storeInformers struct {
	stores map[string]toolscache.Indexer
	objs   []client.Object
}

type storeInformer struct {
	cache.Informer
	store toolscache.Indexer
}

func (i storeInformer) AddIndexers(ix toolscache.Indexers) error { return i.store.AddIndexers(ix) }
func (i storeInformer) GetIndexer() toolscache.Indexer           { return i.store }

func (s *storeInformers) GetInformer(_ context.Context, obj client.Object, _ ...cache.InformerGetOption) (cache.Informer, error) {
	typ := fmt.Sprintf("%T", obj)
	store, ok := s.stores[typ]
	if !ok {
		store = toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc})
		for _, o := range s.objs {
			if fmt.Sprintf("%T", o) == fmt.Sprintf("%T", obj) {
				if err := store.Add(o); err != nil {
					return nil, err
				}
			}
		}
		s.stores[typ] = store
	}
	return storeInformer{store: store}, nil
}

// TestCachedLookupReadsStores checks that the cached Lookup, which reads Gateways and
// ReferenceGrants from the informers' stores, answers as the Lookup over a client does.
func TestCachedLookupReadsStores(t *testing.T) {
	objs := []client.Object{
		&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "gw"}, Spec: gwv1.GatewaySpec{GatewayClassName: "c"}},
		&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "gw"}, Spec: gwv1.GatewaySpec{GatewayClassName: "d"}},
		&gwv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "backends", Name: "a"}},
		&gwv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "backends", Name: "b"}},
		&gwv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "elsewhere", Name: "c"}},
	}
	scheme := runtime.NewScheme()
	if err := gwv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	all := func(gwv1.Kind) bool { return true }
	reverse, err := SetupIndexes(context.Background(), &storeInformers{stores: map[string]toolscache.Indexer{}, objs: objs}, all)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cached := NewCachedLookup(reader, func() *ReverseIndexes { return reverse }, all)
	plain := NewLookup(reader, func() *ReverseIndexes { return reverse }, all)

	names := func(gs []*gwv1.ReferenceGrant) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Namespace+"/"+g.Name)
		}
		return out
	}
	for _, ns := range []string{"backends", "elsewhere", "none"} {
		want, err := plain.ReferenceGrants(ctx, ns)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cached.ReferenceGrants(ctx, ns)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(names(want), names(got)); diff != "" {
			t.Errorf("ReferenceGrants(%s) (-client +stores):\n%s", ns, diff)
		}
	}
	gw, err := cached.Gateway(ctx, "other", "gw")
	if err != nil || gw.Spec.GatewayClassName != "d" {
		t.Errorf("Gateway(other/gw) = %v, %v; want the Gateway of class d", gw, err)
	}
	if gw != objs[1] {
		t.Errorf("Gateway(other/gw) is a copy: the cached Lookup must hand out the stored object")
	}
	if _, err := cached.Gateway(ctx, "infra", "missing"); !apierrors.IsNotFound(err) {
		t.Errorf("Gateway(infra/missing) error = %v, want NotFound", err)
	}
	if _, err := plain.Gateway(ctx, "infra", "missing"); !apierrors.IsNotFound(err) {
		t.Errorf("client Lookup Gateway(infra/missing) error = %v, want NotFound", err)
	}
}
