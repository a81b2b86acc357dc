#!/usr/bin/env bash
# `npm run image`: builds the bundle and the image vigil:<package version> (or $VIGIL_IMAGE) with
# podman (through runc) or docker, whichever runs here ($VIGIL_IMAGE_ENGINE to choose). Where the
# base image is missing it is made first (scripts/base-image.sh: debootstrap + Node from npm, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p "require('./package.json').version")
node_version=$(node -p process.versions.node)
image=${VIGIL_IMAGE:-vigil:$version}
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

engine=${VIGIL_IMAGE_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v podman >/dev/null; then engine=podman
  elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker
  else echo "image: neither podman nor a running docker found (apt-get install podman runc)" >&2; exit 1
  fi
fi
cmd=("$engine")
# Debian's default OCI runtime for podman, crun, fails on hosts with hybrid cgroups; runc works.
if [ "$engine" = podman ] && { command -v runc >/dev/null || [ -x /usr/sbin/runc ]; }; then cmd+=(--runtime "$(command -v runc || echo /usr/sbin/runc)"); fi

npm run --silent build
base="vigil-base:bookworm-node${node_version%%.*}"
if ! "${cmd[@]}" image inspect "$base" >/dev/null 2>&1; then
  echo "image: no $base here; making it"
  bash scripts/base-image.sh "$engine" "$node_version"
fi
"${cmd[@]}" build --quiet --network host --build-arg "NODE_MAJOR=${node_version%%.*}" --build-arg "VIGIL_REVISION=$revision" -t "$image" -f Dockerfile . >/dev/null
size=$("${cmd[@]}" image inspect --format '{{.Size}}' "$image")
echo "image: built $image ($((size / 1024 / 1024)) MiB, revision $revision)"
