//go:build tools

// Package codegen records the code generators make generate runs.
package codegen

import _ "sigs.k8s.io/controller-tools/cmd/controller-gen"
