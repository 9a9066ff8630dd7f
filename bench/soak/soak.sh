#!/usr/bin/env bash
# Soak: a pair at a fast setting for a bounded time, idle and/or with both cores busy, optionally
# with loss and jitter on one network; counts spurious transitions (any role change, peer loss,
# both-Active; for keepalived any VRRP state change) and, apart from them, fences (the executor
# letting resources go) on either node. hasys and keepalived one after the other on the same
# topology, in the same run. With --client, the client probe runs for the whole window of each
# run and its largest ping and TCP gaps are in the table.
# Usage (root): bench/soak/soak.sh [--minutes 10] [--period 20ms] [--count 5]
#               [--netem "delay 50ms 50ms loss 20%" | --netem none] [--net hb]
#               [--impl hasys|keepalived|both] [--load idle|busy|both] [--client]
#               [--prefix hsk]
# --load busy: two busy loops at nice 0, one per node (hasys-lab cpuhog a and b): both cores of
# the 2-core machine busy for the whole window.
# Prints a summary per run and a markdown table; writes them to bench/soak/results/<UTC time>.txt
# and the events, logs and probe results to bench/soak/results/<UTC time>/ (git-ignored).
# Exit 1 when hasys had any spurious transition or fence.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
minutes=10 period=20ms count=5 netem="delay 50ms 50ms loss 20%" net=hb impls=hasys loads=busy
client=0 prefix=hsk
while (($#)); do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --period) period=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --netem) netem=$2; shift 2 ;;
    --net) net=$2; shift 2 ;;
    --impl) impls=$2; shift 2 ;;
    --load) loads=$2; shift 2 ;;
    --client) client=1; shift ;;
    --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
    *) echo "soak: unknown option $1" >&2; exit 2 ;;
  esac
done
((minutes >= 1 && minutes <= 60)) || { echo "soak: --minutes must be 1..60" >&2; exit 2; }
case $impls in both) impls="hasys keepalived" ;; hasys | keepalived) ;; *) echo "soak: --impl hasys|keepalived|both" >&2; exit 2 ;; esac
case $loads in both) loads="idle busy" ;; idle | busy) ;; *) echo "soak: --load idle|busy|both" >&2; exit 2 ;; esac
[[ $prefix =~ ^[a-z0-9]{1,4}$ ]] || { echo "soak: --prefix must be 1-4 of [a-z0-9]" >&2; exit 2; }
[[ $netem == none ]] && netem=""
export HASYS_LAB_PREFIX=$prefix
export HASYS_BUILD_DIR=${HASYS_BUILD_DIR:-$root/build}
lab="$root/deploy/lab/hasys-lab"
ctl="$HASYS_BUILD_DIR/tools/hasysctl/hasysctl"
probe="$HASYS_BUILD_DIR/tools/labprobe/hasys-labprobe"
if ((client)) && [[ ! -x $probe ]]; then
  echo "soak: --client needs $probe (cd build && ninja hasys-labprobe)" >&2
  exit 1
fi
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
# Spurious transitions (a role moved) and, counted apart, fences (the executor let resources go).
role_codes=(activating deactivating peer_lost both_active failed)
fence_codes=(fenced resources_releasing resources_released)

# The client probe in the gateway namespace for the whole window (started when the VIP answers).
probe_start() {  # impl load
  local ready="$work/$1-$2.ready"
  mkdir -p "$out/$stamp"
  ip netns exec "$prefix-gw" "$probe" --icmp-every 5ms --tcp-every 10ms --for "${seconds}s" \
    --ready "$ready" >"$out/$stamp/$1-$2.probe.json" 2>"$work/$1-$2.probe.err" &
  probe_pid=$!
  for _ in $(seq 200); do [[ -s $ready ]] && return 0; sleep 0.05; done
  echo "soak: $1, $2: the client probe got no answer from the VIP in 10 s" >&2
  return 0
}

# The probe's largest gaps (an outage still going on at the end counts) and how many pings and
# TCP attempts went unanswered: "<ping gap ms> <TCP gap ms> <pings unanswered>/<sent>
# <TCP unanswered>/<attempts>". With none unanswered, a gap is the probe's own lateness.
probe_gaps() {  # probe json
  python3 - "$1" <<'PY'
import json, sys
try:
    p = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print("– – – –"); sys.exit()
def gap(k):
    g = [x for x in (p[k].get("largest_gap_ms"), p[k].get("since_last_success_ms")) if x is not None]
    return f"{max(g):.1f}" if p[k].get("successes") and g else "no-answer"
def lost(k, total):
    n = p[k].get(total) or 0
    return f"{n - p[k].get('successes', 0)}/{n}"
print(gap("icmp"), gap("tcp"), lost("icmp", "sent"), lost("tcp", "attempts"))
PY
}

