package faults

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestAPIServerRestart stops the API server under a running, ready webhook and starts it
// again (etcd and the data stay). During the outage the webhook stays alive and ready and
// answers from its cache: a Route the cache allows is allowed; a denial, which must be
// confirmed by an uncached read, becomes a prompt 500 that failurePolicy decides. After
// the restart the informers resync: Gateways created after it are seen by the cache-only
// part of the decisions, and the verdicts are right again.
func TestAPIServerRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	env := ownEnv(t)
	w := startWebhook(t, env.Kubeconfig, devCertDir)
	if err := w.waitStatus(ctx, "/readyz", http.StatusOK, 60*time.Second); err != nil {
		t.Fatalf("/readyz: %v", err)
	}
	hc := &http.Client{Transport: newTransport(true), Timeout: 10 * time.Second}
	checkDecisions(t, ctx, w, hc)

	if err := env.StopAPIServer(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	apiserverDown(t, env.Config.Host)
	deadline := time.Now().Add(outageWindow)
	var rounds int
	for ; time.Now().Before(deadline); rounds++ {
		if err := w.exited(); err != nil {
			t.Fatalf("the webhook exited during the outage: %v", err)
		}
		if code, body, err := status(ctx, w.health+"/healthz"); err != nil || code != http.StatusOK {
			t.Errorf("/healthz during the outage: %d %s %v, want 200", code, body, err)
		}
		// Synced informers stay synced: readiness does not drop every replica from its
		// endpoints because the API server blinked (the API server is the only caller).
		if code, body, err := status(ctx, w.health+"/readyz"); err != nil || code != http.StatusOK {
			t.Errorf("/readyz during the outage: %d %s %v, want 200", code, body, err)
		}
		for _, rc := range []reviewCase{allowedRoute, defaultedGateway} {
			if a, err := w.review(ctx, hc, rc.path, rc.kind, rc.object); err != nil || rc.check(a) != nil {
				t.Errorf("%s from the cache during the outage: %v %v", rc.name, a, err)
			}
		}
		// A denial needs the API server's confirmation: without it the answer is an
		// error, at once (the connection is refused), and failurePolicy decides.
		a, err := w.review(ctx, hc, deniedRoute.path, deniedRoute.kind, deniedRoute.object)
		switch {
		case err != nil:
			t.Errorf("denied route during the outage: %v", err)
		case a.resp.Allowed || a.code() != http.StatusInternalServerError || !strings.Contains(a.message(), "could not read"):
			t.Errorf("denied route during the outage: %v, want 500 could not read", a)
		case a.elapsed > 2*time.Second:
			t.Errorf("denied route during the outage took %s, want well under the 5s timeoutSeconds", a.elapsed)
		}
		time.Sleep(200 * time.Millisecond) // sampling period, not a wait for a condition
	}
	t.Logf("outage of %s: %d rounds answered from the cache", outageWindow, rounds)

	if err := env.StartAPIServer(0); err != nil {
		t.Fatal(err)
	}
	// Objects created after the restart: a Gateway that admits the Route, and one in
	// another namespace that admits only its own. Until the cache has them, the Route
	// gets a "does not exist (yet)" warning and is allowed.
	same := gwv1.NamespacesFromSame
	listeners := []gwv1.Listener{{Name: "http", Protocol: gwv1.HTTPProtocolType, Port: 80,
		AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &same}}}}
	for _, gw := range []*gwv1.Gateway{
		{ObjectMeta: metav1.ObjectMeta{Name: "late", Namespace: nsProd}, Spec: gwv1.GatewaySpec{GatewayClassName: "example", Listeners: listeners}},
		{ObjectMeta: metav1.ObjectMeta{Name: "late-closed", Namespace: nsBackends}, Spec: gwv1.GatewaySpec{GatewayClassName: "example", Listeners: listeners}},
	} {
		// The CRDs are served a moment after the API server reports healthy.
		if err := poll(ctx, w, 200*time.Millisecond, 60*time.Second, func(ctx context.Context) (bool, string, error) {
			err := env.Client.Create(ctx, gw)
			return err == nil, errString(err), nil
		}); err != nil {
			t.Fatalf("creating Gateway %s after the restart: %v", gw.Name, err)
		}
	}
	start := time.Now()
	var attached, refused answer
	if err := poll(ctx, w, 200*time.Millisecond, 90*time.Second, func(ctx context.Context) (bool, string, error) {
		var err error
		if attached, err = w.review(ctx, hc, "/validate-httproute", "HTTPRoute", routeWith("late", "", "app")); err != nil {
			return false, err.Error(), nil
		}
		if refused, err = w.review(ctx, hc, "/validate-httproute", "HTTPRoute", routeWith("late-closed", nsBackends, "app")); err != nil {
			return false, err.Error(), nil
		}
		ok := attached.code() == 200 && attached.resp.Allowed && len(attached.resp.Warnings) == 0 &&
			!refused.resp.Allowed && refused.code() == http.StatusUnprocessableEntity &&
			strings.Contains(refused.message(), "[route-not-allowed-by-listeners]")
		return ok, fmt.Sprintf("to late: %v; to late-closed: %v", attached, refused), nil
	}); err != nil {
		t.Fatalf("the cache did not see the Gateways created after the restart: %v", err)
	}
	t.Logf("Gateways created after the restart seen by the cache within %s", time.Since(start).Round(time.Millisecond))
	if code, body, err := status(ctx, w.health+"/readyz"); err != nil || code != http.StatusOK {
		t.Errorf("/readyz after the restart: %d %s %v, want 200", code, body, err)
	}
	checkDecisions(t, ctx, w, hc)
	if strings.Contains(w.tail(), "panic") {
		t.Errorf("the webhook log mentions a panic")
	}
}
