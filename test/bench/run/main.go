// Command run is `make bench` and `make bench-quick`: Gatewarden's performance figures at
// scale, end to end. It starts a kube-apiserver and etcd (envtest, from <repo>/bin) with
// the Gateway API CRDs, creates a worldgen world through the API, starts bin/webhook
// against it and the no-op baseline (bin/bench-noop) next to it, then measures
//
//   - memory: the webhook's heap and RSS once its informers have synced, and the heap per
//     cached object of each kind, in process, with the server's cache options and indexes;
//   - end to end: HTTPRoute CREATE AdmissionReviews over HTTPS from bin/bench-load at
//     concurrency 1, 8 and 64, against the webhook and the no-op in turn;
//   - in process: the decision benchmarks of pkg/admission (go test -bench).
//
// It ends with one `name=value` line per figure on stdout (progress goes to stderr) and
// exits non-zero if any request failed: a run with errors is not a benchmark. Every process
// it starts is stopped again, on errors and Ctrl-C too. docs/performance.md explains the
// figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"gatewarden.dev/gatewarden/internal/devcerts"
	"gatewarden.dev/gatewarden/test/bench/worldgen"
)

// settings are what -quick changes.
type settings struct {
	world     worldgen.Options
	duration  time.Duration // of each measured load run
	warmup    time.Duration
	rounds    int    // of load per server and concurrency; figures are medians
	benchtime string // go test -benchtime for the decision benchmarks
	profile   bool   // take a CPU profile of the webhook in an extra, unmeasured load run
	// profileDuration is the length of that profile (default: the load run's, less 1 s).
	profileDuration time.Duration
	hold            bool // stop after creating the world, and wait for an interrupt
}

