package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// benchLine matches `BenchmarkDecideHTTPRoute/objects=1000-2  34189  29420 ns/op  6112 B/op  81 allocs/op`.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) B/op\s+([\d.]+) allocs/op)?`)

// decideBenchmarks runs pkg/admission's decision benchmarks and returns ns/op, B/op and
// allocs/op as figures: decide_httproute_1k_ns, decide_gateway_update_100k_ns, ...
func decideBenchmarks(ctx context.Context, root, benchtime string) ([]figure, error) {
	logf("decision benchmarks: go test ./pkg/admission/ -bench 'BenchmarkDecide|BenchmarkDefault' -benchtime %s", benchtime)
	cmd := exec.CommandContext(ctx, "go", "test", "./pkg/admission/", "-run", "^$",
		"-bench", "BenchmarkDecide|BenchmarkDefault", "-benchmem", "-benchtime", benchtime)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("decision benchmarks: %w\n%s", err, out.String())
	}
	names := map[string]string{
		"BenchmarkDecideHTTPRoute/objects=1000":       "decide_httproute_1k",
		"BenchmarkDecideHTTPRoute/objects=10000":      "decide_httproute_10k",
		"BenchmarkDecideHTTPRoute/objects=100000":     "decide_httproute_100k",
		"BenchmarkDecideGatewayUpdate/objects=1000":   "decide_gateway_update_1k",
		"BenchmarkDecideGatewayUpdate/objects=10000":  "decide_gateway_update_10k",
		"BenchmarkDecideGatewayUpdate/objects=100000": "decide_gateway_update_100k",
		"BenchmarkDefaultGateway":                     "default_gateway",
	}
	var figs []figure
	ns := map[string]float64{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		fmt.Fprintln(os.Stderr, sc.Text())
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		name, ok := names[m[1]]
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, err
		}
		ns[name] = v
		figs = append(figs, figure{name + "_ns", v})
		if m[3] != "" {
			b, _ := strconv.ParseFloat(m[3], 64)
			a, _ := strconv.ParseFloat(m[4], 64)
			figs = append(figs, figure{name + "_bytes", b}, figure{name + "_allocs", a})
		}
	}
	for _, n := range []string{"decide_httproute_1k", "decide_httproute_100k", "decide_gateway_update_10k"} {
		if _, ok := ns[n]; !ok {
			return nil, fmt.Errorf("decision benchmarks: no result for %s in\n%s", n, out.String())
		}
	}
	figs = append(figs,
		figure{"decide_httproute_100k_vs_1k", ns["decide_httproute_100k"] / ns["decide_httproute_1k"]},
		figure{"decide_gateway_update_100k_vs_1k", ns["decide_gateway_update_100k"] / ns["decide_gateway_update_1k"]})
	return figs, nil
}
