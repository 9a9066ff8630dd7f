#!/usr/bin/env bash
# Soak: a pair at a fast setting for a bounded time, idle and/or with both cores busy, optionally
# with loss and jitter on one network; counts spurious transitions (any role change, peer loss,
# both-Active or fence; for keepalived any VRRP state change) on either node. hasys and keepalived
# one after the other on the same topology, in the same run.
# Usage (root): bench/soak/soak.sh [--minutes 10] [--period 20ms] [--count 5]
#               [--netem "delay 50ms 50ms loss 20%" | --netem none] [--net hb]
#               [--impl hasys|keepalived|both] [--load idle|busy|both]
# Prints a summary per run and a markdown table; writes them to bench/soak/results/<UTC time>.txt
# (git-ignored). Exit 1 when hasys had any spurious transition.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
minutes=10 period=20ms count=5 netem="delay 50ms 50ms loss 20%" net=hb impls=hasys loads=busy
while (($#)); do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --period) period=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --netem) netem=$2; shift 2 ;;
    --net) net=$2; shift 2 ;;
    --impl) impls=$2; shift 2 ;;
    --load) loads=$2; shift 2 ;;
    *) echo "soak: unknown option $1" >&2; exit 2 ;;
  esac
done
((minutes >= 1 && minutes <= 60)) || { echo "soak: --minutes must be 1..60" >&2; exit 2; }
case $impls in both) impls="hasys keepalived" ;; hasys | keepalived) ;; *) echo "soak: --impl hasys|keepalived|both" >&2; exit 2 ;; esac
case $loads in both) loads="idle busy" ;; idle | busy) ;; *) echo "soak: --load idle|busy|both" >&2; exit 2 ;; esac
[[ $netem == none ]] && netem=""
export HASYS_LAB_PREFIX=hsk
export HASYS_BUILD_DIR=${HASYS_BUILD_DIR:-$root/build}
lab="$root/deploy/lab/hasys-lab"
ctl="$HASYS_BUILD_DIR/tools/hasysctl/hasysctl"
out="$root/bench/soak/results"
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
report="$out/$stamp.txt"
work=$(mktemp -d)
cleanup() { "$lab" down --keep-logs >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
seconds=$((minutes * 60))
rows=()
hasys_spurious=0

count_codes() {  # file codes...
  local f=$1; shift
  local pattern
  pattern=$(printf '"code":"%s"|' "$@")
  grep -cE "${pattern%|}" "$f" || true
}
role_codes=(activating deactivating peer_lost both_active resources_released resources_releasing fenced failed)

soak_one() {  # impl load
  local impl=$1 load=$2 labdir n a_changes b_changes extra=() since
  [[ $impl == keepalived ]] && extra=(--keepalived)
  "$lab" down >/dev/null 2>&1 || true
  "$lab" up --period "$period" --count "$count" "${extra[@]}" >/dev/null
  labdir=$("$lab" dir)
  if [[ $impl == hasys ]]; then
    for n in a b; do
      timeout 30 ip netns exec "hsk-$n" "$ctl" --config "$labdir/$n/node.toml" wait --group lab \
        --peer-alive yes --timeout 20s >/dev/null
    done
  else
    sleep 3  # keepalived settles within a few advertisement intervals; its events say when
  fi
  echo "soak: $impl, $load, $minutes min, period $period x $count, netem '${netem:-none}' on $net" >&2
  if [[ $impl == hasys ]]; then
    for n in a b; do
      ip netns exec "hsk-$n" "$ctl" --config "$labdir/$n/node.toml" events --follow --json \
        --for "$((seconds + 5))s" >"$work/$impl-$load-$n.events" 2>/dev/null &
    done
    sleep 1  # the event followers subscribe (they announce it on stderr; nothing happens meanwhile)
  fi
  since=$(($(date +%s%N) / 1000000))
  if [[ -n $netem ]]; then
    # shellcheck disable=SC2086
    "$lab" netem a "$net" $netem >/dev/null
    # shellcheck disable=SC2086
    "$lab" netem b "$net" $netem >/dev/null
  fi
  if [[ $load == busy ]]; then
    "$lab" cpuhog a on --seconds "$seconds" >/dev/null
    "$lab" cpuhog b on --seconds "$seconds" >/dev/null
  fi
  sleep "$seconds"  # the soak itself: a fixed observation window
  if [[ $impl == hasys ]]; then
    local status_a status_b
    status_a=$("$lab" ctl a status --json)
    status_b=$("$lab" ctl b status --json)
    wait
    mkdir -p "$out/$stamp"
    cp "$work/$impl-$load-a.events" "$work/$impl-$load-b.events" "$out/$stamp/"
    for n in a b; do cp "$labdir/$n/heartbeat.log" "$out/$stamp/$impl-$load-$n-heartbeat.log"; cp "$labdir/$n/executor.log" "$out/$stamp/$impl-$load-$n-executor.log"; done
    a_changes=$(count_codes "$work/$impl-$load-a.events" "${role_codes[@]}")
    b_changes=$(count_codes "$work/$impl-$load-b.events" "${role_codes[@]}")
    hasys_spurious=$((hasys_spurious + a_changes + b_changes))
    {
      echo "hasys, $load: node a $a_changes, node b $b_changes spurious transitions; link_down events a" \
        "$(count_codes "$work/$impl-$load-a.events" link_down), b $(count_codes "$work/$impl-$load-b.events" link_down);" \
        "self_stall events a $(count_codes "$work/$impl-$load-a.events" self_stall), b $(count_codes "$work/$impl-$load-b.events" self_stall)"
      python3 - "$status_a" "$status_b" <<'PY'
import json, sys
for name, text in zip("ab", sys.argv[1:3]):
    s = json.loads(text)
    j = s.get("jitter", {})
    def f(h):
        if not h or not h.get("count"): return "none"
        return f"max {h['max_us']/1000:.1f} ms over {h['count']}"
    print(f"  node {name}: role {s['role']} epoch {s['epoch']}; send late {f(j.get('send_late'))};"
          f" gaps hb {f(j.get('heartbeat_gap'))}, pub {f(j.get('public_gap'))}; stalls {j.get('stalls', 0)}"
          f" (longest {j.get('longest_stall_us', 0)/1000:.1f} ms)")
PY
    } | tee -a "$report"
  else
    # keepalived: every state line its notify FIFO wrote during the window is a transition.
    a_changes=$(awk -v s="$since" '$1 >= s' "$labdir/a/keepalived.events" 2>/dev/null | wc -l)
    b_changes=$(awk -v s="$since" '$1 >= s' "$labdir/b/keepalived.events" 2>/dev/null | wc -l)
    echo "keepalived, $load: node a $a_changes, node b $b_changes state changes" | tee -a "$report"
  fi
  rows+=("| $impl | $load | $minutes min | $a_changes | $b_changes |")
}

{
  echo "soak $stamp: period $period x $count, $minutes min per run, netem '${netem:-none}' on $net,"
  echo "  $(nproc) cores, kernel $(uname -r); busy = one busy loop per node (both cores)"
} | tee "$report"
for impl in $impls; do
  for load in $loads; do soak_one "$impl" "$load"; done
done
{
  echo
  echo "| implementation | load | window | spurious transitions, node a | node b |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee -a "$report"
echo "hasys spurious transitions in all: $hasys_spurious" | tee -a "$report"
[[ $hasys_spurious -eq 0 ]]
