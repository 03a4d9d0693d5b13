package policy

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	policyv1a1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
)

// KindGatewayClass is the kind of a GatewayClass.
const KindGatewayClass gwv1.Kind = "GatewayClass"

// TimeoutOptions are the settings the TimeoutPolicy rules read from the configuration.
type TimeoutOptions struct {
	// PolicyNamespace is the only namespace whose TimeoutPolicies may target a GatewayClass.
	PolicyNamespace string
}

// RouteRule is one rule of a Route as the timeout rules see it.
type RouteRule struct {
	Name     *gwv1.SectionName
	Timeouts *gwv1.HTTPRouteTimeouts
}

// The timeout fields, in a fixed order for deterministic output.
const (
	fieldRequest        = "request"
	fieldBackendRequest = "backendRequest"
	fieldMaximum        = "maximum"
	fieldAllowNoTimeout = "allowNoTimeout"
)

// level is one step of the attachment hierarchy, from the least specific (GatewayClass)
// to the most (a Route rule).
type level struct {
	kind        gwv1.Kind
	namespace   string
	name        string
	sectionName string
	// describe names the level in messages, e.g. `GatewayClass "example"`.
	describe string
}

// Origin says where an effective value comes from.
type Origin struct {
	// Policy is "namespace/name" of the TimeoutPolicy, or empty for the Route's own spec.
	Policy string `json:"policy,omitempty"`
	// Block is "default", "override" or "spec".
	Block string `json:"block"`
	// AttachedTo names the object the policy targets, e.g. `Gateway infra/prod-web`.
	AttachedTo string `json:"attachedTo"`
}

func (o Origin) String() string {
	if o.Policy == "" {
		return "the Route's spec"
	}
	return fmt.Sprintf("TimeoutPolicy %s (%s on %s)", o.Policy, o.Block, o.AttachedTo)
}

// Value is an effective value and its origin; Set is false when nothing sets it.
type Value struct {
	Set    bool   `json:"set"`
	Value  string `json:"value,omitempty"`
	Origin Origin `json:"origin"`
}

// Conflict is a value one policy sets and another, at the same target, also sets: the
// older policy (then namespace/name) wins (GEP-713) and the other is reported.
type Conflict struct {
	Field  string `json:"field"`
	Block  string `json:"block"`
	Winner string `json:"winner"`
	Loser  string `json:"loser"`
	Target string `json:"target"`
}

// EffectiveTimeouts are the timeouts in force for one Route rule through one parent
// Gateway, field by field, with where each comes from.
type EffectiveTimeouts struct {
	Rule           int        `json:"rule"`
	RuleName       string     `json:"ruleName,omitempty"`
	Gateway        string     `json:"gateway"`
	GatewayClass   string     `json:"gatewayClass"`
	Request        Value      `json:"request"`
	BackendRequest Value      `json:"backendRequest"`
	Maximum        Value      `json:"maximum"`
	AllowNoTimeout Value      `json:"allowNoTimeout"`
	Conflicts      []Conflict `json:"conflicts,omitempty"`
}

// policyFields lists the fields a policy block sets, with their values.
func blockFields(p *policyv1a1.TimeoutPolicy, block string) map[string]string {
	out := map[string]string{}
	put := func(name string, d *gwv1.Duration) {
		if d != nil {
			out[name] = string(*d)
		}
	}
	switch block {
	case "default":
		if d := p.Spec.Default; d != nil {
			put(fieldRequest, d.Request)
			put(fieldBackendRequest, d.BackendRequest)
		}
	case "override":
		if o := p.Spec.Override; o != nil {
			put(fieldRequest, o.Request)
			put(fieldBackendRequest, o.BackendRequest)
			put(fieldMaximum, o.Maximum)
			if o.AllowNoTimeout != nil {
				out[fieldAllowNoTimeout] = fmt.Sprint(*o.AllowNoTimeout)
			}
		}
	}
	return out
}

func policyKey(p *policyv1a1.TimeoutPolicy) string { return p.Namespace + "/" + p.Name }

// olderFirst orders policies as GEP-713 resolves conflicts: oldest first, then by
// namespace/name.
func olderFirst(a, b *policyv1a1.TimeoutPolicy) int {
	if c := a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	return cmp.Compare(policyKey(a), policyKey(b))
}

