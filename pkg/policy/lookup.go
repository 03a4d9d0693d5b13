package policy

import (
	"context"

	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	policyv1a1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
)

// Lookup is the read-only view of the cluster that the rules need. Implementations return
// an error satisfying apierrors.IsNotFound for a missing object; the rules treat NotFound as
// data and pass every other error up, so that a failed read is never taken for a verdict.
// Slices returned are owned by the caller for reading only.
type Lookup interface {
	Gateway(ctx context.Context, namespace, name string) (*gwv1.Gateway, error)
	ListenerSet(ctx context.Context, namespace, name string) (*gwv1.ListenerSet, error)
	GatewayClass(ctx context.Context, name string) (*gwv1.GatewayClass, error)
	// NamespaceLabels returns the live labels of a Namespace.
	NamespaceLabels(ctx context.Context, name string) (labels.Set, error)
	// ReferenceGrants returns the ReferenceGrants in a namespace.
	ReferenceGrants(ctx context.Context, namespace string) ([]*gwv1.ReferenceGrant, error)
	// RoutesForParent returns the Routes of every kind with a parentRef to the Gateway or
	// ListenerSet (parentKind) namespace/name.
	RoutesForParent(ctx context.Context, parentKind gwv1.Kind, namespace, name string) ([]*Route, error)
	// ReferrersInto returns the Routes, Gateways and ListenerSets that reference an object in
	// namespace from another namespace.
	ReferrersInto(ctx context.Context, namespace string) ([]*Referrer, error)
	// Route returns a Route of a kind by namespace and name.
	Route(ctx context.Context, kind gwv1.Kind, namespace, name string) (*Route, error)
	// GatewaysOfClass returns the Gateways of a GatewayClass.
	GatewaysOfClass(ctx context.Context, class string) ([]*gwv1.Gateway, error)
	// TimeoutPolicies returns the TimeoutPolicies with a targetRef to the object of kind
	// namespace/name (namespace is empty for a GatewayClass), in any namespace: the rules
	// decide which count.
	TimeoutPolicies(ctx context.Context, kind gwv1.Kind, namespace, name string) ([]*policyv1a1.TimeoutPolicy, error)
}
