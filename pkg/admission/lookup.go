package admission

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	policyv1a1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
	"gatewarden.dev/gatewarden/pkg/policy"
)

// Field index names for the reverse lookups.
const (
	// IndexParent indexes Routes by "Kind/namespace/name" of each Gateway or ListenerSet
	// their parentRefs name.
	IndexParent = "gatewarden.parent"
	// IndexRefNamespace indexes Routes, Gateways and ListenerSets by each namespace other
	// than their own that they reference.
	IndexRefNamespace = "gatewarden.refNamespace"
	// IndexPolicyTarget indexes TimeoutPolicies by "Kind/namespace/name" of each target.
	IndexPolicyTarget = "gatewarden.policyTarget"
	// IndexGatewayClass indexes Gateways by spec.gatewayClassName.
	IndexGatewayClass = "gatewarden.gatewayClass"
)

// KindTimeoutPolicy is the availability key of the TimeoutPolicy CRD.
const KindTimeoutPolicy gwv1.Kind = "TimeoutPolicy"

// routeKind ties a Route kind's Go types to its reduction for the rules.
type routeKind struct {
	kind    gwv1.Kind
	newObj  func() client.Object
	newList func() client.ObjectList
	items   func(client.ObjectList) []*policy.Route
	reduce  func(client.Object) *policy.Route
}

func listOf[T any, PT interface {
	*T
	client.Object
}](items []T, reduce func(PT) *policy.Route) []*policy.Route {
	out := make([]*policy.Route, 0, len(items))
	for i := range items {
		out = append(out, reduce(PT(&items[i])))
	}
	return out
}

// RouteKinds lists the Route kinds Gatewarden caches and checks.
var RouteKinds = []routeKind{
	{policy.KindHTTPRoute, func() client.Object { return &gwv1.HTTPRoute{} }, func() client.ObjectList { return &gwv1.HTTPRouteList{} },
		func(l client.ObjectList) []*policy.Route {
			return listOf(l.(*gwv1.HTTPRouteList).Items, policy.RouteFromHTTPRoute)
		},
		func(o client.Object) *policy.Route { return policy.RouteFromHTTPRoute(o.(*gwv1.HTTPRoute)) }},
	{policy.KindGRPCRoute, func() client.Object { return &gwv1.GRPCRoute{} }, func() client.ObjectList { return &gwv1.GRPCRouteList{} },
		func(l client.ObjectList) []*policy.Route {
			return listOf(l.(*gwv1.GRPCRouteList).Items, policy.RouteFromGRPCRoute)
		},
		func(o client.Object) *policy.Route { return policy.RouteFromGRPCRoute(o.(*gwv1.GRPCRoute)) }},
	{policy.KindTLSRoute, func() client.Object { return &gwv1.TLSRoute{} }, func() client.ObjectList { return &gwv1.TLSRouteList{} },
		func(l client.ObjectList) []*policy.Route {
			return listOf(l.(*gwv1.TLSRouteList).Items, policy.RouteFromTLSRoute)
		},
		func(o client.Object) *policy.Route { return policy.RouteFromTLSRoute(o.(*gwv1.TLSRoute)) }},
	{policy.KindTCPRoute, func() client.Object { return &gwv1.TCPRoute{} }, func() client.ObjectList { return &gwv1.TCPRouteList{} },
		func(l client.ObjectList) []*policy.Route {
			return listOf(l.(*gwv1.TCPRouteList).Items, policy.RouteFromTCPRoute)
		},
		func(o client.Object) *policy.Route { return policy.RouteFromTCPRoute(o.(*gwv1.TCPRoute)) }},
	{policy.KindUDPRoute, func() client.Object { return &gwv1.UDPRoute{} }, func() client.ObjectList { return &gwv1.UDPRouteList{} },
		func(l client.ObjectList) []*policy.Route {
			return listOf(l.(*gwv1.UDPRouteList).Items, policy.RouteFromUDPRoute)
		},
		func(o client.Object) *policy.Route { return policy.RouteFromUDPRoute(o.(*gwv1.UDPRoute)) }},
}

