// Package localenv runs Gatewarden against a real control plane on this machine: an
// envtest kube-apiserver and etcd from <repo>/bin with the Gateway API experimental
// CRDs and Gatewarden's own (config/crd), the webhook binary as a subprocess, and the
// webhook configurations from config/webhook pointed at it. make run and the integration
// tests use it.
package localenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	corev1 "k8s.io/api/core/v1"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/modfile"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1a2 "sigs.k8s.io/gateway-api/apis/v1alpha2"
	gwv1a3 "sigs.k8s.io/gateway-api/apis/v1alpha3"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"gatewarden.dev/gatewarden/internal/devcerts"
	policyv1alpha1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
)

// AnyPort asks Start to pick a free port instead of the default one, so that several
// environments (test packages, a make run session) can run side by side.
const AnyPort = -1

// Default ports, the ones config/webhook's Deployment uses too.
const (
	DefaultWebhookPort = 9443
	DefaultMetricsPort = 8080
	DefaultHealthPort  = 8081
)

const modulePath = "gatewarden.dev/gatewarden"

// Options configures Start. The zero value runs the webhook built from ./cmd/webhook on
// the default ports with state in <repo>/.local and certificates in <repo>/certs.
type Options struct {
	// RepoRoot is the repository checkout; empty means the directory holding the
	// gatewarden go.mod at or above the working directory.
	RepoRoot string
	// StateDir receives the kubeconfig and webhook.log. Relative paths are taken from
	// RepoRoot; empty means ".local".
	StateDir string
	// CertDir holds the development certificates (see internal/devcerts); empty means
	// <repo>/certs. They are generated there when missing or about to expire.
	CertDir string

	// Ports on 127.0.0.1. Zero means the default, AnyPort a free one.
	WebhookPort, MetricsPort, HealthPort int

	// WebhookBinary is the webhook executable; empty means <repo>/bin/webhook, built
	// first with `go build -o bin/webhook ./cmd/webhook` unless SkipBuild is set. A
	// binary given here is never built.
	WebhookBinary string
	SkipBuild     bool
	// WebhookConfig, when set, is passed as --config.
	WebhookConfig string
	// WebhookOutput, when set, receives a copy of the webhook's stdout and stderr,
	// which always go to <StateDir>/webhook.log.
	WebhookOutput io.Writer

	// ReadyTimeout bounds each wait for the webhook (readiness, then being called by
	// the apiserver); zero means 60s.
	ReadyTimeout time.Duration

	// ExtraCRDDirs are directories of further CustomResourceDefinitions to install with
	// the Gateway API ones and config/crd (cert-manager's, for instance: see ModuleDir).
	ExtraCRDDirs []string
}

// Env is a running local environment. Stop it when done.
type Env struct {
	// Root is the repository checkout.
	Root string
	// StateDir holds Kubeconfig and WebhookLog.
	StateDir string
	// Kubeconfig is a kubeconfig file for a system:masters user, usable with bin/kubectl.
	Kubeconfig string
	// WebhookLog is the webhook's combined stdout and stderr.
	WebhookLog string
	// Kubectl is <repo>/bin/kubectl.
	Kubectl string
	// WebhookPort, MetricsPort and HealthPort are the ports in use on 127.0.0.1.
	WebhookPort, MetricsPort, HealthPort int
	// Config and Client talk to the apiserver as the same user as Kubeconfig. Client's
	// scheme is Scheme().
	Config *rest.Config
	Client client.Client

	testEnv *envtest.Environment
	// apiserverDir holds the apiserver's certificates; it is ours rather than envtest's,
	// so that StopAPIServer keeps them for StartAPIServer (see there).
	apiserverDir string
	webhook      *Process
	stopOnce     sync.Once
	stopErr      error
}

