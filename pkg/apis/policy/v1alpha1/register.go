package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// GroupVersion is the group and version of this API.
var GroupVersion = schema.GroupVersion{Group: "policy.gatewarden.dev", Version: "v1alpha1"}

// SchemeBuilder registers the types of this API with a scheme; AddToScheme applies it.
var (
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	AddToScheme   = SchemeBuilder.AddToScheme
)

func init() {
	SchemeBuilder.Register(&TimeoutPolicy{}, &TimeoutPolicyList{})
}
