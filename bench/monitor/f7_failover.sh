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
trap '[[ -n ${KEEP_LAB:-} ]] || "$lab" down >/dev/null 2>&1 || true' EXIT
"$lab" up --period "$period" --count 3 --priority a >/dev/null
dir=$("$lab" status | sed -n 's/^ *dir \([^;]*\);.*/\1/p')
[[ -d $dir ]] || { echo "cannot find the lab folder" >&2; exit 1; }
active=a standby=b
times=()
for ((i = 1; i <= runs; i++)); do
  "$lab" ctl "$active" wait --group lab --role active --flow "done" --healthy yes --peer-healthy yes \
    --timeout 30s >/dev/null
  touch "$dir/$active/web.nostart"
  pid=$("$lab" pid "$active" web)  # looked up first: the lab tool's own start-up is not timed
  t0=$(date +%s%3N)
  kill -KILL "$pid"
  "$lab" ctl "$standby" wait --group lab --role active --flow "done" --timeout 30s >/dev/null
  # When the taker said "This node is Active" (its flow is up): the heartbeat log's own stamp. (The
  # status hasysctl wait prints is stamped when it was asked for, which may be later.)
  line=$(grep 'event lab information active: This node is Active' "$dir/$standby/heartbeat.log" | tail -1)
  t1=$(python3 -c 'import datetime,sys; t=sys.stdin.read().split()[0]; print(int(datetime.datetime.fromisoformat(t.replace("Z","+00:00")).timestamp()*1000))' <<<"$line")
  times+=($((t1 - t0)))
  echo "run $i: $active -> $standby in $((t1 - t0)) ms" >&2
  rm -f "$dir/$active/web.nostart"
  "$lab" start "$active" web >/dev/null
  # A node that has just let go of the virtual IP has no fresh background duplicate-address check
  # (every 5 s while not holding it): taking it back at once costs a 60 ms probe. A Standby in
  # steady state has one; wait for it, as for a Standby that has been one for a while.
  sleep 6
  tmp=$active active=$standby standby=$tmp
done
printf '%s\n' "${times[@]}" | sort -n | awk -v p="$period" '
  { v[NR] = $1 }
  END {
    p50 = v[int((NR + 1) * 0.5)]; p95 = v[int(NR * 0.95 + 0.999)]; if (p95 == "") p95 = v[NR]
    printf "F7 failover (kill -> peer Active, flow up), %s x 3, %d runs: p50 %d ms, p95 %d ms, max %d ms\n", p, NR, p50, p95, v[NR]
  }'