func main() {
	var (
		quick                bool
		root, stateDir, bins string
		workers              int
		profileSeconds       int
		hold                 bool
	)
	flag.BoolVar(&quick, "quick", false, "Small world (~8000 objects) and short runs: the same figures in under two minutes.")
	flag.StringVar(&root, "repo", "", "Repository checkout (default: the gatewarden go.mod at or above the working directory).")
	flag.StringVar(&stateDir, "state-dir", ".local/bench", "Directory (relative to -repo) for the kubeconfig, certificates, logs, profiles and figures.")
	flag.StringVar(&bins, "bin", "bin", "Directory (relative to -repo) with kube-apiserver, etcd, webhook, bench-load and bench-noop.")
	flag.IntVar(&workers, "workers", 32, "Concurrent clients creating the world.")
	flag.IntVar(&profileSeconds, "profile-seconds", 0, "Take the webhook's CPU profile under c=8 load for this long, with -quick too (0: 9 s without -quick, none with it).")
	flag.BoolVar(&hold, "hold", false, "Create the world, then hold the control plane up (its kubeconfig in -state-dir) until interrupted, measuring nothing: for experiments by hand.")
	flag.Parse()

	// Many short rounds, alternating between the webhook and the no-op: a burst of other
	// work on the machine (seconds long, on a shared VM) then lands in a few rounds of both
	// rather than in most rounds of one, and the medians stay put.
	s := settings{world: worldgen.Reference(), duration: 3 * time.Second, rounds: 9, warmup: time.Second, benchtime: "1s", profile: true, profileDuration: 9 * time.Second}
	if quick {
		s = settings{world: worldgen.Scaled(8000), duration: time.Second, rounds: 5, warmup: 300 * time.Millisecond, benchtime: "0.2s"}
	}
	if profileSeconds > 0 {
		s.profile, s.profileDuration = true, time.Duration(profileSeconds)*time.Second
	}
	// The in-process cache logs through controller-runtime: errors only.
	ctrllog.SetLogger(funcr.New(func(prefix, args string) {
		if strings.Contains(args, `"error"=`) {
			fmt.Fprintln(os.Stderr, prefix, args)
		}
	}, funcr.Options{}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	figs := &figures{}
	s.hold = hold
	err := run(ctx, s, root, stateDir, bins, workers, figs)
	figs.print(os.Stdout)
	if root, _ = repoRoot(root); root != "" && len(figs.list) > 0 {
		_ = figs.write(filepath.Join(abs(root, stateDir), "figures.txt"))
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted (%w); every process started was stopped", err)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, s settings, root, stateDir, bins string, workers int, figs *figures) (err error) {
	start := time.Now()
	if root, err = repoRoot(root); err != nil {
		return err
	}
	stateDir, bins = abs(root, stateDir), abs(root, bins)
	for _, name := range []string{"kube-apiserver", "etcd", "webhook", "bench-load", "bench-noop"} {
		if _, err := os.Stat(filepath.Join(bins, name)); err != nil {
			return fmt.Errorf("%s: %w (make build tools, then go build the test/bench commands into bin/)", name, err)
		}
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return err
	}
	m := machine()
	logf("machine: %d CPUs (%s), %s memory, %s; world %+v", runtime.NumCPU(), m.cpu, m.mem, runtime.Version(), s.world)
	figs.add("cpus", runtime.NumCPU())
	if l := loadAverage(); l >= 0 {
		figs.add("loadavg_1m_at_start", l)
		if l > 0.5 {
			logf("WARNING: load average %.2f: other work on this machine will skew the figures", l)
		}
	}

	// Control plane.
	cp, err := startControlPlane(ctx, root, bins, stateDir)
	if err != nil {
		return err
	}
	defer cp.stop()
	cfg := rest.CopyConfig(cp.config)
	cfg.QPS, cfg.Burst = 5000, 10000
	c, err := client.New(cfg, client.Options{Scheme: serverScheme()})
	if err != nil {
		return err
	}

	// World.
	w := worldgen.Generate(s.world)
	took, err := createWorld(ctx, c, w, workers)
	if err != nil {
		return err
	}
	figs.add("world_objects", w.Len())
	figs.add("world_httproutes", len(w.HTTPRoutes))
	figs.add("world_create_seconds", took.Seconds())
	figs.add("world_create_objects_per_second", float64(w.Len())/took.Seconds())
	if s.hold {
		logf("world ready: KUBECONFIG=%s; holding the control plane until interrupted", cp.kubeconfig)
		<-ctx.Done()
		return nil
	}

	// Webhook and baseline.
	certDir := filepath.Join(stateDir, "certs")
	if _, err := devcerts.Ensure(certDir, devcerts.DefaultOptions()); err != nil {
		return err
	}
	wh, err := startWebhook(ctx, bins, stateDir, cp.kubeconfig, certDir)
	if err != nil {
		return err
	}
	defer wh.stop()
	figs.add("webhook_ready_seconds", wh.readyAfter.Seconds())
	noop, err := startNoop(ctx, bins, stateDir, certDir)
	if err != nil {
		return err
	}
	defer noop.stop()

	// Memory: the server's, then per kind in process.
	mem, err := wh.memory(ctx, filepath.Join(stateDir, "webhook-heap.pprof"))
	if err != nil {
		return err
	}
	figs.add("rss_reference_mib", mem.rssMiB)
	figs.add("heap_reference_mib", mem.heapInuseMiB)
	figs.add("heap_alloc_reference_mib", mem.heapAllocMiB)
	figs.add("heap_idle_unreleased_reference_mib", mem.heapIdleMiB-mem.heapReleasedMiB)
	figs.add("go_sys_reference_mib", mem.sysMiB)
	figs.add("rss_peak_startup_mib", mem.rssPeakMiB)
	perKind, err := heapPerKind(ctx, cp.config, true, nil, filepath.Join(stateDir, "cache-heap.pprof"))
	if err != nil {
		return err
	}
	unindexed, err := heapPerKind(ctx, cp.config, false, []string{"Gateway", "HTTPRoute"}, "")
	if err != nil {
		return err
	}
	for _, k := range perKind {
		figs.add("heap_per_"+strings.ToLower(k.kind)+"_bytes", k.bytesPerObject)
		figs.add("cached_"+strings.ToLower(k.kind)+"s", k.objects)
	}
	for _, k := range unindexed {
		figs.add("heap_per_"+strings.ToLower(k.kind)+"_unindexed_bytes", k.bytesPerObject)
	}
	for _, k := range perKind {
		if k.kind == "HTTPRoute" {
			figs.add("heap_per_route_bytes", k.bytesPerObject)
		}
	}
	runtime.GC()

	// End to end.
	ld := loader{bin: filepath.Join(bins, "bench-load"), ca: filepath.Join(certDir, devcerts.CAFile), warmup: s.warmup, duration: s.duration}
	results := map[string]*loadResult{}
	var errs int
	for _, conc := range []int{1, 8, 64} {
		// Rounds alternate between the two servers (and which goes first), and each figure
		// is the median over the rounds: a burst of other work on the machine then skews
		// one round of one side, not the comparison.
		targets := []struct {
			name string
			srv  *server
		}{{"webhook", wh}, {"noop", noop}}
		rounds := map[string][]*loadResult{}
		for round := range s.rounds {
			for i := range targets {
				t := targets[(i+round)%2]
				r, err := ld.run(ctx, t.srv.url, t.srv.Cmd.Process.Pid, conc)
				if err != nil {
					return fmt.Errorf("load %s c=%d: %w", t.name, conc, err)
				}
				logf("%-7s c=%-2d round %d: %8.0f req/s  p50 %6.0fµs  p99 %6.0fµs  p99.9 %6.0fµs  CPU/req server %4.0fµs load %4.0fµs  %d errors %s",
					t.name, conc, round+1, r.RPS, r.P50US, r.P99US, r.P999US, r.ServerCPU, r.LoadCPU, r.Errors, r.FirstError)
				rounds[t.name] = append(rounds[t.name], r)
				errs += r.Errors
			}
		}
		for _, t := range targets {
			r := medianResult(rounds[t.name])
			results[fmt.Sprintf("%s/%d", t.name, conc)] = r
			p := fmt.Sprintf("e2e_c%d_%s_", conc, t.name)
			figs.add(p+"rps", r.RPS)
			figs.add(p+"p50_us", r.P50US)
			figs.add(p+"p99_us", r.P99US)
			figs.add(p+"p999_us", r.P999US)
			figs.add(p+"server_cpu_us_per_req", r.ServerCPU)
			figs.add(p+"load_cpu_us_per_req", r.LoadCPU)
			figs.add(p+"errors", r.Errors)
		}
		wr, nr := results[fmt.Sprintf("webhook/%d", conc)], results[fmt.Sprintf("noop/%d", conc)]
		figs.add(fmt.Sprintf("e2e_c%d_throughput_ratio_vs_noop", conc), wr.RPS/nr.RPS)
		figs.add(fmt.Sprintf("e2e_c%d_p99_ratio_vs_noop", conc), wr.P99US/nr.P99US)
		// The same comparison in CPU time per review, server and load tool together: what
		// the throughput ratio would be without the rounds' timing noise.
		if wr.ServerCPU > 0 {
			figs.add(fmt.Sprintf("e2e_c%d_cpu_ratio_vs_noop", conc), (nr.ServerCPU+nr.LoadCPU)/(wr.ServerCPU+wr.LoadCPU))
		}
	}
	w8, n8, w1, n1 := results["webhook/8"], results["noop/8"], results["webhook/1"], results["noop/1"]
	figs.add("e2e_throughput_rps", w8.RPS)
	figs.add("e2e_throughput_ratio_vs_noop", w8.RPS/n8.RPS)
	figs.add("e2e_p99_us", w8.P99US)
	figs.add("e2e_p99_ratio_vs_noop_c1", w1.P99US/n1.P99US)
	figs.add("e2e_errors", errs)
	if after, err := wh.memory(ctx, ""); err == nil {
		figs.add("rss_after_load_mib", after.rssMiB)
		figs.add("rss_peak_mib", after.rssPeakMiB)
	}
	if s.profile {
		// Not measured: profiling costs the server a little.
		prof := filepath.Join(stateDir, "webhook-cpu-c8.pprof")
		pld := ld
		if s.profileDuration > 0 {
			pld.duration = s.profileDuration + time.Second
		}
		if err := wh.cpuProfile(ctx, pld, prof, 8); err != nil {
			return err
		}
		logf("CPU profile of the webhook under c=8 load: %s (go tool pprof -top bin/webhook %s)", prof, prof)
	}

	// Only the decision benchmarks from here on: stop the rest so that they have the
	// machine to themselves.
	noop.stop()
	wh.stop()
	cp.stop()
	dec, err := decideBenchmarks(ctx, root, s.benchtime)
	if err != nil {
		return err
	}
	for _, f := range dec {
		figs.add(f.name, f.value)
	}
	if l := loadAverage(); l >= 0 {
		figs.add("loadavg_1m_at_end", l)
	}
	figs.add("bench_seconds", time.Since(start).Seconds())
	if errs > 0 {
		return fmt.Errorf("%d load requests failed: the end-to-end figures are not valid", errs)
	}
	return nil
}

func abs(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// repoRoot returns dir, or the nearest directory at or above the working directory with
// the gatewarden go.mod.
func repoRoot(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.HasPrefix(string(data), "module gatewarden.dev/gatewarden\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no gatewarden go.mod at or above " + wd)
		}
	}
}
