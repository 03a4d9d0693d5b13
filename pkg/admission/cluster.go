package admission

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	policyv1a1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
	"gatewarden.dev/gatewarden/pkg/policy"
)

// ReadCluster lists every object the rules read (Namespaces, GatewayClasses, Gateways,
// ListenerSets, ReferenceGrants and Routes of the available kinds) as policy Objects, for
// offline checks and audits against a live cluster.
func ReadCluster(ctx context.Context, reader client.Reader, available func(gwv1.Kind) bool) ([]policy.Object, error) {
	var out []policy.Object
	nsList := &metav1.PartialObjectMetadataList{}
	nsList.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NamespaceList"))
	if err := reader.List(ctx, nsList); err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	for _, ns := range nsList.Items {
		out = append(out, policy.Object{GVK: corev1.SchemeGroupVersion.WithKind("Namespace"), Name: ns.Name, Value: labels.Set(ns.Labels)})
	}
	type kindList struct {
		kind gwv1.Kind
		list client.ObjectList
	}
	lists := []kindList{{"GatewayClass", &gwv1.GatewayClassList{}}, {policy.KindGateway, &gwv1.GatewayList{}}, {policy.KindReferenceGrant, &gwv1.ReferenceGrantList{}}}
	if available(policy.KindListenerSet) {
		lists = append(lists, kindList{policy.KindListenerSet, &gwv1.ListenerSetList{}})
	}
	for _, rk := range RouteKinds {
		if available(rk.kind) {
			lists = append(lists, kindList{rk.kind, rk.newList()})
		}
	}
	if available(KindTimeoutPolicy) {
		lists = append(lists, kindList{KindTimeoutPolicy, &policyv1a1.TimeoutPolicyList{}})
	}
	for _, kl := range lists {
		if err := reader.List(ctx, kl.list); err != nil {
			return nil, fmt.Errorf("listing %s: %w", kl.kind, err)
		}
		items, err := meta.ExtractList(kl.list)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			obj := item.(client.Object)
			gvk := gwv1.SchemeGroupVersion.WithKind(string(kl.kind))
			if kl.kind == KindTimeoutPolicy {
				gvk = policyv1a1.GroupVersion.WithKind(string(kl.kind))
			}
			out = append(out, policy.Object{GVK: gvk, Namespace: obj.GetNamespace(), Name: obj.GetName(), Value: obj})
		}
	}
	return out, nil
}
