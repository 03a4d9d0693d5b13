package devcerts

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestEnsure(t *testing.T) {
	dir := t.TempDir()
	first, err := Ensure(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !first.GeneratedCA || !first.GeneratedServing {
		t.Fatalf("first call generated CA=%v serving=%v, want both", first.GeneratedCA, first.GeneratedServing)
	}
	verify(t, dir, first.CAPEM, time.Now())
	if fi, err := os.Stat(filepath.Join(dir, KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, err %v; want 0600", KeyFile, fi.Mode().Perm(), err)
	}

	cases := map[string]struct {
		opts                func(Options) Options
		wantCA, wantServing bool
	}{
		"valid files are reused": {
			opts: func(o Options) Options { return o },
		},
		"serving cert within 30 days of expiry is replaced, CA kept": {
			opts:        func(o Options) Options { o.Now = time.Now().Add(servingValidity - 29*24*time.Hour); return o },
			wantServing: true,
		},
		"serving cert lacking a SAN is replaced": {
			opts:        func(o Options) Options { o.DNSNames = append(o.DNSNames, "extra.example"); return o },
			wantServing: true,
		},
		"CA near expiry replaces both": {
			opts:        func(o Options) Options { o.Now = time.Now().Add(caValidity - 29*24*time.Hour); return o },
			wantCA:      true,
			wantServing: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			for _, f := range []string{CAFile, CAKeyFile, CertFile, KeyFile} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, f), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			opts := tc.opts(DefaultOptions())
			got, err := Ensure(d, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got.GeneratedCA != tc.wantCA || got.GeneratedServing != tc.wantServing {
				t.Errorf("generated CA=%v serving=%v, want CA=%v serving=%v",
					got.GeneratedCA, got.GeneratedServing, tc.wantCA, tc.wantServing)
			}
			verify(t, d, got.CAPEM, opts.Now)
		})
	}
}

// verify checks that the serving pair loads for TLS and chains to caPEM for every SAN at now.
func verify(t *testing.T, dir string, caPEM []byte, now time.Time) {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("CA PEM does not parse")
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "gatewarden-webhook.gatewarden-system.svc",
		"gatewarden-webhook.gatewarden-system.svc.cluster.local"} {
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: pool, CurrentTime: now}); err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
}
