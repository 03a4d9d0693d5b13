#!/usr/bin/env bash
# build-tools.sh builds the pinned control-plane binaries into bin/ (kube-apiserver,
# kubectl, etcd) from hack/tools/go.mod. A binary already built for the pinned
# versions is kept: the stamp file next to it records what it was built from.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN_DIR:-$root/bin}
mkdir -p "$bin"
cd "$root/hack/tools"

k8s_version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${k8s_version}"
ldflags+=" -X k8s.io/component-base/version.gitMajor=$(echo "${k8s_version#v}" | cut -d. -f1)"
ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "${k8s_version#v}" | cut -d. -f2)"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"

build() { # name version package
  local name=$1 version=$2 pkg=$3 stamp="$bin/.$1.version"
  if [[ -x "$bin/$name" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then
    echo "tools: $name $version is up to date"
    return
  fi
  echo "tools: building $name $version (the first build takes minutes on 2 cores; later runs reuse bin/$name)"
  local start=$SECONDS
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin/$name.tmp" "$pkg"
  mv "$bin/$name.tmp" "$bin/$name"
  echo "$version" >"$stamp"
  echo "tools: built $name in $((SECONDS - start))s"
}

build etcd "$etcd_version" ./etcd
build kubectl "$k8s_version" k8s.io/kubernetes/cmd/kubectl
build kube-apiserver "$k8s_version" k8s.io/kubernetes/cmd/kube-apiserver
