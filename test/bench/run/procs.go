package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"gatewarden.dev/gatewarden/test/localenv"
)

// process is a server the benchmark runs (localenv.Process), stopped at most once.
type process struct {
	*localenv.Process
	once sync.Once
}

func startProcess(name, bin string, args []string, logPath string) (*process, error) {
	p, err := localenv.StartProcess(name, bin, args, logPath, nil)
	if err != nil {
		return nil, err
	}
	return &process{Process: p}, nil
}

// exited returns an error once the process has exited.
func (p *process) exited() error { return p.Exited() }

// stop sends SIGTERM to the process group, and SIGKILL after 10s.
func (p *process) stop() {
	p.once.Do(func() {
		if err := p.Stop(10 * time.Second); err != nil {
			logf("%v", err)
		}
	})
}

// freePort returns a port that was free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freePorts(n int) ([]int, error) {
	var ports []int
	for len(ports) < n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		dup := false
		for _, q := range ports {
			dup = dup || q == p
		}
		if !dup {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// poll calls ok every 100ms until it returns true or an error, the process exits or
// timeout passes.
func poll(ctx context.Context, p *process, timeout time.Duration, ok func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if err := p.exited(); err != nil {
			return err
		}
		done, err := ok()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w; see %s", p.Name, ctx.Err(), p.LogPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// server is a running webhook (Gatewarden or the no-op).
type server struct {
	*process
	url                            string
	metricsURL, pprofURL, readyURL string
	readyAfter                     time.Duration
}

func startWebhook(ctx context.Context, bins, stateDir, kubeconfig, certDir string) (*server, error) {
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	addr := func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
	args := []string{
		"--kubeconfig", kubeconfig,
		"--cert-dir", certDir,
		"--webhook-host", "127.0.0.1",
		"--webhook-port", strconv.Itoa(ports[0]),
		"--metrics-bind-address", addr(ports[1]),
		"--health-probe-bind-address", addr(ports[2]),
		"--pprof-bind-address", addr(ports[3]),
	}
	start := time.Now()
	p, err := startProcess("webhook", filepath.Join(bins, "webhook"), args, filepath.Join(stateDir, "webhook.log"))
	if err != nil {
		return nil, err
	}
	s := &server{process: p, url: "https://" + addr(ports[0]) + "/validate-httproute",
		metricsURL: "http://" + addr(ports[1]) + "/metrics", pprofURL: "http://" + addr(ports[3]) + "/debug/pprof/",
		readyURL: "http://" + addr(ports[2]) + "/readyz"}
	// Ready means every informer has synced: the whole world is in the cache.
	hc := &http.Client{Timeout: 2 * time.Second}
	if err := poll(ctx, p, 5*time.Minute, func() (bool, error) {
		resp, err := hc.Get(s.readyURL)
		if err != nil {
			return false, nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}); err != nil {
		p.stop()
		return nil, fmt.Errorf("webhook not ready: %w", err)
	}
	s.readyAfter = time.Since(start)
	logf("webhook ready (informers synced) %s after start", s.readyAfter.Round(time.Millisecond))
	return s, nil
}

func startNoop(ctx context.Context, bins, stateDir, certDir string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	hostPort := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := []string{"-cert-dir", certDir, "-webhook-host", "127.0.0.1", "-webhook-port", strconv.Itoa(port)}
	p, err := startProcess("noop", filepath.Join(bins, "bench-noop"), args, filepath.Join(stateDir, "noop.log"))
	if err != nil {
		return nil, err
	}
	// Up once it completes a TLS handshake.
	if err := poll(ctx, p, time.Minute, func() (bool, error) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", hostPort, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return false, nil
		}
		conn.Close()
		return true, nil
	}); err != nil {
		p.stop()
		return nil, fmt.Errorf("no-op webhook not up: %w", err)
	}
	return &server{process: p, url: "https://" + hostPort + "/validate-httproute"}, nil
}

// memoryFigures is the webhook's memory after a forced GC.
type memoryFigures struct {
	rssMiB, rssPeakMiB, heapInuseMiB, heapAllocMiB float64
	// heapIdleMiB is heap memory free for reuse, heapReleasedMiB the part of it given back
	// to the OS: idle minus released still counts in RSS.
	heapIdleMiB, heapReleasedMiB, sysMiB float64
}

// memory forces a GC through the pprof heap endpoint (saving the heap profile to
// heapProfile unless it is empty), then reads the heap from the Prometheus metrics and
// VmRSS from /proc.
func (s *server) memory(ctx context.Context, heapProfile string) (*memoryFigures, error) {
	prof, err := get(ctx, s.pprofURL+"heap?gc=1")
	if err != nil {
		return nil, err
	}
	if heapProfile != "" {
		if err := os.WriteFile(heapProfile, prof, 0o644); err != nil {
			return nil, err
		}
	}
	metrics, err := get(ctx, s.metricsURL)
	if err != nil {
		return nil, err
	}
	m := &memoryFigures{}
	for name, dst := range map[string]*float64{
		"go_memstats_heap_inuse_bytes":    &m.heapInuseMiB,
		"go_memstats_heap_alloc_bytes":    &m.heapAllocMiB,
		"go_memstats_heap_idle_bytes":     &m.heapIdleMiB,
		"go_memstats_heap_released_bytes": &m.heapReleasedMiB,
		"go_memstats_sys_bytes":           &m.sysMiB,
	} {
		v, err := metric(metrics, name)
		if err != nil {
			return nil, err
		}
		*dst = v / (1 << 20)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Cmd.Process.Pid))
	if err != nil {
		return nil, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		for prefix, dst := range map[string]*float64{"VmRSS:": &m.rssMiB, "VmHWM:": &m.rssPeakMiB} {
			if v, ok := strings.CutPrefix(line, prefix); ok {
				kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				if err != nil {
					return nil, fmt.Errorf("%s %q: %w", prefix, v, err)
				}
				*dst = kb / 1024
			}
		}
	}
	if m.rssMiB == 0 {
		return nil, errors.New("no VmRSS in /proc/<pid>/status")
	}
	logf("webhook memory after GC: RSS %.1f MiB (peak %.1f), heap in use %.1f MiB, live %.1f MiB, idle %.1f MiB of which %.1f returned to the OS",
		m.rssMiB, m.rssPeakMiB, m.heapInuseMiB, m.heapAllocMiB, m.heapIdleMiB, m.heapReleasedMiB)
	return m, nil
}

// cpuProfile takes a CPU profile of the webhook while ld runs at concurrency conc.
func (s *server) cpuProfile(ctx context.Context, ld loader, path string, conc int) error {
	secs := max(1, int(ld.duration.Seconds())-1)
	var prof []byte
	var profErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(ld.warmup + 200*time.Millisecond)
		prof, profErr = get(ctx, fmt.Sprintf("%sprofile?seconds=%d", s.pprofURL, secs))
	})
	_, err := ld.run(ctx, s.url, s.Cmd.Process.Pid, conc)
	wg.Wait()
	if err := errors.Join(err, profErr); err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	return os.WriteFile(path, prof, 0o644)
}

func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %.200s", url, resp.Status, body)
	}
	return body, nil
}

// metric returns the value of an unlabelled metric in a Prometheus text exposition.
func metric(exposition []byte, name string) (float64, error) {
	for line := range strings.SplitSeq(string(exposition), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}
