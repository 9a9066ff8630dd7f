#!/usr/bin/env bash
# The README's "bring up the product" command: installs what is missing, builds, and runs the
# netns lab tool (deploy/lab/hasys-lab) with the given arguments (default: up).
# Examples: scripts/lab.sh up   scripts/lab.sh status   scripts/lab.sh down
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- up
case $1 in
  up)
    "$root/scripts/setup.sh"
    "$root/scripts/build.sh"
    ;;
esac
export HASYS_BUILD_DIR=${HASYS_BUILD_DIR:-$root/build}
exec "$root/deploy/lab/hasys-lab" "$@"
