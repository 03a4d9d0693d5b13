package admission

import (
	"context"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"gatewarden.dev/gatewarden/pkg/policy"
)

// NewListenerSetValidator validates ListenerSets (v1).
func NewListenerSetValidator(d *Deps) admission.Handler {
	return &validatingHandler{Deps: d, kind: policy.KindListenerSet, validate: func(ctx context.Context, lk policy.Lookup, req admission.Request) (policy.Violations, error) {
		var ls, old gwv1.ListenerSet
		_, hasOld, err := decodeRequest(req, &ls, &old)
		if err != nil {
			return nil, err
		}
		if !hasOld {
			return policy.ValidateListenerSet(ctx, lk, &ls, nil)
		}
		return policy.ValidateListenerSet(ctx, lk, &ls, &old)
	}}
}

// listenerSetDefaulter fills listener allowedRoutes defaults on ListenerSets.
type listenerSetDefaulter struct{ *Deps }

// NewListenerSetDefaulter returns the mutating handler for ListenerSets (v1).
func NewListenerSetDefaulter(d *Deps) admission.Handler { return &listenerSetDefaulter{d} }

// Handle implements admission.Handler. The GatewayClass is the parent Gateway's; without a
// parent Gateway yet, kinds are filled from the protocol alone.
func (h *listenerSetDefaulter) Handle(ctx context.Context, req admission.Request) admission.Response {
	if h.starting() {
		return admission.Errored(http.StatusInternalServerError, errStarting)
	}
	if err := checkRequest(req, policy.KindListenerSet); err != nil {
		return badRequest(err)
	}
	var ls gwv1.ListenerSet
	if _, _, err := decodeRequest(req, &ls, &gwv1.ListenerSet{}); err != nil {
		return badRequest(err)
	}
	listeners := policy.ListenerSetListeners(&ls)
	if ls.DeletionTimestamp != nil || !policy.NeedsDefaults(listeners) {
		return admission.Allowed("")
	}
	var class *gwv1.GatewayClass
	ns := ls.Namespace
	if ls.Spec.ParentRef.Namespace != nil && *ls.Spec.ParentRef.Namespace != "" {
		ns = string(*ls.Spec.ParentRef.Namespace)
	}
	gw, err := h.Cached.Gateway(ctx, ns, string(ls.Spec.ParentRef.Name))
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return admission.Errored(http.StatusInternalServerError, err)
	default:
		if class, err = h.gatewayClass(ctx, string(gw.Spec.GatewayClassName)); err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
	}
	return patchListeners(&listeners, "/spec/listeners", class)
}
