#!/usr/bin/env bash
# Start bench (issue 18): both nodes of a pair lose power together and boot together, again and
# again — half of the runs right after the flagged node's links come back — and the node with the
# Active priority (a) must become Active every time, without node b ever activating.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=100
period=10ms
count=3
prefix=stb
boot_mode=parallel
timeout_s=30
build_dir=${HASYS_BUILD_DIR:-$repo/build}

usage() {
  cat <<EOF
usage: bench/start/start.sh [--runs 100] [--period 10ms] [--count 3] [--prefix stb]
                            [--boot parallel|gate] [--timeout 30]
As root. Brings up the netns lab pair (hasys-lab up --period P --count N --priority a, prefix
stb, binaries from \$HASYS_BUILD_DIR, default <repo>/build), then per run:
  - odd runs: both nodes off at one instant (every process of both nodes SIGSTOPped together,
    then 'hasys-lab crash a' and 'crash b': links down, processes killed) and
  - both nodes booted at once: 'hasys-lab boot a & hasys-lab boot b & wait' (--boot parallel),
    or with --boot gate the leftover virtual IP removed and 'hasys-lab up', which starts the
    daemons of both nodes kind by kind and lets both heartbeats leave its start gate together
    (within a millisecond, but about 0.7 s after the links came back);
  - even runs: node a's links down at the switch side (pub and hb) for 2 s while the pair runs
    (b takes over; both sides' neighbour entries for the other fail), every process of both
    nodes killed at one instant, a's links up and at once 'hasys-lab up', which starts both
    nodes' daemons with the heartbeats through its start gate (nothing flushes the neighbour
    tables: the case of issue 18);
  - up to --timeout seconds for one node Active and the other Standby (hasysctl status), one
    second more, then: which node is Active, whether node b ever said 'activating', any
    'priority_not_taken', a's decision after its heartbeat started and its 'active' event after
    the boot command (both nodes' events from hasysctl events --since, and their heartbeat logs).
Prints a markdown summary and writes it with per-run JSON lines to
bench/start/results/<UTC time>/{summary.md,summary.json,records.jsonl}. Exit 1 when node a was
not Active in every run. The lab is removed on exit (logs kept in its directory and copied).
EOF
}

command_line="bench/start/start.sh${*:+ $*}"
while (($#)); do
  case $1 in
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --period) period=${2:?--period needs a value}; shift 2 ;;
    --count) count=${2:?--count needs a value}; shift 2 ;;
    --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
    --boot) boot_mode=${2:?--boot needs a value}; shift 2 ;;
    --timeout) timeout_s=${2:?--timeout needs a value}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "start.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if ! [[ $runs =~ ^[0-9]{1,4}$ ]] || ((10#$runs < 1 || 10#$runs > 1000)); then
  echo "start.sh: --runs '$runs' must be 1..1000" >&2
  exit 2
