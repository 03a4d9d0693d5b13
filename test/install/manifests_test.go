package install

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"gatewarden.dev/gatewarden/pkg/config"
)

// TestObjects pins the set of objects each install consists of: anything added (a Role,
// a Secret, a second ClusterRole) has to be added here on purpose.
func TestObjects(t *testing.T) {
	common := []string{
		"ClusterRole /gatewarden-webhook",
		"CustomResourceDefinition /timeoutpolicies.policy.gatewarden.dev",
		"ClusterRoleBinding /gatewarden-webhook",
		"ConfigMap gatewarden-system/gatewarden-config-<hash>",
		"Deployment gatewarden-system/gatewarden-webhook",
		"MutatingWebhookConfiguration /gatewarden",
		"Namespace /gatewarden-system",
		"PodDisruptionBudget gatewarden-system/gatewarden-webhook",
		"Service gatewarden-system/gatewarden-webhook",
		"ServiceAccount gatewarden-system/gatewarden-webhook",
		"ValidatingWebhookConfiguration /gatewarden",
	}
	withCertManager := append(slices.Clone(common),
		"Certificate gatewarden-system/gatewarden-ca",
		"Certificate gatewarden-system/gatewarden-webhook",
		"Issuer gatewarden-system/gatewarden-ca",
		"Issuer gatewarden-system/gatewarden-selfsigned",
	)
	slices.Sort(withCertManager)
	if diff := cmp.Diff(withCertManager, buildBase(t).ids()); diff != "" {
		t.Errorf("config/webhook objects (-want +got):\n%s", diff)
	}
	withoutCertManager := append(slices.Clone(common), "Secret gatewarden-system/gatewarden-webhook-tls")
	slices.Sort(withoutCertManager)
	objs, _ := buildWithoutCertManager(t)
	if diff := cmp.Diff(withoutCertManager, objs.ids()); diff != "" {
		t.Errorf("config/without-cert-manager objects (-want +got):\n%s", diff)
	}
}

// TestRBAC asserts least privilege: read-only access to exactly the kinds the webhook's
// cache and confirmation reads use, nothing namespaced, nothing on Secrets.
func TestRBAC(t *testing.T) {
	objs := buildBase(t)
	role := decode[rbacv1.ClusterRole](t, objs.one(t, "ClusterRole", ""))
	want := []rbacv1.PolicyRule{
		{
			APIGroups: []string{"gateway.networking.k8s.io"},
			Resources: []string{"gateways", "listenersets", "gatewayclasses", "referencegrants",
				"httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes"},
			Verbs: []string{"get", "list", "watch"},
		},
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"policy.gatewarden.dev"}, Resources: []string{"timeoutpolicies"}, Verbs: []string{"get", "list", "watch"}},
	}
	if diff := cmp.Diff(want, role.Rules); diff != "" {
		t.Errorf("ClusterRole rules (-want +got):\n%s", diff)
	}
	if role.AggregationRule != nil {
		t.Errorf("ClusterRole has an aggregationRule: others could widen it")
	}
	binding := decode[rbacv1.ClusterRoleBinding](t, objs.one(t, "ClusterRoleBinding", ""))
	wantRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name}
	wantSubjects := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: serviceAccount, Namespace: namespace}}
	if binding.RoleRef != wantRef || !cmp.Equal(binding.Subjects, wantSubjects) {
		t.Errorf("ClusterRoleBinding binds %+v to %+v, want %+v to %+v", binding.RoleRef, binding.Subjects, wantRef, wantSubjects)
	}
	for _, u := range objs {
		if k := u.GetKind(); k == "Role" || k == "RoleBinding" || k == "Secret" {
			t.Errorf("unexpected %s %s/%s", k, u.GetNamespace(), u.GetName())
		}
	}
}

