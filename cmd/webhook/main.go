// Command webhook runs Gatewarden: the admission webhook that checks Gateway API route
// binding and ReferenceGrants before objects are stored, and fills in listener defaults.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	gwadmission "gatewarden.dev/gatewarden/pkg/admission"
	policyv1a1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
	"gatewarden.dev/gatewarden/pkg/config"
	"gatewarden.dev/gatewarden/pkg/policy"
)

// requiredKinds must have CRDs installed; the other kinds are served when present.
var requiredKinds = []gwv1.Kind{policy.KindGateway, "GatewayClass", policy.KindReferenceGrant, policy.KindHTTPRoute}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "check":
			os.Exit(runCheck(context.Background(), os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
		case "audit":
			os.Exit(runAudit(context.Background(), os.Args[2:], os.Stdout, os.Stderr))
		case "explain":
			os.Exit(runExplain(context.Background(), os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
		}
	}
	var (
		certDir, host, metricsAddr, probeAddr, pprofAddr, configFile, clientCAFile string
		port                                                                       int
		shutdownDelay                                                              time.Duration
		enableHTTP2                                                                bool
	)
	flag.StringVar(&certDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "Directory with the serving certificate tls.crt and key tls.key; reloaded when they change.")
	flag.StringVar(&host, "webhook-host", "", "Address the webhook server listens on (empty: all).")
	flag.IntVar(&port, "webhook-port", 9443, "Port the webhook server listens on.")
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint (0 disables it).")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address of /healthz and /readyz.")
	flag.StringVar(&clientCAFile, "client-ca-file", "", "PEM file of CAs: when set, the webhook requires and verifies a client certificate from the API server (its --admission-control-config-file kubeconfig).")
	flag.BoolVar(&enableHTTP2, "enable-http2", false, "Serve HTTP/2 too. Off by default: HTTP/2 Rapid Reset (CVE-2023-44487) and Stream Cancellation advisories; the API server speaks HTTP/1.1 to webhooks well.")
	flag.DurationVar(&shutdownDelay, "shutdown-delay", 0, "After SIGTERM, keep serving (not ready) this long before stopping, for endpoints to drop the pod. The Deployment uses a preStop sleep instead.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "", "Address of the Go pprof endpoints (empty: off). For profiling and benchmarks only.")
	flag.StringVar(&configFile, "config", "", "Path of a GatewardenConfiguration file (default: every rule at its default action).")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("gatewarden")

	tlsOpts, err := tlsOptions(clientCAFile, enableHTTP2)
	if err != nil {
		log.Error(err, "exiting")
		os.Exit(1)
	}
	if err := run(ctrl.SetupSignalHandler(), webhook.Options{Host: host, Port: port, CertDir: certDir, TLSOpts: tlsOpts}, metricsAddr, probeAddr, pprofAddr, configFile, shutdownDelay); err != nil {
		log.Error(err, "exiting")
		os.Exit(1)
	}
}

// tlsOptions hardens the webhook's TLS: TLS 1.2 at least (1.3 negotiated when both sides
// can), HTTP/1.1 only unless enableHTTP2, and client certificates verified against
// clientCAFile when set.
func tlsOptions(clientCAFile string, enableHTTP2 bool) ([]func(*tls.Config), error) {
	opts := []func(*tls.Config){func(c *tls.Config) { c.MinVersion = tls.VersionTLS12 }}
	if !enableHTTP2 {
		opts = append(opts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("--client-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--client-ca-file %s: no PEM certificates", clientCAFile)
		}
		opts = append(opts, func(c *tls.Config) {
			c.ClientCAs = pool
			c.ClientAuth = tls.RequireAndVerifyClientCert
		})
	}
	return opts, nil
}

func run(ctx context.Context, webhookOpts webhook.Options, metricsAddr, probeAddr, pprofAddr, configFile string, shutdownDelay time.Duration) error {
	log := ctrl.Log.WithName("gatewarden")
	cfg := config.Default()
	if configFile != "" {
		var err error
		if cfg, err = config.Load(configFile); err != nil {
			return fmt.Errorf("loading --config %s: %w", configFile, err)
		}
	}

	scheme, err := newScheme()
	if err != nil {
		return err
	}
	gracefulShutdown := 20 * time.Second
	restConfig, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: probeAddr,
		PprofBindAddress:       pprofAddr,
		WebhookServer:          webhook.NewServer(webhookOpts),
		// The cache keeps only what the rules read, and hands out its objects without copying
		// them: the rules only read.
		Cache:          gwadmission.CacheOptions(),
		LeaderElection: false,
		// --shutdown-delay plus this must fit in the Deployment's 30s grace period.
		GracefulShutdownTimeout: &gracefulShutdown,
	})
	if err != nil {
		return err
	}

	// Discovery, indexes and informers are set up once the manager runs, so that liveness
	// answers and the process stays up while the API server is not reachable yet: until
	// then the webhook is not ready and answers every review at once with an error.
	st := &startup{}
	metrics, err := gwadmission.NewMetrics(ctrlmetrics.Registry)
	if err != nil {
		return err
	}
	deps := &gwadmission.Deps{
		Cached:  gwadmission.InstrumentLookup(gwadmission.NewCachedLookup(mgr.GetCache(), st.reverseIndexes, st.available), "cache", metrics),
		Live:    gwadmission.InstrumentLookup(gwadmission.NewLookup(mgr.GetAPIReader(), st.reverseIndexes, st.available), "apiserver", metrics),
		Config:  cfg,
		Log:     log,
		Metrics: metrics,
		Ready:   st.ready,
	}
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		return st.run(ctx, mgr, cfg, metrics, log)
	})); err != nil {
		return err
	}
	srv := mgr.GetWebhookServer()
	recoverPanic := true
	for path, h := range map[string]admission.Handler{
		"/validate-gateway":        gwadmission.NewGatewayValidator(deps),
		"/validate-listenerset":    gwadmission.NewListenerSetValidator(deps),
		"/validate-httproute":      gwadmission.NewHTTPRouteValidator(deps),
		"/validate-grpcroute":      gwadmission.NewGRPCRouteValidator(deps),
		"/validate-tlsroute":       gwadmission.NewTLSRouteValidator(deps),
		"/validate-tcproute":       gwadmission.NewTCPRouteValidator(deps),
		"/validate-udproute":       gwadmission.NewUDPRouteValidator(deps),
		"/validate-referencegrant": gwadmission.NewReferenceGrantValidator(deps),
		"/validate-timeoutpolicy":  gwadmission.NewTimeoutPolicyValidator(deps),
		"/mutate-gateway":          gwadmission.NewGatewayDefaulter(deps),
		"/mutate-listenerset":      gwadmission.NewListenerSetDefaulter(deps),
	} {
		srv.Register(path, gwadmission.RequireReviewV1(&webhook.Admission{Handler: h, RecoverPanic: &recoverPanic, LogConstructor: gwadmission.RequestLogger}))
	}

	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("webhook", srv.StartedChecker()); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("informers", func(*http.Request) error {
		if !st.ready() {
			return errors.New("discovering Gateway API kinds or syncing informers")
		}
		return nil
	}); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("shutdown", func(*http.Request) error {
		if ctx.Err() != nil {
			return errors.New("shutting down")
		}
		return nil
	}); err != nil {
		return err
	}
	log.Info("starting", "webhookPort", webhookOpts.Port, "certDir", webhookOpts.CertDir, "webhookNamespace", cfg.WebhookNamespace, "auditInterval", cfg.AuditInterval)
	// On SIGTERM readiness turns false at once; the server keeps answering for
	// shutdownDelay, so that endpoints drop it before it stops, then finishes the requests
	// in flight.
	mgrCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go func() {
		<-ctx.Done()
		log.Info("shutting down", "delay", shutdownDelay)
		time.Sleep(shutdownDelay)
		cancel()
	}()
	return mgr.Start(mgrCtx)
}

