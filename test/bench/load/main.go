// Command load is the end-to-end load tool of `make bench`: it POSTs AdmissionReview
// (admission.k8s.io/v1) requests for an HTTPRoute CREATE to a webhook URL over HTTPS with
// keep-alive connections, from a fixed number of workers for a fixed duration, and reports
// throughput and latency percentiles. Every latency is recorded and sorted at the end, so
// the percentiles are exact. A response counts as an error unless it is HTTP 200 with
// response.allowed true and the request's UID; a run with errors is not a valid benchmark.
//
// The HTTPRoute is the one of pkg/admission's decision benchmarks: 2 parentRefs, 3
// backendRefs (one into the next namespace), in namespace ns-00000 of a worldgen world,
// where it is admitted.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Route is the HTTPRoute every request creates (pkg/admission's benchRoute).
const Route = `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"bench","namespace":"ns-00000"},
"spec":{"parentRefs":[{"name":"gw"},{"name":"gw","namespace":"ns-00001","sectionName":"http"}],
"hostnames":["bench.ns-00000.example.com","bench.ns-00001.example.com"],
"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/"}}],
"backendRefs":[{"name":"a","port":8080},{"name":"b","port":8080},{"name":"shared","namespace":"ns-00001","port":8080}]}]}}`

// uidMark stands for the UID in the request template; each request gets its own UID.
const uidMark = "@@UID@@"

