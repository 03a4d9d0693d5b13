// Package admission adapts Gatewarden's rules (package policy) to controller-runtime's
// admission webhooks: it decodes requests, runs the rules against a cached Lookup, confirms
// denials with uncached reads, and turns violations into denials, warnings or audit
// annotations as the configuration says.
package admission

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"gatewarden.dev/gatewarden/pkg/config"
	"gatewarden.dev/gatewarden/pkg/policy"
)

// Deps is what every handler shares.
type Deps struct {
	// Cached answers most requests; Live re-reads from the API server before a denial, so that
	// a stale cache (a ReferenceGrant created a moment ago) never causes one.
	Cached, Live policy.Lookup
	Config       *config.Config
	Log          logr.Logger
	// Metrics, when set, count decisions and findings.
	Metrics *Metrics
	// Ready, when set, tells whether the lookups can be trusted (kinds discovered, caches
	// synced); until then every review is answered at once with an error rather than held.
	Ready func() bool
}

// errStarting answers reviews that arrive before the caches have synced.
var errStarting = errors.New("gatewarden is starting: its caches have not synced yet")

func (h *Deps) starting() bool { return h.Ready != nil && !h.Ready() }

// validateFunc decodes a request's object (and old object) and runs the rules with lk.
type validateFunc func(ctx context.Context, lk policy.Lookup, req admission.Request) (policy.Violations, error)

// validatingHandler serves one kind's validating webhook.
type validatingHandler struct {
	*Deps
	kind     gwv1.Kind
	validate validateFunc
	// onDelete is set for kinds whose DELETE is checked (it can only warn).
	onDelete validateFunc
	// check, when set, replaces checkRequest for kinds outside gateway.networking.k8s.io.
	check func(admission.Request) error
	// notExempt, when set, names namespaces checked even if exempt: the policy namespace,
	// for TimeoutPolicies, which is the webhook's own by default.
	notExempt func(namespace string) bool
}

var _ admission.Handler = (*validatingHandler)(nil)

// badRequest answers 400: the request is malformed, which a retry will not fix. A 500
// would be worse: under failurePolicy Fail the API server treats it as the webhook failing.
func badRequest(err error) admission.Response { return admission.Errored(http.StatusBadRequest, err) }

// checkRequest rejects requests for a kind or version this handler does not serve.
func checkRequest(req admission.Request, kind gwv1.Kind) error {
	gvk := schema.GroupVersionKind{Group: req.Kind.Group, Version: req.Kind.Version, Kind: req.Kind.Kind}
	if gvk.Kind == "" {
		return fmt.Errorf("the request has no kind: is it an AdmissionReview from the API server?")
	}
	if gvk.Kind != string(kind) || gvk.Group != gwv1.GroupName {
		return fmt.Errorf("this endpoint validates %s.%s, not %s", kind, gwv1.GroupName, gvk.GroupKind())
	}
	return policy.CheckServed(gvk)
}

// objectMeta is the part of an object read before decoding it fully.
type objectMeta struct {
	Metadata struct {
		DeletionTimestamp *metav1.Time `json:"deletionTimestamp"`
	} `json:"metadata"`
	Spec jsontext.Value `json:"spec"`
}

// specUnchanged tells whether an UPDATE leaves the spec as it was: metadata-only and
// status-only updates are never blocked.
func specUnchanged(newRaw, oldRaw []byte) (unchanged, deleting bool, err error) {
	var n, o objectMeta
	if err := policy.DecodeJSON(newRaw, &n); err != nil {
		return false, false, err
	}
	if err := policy.DecodeJSON(oldRaw, &o); err != nil {
		return false, false, fmt.Errorf("old object: %w", err)
	}
	if n.Metadata.DeletionTimestamp != nil {
		return false, true, nil
	}
	if bytes.Equal(n.Spec, o.Spec) {
		return true, false, nil
	}
	var ns, os any
	if len(n.Spec) > 0 {
		if err := policy.DecodeJSON(n.Spec, &ns); err != nil {
			return false, false, err
		}
	}
	if len(o.Spec) > 0 {
		if err := policy.DecodeJSON(o.Spec, &os); err != nil {
			return false, false, fmt.Errorf("old object: %w", err)
		}
	}
	return reflect.DeepEqual(ns, os), false, nil
}

