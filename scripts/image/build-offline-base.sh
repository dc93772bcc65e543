#!/usr/bin/env bash
# Makes the two base images the Dockerfile builds on when no container registry can be reached, from
# Debian's archive alone (mmdebstrap), and imports them into the local container storage (podman import;
# buildah reads the same storage):
#
#   maas-offline-build-base:<suite>    Debian minbase + nodejs, npm, libnode-dev (headers for node-gyp),
#                                      python3, make, g++: the build stage (npm ci, better-sqlite3 from source)
#   maas-offline-runtime-base:<suite>  Debian minbase + nodejs: the runtime stage, and its own NODE_BASE
#                                      (Debian's /usr/bin/node links libnode, which only this base has)
#
# Debian 13 (trixie) ships Node 20, the Node major the project pins. Both bases drop documentation, man
# pages and translations but keep every package's copyright file (licences of what the image ships), and
# Debian's nodejs without corepack (a launcher that downloads package managers: no runtime needs one).
#
# Usage: scripts/image/build-offline-base.sh [--force]   (env: DEBIAN_SUITE, DEBIAN_MIRROR)
# Without --force an existing base is kept. Needs root, mmdebstrap and podman.
set -euo pipefail

suite=${DEBIAN_SUITE:-trixie}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
force=false
[ "${1:-}" = --force ] && force=true

build_base="localhost/maas-offline-build-base:$suite"
runtime_base="localhost/maas-offline-runtime-base:$suite"

for tool in mmdebstrap podman; do
  command -v "$tool" >/dev/null || { echo "build-offline-base: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name, comma-separated packages
make_base() {
  local name=$1 packages=$2 tar
  if ! $force && podman image exists "$name"; then
    echo "build-offline-base: $name exists (--force to rebuild)"
    return
  fi
  echo "build-offline-base: $name ($packages) from $mirror"
  tar=$(mktemp -p "$work" --suffix=.tar)
  mmdebstrap --quiet --variant=minbase --include="$packages" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/bin/corepack' --dpkgopt='path-exclude=/usr/share/nodejs/corepack/*' \
    "$suite" "$tar" "$mirror"
  podman import --quiet --change 'CMD ["/bin/bash"]' "$tar" "$name" >/dev/null
  rm -f "$tar"
  podman image inspect --format "build-offline-base: $name {{.Id}} {{.Size}} bytes" "$name"
}

# Both at once: each is mostly waiting on the archive (about a minute each, one after the other).
# (Each runs in its own background shell, where set -e still stops it at the first failing command.)
make_base "$runtime_base" nodejs &
runtime_pid=$!
make_base "$build_base" nodejs,npm,libnode-dev,python3,make,g++ &
build_pid=$!
runtime_status=0
build_status=0
wait "$runtime_pid" || runtime_status=$?
wait "$build_pid" || build_status=$?
[ "$runtime_status" -eq 0 ] && [ "$build_status" -eq 0 ] || { echo "build-offline-base: failed (runtime base $runtime_status, build base $build_status)" >&2; exit 1; }
