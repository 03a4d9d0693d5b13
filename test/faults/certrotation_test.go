package faults

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gatewarden.dev/gatewarden/internal/devcerts"
)

// TestServingCertRotation replaces the serving certificate on disk the way the kubelet
// updates a mounted Secret (a new timestamped directory, then an atomic rename of the
// ..data symlink, then the old directory removed) while load runs on keep-alive and on
// new connections: no request fails, and new connections present the new certificate
// within seconds (controller-runtime's certwatcher: inotify, and a 10s poll behind it).
func TestServingCertRotation(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	env := sharedEnv(t)

	dir := &secretVolume{dir: t.TempDir()}
	oldCert, oldKey, oldSerial := newServingCert(t)
	if err := dir.write(map[string][]byte{devcerts.CertFile: oldCert, devcerts.KeyFile: oldKey}); err != nil {
		t.Fatal(err)
	}
	w := startWebhook(t, env.Kubeconfig, dir.dir)
	if err := w.waitStatus(ctx, "/readyz", http.StatusOK, 60*time.Second); err != nil {
		t.Fatalf("/readyz: %v", err)
	}
	newCert, newKey, newSerial := newServingCert(t)

	var (
		mu       sync.Mutex
		swapped  time.Time // when the ..data symlink was renamed
		firstNew time.Time // start of the first new connection that presented newSerial
		sawOld   bool
		stale    []string // new connections started after firstNew that presented oldSerial
		unknown  []string
	)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	wait := startLoad(loadCtx, w, loadConfig{
		keepAlive: 3, newConn: 2, pace: 5 * time.Millisecond,
		mix: []reviewCase{allowedRoute, deniedRoute, defaultedGateway},
		onAnswer: func(newConn bool, start time.Time, a answer, err error) {
			if err != nil || a.tls == nil || !newConn {
				return
			}
			serial := a.tls.PeerCertificates[0].SerialNumber
			mu.Lock()
			defer mu.Unlock()
			switch {
			case serial.Cmp(newSerial) == 0:
				if firstNew.IsZero() || start.Before(firstNew) {
					firstNew = start
				}
			case serial.Cmp(oldSerial) == 0:
				sawOld = true
				if !firstNew.IsZero() && start.After(firstNew) {
					stale = append(stale, start.Format("15:04:05.000"))
				}
			default:
				unknown = append(unknown, serial.String())
			}
		},
	})
	// Load on the old certificate first, then the swap, then load until the new one shows.
	if err := poll(ctx, w, 50*time.Millisecond, 30*time.Second, func(context.Context) (bool, string, error) {
		mu.Lock()
		defer mu.Unlock()
		return sawOld, "no answer on a new connection yet", nil
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // load on the old certificate, a fixed span by design
	mu.Lock()
	swapped = time.Now()
	mu.Unlock()
	if err := dir.write(map[string][]byte{devcerts.CertFile: newCert, devcerts.KeyFile: newKey}); err != nil {
		t.Fatal(err)
	}
	err := poll(ctx, w, 50*time.Millisecond, 20*time.Second, func(context.Context) (bool, string, error) {
		mu.Lock()
		defer mu.Unlock()
		return !firstNew.IsZero(), "new connections still present the old certificate", nil
	})
	if err == nil {
		time.Sleep(2 * time.Second) // load on the new certificate, a fixed span by design
	}
	stopLoad()
	stats := wait()
	if err != nil {
		t.Fatalf("new connections did not present the new certificate: %v (%s)", err, stats)
	}
	mu.Lock()
	defer mu.Unlock()
	took := firstNew.Sub(swapped)
	t.Logf("new certificate on new connections %s after the swap; load: %s", took.Round(time.Millisecond), stats)
	if took > 12*time.Second {
		t.Errorf("the new certificate took %s, want within the certwatcher's 10s poll", took)
	}
	if stats.failures.Load() > 0 || stats.requests.Load() < 100 {
		t.Errorf("want at least 100 requests and none failed: %s", stats)
	}
	if len(stale) > 0 {
		t.Errorf("%d new connections presented the old certificate after the new one had shown (at %v)", len(stale), stale)
	}
	if len(unknown) > 0 {
		t.Errorf("certificates with unexpected serials: %v", unknown)
	}
}

// newServingCert makes a serving certificate for the webhook signed by the development CA:
// devcerts.Ensure in a directory holding only the CA issues a new one.
func newServingCert(t *testing.T) (certPEM, keyPEM []byte, serial *big.Int) {
	t.Helper()
	tmp := t.TempDir()
	for _, f := range []string{devcerts.CAFile, devcerts.CAKeyFile} {
		data, err := os.ReadFile(filepath.Join(devCertDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res, err := devcerts.Ensure(tmp, devcerts.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.GeneratedCA || !res.GeneratedServing {
		t.Fatalf("devcerts: generated CA %v, serving %v; want only a serving certificate", res.GeneratedCA, res.GeneratedServing)
	}
	if certPEM, err = os.ReadFile(filepath.Join(tmp, devcerts.CertFile)); err != nil {
		t.Fatal(err)
	}
	if keyPEM, err = os.ReadFile(filepath.Join(tmp, devcerts.KeyFile)); err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatal("no PEM block in the serving certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM, cert.SerialNumber
}

// secretVolume lays files out as the kubelet's atomic writer does for a Secret volume:
// dir/..<timestamp>/<file> holds the data, dir/..data links to the current timestamped
// directory, and dir/<file> links to ..data/<file>. An update writes a new timestamped
// directory, renames a new ..data link over the old one (the atomic step) and removes the
// old directory.
type secretVolume struct {
	dir string
	n   int
}

func (v *secretVolume) write(files map[string][]byte) error {
	v.n++
	ts := fmt.Sprintf("..%s.%d", time.Now().UTC().Format("2006_01_02_15_04_05"), v.n)
	if err := os.Mkdir(filepath.Join(v.dir, ts), 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(v.dir, ts, name), data, 0o600); err != nil {
			return err
		}
	}
	old, _ := os.Readlink(filepath.Join(v.dir, "..data"))
	if err := os.Symlink(ts, filepath.Join(v.dir, "..data_tmp")); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(v.dir, "..data_tmp"), filepath.Join(v.dir, "..data")); err != nil {
		return err
	}
	for name := range files {
		link := filepath.Join(v.dir, name)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				return err
			}
		}
	}
	if old != "" {
		return os.RemoveAll(filepath.Join(v.dir, old))
	}
	return nil
}