// Start brings up the control plane and the webhook and returns once the apiserver is
// calling the webhook. On error, everything started so far is stopped again.
func Start(ctx context.Context, opts Options) (env *Env, err error) {
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 60 * time.Second
	}
	e := &Env{}
	defer func() {
		if err != nil {
			_ = e.Stop()
		}
	}()

	binDir, err := e.prepare(opts)
	if err != nil {
		return nil, err
	}
	certDir := orDefault(opts.CertDir, filepath.Join(e.Root, "certs"))
	if !filepath.IsAbs(certDir) {
		certDir = filepath.Join(e.Root, certDir)
	}

	webhookBin := opts.WebhookBinary
	if webhookBin == "" {
		webhookBin = filepath.Join(e.Root, "bin", "webhook")
		if !opts.SkipBuild {
			if err := buildWebhook(ctx, e.Root, webhookBin); err != nil {
				return nil, err
			}
		}
	}
	if _, err := os.Stat(webhookBin); err != nil {
		return nil, fmt.Errorf("webhook binary: %w (make build)", err)
	}

	certs, err := devcerts.Ensure(certDir, devcerts.DefaultOptions())
	if err != nil {
		return nil, err
	}

	if e.WebhookPort, err = choosePort(opts.WebhookPort, DefaultWebhookPort, "WEBHOOK_PORT"); err != nil {
		return nil, err
	}
	if e.MetricsPort, err = choosePort(opts.MetricsPort, DefaultMetricsPort, "METRICS_PORT"); err != nil {
		return nil, err
	}
	if e.HealthPort, err = choosePort(opts.HealthPort, DefaultHealthPort, "HEALTH_PORT"); err != nil {
		return nil, err
	}

	if err := e.startControlPlane(ctx, binDir, opts.ExtraCRDDirs); err != nil {
		return nil, err
	}

	// The webhook configurations go in before the webhook starts: once the apiserver
	// fails to reach it, we know the configuration is loaded, and a later success
	// proves the webhook answered rather than that the apiserver had not looked yet.
	hooks, err := RenderWebhookConfigurations(filepath.Join(e.Root, "config", "webhook"))
	if err != nil {
		return nil, err
	}
	if err := hooks.PointAt("127.0.0.1", e.WebhookPort, certs.CAPEM); err != nil {
		return nil, err
	}
	if err := e.apply(ctx, hooks.Mutating, hooks.Validating); err != nil {
		return nil, err
	}
	if err := e.waitForWebhookCall(ctx, opts.ReadyTimeout, false); err != nil {
		return nil, fmt.Errorf("the apiserver did not pick up the webhook configurations: %w", err)
	}

	args := []string{
		"--kubeconfig", e.Kubeconfig,
		"--cert-dir", certDir,
		"--webhook-host", "127.0.0.1",
		"--webhook-port", strconv.Itoa(e.WebhookPort),
		"--metrics-bind-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(e.MetricsPort)),
		"--health-probe-bind-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(e.HealthPort)),
	}
	if opts.WebhookConfig != "" {
		args = append(args, "--config", opts.WebhookConfig)
	}
	e.WebhookLog = filepath.Join(e.StateDir, "webhook.log")
	if e.webhook, err = StartProcess("webhook", webhookBin, args, e.WebhookLog, opts.WebhookOutput); err != nil {
		return nil, err
	}
	if err := e.waitReady(ctx, opts.ReadyTimeout); err != nil {
		return nil, err
	}
	if err := e.waitForWebhookCall(ctx, opts.ReadyTimeout, true); err != nil {
		return nil, fmt.Errorf("the apiserver cannot call the webhook: %w\n%s", err, e.webhook.Tail())
	}
	return e, nil
}

// StartControlPlane brings up only the control plane: the apiserver and etcd with the
// Gateway API CRDs and config/crd (and opts.ExtraCRDDirs), no webhook process and no webhook
// configurations. Of opts it uses RepoRoot, StateDir and ExtraCRDDirs. Tests of the
// install manifests use it to have the apiserver check objects without Gatewarden.
func StartControlPlane(ctx context.Context, opts Options) (env *Env, err error) {
	e := &Env{}
	defer func() {
		if err != nil {
			_ = e.Stop()
		}
	}()
	binDir, err := e.prepare(opts)
	if err != nil {
		return nil, err
	}
	if err := e.startControlPlane(ctx, binDir, opts.ExtraCRDDirs); err != nil {
		return nil, err
	}
	return e, nil
}

// prepare finds the repository, the control-plane binaries and the state directory,
// and returns the directory holding the binaries.
func (e *Env) prepare(opts Options) (string, error) {
	var err error
	if e.Root, err = repoRoot(opts.RepoRoot); err != nil {
		return "", err
	}
	binDir := filepath.Join(e.Root, "bin")
	if assets := os.Getenv("KUBEBUILDER_ASSETS"); assets != "" {
		binDir = assets // envtest gives KUBEBUILDER_ASSETS precedence; check the same place
	}
	for _, name := range []string{"kube-apiserver", "etcd", "kubectl"} {
		if _, err := os.Stat(filepath.Join(binDir, name)); err != nil {
			return "", fmt.Errorf("control-plane binary %s not found in %s: run make tools", name, binDir)
		}
	}
	e.Kubectl = filepath.Join(binDir, "kubectl")

	e.StateDir = orDefault(opts.StateDir, ".local")
	if !filepath.IsAbs(e.StateDir) {
		e.StateDir = filepath.Join(e.Root, e.StateDir)
	}
	return binDir, os.MkdirAll(e.StateDir, 0o755)
}

// Stop stops the webhook and the control plane. It is safe to call more than once.
func (e *Env) Stop() error {
	e.stopOnce.Do(func() {
		var errs []error
		if e.webhook != nil {
			errs = append(errs, e.webhook.Stop(10*time.Second))
		}
		if e.testEnv != nil {
			errs = append(errs, e.testEnv.Stop())
		}
		if e.apiserverDir != "" {
			errs = append(errs, os.RemoveAll(e.apiserverDir))
		}
		e.stopErr = errors.Join(errs...)
	})
	return e.stopErr
}

