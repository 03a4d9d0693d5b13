// Package faults runs the real bin/webhook as a subprocess against a local control plane
// (envtest, from bin/) and breaks things around it: the API server away at start and
// restarted while the webhook runs, the serving certificate replaced under load, SIGTERM
// under load, and a soak at steady load. docs/reliability.md lists what each test proves.
//
// Tests run one after another (the machine has few cores and the timings matter). Tests
// that stop the API server start a control plane of their own; the others share one.
// `go test -short` skips this package; `make soak` runs TestSoak for ten minutes.
package faults

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"gatewarden.dev/gatewarden/internal/devcerts"
	"gatewarden.dev/gatewarden/test/localenv"
)

var (
	// root is the repository checkout, webhookBin the server under test.
	root, webhookBin string
	// devCertDir holds the development CA (and a serving certificate) from internal/devcerts;
	// devCA trusts it.
	devCertDir string
	devCA      *x509.CertPool

	sharedOnce sync.Once
	shared     *localenv.Env
	sharedErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("faults: skipping all tests: -short was given")
		os.Exit(0)
	}
	if err := setup(); err != nil {
		fmt.Fprintf(os.Stderr, "faults: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "faults: stopping the shared control plane: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

func setup() error {
	var err error
	if root, err = localenv.RepoRoot(); err != nil {
		return err
	}
	// make test builds bin/webhook once and sets GATEWARDEN_SKIP_BUILD (test packages run
	// in parallel); GATEWARDEN_WEBHOOK_BIN runs another binary instead.
	webhookBin = os.Getenv("GATEWARDEN_WEBHOOK_BIN")
	if webhookBin == "" {
		webhookBin = filepath.Join(root, "bin", "webhook")
		if os.Getenv("GATEWARDEN_SKIP_BUILD") != "1" {
			cmd := exec.Command("go", "build", "-o", webhookBin, "./cmd/webhook")
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("go build ./cmd/webhook: %w\n%s", err, out)
			}
		}
	}
	if _, err := os.Stat(webhookBin); err != nil {
		return fmt.Errorf("webhook binary: %w (make build)", err)
	}
	devCertDir = filepath.Join(root, "certs")
	res, err := devcerts.Ensure(devCertDir, devcerts.DefaultOptions())
	if err != nil {
		return err
	}
	devCA = x509.NewCertPool()
	if !devCA.AppendCertsFromPEM(res.CAPEM) {
		return errors.New("no CA certificate from devcerts")
	}
	return nil
}

// sharedEnv returns the control plane shared by the tests that leave the API server up,
// with the world seeded; it is started on first use.
func sharedEnv(t *testing.T) *localenv.Env {
	t.Helper()
	sharedOnce.Do(func() {
		shared, sharedErr = startControlPlane(context.Background(), "shared")
	})
	if sharedErr != nil {
		t.Fatalf("shared control plane: %v", sharedErr)
	}
	return shared
}

// ownEnv starts a control plane for t alone (t stops its API server), stopped at cleanup.
func ownEnv(t *testing.T) *localenv.Env {
	t.Helper()
	env, err := startControlPlane(t.Context(), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
	})
	return env
}

func startControlPlane(ctx context.Context, name string) (*localenv.Env, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	env, err := localenv.StartControlPlane(ctx, localenv.Options{RepoRoot: root, StateDir: filepath.Join(".local/test/faults", name)})
	if err != nil {
		return nil, err
	}
	if err := seed(ctx, env.Client); err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("seeding the world: %w", err)
	}
	return env, nil
}

// The world every test starts from (pkg/admission's handler test world): Gateway prod-web
// admits Routes from prod, and a ReferenceGrant in backends lets them use Service app.
const (
	nsProd, nsBackends = "prod", "backends"
	gatewayName        = "prod-web"
)

func seed(ctx context.Context, c client.Client) error {
	same := gwv1.NamespacesFromSame
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsProd}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsBackends}},
		&gwv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Name: gatewayName, Namespace: nsProd},
			Spec: gwv1.GatewaySpec{GatewayClassName: "example", Listeners: []gwv1.Listener{{
				Name: "http", Protocol: gwv1.HTTPProtocolType, Port: 80,
				AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &same}},
			}}},
		},
		&gwv1b1.ReferenceGrant{
			ObjectMeta: metav1.ObjectMeta{Name: "allow-prod-traffic", Namespace: nsBackends},
			Spec: gwv1b1.ReferenceGrantSpec{
				From: []gwv1b1.ReferenceGrantFrom{{Group: gwv1.GroupName, Kind: "HTTPRoute", Namespace: nsProd}},
				To:   []gwv1b1.ReferenceGrantTo{{Group: "", Kind: "Service", Name: ptr(gwv1.ObjectName("app"))}},
			},
		},
	}
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// webhook is a running bin/webhook with its own ports on 127.0.0.1.
type webhook struct {
	*localenv.Process

	base, health, metrics, pprof string // https://host:port, http://host:port ...
}

