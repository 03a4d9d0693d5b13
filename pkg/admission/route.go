package admission

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"gatewarden.dev/gatewarden/pkg/policy"
)

// routeObject is what the Route rules read of a Route: its name, namespace and spec. Only
// that is decoded; the rest of the metadata (managedFields, the last applied configuration
// kubectl keeps in an annotation) and the status, most of a Route's bytes in a review, are
// skipped without being copied.
type routeObject[S any] struct {
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec S `json:"spec"`
}

func (o *routeObject[S]) meta() metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: o.Metadata.Name, Namespace: o.Metadata.Namespace}
}

// routeValidator returns the validateFunc for a Route kind whose spec type is S.
func routeValidator[S any](d *Deps, reduce func(metav1.ObjectMeta, *S) *policy.Route) validateFunc {
	return func(ctx context.Context, lk policy.Lookup, req admission.Request) (policy.Violations, error) {
		var newObj, oldObj routeObject[S]
		_, hasOld, err := decodeRequest(req, &newObj, &oldObj)
		if err != nil {
			return nil, err
		}
		var old *policy.Route
		if hasOld {
			old = reduce(oldObj.meta(), &oldObj.Spec)
		}
		route := reduce(newObj.meta(), &newObj.Spec)
		v, err := policy.ValidateRoute(ctx, lk, route, old)
		if err != nil {
			return nil, err
		}
		tv, err := policy.ValidateRouteTimeouts(ctx, lk, route, old, d.Config.Timeouts)
		return append(v, tv...), err
	}
}

// NewHTTPRouteValidator validates HTTPRoutes (v1, v1beta1).
func NewHTTPRouteValidator(d *Deps) admission.Handler {
	return &validatingHandler{Deps: d, kind: policy.KindHTTPRoute, validate: routeValidator(d, func(m metav1.ObjectMeta, s *gwv1.HTTPRouteSpec) *policy.Route {
		return policy.RouteFromHTTPRoute(&gwv1.HTTPRoute{ObjectMeta: m, Spec: *s})
	})}
}

// NewGRPCRouteValidator validates GRPCRoutes (v1).
func NewGRPCRouteValidator(d *Deps) admission.Handler {
	return &validatingHandler{Deps: d, kind: policy.KindGRPCRoute, validate: routeValidator(d, func(m metav1.ObjectMeta, s *gwv1.GRPCRouteSpec) *policy.Route {
		return policy.RouteFromGRPCRoute(&gwv1.GRPCRoute{ObjectMeta: m, Spec: *s})
	})}
}

// NewTLSRouteValidator validates TLSRoutes (v1, v1alpha2, v1alpha3).
func NewTLSRouteValidator(d *Deps) admission.Handler {
	return &validatingHandler{Deps: d, kind: policy.KindTLSRoute, validate: routeValidator(d, func(m metav1.ObjectMeta, s *gwv1.TLSRouteSpec) *policy.Route {
		return policy.RouteFromTLSRoute(&gwv1.TLSRoute{ObjectMeta: m, Spec: *s})
	})}
}

// NewTCPRouteValidator validates TCPRoutes (v1, v1alpha2).
func NewTCPRouteValidator(d *Deps) admission.Handler {
	return &validatingHandler{Deps: d, kind: policy.KindTCPRoute, validate: routeValidator(d, func(m metav1.ObjectMeta, s *gwv1.TCPRouteSpec) *policy.Route {
		return policy.RouteFromTCPRoute(&gwv1.TCPRoute{ObjectMeta: m, Spec: *s})
	})}
}

// NewUDPRouteValidator validates UDPRoutes (v1, v1alpha2).
func NewUDPRouteValidator(d *Deps) admission.Handler {
	return &validatingHandler{Deps: d, kind: policy.KindUDPRoute, validate: routeValidator(d, func(m metav1.ObjectMeta, s *gwv1.UDPRouteSpec) *policy.Route {
		return policy.RouteFromUDPRoute(&gwv1.UDPRoute{ObjectMeta: m, Spec: *s})
	})}
}