// StopAPIServer stops the kube-apiserver and leaves etcd running, as in an API server
// outage; StartAPIServer brings it back. Clients (Config, Client, Kubeconfig, a webhook
// started with it) fail meanwhile. The apiserver gets SIGTERM and, if it has not exited
// within grace (it may wait for its clients' open watches), SIGKILL, as in a crash; either
// way StopAPIServer returns once nothing listens on its port any more.
func (e *Env) StopAPIServer(grace time.Duration) error {
	if e.testEnv == nil || e.testEnv.ControlPlane.APIServer == nil {
		return errors.New("no control plane")
	}
	s := e.testEnv.ControlPlane.APIServer
	s.StopTimeout = grace
	// envtest reports a kill after the timeout as an error; the outage is what we want.
	if err := s.Stop(); err != nil && !strings.Contains(err.Error(), "timeout waiting for process") {
		return err
	}
	addr := s.SecureServing.URL("https", "").Host
	return wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true, nil
		}
		c.Close()
		return false, nil
	})
}

// StartAPIServer starts the kube-apiserver stopped by StopAPIServer again, on the same
// address with the same serving certificate and client CA, so that Kubeconfig and Config
// stay valid, and returns once it is healthy (or after timeout; zero means 60s). The
// objects in etcd are kept.
func (e *Env) StartAPIServer(timeout time.Duration) error {
	if e.testEnv == nil || e.testEnv.ControlPlane.APIServer == nil {
		return errors.New("no control plane")
	}
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	s := e.testEnv.ControlPlane.APIServer
	s.StartTimeout = timeout
	start := time.Now()
	if err := s.Start(); err != nil {
		return fmt.Errorf("restarting the apiserver: %w", err)
	}
	logf("apiserver restarted on %s in %s", s.SecureServing.URL("https", "").Host, time.Since(start).Round(time.Millisecond))
	return nil
}

// Scheme returns a scheme with the built-in types, every Gateway API version and
// Gatewarden's policy API.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(gwv1.Install(s))
	utilruntime.Must(gwv1b1.Install(s))
	utilruntime.Must(gwv1a2.Install(s))
	utilruntime.Must(gwv1a3.Install(s))
	utilruntime.Must(policyv1alpha1.AddToScheme(s))
	return s
}

func (e *Env) startControlPlane(ctx context.Context, binDir string, extraCRDDirs []string) error {
	crdDir, err := gatewayAPICRDDir(ctx, e.Root)
	if err != nil {
		return err
	}
	// A certificate directory that envtest does not own: envtest removes its own one on
	// stop and makes a new CA on the next start, which would break every kubeconfig.
	if e.apiserverDir, err = os.MkdirTemp("", "localenv-apiserver-"); err != nil {
		return err
	}
	e.testEnv = &envtest.Environment{
		BinaryAssetsDirectory: binDir,
		Scheme:                Scheme(),
		ControlPlane:          envtest.ControlPlane{APIServer: &envtest.APIServer{CertDir: e.apiserverDir}},
		// Only CustomResourceDefinition documents are installed from here; the
		// ValidatingAdmissionPolicy next to them is created below. config/crd holds
		// Gatewarden's own CRDs, as the install ships them (its kustomization.yaml is
		// not a CRD and is skipped).
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths:              append([]string{crdDir, filepath.Join(e.Root, "config", "crd")}, extraCRDDirs...),
			ErrorIfPathMissing: true,
		},
	}
	start := time.Now()
	if e.Config, err = e.testEnv.Start(); err != nil {
		return fmt.Errorf("starting envtest control plane from %s: %w", binDir, err)
	}
	logf("control plane with %d CRDs up in %s", len(e.testEnv.CRDs), time.Since(start).Round(time.Millisecond))
	if e.Client, err = client.New(e.Config, client.Options{Scheme: e.testEnv.Scheme}); err != nil {
		return err
	}
	if err := e.installAdmissionPolicies(ctx, crdDir); err != nil {
		return err
	}
	// The webhook's own namespace exists in every install (config/webhook creates it); it
	// is where class-wide TimeoutPolicies live (examples/policy).
	if err := e.apply(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gatewarden-system"}}); err != nil {
		return err
	}
	e.Kubeconfig = filepath.Join(e.StateDir, "kubeconfig")
	return os.WriteFile(e.Kubeconfig, e.testEnv.KubeConfig, 0o600)
}

