// Package policy holds Gatewarden's admission rules. A rule is a pure function over typed
// Gateway API objects and a read-only Lookup; it returns violations tagged with a stable
// rule ID. Nothing here talks to a cluster, reads flags or keeps package state, so the
// same rules serve the admission webhook, tests and offline checks.
package policy

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// RuleID names a rule for configuration, metrics and docs. IDs never change meaning.
type RuleID string

// Action is what the webhook does with a violation of a rule.
type Action string

const (
	// ActionDeny rejects the request with the violation as a cause.
	ActionDeny Action = "Deny"
	// ActionWarn admits the request and returns the violation as an admission warning.
	ActionWarn Action = "Warn"
	// ActionAudit admits the request, logs the violation and records an audit annotation.
	ActionAudit Action = "Audit"
)

// The rule IDs. docs/rules.md describes each with an example and its fix.
const (
	RuleNoMatchingParent            RuleID = "route-no-matching-parent"
	RuleNotAllowedByListeners       RuleID = "route-not-allowed-by-listeners"
	RuleNoMatchingListenerHostname  RuleID = "route-no-matching-listener-hostname"
	RuleParentNotFound              RuleID = "route-parent-not-found"
	RuleRefNotPermitted             RuleID = "ref-not-permitted"
	RuleListenerSetNotAllowed       RuleID = "listenerset-not-allowed"
	RuleListenerSetParentNotFound   RuleID = "listenerset-parent-not-found"
	RuleInvalidRouteKinds           RuleID = "listener-invalid-route-kinds"
	RuleSelectorRequired            RuleID = "listener-selector-required"
	RuleDetachesRoutes              RuleID = "gateway-detaches-routes"
	RuleGrantRevokesReferences      RuleID = "referencegrant-revokes-references"
	RuleRouteTimeoutOverride        RuleID = "route-timeout-exceeds-override"
	RuleTimeoutPolicyContradicts    RuleID = "timeoutpolicy-contradicts-override"
	RuleTimeoutPolicyNamespace      RuleID = "timeoutpolicy-class-namespace"
	RuleTimeoutPolicyTargetNotFound RuleID = "timeoutpolicy-target-not-found"
	RuleTimeoutPolicyConflict       RuleID = "timeoutpolicy-conflict"
	RuleTimeoutOverrideViolated     RuleID = "timeoutpolicy-override-violated-by-routes"
)

// Rule describes one rule: the condition reason it agrees with, its default action and
// the Gateway API spec text it enforces.
type Rule struct {
	ID            RuleID
	Reason        string
	DefaultAction Action
	Spec          string
}