// Handle implements admission.Handler.
func (h *validatingHandler) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	resp := h.handle(ctx, req)
	h.record(req, resp, start)
	return resp
}

// record counts one decision. Findings are counted in respond, where their actions are known.
func (h *Deps) record(req admission.Request, resp admission.Response, start time.Time) {
	if h.Metrics == nil {
		return
	}
	verdict := "allowed"
	switch {
	case resp.Allowed:
	case resp.Result != nil && resp.Result.Code >= 400 && resp.Result.Code != http.StatusUnprocessableEntity:
		verdict = "errored"
	default:
		verdict = "denied"
	}
	dryRun := boolLabel(req.DryRun != nil && *req.DryRun)
	h.Metrics.Requests.WithLabelValues(req.Kind.Kind, string(req.Operation), verdict, dryRun).Inc()
	h.Metrics.Duration.WithLabelValues(req.Kind.Kind, string(req.Operation)).Observe(time.Since(start).Seconds())
}

func (h *validatingHandler) handle(ctx context.Context, req admission.Request) admission.Response {
	check := func(req admission.Request) error { return checkRequest(req, h.kind) }
	if h.check != nil {
		check = h.check
	}
	if err := check(req); err != nil {
		return badRequest(err)
	}
	if h.starting() {
		return admission.Errored(http.StatusInternalServerError, errStarting)
	}
	validate := h.validate
	switch req.Operation {
	case admissionv1.Create:
		if len(req.Object.Raw) == 0 {
			return badRequest(fmt.Errorf("CREATE request without an object"))
		}
	case admissionv1.Update:
		if len(req.Object.Raw) == 0 || len(req.OldObject.Raw) == 0 {
			return badRequest(fmt.Errorf("UPDATE request without object and old object"))
		}
		unchanged, deleting, err := specUnchanged(req.Object.Raw, req.OldObject.Raw)
		if err != nil {
			return badRequest(fmt.Errorf("decoding %s: %w", h.kind, err))
		}
		if unchanged || deleting {
			return admission.Allowed("")
		}
	case admissionv1.Delete:
		if h.onDelete == nil {
			return admission.Allowed("")
		}
		if len(req.OldObject.Raw) == 0 {
			return admission.Allowed("no old object to check")
		}
		validate = h.onDelete
	case admissionv1.Connect:
		return admission.Allowed("")
	default:
		return badRequest(fmt.Errorf("unknown operation %q", req.Operation))
	}
	if h.notExempt != nil && h.notExempt(req.Namespace) {
		// checked whatever the exemptions say
	} else if exempt, err := h.exempt(ctx, req.Namespace); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	} else if exempt {
		return admission.Allowed("namespace is exempt")
	}

	v, err := validate(ctx, h.Cached, req)
	if err != nil {
		return h.errored(err)
	}
	if h.denies(req, v) {
		// Confirm with uncached reads: deny only what the API server agrees with.
		if v, err = validate(ctx, h.Live, req); err != nil {
			return h.errored(err)
		}
		if h.Metrics != nil {
			outcome := "confirmed"
			if !h.denies(req, v) {
				outcome = "overturned"
			}
			h.Metrics.Confirmations.WithLabelValues(string(h.kind), outcome).Inc()
		}
	}
	return h.respond(req, v)
}

// decodeError marks an error that comes from the request's content, not from a lookup.
type decodeError struct{ error }

func (e decodeError) Unwrap() error { return e.error }

func (h *validatingHandler) errored(err error) admission.Response {
	if errors.As(err, new(decodeError)) {
		return badRequest(err)
	}
	h.Log.Error(err, "lookup failed", "kind", h.kind)
	return admission.Errored(http.StatusInternalServerError, fmt.Errorf("gatewarden could not read the objects it checks against: %w", err))
}