// Result is what one run measured; -json prints it.
type Result struct {
	URL         string  `json:"url"`
	Concurrency int     `json:"concurrency"`
	DurationS   float64 `json:"duration_s"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	RPS         float64 `json:"rps"`
	MeanUS      float64 `json:"mean_us"`
	P50US       float64 `json:"p50_us"`
	P99US       float64 `json:"p99_us"`
	P999US      float64 `json:"p999_us"`
	MaxUS       float64 `json:"max_us"`
	// ServerCPUUSPerReq is the CPU time (user and system) the server process (-pid) spent
	// per request over the measured duration; LoadCPUUSPerReq is this tool's. On a machine
	// whose cores both share, they tell where a throughput difference comes from.
	ServerCPUUSPerReq float64 `json:"server_cpu_us_per_req,omitempty"`
	LoadCPUUSPerReq   float64 `json:"load_cpu_us_per_req"`
}

func main() {
	var (
		url, caFile       string
		concurrency       int
		duration, warmup  time.Duration
		jsonOut           bool
		namespace, object string
		pid               int
	)
	flag.StringVar(&url, "url", "https://127.0.0.1:9443/validate-httproute", "Webhook URL to POST AdmissionReviews to.")
	flag.StringVar(&caFile, "ca", "certs/ca.crt", "PEM file of the CA that signed the webhook's serving certificate.")
	flag.IntVar(&concurrency, "c", 8, "Number of concurrent workers, each with its own keep-alive connection.")
	flag.DurationVar(&duration, "d", 10*time.Second, "Measured duration.")
	flag.DurationVar(&warmup, "warmup", time.Second, "Unmeasured duration before it (connections, TLS handshakes, lazy start-up).")
	flag.BoolVar(&jsonOut, "json", false, "Print the result as one JSON object.")
	flag.StringVar(&namespace, "namespace", "ns-00000", "Namespace of the request (the Route's own).")
	flag.StringVar(&object, "object", Route, "The HTTPRoute (JSON) to create.")
	flag.IntVar(&pid, "pid", 0, "Process ID of the server, to report its CPU time per request (Linux /proc; 0: not reported).")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, url, caFile, concurrency, warmup, duration, namespace, object, pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	if jsonOut {
		_ = json.NewEncoder(os.Stdout).Encode(res)
	} else {
		fmt.Printf("%s c=%d: %d requests in %.1fs, %.0f req/s, p50 %.0fµs p99 %.0fµs p99.9 %.0fµs max %.0fµs, %d errors %s\n",
			res.URL, res.Concurrency, res.Requests, res.DurationS, res.RPS, res.P50US, res.P99US, res.P999US, res.MaxUS, res.Errors, res.FirstError)
	}
	if res.Errors > 0 {
		os.Exit(2)
	}
}

func run(ctx context.Context, url, caFile string, concurrency int, warmup, duration time.Duration, namespace, object string, pid int) (*Result, error) {
	if concurrency < 1 {
		return nil, errors.New("-c must be at least 1")
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s: no PEM certificate", caFile)
	}
	// HTTP/1.1 only (a non-nil empty TLSNextProto turns HTTP/2 off), one keep-alive
	// connection per worker.
	transport := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		MaxConnsPerHost:     concurrency,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	httpClient := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	prefix, suffix, err := template(namespace, object)
	if err != nil {
		return nil, err
	}

	// Warm-up: the same loop, results dropped.
	if warmup > 0 {
		w := &runner{client: httpClient, url: url, prefix: prefix, suffix: suffix}
		w.run(ctx, concurrency, warmup, "w")
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if w.errors.Load() > 0 && w.requests.Load() == w.errors.Load() {
			return nil, fmt.Errorf("every warm-up request failed: %s", w.firstError())
		}
	}
	r := &runner{client: httpClient, url: url, prefix: prefix, suffix: suffix}
	serverCPU0, err := processCPU(pid)
	if err != nil {
		return nil, err
	}
	loadCPU0 := selfCPU()
	elapsed, lat := r.run(ctx, concurrency, duration, "m")
	loadCPU := selfCPU() - loadCPU0
	serverCPU, err := processCPU(pid)
	if err != nil {
		return nil, err
	}
	serverCPU -= serverCPU0
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{URL: url, Concurrency: concurrency, DurationS: elapsed.Seconds(), Requests: int(r.requests.Load()),
		Errors: int(r.errors.Load()), FirstError: r.firstError()}
	res.RPS = float64(res.Requests) / elapsed.Seconds()
	if res.Requests > 0 {
		perReq := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(res.Requests) }
		res.LoadCPUUSPerReq = perReq(loadCPU)
		if pid != 0 {
			res.ServerCPUUSPerReq = perReq(serverCPU)
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		var sum time.Duration
		for _, l := range lat {
			sum += l
		}
		us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
		res.MeanUS = us(sum / time.Duration(len(lat)))
		res.P50US, res.P99US, res.P999US = us(quantile(lat, 0.5)), us(quantile(lat, 0.99)), us(quantile(lat, 0.999))
		res.MaxUS = us(lat[len(lat)-1])
	}
	return res, nil
}

// quantile is the nearest-rank quantile of sorted: the smallest value with at least q of
// the values at or below it.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// template returns the AdmissionReview JSON around the UID, so that a request costs the
// load tool a concatenation rather than an encoding. It encodes the typed
// admission.k8s.io/v1 struct, as the kube-apiserver does: the same keys in the same order
// (kind before apiVersion).
func template(namespace, object string) (prefix, suffix []byte, err error) {
	compact := &bytes.Buffer{}
	if err := json.Compact(compact, []byte(object)); err != nil {
		return nil, nil, fmt.Errorf("-object: %w", err)
	}
	var meta struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(compact.Bytes(), &meta); err != nil {
		return nil, nil, fmt.Errorf("-object: %w", err)
	}
	gvk := metav1.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}
	gvr := metav1.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	dryRun := false
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{Kind: "AdmissionReview", APIVersion: admissionv1.SchemeGroupVersion.String()},
		Request: &admissionv1.AdmissionRequest{
			UID:             uidMark,
			Kind:            gvk,
			Resource:        gvr,
			RequestKind:     &gvk,
			RequestResource: &gvr,
			Name:            meta.Metadata.Name,
			Namespace:       namespace,
			Operation:       admissionv1.Create,
			UserInfo:        authenticationv1.UserInfo{Username: "bench", Groups: []string{"system:authenticated"}},
			Object:          runtime.RawExtension{Raw: compact.Bytes()},
			DryRun:          &dryRun,
			Options:         runtime.RawExtension{Raw: []byte(`{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}`)},
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		return nil, nil, err
	}
	before, after, ok := bytes.Cut(body, []byte(uidMark))
	if !ok {
		return nil, nil, errors.New("no UID mark in the request template")
	}
	return before, after, nil
}

// runner is one measured (or warm-up) phase.
type runner struct {
	client         *http.Client
	url            string
	prefix, suffix []byte

	requests, errors atomic.Int64
	errMu            sync.Mutex
	firstErr         error
}

func (r *runner) firstError() string {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if r.firstErr == nil {
		return ""
	}
	return r.firstErr.Error()
}

func (r *runner) fail(err error) {
	r.errors.Add(1)
	r.errMu.Lock()
	if r.firstErr == nil {
		r.firstErr = err
	}
	r.errMu.Unlock()
}

// run runs concurrency workers until d has passed and returns the elapsed time and every
// latency of a successful or failed request completed in it.
func (r *runner) run(ctx context.Context, concurrency int, d time.Duration, phase string) (time.Duration, []time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	lats := make([][]time.Duration, concurrency)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1<<16)
			body := make([]byte, 0, len(r.prefix)+len(r.suffix)+32)
			review := &admissionv1.AdmissionReview{}
			for n := 0; ; n++ {
				if time.Now().After(deadline) || ctx.Err() != nil {
					break
				}
				uid := phase + "-" + strconv.Itoa(w) + "-" + strconv.Itoa(n)
				body = append(append(append(body[:0], r.prefix...), uid...), r.suffix...)
				t0 := time.Now()
				respBody, status, err := r.post(ctx, body)
				l := time.Since(t0)
				if err != nil {
					if ctx.Err() != nil {
						break // cut off by the end of the run (or Ctrl-C), not a failure
					}
					lat = append(lat, l)
					r.requests.Add(1)
					r.fail(err)
					continue
				}
				lat = append(lat, l)
				r.requests.Add(1)
				if err := check(respBody, status, uid, review); err != nil {
					r.fail(err)
				}
			}
			lats[w] = lat
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	return elapsed, all
}

func (r *runner) post(ctx context.Context, body []byte) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	// Read to the end so that the connection is reused.
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return respBody, resp.StatusCode, err
}

// check accepts only HTTP 200 with an AdmissionReview that allows the request uid.
func check(body []byte, status int, uid string, review *admissionv1.AdmissionReview) error {
	if status != http.StatusOK {
		return fmt.Errorf("HTTP %d: %.200s", status, body)
	}
	*review = admissionv1.AdmissionReview{}
	if err := json.Unmarshal(body, review); err != nil {
		return fmt.Errorf("decoding the AdmissionReview: %w: %.200s", err, body)
	}
	switch resp := review.Response; {
	case resp == nil:
		return fmt.Errorf("no response in %.200s", body)
	case string(resp.UID) != uid:
		return fmt.Errorf("response UID %q, want %q", resp.UID, uid)
	case !resp.Allowed:
		return fmt.Errorf("denied: %.300s", body)
	}
	return nil
}

// selfCPU is the CPU time (user and system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is the unit of /proc/<pid>/stat's CPU times: USER_HZ, which is 100 on every
// Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// processCPU is the CPU time (user and system) of process pid, from /proc/<pid>/stat;
// 0 when pid is 0.
func processCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, nil
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("-pid: %w", err)
	}
	// The command name, in parentheses, may hold spaces: the fields after it are counted
	// from its closing parenthesis. utime and stime are fields 14 and 15 of the line.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("-pid: unexpected /proc/%d/stat: %.100s", pid, data)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("-pid: unexpected /proc/%d/stat: %.100s", pid, data)
	}
	var total time.Duration
	for _, f := range fields[11:13] {
		ticks, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("-pid: /proc/%d/stat: %w", pid, err)
		}
		total += time.Duration(ticks) * clockTick
	}
	return total, nil
}
