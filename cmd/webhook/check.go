package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	gwadmission "gatewarden.dev/gatewarden/pkg/admission"
	"gatewarden.dev/gatewarden/pkg/check"
	"gatewarden.dev/gatewarden/pkg/config"
	"gatewarden.dev/gatewarden/pkg/policy"
)

// fileList is a repeatable -f flag.
type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(v string) error { *f = append(*f, v); return nil }

// runCheck is `webhook check`: the admission rules over manifests, offline, optionally
// with a live cluster's objects in the world. It returns the exit code: 0 clean, 1 a
// finding that admission would deny, 2 a usage or input error.
func runCheck(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var files fileList
	fs.Var(&files, "f", "A manifest file or folder (every .yaml, .yml, .json below it), or - for stdin. Repeatable.")
	output := fs.String("o", "text", "Output format: text, json or sarif.")
	kubeconfig := fs.String("kubeconfig", "", "Also read the objects of this cluster into the world (the files' objects replace the cluster's of the same name).")
	configFile := fs.String("config", "", "A GatewardenConfiguration file (rule actions, exemptions).")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: webhook check -f FILE|DIR|- [-f ...] [-o text|json|sarif] [--kubeconfig FILE] [--config FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return check.ExitError
	}
	if len(files) == 0 || fs.NArg() > 0 {
		fs.Usage()
		return check.ExitError
	}
	write, err := writer(*output)
	if err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return check.ExitError
	}
	cfg, err := loadConfig(*configFile)
	if err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return check.ExitError
	}
	sources, err := check.ReadSources(files, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return check.ExitError
	}
	var cluster []policy.Object
	if *kubeconfig != "" {
		if cluster, err = readCluster(ctx, *kubeconfig); err != nil {
			fmt.Fprintln(stderr, "check:", err)
			return check.ExitError
		}
	}
	res, err := check.Run(ctx, sources, cluster, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return check.ExitError
	}
	if err := write(stdout, res); err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return check.ExitError
	}
	return res.ExitCode()
}

// runAudit is `webhook audit`: every object already in a cluster, judged as if it were
// created now, with the output formats and exit codes of check.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	output := fs.String("o", "text", "Output format: text, json or sarif.")
	kubeconfig := fs.String("kubeconfig", "", "The cluster to audit (default: $KUBECONFIG, then in-cluster).")
	configFile := fs.String("config", "", "A GatewardenConfiguration file (rule actions, exemptions).")
	if err := fs.Parse(args); err != nil {
		return check.ExitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "Usage: webhook audit [-o text|json|sarif] [--kubeconfig FILE] [--config FILE]")
		return check.ExitError
	}
	write, err := writer(*output)
	if err == nil {
		var cfg *config.Config
		var objs []policy.Object
		if cfg, err = loadConfig(*configFile); err == nil {
			if objs, err = readCluster(ctx, *kubeconfig); err == nil {
				var res check.Result
				if res, err = check.Run(ctx, []check.Source{{Name: "cluster", Objects: objs}}, nil, cfg); err == nil {
					if err = write(stdout, res); err == nil {
						return res.ExitCode()
					}
				}
			}
		}
	}
	fmt.Fprintln(stderr, "audit:", err)
	return check.ExitError
}

// runExplain is `webhook explain`: the effective timeouts of Routes, per rule and parent
// Gateway, and which TimeoutPolicy (or the Route itself) each value comes from.
func runExplain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var files fileList
	fs.Var(&files, "f", "A manifest file or folder, or - for stdin. Repeatable. Optional with --kubeconfig.")
	output := fs.String("o", "table", "Output format: table, json or dot (Graphviz).")
	route := fs.String("route", "", "Only this Route, as Kind/namespace/name (e.g. HTTPRoute/prod/foo); required without -f.")
	kubeconfig := fs.String("kubeconfig", "", "Also read the objects of this cluster into the world.")
	configFile := fs.String("config", "", "A GatewardenConfiguration file (policyNamespace).")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: webhook explain [-f FILE|DIR|- ...] [--kubeconfig FILE] [--route Kind/namespace/name] [-o table|json|dot]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return check.ExitError
	}
	if fs.NArg() > 0 || (len(files) == 0 && (*kubeconfig == "" || *route == "")) {
		fs.Usage()
		return check.ExitError
	}
	write := map[string]func(io.Writer, []check.Explanation) error{
		"table": check.WriteExplainTable, "json": check.WriteExplainJSON, "dot": check.WriteExplainDOT,
	}[*output]
	if write == nil {
		fmt.Fprintf(stderr, "explain: -o %q: use table, json or dot\n", *output)
		return check.ExitError
	}
	err := func() error {
		cfg, err := loadConfig(*configFile)
		if err != nil {
			return err
		}
		var sources []check.Source
		if len(files) > 0 {
			if sources, err = check.ReadSources(files, stdin); err != nil {
				return err
			}
		}
		var cluster []policy.Object
		if *kubeconfig != "" {
			if cluster, err = readCluster(ctx, *kubeconfig); err != nil {
				return err
			}
		}
		exps, err := check.Explain(ctx, sources, cluster, cfg, *route)
		if err != nil {
			return err
		}
		return write(stdout, exps)
	}()
	if err != nil {
		fmt.Fprintln(stderr, "explain:", err)
		return check.ExitError
	}
	return check.ExitClean
}

func writer(format string) (func(io.Writer, check.Result) error, error) {
	switch format {
	case "text":
		return check.WriteText, nil
	case "json":
		return check.WriteJSON, nil
	case "sarif":
		return check.WriteSARIF, nil
	}
	return nil, fmt.Errorf("-o %q: use text, json or sarif", format)
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// readCluster reads the cluster's objects with uncached reads.
func readCluster(ctx context.Context, kubeconfig string) ([]policy.Object, error) {
	restConfig, err := ctrl.GetConfig()
	if kubeconfig != "" {
		restConfig, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	scheme, err := newScheme()
	if err != nil {
		return nil, err
	}
	c, err := client.New(restConfig, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	available, err := availableKinds(c.RESTMapper())
	if err != nil {
		return nil, err
	}
	return gwadmission.ReadCluster(ctx, c, func(k gwv1.Kind) bool { return available[k] })
}
