package faults

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// outageWindow is how long the tests hold the API server away while they watch the webhook:
// long enough for several discovery retries (1s, 2s, 4s backoff) and watch failures.
const outageWindow = 6 * time.Second

// TestAPIServerUnreachableAtStart starts the webhook while its API server is down: it is
// alive (/healthz 200) and not ready (/readyz 500), does not exit, and answers every
// review at once with a 500 "gatewarden is starting" rather than holding it; once the API
// server comes up, it turns ready and decides correctly.
//
// The control plane is started (with the Gateway API CRDs and the world) and its API
// server stopped before the webhook starts, so the webhook never sees it until the restart.
func TestAPIServerUnreachableAtStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	env := ownEnv(t)
	if err := env.StopAPIServer(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	apiserverDown(t, env.Config.Host)

	w := startWebhook(t, env.Kubeconfig, devCertDir)
	if err := w.waitStatus(ctx, "/healthz", http.StatusOK, 30*time.Second); err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	hc := &http.Client{Transport: newTransport(true), Timeout: 5 * time.Second}
	// The webhook server may listen a moment after the health probes.
	if err := poll(ctx, w, 100*time.Millisecond, 30*time.Second, func(ctx context.Context) (bool, string, error) {
		_, err := w.review(ctx, hc, "/validate-httproute", "HTTPRoute", routeTo("app"))
		return err == nil, errString(err), nil
	}); err != nil {
		t.Fatalf("the webhook server does not answer: %v", err)
	}

	// Throughout the window: alive, not ready, every review refused at once.
	deadline := time.Now().Add(outageWindow)
	var reviews int
	for time.Now().Before(deadline) {
		if err := w.exited(); err != nil {
			t.Fatalf("the webhook exited while the API server was away: %v", err)
		}
		if code, body, err := status(ctx, w.health+"/healthz"); err != nil || code != http.StatusOK {
			t.Errorf("/healthz while the API server is away: %d %s %v, want 200", code, body, err)
		}
		if code, body, err := status(ctx, w.health+"/readyz"); err != nil || code == http.StatusOK {
			t.Errorf("/readyz while the API server is away: %d %s %v, want not 200", code, body, err)
		}
		for _, rc := range []reviewCase{allowedRoute, defaultedGateway} {
			a, err := w.review(ctx, hc, rc.path, rc.kind, rc.object)
			reviews++
			switch {
			case err != nil:
				t.Errorf("%s while starting: %v", rc.name, err)
			case a.resp.Allowed || a.code() != http.StatusInternalServerError || !strings.Contains(a.message(), "gatewarden is starting"):
				t.Errorf("%s while starting: %v, want refused with 500 gatewarden is starting", rc.name, a)
			case a.elapsed > 500*time.Millisecond:
				t.Errorf("%s while starting took %s, want an answer at once (< 500ms)", rc.name, a.elapsed)
			}
		}
		time.Sleep(200 * time.Millisecond) // sampling period, not a wait for a condition
	}
	t.Logf("not ready and refusing at once for %s (%d reviews)", outageWindow, reviews)

	start := time.Now()
	if err := env.StartAPIServer(0); err != nil {
		t.Fatal(err)
	}
	// Discovery retries back off up to 30s; after this outage the next try is due within 8s.
	if err := w.waitStatus(ctx, "/readyz", http.StatusOK, 60*time.Second); err != nil {
		t.Fatalf("/readyz after the API server came up: %v", err)
	}
	t.Logf("ready %s after the API server was started", time.Since(start).Round(time.Millisecond))
	checkDecisions(t, ctx, w, hc)
	if a, err := w.review(ctx, hc, defaultedGateway.path, defaultedGateway.kind, defaultedGateway.object); err != nil || defaultedGateway.check(a) != nil {
		t.Errorf("defaulter once ready: %v %v", a, err)
	}
}

// apiserverDown fails t unless nothing listens at the API server's address.
func apiserverDown(t *testing.T, host string) {
	t.Helper()
	u, err := url.Parse(host)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		c.Close()
		t.Fatalf("the API server at %s still accepts connections", u.Host)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
