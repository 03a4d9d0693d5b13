package admission

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	policyv1a1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
	"gatewarden.dev/gatewarden/pkg/policy"
)

// checkTimeoutPolicyRequest accepts TimeoutPolicy v1alpha1 only.
func checkTimeoutPolicyRequest(req admission.Request) error {
	gv := policyv1a1.GroupVersion
	if req.Kind.Group != gv.Group || req.Kind.Kind != "TimeoutPolicy" {
		return fmt.Errorf("this endpoint validates TimeoutPolicy.%s, not %s.%s", gv.Group, req.Kind.Kind, req.Kind.Group)
	}
	if req.Kind.Version != gv.Version {
		return fmt.Errorf("TimeoutPolicy.%s version %s is not served (served: %s)", gv.Group, req.Kind.Version, gv.Version)
	}
	return nil
}

// NewTimeoutPolicyValidator validates TimeoutPolicies (v1alpha1).
func NewTimeoutPolicyValidator(d *Deps) admission.Handler {
	return &validatingHandler{Deps: d, kind: "TimeoutPolicy", check: checkTimeoutPolicyRequest,
		notExempt: func(ns string) bool { return ns == d.Config.Timeouts.PolicyNamespace },
		validate: func(ctx context.Context, lk policy.Lookup, req admission.Request) (policy.Violations, error) {
			var p, old policyv1a1.TimeoutPolicy
			var hasOld bool
			if err := policy.DecodeJSON(req.Object.Raw, &p); err != nil {
				return nil, decodeError{fmt.Errorf("decoding TimeoutPolicy: %w", err)}
			}
			if len(req.OldObject.Raw) > 0 {
				if err := policy.DecodeJSON(req.OldObject.Raw, &old); err != nil {
					return nil, decodeError{fmt.Errorf("decoding the old TimeoutPolicy: %w", err)}
				}
				hasOld = true
			}
			if !hasOld {
				return policy.ValidateTimeoutPolicy(ctx, lk, &p, nil, d.Config.Timeouts)
			}
			return policy.ValidateTimeoutPolicy(ctx, lk, &p, &old, d.Config.Timeouts)
		}}
}