busy_note() {  # the two cpu hogs' pids and niceness, as a check of what --load busy means
  local n pid notes=()
  for n in a b; do
    if pid=$("$lab" pid "$n" cpuhog 2>/dev/null); then
      notes+=("node $n pid $pid nice $(ps -o ni= -p "$pid" | tr -d ' ')")
    else
      notes+=("node $n: NO cpuhog running")
    fi
  done
  echo "soak: busy loops: ${notes[*]}" >&2
}

soak_one() {  # impl load
  local impl=$1 load=$2 labdir n a_changes b_changes a_fences="–" b_fences="–" extra=() since
  local gaps="– – – –" ping_gap tcp_gap ping_lost tcp_lost
  probe_pid=""
  [[ $impl == keepalived ]] && extra=(--keepalived)
  "$lab" down >/dev/null 2>&1 || true
  "$lab" up --period "$period" --count "$count" "${extra[@]}" >/dev/null
  labdir=$("$lab" dir)
  if [[ $impl == hasys ]]; then
    for n in a b; do
      timeout 30 ip netns exec "$prefix-$n" "$ctl" --config "$labdir/$n/node.toml" wait --group lab \
        --peer-alive yes --timeout 20s >/dev/null
    done
  else
    sleep 3  # keepalived settles within a few advertisement intervals; its events say when
  fi
  echo "soak: $impl, $load, $minutes min, period $period x $count, netem '${netem:-none}' on $net" >&2
  if [[ $impl == hasys ]]; then
    for n in a b; do
      ip netns exec "$prefix-$n" "$ctl" --config "$labdir/$n/node.toml" events --follow --json \
        --for "$((seconds + 5))s" >"$work/$impl-$load-$n.events" 2>/dev/null &
    done
    sleep 1  # the event followers subscribe (they announce it on stderr; nothing happens meanwhile)
  fi
  if ((client)); then probe_start "$impl" "$load"; fi
  since=$(($(date +%s%N) / 1000000))
  if [[ -n $netem ]]; then
    # shellcheck disable=SC2086
    "$lab" netem a "$net" $netem >/dev/null
    # shellcheck disable=SC2086
    "$lab" netem b "$net" $netem >/dev/null
  fi
  if [[ $load == busy ]]; then
    # Two busy loops at nice 0 (the hogs inherit this script's niceness; busy_note shows it),
    # one per node: both cores busy.
    "$lab" cpuhog a on --seconds "$seconds" >/dev/null
    "$lab" cpuhog b on --seconds "$seconds" >/dev/null
    busy_note
  fi
  sleep "$seconds"  # the soak itself: a fixed observation window
  if [[ -n $probe_pid ]]; then
    wait "$probe_pid" || true
    gaps=$(probe_gaps "$out/$stamp/$impl-$load.probe.json")
  fi
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
    a_fences=$(count_codes "$work/$impl-$load-a.events" "${fence_codes[@]}")
    b_fences=$(count_codes "$work/$impl-$load-b.events" "${fence_codes[@]}")
    hasys_spurious=$((hasys_spurious + a_changes + b_changes + a_fences + b_fences))
    {
      echo "hasys, $load: node a $a_changes, node b $b_changes spurious transitions;" \
        "fences a $a_fences, b $b_fences; link_down events a" \
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
  read -r ping_gap tcp_gap ping_lost tcp_lost <<<"$gaps"
  if ((client)); then
    echo "$impl, $load: client largest gaps: ping $ping_gap ms, TCP $tcp_gap ms;" \
      "unanswered: pings $ping_lost, TCP $tcp_lost" | tee -a "$report"
  fi
  rows+=("| $impl | $load | $minutes min | $a_changes | $b_changes | $a_fences | $b_fences | $ping_gap | $tcp_gap | $ping_lost, $tcp_lost |")
}

{
  echo "soak $stamp: period $period x $count, $minutes min per run, netem '${netem:-none}' on $net,"
  echo "  $(nproc) cores, kernel $(uname -r); busy = two busy loops at nice 0, one per node (both cores)"
  if ((client)); then echo "  client: hasys-labprobe in $prefix-gw, ICMP every 5 ms, TCP every 10 ms, the whole window"; fi
} | tee "$report"
for impl in $impls; do
  for load in $loads; do soak_one "$impl" "$load"; done
done
{
  echo
  echo "| implementation | load | window | spurious transitions, node a | node b | fences, node a | node b | client ping gap max (ms) | client TCP gap max (ms) | unanswered: pings, TCP |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee -a "$report"
echo "hasys spurious transitions and fences in all: $hasys_spurious" | tee -a "$report"
[[ $hasys_spurious -eq 0 ]]
