package admission

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	policyv1a1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
)

// SlimTransform is the cache transform: it keeps of each object only what the rules and
// the defaulter read, so that every replica can cache a large cluster in little memory.
// Dropped everywhere: managedFields, annotations (kubectl's last-applied-configuration
// alone doubles an object), labels (except on Namespaces), owner references, finalizers
// and status (except a GatewayClass's supportedFeatures). Dropped from Routes: matches,
// filters other than RequestMirror, retries and every other field of a rule that is not a
// reference, its name or (for TimeoutPolicies) its timeouts. The objects it returns are for reading only: the Lookup never copies
// them (UnsafeDisableDeepCopy) and the rules never write to them.
func SlimTransform() toolscache.TransformFunc {
	shared := newInterner()
	return func(in any) (any, error) {
		switch o := in.(type) {
		case *metav1.PartialObjectMetadata:
			o.ObjectMeta = slimMeta(o.ObjectMeta, true)
		case *gwv1.Gateway:
			o.ObjectMeta = slimMeta(o.ObjectMeta, false)
			o.Status = gwv1.GatewayStatus{}
			o.Spec.Infrastructure = nil
			o.Spec.GatewayClassName = str(o.Spec.GatewayClassName)
			shared.listeners(o.Spec.Listeners)
		case *gwv1.ListenerSet:
			o.ObjectMeta = slimMeta(o.ObjectMeta, false)
			o.Status = gwv1.ListenerSetStatus{}
		case *gwv1.GatewayClass:
			o.ObjectMeta = slimMeta(o.ObjectMeta, false)
			o.Status = gwv1.GatewayClassStatus{SupportedFeatures: o.Status.SupportedFeatures}
			o.Spec.Description = nil
		case *gwv1.ReferenceGrant:
			o.ObjectMeta = slimMeta(o.ObjectMeta, false)
		case *policyv1a1.TimeoutPolicy:
			o.ObjectMeta = slimMeta(o.ObjectMeta, false)
		case *gwv1.HTTPRoute:
			o.ObjectMeta = slimMeta(o.ObjectMeta, false)
			o.Status = gwv1.HTTPRouteStatus{}
			shared.parentRefs(o.Spec.ParentRefs)
			for i := range o.Spec.Rules {
				r := &o.Spec.Rules[i]
				*r = gwv1.HTTPRouteRule{Name: r.Name, Timeouts: r.Timeouts, Filters: mirrorFilters(r.Filters), BackendRefs: r.BackendRefs}
				for j := range r.BackendRefs {
					br := &r.BackendRefs[j]
					br.Filters = mirrorFilters(br.Filters)
					br.Weight = nil
					shared.backendRef(&br.BackendObjectReference)
				}
			}
		case *gwv1.GRPCRoute:
			o.ObjectMeta = slimMeta(o.ObjectMeta, false)
			o.Status = gwv1.GRPCRouteStatus{}
			shared.parentRefs(o.Spec.ParentRefs)
			for i := range o.Spec.Rules {
				r := &o.Spec.Rules[i]
				*r = gwv1.GRPCRouteRule{Name: r.Name, Filters: grpcMirrorFilters(r.Filters), BackendRefs: r.BackendRefs}
				for j := range r.BackendRefs {
					br := &r.BackendRefs[j]
					br.Filters = grpcMirrorFilters(br.Filters)
					br.Weight = nil
					shared.backendRef(&br.BackendObjectReference)
				}
			}
		case *gwv1.TLSRoute:
			o.ObjectMeta = slimMeta(o.ObjectMeta, false)
			o.Status = gwv1.TLSRouteStatus{}
			shared.parentRefs(o.Spec.ParentRefs)
			for i := range o.Spec.Rules {
				o.Spec.Rules[i].Name = nil
				for j := range o.Spec.Rules[i].BackendRefs {
					shared.backendRef(&o.Spec.Rules[i].BackendRefs[j].BackendObjectReference)
				}
			}
		case *gwv1.TCPRoute:
			o.ObjectMeta = slimMeta(o.ObjectMeta, false)
			o.Status = gwv1.TCPRouteStatus{}
			shared.parentRefs(o.Spec.ParentRefs)
			for i := range o.Spec.Rules {
				for j := range o.Spec.Rules[i].BackendRefs {
					shared.backendRef(&o.Spec.Rules[i].BackendRefs[j].BackendObjectReference)
				}
			}
		case *gwv1.UDPRoute:
			o.ObjectMeta = slimMeta(o.ObjectMeta, false)
			o.Status = gwv1.UDPRouteStatus{}
			shared.parentRefs(o.Spec.ParentRefs)
			for i := range o.Spec.Rules {
				for j := range o.Spec.Rules[i].BackendRefs {
					shared.backendRef(&o.Spec.Rules[i].BackendRefs[j].BackendObjectReference)
				}
			}
		}
		return in, nil
	}
}

// slimMeta keeps identity, versioning and deletion state; labels only when asked.
func slimMeta(m metav1.ObjectMeta, keepLabels bool) metav1.ObjectMeta {
	out := metav1.ObjectMeta{
		Name:              m.Name,
		Namespace:         str(m.Namespace),
		UID:               m.UID,
		ResourceVersion:   m.ResourceVersion,
		Generation:        m.Generation,
		CreationTimestamp: m.CreationTimestamp,
		DeletionTimestamp: m.DeletionTimestamp,
	}
	if keepLabels {
		out.Labels = m.Labels
	}
	return out
}

// mirrorFilters keeps each filter's type and, for RequestMirror, its backendRef: filters
// keep their positions, so that field paths into the cached object stay true.
func mirrorFilters(filters []gwv1.HTTPRouteFilter) []gwv1.HTTPRouteFilter {
	if len(filters) == 0 {
		return nil
	}
	out := make([]gwv1.HTTPRouteFilter, len(filters))
	for i, f := range filters {
		out[i].Type = f.Type
		if f.RequestMirror != nil {
			out[i].RequestMirror = &gwv1.HTTPRequestMirrorFilter{BackendRef: f.RequestMirror.BackendRef}
		}
	}
	return out
}

func grpcMirrorFilters(filters []gwv1.GRPCRouteFilter) []gwv1.GRPCRouteFilter {
	if len(filters) == 0 {
		return nil
	}
	out := make([]gwv1.GRPCRouteFilter, len(filters))
	for i, f := range filters {
		out[i].Type = f.Type
		if f.RequestMirror != nil {
			out[i].RequestMirror = &gwv1.HTTPRequestMirrorFilter{BackendRef: f.RequestMirror.BackendRef}
		}
	}
	return out
}

// CacheOptions returns the cache options the server uses: the slim transform, and no deep
// copies on reads (the rules only read). Benchmarks build their caches with them too.
func CacheOptions() cache.Options {
	noCopy := true
	return cache.Options{DefaultTransform: SlimTransform(), DefaultUnsafeDisableDeepCopy: &noCopy}
}
