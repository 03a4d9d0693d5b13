#!/usr/bin/env bash
# generate.sh regenerates what controller-gen derives from the API types in pkg/apis: the
# deep-copy functions (zz_generated.deepcopy.go next to the types) and the CRDs in
# config/crd. Never edit those files by hand; change the types and run make generate.
#
# It works on the checkout, or on the directory given as the only argument, a copy of
# the inputs (go.mod, go.sum, hack/boilerplate.go.txt, pkg/apis): test/generate runs it
# there and compares the output with what is committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN_DIR:-$root/bin}
# Build messages go to stderr, like make manifests'.
bash "$root/hack/build-codegen.sh" >&2
cd "${1:-$root}"
"$bin/controller-gen" object:headerFile=hack/boilerplate.go.txt crd paths=./pkg/apis/... output:crd:artifacts:config=config/crd