// Rules lists every rule in a fixed order.
var Rules = []Rule{
	{RuleNoMatchingParent, "NoMatchingParent", ActionDeny,
		"ParentReference.sectionName/port: when set, the Route attaches only to the listener with that name and/or port (GEP-957); otherwise the Route's Accepted condition is False with reason NoMatchingParent."},
	{RuleNotAllowedByListeners, "NotAllowedByListeners", ActionDeny,
		"Listener.allowedRoutes: the Route's kind must be among the listener's kinds (explicit, or those compatible with its protocol) and its namespace must be admitted by namespaces.from (Same, All, Selector); else reason NotAllowedByListeners."},
	{RuleNoMatchingListenerHostname, "NoMatchingListenerHostname", ActionDeny,
		"Listener.hostname and Route.hostnames: a Route attaches only to listeners whose hostname intersects one of its hostnames; a leading `*.` matches one or more labels and not the bare domain; else reason NoMatchingListenerHostname."},
	{RuleParentNotFound, "NoMatchingParent", ActionWarn,
		"A parentRef may name a Gateway or ListenerSet that does not exist yet; the Route will attach when it is created, so this is a warning."},
	{RuleRefNotPermitted, "RefNotPermitted", ActionDeny,
		"ReferenceGrant (GEP-709): a reference to an object in another namespace is permitted only if a ReferenceGrant in the target namespace has a `from` entry for the referrer's group, kind and namespace and a `to` entry for the target's group, kind and (if set) name."},
	{RuleListenerSetNotAllowed, "NotAllowed", ActionDeny,
		"Gateway.spec.allowedListeners: a ListenerSet attaches to a Gateway only if the Gateway admits the ListenerSet's namespace (from: None by default, Same, All, Selector); else reason NotAllowed."},
	{RuleListenerSetParentNotFound, "NotAllowed", ActionWarn,
		"A ListenerSet's parentRef may name a Gateway that does not exist yet; this is a warning."},
	{RuleInvalidRouteKinds, "InvalidRouteKinds", ActionDeny,
		"Listener.allowedRoutes.kinds: every kind must be compatible with the listener's protocol (HTTP/HTTPS: HTTPRoute, GRPCRoute; TLS: TLSRoute; TCP: TCPRoute; UDP: UDPRoute); else ResolvedRefs is False with reason InvalidRouteKinds."},
	{RuleSelectorRequired, "Invalid", ActionDeny,
		"RouteNamespaces/ListenerNamespaces: `from: Selector` selects namespaces by `selector`, which must then be set."},
	{RuleDetachesRoutes, "NotAllowedByListeners", ActionWarn,
		"Changing a Gateway's or ListenerSet's listeners detaches the Routes they no longer admit."},
	{RuleGrantRevokesReferences, "RefNotPermitted", ActionWarn,
		"Changing or deleting a ReferenceGrant makes the references it permitted RefNotPermitted (GEP-709)."},
	{RuleRouteTimeoutOverride, "OverrideViolated", ActionDeny,
		"GEP-713: an override attached above a Route takes effect whatever the Route sets (less specific wins); a TimeoutPolicy override's maximum and allowNoTimeout bound the rules[].timeouts of the HTTPRoutes below it."},
	{RuleTimeoutPolicyContradicts, "OverrideViolated", ActionDeny,
		"GEP-713: a default or override below an override that forbids its value can never take effect."},
	{RuleTimeoutPolicyNamespace, "Invalid", ActionDeny,
		"A TimeoutPolicy targets objects in its own namespace; one that targets a (cluster-scoped) GatewayClass takes effect only in the configured policy namespace."},
	{RuleTimeoutPolicyTargetNotFound, "TargetNotFound", ActionWarn,
		"GEP-713: a policy whose target does not exist does not take effect until it does."},
	{RuleTimeoutPolicyConflict, "Conflicted", ActionWarn,
		"GEP-713: when two policies at the same target set the same field, the oldest (creationTimestamp) wins, then the first by namespace/name; the other is Conflicted."},
	{RuleTimeoutOverrideViolated, "OverrideViolated", ActionWarn,
		"A new or changed override that existing Routes already violate: they are stored, and their next change of those timeouts must comply."},
}

// RuleByID returns the rule with the given ID.
func RuleByID(id RuleID) (Rule, bool) {
	for _, r := range Rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// Violation is one finding of one rule: the field at fault and what is wrong with it. Its
// detail starts with "[rule-id] Reason:" so that people and scripts can tell rules apart.
type Violation struct {
	Rule RuleID
	Err  *field.Error
	// Ratcheted is set on an UPDATE when the offending value was already in the old object:
	// the webhook then warns instead of denying, so an unrelated edit is never blocked by a
	// change elsewhere (a Gateway or a grant) that made an old value wrong.
	Ratcheted bool
}

// Violations is the result of validating one object.
type Violations []Violation

// add records a violation of rule, prefixing the error's detail with the rule ID and reason.
func (v *Violations) add(rule RuleID, err *field.Error) *Violation {
	reason := string(rule)
	if r, ok := RuleByID(rule); ok {
		reason = r.Reason
	}
	err.Detail = fmt.Sprintf("[%s] %s: %s", rule, reason, err.Detail)
	*v = append(*v, Violation{Rule: rule, Err: err})
	return &(*v)[len(*v)-1]
}

// ErrorList returns the field errors of all violations, in order.
func (v Violations) ErrorList() field.ErrorList {
	allErrs := make(field.ErrorList, 0, len(v))
	for _, x := range v {
		allErrs = append(allErrs, x.Err)
	}
	return allErrs
}

// ByRule returns the field errors of the violations of one rule.
func (v Violations) ByRule(id RuleID) field.ErrorList {
	var allErrs field.ErrorList
	for _, x := range v {
		if x.Rule == id {
			allErrs = append(allErrs, x.Err)
		}
	}
	return allErrs
}
