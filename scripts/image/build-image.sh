#!/usr/bin/env bash
# Builds the maas image from the repository's Dockerfile with buildah (no Docker engine needed), tags it
# localhost/maas:<version>, and writes next to it, in .maas/image/:
#   maas-<version>.cdx.json          CycloneDX SBOM of the npm packages in the image (@cyclonedx/cyclonedx-npm)
#   maas-<version>-licences.tsv      the runtime npm dependencies: name, version, licence (from the SBOM)
#   maas-<version>-debian.tsv        the base's Debian packages: name, version (licences: /usr/share/doc/*/copyright)
#   maas-<version>-image.txt         image id, size and the build's wall time
#
# Usage: scripts/image/build-image.sh [--public-bases] [--gpu]
#   default         bases made from Debian's archive (scripts/image/build-offline-base.sh): no registry needed
#   --public-bases  the Dockerfile's own bases (node:20-bookworm, debian:bookworm-slim) from a registry
#   --gpu           the GPU variant (ONNXRUNTIME_NODE_INSTALL=cuda12, tag <version>-gpu); its CUDA provider
#                   download needs the NuGet feed (api.nuget.org), so it stops there on machines without it
# Needs root, buildah and podman (and mmdebstrap for the offline bases). MAAS_IMAGE overrides the tag.
set -euo pipefail
cd "$(dirname "$0")/../.."

public_bases=false
gpu=false
for arg in "$@"; do
  case "$arg" in
    --public-bases) public_bases=true ;;
    --gpu) gpu=true ;;
    *) echo "usage: $0 [--public-bases] [--gpu]" >&2; exit 2 ;;
  esac
done

for tool in buildah podman; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing (apt-get install buildah podman mmdebstrap)" >&2; exit 1; }
done

version=$(node -p "require('./package.json').version")
suffix=$($gpu && echo -gpu || true)
image=${MAAS_IMAGE:-localhost/maas:$version$suffix}
out=.maas/image
mkdir -p "$out"
started=$(date +%s)

args=(--isolation chroot --layers --tag "$image")
if ! $public_bases; then
  scripts/image/build-offline-base.sh
  suite=${DEBIAN_SUITE:-trixie}
  args+=(
    --build-arg "BUILD_BASE=localhost/maas-offline-build-base:$suite"
    --build-arg "NODE_BASE=localhost/maas-offline-runtime-base:$suite"
    --build-arg NODE_BIN=/usr/bin/node
    --build-arg "RUNTIME_BASE=localhost/maas-offline-runtime-base:$suite"
  )
fi
$gpu && args+=(--build-arg ONNXRUNTIME_NODE_INSTALL=cuda12)
# The CA bundle this machine's npm trusts (a TLS-intercepting proxy's CA among them) is what the build's
# npm ci must trust too: passed as a build secret, never stored in a layer.
cafile=$(npm config get cafile 2>/dev/null || true)
if [ -n "$cafile" ] && [ "$cafile" != null ] && [ -s "$cafile" ]; then args+=(--secret "id=npm-ca,src=$cafile"); fi

echo "build-image: buildah bud ${args[*]} ."
before=$(buildah containers --quiet --notruncate | sort)
status=0
buildah bud "${args[@]}" . || status=$?
# buildah 1.28 leaves a working container behind for a stage that only serves COPY --from (the node stage).
comm -13 <(echo "$before") <(buildah containers --quiet --notruncate | sort) | xargs --no-run-if-empty buildah rm >/dev/null
[ "$status" -eq 0 ] || { echo "build-image: buildah bud failed ($status)" >&2; exit "$status"; }
built=$(date +%s)

# SBOM and licences from the image's own /app (its node_modules, its hidden lockfile), in a throwaway
# working container. npm ls reports the workspaces the image leaves out (models, cli) as missing: expected.
sbom="$out/maas-$version$suffix.cdx.json"
container=$(buildah from --pull-never --quiet "$image")
trap 'buildah rm "$container" >/dev/null' EXIT
app="$(buildah mount "$container")/app"
(cd "$app" && npm exec --yes --package=@cyclonedx/cyclonedx-npm@6.0.1 -- \
  cyclonedx-npm --omit dev --ignore-npm-errors --flatten-components --output-reproducible \
  --output-format JSON --output-file -) 2>/dev/null >"$sbom"
node scripts/image/licence-list.mjs "$sbom" >"$out/maas-$version$suffix-licences.tsv"
root=$(dirname "$app")
dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Package}\t${Version}\n' | sort >"$out/maas-$version$suffix-debian.tsv"

size=$(podman image inspect --format '{{.Size}}' "$image")
id=$(podman image inspect --format '{{.Id}}' "$image")
{
  echo "image $image"
  echo "id sha256:$id"
  echo "size $size bytes ($((size / 1000000)) MB)"
  echo "build $((built - started))s, sbom and licences $(($(date +%s) - built))s"
  echo "npm packages $(($(wc -l <"$out/maas-$version$suffix-licences.tsv") - 1)), Debian packages $(wc -l <"$out/maas-$version$suffix-debian.tsv")"
} | tee "$out/maas-$version$suffix-image.txt"
