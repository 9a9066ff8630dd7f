#!/usr/bin/env bash
# Failover time vs keepalived (issues 3 and 18): crashes the Active of a netns lab pair again and
# again; per crash the taker's detection, VIP and takeover phases, the client's gaps, and any
# false failover (a role or fence event while the pair was steady before the crash).
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=20
settings="1s:3 20ms:3 20ms:5"
impls=both
prefix=fov
fresh_lab=0
build_dir=${HASYS_BUILD_DIR:-$repo/build}

usage() {
  cat <<EOF
usage: bench/failover/failover.sh [--runs 20] [--settings "1s:3 20ms:3 20ms:5"]
                                  [--impl hasys|keepalived|both] [--prefix fov] [--fresh-lab]
As root. For each setting (period:count) and implementation, brings up the netns lab (prefix
fov, binaries from \$HASYS_BUILD_DIR, default <repo>/build), then per run: the client probe
(hasys-labprobe) in gw, after a random 0..period pause 'hasys-lab crash' of the Active, the
taker's detection and VIP, 'boot' of the crashed node, and a settled pair again (roles swap:
the next run crashes the new Active). keepalived is skipped, with a line saying so, at a period
it cannot advertise (VRRPv3 counts centiseconds: 10ms to 40.95s, docs/lab.md), e.g. 5ms.
Per crash it also records, for hasys, the takeover phases of the taker's vip_up event; for both,
the false failovers (role or fence events, or VRRP state changes, on either node between the
previous settling and the crash) and whether the client's ping gap stayed within VIP added +
2 periods. The summary ends with issue 18's targets (met / NOT met).
--fresh-lab: instead of boot, a fresh lab for every run (node a is Active each time).
Writes bench/failover/results/<time>/{results.json,table.md} and prints the markdown table.
Issue 18's full run: --impl both --settings "10ms:3 5ms:3" --runs 100
EOF
}

command_line="bench/failover/failover.sh${*:+ $*}"
while (($#)); do
  case $1 in
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --settings) settings=${2:?--settings needs a value}; shift 2 ;;
    --impl) impls=${2:?--impl needs a value}; shift 2 ;;
    --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
    --fresh-lab) fresh_lab=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "failover.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if ! [[ $runs =~ ^[0-9]{1,4}$ ]] || ((runs < 1 || runs > 1000)); then
  echo "failover.sh: --runs '$runs' must be 1..1000" >&2
  exit 2
fi
case $impls in
  both) impls="hasys keepalived" ;;
  hasys | keepalived) ;;
  *) echo "failover.sh: --impl '$impls' must be hasys, keepalived or both" >&2; exit 2 ;;
esac
for s in $settings; do
  [[ $s =~ ^[0-9]+(\.[0-9]+)?(ms|s):[0-9]{1,2}$ ]] \
    || { echo "failover.sh: setting '$s' is not PERIOD:COUNT like 20ms:3" >&2; exit 2; }
done
[[ $(id -u) -eq 0 ]] || { echo "failover.sh: must run as root (network namespaces)" >&2; exit 1; }

export HASYS_LAB_PREFIX=$prefix HASYS_BUILD_DIR=$build_dir
lab="$repo/deploy/lab/hasys-lab"
report="$here/failover_report.py"
probe_bin="$build_dir/tools/labprobe/hasys-labprobe"
ctl_bin="$build_dir/tools/hasysctl/hasysctl"
executor_bin="$build_dir/services/executor/hasys-executor"
lab_dir=$("$lab" dir)
out_dir="$here/results/$(date -u +%Y%m%dT%H%M%SZ)"
raw="$out_dir/raw"
records="$out_dir/records.jsonl"
vip=198.51.100.100
bench_start=$SECONDS
declare -A watcher_pids=()
probe_pid=""
steady_since_ms=""  # when the pair last finished settling: false failovers are counted from here
skipped=()          # --skipped arguments for the summary: implementations not run at a setting

say() { printf '[failover %s +%ss] %s\n' "$(date +%T)" "$((SECONDS - bench_start))" "$*" >&2; }
die() { say "error: $*"; exit 1; }
now_ms() { local t=${EPOCHREALTIME/./}; echo "$((t / 1000))"; }
ns() { echo "$prefix-$1"; }
other() { if [[ $1 == a ]]; then echo b; else echo a; fi; }

