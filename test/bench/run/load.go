package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"time"
)

// loadResult is bench-load's -json output.
type loadResult struct {
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error"`
	RPS        float64 `json:"rps"`
	P50US      float64 `json:"p50_us"`
	P99US      float64 `json:"p99_us"`
	P999US     float64 `json:"p999_us"`
	ServerCPU  float64 `json:"server_cpu_us_per_req"`
	LoadCPU    float64 `json:"load_cpu_us_per_req"`
}

// loader runs bin/bench-load: a process of its own, so that the orchestrator's memory and
// goroutines do not share its runtime.
type loader struct {
	bin, ca          string
	warmup, duration time.Duration
}

// run loads url with conc workers; pid is the server's process, whose CPU time it reports.
func (l loader) run(ctx context.Context, url string, pid, conc int) (*loadResult, error) {
	cmd := exec.CommandContext(ctx, l.bin, "-url", url, "-ca", l.ca, "-c", strconv.Itoa(conc),
		"-d", l.duration.String(), "-warmup", l.warmup.String(), "-pid", strconv.Itoa(pid), "-json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := &loadResult{}
	if jerr := json.Unmarshal(stdout.Bytes(), r); jerr != nil {
		return nil, fmt.Errorf("%v %v: %s", err, jerr, stderr.String())
	}
	// Exit status 2 means requests failed; the result says which.
	return r, nil
}

// medianResult is the median of each figure over rounds (the upper one of an even
// count), with the errors summed.
func medianResult(rounds []*loadResult) *loadResult {
	med := func(f func(*loadResult) float64) float64 {
		vs := make([]float64, len(rounds))
		for i, r := range rounds {
			vs[i] = f(r)
		}
		slices.Sort(vs)
		return vs[len(vs)/2]
	}
	out := &loadResult{
		RPS:       med(func(r *loadResult) float64 { return r.RPS }),
		P50US:     med(func(r *loadResult) float64 { return r.P50US }),
		P99US:     med(func(r *loadResult) float64 { return r.P99US }),
		P999US:    med(func(r *loadResult) float64 { return r.P999US }),
		ServerCPU: med(func(r *loadResult) float64 { return r.ServerCPU }),
		LoadCPU:   med(func(r *loadResult) float64 { return r.LoadCPU }),
	}
	for _, r := range rounds {
		out.Requests += r.Requests
		out.Errors += r.Errors
		if out.FirstError == "" {
			out.FirstError = r.FirstError
		}
	}
	return out
}
