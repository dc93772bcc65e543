# syntax=docker/dockerfile:1
#
# One image for all four maas services and the rollout controller; the container command picks the
# process (k8s/base and k8s/components/rollouts do):
#   node --require /app/services/shared/dist/telemetry-preload.js /app/services/<service>/dist/main.js
# with <service> one of gateway, tokenizer, inference, model-registry, rollout-controller.
#
# CPU image (every service):
#   docker build -t maas:0.1.0 .
# GPU image (the inference service on NVIDIA GPUs: CUDA 12 runtime, cuDNN 9, ONNX Runtime's CUDA provider):
#   docker build -t maas:0.1.0-gpu \
#     --build-arg RUNTIME_BASE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 \
#     --build-arg ONNXRUNTIME_NODE_INSTALL=cuda12 .
# Without a container registry (scripts/image/build-image.sh): the bases are Debian images made with
# mmdebstrap (scripts/image/build-offline-base.sh) and passed as BUILD_BASE, NODE_BASE + NODE_BIN and
# RUNTIME_BASE; `buildah bud --isolation chroot` builds this same file.
# The build stage needs the npm registry and, for the GPU image, the NuGet feed onnxruntime-node downloads
# its CUDA provider libraries from. Behind a TLS-intercepting proxy, pass its CA bundle as the build secret
# `npm-ca` (docker build --secret id=npm-ca,src=<bundle>); it is read by npm ci only and never stored.

# Node major of both stages: native addons (better-sqlite3, onnxruntime-node) are built for its ABI.
ARG NODE_VERSION=20
# The build stage's base: Node, npm, and python3, make and g++ for better-sqlite3's fallback build from
# source when no prebuilt binary matches (the full, non-slim Node image has them).
ARG BUILD_BASE=node:${NODE_VERSION}-bookworm
# Where the runtime's Node.js binary comes from: an image, and the binary's path in it. The official Node
# build needs only glibc and libstdc++, which every runtime base has. A Debian base with Debian's own
# nodejs package is its own NODE_BASE (NODE_BIN=/usr/bin/node: the libnode it links is already there).
ARG NODE_BASE=node:${NODE_VERSION}-bookworm-slim
ARG NODE_BIN=/usr/local/bin/node
# The runtime stage's base, without npm. Debian 12 for the CPU image, the distribution the build stage
# compiles native addons on. For the GPU image an NVIDIA CUDA 12 + cuDNN 9 runtime image: any CUDA 12.x
# works with ONNX Runtime's CUDA 12 build (minor version compatibility), cuDNN must be 9.x; Ubuntu 24.04,
# whose glibc is newer than Debian 12's.
ARG RUNTIME_BASE=debian:bookworm-slim

# ---- build: install, compile, drop dev dependencies -------------------------------------------------
FROM ${BUILD_BASE} AS build
# onnxruntime-node's install script only downloads the CUDA provider libraries (the npm package ships the
# CPU provider): `npm ci` always runs with ONNXRUNTIME_NODE_INSTALL=skip, whatever the npm version and
# configuration, and `cuda12` runs the download on purpose afterwards; `skip` (default) does not.
ARG ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /app

# Manifests first, so the dependency layer is rebuilt only when they change. npm ci needs every
# workspace's package.json, including those the image does not ship (models, cli).
COPY package.json package-lock.json ./
COPY protos/package.json protos/
COPY services/shared/package.json services/shared/
COPY libs/keras-tokenizer/package.json libs/keras-tokenizer/
COPY libs/registry-client/package.json libs/registry-client/
COPY libs/model-evaluation/package.json libs/model-evaluation/
COPY services/model-registry/package.json services/model-registry/
COPY services/tokenizer/package.json services/tokenizer/
COPY services/inference/package.json services/inference/
COPY services/gateway/package.json services/gateway/
COPY services/rollout-controller/package.json services/rollout-controller/
COPY models/package.json models/
COPY cli/package.json cli/
# The npm cache is a build cache mount, never a layer. The optional `npm-ca` secret: for npm (cafile) and
# for install scripts that download with Node's own https (NODE_EXTRA_CA_CERTS).
RUN --mount=type=cache,target=/root/.npm \
    --mount=type=secret,id=npm-ca \
    if [ -s /run/secrets/npm-ca ]; then export npm_config_cafile=/run/secrets/npm-ca NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi; \
    ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund \
 && if [ "${ONNXRUNTIME_NODE_INSTALL}" != skip ]; then \
      ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL}" node node_modules/onnxruntime-node/script/install.js; \
    fi

COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Assemble only what runs: the pruned node_modules, and of each runtime workspace its package.json and
# compiled dist/ (plus the .proto files, which @maas/protos loads at start). Sources, tests, the model
# training workspace and the CLI stay behind, so links to them (node_modules/@maas/models, .bin/maasctl)
# would dangle and are removed. onnxruntime-node bundles every platform's binaries: only this one's are
# kept (a cross-build runs this stage emulated, so Node's arch is the target's). Of better-sqlite3's build
# (from source, where no prebuilt binary matches) only the addon is kept: not its objects, static library
# and C sources (25 MB). TypeScript (our
# declarations, some dependencies' sources) and declaration maps are for compilers, not for Node; the
# dependencies' source maps point at TypeScript sources that are not shipped (the Kubernetes client's alone
# are 7 MB), so only our own workspaces' maps stay, for --enable-source-maps. npm
# keeps the owners and modes of some packages' tarballs (foreign uids, group-writable files): root owns
# every file, and nobody else may write one, so that the service user cannot change code.
RUN set -eux; \
    mkdir -p /out; \
    cp -a package.json node_modules /out/; \
    for ws in protos services/shared libs/keras-tokenizer libs/registry-client libs/model-evaluation services/model-registry services/tokenizer services/inference services/gateway services/rollout-controller; do \
      mkdir -p "/out/$ws"; \
      cp -a "$ws/package.json" "$ws/dist" "/out/$ws/"; \
      if [ -d "$ws/node_modules" ]; then cp -a "$ws/node_modules" "/out/$ws/"; fi; \
    done; \
    cp -a protos/inference protos/maas /out/protos/; \
    find /out/protos/inference /out/protos/maas -type f ! -name '*.proto' -delete; \
    find /out/node_modules -xtype l -delete; \
    arch="$(node -p process.arch)"; \
    for dir in /out/node_modules/onnxruntime-node/bin/napi-v*/*/*; do \
      case "$dir" in */linux/"$arch") ;; *) rm -rf "$dir" ;; esac; \
    done; \
    test -e /out/node_modules/onnxruntime-node/bin/napi-v*/linux/"$arch"/onnxruntime_binding.node; \
    sqlite=/out/node_modules/better-sqlite3; \
    mv "$sqlite/build/Release/better_sqlite3.node" /tmp/; \
    rm -rf "$sqlite/build" "$sqlite/deps" "$sqlite/src"; \
    mkdir -p "$sqlite/build/Release"; \
    mv /tmp/better_sqlite3.node "$sqlite/build/Release/"; \
    find /out -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.d.ts.map' -o -name '*.tsbuildinfo' \) -delete; \
    find /out/node_modules -type f -name '*.map' -delete; \
    chown -R 0:0 /out; \
    chmod -R go-w /out

# ---- node: where the runtime's Node.js binary comes from -------------------------------------------
FROM ${NODE_BASE} AS node

# ---- runtime ------------------------------------------------------------------------------------------
FROM ${RUNTIME_BASE} AS runtime
ARG NODE_BIN
COPY --from=node ${NODE_BIN} /usr/local/bin/node
RUN groupadd --system --gid 10001 maas \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin maas

WORKDIR /app
# Owned by root and not writable by the service user: the code is immutable at run time. Everything a
# service writes goes to mounted volumes (REGISTRY_DATA_DIR, MODEL_CACHE_DIR, /tmp).
COPY --from=build /out/ /app/
# A CUDA base without ONNX Runtime's CUDA provider would quietly run everything on the CPU: refuse to build.
RUN if [ -e /usr/local/cuda ] && [ ! -e /app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so ]; then \
      echo "a CUDA runtime base needs --build-arg ONNXRUNTIME_NODE_INSTALL=cuda12" >&2; exit 1; \
    fi; \
    node --version

# Source maps: TypeScript line numbers in the stack traces of logged internal errors. A 64 MB young
# generation: with V8's default 16 MB, scavenges took up to half of the tokenizer's and inference's CPU
# under load (see bench/README.md).
ENV NODE_ENV=production \
    NODE_OPTIONS="--enable-source-maps --max-semi-space-size=64"
# Numeric, so that Kubernetes can verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001
EXPOSE 50051 50052 50053 50054 50055 9464 9465 9466 9467 9468
CMD ["node", "--require", "/app/services/shared/dist/telemetry-preload.js", "/app/services/gateway/dist/main.js"]
