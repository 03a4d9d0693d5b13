package faults

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMUnderLoad sends SIGTERM to a webhook started with --shutdown-delay=2s while
// load runs, and a slow request is in flight that outlasts the delay. /readyz turns
// non-200 at once and before the server stops accepting connections; the load stops
// sending when it sees that (as endpoints would drop the pod); every request sent got a
// valid answer, none was dropped; the slow request in flight when the server stopped
// completes; the process exits 0 soon after the delay.
func TestSIGTERMUnderLoad(t *testing.T) {
	const delay = 2 * time.Second
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	env := sharedEnv(t)
	w := startWebhook(t, env.Kubeconfig, devCertDir, "--shutdown-delay="+delay.String())
	if err := w.waitStatus(ctx, "/readyz", http.StatusOK, 60*time.Second); err != nil {
		t.Fatalf("/readyz: %v", err)
	}

	// Readiness as endpoints see it: polled often; the first non-200 answer stops the load.
	var (
		ready    atomic.Bool
		mu       sync.Mutex
		notReady time.Time // first /readyz answer other than 200
		refused  time.Time // first new connection to the webhook port that failed
	)
	ready.Store(true)
	probeCtx, stopProbes := context.WithCancel(ctx)
	defer stopProbes()
	var probes sync.WaitGroup
	probes.Go(func() {
		for probeCtx.Err() == nil {
			if code, _, err := status(probeCtx, w.health+"/readyz"); err == nil && code != http.StatusOK {
				mu.Lock()
				notReady = time.Now()
				mu.Unlock()
				ready.Store(false)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	probes.Go(func() {
		dialer := &tls.Dialer{Config: &tls.Config{RootCAs: devCA, MinVersion: tls.VersionTLS12}, NetDialer: &net.Dialer{Timeout: time.Second}}
		addr := strings.TrimPrefix(w.base, "https://")
		for probeCtx.Err() == nil {
			c, err := dialer.DialContext(probeCtx, "tcp", addr)
			if err != nil {
				if probeCtx.Err() == nil {
					mu.Lock()
					refused = time.Now()
					mu.Unlock()
				}
				return
			}
			c.Close()
			time.Sleep(20 * time.Millisecond)
		}
	})

	var lastSent atomic.Int64 // UnixNano of the last request the load started
	wait := startLoad(ctx, w, loadConfig{
		keepAlive: 3, newConn: 1, pace: 5 * time.Millisecond,
		mix:  []reviewCase{allowedRoute, deniedRoute, defaultedGateway},
		send: ready.Load,
		onAnswer: func(_ bool, start time.Time, _ answer, _ error) {
			lastSent.Store(max(lastSent.Load(), start.UnixNano()))
		},
	})
	time.Sleep(time.Second) // steady load before the signal, a fixed span by design

	// The slow request: its body trickles in over 1.5×delay, so it is still being read
	// when the server shuts down; graceful shutdown must let it finish.
	slowDone := make(chan error, 1)
	go func() {
		pr, pw := io.Pipe()
		go func() {
			uid := "slow"
			body := reviewBody(uid, allowedRoute.kind, allowedRoute.object)
			chunks := 10
			step := (len(body) + chunks - 1) / chunks
			for i := 0; i < len(body); i += step {
				if _, err := pw.Write(body[i:min(i+step, len(body))]); err != nil {
					return
				}
				time.Sleep(3 * delay / 2 / time.Duration(chunks))
			}
			pw.Close()
		}()
		hc := &http.Client{Transport: newTransport(false), Timeout: 30 * time.Second}
		a, err := send(ctx, hc, w.base+allowedRoute.path, "slow", pr)
		if err == nil {
			err = allowedRoute.check(a)
		}
		slowDone <- err
	}()

	time.Sleep(100 * time.Millisecond) // let the slow request's first bytes arrive
	sigterm := time.Now()
	if err := syscall.Kill(w.Cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	select {
	case <-w.Done():
		exitErr = w.WaitErr()
	case <-time.After(delay + 20*time.Second):
		t.Fatalf("the webhook did not exit within %s of SIGTERM", delay+20*time.Second)
	}
	exited := w.ExitAt().Sub(sigterm)
	stats := wait()
	stopProbes()
	probes.Wait()
	var slowErr error
	select {
	case slowErr = <-slowDone:
	case <-time.After(30 * time.Second):
		slowErr = fmt.Errorf("no answer")
	}

	mu.Lock()
	defer mu.Unlock()
	t.Logf("after SIGTERM: not ready %s, new connections refused %s, exited %s (%v); last request sent %s; load: %s",
		since(sigterm, notReady), since(sigterm, refused), exited.Round(time.Millisecond), exitErr,
		since(sigterm, time.Unix(0, lastSent.Load())), stats)
	if exitErr != nil {
		t.Errorf("exit: %v, want status 0", exitErr)
	}
	if exited > delay+10*time.Second {
		t.Errorf("exited %s after SIGTERM, want within the %s delay and 10s", exited, delay)
	}
	switch {
	case notReady.IsZero():
		t.Errorf("/readyz never answered non-200 after SIGTERM")
	case notReady.Sub(sigterm) > time.Second:
		t.Errorf("/readyz turned non-200 %s after SIGTERM, want at once", notReady.Sub(sigterm))
	case refused.IsZero():
		t.Errorf("new connections were never refused")
	case !notReady.Before(refused):
		t.Errorf("/readyz turned non-200 at %s, after new connections were refused at %s", since(sigterm, notReady), since(sigterm, refused))
	case refused.Sub(sigterm) < delay*3/4:
		t.Errorf("new connections refused %s after SIGTERM, want the server to keep accepting for about the %s delay", refused.Sub(sigterm), delay)
	}
	if stats.failures.Load() > 0 || stats.requests.Load() < 50 {
		t.Errorf("want at least 50 requests, every one answered: %s", stats)
	}
	if slowErr != nil {
		t.Errorf("the request in flight when the server stopped: %v", slowErr)
	}
	if log := w.tail(); bytes.Contains([]byte(log), []byte(`"level":"error"`)) {
		t.Errorf("errors in the webhook log during shutdown")
	}
}

func since(t0, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Sub(t0).Round(time.Millisecond).String()
}