[[ -x $probe_bin ]] || die "$probe_bin is not built (cmake --build <build> --target hasys-labprobe)"
if [[ " $impls " == *" hasys "* ]]; then
  for b in "$build_dir/services/heartbeat/hasys-heartbeat" "$ctl_bin"; do
    [[ -x $b ]] || die "$b is not built"
  done
fi
if [[ " $impls " == *" keepalived "* ]]; then
  command -v keepalived >/dev/null || die "keepalived is not installed (apt-get install keepalived)"
fi

stop_pid() {  # pid: SIGTERM, then SIGKILL after 2 s; only processes this script started
  local pid=$1 deadline=$((SECONDS + 2))
  kill -s TERM "$pid" 2>/dev/null || return 0
  while ((SECONDS <= deadline)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
  kill -s KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local key
  trap - EXIT INT TERM
  [[ -n $probe_pid ]] && stop_pid "$probe_pid"
  for key in "${!watcher_pids[@]}"; do stop_pid "${watcher_pids[$key]}"; done
  "$lab" down --keep-logs >/dev/null 2>&1 || true
  if ((!summarized)) && [[ -s $records ]]; then
    say "the runs so far:"
    summarize || true
  fi
}
summarized=0
summarize() {
  python3 "$report" summary --records "$records" --settings "$settings" \
    --meta "$out_dir/meta.json" --json-out "$out_dir/results.json" --md-out "$out_dir/table.md" \
    "${skipped[@]}"
  summarized=1
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# ms from a duration like 20ms or 1s.
duration_ms() {
  [[ $1 =~ ^([0-9]+)(\.([0-9]+))?(ms|s)$ ]] || die "'$1' is not a duration"
  awk -v v="${1%%[a-z]*}" -v u="${BASH_REMATCH[4]}" \
    'BEGIN { printf "%d", (u == "s" ? v * 1000 : v) }'
}

# keepalived's advert_int is VRRPv3 centiseconds: 10 ms to 40.95 s, a multiple of 10 ms (docs/lab.md).
keepalived_can_advertise() { ((period_ms >= 10 && period_ms <= 40950 && period_ms % 10 == 0)); }

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

# --- what each implementation says about a node -----------------------------------------------

hasys_role() {  # node -> init/standby/active/... or nothing
  timeout 3 ip netns exec "$(ns "$1")" "$ctl_bin" --config "$lab_dir/$1/node.toml" status --json \
    --group lab --timeout 1s 2>/dev/null \
    | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["role"])' 2>/dev/null \
    || true
}

keepalived_role() {  # node -> MASTER/BACKUP/FAULT, from the notify events, when keepalived runs
  "$lab" pid "$1" keepalived >/dev/null 2>&1 || return 0
  awk '$2 ~ /^(MASTER|BACKUP|FAULT|STOP)$/ { s = $2 } END { print s }' \
    "$lab_dir/$1/keepalived.events" 2>/dev/null || true
}

is_role() { [[ $(hasys_role "$1") == "$2" ]]; }  # node role

has_vip() { ip -n "$(ns "$1")" -4 -o addr show dev eth0 2>/dev/null | grep -q " $vip/"; }

vip_moves() { [[ $impl == keepalived || -x $executor_bin ]]; }

# True when $1 is Active (holding the VIP where it moves) and $2 Standby.
pair_settled() {  # active standby
  if [[ $impl == hasys ]]; then
    [[ $(hasys_role "$1") == active && $(hasys_role "$2") == standby ]] || return 1
  else
    [[ $(keepalived_role "$1") == MASTER && $(keepalived_role "$2") == BACKUP ]] || return 1
  fi
  if vip_moves; then has_vip "$1" && ! has_vip "$2"; fi
}

pair_report() {  # what each node says, for a failure message
  local n role
  for n in a b; do
    if [[ $impl == hasys ]]; then role=$(hasys_role "$n"); else role=$(keepalived_role "$n"); fi
    printf '%s %s%s ' "$n" "${role:-?}" "$(has_vip "$n" && echo " +VIP")"
  done
}

find_active() {  # prints the Active node once the pair is settled
  local n
  for n in a b; do
    if pair_settled "$n" "$(other "$n")"; then echo "$n"; return 0; fi
  done
  return 1
}

# --- watchers in a node: VIP addresses (both) and events (hasys) --------------------------------

start_watchers() {  # node
  local n=$1
  stop_watchers "$n"
  # Disowned: a crash SIGKILLs them with their node, and bash need not report it.
  TZ=UTC ip -n "$(ns "$n")" -ts monitor address >>"$raw/$setting_id-$impl-$n.monitor" 2>&1 &
  watcher_pids[$n-monitor]=$!
  disown
  if [[ $impl == hasys ]]; then
    ip netns exec "$(ns "$n")" "$ctl_bin" --config "$lab_dir/$n/node.toml" events --follow --json \
      --group lab >>"$raw/$setting_id-$impl-$n.events" 2>&1 &
    watcher_pids[$n-events]=$!
    disown
  fi
}

stop_watchers() {  # node (they die with a crash; this reaps them or stops them)
  local key
  for key in "$1-monitor" "$1-events"; do
    if [[ -n ${watcher_pids[$key]:-} ]]; then
      stop_pid "${watcher_pids[$key]}"
      unset "watcher_pids[$key]"
    fi
  done
}

# --- one setting, one implementation -----------------------------------------------------------

bring_up() {  # fresh lab with the setting (two tries); sets $active
  local args=(up --period "$period" --count "$count" --priority a) try log
  [[ $impl == keepalived ]] && args+=(--keepalived)
  log="$raw/$setting_id-$impl-up.log"
  for try in 1 2; do
    stop_watchers a
    stop_watchers b
    "$lab" down >/dev/null 2>&1 || true
    if "$lab" "${args[@]}" >>"$log" 2>&1 && wait_for 30 find_active >/dev/null; then
      active=$(find_active)
      start_watchers a
      start_watchers b
      steady_since_ms=$(now_ms)  # settled now: anything from here on is a false failover
      settle_after
      return 0
    fi
    say "try $try: no settled pair 30 s after 'hasys-lab ${args[*]}' ($(pair_report)); see $log"
  done
  die "$impl at $setting: the lab does not come up settled"
}

# After the pair settles, the Standby must have heard the Active for a whole detection window
# (keepalived enters BACKUP before it has heard anything); the same wait for both.
settle_after() {
  sleep "$(awk -v p="$period_ms" -v c="$count" \
    'BEGIN { w = p * (c + 1) / 1000; printf "%.3f", (w < 0.3 ? 0.3 : w) }')"
}

probe_start() {  # probe_file ready_file
  rm -f "$2"
  ip netns exec "$(ns gw)" "$probe_bin" --settle 1s --for "$((period_ms * (count + 1) + 4000))ms" \
    --ready "$2" >"$1" 2>"$1.err" &
  probe_pid=$!
  wait_for 5 test -s "$2"
}

probe_finish() {  # waits for the probe to stop by itself (--settle or --for), then reaps it
  wait_for "$(((period_ms * (count + 1) + 6000) / 1000))" \
    bash -c "! kill -0 $probe_pid 2>/dev/null" || stop_pid "$probe_pid"
  wait "$probe_pid" 2>/dev/null || true
  probe_pid=""
}

boot_and_settle() {  # crashed taker; adds to the caller's failures
  "$lab" boot "$1" >>"$raw/$setting_id-$impl-boot.log" 2>&1 \
    || failures+=(--failure "hasys-lab boot $1 failed (see $raw/$setting_id-$impl-boot.log)")
  start_watchers "$1"
  if wait_for 30 pair_settled "$2" "$1"; then
    active=$2
    steady_since_ms=$(now_ms)  # settled now: anything from here on is a false failover
    settle_after
  else
    local why
    why="no settled pair 30 s after boot of $1 ($(pair_report)); the lab was brought up again"
    failures+=(--failure "$why")
  fi
}

one_run() {  # run
  local run=$1 crashed=$active taker probe_file ready crash_out crash_ms="" failures=() rec
  local steady=$steady_since_ms  # the boot below settles the pair again and moves it
  taker=$(other "$crashed")
  probe_file="$raw/$setting_id-$impl-$run.probe.json"
  ready="$raw/$setting_id-$impl.ready"
  local no_vip=()
  if vip_moves; then
    probe_start "$probe_file" "$ready" \
      || failures+=(--failure "the client probe got no answer from the VIP before the crash")
  else
    no_vip=(--no-vip "VIP added, ping and TCP gaps not measured: hasys-executor is not built")
  fi
  # A random phase against the heartbeat/advertisement rhythm: the bench's own waits are regular.
  sleep "$(awk -v p="$period_ms" -v r="$RANDOM" 'BEGIN { printf "%.3f", p * r / 32768 / 1000 }')"
  crash_out=$("$lab" crash "$crashed" 2>&1) \
    || failures+=(--failure "hasys-lab crash $crashed failed: $crash_out")
  crash_ms=$(sed -n 's/.*crashed at unix ms \([0-9.]*\).*/\1/p' <<<"$crash_out")
  [[ -n $crash_ms ]] || crash_ms=$(now_ms)
  if [[ -n $probe_pid ]]; then probe_finish; fi
  if ! vip_moves; then
    wait_for "$(((period_ms * (count + 1) + 3000) / 1000))" is_role "$taker" active || true
  fi
  if ((!fresh_lab)); then boot_and_settle "$crashed" "$taker"; fi
  local detect=$lab_dir/$taker/keepalived.log notify=$lab_dir/$taker/keepalived.events
  [[ $impl == hasys ]] && detect="$raw/$setting_id-$impl-$taker.events"
  # Where each node's role changes are: hasysctl events (JSON), or keepalived's notify lines.
  local node_events=() n
  for n in a b; do
    if [[ $impl == hasys ]]; then node_events+=(--node-events "$n:$raw/$setting_id-$impl-$n.events")
    else node_events+=(--node-events "$n:$lab_dir/$n/keepalived.events"); fi
  done
  [[ -n $steady ]] && node_events+=(--steady-since-ms "$steady")
  rec=$(python3 "$report" record --impl "$impl" --setting "$setting" --run "$run" \
    --crashed "$crashed" --taker "$taker" --crash-ms "$crash_ms" --detect "$detect" \
    --notify "$notify" --monitor "$raw/$setting_id-$impl-$taker.monitor" --probe "$probe_file" \
    --period-ms "$period_ms" "${node_events[@]}" "${no_vip[@]}" "${failures[@]}")
  echo "$rec" >>"$records"
  python3 "$report" progress "$rec" | while IFS= read -r line; do say "$line"; done
  if ((${#failures[@]})); then keep_logs "run$run"; fi
  if ((${#failures[@]} || (fresh_lab && run < runs))); then bring_up; fi
}

keep_logs() {  # tag: the daemons' logs, before the next up empties them
  local n f
  for n in a b; do
    for f in "$lab_dir/$n"/*.log "$lab_dir/$n/keepalived.events"; do
      [[ -e $f ]] && cp "$f" "$raw/$setting_id-$impl-$1-$n-$(basename "$f")"
    done
  done
  return 0
}

# --- main ----------------------------------------------------------------------------------------

mkdir -p "$raw"
git_rev="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$repo" diff --quiet 2>/dev/null || git_rev+="+changes"
meta=(--command "$command_line" --build-dir "$build_dir" --git "$git_rev")
((fresh_lab)) && meta+=(--fresh-lab)
[[ -x $executor_bin ]] && meta+=(--executor-built)
python3 "$report" meta "${meta[@]}" >"$out_dir/meta.json"
say "results in $out_dir; $runs runs per setting and implementation: settings $settings; $impls"
for setting in $settings; do
  period=${setting%%:*}
  count=${setting##*:}
  period_ms=$(duration_ms "$period")
  setting_id=${setting/:/x}
  for impl in $impls; do
    if [[ $impl == keepalived ]] && ! keepalived_can_advertise; then
      why="keepalived at $period x $count: not run — its advert_int is 10 ms to 40.95 s in steps"
      why+=" of 10 ms (VRRPv3 centiseconds, docs/lab.md), so it cannot advertise every $period"
      say "$why; skipped"
      skipped+=(--skipped "$why")
      continue
    fi
    say "$impl at $period x $count: bringing the lab up"
    bring_up
    say "$impl at $period x $count: settled, node $active Active"
    for run in $(seq "$runs"); do one_run "$run"; done
    keep_logs end
  done
done
stop_watchers a
stop_watchers b
"$lab" down --keep-logs >/dev/null 2>&1 || true
say "done in $((SECONDS - bench_start)) s; results in $out_dir"
summarize
