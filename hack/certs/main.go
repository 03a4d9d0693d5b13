// Command certs writes the development CA and webhook serving certificate into a
// directory (default certs/), once: valid files are kept. See internal/devcerts.
package main

import (
	"flag"
	"fmt"
	"os"

	"gatewarden.dev/gatewarden/internal/devcerts"
)

func main() {
	dir := flag.String("dir", "certs", "directory for ca.crt, ca.key, tls.crt and tls.key")
	flag.Parse()

	res, err := devcerts.Ensure(*dir, devcerts.DefaultOptions())
	if err != nil {
		fmt.Fprintln(os.Stderr, "certs:", err)
		os.Exit(1)
	}
	state := "reused"
	switch {
	case res.GeneratedCA:
		state = "generated CA and serving certificate"
	case res.GeneratedServing:
		state = "generated serving certificate (CA reused)"
	}
	fmt.Printf("certs: %s in %s; serving certificate valid until %s\n", state, res.Dir, res.NotAfter.Format("2006-01-02"))
}
