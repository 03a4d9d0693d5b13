package faults

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Soak bounds. Goroutines: each connection costs the server one or two, and the load keeps
// a handful open, so a leak of one per request or per connection shows within seconds as
// far more than this. Heap: the median of the last window may exceed the first window's by
// this fraction plus a small constant (GC timing moves single samples by more).
const (
	soakGoroutineSlack = 25
	soakHeapGrowth     = 0.25
	soakHeapSlack      = 4 << 20
)

// TestSoak runs steady load (allowed, denied and defaulted reviews; keep-alive and new
// connections) for GATEWARDEN_SOAK (default 20s; `make soak` runs 10m), sampling the
// webhook's goroutines (pprof) and heap in use (/metrics) every few seconds. After a
// warm-up, goroutines must not grow beyond a small constant and the heap must not trend
// up; every request must get the right answer. The figures are printed.
func TestSoak(t *testing.T) {
	duration := 20 * time.Second
	if s := os.Getenv("GATEWARDEN_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("GATEWARDEN_SOAK: %v", err)
		}
		duration = d
	}
	every := max(time.Second, duration/120)
	warmup := max(5*time.Second, duration/10)
	ctx, cancel := context.WithTimeout(t.Context(), duration+3*time.Minute)
	defer cancel()
	env := sharedEnv(t)
	w := startWebhook(t, env.Kubeconfig, devCertDir)
	if err := w.waitStatus(ctx, "/readyz", http.StatusOK, 60*time.Second); err != nil {
		t.Fatalf("/readyz: %v", err)
	}

	loadCtx, stopLoad := context.WithTimeout(ctx, duration)
	defer stopLoad()
	wait := startLoad(loadCtx, w, loadConfig{
		keepAlive: 3, newConn: 1, pace: 5 * time.Millisecond,
		mix: []reviewCase{allowedRoute, deniedRoute, defaultedGateway},
	})
	type sample struct {
		at         time.Duration
		goroutines int
		heap, rss  float64
	}
	var samples []sample
	start := time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for loadCtx.Err() == nil {
		select {
		case <-loadCtx.Done():
			continue
		case <-tick.C:
		}
		if err := w.exited(); err != nil {
			t.Fatal(err)
		}
		g, err := goroutines(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		m, err := scrape(ctx, w, "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes")
		if err != nil {
			t.Fatal(err)
		}
		s := sample{at: time.Since(start), goroutines: g, heap: m["go_memstats_heap_inuse_bytes"], rss: m["process_resident_memory_bytes"]}
		samples = append(samples, s)
		if duration > time.Minute || testing.Verbose() {
			t.Logf("soak %6s goroutines %4d heap_inuse %6.1f MiB rss %6.1f MiB", s.at.Round(time.Second), s.goroutines, s.heap/(1<<20), s.rss/(1<<20))
		}
	}
	stats := wait()
	t.Logf("soak %s: %s (%.0f req/s)", duration, stats, float64(stats.requests.Load())/duration.Seconds())
	if stats.failures.Load() > 0 {
		t.Errorf("failed requests: %s", stats)
	}

	var steady []sample
	for _, s := range samples {
		if s.at >= warmup {
			steady = append(steady, s)
		}
	}
	if len(steady) < 8 {
		t.Fatalf("%d samples after the %s warm-up; want at least 8", len(steady), warmup)
	}
	win := len(steady) / 4
	first, last := steady[:win], steady[len(steady)-win:]
	med := func(ss []sample, f func(sample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	gor := func(s sample) float64 { return float64(s.goroutines) }
	heap := func(s sample) float64 { return s.heap }
	rss := func(s sample) float64 { return s.rss }
	maxG := slices.MaxFunc(steady, func(a, b sample) int { return a.goroutines - b.goroutines }).goroutines
	g0, g1 := med(first, gor), med(last, gor)
	h0, h1 := med(first, heap), med(last, heap)
	t.Logf("after a %s warm-up, %d samples every %s: goroutines median %.0f first quarter, %.0f last, max %d; heap in use median %.1f MiB first quarter, %.1f MiB last (%+.1f%%); RSS median %.1f MiB first quarter, %.1f MiB last",
		warmup, len(steady), every, g0, g1, maxG, h0/(1<<20), h1/(1<<20), 100*(h1-h0)/h0, med(first, rss)/(1<<20), med(last, rss)/(1<<20))
	if float64(maxG) > g0+soakGoroutineSlack {
		t.Errorf("goroutines grew to %d from a median of %.0f after the warm-up; want at most %d more", maxG, g0, soakGoroutineSlack)
	}
	if h1 > h0*(1+soakHeapGrowth)+soakHeapSlack {
		t.Errorf("heap in use grew from %.1f MiB to %.1f MiB; want at most %.0f%% + %d MiB", h0/(1<<20), h1/(1<<20), 100*soakHeapGrowth, soakHeapSlack>>20)
	}
}

// goroutines reads the count from the first line of /debug/pprof/goroutine?debug=1
// ("goroutine profile: total N").
func goroutines(ctx context.Context, w *webhook) (int, error) {
	code, body, err := status(ctx, w.pprof+"/debug/pprof/goroutine?debug=1")
	if err != nil || code != http.StatusOK {
		return 0, fmt.Errorf("pprof goroutine: %d %v", code, err)
	}
	line, _, _ := strings.Cut(body, "\n")
	n, ok := strings.CutPrefix(line, "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("pprof goroutine: unexpected first line %q", line)
	}
	return strconv.Atoi(strings.TrimSpace(n))
}

// scrape reads unlabelled gauges from /metrics.
func scrape(ctx context.Context, w *webhook, names ...string) (map[string]float64, error) {
	code, body, err := status(ctx, w.metrics+"/metrics")
	if err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %d %v", code, err)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !slices.Contains(names, name) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics %s: %w", name, err)
		}
		out[name] = v
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("/metrics has no %s", n)
		}
	}
	return out, nil
}
