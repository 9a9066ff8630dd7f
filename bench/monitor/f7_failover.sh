#!/usr/bin/env bash
# F7 end to end in the netns lab (issue 9): the Active's managed application is killed and its
# restart fails (web.nostart) -> the peer is Active with its flow up. Runs alternate between the
# nodes. Prints each run's time and p50/p95/max in ms.
# Usage (root): bench/monitor/f7_failover.sh [runs=20] [period=100ms]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-20}
period=${2:-100ms}
export HASYS_LAB_PREFIX=hmf
lab="$root/deploy/lab/hasys-lab"
trap '"$lab" down >/dev/null 2>&1 || true' EXIT
"$lab" up --period "$period" --count 3 --priority a >/dev/null
dir=$("$lab" status | sed -n 's/^ *dir \([^;]*\);.*/\1/p')
[[ -d $dir ]] || { echo "cannot find the lab folder" >&2; exit 1; }
active=a standby=b
times=()
for ((i = 1; i <= runs; i++)); do
  "$lab" ctl "$active" wait --group lab --role active --flow "done" --healthy yes --peer-healthy yes \
    --timeout 30s >/dev/null
  touch "$dir/$active/web.nostart"
  t0=$(date +%s%3N)
  "$lab" kill "$active" web --signal KILL >/dev/null
  # The taker's status when its flow is up; its time_unix_ms is when it was published.
  line=$("$lab" ctl "$standby" wait --group lab --role active --flow "done" --timeout 30s | grep '^{' | tail -1)
  t1=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["time_unix_ms"])' <<<"$line")
  times+=($((t1 - t0)))
  echo "run $i: $active -> $standby in $((t1 - t0)) ms" >&2
  rm -f "$dir/$active/web.nostart"
  "$lab" start "$active" web >/dev/null
  tmp=$active active=$standby standby=$tmp
done
printf '%s\n' "${times[@]}" | sort -n | awk -v p="$period" '
  { v[NR] = $1 }
  END {
    p50 = v[int((NR + 1) * 0.5)]; p95 = v[int(NR * 0.95 + 0.999)]; if (p95 == "") p95 = v[NR]
    printf "F7 failover (kill -> peer Active, flow up), %s x 3, %d runs: p50 %d ms, p95 %d ms, max %d ms\n", p, NR, p50, p95, v[NR]
  }'
