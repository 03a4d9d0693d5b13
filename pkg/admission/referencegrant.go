package admission

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"gatewarden.dev/gatewarden/pkg/policy"
)

// NewReferenceGrantValidator warns when an UPDATE or DELETE of a ReferenceGrant (v1,
// v1beta1) leaves existing references unpermitted. A DELETE is never blocked.
func NewReferenceGrantValidator(d *Deps) admission.Handler {
	check := func(ctx context.Context, lk policy.Lookup, req admission.Request) (policy.Violations, error) {
		var grant, old gwv1.ReferenceGrant
		hasNew, hasOld, err := decodeRequest(req, &grant, &old)
		if err != nil || !hasOld {
			return nil, err
		}
		if !hasNew || req.Operation == "DELETE" {
			return policy.ValidateReferenceGrantChange(ctx, lk, nil, &old)
		}
		return policy.ValidateReferenceGrantChange(ctx, lk, &grant, &old)
	}
	return &validatingHandler{Deps: d, kind: policy.KindReferenceGrant, validate: check, onDelete: check}
}
