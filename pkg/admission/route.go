package admission

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"gatewarden.dev/gatewarden/pkg/policy"
)

// routeValidator returns the validateFunc for a Route kind whose v1 type is T.
func routeValidator[T any, PT interface{ *T }](d *Deps, reduce func(PT) *policy.Route) validateFunc {
	return func(ctx context.Context, lk policy.Lookup, req admission.Request) (policy.Violations, error) {
		var newObj, oldObj T
		_, hasOld, err := decodeRequest(req, &newObj, &oldObj)
		if err != nil {
			return nil, err
		}
		var old *policy.Route
		if hasOld {
			old = reduce(&oldObj)
		}
		route := reduce(&newObj)
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
	return &validatingHandler{Deps: d, kind: policy.KindHTTPRoute, validate: routeValidator[gwv1.HTTPRoute](d, policy.RouteFromHTTPRoute)}
}

// NewGRPCRouteValidator validates GRPCRoutes (v1).
func NewGRPCRouteValidator(d *Deps) admission.Handler {
	return &validatingHandler{Deps: d, kind: policy.KindGRPCRoute, validate: routeValidator[gwv1.GRPCRoute](d, policy.RouteFromGRPCRoute)}
}

// NewTLSRouteValidator validates TLSRoutes (v1, v1alpha2, v1alpha3).
func NewTLSRouteValidator(d *Deps) admission.Handler {
	return &validatingHandler{Deps: d, kind: policy.KindTLSRoute, validate: routeValidator[gwv1.TLSRoute](d, policy.RouteFromTLSRoute)}
}

// NewTCPRouteValidator validates TCPRoutes (v1, v1alpha2).
func NewTCPRouteValidator(d *Deps) admission.Handler {
	return &validatingHandler{Deps: d, kind: policy.KindTCPRoute, validate: routeValidator[gwv1.TCPRoute](d, policy.RouteFromTCPRoute)}
}

// NewUDPRouteValidator validates UDPRoutes (v1, v1alpha2).
func NewUDPRouteValidator(d *Deps) admission.Handler {
	return &validatingHandler{Deps: d, kind: policy.KindUDPRoute, validate: routeValidator[gwv1.UDPRoute](d, policy.RouteFromUDPRoute)}
}
