// Command noop is the baseline of `make bench`: controller-runtime's webhook server with
// the options cmd/webhook gives it (same certificate directory, TLS defaults), serving
// /validate-httproute with a handler that allows everything. The difference between it and
// Gatewarden under the same load is what Gatewarden's decoding, lookups and rules cost.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

func main() {
	var (
		certDir, host string
		port          int
	)
	flag.StringVar(&certDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "Directory with the serving certificate tls.crt and key tls.key.")
	flag.StringVar(&host, "webhook-host", "", "Address the webhook server listens on (empty: all).")
	flag.IntVar(&port, "webhook-port", 9443, "Port the webhook server listens on.")
	flag.Parse()
	ctrl.SetLogger(zap.New())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := webhook.NewServer(webhook.Options{Host: host, Port: port, CertDir: certDir})
	recoverPanic := true
	srv.Register("/validate-httproute", &webhook.Admission{
		Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
			return admission.Allowed("")
		}),
		RecoverPanic: &recoverPanic,
	})
	if err := srv.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "noop:", err)
		os.Exit(1)
	}
}
