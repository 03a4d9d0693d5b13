package admission

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// MaxReviewBytes is the largest AdmissionReview read, as in controller-runtime (7 MiB):
// the API server's own request limit is 3 MiB, and a review carries two objects.
const MaxReviewBytes = 7 * 1024 * 1024

// reviewPrefix is how much of a review RequireReviewV1 reads ahead: the API server writes
// kind and apiVersion first.
const reviewPrefix = 512

// RequireReviewV1 answers an AdmissionReview of any apiVersion other than
// admission.k8s.io/v1 with a clear error (code 400) instead of handing it on:
// controller-runtime would otherwise answer whatever version it is sent. It peeks at the
// start of the body only, and hands the body on unread, so it costs no copy of the review.
func RequireReviewV1(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		br := bufio.NewReaderSize(r.Body, reviewPrefix)
		head, _ := br.Peek(reviewPrefix) // a shorter body, or an error, leaves what there is
		if version, ok := reviewVersion(head); ok && version != admissionv1.SchemeGroupVersion.String() {
			body, _ := io.ReadAll(io.LimitReader(br, MaxReviewBytes))
			writeReviewError(w, reviewUID(append(head[:len(head):len(head)], body...)), fmt.Errorf(
				"AdmissionReview %s is not served: Gatewarden speaks admission.k8s.io/v1 (admissionReviewVersions: [v1])", version), http.StatusBadRequest)
			return
		}
		r.Body = readCloser{Reader: br, Closer: r.Body}
		next.ServeHTTP(w, r)
	})
}

type readCloser struct {
	io.Reader
	io.Closer
}

// prefixDecoders are reused by reviewVersion: it runs on every review, and a decoder's
// buffers are most of what it would otherwise allocate.
var prefixDecoders = sync.Pool{New: func() any { return jsontext.NewDecoder(bytes.NewReader(nil)) }}

// reviewVersion reads the apiVersion among the first keys of the start of a JSON object;
// ok is false when it is not there (the next handler then decides).
func reviewVersion(body []byte) (version string, ok bool) {
	dec := prefixDecoders.Get().(*jsontext.Decoder)
	// A bytes.Buffer is read in place, without a copy.
	dec.Reset(bytes.NewBuffer(body))
	defer func() {
		dec.Reset(bytes.NewReader(nil)) // drop the reference to body
		prefixDecoders.Put(dec)
	}()
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return "", false
	}
	for range 3 {
		key, err := dec.ReadToken()
		if err != nil || key.Kind() != '"' {
			return "", false
		}
		if key.String() == "apiVersion" {
			v, err := dec.ReadToken()
			if err != nil || v.Kind() != '"' {
				return "", false
			}
			return v.String(), true
		}
		if err := dec.SkipValue(); err != nil {
			return "", false
		}
	}
	return "", false
}

func reviewUID(body []byte) types.UID {
	var r struct {
		Request struct {
			UID types.UID `json:"uid"`
		} `json:"request"`
	}
	_ = json.Unmarshal(body, &r)
	return r.Request.UID
}

func writeReviewError(w http.ResponseWriter, uid types.UID, err error, code int32) {
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "AdmissionReview"},
		Response: &admissionv1.AdmissionResponse{UID: uid, Allowed: false, Result: &metav1.Status{Code: code, Message: err.Error()}},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(review)
}
