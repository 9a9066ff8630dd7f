#!/usr/bin/env bash
# Soak: a pair at a fast setting, both cores saturated, loss and jitter on one network, for a
# bounded time; counts false failovers (any role change, peer loss or both-Active) on either node.
# Usage (root): bench/soak/soak.sh [--minutes 10] [--period 20ms] [--count 5]
#               [--netem "delay 50ms 50ms loss 20%"] [--net hb]
# Prints a summary and writes it to bench/soak/results/<UTC time>.txt (git-ignored).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
minutes=10 period=20ms count=5 netem="delay 50ms 50ms loss 20%" net=hb
while (($#)); do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --period) period=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --netem) netem=$2; shift 2 ;;
    --net) net=$2; shift 2 ;;
    *) echo "soak: unknown option $1" >&2; exit 2 ;;
  esac
done
((minutes >= 1 && minutes <= 60)) || { echo "soak: --minutes must be 1..60" >&2; exit 2; }
export HASYS_LAB_PREFIX=hsk
export HASYS_BUILD_DIR=${HASYS_BUILD_DIR:-$root/build}
lab="$root/deploy/lab/hasys-lab"
ctl="$HASYS_BUILD_DIR/tools/hasysctl/hasysctl"
out="$root/bench/soak/results"
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
work=$(mktemp -d)
cleanup() { "$lab" down >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

seconds=$((minutes * 60))
"$lab" up --period "$period" --count "$count" >/dev/null
labdir=$("$lab" dir)
for n in a b; do
  timeout 30 ip netns exec "hsk-$n" "$ctl" --config "$labdir/$n/node.toml" wait --group lab \
    --peer-alive yes --timeout 20s >/dev/null
done
echo "soak: pair settled; $minutes min, period $period x $count, netem '$netem' on $net, both cores busy" >&2
for n in a b; do
  ip netns exec "hsk-$n" "$ctl" --config "$labdir/$n/node.toml" events --follow --json \
    --for "$((seconds + 5))s" >"$work/$n.events" 2>/dev/null &
done
sleep 1  # the event followers subscribe (they announce it on stderr; nothing happens meanwhile)
# shellcheck disable=SC2086
"$lab" netem a "$net" $netem >/dev/null
# shellcheck disable=SC2086
"$lab" netem b "$net" $netem >/dev/null
"$lab" cpuhog a on --seconds "$seconds" >/dev/null
"$lab" cpuhog b on --seconds "$seconds" >/dev/null
start_status_a=$("$lab" ctl a status --json)
sleep "$seconds"  # the soak itself: a fixed observation window
end_status_a=$("$lab" ctl a status --json)
end_status_b=$("$lab" ctl b status --json)
wait

count_codes() {  # file codes...
  local f=$1; shift
  local pattern
  pattern=$(printf '"code":"%s"|' "$@")
  grep -cE "${pattern%|}" "$f" || true
}
role_codes=(activating deactivating peer_lost both_active resources_released fenced failed)
{
  echo "soak $stamp: $minutes min, period $period x $count, netem '$netem' on both nodes' $net network,"
  echo "  2 busy loops (both cores), $(nproc) cores, kernel $(uname -r)"
  for n in a b; do
    echo "  node $n: role changes / peer losses / fences: $(count_codes "$work/$n.events" "${role_codes[@]}");" \
         "link down events: $(count_codes "$work/$n.events" link_down); events in all: $(wc -l <"$work/$n.events")"
  done
  python3 - "$start_status_a" "$end_status_a" "$end_status_b" <<'PY'
import json, sys
s0, a, b = (json.loads(x) for x in sys.argv[1:4])
print(f"  epochs: a {s0['epoch']} -> {a['epoch']}, b -> {b['epoch']}; roles at the end: a {a['role']}, b {b['role']}")
for name, s in (("a", a), ("b", b)):
    l = s["links"]
    print(f"  node {name}: heartbeat link received {l['heartbeat']['received']}, public {l['public']['received']},"
          f" dropped {s['dropped'] or 'none'}")
PY
} | tee "$out/$stamp.txt"
false_failovers=$(( $(count_codes "$work/a.events" "${role_codes[@]}") + $(count_codes "$work/b.events" "${role_codes[@]}") ))
echo "false failovers: $false_failovers" | tee -a "$out/$stamp.txt"
[[ $false_failovers -eq 0 ]]
