package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// serverScheme is cmd/webhook's scheme: the built-in types and Gateway API v1.
func serverScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(gwv1.Install(s))
	return s
}

// controlPlane is envtest's kube-apiserver and etcd with the Gateway API CRDs. No
// webhook configurations: the load tool calls the webhooks directly.
type controlPlane struct {
	env        *envtest.Environment
	config     *rest.Config
	kubeconfig string
	once       sync.Once
}

func startControlPlane(ctx context.Context, root, bins, stateDir string) (*controlPlane, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("locating the gateway-api module: %w", err)
	}
	crdDir := filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "experimental")
	cp := &controlPlane{env: &envtest.Environment{
		BinaryAssetsDirectory: bins,
		CRDDirectoryPaths:     []string{crdDir}, // envtest installs only the CRD documents
		ErrorIfCRDPathMissing: true,
		Scheme:                serverScheme(),
	}}
	start := time.Now()
	if cp.config, err = cp.env.Start(); err != nil {
		cp.stop()
		return nil, fmt.Errorf("starting envtest from %s: %w", bins, err)
	}
	logf("control plane with %d CRDs up in %s", len(cp.env.CRDs), time.Since(start).Round(time.Millisecond))
	cp.kubeconfig = filepath.Join(stateDir, "kubeconfig")
	if err := os.WriteFile(cp.kubeconfig, cp.env.KubeConfig, 0o600); err != nil {
		cp.stop()
		return nil, err
	}
	return cp, nil
}

func (cp *controlPlane) stop() {
	cp.once.Do(func() {
		if err := cp.env.Stop(); err != nil {
			logf("stopping the control plane: %v", err)
		}
	})
}