// TestDeployment asserts how the webhook pods run: non-root, read-only, no privilege
// escalation, certificates and configuration mounted where the flags say, probes on the
// server's endpoints, resources bounded, replicas spread and protected by the PDB.
func TestDeployment(t *testing.T) {
	objs := buildBase(t)
	dep := decode[appsv1.Deployment](t, objs.one(t, "Deployment", ""))
	pod := dep.Spec.Template.Spec
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas < 2 {
		t.Errorf("replicas %v, want at least 2: the validating webhook fails closed", dep.Spec.Replicas)
	}
	if ru := dep.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("rollingUpdate %+v, want maxUnavailable 0", ru)
	}
	if pod.ServiceAccountName != serviceAccount {
		t.Errorf("serviceAccountName %q, want %q", pod.ServiceAccountName, serviceAccount)
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Errorf("pod shares host namespaces")
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v, want runAsNonRoot, a non-zero runAsUser and the RuntimeDefault seccomp profile", psc)
	}
	if len(pod.TopologySpreadConstraints) == 0 && (pod.Affinity == nil || pod.Affinity.PodAntiAffinity == nil) {
		t.Errorf("replicas are neither spread nor anti-affine")
	}
	if len(pod.Containers) != 1 || len(pod.InitContainers) != 0 {
		t.Fatalf("%d containers and %d init containers, want one container", len(pod.Containers), len(pod.InitContainers))
	}
	c := pod.Containers[0]
	// The runtime's soft memory limit must follow the container's, or the heap doubles
	// past it under load (docs/performance.md).
	if i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "GOMEMLIMIT" }); i < 0 ||
		c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.ResourceFieldRef == nil || c.Env[i].ValueFrom.ResourceFieldRef.Resource != "limits.memory" {
		t.Errorf("container env %+v, want GOMEMLIMIT from limits.memory", c.Env)
	}
	csc := c.SecurityContext
	if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation ||
		csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem ||
		(csc.Privileged != nil && *csc.Privileged) ||
		csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(csc.Capabilities.Add) != 0 {
		t.Errorf("container securityContext %+v, want no privilege escalation, a read-only root, unprivileged, all capabilities dropped", csc)
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			t.Errorf("no %s request", res)
		}
		if _, ok := c.Resources.Limits[res]; !ok {
			t.Errorf("no %s limit", res)
		}
	}

	flags := map[string]string{}
	for _, arg := range c.Args {
		name, value, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		flags[name] = value
	}
	for _, bad := range []string{"v", "zap-log-level"} {
		if v, ok := flags[bad]; ok && v != "info" && v != "error" {
			t.Errorf("--%s=%s: verbose logging in the Deployment", bad, v)
		}
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for flag, port := range map[string]string{"webhook-port": "webhook", "health-probe-bind-address": "probes", "metrics-bind-address": "metrics"} {
		value := strings.TrimPrefix(flags[flag], ":")
		if got := strconv.Itoa(int(ports[port])); value != got {
			t.Errorf("--%s=%q but container port %s is %s", flag, flags[flag], port, got)
		}
	}
	for probe, want := range map[string]struct {
		p    *corev1.Probe
		path string
	}{"readiness": {c.ReadinessProbe, "/readyz"}, "liveness": {c.LivenessProbe, "/healthz"}} {
		if want.p == nil || want.p.HTTPGet == nil || want.p.HTTPGet.Path != want.path || want.p.HTTPGet.Port != intstr.FromString("probes") {
			t.Errorf("%s probe %+v, want GET %s on port probes", probe, want.p, want.path)
		}
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Exec != nil {
		t.Errorf("preStop %+v, want one that needs no shell (the image has none)", c.Lifecycle)
	} else if s := c.Lifecycle.PreStop.Sleep; s == nil || pod.TerminationGracePeriodSeconds == nil ||
		*pod.TerminationGracePeriodSeconds < s.Seconds+10 {
		t.Errorf("preStop sleep %+v with terminationGracePeriodSeconds %v: want a grace period that outlasts the sleep and a review", s, pod.TerminationGracePeriodSeconds)
	}

	// Certificates: the cert-manager Secret, mounted whole (a subPath mount never sees a
	// renewal) at --cert-dir, read-only.
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		if m.SubPath != "" || m.SubPathExpr != "" {
			t.Errorf("volume %s mounted with subPath: the kubelet never updates it", m.Name)
		}
		if !m.ReadOnly {
			t.Errorf("volume %s mounted read-write", m.Name)
		}
		mounts[m.MountPath] = m
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	certVol := volumes[mounts[flags["cert-dir"]].Name]
	if certVol.Secret == nil || certVol.Secret.SecretName != servingSecret {
		t.Errorf("--cert-dir=%s is not the Secret %s: volume %+v", flags["cert-dir"], servingSecret, certVol)
	}
	serving := decode[cmapi.Certificate](t, objs.one(t, "Certificate", "gatewarden-webhook"))
	if serving.Spec.SecretName != servingSecret {
		t.Errorf("the serving Certificate writes %s, the Deployment mounts %s", serving.Spec.SecretName, servingSecret)
	}

	// Configuration: the generated ConfigMap, at --config.
	if flags["config"] != configPath {
		t.Fatalf("--config=%q, want %s", flags["config"], configPath)
	}
	cm := decode[corev1.ConfigMap](t, objs.one(t, "ConfigMap", ""))
	confVol := volumes[mounts[strings.TrimSuffix(configPath, "/config.yaml")].Name]
	if confVol.ConfigMap == nil || confVol.ConfigMap.Name != cm.Name {
		t.Errorf("--config=%s is not in the ConfigMap %s: volume %+v", configPath, cm.Name, confVol)
	}

	// The PodDisruptionBudget covers these pods and leaves one running.
	pdb := decode[policyv1.PodDisruptionBudget](t, objs.one(t, "PodDisruptionBudget", ""))
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(dep.Spec.Template.Labels)) {
		t.Errorf("PodDisruptionBudget selector %v (%v) does not select the webhook pods %v", pdb.Spec.Selector, err, dep.Spec.Template.Labels)
	}
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() < 1 || pdb.Spec.MinAvailable.IntValue() >= int(*dep.Spec.Replicas) {
		t.Errorf("PodDisruptionBudget minAvailable %v with %d replicas, want at least 1 and fewer than the replicas", pdb.Spec.MinAvailable, *dep.Spec.Replicas)
	}

	svc := decode[corev1.Service](t, objs.one(t, "Service", ""))
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(dep.Spec.Template.Labels)) || len(svc.Spec.Selector) == 0 {
		t.Errorf("Service selector %v does not select the webhook pods", svc.Spec.Selector)
	}
}