// syncGCPercent is the GC target (as GOGC) while the informers list the cluster, for at
// most syncGCWindow.
const (
	syncGCPercent = 20
	syncGCWindow  = 5 * time.Minute
)

// startup discovers the installed Gateway API kinds, registers the field indexes and
// starts the informers, retrying until the API server answers; ready reports when that is
// done and every informer has synced.
type startup struct {
	kinds   atomic.Pointer[map[gwv1.Kind]bool]
	synced  atomic.Pointer[[]func() bool]
	reverse atomic.Pointer[gwadmission.ReverseIndexes]
}

func (s *startup) reverseIndexes() *gwadmission.ReverseIndexes { return s.reverse.Load() }

func (s *startup) available(k gwv1.Kind) bool {
	if m := s.kinds.Load(); m != nil {
		return (*m)[k]
	}
	return false
}

func (s *startup) ready() bool {
	synced := s.synced.Load()
	if synced == nil {
		return false
	}
	for _, hasSynced := range *synced {
		if !hasSynced() {
			return false
		}
	}
	return true
}

func (s *startup) run(ctx context.Context, mgr manager.Manager, cfg *config.Config, metrics *gwadmission.Metrics, log logr.Logger) error {
	var have map[gwv1.Kind]bool
	backoff := time.Second
	for {
		var err error
		if have, err = availableKinds(mgr.GetRESTMapper()); err == nil {
			break
		}
		log.Error(err, "discovering Gateway API kinds; retrying", "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
	s.kinds.Store(&have)
	reverse, err := gwadmission.SetupIndexes(ctx, mgr.GetCache(), s.available)
	if err != nil {
		return err
	}
	s.reverse.Store(reverse)
	// Until the informers have synced, collect garbage more often than GOGC says: the
	// initial lists leave garbage interleaved with the objects the cache keeps, and a heap
	// allowed to double ends the sync with the cache spread over half-empty spans that the
	// runtime can never return. A tight target packs the cache into fewer spans, for a lower
	// resident size for the life of the process (and a lower peak at start-up), at the cost
	// of a few more collections during the sync.
	gcPercent := debug.SetGCPercent(syncGCPercent)
	if gcPercent >= 0 && gcPercent < syncGCPercent {
		debug.SetGCPercent(gcPercent) // already tighter
	}
	// Restored once synced, or after syncGCWindow if a kind never syncs (say, RBAC
	// forbids listing it): a server that stays unready should not also pay the tight
	// target for good.
	var restoreGC sync.Once
	restore := func() { restoreGC.Do(func() { debug.SetGCPercent(gcPercent) }) }
	time.AfterFunc(syncGCWindow, restore)
	var synced []func() bool
	for _, obj := range gwadmission.CacheObjects(s.available) {
		inf, err := mgr.GetCache().GetInformer(ctx, obj, cache.BlockUntilSynced(false))
		if err != nil {
			return fmt.Errorf("informer for %T: %w", obj, err)
		}
		synced = append(synced, inf.HasSynced)
	}
	s.synced.Store(&synced)
	log.Info("informers started", "kinds", len(synced))
	go func() {
		// The initial lists leave garbage several times the cache's size; hand it back to
		// the OS once, rather than holding it as idle heap for the life of the process.
		ok := mgr.GetCache().WaitForCacheSync(ctx)
		restore()
		if ok {
			debug.FreeOSMemory()
			log.Info("informers synced")
		}
	}()
	if cfg.AuditInterval > 0 {
		auditor := &gwadmission.Auditor{
			Reader: mgr.GetCache(), Available: s.available, Config: cfg, Metrics: metrics,
			Recorder: mgr.GetEventRecorder("gatewarden"), Interval: cfg.AuditInterval, Log: log.WithName("audit"),
			WaitForSync: mgr.GetCache().WaitForCacheSync,
		}
		return auditor.Start(ctx)
	}
	<-ctx.Done()
	return nil
}

// newScheme holds the types the server and its subcommands read: core and Gateway API v1.
func newScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := gwv1.Install(scheme); err != nil {
		return nil, err
	}
	if err := policyv1a1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return scheme, nil
}

// availableKinds finds which Gateway API kinds have CRDs serving v1. The required ones must;
// the others are served only when installed (restart Gatewarden after installing them).
func availableKinds(mapper meta.RESTMapper) (map[gwv1.Kind]bool, error) {
	have := map[gwv1.Kind]bool{}
	for kind := range policy.ServedVersions {
		_, err := mapper.RESTMapping(schema.GroupKind{Group: gwv1.GroupName, Kind: string(kind)}, "v1")
		switch {
		case err == nil:
			have[kind] = true
		case meta.IsNoMatchError(err):
		default:
			return nil, fmt.Errorf("discovering %s: %w", kind, err)
		}
	}
	_, err := mapper.RESTMapping(policyv1a1.GroupVersion.WithKind("TimeoutPolicy").GroupKind(), policyv1a1.GroupVersion.Version)
	switch {
	case err == nil:
		have[gwadmission.KindTimeoutPolicy] = true
	case !meta.IsNoMatchError(err):
		return nil, fmt.Errorf("discovering TimeoutPolicy: %w", err)
	}
	for _, k := range requiredKinds {
		if !have[k] {
			return nil, fmt.Errorf("the %s CRD (gateway.networking.k8s.io/v1) is not installed: install the Gateway API CRDs first", k)
		}
	}
	return have, nil
}
