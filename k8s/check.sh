#!/usr/bin/env bash
# Renders every overlay in k8s/overlays/ with kustomize and checks the output with check-manifests.mjs
# (probes, resources, config env, ports, addresses, grace periods; see that file). Offline, a few seconds.
# Exit status: 0 all good, 1 a render or a check failed, 2 no kubectl/kustomize to render with.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if command -v kubectl >/dev/null 2>&1; then
  render() { kubectl kustomize "$1"; }
elif command -v kustomize >/dev/null 2>&1; then
  render() { kustomize build "$1"; }
else
  echo "k8s/check.sh: needs kubectl (or kustomize) on PATH to render the overlays" >&2
  exit 2
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

checks=()
for dir in "$here"/overlays/*/; do
  name="$(basename "$dir")"
  if ! render "$dir" >"$out/$name.yaml" 2>"$out/$name.err"; then
    echo "FAIL $name: kustomize could not render it"
    sed 's/^/     /' "$out/$name.err"
    exit 1
  fi
  checks+=("$name=$out/$name.yaml")
done

node "$here/check-manifests.mjs" "${checks[@]}"