// TestConfigMap parses the shipped configuration file the way the server does.
func TestConfigMap(t *testing.T) {
	cm := decode[corev1.ConfigMap](t, buildBase(t).one(t, "ConfigMap", ""))
	data, ok := cm.Data["config.yaml"]
	if !ok || len(cm.Data) != 1 {
		t.Fatalf("ConfigMap keys %v, want config.yaml only", keys(cm.Data))
	}
	cfg, err := config.Parse([]byte(data))
	if err != nil {
		t.Fatalf("config.yaml does not load: %v", err)
	}
	if cfg.WebhookNamespace != namespace || !cfg.ExemptByName(namespace) || !cfg.ExemptByName("kube-system") {
		t.Errorf("webhookNamespace %q, want %q (and it and kube-system exempt)", cfg.WebhookNamespace, namespace)
	}
	if cm.Namespace != namespace {
		t.Errorf("ConfigMap in namespace %q, want %q", cm.Namespace, namespace)
	}
}

// TestWebhookConfigurations asserts the settings that decide what happens when the
// webhook is down or is asked about the wrong thing; test/localenv pins the contract.
func TestWebhookConfigurations(t *testing.T) {
	objs := buildBase(t)
	vwc := decode[admissionregistrationv1.ValidatingWebhookConfiguration](t, objs.one(t, "ValidatingWebhookConfiguration", ""))
	mwc := decode[admissionregistrationv1.MutatingWebhookConfiguration](t, objs.one(t, "MutatingWebhookConfiguration", ""))
	svc := decode[corev1.Service](t, objs.one(t, "Service", ""))
	serving := decode[cmapi.Certificate](t, objs.one(t, "Certificate", "gatewarden-webhook"))

	wantInject := serving.Namespace + "/" + serving.Name
	for kind, annotations := range map[string]map[string]string{"validating": vwc.Annotations, "mutating": mwc.Annotations} {
		if got := annotations["cert-manager.io/inject-ca-from"]; got != wantInject {
			t.Errorf("%s: cert-manager.io/inject-ca-from %q, want %q", kind, got, wantInject)
		}
	}
	notIn := func(values ...string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: values,
		}}}
	}
	wantConditions := []string{"not-being-deleted", "not-metadata-only-update"}
	check := func(name string, fp *admissionregistrationv1.FailurePolicyType, wantFP admissionregistrationv1.FailurePolicyType,
		sel *metav1.LabelSelector, conds []admissionregistrationv1.MatchCondition, cc admissionregistrationv1.WebhookClientConfig,
		timeout *int32, se *admissionregistrationv1.SideEffectClass) {
		t.Helper()
		if fp == nil || *fp != wantFP {
			t.Errorf("%s: failurePolicy %v, want %s", name, fp, wantFP)
		}
		// Never kube-system, and never the webhook's own namespace but for TimeoutPolicies:
		// those on GatewayClasses live there (the policy namespace) and must be checked.
		wantSelector := notIn("kube-system", namespace)
		if name == "validate-timeoutpolicies.gatewarden.dev" {
			wantSelector = notIn("kube-system")
		}
		if !cmp.Equal(sel, wantSelector) {
			t.Errorf("%s: namespaceSelector %+v, want %+v", name, sel, wantSelector)
		}
		var names []string
		for _, c := range conds {
			names = append(names, c.Name)
		}
		if !slices.Equal(names, wantConditions) {
			t.Errorf("%s: matchConditions %v, want %v", name, names, wantConditions)
		}
		if cc.Service == nil || cc.Service.Name != svc.Name || cc.Service.Namespace != svc.Namespace || len(cc.CABundle) != 0 || cc.URL != nil {
			t.Errorf("%s: clientConfig %+v, want the Service %s/%s and no caBundle (cainjector fills it)", name, cc, svc.Namespace, svc.Name)
		}
		if timeout == nil || *timeout > 10 {
			t.Errorf("%s: timeoutSeconds %v, want a few seconds", name, timeout)
		}
		if se == nil || *se != admissionregistrationv1.SideEffectClassNone {
			t.Errorf("%s: sideEffects %v, want None", name, se)
		}
	}
	for i, wh := range vwc.Webhooks {
		// ReferenceGrant UPDATE and DELETE only ever warn (see the manifest). It comes
		// last: docs/install.md's patches address the fail-closed webhooks by index.
		want := admissionregistrationv1.Fail
		if wh.Name == "validate-referencegrants.gatewarden.dev" {
			want = admissionregistrationv1.Ignore
			if i != len(vwc.Webhooks)-1 {
				t.Errorf("%s is webhook %d of %d, want it last", wh.Name, i, len(vwc.Webhooks))
			}
		}
		check(wh.Name, wh.FailurePolicy, want, wh.NamespaceSelector, wh.MatchConditions, wh.ClientConfig, wh.TimeoutSeconds, wh.SideEffects)
		if wh.ObjectSelector != nil {
			t.Errorf("%s: objectSelector %+v: object labels are the object owner's to set, so they would let anyone opt out", wh.Name, wh.ObjectSelector)
		}
	}
	for _, wh := range mwc.Webhooks {
		check(wh.Name, wh.FailurePolicy, admissionregistrationv1.Ignore, wh.NamespaceSelector, wh.MatchConditions, wh.ClientConfig, wh.TimeoutSeconds, wh.SideEffects)
		if wh.ObjectSelector != nil {
			t.Errorf("%s: objectSelector %+v", wh.Name, wh.ObjectSelector)
		}
	}
	// The Service reaches the webhook port.
	for _, p := range svc.Spec.Ports {
		if p.Port == 443 && p.TargetPort != intstr.FromString("webhook") {
			t.Errorf("Service port 443 targets %s, want the container port named webhook", p.TargetPort.String())
		}
	}
}

