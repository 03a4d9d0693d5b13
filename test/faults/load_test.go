package faults

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// reviewCase is one kind of request the load sends, with the answer it must get.
type reviewCase struct {
	name, path, kind, object string
	check                    func(answer) error
}

// The request mix: an allowed Route (cache only), a denied Route (the denial is confirmed
// with an uncached read from the API server) and a Gateway for the defaulter.
var (
	allowedRoute = reviewCase{name: "allowed route", path: "/validate-httproute", kind: "HTTPRoute", object: routeTo("app"),
		check: func(a answer) error {
			if a.code() != 200 || !a.resp.Allowed || len(a.resp.Warnings) > 0 {
				return fmt.Errorf("want allowed without warnings: %v", a)
			}
			return nil
		}}
	deniedRoute = reviewCase{name: "denied route", path: "/validate-httproute", kind: "HTTPRoute", object: routeTo("other"),
		check: func(a answer) error {
			if a.resp.Allowed || a.code() != http.StatusUnprocessableEntity || !strings.Contains(a.message(), "[ref-not-permitted]") {
				return fmt.Errorf("want denied 422 [ref-not-permitted]: %v", a)
			}
			return nil
		}}
	defaultedGateway = reviewCase{name: "defaulted gateway", path: "/mutate-gateway", kind: "Gateway", object: gatewayObject,
		check: func(a answer) error {
			if a.code() != 200 || !a.resp.Allowed || len(a.resp.Patch) == 0 {
				return fmt.Errorf("want allowed with a patch: %v", a)
			}
			return nil
		}}
)

// loadConfig says how many workers send, on what connections, and what.
type loadConfig struct {
	// keepAlive workers share a keep-alive transport; newConn workers open a new TLS
	// connection for every request.
	keepAlive, newConn int
	// pace is the pause between one worker's requests (steady load, not saturation).
	pace time.Duration
	// mix is cycled through by each worker.
	mix []reviewCase
	// send, when set, is asked before each request; false stops the worker (as endpoints
	// drop a pod that is not ready).
	send func() bool
	// onAnswer, when set, sees every request: its worker, start time, answer and error.
	onAnswer func(newConn bool, start time.Time, a answer, err error)
}

// loadStats counts what the load saw.
type loadStats struct {
	requests, failures atomic.Int64
	mu                 sync.Mutex
	firstFailures      []string
}

func (s *loadStats) fail(format string, args ...any) {
	s.failures.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.firstFailures) < 10 {
		s.firstFailures = append(s.firstFailures, fmt.Sprintf(format, args...))
	}
}

func (s *loadStats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%d requests, %d failed; first failures: %s", s.requests.Load(), s.failures.Load(), strings.Join(s.firstFailures, "; "))
}

// startLoad runs cfg against w until ctx is done or cfg.send says stop; wait returns the
// counts once every worker has finished its last request. A request cut off by ctx is not
// counted; any other transport error or wrong answer is a failure.
func startLoad(ctx context.Context, w *webhook, cfg loadConfig) (wait func() *loadStats) {
	stats := &loadStats{}
	keep := newTransport(true)
	fresh := newTransport(false)
	clients := map[bool]*http.Client{
		false: {Transport: keep, Timeout: 10 * time.Second},
		true:  {Transport: fresh, Timeout: 10 * time.Second},
	}
	var wg sync.WaitGroup
	worker := func(id int, newConn bool) {
		hc := clients[newConn]
		for n := 0; ; n++ {
			if ctx.Err() != nil || (cfg.send != nil && !cfg.send()) {
				return
			}
			rc := cfg.mix[(id+n)%len(cfg.mix)]
			uid := fmt.Sprintf("load-%t-%d-%d", newConn, id, n)
			start := time.Now()
			a, err := send(ctx, hc, w.base+rc.path, uid, bytes.NewReader(reviewBody(uid, rc.kind, rc.object)))
			if err != nil && ctx.Err() != nil {
				return // cut off by the end of the run
			}
			stats.requests.Add(1)
			if cfg.onAnswer != nil {
				cfg.onAnswer(newConn, start, a, err)
			}
			switch {
			case err != nil:
				stats.fail("%s at %s: %v", rc.name, start.Format("15:04:05.000"), err)
			case rc.check(a) != nil:
				stats.fail("%s at %s: %v", rc.name, start.Format("15:04:05.000"), rc.check(a))
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(cfg.pace):
			}
		}
	}
	for i := range cfg.keepAlive {
		wg.Go(func() { worker(i, false) })
	}
	for i := range cfg.newConn {
		wg.Go(func() { worker(cfg.keepAlive+i, true) })
	}
	return func() *loadStats {
		wg.Wait()
		keep.CloseIdleConnections()
		return stats
	}
}
