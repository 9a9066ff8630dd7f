#!/usr/bin/env bash
# Installs every Debian 12 package hasys needs to build, test and run its lab. Idempotent.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-all-dev libboost-json1.81-dev
  libnats-dev nats-server
  libtomlplusplus-dev
  libsqlite3-dev libssl-dev openssl libxlsxwriter-dev python3-openpyxl python3-yaml python3-jsonschema
  libgtest-dev libgmock-dev
  libsystemd-dev systemd
  iproute2 iputils-ping iputils-arping tcpdump procps psmisc util-linux e2fsprogs iptables
  python3 keepalived shellcheck
  chromium fonts-noto-cjk
)
# The web manager (issue 12) is built with Node.js 20+ and npm: the machine's own when it has
# them (Debian 12's nodejs is 18, too old for Vite 7), else Debian's packages.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "setup: missing packages (${missing[*]}) and not root: run as root" >&2; exit 1
  fi
else
  SUDO=
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
