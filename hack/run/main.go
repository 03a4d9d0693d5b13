// Command run is `make run`: a local kube-apiserver with the Gateway API CRDs and the
// webhook wired in (see test/localenv), up until SIGINT or SIGTERM.
//
// Environment: GATEWARDEN_STATE_DIR (default .local), WEBHOOK_PORT (9443),
// METRICS_PORT (8080), HEALTH_PORT (8081), GATEWARDEN_CONFIG (passed as --config),
// GATEWARDEN_SKIP_BUILD=1 (use bin/webhook as it is), GATEWARDEN_WEBHOOK_BIN (run this
// binary instead of bin/webhook) and GATEWARDEN_QUIET=1 (webhook output only in
// <state dir>/webhook.log, not on stderr too).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"gatewarden.dev/gatewarden/test/localenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := localenv.Options{
		StateDir:      os.Getenv("GATEWARDEN_STATE_DIR"),
		WebhookConfig: os.Getenv("GATEWARDEN_CONFIG"),
		SkipBuild:     os.Getenv("GATEWARDEN_SKIP_BUILD") == "1",
		WebhookBinary: os.Getenv("GATEWARDEN_WEBHOOK_BIN"),
		WebhookOutput: os.Stderr,
	}
	if os.Getenv("GATEWARDEN_QUIET") == "1" {
		opts.WebhookOutput = io.Discard
	}
	for name, port := range map[string]*int{
		"WEBHOOK_PORT": &opts.WebhookPort,
		"METRICS_PORT": &opts.MetricsPort,
		"HEALTH_PORT":  &opts.HealthPort,
	} {
		if v := os.Getenv(name); v != "" {
			p, err := strconv.Atoi(v)
			if err != nil || p <= 0 || p > 65535 {
				return fmt.Errorf("%s=%q: want a port number", name, v)
			}
			*port = p
		}
	}

	start := time.Now()
	env, err := localenv.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(os.Stderr, "run: stopping")
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "run:", err)
		}
	}()

	kubectl, _ := filepath.Rel(env.Root, env.Kubectl)
	fmt.Printf(`
ready in %s (webhook https://127.0.0.1:%d, probes :%d, metrics :%d; log %s)

ready: export KUBECONFIG=%s

  %s apply -f examples/seed/                          # accepted
  %s apply -f examples/denied/route-without-grant.yaml # denied by the webhook

Ctrl-C stops everything.
`, time.Since(start).Round(time.Millisecond), env.WebhookPort, env.HealthPort, env.MetricsPort, env.WebhookLog,
		env.Kubeconfig, kubectl, kubectl)

	<-ctx.Done()
	return nil
}