fi
runs=$((10#$runs))
[[ $period =~ ^[0-9]+(\.[0-9]+)?(ms|s)$ ]] \
  || { echo "start.sh: --period '$period' is not a duration like 10ms or 1s" >&2; exit 2; }
if ! [[ $count =~ ^[0-9]{1,2}$ ]] || ((10#$count < 1)); then
  echo "start.sh: --count '$count' must be 1..99" >&2
  exit 2
fi
[[ $prefix =~ ^[a-z0-9]{1,4}$ ]] \
  || { echo "start.sh: --prefix '$prefix' must be 1-4 of [a-z0-9]" >&2; exit 2; }
[[ $boot_mode == parallel || $boot_mode == gate ]] \
  || { echo "start.sh: --boot '$boot_mode' must be parallel or gate" >&2; exit 2; }
if ! [[ $timeout_s =~ ^[0-9]{1,3}$ ]] || ((10#$timeout_s < 1)); then
  echo "start.sh: --timeout '$timeout_s' must be 1..999 seconds" >&2
  exit 2
fi
[[ $(id -u) -eq 0 ]] || { echo "start.sh: must run as root (network namespaces)" >&2; exit 1; }

export HASYS_LAB_PREFIX=$prefix HASYS_BUILD_DIR=$build_dir
lab="$repo/deploy/lab/hasys-lab"
report="$here/start_report.py"
ctl_bin="$build_dir/tools/hasysctl/hasysctl"
executor_bin="$build_dir/services/executor/hasys-executor"
lab_dir=$("$lab" dir)
out_dir="$here/results/$(date -u +%Y%m%dT%H%M%SZ)"
raw="$out_dir/raw"
records="$out_dir/records.jsonl"
lab_log="$raw/lab.log"
vip=198.51.100.100
bench_start=$SECONDS
summarized=0

say() { printf '[start %s +%ss] %s\n' "$(date +%T)" "$((SECONDS - bench_start))" "$*" >&2; }
die() { say "error: $*"; exit 1; }
now_ms() { local t=${EPOCHREALTIME/./}; echo "$((t / 1000))"; }
ns() { echo "$prefix-$1"; }

for b in "$build_dir/services/heartbeat/hasys-heartbeat" "$ctl_bin"; do
  [[ -x $b ]] || die "$b is not built (cd build && ninja $(basename "$b"))"
done
[[ -x $executor_bin ]] || say "note: $executor_bin is not built: the virtual IP is not checked"

summarize() {
  summarized=1
  python3 "$report" summary --records "$records" --meta "$out_dir/meta.json" \
    --json-out "$out_dir/summary.json" --md-out "$out_dir/summary.md"
}

keep_lab_logs() {  # the daemons' logs of the whole bench, before the lab goes
  local n f
  for n in a b; do
    for f in heartbeat executor; do
      [[ -e $lab_dir/$n/$f.log ]] && cp "$lab_dir/$n/$f.log" "$raw/$n-$f.log"
    done
  done
  return 0
}

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  trap - EXIT INT TERM
  keep_lab_logs
  "$lab" down --keep-logs >/dev/null 2>&1 || true
  if ((!summarized)) && [[ -s $records ]]; then
    say "the runs so far:"
    summarize || true
  fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# Polls a command until it succeeds; fails after the timeout (seconds, fractions allowed).
wait_for() {  # timeout_s command...
  local deadline
  deadline=$(($(now_ms) + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')))
  shift
  until "$@"; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.05
  done
}

hasys_role() {  # node -> init/standby/activating/active/... or nothing
  timeout 3 ip netns exec "$(ns "$1")" "$ctl_bin" --config "$lab_dir/$1/node.toml" status --json \
    --group lab --timeout 1s 2>/dev/null \
    | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["role"])' 2>/dev/null \
    || true
}

has_vip() { ip -n "$(ns "$1")" -4 -o addr show dev eth0 2>/dev/null | grep -q " $vip/"; }

# One node Active and the other Standby (which one is the run's result); sets role_a, role_b.
pair_settled() {
  role_a=$(hasys_role a)
  role_b=$(hasys_role b)
  [[ $role_a == active && $role_b == standby ]] || [[ $role_a == standby && $role_b == active ]]
}

log_size() { stat -c %s "$lab_dir/$1/heartbeat.log" 2>/dev/null || echo 0; }

# Both nodes off at one instant: every process of both nodes stopped by one kill (so neither sees
# the other go first and takes over in between), then the lab's crash of each: links down,
# everything SIGKILLed. Sets power_off_ms.
power_off() {
  local pids=() n
  for n in a b; do
    mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$(ns "$n")" 2>/dev/null)
  done
  power_off_ms=$(now_ms)
  if ((${#pids[@]})); then kill -s STOP "${pids[@]}" 2>/dev/null || true; fi
  for n in a b; do
    "$lab" crash "$n" >>"$lab_log" 2>&1 || failures+=(--failure "hasys-lab crash $n failed (see $lab_log)")
  done
}

links_a() {  # down|up: node a's cables at the switch (NO-CARRIER on its side)
  local net
  for net in pub hb; do
    "$lab" link a "$net" "$1" --side switch >>"$lab_log" 2>&1 \
      || failures+=(--failure "hasys-lab link a $net $1 --side switch failed")
  done
  return 0
}

# The case of issue 18: node a's cables out for 2 s while the pair runs (b takes over; the
# heartbeats of both sides go unanswered, so each side's neighbour entry for the other fails),
# then every daemon of both nodes killed at one instant (links and addresses stay: a restart of
# both nodes' services, not a power loss), a's cables back, and at once both nodes' daemons
# started again by 'hasys-lab up' (its start gate lets both heartbeats go together). Nothing
# flushes the failed neighbour entries: the first packets and gateway answers wait for them to be
# resolved again. Sets power_off_ms (the kill).
links_flap_and_restart() {
  local pids=() n
  links_a down
  sleep 2
  for n in a b; do
    mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$(ns "$n")" 2>/dev/null)
  done
  # The run's logs start here: b's takeover while a's cables were out is not the start's.
  off_a=$(log_size a)
  off_b=$(log_size b)
  power_off_ms=$(now_ms)
  if ((${#pids[@]})); then
    kill -s STOP "${pids[@]}" 2>/dev/null || true
    kill -s KILL "${pids[@]}" 2>/dev/null || true
    wait_for 5 bash -c "! kill -0 ${pids[*]} 2>/dev/null" \
      || failures+=(--failure "processes of the nodes survive SIGKILL")
  fi
  links_a up
  "$lab" up --period "$period" --count "$count" --priority a >>"$lab_log" 2>&1 \
    || failures+=(--failure "hasys-lab up (the daemons started again) failed (see $lab_log)")
}

boot_both() {
  local n pa pb
  if [[ $boot_mode == parallel ]]; then
    "$lab" boot a >>"$raw/boot-a.log" 2>&1 &
    pa=$!
    "$lab" boot b >>"$raw/boot-b.log" 2>&1 &
    pb=$!
    wait "$pa" || failures+=(--failure "hasys-lab boot a failed (see $raw/boot-a.log)")
    wait "$pb" || failures+=(--failure "hasys-lab boot b failed (see $raw/boot-b.log)")
  else
    # What boot does first: a rebooted server shows no virtual IP (its links are still down).
    # Then up sets the links up and starts both nodes' daemons, the heartbeats through its gate.
    for n in a b; do ip -n "$(ns "$n")" addr del "$vip/24" dev eth0 2>/dev/null || true; done
    "$lab" up --period "$period" --count "$count" --priority a >>"$lab_log" 2>&1 \
      || failures+=(--failure "hasys-lab up (boot through the start gate) failed (see $lab_log)")
  fi
}

one_run() {  # run
  local run=$1 kind=plain failures=() off_a off_b boot_ms settled=0 settle_ms="" since n rec
  local vip_args=() node_args=()
  ((run % 2 == 0)) && kind=links
  if [[ $kind == links ]]; then
    links_flap_and_restart  # sets off_a, off_b at the kill
    boot_ms=$power_off_ms
  else
    off_a=$(log_size a)
    off_b=$(log_size b)
    power_off
    boot_ms=$(now_ms)
    boot_both
  fi
  if wait_for "$timeout_s" pair_settled; then
    settled=1
    settle_ms=$(($(now_ms) - boot_ms))
    sleep 1  # a late activation of b (both Active) would show now
    pair_settled || settled=0
  fi
  since=$(date -u -d "@$((power_off_ms / 1000 - 1))" +%Y-%m-%dT%H:%M:%SZ)
  for n in a b; do
    timeout 10 ip netns exec "$(ns "$n")" "$ctl_bin" --config "$lab_dir/$n/node.toml" events \
      --since "$since" --json --group lab >"$raw/$n.events.run" 2>>"$raw/events.err" || true
    if [[ -x $executor_bin ]]; then
      if has_vip "$n"; then vip_args+=(--vip "$n=1"); else vip_args+=(--vip "$n=0"); fi
    fi
  done
  [[ -x $executor_bin ]] && vip_args+=(--vip-checked)
  node_args=(--node "a:$lab_dir/a/heartbeat.log:$off_a:$raw/a.events.run"
    --node "b:$lab_dir/b/heartbeat.log:$off_b:$raw/b.events.run")
  rec=$(python3 "$report" record --run "$run" --kind "$kind" --boot "$boot_mode" \
    --power-off-ms "$power_off_ms" --boot-ms "$boot_ms" --settled "$settled" \
    ${settle_ms:+--settle-ms "$settle_ms"} --timeout-s "$timeout_s" \
    --role "a=$role_a" --role "b=$role_b" "${vip_args[@]}" "${node_args[@]}" \
    --keep-dir "$raw" "${failures[@]}")
  echo "$rec" >>"$records"
  for n in a b; do cat "$raw/$n.events.run" >>"$raw/$n.events" && rm -f "$raw/$n.events.run"; done
  python3 "$report" progress "$rec" | while IFS= read -r line; do say "$line"; done
}

# --- main ----------------------------------------------------------------------------------------

mkdir -p "$raw"
git_rev="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$repo" diff --quiet 2>/dev/null || git_rev+="+changes"
python3 "$report" meta --command "$command_line" --git "$git_rev" --period "$period" \
  --count "$count" --boot "$boot_mode" >"$out_dir/meta.json"
say "results in $out_dir; $runs runs at $period x $count, priority a, boot $boot_mode"
"$lab" down >/dev/null 2>&1 || true
"$lab" up --period "$period" --count "$count" --priority a >>"$lab_log" 2>&1 \
  || die "hasys-lab up failed (see $lab_log)"
role_a="" role_b=""
wait_for "$timeout_s" pair_settled || die "the lab does not settle after up (a $role_a, b $role_b)"
say "lab up: a $role_a, b $role_b"
for run in $(seq "$runs"); do one_run "$run"; done
keep_lab_logs
"$lab" down --keep-logs >/dev/null 2>&1 || true
say "done in $((SECONDS - bench_start)) s; results in $out_dir"
rc=0
summarize || rc=$?
exit "$rc"
