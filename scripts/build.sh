#!/usr/bin/env bash
# Configures and builds hasys into build/ (or $HASYS_BUILD_DIR), and the web manager into <build>/web.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${HASYS_BUILD_DIR:-$root/build}
jobs=${HASYS_JOBS:-$(nproc)}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" -j "$jobs"
# The web manager (issue 12) into $build/web, which the lab's manager serves. npm ci only when
# the lock file changed since the last install.
if command -v npm >/dev/null; then
  (
    cd "$root/web"
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund
    fi
    HASYS_WEB_OUT="$build/web" npm run build
  )
else
  echo "build: npm not found: the web manager is not built (scripts/setup.sh installs it)" >&2
fi