// parentKeys returns the IndexParent values of a Route.
func parentKeys(r *policy.Route) []string {
	var keys []string
	for _, ref := range r.ParentRefs {
		group, kind, ns := gwv1.Group(gwv1.GroupName), policy.KindGateway, r.Namespace
		if ref.Group != nil {
			group = *ref.Group
		}
		if ref.Kind != nil {
			kind = *ref.Kind
		}
		if ref.Namespace != nil && *ref.Namespace != "" {
			ns = string(*ref.Namespace)
		}
		if group == policy.Group {
			keys = append(keys, parentKey(kind, ns, string(ref.Name)))
		}
	}
	return keys
}

func parentKey(kind gwv1.Kind, namespace, name string) string {
	return fmt.Sprintf("%s/%s/%s", kind, namespace, name)
}

// refNamespaces returns the IndexRefNamespace values of a referrer.
func refNamespaces(r *policy.Referrer) []string {
	var out []string
	for _, ref := range r.Refs {
		if ref.Namespace != "" && ref.Namespace != r.Namespace {
			out = append(out, ref.Namespace)
		}
	}
	return out
}

// InformerGetter is the part of a controller-runtime cache that SetupIndexes needs.
type InformerGetter interface {
	GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error)
}

// indexedInformer is what controller-runtime's informers are underneath: client-go's
// SharedIndexInformer.
type indexedInformer interface {
	AddIndexers(toolscache.Indexers) error
	GetIndexer() toolscache.Indexer
}

// ReverseIndexes answers the reverse lookups (Routes by parent, referrers by target
// namespace, Gateways by class, TimeoutPolicies by target) from client-go indexers that
// SetupIndexes registers on the informers themselves: one key per value, where
// controller-runtime's IndexField keeps two (namespaced and cluster-wide), and reads
// without List's copying into typed lists. It also holds the Gateway and ReferenceGrant
// stores, which the cached Lookup reads directly.
type ReverseIndexes struct {
	byKind map[gwv1.Kind]toolscache.Indexer
}

func indexFunc(keys func(client.Object) []string) toolscache.IndexFunc {
	return func(obj any) ([]string, error) {
		o, ok := obj.(client.Object)
		if !ok {
			return nil, nil
		}
		return keys(o), nil
	}
}

