// Package config reads Gatewarden's versioned configuration file.
package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"gatewarden.dev/gatewarden/pkg/policy"
)

// APIVersion and Kind identify the configuration file format.
const (
	APIVersion = "config.gatewarden.dev/v1alpha1"
	Kind       = "GatewardenConfiguration"
)

// DefaultWebhookNamespace is where config/webhook installs Gatewarden.
const DefaultWebhookNamespace = "gatewarden-system"

// Configuration is the content of the file named by --config.
type Configuration struct {
	metav1.TypeMeta `json:",inline"`
	// Rules sets the action (Deny, Warn, Audit) of a rule by its ID; rules not listed keep
	// their default action (docs/rules.md).
	Rules map[policy.RuleID]policy.Action `json:"rules,omitempty"`
	// ExemptNamespaces are never checked. kube-system and WebhookNamespace always are exempt.
	ExemptNamespaces []string `json:"exemptNamespaces,omitempty"`
	// ExemptNamespaceSelector exempts the namespaces whose labels it matches.
	ExemptNamespaceSelector *metav1.LabelSelector `json:"exemptNamespaceSelector,omitempty"`
	// WebhookNamespace is the namespace Gatewarden runs in; defaults to gatewarden-system.
	WebhookNamespace string `json:"webhookNamespace,omitempty"`
	// PolicyNamespace is the only namespace whose TimeoutPolicies may target a
	// GatewayClass (class-wide rules are the platform team's); defaults to WebhookNamespace.
	PolicyNamespace string `json:"policyNamespace,omitempty"`
	// DryRunDenials is what a dry-run request gets for a violation whose action is Deny:
	// Deny (the default: a dry run predicts the real verdict) or Warn, for GitOps tools that
	// dry-run a whole batch before applying it, where a Route's ReferenceGrant later in the
	// batch is not there yet.
	DryRunDenials policy.Action `json:"dryRunDenials,omitempty"`
	// AuditInterval, when set, makes the server evaluate every cached object this often and
	// report violations as metrics and Events (docs/operations.md). Off by default.
	AuditInterval metav1.Duration `json:"auditInterval,omitempty"`
}

// Config is a loaded, checked Configuration ready for use.
type Config struct {
	actions          map[policy.RuleID]policy.Action
	exempt           []string
	exemptSelector   labels.Selector
	DryRunDenials    policy.Action
	WebhookNamespace string
	AuditInterval    time.Duration
	// Timeouts are the TimeoutPolicy rules' settings.
	Timeouts policy.TimeoutOptions
}

// Default returns the configuration used without a file.
func Default() *Config {
	c, _ := New(&Configuration{})
	return c
}

// Load reads and checks the file at path. Unknown fields, rule IDs and actions are errors.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse decodes a configuration strictly and checks it.
func Parse(data []byte) (*Config, error) {
	var c Configuration
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	if c.APIVersion != APIVersion || c.Kind != Kind {
		return nil, fmt.Errorf("configuration: apiVersion/kind must be %s/%s, not %q/%q", APIVersion, Kind, c.APIVersion, c.Kind)
	}
	return New(&c)
}

// New checks c and builds a Config from it.
func New(c *Configuration) (*Config, error) {
	var errs []error
	cfg := &Config{actions: map[policy.RuleID]policy.Action{}, WebhookNamespace: c.WebhookNamespace, DryRunDenials: c.DryRunDenials, AuditInterval: c.AuditInterval.Duration}
	if cfg.AuditInterval < 0 {
		errs = append(errs, fmt.Errorf("auditInterval: %s: must not be negative", cfg.AuditInterval))
	}
	for _, r := range policy.Rules {
		cfg.actions[r.ID] = r.DefaultAction
	}
	for id, action := range c.Rules {
		if _, ok := policy.RuleByID(id); !ok {
			errs = append(errs, fmt.Errorf("rules: unknown rule ID %q (see docs/rules.md)", id))
			continue
		}
		if !validAction(action) {
			errs = append(errs, fmt.Errorf("rules[%s]: unknown action %q: use Deny, Warn or Audit", id, action))
			continue
		}
		cfg.actions[id] = action
	}
	if cfg.WebhookNamespace == "" {
		cfg.WebhookNamespace = DefaultWebhookNamespace
	}
	cfg.Timeouts.PolicyNamespace = c.PolicyNamespace
	if cfg.Timeouts.PolicyNamespace == "" {
		cfg.Timeouts.PolicyNamespace = cfg.WebhookNamespace
	}
	if cfg.DryRunDenials == "" {
		cfg.DryRunDenials = policy.ActionDeny
	} else if cfg.DryRunDenials != policy.ActionDeny && cfg.DryRunDenials != policy.ActionWarn {
		errs = append(errs, fmt.Errorf("dryRunDenials: %q: use Deny or Warn", cfg.DryRunDenials))
	}
	cfg.exempt = append([]string{"kube-system", cfg.WebhookNamespace}, c.ExemptNamespaces...)
	if c.ExemptNamespaceSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(c.ExemptNamespaceSelector)
		if err != nil {
			errs = append(errs, fmt.Errorf("exemptNamespaceSelector: %w", err))
		} else {
			cfg.exemptSelector = sel
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

func validAction(a policy.Action) bool {
	return a == policy.ActionDeny || a == policy.ActionWarn || a == policy.ActionAudit
}

// Action returns the action for a rule.
func (c *Config) Action(id policy.RuleID) policy.Action {
	if a, ok := c.actions[id]; ok {
		return a
	}
	return policy.ActionDeny
}

// ExemptByName tells whether a namespace is exempt by name.
func (c *Config) ExemptByName(namespace string) bool {
	return slices.Contains(c.exempt, namespace)
}

// ExemptByLabels tells whether a namespace with these labels is exempt by selector. An
// empty selector exempts nothing: exempting every namespace is done by not installing.
func (c *Config) ExemptByLabels(nsLabels labels.Set) bool {
	return c.HasExemptSelector() && c.exemptSelector.Matches(nsLabels)
}

// HasExemptSelector tells whether namespace labels are needed to decide exemption.
func (c *Config) HasExemptSelector() bool {
	return c.exemptSelector != nil && !c.exemptSelector.Empty()
}
