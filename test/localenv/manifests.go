package localenv

import (
	"bytes"
	"fmt"
	"net"
	"strconv"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// injectCAAnnotation is cert-manager's cainjector annotation. Locally there is no
// cainjector; the caBundle is written directly instead.
const injectCAAnnotation = "cert-manager.io/inject-ca-from"

// WebhookConfigurations is the part of the config/webhook base that a local webhook
// process needs: the two webhook configurations.
type WebhookConfigurations struct {
	Validating *admissionregistrationv1.ValidatingWebhookConfiguration
	Mutating   *admissionregistrationv1.MutatingWebhookConfiguration
}

// RenderWebhookConfigurations builds the kustomize base in dir and returns its webhook
// configurations unchanged. Both must be present exactly once.
func RenderWebhookConfigurations(dir string) (*WebhookConfigurations, error) {
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var out WebhookConfigurations
	for _, r := range resMap.Resources() {
		kind := r.GetKind()
		if kind != "ValidatingWebhookConfiguration" && kind != "MutatingWebhookConfiguration" {
			continue
		}
		data, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		switch kind {
		case "ValidatingWebhookConfiguration":
			if out.Validating != nil {
				return nil, fmt.Errorf("%s: more than one ValidatingWebhookConfiguration", dir)
			}
			out.Validating = &admissionregistrationv1.ValidatingWebhookConfiguration{}
			err = yaml.UnmarshalStrict(data, out.Validating)
		case "MutatingWebhookConfiguration":
			if out.Mutating != nil {
				return nil, fmt.Errorf("%s: more than one MutatingWebhookConfiguration", dir)
			}
			out.Mutating = &admissionregistrationv1.MutatingWebhookConfiguration{}
			err = yaml.UnmarshalStrict(data, out.Mutating)
		}
		if err != nil {
			return nil, fmt.Errorf("decoding %s %s: %w", kind, r.GetName(), err)
		}
	}
	if out.Validating == nil || out.Mutating == nil {
		return nil, fmt.Errorf("%s: want one ValidatingWebhookConfiguration and one MutatingWebhookConfiguration", dir)
	}
	return &out, nil
}

// PointAt rewrites every webhook to call https://host:port<path> with caBundle, where
// path is the one the in-cluster Service reference names, and drops the cainjector
// annotation. Everything else (rules, selectors, policies) is kept, so a local run
// exercises the same configuration a cluster gets.
func (w *WebhookConfigurations) PointAt(host string, port int, caBundle []byte) error {
	base := "https://" + net.JoinHostPort(host, strconv.Itoa(port))
	rewrite := func(name string, cc *admissionregistrationv1.WebhookClientConfig) error {
		if cc.Service == nil || cc.Service.Path == nil {
			return fmt.Errorf("webhook %s: clientConfig has no service path to keep", name)
		}
		url := base + *cc.Service.Path
		*cc = admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: bytes.Clone(caBundle)}
		return nil
	}
	for i := range w.Validating.Webhooks {
		wh := &w.Validating.Webhooks[i]
		if err := rewrite(wh.Name, &wh.ClientConfig); err != nil {
			return err
		}
	}
	for i := range w.Mutating.Webhooks {
		wh := &w.Mutating.Webhooks[i]
		if err := rewrite(wh.Name, &wh.ClientConfig); err != nil {
			return err
		}
	}
	delete(w.Validating.Annotations, injectCAAnnotation)
	delete(w.Mutating.Annotations, injectCAAnnotation)
	return nil
}
