package install

import (
	"fmt"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	gwadmission "gatewarden.dev/gatewarden/pkg/admission"
)

// TestRBACAuthorizes installs the ServiceAccount, ClusterRole and ClusterRoleBinding
// for real and asks the apiserver's RBAC authorizer (SubjectAccessReview) what the
// webhook's ServiceAccount may do: read every kind the server's cache and
// confirmation reads use (pkg/admission.CacheObjects, resolved by the apiserver's own
// REST mapping), and nothing else that matters: no Secrets, no writes.
func TestRBACAuthorizes(t *testing.T) {
	needEnv(t)
	objs := buildBase(t)
	applyForReal(t, objs.one(t, "Namespace", namespace), objs.one(t, "ServiceAccount", serviceAccount),
		objs.one(t, "ClusterRole", ""), objs.one(t, "ClusterRoleBinding", ""))

	user := fmt.Sprintf("system:serviceaccount:%s:%s", namespace, serviceAccount)
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}
	can := func(verb string, gr schema.GroupResource, ns string) bool {
		t.Helper()
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: groups,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: gr.Group, Resource: gr.Resource, Namespace: ns},
		}}
		if err := env.Client.Create(t.Context(), sar); err != nil {
			t.Fatalf("SubjectAccessReview: %v", err)
		}
		return sar.Status.Allowed
	}

	all := func(gwv1.Kind) bool { return true }
	for _, obj := range gwadmission.CacheObjects(all) {
		gvk, err := apiutil.GVKForObject(obj, env.Client.Scheme())
		if err != nil {
			t.Fatal(err)
		}
		mapping, err := env.Client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s: %v", gvk, err)
		}
		gr := mapping.Resource.GroupResource()
		for _, verb := range []string{"get", "list", "watch"} {
			if !can(verb, gr, "") {
				t.Errorf("cannot %s %s, which the webhook's cache reads", verb, gr)
			}
		}
		for _, verb := range []string{"create", "update", "patch", "delete", "deletecollection"} {
			if can(verb, gr, "") {
				t.Errorf("may %s %s: the webhook only reads", verb, gr)
			}
		}
	}
	// Named as well as through CacheObjects: the ClusterRole must grant them whether or
	// not the server's cache reads them yet.
	for _, gr := range []schema.GroupResource{{Group: "policy.gatewarden.dev", Resource: "timeoutpolicies"}} {
		for _, verb := range []string{"get", "list", "watch"} {
			if !can(verb, gr, "") || !can(verb, gr, "prod") {
				t.Errorf("cannot %s %s", verb, gr)
			}
		}
		for _, verb := range []string{"create", "update", "patch", "delete"} {
			if can(verb, gr, "") {
				t.Errorf("may %s %s: the webhook only reads", verb, gr)
			}
		}
	}
	secrets := schema.GroupResource{Resource: "secrets"}
	for _, ns := range []string{"", namespace, "default"} {
		for _, verb := range []string{"get", "list", "watch"} {
			if can(verb, secrets, ns) {
				t.Errorf("may %s secrets in %q", verb, ns)
			}
		}
	}
	for _, gr := range []schema.GroupResource{
		{Resource: "configmaps"}, {Resource: "events"}, {Resource: "pods"}, {Resource: "serviceaccounts"},
		{Group: "coordination.k8s.io", Resource: "leases"},
		{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations"},
		{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	} {
		for _, verb := range []string{"list", "create"} {
			if can(verb, gr, namespace) {
				t.Errorf("may %s %s in its own namespace", verb, gr)
			}
		}
	}
	for _, verb := range []string{"update", "patch"} {
		if can(verb, schema.GroupResource{Resource: "namespaces"}, "") {
			t.Errorf("may %s namespaces", verb)
		}
	}
}
