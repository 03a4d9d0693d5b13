package admission

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// TestRequestLogger checks that RequestLogger writes the lines DefaultLogConstructor
// would, caller included, and that it skips lines above the base logger's verbosity.
func TestRequestLogger(t *testing.T) {
	req := &admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "uid-7", Namespace: "prod", Name: "web",
		Resource: metav1.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"},
		UserInfo: authenticationv1.UserInfo{Username: "alice"},
	}}
	record := func(write func(logr.Logger)) []string {
		var lines []string
		base := funcr.New(func(prefix, args string) { lines = append(lines, prefix+" "+args) },
			funcr.Options{LogCaller: funcr.All, Verbosity: 1}).WithName("admission")
		write(base)
		return lines
	}
	use := func(l logr.Logger) {
		l.V(1).Info("received request")
		l.V(5).Info("too verbose")
		l = l.WithName("http").WithValues("step", 2)
		l.Error(errors.New("boom"), "unable to encode response", "code", 500)
	}
	want := record(func(base logr.Logger) { use(admission.DefaultLogConstructor(base, req)) })
	got := record(func(base logr.Logger) { use(RequestLogger(base, req)) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-DefaultLogConstructor +RequestLogger):\n%s", diff)
	}
	if len(got) != 2 || !strings.Contains(got[0], `"requestID"="uid-7"`) || !strings.Contains(got[0], "log_test.go") {
		t.Errorf("want 2 lines with the request ID and this file as caller, got %q", got)
	}
	// Without a request (controller-runtime's errors before decoding) it is the base logger.
	if got := record(func(base logr.Logger) { RequestLogger(base, nil).Info("bad request") }); len(got) != 1 || strings.Contains(got[0], "requestID") {
		t.Errorf("without a request: %q", got)
	}
}