// targets tells whether p targets the level's object (and section).
func targets(p *policyv1a1.TimeoutPolicy, l level) bool {
	for _, ref := range p.Spec.TargetRefs {
		if ref.Group != Group || ref.Kind != l.kind || string(ref.Name) != l.name {
			continue
		}
		section := ""
		if ref.SectionName != nil {
			section = string(*ref.SectionName)
		}
		if section == l.sectionName {
			return true
		}
	}
	return false
}

// levelPolicies returns the policies in force at a level, oldest first. Policies on a
// GatewayClass count only in the policy namespace.
func levelPolicies(ctx context.Context, lk Lookup, l level, opts TimeoutOptions) ([]*policyv1a1.TimeoutPolicy, error) {
	all, err := lk.TimeoutPolicies(ctx, l.kind, l.namespace, l.name)
	if err != nil {
		return nil, err
	}
	var out []*policyv1a1.TimeoutPolicy
	for _, p := range all {
		if p.DeletionTimestamp != nil || !targets(p, l) {
			continue
		}
		if l.kind == KindGatewayClass && p.Namespace != opts.PolicyNamespace {
			continue
		}
		if l.kind != KindGatewayClass && p.Namespace != l.namespace {
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, olderFirst)
	return out, nil
}

// resolved is, per level and block, the winning value of each field.
type resolved struct {
	level  level
	values map[string]map[string]Value // block -> field -> value
}

func resolveLevel(ctx context.Context, lk Lookup, l level, opts TimeoutOptions, conflicts *[]Conflict) (resolved, error) {
	r := resolved{level: l, values: map[string]map[string]Value{"default": {}, "override": {}}}
	policies, err := levelPolicies(ctx, lk, l, opts)
	if err != nil {
		return r, err
	}
	for _, block := range []string{"override", "default"} {
		winners := map[string]string{}
		for _, p := range policies {
			fields := blockFields(p, block)
			for _, f := range []string{fieldRequest, fieldBackendRequest, fieldMaximum, fieldAllowNoTimeout} {
				v, ok := fields[f]
				if !ok {
					continue
				}
				if w, taken := winners[f]; taken {
					*conflicts = append(*conflicts, Conflict{Field: f, Block: block, Winner: w, Loser: policyKey(p), Target: l.describe})
					continue
				}
				winners[f] = policyKey(p)
				r.values[block][f] = Value{Set: true, Value: v, Origin: Origin{Policy: policyKey(p), Block: block, AttachedTo: l.describe}}
			}
		}
	}
	return r, nil
}

// hierarchy returns the levels above and at a Route rule through one parent Gateway.
func hierarchy(gw *gwv1.Gateway, ref gwv1.ParentReference, route *Route, rule RouteRule) []level {
	levels := []level{
		{kind: KindGatewayClass, name: string(gw.Spec.GatewayClassName), describe: fmt.Sprintf("GatewayClass %s", gw.Spec.GatewayClassName)},
		{kind: KindGateway, namespace: gw.Namespace, name: gw.Name, describe: fmt.Sprintf("Gateway %s/%s", gw.Namespace, gw.Name)},
	}
	if ref.SectionName != nil {
		levels = append(levels, level{kind: KindGateway, namespace: gw.Namespace, name: gw.Name, sectionName: string(*ref.SectionName),
			describe: fmt.Sprintf("listener %s of Gateway %s/%s", *ref.SectionName, gw.Namespace, gw.Name)})
	}
	levels = append(levels, level{kind: route.Kind, namespace: route.Namespace, name: route.Name, describe: fmt.Sprintf("%s %s/%s", route.Kind, route.Namespace, route.Name)})
	if rule.Name != nil {
		levels = append(levels, level{kind: route.Kind, namespace: route.Namespace, name: route.Name, sectionName: string(*rule.Name),
			describe: fmt.Sprintf("rule %s of %s %s/%s", *rule.Name, route.Kind, route.Namespace, route.Name)})
	}
	return levels
}

// merge walks the levels: overrides from the top down (the least specific that sets a
// field wins), then the Route's own value, then defaults from the bottom up (the most
// specific wins).
func merge(levels []resolved, own *gwv1.HTTPRouteTimeouts) (request, backendRequest, maximum, allowNoTimeout Value) {
	pick := func(f string, ownValue *gwv1.Duration, withDefault bool) Value {
		for _, l := range levels {
			if v, ok := l.values["override"][f]; ok {
				return v
			}
		}
		if ownValue != nil {
			return Value{Set: true, Value: string(*ownValue), Origin: Origin{Block: "spec"}}
		}
		if withDefault {
			for i := len(levels) - 1; i >= 0; i-- {
				if v, ok := levels[i].values["default"][f]; ok {
					return v
				}
			}
		}
		return Value{}
	}
	var ownReq, ownBackend *gwv1.Duration
	if own != nil {
		ownReq, ownBackend = own.Request, own.BackendRequest
	}
	return pick(fieldRequest, ownReq, true), pick(fieldBackendRequest, ownBackend, true), pick(fieldMaximum, nil, false), pick(fieldAllowNoTimeout, nil, false)
}

// ComputeEffectiveTimeouts returns, for each rule of route and each parent Gateway that
// exists, the effective timeouts and where each value comes from.
func ComputeEffectiveTimeouts(ctx context.Context, lk Lookup, route *Route, opts TimeoutOptions) ([]EffectiveTimeouts, error) {
	var out []EffectiveTimeouts
	for _, ref := range route.ParentRefs {
		group, kind, ns := parentKey(ref, route.Namespace)
		if group != Group || kind != KindGateway {
			continue
		}
		gw, err := lk.Gateway(ctx, ns, string(ref.Name))
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		rules := route.Rules
		if len(rules) == 0 {
			rules = []RouteRule{{}}
		}
		for i, rule := range rules {
			var conflicts []Conflict
			var levels []resolved
			for _, l := range hierarchy(gw, ref, route, rule) {
				r, err := resolveLevel(ctx, lk, l, opts, &conflicts)
				if err != nil {
					return nil, err
				}
				levels = append(levels, r)
			}
			e := EffectiveTimeouts{Rule: i, Gateway: gw.Namespace + "/" + gw.Name, GatewayClass: string(gw.Spec.GatewayClassName), Conflicts: conflicts}
			if rule.Name != nil {
				e.RuleName = string(*rule.Name)
			}
			e.Request, e.BackendRequest, e.Maximum, e.AllowNoTimeout = merge(levels, rule.Timeouts)
			out = append(out, e)
		}
	}
	return out, nil
}

// gep2257 is the Gateway API duration format (GEP-2257), as the CRDs validate it.
var gep2257 = regexp.MustCompile(`^([0-9]{1,5}(h|m|s|ms)){1,4}$`)

// parseDuration parses a Gateway API duration.
func parseDuration(s string) (time.Duration, bool) {
	if !gep2257.MatchString(s) {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

// boundViolation says how value breaks the bounds in force, or "" when it does not.
func boundViolation(value string, maximum, allowNoTimeout Value) string {
	d, ok := parseDuration(value)
	if !ok {
		return ""
	}
	if d == 0 && allowNoTimeout.Set && allowNoTimeout.Value == "false" {
		return fmt.Sprintf("%s forbids 0s (no timeout)", allowNoTimeout.Origin)
	}
	if maximum.Set && d != 0 {
		if limit, ok := parseDuration(maximum.Value); ok && d > limit {
			return fmt.Sprintf("%s sets a maximum of %s", maximum.Origin, maximum.Value)
		}
	}
	return ""
}

// validateRouteTimeouts reports the rules[].timeouts of route that break an override in
// force through any parent Gateway: above its maximum, or 0s where it forbids that.
func validateRouteTimeouts(ctx context.Context, lk Lookup, route, old *Route, opts TimeoutOptions, v *Violations) error {
	if !slices.ContainsFunc(route.Rules, func(r RouteRule) bool { return r.Timeouts != nil }) {
		return nil
	}
	effective, err := ComputeEffectiveTimeouts(ctx, lk, route, opts)
	if err != nil {
		return err
	}
	for _, e := range effective {
		rule := route.Rules[e.Rule]
		if rule.Timeouts == nil {
			continue
		}
		timeoutsPath := field.NewPath("spec", "rules").Index(e.Rule).Child("timeouts")
		for _, f := range []struct {
			name  string
			value *gwv1.Duration
		}{{fieldRequest, rule.Timeouts.Request}, {fieldBackendRequest, rule.Timeouts.BackendRequest}} {
			if f.value == nil {
				continue
			}
			why := boundViolation(string(*f.value), e.Maximum, e.AllowNoTimeout)
			if why == "" {
				continue
			}
			viol := v.add(RuleRouteTimeoutOverride, field.Invalid(timeoutsPath.Child(f.name), string(*f.value), fmt.Sprintf(
				"through Gateway %s, %s; set a timeout within it, or ask the policy's owner", e.Gateway, why)))
			viol.Ratcheted = old != nil && e.Rule < len(old.Rules) && old.Rules[e.Rule].Timeouts != nil &&
				timeoutValue(old.Rules[e.Rule].Timeouts, f.name) == string(*f.value)
		}
	}
	return nil
}

func timeoutValue(t *gwv1.HTTPRouteTimeouts, f string) string {
	d := t.Request
	if f == fieldBackendRequest {
		d = t.BackendRequest
	}
	if d == nil {
		return ""
	}
	return string(*d)
}

// describeRoutes names routes in namespace and counts the others, as the detach warning.
func describeRoutes(routes []*Route, namespace string) string {
	var named []string
	elsewhere := 0
	for _, r := range routes {
		if r.Namespace == namespace {
			named = append(named, fmt.Sprintf("%s %s", r.Kind, r.Name))
		} else {
			elsewhere++
		}
	}
	var parts []string
	if len(named) > MaxListed {
		parts = append(parts, strings.Join(named[:MaxListed], ", "), fmt.Sprintf("and %d more in namespace %q", len(named)-MaxListed, namespace))
	} else if len(named) > 0 {
		parts = append(parts, strings.Join(named, ", "))
	}
	if elsewhere > 0 {
		parts = append(parts, fmt.Sprintf("%d Route(s) in other namespaces", elsewhere))
	}
	return strings.Join(parts, "; ")
}

// withoutPolicy is a Lookup in which one TimeoutPolicy does not exist.
type withoutPolicy struct {
	Lookup
	namespace, name string
}

func (l withoutPolicy) TimeoutPolicies(ctx context.Context, kind gwv1.Kind, namespace, name string) ([]*policyv1a1.TimeoutPolicy, error) {
	all, err := l.Lookup.TimeoutPolicies(ctx, kind, namespace, name)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(slices.Clone(all), func(p *policyv1a1.TimeoutPolicy) bool {
		return p.Namespace == l.namespace && p.Name == l.name
	}), nil
}

// withPolicy is a Lookup in which a TimeoutPolicy is as given (created or changed).
type withPolicy struct {
	withoutPolicy
	policy *policyv1a1.TimeoutPolicy
}

func (l withPolicy) TimeoutPolicies(ctx context.Context, kind gwv1.Kind, namespace, name string) ([]*policyv1a1.TimeoutPolicy, error) {
	all, err := l.withoutPolicy.TimeoutPolicies(ctx, kind, namespace, name)
	if err != nil {
		return nil, err
	}
	return append(all, l.policy), nil
}

// targetLevels returns, for one targetRef of a policy, the levels above the target (for
// the bounds in force there), the target's own level, and the Routes the policy reaches.
func targetLevels(ctx context.Context, lk Lookup, p *policyv1a1.TimeoutPolicy, ref gwv1.LocalPolicyTargetReferenceWithSectionName) (above [][]level, target level, routes []*Route, found bool, err error) {
	section := ""
	if ref.SectionName != nil {
		section = string(*ref.SectionName)
	}
	switch ref.Kind {
	case KindGatewayClass:
		target = level{kind: KindGatewayClass, name: string(ref.Name), describe: fmt.Sprintf("GatewayClass %s", ref.Name)}
		if _, err := lk.GatewayClass(ctx, string(ref.Name)); apierrors.IsNotFound(err) {
			return nil, target, nil, false, nil
		} else if err != nil {
			return nil, target, nil, false, err
		}
		gws, err := lk.GatewaysOfClass(ctx, string(ref.Name))
		if err != nil {
			return nil, target, nil, false, err
		}
		for _, gw := range gws {
			rs, err := lk.RoutesForParent(ctx, KindGateway, gw.Namespace, gw.Name)
			if err != nil {
				return nil, target, nil, false, err
			}
			routes = append(routes, rs...)
		}
		return nil, target, routes, true, nil
	case KindGateway:
		target = level{kind: KindGateway, namespace: p.Namespace, name: string(ref.Name), sectionName: section, describe: fmt.Sprintf("Gateway %s/%s", p.Namespace, ref.Name)}
		gw, err := lk.Gateway(ctx, p.Namespace, string(ref.Name))
		if apierrors.IsNotFound(err) {
			return nil, target, nil, false, nil
		}
		if err != nil {
			return nil, target, nil, false, err
		}
		if section != "" && !slices.ContainsFunc(gw.Spec.Listeners, func(l gwv1.Listener) bool { return string(l.Name) == section }) {
			return nil, target, nil, false, nil
		}
		classLevel := level{kind: KindGatewayClass, name: string(gw.Spec.GatewayClassName), describe: fmt.Sprintf("GatewayClass %s", gw.Spec.GatewayClassName)}
		above = [][]level{{classLevel}}
		if section != "" {
			above[0] = append(above[0], level{kind: KindGateway, namespace: gw.Namespace, name: gw.Name, describe: fmt.Sprintf("Gateway %s/%s", gw.Namespace, gw.Name)})
		}
		routes, err = lk.RoutesForParent(ctx, KindGateway, gw.Namespace, gw.Name)
		return above, target, routes, true, err
	default:
		target = level{kind: ref.Kind, namespace: p.Namespace, name: string(ref.Name), sectionName: section, describe: fmt.Sprintf("%s %s/%s", ref.Kind, p.Namespace, ref.Name)}
		route, err := lk.Route(ctx, ref.Kind, p.Namespace, string(ref.Name))
		if apierrors.IsNotFound(err) {
			return nil, target, nil, false, nil
		}
		if err != nil {
			return nil, target, nil, false, err
		}
		if section != "" && !slices.ContainsFunc(route.Rules, func(r RouteRule) bool { return r.Name != nil && string(*r.Name) == section }) {
			return nil, target, nil, false, nil
		}
		for _, pr := range route.ParentRefs {
			group, kind, ns := parentKey(pr, route.Namespace)
			if group != Group || kind != KindGateway {
				continue
			}
			gw, err := lk.Gateway(ctx, ns, string(pr.Name))
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, target, nil, false, err
			}
			chain := hierarchy(gw, pr, route, RouteRule{})
			chain = chain[:len(chain)-1] // the Route itself is the target
			if section != "" {
				chain = append(chain, level{kind: route.Kind, namespace: route.Namespace, name: route.Name, describe: fmt.Sprintf("%s %s/%s", route.Kind, route.Namespace, route.Name)})
			}
			above = append(above, chain)
		}
		return above, target, []*Route{route}, true, nil
	}
}

// boundsAbove merges the override bounds of levels, the least specific first.
func boundsAbove(ctx context.Context, lk Lookup, levels []level, opts TimeoutOptions) (maximum, allowNoTimeout Value, err error) {
	var resolvedLevels []resolved
	var ignored []Conflict
	for _, l := range levels {
		r, err := resolveLevel(ctx, lk, l, opts, &ignored)
		if err != nil {
			return Value{}, Value{}, err
		}
		resolvedLevels = append(resolvedLevels, r)
	}
	_, _, maximum, allowNoTimeout = merge(resolvedLevels, nil)
	return maximum, allowNoTimeout, nil
}

// ValidateTimeoutPolicy checks a TimeoutPolicy on CREATE or UPDATE (old set): that a
// GatewayClass target lives in the policy namespace, that its targets exist (a warning
// otherwise), that its values do not contradict an override above its targets, that it
// does not conflict with another policy on the same target (a warning naming the
// loser), and which existing Routes a new or changed override makes violate it (a warning).
func ValidateTimeoutPolicy(ctx context.Context, lk Lookup, p, old *policyv1a1.TimeoutPolicy, opts TimeoutOptions) (Violations, error) {
	var v Violations
	without := withoutPolicy{Lookup: lk, namespace: p.Namespace, name: p.Name}
	with := withPolicy{withoutPolicy: without, policy: p}
	for i, ref := range p.Spec.TargetRefs {
		refPath := field.NewPath("spec", "targetRefs").Index(i)
		if ref.Group != Group {
			continue
		}
		if ref.Kind == KindGatewayClass && p.Namespace != opts.PolicyNamespace {
			v.add(RuleTimeoutPolicyNamespace, field.Forbidden(refPath, fmt.Sprintf(
				"a TimeoutPolicy that targets GatewayClass %s takes effect only in namespace %q, which the platform team owns; create it there", ref.Name, opts.PolicyNamespace)))
			continue
		}
		above, target, routes, found, err := targetLevels(ctx, without, p, ref)
		if err != nil {
			return nil, err
		}
		if !found {
			e := field.NotFound(refPath.Child("name"), string(ref.Name))
			e.Detail = fmt.Sprintf("%s does not exist (yet); the policy takes effect once it does", target.describe)
			if target.sectionName != "" {
				e.Detail = fmt.Sprintf("%s (section %q) does not exist (yet); the policy takes effect once it does", target.describe, target.sectionName)
			}
			v.add(RuleTimeoutPolicyTargetNotFound, e)
			continue
		}
		for _, chain := range above {
			if err := checkAgainstAbove(ctx, without, p, old, chain, opts, &v); err != nil {
				return nil, err
			}
		}
		var conflicts []Conflict
		if _, err := resolveLevel(ctx, with, target, opts, &conflicts); err != nil {
			return nil, err
		}
		for _, c := range conflicts {
			if c.Winner != policyKey(p) && c.Loser != policyKey(p) {
				continue
			}
			e := field.Duplicate(field.NewPath("spec", c.Block).Child(c.Field), blockFields(p, c.Block)[c.Field])
			e.Detail = fmt.Sprintf("TimeoutPolicy %s and %s both set %s.%s on %s: %s is older (then first by namespace/name) and wins; %s is ignored for it",
				c.Winner, c.Loser, c.Block, c.Field, c.Target, c.Winner, c.Loser)
			v.add(RuleTimeoutPolicyConflict, e)
		}
		if p.Spec.Override != nil && (p.Spec.Override.Maximum != nil || p.Spec.Override.AllowNoTimeout != nil) {
			if err := checkRoutesUnderOverride(ctx, without, with, routes, p, opts, refPath, &v); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// checkAgainstAbove denies values of p that an override above its target forbids.
func checkAgainstAbove(ctx context.Context, lk Lookup, p, old *policyv1a1.TimeoutPolicy, chain []level, opts TimeoutOptions, v *Violations) error {
	maximum, allowNoTimeout, err := boundsAbove(ctx, lk, chain, opts)
	if err != nil {
		return err
	}
	for _, block := range []string{"default", "override"} {
		fields := blockFields(p, block)
		oldFields := map[string]string{}
		if old != nil {
			oldFields = blockFields(old, block)
		}
		for _, f := range []string{fieldRequest, fieldBackendRequest, fieldMaximum} {
			value, ok := fields[f]
			if !ok {
				continue
			}
			why := boundViolation(value, maximum, allowNoTimeout)
			if f == fieldMaximum && why == "" && value == "0s" {
				continue
			}
			if why == "" {
				continue
			}
			viol := v.add(RuleTimeoutPolicyContradicts, field.Invalid(field.NewPath("spec", block).Child(f), value, why+"; this value could never take effect"))
			viol.Ratcheted = oldFields[f] == value
		}
		if value, ok := fields[fieldAllowNoTimeout]; ok && value == "true" && allowNoTimeout.Set && allowNoTimeout.Value == "false" {
			viol := v.add(RuleTimeoutPolicyContradicts, field.Invalid(field.NewPath("spec", block, fieldAllowNoTimeout), true,
				fmt.Sprintf("%s forbids 0s (no timeout); this value could never take effect", allowNoTimeout.Origin)))
			viol.Ratcheted = oldFields[fieldAllowNoTimeout] == value
		}
	}
	return nil
}

// checkRoutesUnderOverride warns about the Routes that the policy's bounds would newly
// make violate an override.
func checkRoutesUnderOverride(ctx context.Context, without, with Lookup, routes []*Route, p *policyv1a1.TimeoutPolicy, opts TimeoutOptions, refPath *field.Path, v *Violations) error {
	var affected []*Route
	seen := map[string]bool{}
	for _, r := range routes {
		key := string(r.Kind) + "/" + r.Namespace + "/" + r.Name
		if seen[key] {
			continue
		}
		seen[key] = true
		var before, after Violations
		if err := validateRouteTimeouts(ctx, without, r, nil, opts, &before); err != nil {
			return err
		}
		if err := validateRouteTimeouts(ctx, with, r, nil, opts, &after); err != nil {
			return err
		}
		if len(after) > len(before) {
			affected = append(affected, r)
		}
	}
	if len(affected) == 0 {
		return nil
	}
	v.add(RuleTimeoutOverrideViolated, field.Forbidden(field.NewPath("spec", "override"), fmt.Sprintf(
		"%d existing Route(s) set timeouts this override forbids: %s; they keep working as stored, but their next change of those timeouts must comply",
		len(affected), describeRoutes(affected, p.Namespace))))
	return nil
}

// ValidateRouteTimeouts checks an HTTPRoute's rules[].timeouts against the overrides in
// force through each of its parent Gateways (route-timeout-exceeds-override).
func ValidateRouteTimeouts(ctx context.Context, lk Lookup, route, old *Route, opts TimeoutOptions) (Violations, error) {
	var v Violations
	if err := validateRouteTimeouts(ctx, lk, route, old, opts, &v); err != nil {
		return nil, err
	}
	return v, nil
}
