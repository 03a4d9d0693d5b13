package admission

import (
	"context"
	"encoding/json"
	"net/http"

	"gomodules.xyz/jsonpatch/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"gatewarden.dev/gatewarden/pkg/policy"
)

// NewGatewayValidator validates Gateways (v1, v1beta1).
func NewGatewayValidator(d *Deps) admission.Handler {
	return &validatingHandler{Deps: d, kind: policy.KindGateway, validate: func(ctx context.Context, lk policy.Lookup, req admission.Request) (policy.Violations, error) {
		var gw, old gwv1.Gateway
		_, hasOld, err := decodeRequest(req, &gw, &old)
		if err != nil {
			return nil, err
		}
		if !hasOld {
			return policy.ValidateGateway(ctx, lk, &gw, nil)
		}
		return policy.ValidateGateway(ctx, lk, &gw, &old)
	}}
}

// gatewayDefaulter fills listener allowedRoutes defaults on Gateways.
type gatewayDefaulter struct{ *Deps }

// NewGatewayDefaulter returns the mutating handler for Gateways (v1, v1beta1).
func NewGatewayDefaulter(d *Deps) admission.Handler { return &gatewayDefaulter{d} }

// Handle implements admission.Handler.
func (h *gatewayDefaulter) Handle(ctx context.Context, req admission.Request) admission.Response {
	if h.starting() {
		return admission.Errored(http.StatusInternalServerError, errStarting)
	}
	if err := checkRequest(req, policy.KindGateway); err != nil {
		return badRequest(err)
	}
	var gw gwv1.Gateway
	if _, _, err := decodeRequest(req, &gw, &gwv1.Gateway{}); err != nil {
		return badRequest(err)
	}
	if gw.DeletionTimestamp != nil || !policy.NeedsDefaults(gw.Spec.Listeners) {
		return admission.Allowed("")
	}
	class, err := h.gatewayClass(ctx, string(gw.Spec.GatewayClassName))
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return patchListeners(&gw.Spec.Listeners, "/spec/listeners", class)
}

// gatewayClass reads a GatewayClass from the cache; a missing one (not yet created) is nil.
func (h *Deps) gatewayClass(ctx context.Context, name string) (*gwv1.GatewayClass, error) {
	class, err := h.Cached.GatewayClass(ctx, name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return class, err
}

// patchListeners defaults listeners in place and answers with a JSON patch of exactly the
// fields it filled, computed between two encodings of the same Go value so that nothing else
// in the object (fields this version of Gatewarden does not know) is touched.
func patchListeners(listeners *[]gwv1.Listener, path string, class *gwv1.GatewayClass) admission.Response {
	before, err := json.Marshal(*listeners)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if !policy.SetListenerDefaults(*listeners, class) {
		return admission.Allowed("")
	}
	after, err := json.Marshal(*listeners)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	ops, err := jsonpatch.CreatePatch(before, after)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	for i := range ops {
		ops[i].Path = path + ops[i].Path
	}
	return admission.Patched("", ops...)
}
