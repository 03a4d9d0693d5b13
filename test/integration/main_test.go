// Package integration runs Gatewarden against a real kube-apiserver (envtest, from
// bin/) with bin/kubectl, the way a user meets it. All tests in the package share one
// environment, started in TestMain; give each test its own namespace.
//
// The tests need the control-plane binaries: run `make tools` first, or `make test`,
// which does. `go test -short` skips this package.
package integration

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gatewarden.dev/gatewarden/test/localenv"
)

// env is the environment shared by every test in the package.
var env *localenv.Env

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("integration: skipping all tests: -short was given")
		os.Exit(0)
	}
	opts := localenv.Options{
		// A state dir and ports of its own, so a `make run` session can stay up meanwhile.
		StateDir:    ".local/test/integration",
		WebhookPort: localenv.AnyPort,
		MetricsPort: localenv.AnyPort,
		HealthPort:  localenv.AnyPort,
		// make test builds bin/webhook once and sets GATEWARDEN_SKIP_BUILD, since test
		// packages run in parallel; GATEWARDEN_WEBHOOK_BIN runs another binary instead.
		SkipBuild:     os.Getenv("GATEWARDEN_SKIP_BUILD") == "1",
		WebhookBinary: os.Getenv("GATEWARDEN_WEBHOOK_BIN"),
		WebhookConfig: mustAbs("testdata/gatewarden.yaml"),
	}
	var err error
	env, err = localenv.Start(context.Background(), opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: starting the local environment: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: stopping the local environment: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "integration: webhook log: %s\n", env.WebhookLog)
	}
	os.Exit(code)
}

// kubectl runs bin/kubectl against the test environment. A non-zero exit is returned
// as err, not reported, so that tests can assert on denials.
func kubectl(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(t.Context(), env.Kubectl, append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("kubectl %s: %w", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), err
}

// kubectlApply runs `kubectl apply -f` for each file (or directory).
func kubectlApply(t *testing.T, files ...string) (stdout, stderr string, err error) {
	t.Helper()
	args := []string{"apply"}
	for _, f := range files {
		args = append(args, "-f", f)
	}
	return kubectl(t, args...)
}

// mustKubectl is kubectl for commands that have to succeed.
func mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, err := kubectl(t, args...)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	return stdout
}

// getObject reads one object with `kubectl get -o json`. resource is anything kubectl
// accepts ("gateways", "httproutes.v1beta1.gateway.networking.k8s.io"); namespace is
// empty for cluster-scoped objects.
func getObject(t *testing.T, resource, namespace, name string) *unstructured.Unstructured {
	t.Helper()
	args := []string{"get", resource, name, "-o", "json"}
	if namespace != "" {
		args = append(args, "--namespace", namespace)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON([]byte(mustKubectl(t, args...))); err != nil {
		t.Fatalf("decoding %s %s/%s: %v", resource, namespace, name, err)
	}
	return obj
}

func mustAbs(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		panic(err)
	}
	return abs
}