// SetupIndexes gets (and so starts, once the cache runs) the informers that carry reverse
// indexes and registers the indexes on them, for the available kinds.
func SetupIndexes(ctx context.Context, informers InformerGetter, available func(gwv1.Kind) bool) (*ReverseIndexes, error) {
	r := &ReverseIndexes{byKind: map[gwv1.Kind]toolscache.Indexer{}}
	register := func(kind gwv1.Kind, obj client.Object, indexers toolscache.Indexers) error {
		inf, err := informers.GetInformer(ctx, obj, cache.BlockUntilSynced(false))
		if err != nil {
			return fmt.Errorf("informer for %s: %w", kind, err)
		}
		ii, ok := inf.(indexedInformer)
		if !ok {
			return fmt.Errorf("informer for %s (%T) does not take client-go indexers", kind, inf)
		}
		if err := ii.AddIndexers(indexers); err != nil {
			return fmt.Errorf("indexes for %s: %w", kind, err)
		}
		r.byKind[kind] = ii.GetIndexer()
		return nil
	}
	for _, rk := range RouteKinds {
		if !available(rk.kind) {
			continue
		}
		if err := register(rk.kind, rk.newObj(), toolscache.Indexers{
			IndexParent:       indexFunc(func(o client.Object) []string { return parentKeys(rk.reduce(o)) }),
			IndexRefNamespace: indexFunc(func(o client.Object) []string { return refNamespaces(&rk.reduce(o).Referrer) }),
		}); err != nil {
			return nil, err
		}
	}
	if err := register(policy.KindGateway, &gwv1.Gateway{}, toolscache.Indexers{
		IndexRefNamespace: indexFunc(func(o client.Object) []string { return refNamespaces(policy.ReferrerFromGateway(o.(*gwv1.Gateway))) }),
		IndexGatewayClass: indexFunc(func(o client.Object) []string { return []string{string(o.(*gwv1.Gateway).Spec.GatewayClassName)} }),
	}); err != nil {
		return nil, err
	}
	if available(KindTimeoutPolicy) {
		if err := register(KindTimeoutPolicy, &policyv1a1.TimeoutPolicy{}, toolscache.Indexers{
			IndexPolicyTarget: indexFunc(func(o client.Object) []string { return policy.PolicyTargetKeys(o.(*policyv1a1.TimeoutPolicy)) }),
		}); err != nil {
			return nil, err
		}
	}
	// No index of its own: registered for direct reads of its store by namespace.
	if err := register(policy.KindReferenceGrant, &gwv1.ReferenceGrant{}, toolscache.Indexers{}); err != nil {
		return nil, err
	}
	if available(policy.KindListenerSet) {
		if err := register(policy.KindListenerSet, &gwv1.ListenerSet{}, toolscache.Indexers{
			IndexRefNamespace: indexFunc(func(o client.Object) []string {
				return refNamespaces(policy.ReferrerFromListenerSet(o.(*gwv1.ListenerSet)))
			}),
		}); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// objects returns the cached objects of kind whose index holds key; none for a kind
// without indexes (its CRD is not installed).
func (r *ReverseIndexes) objects(kind gwv1.Kind, index, key string) ([]any, error) {
	if r == nil {
		return nil, errors.New("the reverse indexes are not set up yet")
	}
	ix := r.byKind[kind]
	if ix == nil {
		return nil, nil
	}
	return ix.ByIndex(index, key)
}

// store returns the informer store of kind, for reads without the copy a cache read
// makes; nil when it has none registered (or before SetupIndexes).
func (r *ReverseIndexes) store(kind gwv1.Kind) toolscache.Indexer {
	if r == nil {
		return nil
	}
	return r.byKind[kind]
}

// CacheObjects returns the objects the cache must hold (for cache.Options.ByObject and
// informer start-up): Namespaces as metadata only, the rest in full.
func CacheObjects(available func(gwv1.Kind) bool) []client.Object {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	objs := []client.Object{ns, &gwv1.Gateway{}, &gwv1.GatewayClass{}, &gwv1.ReferenceGrant{}}
	if available(KindTimeoutPolicy) {
		objs = append(objs, &policyv1a1.TimeoutPolicy{})
	}
	if available(policy.KindListenerSet) {
		objs = append(objs, &gwv1.ListenerSet{})
	}
	for _, rk := range RouteKinds {
		if available(rk.kind) {
			objs = append(objs, rk.newObj())
		}
	}
	return objs
}

// Lookup implements policy.Lookup over controller-runtime readers. Objects are read from
// reader; the reverse lookups always use the cache's ReverseIndexes.
// With reader = the cache it is the fast path; with reader = the API reader it confirms a
// denial against the API server.
type Lookup struct {
	reader    client.Reader
	reverse   func() *ReverseIndexes
	available func(gwv1.Kind) bool
	// direct reads Gateways and ReferenceGrants from the informers' stores themselves
	// (NewCachedLookup): the objects the rules read on every review, without a copy.
	direct bool
}

var _ policy.Lookup = (*Lookup)(nil)

// NewLookup returns a Lookup. available tells which optional kinds have CRDs installed.
func NewLookup(reader client.Reader, reverse func() *ReverseIndexes, available func(gwv1.Kind) bool) *Lookup {
	return &Lookup{reader: reader, reverse: reverse, available: available}
}

// NewCachedLookup returns the Lookup of the admission fast path: reader is the cache whose
// informers carry the ReverseIndexes, and Gateways and ReferenceGrants are read from those
// informers' stores directly. The objects returned are the cached ones, for reading only,
// as with the cache's UnsafeDisableDeepCopy.
func NewCachedLookup(cached client.Reader, reverse func() *ReverseIndexes, available func(gwv1.Kind) bool) *Lookup {
	return &Lookup{reader: cached, reverse: reverse, available: available, direct: true}
}

// Gateway implements policy.Lookup.
func (l *Lookup) Gateway(ctx context.Context, namespace, name string) (*gwv1.Gateway, error) {
	if l.direct {
		if ix := l.reverse().store(policy.KindGateway); ix != nil {
			obj, exists, err := ix.GetByKey(namespace + "/" + name)
			switch {
			case err != nil:
				return nil, err
			case !exists:
				return nil, apierrors.NewNotFound(gwv1.Resource("gateways"), name)
			}
			return obj.(*gwv1.Gateway), nil
		}
	}
	gw := &gwv1.Gateway{}
	return gw, l.reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, gw)
}

// ListenerSet implements policy.Lookup.
func (l *Lookup) ListenerSet(ctx context.Context, namespace, name string) (*gwv1.ListenerSet, error) {
	if !l.available(policy.KindListenerSet) {
		return nil, notFound("listenersets", name)
	}
	ls := &gwv1.ListenerSet{}
	return ls, l.reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, ls)
}