// installAdmissionPolicies creates the ValidatingAdmissionPolicy (and binding) that
// ships with the CRDs, so the local apiserver guards CRD upgrades like a real install.
func (e *Env) installAdmissionPolicies(ctx context.Context, crdDir string) error {
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for _, doc := range bytes.Split(data, []byte("\n---")) {
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			var obj client.Object
			switch tm.Kind {
			case "ValidatingAdmissionPolicy":
				obj = &admissionregistrationv1.ValidatingAdmissionPolicy{}
			case "ValidatingAdmissionPolicyBinding":
				obj = &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
			default:
				continue
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if err := e.apply(ctx, obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// apply creates each object or replaces the existing one.
func (e *Env) apply(ctx context.Context, objs ...client.Object) error {
	for _, obj := range objs {
		existing := obj.DeepCopyObject().(client.Object)
		err := e.Client.Get(ctx, client.ObjectKeyFromObject(obj), existing)
		switch {
		case apierrors.IsNotFound(err):
			err = e.Client.Create(ctx, obj)
		case err == nil:
			obj.SetResourceVersion(existing.GetResourceVersion())
			err = e.Client.Update(ctx, obj)
		}
		if err != nil {
			return fmt.Errorf("applying %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

// waitReady polls the webhook's /readyz until it answers 200, failing early if the
// process exits.
func (e *Env) waitReady(ctx context.Context, timeout time.Duration) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", e.HealthPort)
	httpClient := &http.Client{Timeout: 2 * time.Second}
	last := errors.New("no answer yet")
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := e.webhook.Exited(); err != nil {
			return false, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			last = err
			return false, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return true, nil
		}
		last = fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("webhook not ready (%w; last: %v)\n%s", err, last, e.webhook.Tail())
	}
	return nil
}

// waitForWebhookCall dry-runs a Gateway create until the apiserver's answer shows that
// it could call the validating webhook (reachable) or could not (!reachable). A denial
// by the webhook counts as reachable: the probe Gateway is not meant to be valid.
func (e *Env) waitForWebhookCall(ctx context.Context, timeout time.Duration, reachable bool) error {
	last := errors.New("no attempt yet")
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if e.webhook != nil {
			if err := e.webhook.Exited(); err != nil {
				return false, err
			}
		}
		gw := &gwv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "localenv-probe-", Namespace: metav1.NamespaceDefault},
			Spec: gwv1.GatewaySpec{
				GatewayClassName: "localenv-probe",
				Listeners:        []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}},
			},
		}
		last = e.Client.Create(ctx, gw, client.DryRunAll)
		// The apiserver's wording for a webhook it could not call (unreachable, TLS
		// failure, 404 for an unserved path, timeout).
		failedCall := last != nil && strings.Contains(last.Error(), "failed calling webhook")
		return failedCall != reachable, nil
	})
	if err != nil {
		return fmt.Errorf("%w; last dry-run create: %v", err, last)
	}
	return nil
}

func buildWebhook(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/webhook")
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build -o bin/webhook ./cmd/webhook: %w\n%s", err, output)
	}
	return nil
}

// gatewayAPICRDDir is config/crd/experimental in the gateway-api module the repo
// depends on, so the CRDs always match the Go types the webhook decodes.
func gatewayAPICRDDir(ctx context.Context, root string) (string, error) {
	return ModuleDir(ctx, root, "sigs.k8s.io/gateway-api", "config", "crd", "experimental")
}

// ModuleDir returns the directory elem... inside the copy of module modPath that the
// repository at root depends on (from the module cache, downloading it if needed), so
// that files taken from a dependency match the version in go.mod.
func ModuleDir(ctx context.Context, root, modPath string, elem ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", modPath)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("locating the %s module: %w", modPath, err)
	}
	modDir := strings.TrimSpace(string(out))
	if modDir == "" {
		return "", fmt.Errorf("module %s is not in the module cache: go mod download %s", modPath, modPath)
	}
	dir := filepath.Join(append([]string{modDir}, elem...)...)
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("%s: %w", modPath, err)
	}
	return dir, nil
}

// RepoRoot returns the repository checkout: the nearest directory at or above the
// working directory whose go.mod declares this module.
func RepoRoot() (string, error) {
	return repoRoot("")
}

// repoRoot returns dir, or the nearest directory at or above the working directory
// whose go.mod declares this module.
func repoRoot(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && modfile.ModulePath(data) == modulePath {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod for %s at or above %s", modulePath, wd)
		}
	}
}

// choosePort resolves a requested port: 0 is def, AnyPort a free port. A fixed port
// that is taken is reported now rather than as a bind error in the webhook's log.
func choosePort(requested, def int, envName string) (int, error) {
	switch requested {
	case 0:
		requested = def
	case AnyPort:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(requested)))
	if err != nil {
		return 0, fmt.Errorf("port %d is in use (another make run?); set %s: %w", requested, envName, err)
	}
	return requested, l.Close()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "localenv: "+format+"\n", args...)
}
