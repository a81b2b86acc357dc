#!/usr/bin/env bash
# Makes the base image the Dockerfile builds on, locally, for machines that reach no image
# registry: a distroless-style root with nothing but what Node runs on, laid out as the distroless
# Node images are (node at /nodejs/bin/node), so the same Dockerfile builds on either.
#   - /nodejs/bin/node: Node from the npm package node-linux-<x64|arm64> (the version the project
#     runs on, as `npm run` puts it first on the PATH), its symbol table stripped;
#   - the C and C++ runtime it links (libc6, libstdc++6, libgcc-s1) and Mozilla's CA certificates,
#     from Debian bookworm's current packages for that architecture (apt-get download, with apt's
#     state kept in a scratch directory: the host's own packages and architectures are untouched),
#     recorded in /var/lib/dpkg/status.d/ as distroless does, so image scanners see their versions;
#   - /etc/passwd and /etc/group (root, nonroot 65532, vigil 10924), /etc/nsswitch.conf, /tmp.
# No shell, no package manager, no coreutils. Tagged vigil-base:node<version>-<arch>. Its layer is
# reproducible: the same packages and Node give the same digest.
#   bash scripts/base-image.sh <podman|docker> <amd64|arm64> [node version]
# Needs apt-get (Debian or Ubuntu), Debian's mirror, the npm registry, and binutils for <arch>.
set -euo pipefail
engine=${1:?usage: base-image.sh <podman|docker> <amd64|arm64> [node version]}
arch=${2:?usage: base-image.sh <podman|docker> <amd64|arm64> [node version]}
node_version=${3:-$(node -p process.versions.node)}
tag="vigil-base:node${node_version}-${arch}"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
suite=bookworm

case "$arch" in
  amd64) npm_arch=x64 triplet=x86_64-linux-gnu loader=lib64/ld-linux-x86-64.so.2 ;;
  arm64) npm_arch=arm64 triplet=aarch64-linux-gnu loader=lib/ld-linux-aarch64.so.1 ;;
  *) echo "base-image.sh: architecture '$arch' is not one the image is made for (amd64, arm64)" >&2; exit 1 ;;
esac
for tool in apt-get dpkg-deb readelf; do
  command -v "$tool" >/dev/null || { echo "base-image.sh: $tool is not installed (Debian: apt-get install apt dpkg binutils)" >&2; exit 1; }
done
# binutils for that architecture (binutils-x86-64-linux-gnu, binutils-aarch64-linux-gnu) or LLVM's.
strip=$(command -v "$triplet-strip" || command -v llvm-strip || true)

work=$(mktemp -d /var/tmp/vigil-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root" "$work/debs" "$work/apt/lists/partial" "$work/apt/archives/partial" "$work/apt/sources"
touch "$work/apt/status"

echo "base-image: Debian $suite packages for $arch"
cat >"$work/apt/sources/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt=(apt-get -qq -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::State::status=$work/apt/status" -o "Dir::Cache=$work/apt"
  -o "Dir::Cache::archives=$work/apt/archives" -o Dir::Etc::sourcelist=/dev/null -o "Dir::Etc::sourceparts=$work/apt/sources"
  -o Dir::Etc::preferencesparts=/dev/null -o "APT::Sandbox::User=$(id -un)" -o Debug::NoLocking=1)
"${apt[@]}" update || { echo "base-image.sh: apt-get update from $mirror failed" >&2; exit 1; }
packages=(libc6 libgcc-s1 libstdc++6 ca-certificates)
(cd "$work/debs" && "${apt[@]}" download "${packages[@]}") || { echo "base-image.sh: could not download ${packages[*]} for $arch" >&2; exit 1; }

echo "base-image: node $node_version from the npm package node-linux-$npm_arch"
(cd "$work" && npm pack --silent "node-linux-$npm_arch@$node_version" >/dev/null)
tar -xzf "$work"/node-linux-"$npm_arch"-*.tgz -C "$work" package/bin/node
mkdir -p "$root/nodejs/bin"
install -m 0755 "$work/package/bin/node" "$root/nodejs/bin/node"
# The symbol table only serves debuggers; the dynamic symbols native addons link against stay.
if [ -n "$strip" ]; then "$strip" --strip-all "$root/nodejs/bin/node"; else echo "base-image: no $triplet-strip (apt-get install binutils-${triplet//_/-}) or llvm-strip: node left unstripped (18 MB more)"; fi