// TestCertificates asserts the cert-manager chain: a self-signed Issuer only for a
// long-lived CA, a CA Issuer from it, and a serving Certificate from the CA for the
// Service's DNS names, renewed well ahead. inject-ca-from names the serving Certificate,
// whose Secret's ca.crt is then the CA (not the leaf): renewing the serving certificate
// leaves the caBundle alone.
func TestCertificates(t *testing.T) {
	objs := buildBase(t)
	selfSigned := decode[cmapi.Issuer](t, objs.one(t, "Issuer", "gatewarden-selfsigned"))
	caIssuer := decode[cmapi.Issuer](t, objs.one(t, "Issuer", "gatewarden-ca"))
	ca := decode[cmapi.Certificate](t, objs.one(t, "Certificate", "gatewarden-ca"))
	serving := decode[cmapi.Certificate](t, objs.one(t, "Certificate", "gatewarden-webhook"))
	svc := decode[corev1.Service](t, objs.one(t, "Service", ""))

	if selfSigned.Spec.SelfSigned == nil {
		t.Errorf("Issuer %s is not selfSigned", selfSigned.Name)
	}
	if !ca.Spec.IsCA || ca.Spec.IssuerRef.Name != selfSigned.Name || ca.Spec.IssuerRef.Kind != "Issuer" {
		t.Errorf("CA Certificate isCA=%v issuer %+v, want a CA from Issuer %s", ca.Spec.IsCA, ca.Spec.IssuerRef, selfSigned.Name)
	}
	if ca.Spec.PrivateKey == nil || ca.Spec.PrivateKey.RotationPolicy != cmapi.RotationPolicyNever {
		t.Errorf("CA privateKey %+v, want rotationPolicy Never so that a CA renewal keeps serving certificates valid", ca.Spec.PrivateKey)
	}
	if caIssuer.Spec.CA == nil || caIssuer.Spec.CA.SecretName != ca.Spec.SecretName {
		t.Errorf("Issuer %s: ca %+v, want the CA Certificate's Secret %s", caIssuer.Name, caIssuer.Spec.CA, ca.Spec.SecretName)
	}
	if serving.Spec.IsCA || serving.Spec.IssuerRef.Name != caIssuer.Name || serving.Spec.IssuerRef.Kind != "Issuer" {
		t.Errorf("serving Certificate isCA=%v issuer %+v, want a leaf from the CA Issuer %s", serving.Spec.IsCA, serving.Spec.IssuerRef, caIssuer.Name)
	}
	for _, name := range []string{svc.Name + "." + svc.Namespace + ".svc", svc.Name + "." + svc.Namespace + ".svc.cluster.local"} {
		if !slices.Contains(serving.Spec.DNSNames, name) {
			t.Errorf("serving Certificate dnsNames %v lack %s", serving.Spec.DNSNames, name)
		}
	}
	if !slices.Contains(serving.Spec.Usages, cmapi.UsageServerAuth) {
		t.Errorf("serving Certificate usages %v lack server auth", serving.Spec.Usages)
	}
	lifetime := func(c *cmapi.Certificate) (time.Duration, time.Duration) {
		if c.Spec.Duration == nil || c.Spec.RenewBefore == nil {
			t.Fatalf("Certificate %s: duration and renewBefore must be explicit", c.Name)
		}
		return c.Spec.Duration.Duration, c.Spec.RenewBefore.Duration
	}
	servingLife, servingRenew := lifetime(serving)
	if servingRenew < servingLife/4 || servingRenew >= servingLife {
		t.Errorf("serving Certificate renews %s before the end of %s: want at least a quarter of its life ahead", servingRenew, servingLife)
	}
	caLife, _ := lifetime(ca)
	if caLife < 10*servingLife {
		t.Errorf("CA lives %s, the serving certificate %s: the caBundle should outlive many serving certificates", caLife, servingLife)
	}
	for _, c := range []*cmapi.Certificate{ca, serving} {
		if c.Namespace != namespace {
			t.Errorf("Certificate %s in namespace %q, want %q", c.Name, c.Namespace, namespace)
		}
	}
}

