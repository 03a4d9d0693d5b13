package integration

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
)

// TestNoExistenceOracle checks that a RefNotPermitted denial says the same, word for word,
// whether the target exists or not: a Route author must not learn what another namespace
// holds by probing with Routes.
func TestNoExistenceOracle(t *testing.T) {
	_, before, err := kubectlApply(t, "testdata/oracle/route.yaml")
	if err == nil || !strings.Contains(before, "[ref-not-permitted]") {
		t.Fatalf("want a RefNotPermitted denial, err=%v stderr:\n%s", err, before)
	}
	mustApply(t, "testdata/oracle/service.yaml")
	_, after, err := kubectlApply(t, "testdata/oracle/route.yaml")
	if err == nil {
		t.Fatal("the Route was admitted once its target existed")
	}
	denial := func(s string) string { return s[strings.Index(s, `The HTTPRoute "probe"`):] }
	if denial(before) != denial(after) {
		t.Errorf("the denial differs once the Service exists:\nbefore: %s\nafter:  %s", denial(before), denial(after))
	}
}

// TestTLSSettings dials the running webhook: TLS below 1.2 is refused, TLS 1.3 is
// negotiated, and HTTP/2 is not offered (Rapid Reset advisories).
func TestTLSSettings(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", env.WebhookPort)
	if conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	state := conn.ConnectionState()
	if state.Version != tls.VersionTLS13 {
		t.Errorf("negotiated TLS version %x, want TLS 1.3", state.Version)
	}
	if state.NegotiatedProtocol == "h2" {
		t.Error("HTTP/2 was negotiated; it must be off by default")
	}
}