// startWebhook runs bin/webhook with kubeconfig and certDir (and extra flags), on free
// ports, with pprof on. It does not wait for readiness. The process is stopped at cleanup
// and its log is printed if t failed.
func startWebhook(t *testing.T, kubeconfig, certDir string, extra ...string) *webhook {
	t.Helper()
	ports := freePorts(t, 4)
	addr := func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
	args := append([]string{
		"--kubeconfig", kubeconfig,
		"--cert-dir", certDir,
		"--webhook-host", "127.0.0.1",
		"--webhook-port", strconv.Itoa(ports[0]),
		"--metrics-bind-address", addr(ports[1]),
		"--health-probe-bind-address", addr(ports[2]),
		"--pprof-bind-address", addr(ports[3]),
	}, extra...)
	logDir := filepath.Join(root, ".local", "test", "faults", t.Name())
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := localenv.StartProcess("webhook", webhookBin, args, filepath.Join(logDir, "webhook.log"), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &webhook{
		Process: p,
		base:    "https://" + addr(ports[0]), health: "http://" + addr(ports[2]),
		metrics: "http://" + addr(ports[1]), pprof: "http://" + addr(ports[3]),
	}
	t.Cleanup(func() {
		w.kill()
		if t.Failed() {
			t.Logf("webhook log:\n%s", w.tail())
		}
	})
	return w
}

// kill stops the process group: SIGTERM, SIGKILL after 10s.
func (w *webhook) kill() { _ = w.Stop(10 * time.Second) }

// exited returns an error once the process has exited, nil while it runs.
func (w *webhook) exited() error { return w.Exited() }

func (w *webhook) tail() string { return w.Tail() }

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l) // held until all are chosen, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// probeClient is for /healthz, /readyz, /metrics and pprof: plain HTTP, short timeout.
var probeClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// status GETs url and returns its status code and body; err is a transport error.
func status(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), nil
}

// poll calls cond every interval until it returns true or an error, the webhook exits, or
// timeout passes; last describes the last unsuccessful try for the failure message.
func poll(ctx context.Context, w *webhook, interval, timeout time.Duration, cond func(ctx context.Context) (ok bool, last string, err error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := "no attempt"
	for {
		if w != nil {
			if err := w.exited(); err != nil {
				return err
			}
		}
		ok, l, err := cond(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		last = l
		select {
		case <-ctx.Done():
			return fmt.Errorf("not within %s; last: %s", timeout, last)
		case <-time.After(interval):
		}
	}
}

// waitStatus polls path on the health port until it answers want.
func (w *webhook) waitStatus(ctx context.Context, path string, want int, timeout time.Duration) error {
	return poll(ctx, w, 100*time.Millisecond, timeout, func(ctx context.Context) (bool, string, error) {
		code, body, err := status(ctx, w.health+path)
		if err != nil {
			return false, err.Error(), nil
		}
		return code == want, fmt.Sprintf("%d %s", code, strings.TrimSpace(body)), nil
	})
}

// newTransport is an HTTPS transport that trusts the development CA, speaks HTTP/1.1 only
// (as the API server does to webhooks) and keeps connections alive unless keepAlive is
// false.
func newTransport(keepAlive bool) *http.Transport {
	return &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: devCA, MinVersion: tls.VersionTLS12},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		DisableKeepAlives:   !keepAlive,
		MaxIdleConnsPerHost: 64,
		DisableCompression:  true,
	}
}

// HTTPRoutes of the world: routeTo(backend) is Route foo in prod under Gateway prod-web;
// to "app" it is allowed from the cache alone, to "other" denied (RefNotPermitted), which
// takes an uncached confirmation from the API server.
func routeTo(backend string) string {
	return routeWith(gatewayName, "", backend)
}

// routeWith is Route foo in prod with one parentRef (namespace empty: prod) and one
// backendRef into backends.
func routeWith(parent, parentNamespace, backend string) string {
	ns := ""
	if parentNamespace != "" {
		ns = fmt.Sprintf(`,"namespace":%q`, parentNamespace)
	}
	return fmt.Sprintf(`{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"foo","namespace":"prod"},
"spec":{"parentRefs":[{"name":%q%s}],"rules":[{"backendRefs":[{"name":%q,"namespace":"backends","port":80}]}]}}`, parent, ns, backend)
}

