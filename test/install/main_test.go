// Package install checks the install manifests: config/webhook (with cert-manager) and
// config/without-cert-manager are built with kustomize and their objects asserted field
// by field (security-relevant settings must not regress silently), then sent to a real
// kube-apiserver by server-side dry run, with cert-manager's CRDs installed from the
// cert-manager module that go.mod pins, so every object is checked by the apiserver
// that will receive it. The apiserver also evaluates the webhook configurations'
// matchConditions and authorizes the ClusterRole.
//
// The control plane (envtest, from bin/; no webhook process) is shared by the package
// and started in TestMain. `go test -short` runs only the tests that need none.
package install

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"gatewarden.dev/gatewarden/test/localenv"
)

// env is the control plane shared by the tests that need one; nil under -short.
var env *localenv.Env

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	ctx := context.Background()
	root, err := localenv.RepoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "install: %v\n", err)
		os.Exit(1)
	}
	crds, err := localenv.ModuleDir(ctx, root, "github.com/cert-manager/cert-manager", "deploy", "crds")
	if err != nil {
		fmt.Fprintf(os.Stderr, "install: cert-manager CRDs: %v\n", err)
		os.Exit(1)
	}
	env, err = localenv.StartControlPlane(ctx, localenv.Options{
		RepoRoot:     root,
		StateDir:     ".local/test/install",
		ExtraCRDDirs: []string{crds},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "install: starting the control plane: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "install: stopping the control plane: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// needEnv skips a test that needs the control plane under -short.
func needEnv(t *testing.T) {
	t.Helper()
	if env == nil {
		t.Skip("needs the local control plane; not started under -short")
	}
}
