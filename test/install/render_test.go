package install

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"gatewarden.dev/gatewarden/internal/devcerts"
	"gatewarden.dev/gatewarden/test/localenv"
)

// Names the manifests use; the webhook configurations' contract (names, paths, rules)
// is pinned by test/localenv's TestWebhookContract.
const (
	namespace      = "gatewarden-system"
	serviceAccount = "gatewarden-webhook"
	servingSecret  = "gatewarden-webhook-tls"
	configPath     = "/etc/gatewarden/config.yaml"
)

// rendered is a kustomize build output.
type rendered []*unstructured.Unstructured

// build runs kustomize (the same krusty library kubectl embeds) over dir.
func build(t *testing.T, dir string) rendered {
	t.Helper()
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out rendered
	for _, r := range resMap.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(data, &u.Object); err != nil {
			t.Fatalf("%s %s: %v", r.GetKind(), r.GetName(), err)
		}
		out = append(out, u)
	}
	return out
}

// buildBase builds config/webhook, the install with cert-manager.
func buildBase(t *testing.T) rendered {
	t.Helper()
	return build(t, filepath.Join(repoRoot(t), "config", "webhook"))
}

// buildWithoutCertManager builds config/without-cert-manager from a copy of config/ whose
// certs/ directory holds certificates made for the test (see withoutCertManagerDir).
func buildWithoutCertManager(t *testing.T) (rendered, *devcerts.Result) {
	t.Helper()
	dir, certs := withoutCertManagerDir(t)
	return build(t, dir), certs
}

// withoutCertManagerDir copies config/crd, config/webhook and config/without-cert-manager
// into a temporary directory, makes certificates in the overlay's certs/ the way the install
// instructions do (go run ./hack/certs), and returns the overlay's directory.
func withoutCertManagerDir(t *testing.T) (string, *devcerts.Result) {
	t.Helper()
	tmp := t.TempDir()
	for _, dir := range []string{"crd", "webhook", "without-cert-manager"} {
		copyYAML(t, filepath.Join(repoRoot(t), "config", dir), filepath.Join(tmp, "config", dir))
	}
	overlay := filepath.Join(tmp, "config", "without-cert-manager")
	certs, err := devcerts.Ensure(filepath.Join(overlay, "certs"), devcerts.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return overlay, certs
}

// copyYAML copies the YAML files of one directory (not its subdirectories).
func copyYAML(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(from, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no YAML in %s (%v)", from, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := localenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// ids lists "Kind namespace/name" of every object, sorted, for exact comparison.
func (r rendered) ids() []string {
	var ids []string
	for _, u := range r {
		name := u.GetName()
		if u.GetKind() == "ConfigMap" {
			// The generated name ends in a hash of the content.
			name = name[:strings.LastIndex(name, "-")] + "-<hash>"
		}
		ids = append(ids, u.GetKind()+" "+u.GetNamespace()+"/"+name)
	}
	slices.Sort(ids)
	return ids
}

// one returns the only object of a kind (and name, unless empty), failing otherwise.
func (r rendered) one(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, u := range r {
		if u.GetKind() == kind && (name == "" || u.GetName() == name) {
			found = append(found, u)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s %q, have %d", kind, name, len(found))
	}
	return found[0]
}

// decode fills a typed object from u, strictly: a field the Go type does not know
// is a mistake in the manifest.
func decode[T any](t *testing.T, u *unstructured.Unstructured) *T {
	t.Helper()
	data, err := yaml.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	obj := new(T)
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		t.Fatalf("decoding %s %s: %v", u.GetKind(), u.GetName(), err)
	}
	return obj
}
