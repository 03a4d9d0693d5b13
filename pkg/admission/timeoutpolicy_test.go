package admission

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

func policyRequest(version, namespace, object string) admission.Request {
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "uid-p",
		Kind:      metav1.GroupVersionKind{Group: "policy.gatewarden.dev", Version: version, Kind: "TimeoutPolicy"},
		Operation: admissionv1.Create,
		Namespace: namespace,
		Name:      "p",
		Object:    runtime.RawExtension{Raw: []byte(object)},
	}}
}

const classPolicy = `{"apiVersion":"policy.gatewarden.dev/v1alpha1","kind":"TimeoutPolicy","metadata":{"name":"p","namespace":%q},
"spec":{"targetRefs":[{"group":"gateway.networking.k8s.io","kind":"GatewayClass","name":"example"}],"override":{"allowNoTimeout":false}}}`

// TestTimeoutPolicyHandler checks the TimeoutPolicy endpoint: the policy namespace is
// checked although it is the webhook's own (exempt for every other kind), a class policy
// elsewhere is denied, and an unserved version is a 400.
func TestTimeoutPolicyHandler(t *testing.T) {
	w := loadWorld(t, world)
	h := NewTimeoutPolicyValidator(newDeps(t, w, w, nil))
	cases := map[string]struct {
		req  admission.Request
		want result
	}{
		"policy namespace is checked": {
			req:  policyRequest("v1alpha1", "gatewarden-system", fmt.Sprintf(classPolicy, "gatewarden-system")),
			want: result{Allowed: true, Code: http.StatusOK, Warnings: []string{`spec.targetRefs[0].name: Not found: "example": [timeoutpolicy-target-not-found] TargetNotFound`}},
		},
		"class policy outside the policy namespace": {
			req:  policyRequest("v1alpha1", "prod", fmt.Sprintf(classPolicy, "prod")),
			want: result{Code: http.StatusUnprocessableEntity, Causes: []string{"spec.targetRefs[0]: Forbidden: [timeoutpolicy-class-namespace] Invalid"}},
		},
		"unserved version": {
			req:  policyRequest("v1", "prod", fmt.Sprintf(classPolicy, "prod")),
			want: result{Code: http.StatusBadRequest, Causes: []string{"TimeoutPolicy.policy.gatewarden.dev version v1 is not served (served: v1alpha1)"}},
		},
		"malformed": {
			req:  policyRequest("v1alpha1", "prod", `{"spec":{"targetRefs":{}}}`),
			want: result{Code: http.StatusBadRequest, Causes: []string{`decoding TimeoutPolicy: spec.targetRefs: must be an array, not an object`}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, summarize(h.Handle(context.Background(), tc.req))); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}