# Only the shared objects node needs (its DT_NEEDED entries, and theirs), from the packages.
unpacked="$work/unpacked"
mkdir -p "$unpacked" "$root/var/lib/dpkg/status.d" "$root/usr/share/doc"
for deb in "$work"/debs/*.deb; do
  name=$(dpkg-deb -f "$deb" Package)
  dpkg-deb -x "$deb" "$unpacked"
  dpkg-deb -f "$deb" Package Version Architecture Source Maintainer Homepage Description >"$root/var/lib/dpkg/status.d/$name"
  # Copyright files travel with the binaries taken from each package (libgcc-s1's and libstdc++6's
  # are in gcc-12-base, which their doc directories point to).
  doc="$unpacked/usr/share/doc/$name"
  if [ -L "$doc" ] && [ ! -e "$doc/copyright" ]; then
    owner=$(basename "$(readlink "$doc")")
    (cd "$work/debs" && "${apt[@]}" download "$owner" && dpkg-deb -x "$owner"_*.deb "$unpacked" && rm "$owner"_*.deb)
  fi
  mkdir -p "$root/usr/share/doc/$name" && cp "$doc/copyright" "$root/usr/share/doc/$name/"
done
libdir="lib/$triplet"
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
queue=("$root/nodejs/bin/node")
declare -A have=()
while [ ${#queue[@]} -gt 0 ]; do
  file=${queue[0]}; queue=("${queue[@]:1}")
  for lib in $(needed "$file"); do
    [ -n "${have[$lib]:-}" ] && continue
    have[$lib]=1
    case "$lib" in ld-linux-*) continue ;; esac
    src=$(find "$unpacked/lib/$triplet" "$unpacked/usr/lib/$triplet" -maxdepth 1 -name "$lib" 2>/dev/null | head -n 1)
    [ -n "$src" ] || { echo "base-image.sh: $lib, which node needs, is in none of ${packages[*]}" >&2; exit 1; }
    mkdir -p "$root/$libdir"
    cp -L "$src" "$root/$libdir/$lib"
    queue+=("$root/$libdir/$lib")
  done
done
mkdir -p "$root/$(dirname "$loader")"
cp -L "$unpacked/$libdir/$(basename "$loader")" "$root/$loader" 2>/dev/null || cp -L "$unpacked/usr/$libdir/$(basename "$loader")" "$root/$loader"

# The CA bundle as update-ca-certificates writes it: Mozilla's certificates, concatenated.
mkdir -p "$root/etc/ssl/certs"
find "$unpacked/usr/share/ca-certificates/mozilla" -name '*.crt' | LC_ALL=C sort | xargs cat >"$root/etc/ssl/certs/ca-certificates.crt"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
vigil:x:10924:10924:vigil:/var/lib/vigil:/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nonroot:x:65532:
vigil:x:10924:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
mkdir -p "$root/tmp" "$root/root" "$root/home/nonroot" "$root/var/lib/vigil"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"

# The node binary must start in that root: for another architecture, where qemu-user-static can run it.
if [ "$arch" = "$(dpkg --print-architecture 2>/dev/null)" ]; then
  "$root/$loader" --library-path "$root/$libdir" "$root/nodejs/bin/node" --version >/dev/null
elif command -v qemu-aarch64-static >/dev/null && [ "$arch" = arm64 ]; then
  qemu-aarch64-static -L "$root" "$root/nodejs/bin/node" --version >/dev/null
fi

# One layer, owned by root but for the agent's own directory; fixed times and order, so the same
# inputs make the same layer.
layer="$work/layer.tar"
tar_opts=(--sort=name --mtime=@0 --numeric-owner --format=gnu)
tar -C "$root" "${tar_opts[@]}" --owner=0 --group=0 --exclude=./var/lib/vigil -cf "$layer" .
tar -C "$root" "${tar_opts[@]}" --owner=10924 --group=10924 -rf "$layer" ./var/lib/vigil
changes=(--change 'ENV PATH=/usr/local/bin:/nodejs/bin:/usr/bin:/bin' --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'
  --change 'USER 65532:65532' --change 'ENTRYPOINT ["/nodejs/bin/node"]')
if [ "$engine" = docker ]; then
  docker import --platform "linux/$arch" "${changes[@]}" "$layer" "$tag" >/dev/null
else
  "$engine" import --quiet --os linux --arch "$arch" "${changes[@]}" "$layer" "$tag" >/dev/null
fi
versions=$(for p in "${packages[@]}"; do echo "$p $(sed -n 's/^Version: //p' "$root/var/lib/dpkg/status.d/$p")"; done | paste -sd, | sed 's/,/, /g')
echo "base-image: made $tag ($(du -sm "$root" | cut -f1) MB; node $node_version, $versions)"
