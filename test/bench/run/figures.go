package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// figure is one `name=value` line of the output.
type figure struct {
	name  string
	value float64
}

// figures keeps the figures in the order they were measured.
type figures struct{ list []figure }

func (f *figures) add(name string, v any) {
	var x float64
	switch v := v.(type) {
	case int:
		x = float64(v)
	case int64:
		x = float64(v)
	case float64:
		x = v
	default:
		panic(fmt.Sprintf("figure %s: %T", name, v))
	}
	f.list = append(f.list, figure{name, x})
}

// format prints integers as integers and the rest with three significant decimals.
func format(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	if math.Abs(v) >= 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

func (f *figures) print(w io.Writer) {
	for _, x := range f.list {
		fmt.Fprintf(w, "%s=%s\n", x.name, format(x.value))
	}
}

func (f *figures) write(path string) error {
	var b strings.Builder
	f.print(&b)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// machineInfo describes the host for the log and docs/performance.md.
type machineInfo struct{ cpu, mem string }

func machine() machineInfo {
	m := machineInfo{cpu: "unknown CPU", mem: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == "MemTotal" {
				if kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64); err == nil {
					m.mem = fmt.Sprintf("%.1f GiB", kb/(1<<20))
				}
				break
			}
		}
		f.Close()
	}
	return m
}

// loadAverage is the one-minute load average, or -1. The benchmark wants it near zero:
// whatever else runs on the machine shares its cores.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, _, _ := strings.Cut(string(data), " ")
	l, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return -1
	}
	return l
}
