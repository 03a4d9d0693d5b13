package admission

import (
	"strings"
	"testing"
)

// TestReviewVersion covers the start of a review as RequireReviewV1 sees it: the first
// reviewPrefix bytes, cut anywhere.
func TestReviewVersion(t *testing.T) {
	cases := map[string]struct {
		head   string
		want   string
		wantOK bool
	}{
		"apiVersion first":         {head: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"`, want: "admission.k8s.io/v1", wantOK: true},
		"kind first":               {head: `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1beta1","request":{`, want: "admission.k8s.io/v1beta1", wantOK: true},
		"escaped key and value":    {head: `{"apiVersi\u006fn":"admission.k8s.io\/v1"}`, want: "admission.k8s.io/v1", wantOK: true},
		"third key":                {head: `{"a":1,"b":{"c":[1,2]},"apiVersion":"v9"}`, want: "v9", wantOK: true},
		"fourth key is too late":   {head: `{"a":1,"b":2,"c":3,"apiVersion":"v9"}`},
		"cut in the value":         {head: `{"apiVersion":"admission.k8s`},
		"cut in a skipped value":   {head: `{"request":{"uid":"` + strings.Repeat("x", 600)},
		"not an object":            {head: `["apiVersion","v1"]`},
		"apiVersion is not string": {head: `{"apiVersion":1}`},
		"empty":                    {head: ``},
		"not JSON":                 {head: `apiVersion: v1`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := reviewVersion([]byte(tc.head))
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("reviewVersion(%.60q) = %q, %v; want %q, %v", tc.head, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func BenchmarkReviewVersion(b *testing.B) {
	head := []byte(benchReview[:min(len(benchReview), reviewPrefix)])
	b.ReportAllocs()
	for b.Loop() {
		if v, ok := reviewVersion(head); !ok || v != "admission.k8s.io/v1" {
			b.Fatal(v, ok)
		}
	}
}
