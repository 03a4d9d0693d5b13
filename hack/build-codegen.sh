#!/usr/bin/env bash
# build-codegen.sh builds the pinned controller-gen into bin/ from hack/codegen/go.mod (its
# own module, so controller-tools' dependencies stay out of the product's go.mod). As in
# build-tools.sh, a binary already built for the pinned version is kept: the stamp file
# next to it records what it was built from.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN_DIR:-$root/bin}
mkdir -p "$bin"
cd "$root/hack/codegen"

version=$(go list -m -f '{{.Version}}' sigs.k8s.io/controller-tools)
stamp="$bin/.controller-gen.version"
if [[ -x "$bin/controller-gen" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then
  echo "tools: controller-gen $version is up to date"
  exit 0
fi
echo "tools: building controller-gen $version (about two minutes on 2 cores; later runs reuse bin/controller-gen)"
start=$SECONDS
# Built from this module, the binary's main module is not controller-tools: stamp the
# version it writes into every CRD (controller-gen.kubebuilder.io/version) explicitly.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X sigs.k8s.io/controller-tools/pkg/version.version=$version" \
  -o "$bin/controller-gen.tmp" sigs.k8s.io/controller-tools/cmd/controller-gen
mv "$bin/controller-gen.tmp" "$bin/controller-gen"
echo "$version" >"$stamp"
echo "tools: built controller-gen in $((SECONDS - start))s"