// TestWithoutCertManager asserts the overlay for clusters without cert-manager: no
// cert-manager objects or annotations, the CA from certs/ as every caBundle, the
// serving pair as the Secret the Deployment mounts.
func TestWithoutCertManager(t *testing.T) {
	objs, certs := buildWithoutCertManager(t)
	for _, u := range objs {
		if strings.HasSuffix(u.GetAPIVersion(), "cert-manager.io/v1") || strings.Contains(u.GetAPIVersion(), "cert-manager.io/") {
			t.Errorf("cert-manager object %s %s left in", u.GetKind(), u.GetName())
		}
		if _, ok := u.GetAnnotations()["cert-manager.io/inject-ca-from"]; ok {
			t.Errorf("%s %s keeps cert-manager.io/inject-ca-from", u.GetKind(), u.GetName())
		}
	}
	vwc := decode[admissionregistrationv1.ValidatingWebhookConfiguration](t, objs.one(t, "ValidatingWebhookConfiguration", ""))
	mwc := decode[admissionregistrationv1.MutatingWebhookConfiguration](t, objs.one(t, "MutatingWebhookConfiguration", ""))
	var ccs []admissionregistrationv1.WebhookClientConfig
	for _, wh := range vwc.Webhooks {
		ccs = append(ccs, wh.ClientConfig)
	}
	for _, wh := range mwc.Webhooks {
		ccs = append(ccs, wh.ClientConfig)
	}
	for i, cc := range ccs {
		if !bytes.Equal(cc.CABundle, certs.CAPEM) {
			t.Errorf("webhook %d: caBundle %q, want the CA in certs/ca.crt", i, cc.CABundle)
		}
	}
	secret := decode[corev1.Secret](t, objs.one(t, "Secret", servingSecret))
	if secret.Type != corev1.SecretTypeTLS || secret.Namespace != namespace {
		t.Errorf("Secret %s/%s of type %s, want %s/%s of type %s", secret.Namespace, secret.Name, secret.Type, namespace, servingSecret, corev1.SecretTypeTLS)
	}
	if _, ok := secret.Data["ca.key"]; ok {
		t.Errorf("the serving Secret carries the CA's key")
	}
	for _, key := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
		if len(secret.Data[key]) == 0 {
			t.Errorf("Secret lacks %s", key)
		}
	}
	if got := base64.StdEncoding.EncodeToString(secret.Data["ca.crt"]); got != base64.StdEncoding.EncodeToString(certs.CAPEM) {
		t.Errorf("Secret ca.crt is not certs/ca.crt")
	}
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
