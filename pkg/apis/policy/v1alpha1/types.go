package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TimeoutPolicy attaches request timeouts to a GatewayClass, a Gateway (or one of its
// listeners), an HTTPRoute or GRPCRoute (or one of its rules), following GEP-713: a
// default applies unless something more specific sets the value (more specific wins), an
// override applies whatever is set below it (less specific wins). An override can also
// bound what Routes below it may set: a maximum, and whether "no timeout" (0s) is allowed.
//
// A policy targets objects in its own namespace. A policy that targets a GatewayClass,
// which has no namespace, takes effect only in the namespace Gatewarden's configuration
// names as its policy namespace (gatewarden-system by default): class-wide rules are the
// platform team's, and RBAC on that one namespace says who may write them.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=gateway-api;gatewarden,shortName=tmp
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.targetRefs[0].kind`
// +kubebuilder:printcolumn:name="Name",type=string,JSONPath=`.spec.targetRefs[0].name`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TimeoutPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec TimeoutPolicySpec `json:"spec"`
}

// TimeoutPolicySpec is what a TimeoutPolicy attaches and where.
//
// +kubebuilder:validation:XValidation:rule="has(self.default) || has(self.override)",message="set default, override or both"
type TimeoutPolicySpec struct {
	// TargetRefs are the objects the policy attaches to, in the policy's namespace.
	//
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(r, (r.group == 'gateway.networking.k8s.io' && r.kind in ['GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute']))",message="targetRefs must name a gateway.networking.k8s.io GatewayClass, Gateway, HTTPRoute or GRPCRoute"
	// +kubebuilder:validation:XValidation:rule="self.all(r, r.kind != 'GatewayClass' || !has(r.sectionName))",message="a GatewayClass has no sections"
	TargetRefs []gwv1.LocalPolicyTargetReferenceWithSectionName `json:"targetRefs"`

	// Default timeouts: they apply where nothing more specific sets a value.
	//
	// +optional
	Default *Timeouts `json:"default,omitempty"`

	// Override timeouts and bounds: they apply whatever is set below the target.
	//
	// +optional
	Override *TimeoutOverride `json:"override,omitempty"`
}

// Timeouts are the timeouts of an HTTPRoute rule (HTTPRouteTimeouts).
//
// +kubebuilder:validation:XValidation:rule="!(has(self.request) && has(self.backendRequest) && duration(self.request) != duration('0s') && duration(self.backendRequest) > duration(self.request))",message="backendRequest must not be greater than request"
type Timeouts struct {
	// Request is the timeout of a whole request, as HTTPRouteTimeouts.request; 0s means
	// no timeout.
	//
	// +optional
	Request *gwv1.Duration `json:"request,omitempty"`

	// BackendRequest is the timeout of one request to a backend, as
	// HTTPRouteTimeouts.backendRequest; 0s means no timeout.
	//
	// +optional
	BackendRequest *gwv1.Duration `json:"backendRequest,omitempty"`
}

// TimeoutOverride forces timeouts and bounds what the objects below the target may set.
type TimeoutOverride struct {
	Timeouts `json:",inline"`

	// Maximum is the largest request and backendRequest timeout that Routes below the
	// target may set.
	//
	// +optional
	Maximum *gwv1.Duration `json:"maximum,omitempty"`

	// AllowNoTimeout says whether Routes below the target may set 0s (no timeout). Unset
	// allows it, as Gateway API does.
	//
	// +optional
	AllowNoTimeout *bool `json:"allowNoTimeout,omitempty"`
}

// TimeoutPolicyList is a list of TimeoutPolicies.
//
// +kubebuilder:object:root=true
type TimeoutPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TimeoutPolicy `json:"items"`
}
