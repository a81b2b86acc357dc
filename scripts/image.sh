#!/usr/bin/env bash
# `npm run image`: builds the bundle and the image for amd64 and arm64 with podman (through runc)
# or docker, whichever runs here ($VIGIL_IMAGE_ENGINE to choose), on the distroless-style base that
# scripts/base-image.sh makes locally (made first where missing; $VIGIL_IMAGE_BASE_REFRESH=1 makes
# it again, to take Debian's newest security updates). Pushes nothing.
#   vigil:<version>-amd64, vigil:<version>-arm64   one image per architecture
#   vigil:<version>                                this machine's architecture, to run here
# $VIGIL_IMAGE names the image instead of vigil:<version>; $VIGIL_IMAGE_ARCHES picks architectures
# (default "amd64 arm64"); `npm run image -- --manifest <name>` also writes a manifest list of both
# (podman), for `podman manifest push --all <name> docker://<registry>/vigil:<version>`.
set -euo pipefail
cd "$(dirname "$0")/.."
manifest=
while [ $# -gt 0 ]; do
  case "$1" in
    --manifest) manifest=${2:?--manifest needs a name}; shift 2 ;;
    *) echo "image: unknown argument '$1' (usage: npm run image [-- --manifest <name>])" >&2; exit 2 ;;
  esac
done
version=$(node -p "require('./package.json').version")
node_version=$(node -p process.versions.node)
image=${VIGIL_IMAGE:-vigil:$version}
arches=${VIGIL_IMAGE_ARCHES:-amd64 arm64}
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
host_arch=$(dpkg --print-architecture 2>/dev/null || { case "$(uname -m)" in x86_64) echo amd64 ;; aarch64) echo arm64 ;; *) uname -m ;; esac; })

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
if [ -n "$manifest" ] && [ "$engine" != podman ]; then
  echo "image: --manifest needs podman; with docker, build and push both at once: docker buildx build --platform linux/amd64,linux/arm64 --push ." >&2
  exit 2
fi

npm run --silent build
for arch in $arches; do
  base="vigil-base:node${node_version}-${arch}"
  if [ -n "${VIGIL_IMAGE_BASE_REFRESH:-}" ] || ! "${cmd[@]}" image inspect "$base" >/dev/null 2>&1; then
    bash scripts/base-image.sh "$engine" "$arch" "$node_version"
  fi
  # The Dockerfile only copies files (no RUN): building for another architecture needs no emulator.
  # --no-cache: podman 4.3 reuses a cached layer whose instruction reads a build argument even when
  # the argument changed (an image of the last revision labelled with its revision); copying
  # dist/ again costs a second.
  # podman names local images localhost/…; docker would read that as a registry's host name.
  from=$base; [ "$engine" = podman ] && from=localhost/$base
  "${cmd[@]}" build --quiet --no-cache --platform "linux/$arch" --build-arg "BASE=$from" --build-arg "VIGIL_REVISION=$revision" \
    -t "$image-$arch" -f Dockerfile . >/dev/null
  [ "$arch" = "$host_arch" ] && "${cmd[@]}" tag "$image-$arch" "$image"
  size=$("${cmd[@]}" image inspect --format '{{.Size}}' "$image-$arch")
  echo "image: built $image-$arch ($((size / 1000 / 1000)) MB, revision $revision)"
done
if [ -n "$manifest" ]; then
  "${cmd[@]}" manifest rm "$manifest" >/dev/null 2>&1 || true
  "${cmd[@]}" manifest create "$manifest" >/dev/null
  for arch in $arches; do "${cmd[@]}" manifest add "$manifest" "containers-storage:localhost/$image-$arch" >/dev/null; done
  echo "image: manifest list $manifest ($arches); push it with: podman manifest push --all $manifest docker://<registry>/vigil:$version"
fi
