// Package v1alpha1 holds Gatewarden's policy API, group policy.gatewarden.dev: the
// TimeoutPolicy, a direct policy attachment (GEP-713) of Gateway API timeouts.
// +kubebuilder:object:generate=true
// +groupName=policy.gatewarden.dev
package v1alpha1
