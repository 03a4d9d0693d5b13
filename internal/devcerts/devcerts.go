// Package devcerts generates the development certificates that a local webhook serves
// with: a long-lived CA and a serving certificate signed by it. Generation happens once;
// later calls reuse the files while they are still good, so that the caBundle written
// into webhook configurations (and trusted by anyone who copied ca.crt) stays stable.
//
// Key generation, PEM encoding and signing use cert-manager's pkg/util/pki, the same
// code that issues the in-cluster serving certificate; crypto/x509 fills in only the
// certificate templates, which pki builds from cert-manager API objects.
package devcerts

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/cert-manager/cert-manager/pkg/util/pki"
)

// File names inside the certificate directory. tls.crt and tls.key are the names
// controller-runtime's webhook server reads from its --cert-dir.
const (
	CAFile    = "ca.crt"
	CAKeyFile = "ca.key"
	CertFile  = "tls.crt"
	KeyFile   = "tls.key"
)

const (
	caValidity      = 10 * 365 * 24 * time.Hour
	servingValidity = 365 * 24 * time.Hour
	// MinRemaining is how long a serving certificate must still be valid to be reused.
	MinRemaining = 30 * 24 * time.Hour
)

// Options says what to generate. The zero value is not useful; start from DefaultOptions.
type Options struct {
	// DNSNames and IPAddresses are the serving certificate's SANs. An existing
	// certificate that lacks one of them is replaced.
	DNSNames    []string
	IPAddresses []net.IP
	// Now is the clock; zero means time.Now().
	Now time.Time
}

// DefaultOptions returns the SANs the webhook is reached by: loopback for a local
// process, and the in-cluster Service names from config/webhook.
func DefaultOptions() Options {
	return Options{
		DNSNames: []string{
			"localhost",
			"gatewarden-webhook.gatewarden-system.svc",
			"gatewarden-webhook.gatewarden-system.svc.cluster.local",
		},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
}

// Result describes the certificates in a directory after Ensure.
type Result struct {
	Dir string
	// CAPEM is the CA certificate, for a webhook configuration's caBundle.
	CAPEM []byte
	// NotAfter is the serving certificate's expiry.
	NotAfter time.Time
	// GeneratedCA and GeneratedServing say what this call had to (re)create.
	GeneratedCA      bool
	GeneratedServing bool
}

// Ensure makes dir hold a CA and a serving certificate for opts, reusing what is there
// when it is still valid: the CA is kept unless it is unreadable or within MinRemaining
// of expiry, and the serving certificate is kept unless it expires within MinRemaining,
// lacks a SAN, or no longer chains to the CA. Concurrent callers (test packages run in
// parallel) are serialised with a lock file in dir.
func Ensure(dir string, opts Options) (*Result, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	unlock, err := lock(filepath.Join(dir, ".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()

	res := &Result{Dir: dir}
	caCert, caKey, err := loadPair(dir, CAFile, CAKeyFile)
	if err != nil || !caCert.IsCA || caCert.NotAfter.Sub(opts.Now) < MinRemaining {
		caCert, caKey, err = newCA(dir, opts.Now)
		if err != nil {
			return nil, fmt.Errorf("generating CA in %s: %w", dir, err)
		}
		res.GeneratedCA = true
	}
	if res.CAPEM, err = pki.EncodeX509(caCert); err != nil {
		return nil, err
	}

	cert, _, err := loadPair(dir, CertFile, KeyFile)
	if res.GeneratedCA || err != nil || servingProblem(cert, caCert, opts) != nil {
		if cert, err = newServing(dir, caCert, caKey, opts); err != nil {
			return nil, fmt.Errorf("generating serving certificate in %s: %w", dir, err)
		}
		res.GeneratedServing = true
	}
	res.NotAfter = cert.NotAfter
	return res, nil
}

// servingProblem says why cert cannot be reused, or nil.
func servingProblem(cert, ca *x509.Certificate, opts Options) error {
	if cert.NotAfter.Sub(opts.Now) < MinRemaining {
		return fmt.Errorf("expires %s", cert.NotAfter)
	}
	for _, name := range opts.DNSNames {
		if !slices.Contains(cert.DNSNames, name) {
			return fmt.Errorf("lacks DNS name %s", name)
		}
	}
	for _, ip := range opts.IPAddresses {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return fmt.Errorf("lacks IP address %s", ip)
		}
	}
	return cert.CheckSignatureFrom(ca)
}

// loadPair reads a certificate and its key and checks that they belong together.
func loadPair(dir, certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, certFile))
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, nil, err
	}
	cert, err := pki.DecodeX509CertificateBytes(certPEM)
	if err != nil {
		return nil, nil, err
	}
	key, err := pki.DecodePrivateKeyBytes(keyPEM)
	if err != nil {
		return nil, nil, err
	}
	ok, err := pki.PublicKeyMatchesCertificate(key.Public(), cert)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, fmt.Errorf("%s does not match %s", keyFile, certFile)
	}
	return cert, key, nil
}

func newCA(dir string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := pki.GenerateECPrivateKey(pki.ECCurve256)
	if err != nil {
		return nil, nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "gatewarden development CA", Organization: []string{"gatewarden.dev"}},
		NotBefore:             now.Add(-time.Hour), // tolerate clock skew
		NotAfter:              now.Add(caValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	tmpl.PublicKey = key.Public()
	// Self-signed: the template is its own issuer.
	certPEM, cert, err := pki.SignCertificate(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	if err := writePair(dir, CAFile, certPEM, CAKeyFile, key); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func newServing(dir string, ca *x509.Certificate, caKey crypto.Signer, opts Options) (*x509.Certificate, error) {
	key, err := pki.GenerateECPrivateKey(pki.ECCurve256)
	if err != nil {
		return nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: opts.DNSNames[0], Organization: []string{"gatewarden.dev"}},
		DNSNames:              opts.DNSNames,
		IPAddresses:           opts.IPAddresses,
		NotBefore:             opts.Now.Add(-time.Hour),
		NotAfter:              opts.Now.Add(servingValidity),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	certPEM, cert, err := pki.SignCertificate(tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, err
	}
	return cert, writePair(dir, CertFile, certPEM, KeyFile, key)
}

// writePair writes the key before the certificate, each atomically, so a reader that
// finds the new certificate also finds its key.
func writePair(dir, certFile string, certPEM []byte, keyFile string, key crypto.Signer) error {
	keyPEM, err := pki.EncodePKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, keyFile), keyPEM, 0o600); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, certFile), certPEM, 0o644)
}

func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// serialNumber returns a random positive 128-bit serial (RFC 5280 allows up to 20 octets).
func serialNumber() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

// lock takes an exclusive advisory lock on path and returns its release.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