// gatewayObject is a Gateway for /mutate-gateway: the defaulter fills allowedRoutes.
const gatewayObject = `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway","metadata":{"name":"gw","namespace":"prod"},
"spec":{"gatewayClassName":"example","listeners":[{"name":"http","protocol":"HTTP","port":80}]}}`

// reviewBody is an AdmissionReview v1 for a CREATE of object (kind HTTPRoute or Gateway).
func reviewBody(uid, kind, object string) []byte {
	resource := strings.ToLower(kind) + "s"
	return fmt.Appendf(nil, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":%q,
"kind":{"group":"gateway.networking.k8s.io","version":"v1","kind":%q},
"resource":{"group":"gateway.networking.k8s.io","version":"v1","resource":%q},
"operation":"CREATE","namespace":"prod","name":"foo","userInfo":{"username":"faults"},"object":%s}}`, uid, kind, resource, object)
}

// answer is what a review got.
type answer struct {
	status  int                            // HTTP status
	resp    *admissionv1.AdmissionResponse // nil unless a v1 AdmissionReview with the UID came back
	tls     *tls.ConnectionState           // the connection's, for the serving certificate
	elapsed time.Duration
}

// code is the AdmissionResponse's result code, 200 when allowed without a result.
func (a answer) code() int32 {
	if a.resp == nil {
		return 0
	}
	if a.resp.Result != nil && a.resp.Result.Code != 0 {
		return a.resp.Result.Code
	}
	if a.resp.Allowed {
		return 200
	}
	return 0
}

func (a answer) message() string {
	if a.resp == nil || a.resp.Result == nil {
		return ""
	}
	return a.resp.Result.Message
}

func (a answer) String() string {
	if a.resp == nil {
		return fmt.Sprintf("HTTP %d, no AdmissionResponse", a.status)
	}
	return fmt.Sprintf("HTTP %d allowed=%v code=%d message=%q warnings=%q", a.status, a.resp.Allowed, a.code(), a.message(), a.resp.Warnings)
}

// send POSTs an AdmissionReview to path and decodes the answer; err is a transport error
// or an answer that is not an AdmissionReview for uid.
func send(ctx context.Context, hc *http.Client, url, uid string, body io.Reader) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return answer{elapsed: time.Since(start)}, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	a := answer{status: resp.StatusCode, tls: resp.TLS, elapsed: time.Since(start)}
	if err != nil {
		return a, err
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &review); err != nil {
		return a, fmt.Errorf("HTTP %d, not an AdmissionReview: %w: %.200s", resp.StatusCode, err, data)
	}
	if review.APIVersion != "admission.k8s.io/v1" || review.Kind != "AdmissionReview" || review.Response == nil {
		return a, fmt.Errorf("HTTP %d, not an AdmissionReview v1 with a response: %.200s", resp.StatusCode, data)
	}
	if string(review.Response.UID) != uid {
		return a, fmt.Errorf("response UID %q, want %q", review.Response.UID, uid)
	}
	a.resp = review.Response
	return a, nil
}

// review sends one AdmissionReview for object to the webhook's path.
func (w *webhook) review(ctx context.Context, hc *http.Client, path, kind, object string) (answer, error) {
	uid := fmt.Sprintf("faults-%d", time.Now().UnixNano())
	return send(ctx, hc, w.base+path, uid, bytes.NewReader(reviewBody(uid, kind, object)))
}

// checkDecisions asserts the world's two verdicts: Route to app allowed without warnings,
// Route to other denied with RefNotPermitted.
func checkDecisions(t *testing.T, ctx context.Context, w *webhook, hc *http.Client) {
	t.Helper()
	a, err := w.review(ctx, hc, "/validate-httproute", "HTTPRoute", routeTo("app"))
	if err != nil || a.code() != 200 || !a.resp.Allowed || len(a.resp.Warnings) > 0 {
		t.Errorf("Route to app: %v (err %v), want allowed without warnings", a, err)
	}
	a, err = w.review(ctx, hc, "/validate-httproute", "HTTPRoute", routeTo("other"))
	if err != nil || a.resp.Allowed || a.code() != http.StatusUnprocessableEntity || !strings.Contains(a.message(), "[ref-not-permitted]") {
		t.Errorf("Route to other: %v (err %v), want denied 422 [ref-not-permitted]", a, err)
	}
}
