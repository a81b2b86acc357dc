#!/usr/bin/env bash
# Runs every check and test on a fresh machine: installs the Debian packages the tests start
# (when run as root), the npm dependencies, then lint, type check and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

# command the tests run -> the Debian package that provides it
declare -A NEEDED=(
  [etcd]=etcd-server [etcdctl]=etcd-client [prometheus]=prometheus [promtool]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager [chromium]=chromium [nft]=nftables
  [iptables]=iptables [ip]=iproute2 [openssl]=openssl [strace]=strace [kubectl]=kubernetes-client
  [podman]=podman [runc]=runc [debootstrap]=debootstrap [faketime]=faketime
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

npm ci --no-audit --no-fund
npm run --silent lint
npm run --silent typecheck
node scripts/run-tests.mjs "$@"
