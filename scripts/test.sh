#!/usr/bin/env bash
# The one test command: installs what is missing, builds, and runs every CTest test
# (unit, sim, integration, deploy, and the netns lab, which skips visibly without root).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build=${HASYS_BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure --timeout 900 -j "${HASYS_TEST_JOBS:-2}" "$@"
