#!/usr/bin/env bash
# Node footprint: RSS and CPU of hasys-heartbeat at idle in the netns lab, at a given period.
# Usage (root): bench/footprint/footprint.sh [period=100ms] [seconds=60]
# Brings up its own lab (prefix hfp), samples /proc/<pid>/stat and status, tears the lab down.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
period=${1:-100ms}
seconds=${2:-60}
export HASYS_LAB_PREFIX=hfp
lab="$root/deploy/lab/hasys-lab"
trap '"$lab" down >/dev/null 2>&1 || true' EXIT
"$lab" up --period "$period" --count 3 --priority a >/dev/null
sleep 5   # let both daemons settle into their roles before measuring idle cost
hz=$(getconf CLK_TCK)
declare -A start_ticks pid_of
for node in a b; do
  pid=$(ip netns pids "$HASYS_LAB_PREFIX-$node" | while read -r p; do
          [ "$(cat /proc/$p/comm 2>/dev/null)" = hasys-heartbeat ] && echo "$p"; done | head -1)
  pid_of[$node]=$pid
  start_ticks[$node]=$(awk '{print $14+$15}' "/proc/$pid/stat")
done
sleep "$seconds"   # the measurement window itself
echo "hasys-heartbeat footprint, period $period x 3, ${seconds}s window, $(date -u +%F)"
for node in a b; do
  pid=${pid_of[$node]}
  end=$(awk '{print $14+$15}' "/proc/$pid/stat")
  cpu=$(awk -v d=$((end - start_ticks[$node])) -v hz="$hz" -v s="$seconds" \
        'BEGIN{printf "%.3f", 100*d/hz/s}')
  rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  hwm=$(awk '/VmHWM/{print $2}' "/proc/$pid/status")
  printf 'node %s: RSS %d KiB (peak %d KiB), CPU %s %% of one core\n' "$node" "$rss" "$hwm" "$cpu"
done