func (h *Deps) exempt(ctx context.Context, namespace string) (bool, error) {
	if namespace == "" {
		return false, nil
	}
	if h.Config.ExemptByName(namespace) {
		return true, nil
	}
	if !h.Config.HasExemptSelector() {
		return false, nil
	}
	nsLabels, err := h.Cached.NamespaceLabels(ctx, namespace)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return h.Config.ExemptByLabels(nsLabels), nil
}

// action returns what to do with one violation in this request.
func (h *Deps) action(req admission.Request, v policy.Violation) policy.Action {
	a := h.Config.Action(v.Rule)
	if a != policy.ActionDeny {
		return a
	}
	switch {
	case v.Ratcheted, req.Operation == admissionv1.Delete:
		return policy.ActionWarn
	case req.DryRun != nil && *req.DryRun && h.Config.DryRunDenials == policy.ActionWarn:
		return policy.ActionWarn
	}
	return policy.ActionDeny
}

func (h *Deps) denies(req admission.Request, v policy.Violations) bool {
	for _, x := range v {
		if h.action(req, x) == policy.ActionDeny {
			return true
		}
	}
	return false
}

// respond turns violations into the admission response: a 422 Invalid status listing each
// denied field as a cause, warnings for kubectl to print, and audit annotations.
func (h *Deps) respond(req admission.Request, v policy.Violations) admission.Response {
	var denied field.ErrorList
	var warnings []string
	audit := map[string][]string{}
	for _, x := range v {
		switch h.action(req, x) {
		case policy.ActionDeny:
			denied = append(denied, x.Err)
		case policy.ActionWarn:
			warnings = append(warnings, x.Err.Error())
		case policy.ActionAudit:
			audit[string(x.Rule)] = append(audit[string(x.Rule)], x.Err.Error())
		}
		if h.Metrics != nil {
			h.Metrics.Findings.WithLabelValues(req.Kind.Kind, string(req.Operation), string(x.Rule), strings.ToLower(string(h.action(req, x))), boolLabel(req.DryRun != nil && *req.DryRun)).Inc()
		}
		h.Log.Info("violation", "uid", req.UID, "kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name,
			"rule", x.Rule, "action", h.action(req, x), "field", x.Err.Field, "user", req.UserInfo.Username, "dryRun", req.DryRun != nil && *req.DryRun)
	}
	var resp admission.Response
	if len(denied) > 0 {
		gk := schema.GroupKind{Group: req.Kind.Group, Kind: req.Kind.Kind}
		status := apierrors.NewInvalid(gk, req.Name, denied).ErrStatus
		resp = admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &status}}
	} else {
		resp = admission.Allowed("")
	}
	resp.Warnings = warnings
	if len(audit) > 0 {
		resp.AuditAnnotations = map[string]string{}
		keys := make([]string, 0, len(audit))
		for k := range audit {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			resp.AuditAnnotations[k] = strings.Join(audit[k], "; ")
		}
	}
	return resp
}

// decodeRequest decodes req's object and, when present, old object into new and old, the
// kind's v1 types, whatever served version the request carries.
func decodeRequest(req admission.Request, newObj, oldObj any) (hasNew, hasOld bool, err error) {
	gvk := schema.GroupVersionKind{Group: req.Kind.Group, Version: req.Kind.Version, Kind: req.Kind.Kind}
	if len(req.Object.Raw) > 0 {
		if err := policy.Decode(gvk, req.Object.Raw, newObj); err != nil {
			return false, false, decodeError{err}
		}
		hasNew = true
	}
	if len(req.OldObject.Raw) > 0 {
		if err := policy.Decode(gvk, req.OldObject.Raw, oldObj); err != nil {
			return false, false, decodeError{fmt.Errorf("old object: %w", err)}
		}
		hasOld = true
	}
	return hasNew, hasOld, nil
}