// GatewayClass implements policy.Lookup.
func (l *Lookup) GatewayClass(ctx context.Context, name string) (*gwv1.GatewayClass, error) {
	gc := &gwv1.GatewayClass{}
	return gc, l.reader.Get(ctx, types.NamespacedName{Name: name}, gc)
}

// NamespaceLabels implements policy.Lookup from the Namespace's metadata.
func (l *Lookup) NamespaceLabels(ctx context.Context, name string) (labels.Set, error) {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := l.reader.Get(ctx, types.NamespacedName{Name: name}, ns); err != nil {
		return nil, err
	}
	return labels.Set(ns.Labels), nil
}

// ReferenceGrants implements policy.Lookup.
func (l *Lookup) ReferenceGrants(ctx context.Context, namespace string) ([]*gwv1.ReferenceGrant, error) {
	if l.direct {
		if ix := l.reverse().store(policy.KindReferenceGrant); ix != nil {
			objs, err := ix.ByIndex(toolscache.NamespaceIndex, namespace)
			return typed[gwv1.ReferenceGrant](objs), err
		}
	}
	list := &gwv1.ReferenceGrantList{}
	if err := l.reader.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	out := make([]*gwv1.ReferenceGrant, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	return out, nil
}

// RoutesForParent implements policy.Lookup through IndexParent.
func (l *Lookup) RoutesForParent(ctx context.Context, parentKind gwv1.Kind, namespace, name string) ([]*policy.Route, error) {
	var out []*policy.Route
	for _, rk := range RouteKinds {
		objs, err := l.reverse().objects(rk.kind, IndexParent, parentKey(parentKind, namespace, name))
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			out = append(out, rk.reduce(o.(client.Object)))
		}
	}
	return out, nil
}

// ReferrersInto implements policy.Lookup through IndexRefNamespace.
func (l *Lookup) ReferrersInto(ctx context.Context, namespace string) ([]*policy.Referrer, error) {
	var out []*policy.Referrer
	for _, rk := range RouteKinds {
		objs, err := l.reverse().objects(rk.kind, IndexRefNamespace, namespace)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			out = append(out, &rk.reduce(o.(client.Object)).Referrer)
		}
	}
	gws, err := l.reverse().objects(policy.KindGateway, IndexRefNamespace, namespace)
	if err != nil {
		return nil, err
	}
	for _, o := range gws {
		out = append(out, policy.ReferrerFromGateway(o.(*gwv1.Gateway)))
	}
	lss, err := l.reverse().objects(policy.KindListenerSet, IndexRefNamespace, namespace)
	if err != nil {
		return nil, err
	}
	for _, o := range lss {
		out = append(out, policy.ReferrerFromListenerSet(o.(*gwv1.ListenerSet)))
	}
	return out, nil
}

// Route implements policy.Lookup.
func (l *Lookup) Route(ctx context.Context, kind gwv1.Kind, namespace, name string) (*policy.Route, error) {
	for _, rk := range RouteKinds {
		if rk.kind != kind {
			continue
		}
		if !l.available(kind) {
			break
		}
		obj := rk.newObj()
		if err := l.reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, obj); err != nil {
			return nil, err
		}
		return rk.reduce(obj), nil
	}
	return nil, notFound(strings.ToLower(string(kind))+"s", name)
}

// GatewaysOfClass implements policy.Lookup through IndexGatewayClass.
func (l *Lookup) GatewaysOfClass(ctx context.Context, class string) ([]*gwv1.Gateway, error) {
	objs, err := l.reverse().objects(policy.KindGateway, IndexGatewayClass, class)
	return typed[gwv1.Gateway](objs), err
}

// TimeoutPolicies implements policy.Lookup through IndexPolicyTarget; without the
// TimeoutPolicy CRD there are none.
func (l *Lookup) TimeoutPolicies(ctx context.Context, kind gwv1.Kind, namespace, name string) ([]*policyv1a1.TimeoutPolicy, error) {
	objs, err := l.reverse().objects(KindTimeoutPolicy, IndexPolicyTarget, parentKey(kind, namespace, name))
	return typed[policyv1a1.TimeoutPolicy](objs), err
}

// typed converts objects read from an informer store, all of type *T.
func typed[T any](objs []any) []*T {
	out := make([]*T, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*T))
	}
	return out
}
