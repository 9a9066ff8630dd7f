#!/usr/bin/env bash
# Executor restarts on the Active (issue 7): the client's ping and TCP gap while the Active's
# hasys-executor is killed (kill -9, started again 0.5 s later, as Restart=always/RestartSec do)
# or stopped (SIGTERM, then started: systemctl restart), again and again.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=20
period=100ms
count=3
prefix=rst
build_dir=${HASYS_BUILD_DIR:-$repo/build}

usage() {
  cat <<EOF2
usage: bench/restart/restart.sh [--runs 20] [--period 100ms] [--count 3] [--prefix rst]
As root. Brings up the netns lab pair (prefix rst), then per run: the client probe
(hasys-labprobe) in gw for 3 s, the Active's executor killed (kill -9, started 0.5 s later) or
stopped (SIGTERM, started at once), the probe's longest ping and TCP gaps, and the executor's
adoption awaited before the next run. Prints a markdown table; raw records in
bench/restart/results/<UTC time>/records.jsonl.
EOF2
}
while (($#)); do
  case $1 in
    --runs) runs=${2:?}; shift 2 ;;
    --period) period=${2:?}; shift 2 ;;
    --count) count=${2:?}; shift 2 ;;
    --prefix) prefix=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "restart.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[0-9]{1,3}$ ]] && ((runs >= 1)) || { echo "restart.sh: --runs must be 1..999" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "restart.sh: must run as root (network namespaces)" >&2; exit 1; }

export HASYS_LAB_PREFIX=$prefix HASYS_BUILD_DIR=$build_dir
lab="$repo/deploy/lab/hasys-lab"
probe_bin="$build_dir/tools/labprobe/hasys-labprobe"
[[ -x $probe_bin ]] || { echo "restart.sh: $probe_bin is not built" >&2; exit 1; }
out_dir="$here/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out_dir"
records="$out_dir/records.jsonl"
start=$SECONDS
say() { printf '[restart %s +%ss] %s\n' "$(date +%T)" "$((SECONDS - start))" "$*" >&2; }
cleanup() { "$lab" down --keep-logs >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM

"$lab" up --period "$period" --count "$count" >/dev/null
"$lab" ctl a wait --group lab --role active --flow done --timeout 20s >/dev/null \
  || { say "node a never became Active with its flow done"; exit 1; }
ready="$out_dir/probe.ready"
for mode in none kill term; do  # none: the probe's own noise floor, nothing restarted
  for ((i = 1; i <= runs; i++)); do
    rm -f "$ready"
    "$lab" exec gw "$probe_bin" --target 198.51.100.100 --for 3s --tcp-every 10ms --ready "$ready" \
      >"$out_dir/probe.out" 2>&1 &
    probe=$!
    for _ in $(seq 100); do [[ -e $ready ]] && break; sleep 0.02; done
    sleep 0.3  # a steady baseline before the restart
    if [[ $mode == kill ]]; then
      "$lab" kill a executor --signal KILL >/dev/null
      sleep 0.5  # the restart delay under test (RestartSec=500ms)
    elif [[ $mode == term ]]; then
      "$lab" kill a executor >/dev/null
    fi
    [[ $mode == none ]] || "$lab" start a executor >/dev/null
    wait "$probe" || true
    line=$(grep '^{' "$out_dir/probe.out" | tail -1)
    [[ -n $line ]] || { say "run $mode $i: the probe printed nothing"; cat "$out_dir/probe.out" >&2; exit 1; }
    printf '{"mode":"%s","run":%d,"probe":%s}\n' "$mode" "$i" "$line" >>"$records"
    "$lab" ctl a wait --group lab --role active --flow done --holding yes --timeout 10s >/dev/null \
      || { say "run $mode $i: node a is not Active with its flow done after the restart"; exit 1; }
    say "run $mode $i: $(python3 -c 'import json,sys; p=json.loads(sys.argv[1]); print("ping gap", p["icmp"]["largest_gap_ms"], "ms, tcp gap", p["tcp"]["largest_gap_ms"], "ms, tcp answered by", p["tcp"]["node_after"])' "$line")"
  done
done
python3 - "$records" "$period" "$count" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
def pct(xs, p):
    xs = sorted(xs); return xs[max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))]
print(f"| restart of the Active's executor ({sys.argv[2]} x {sys.argv[3]}) | runs | ping gap p50 / p95 / max (ms) | TCP gap p50 / p95 / max (ms) | TCP answered by another node |")
print("|---|---|---|---|---|")
for mode, label in (("none", "none (the probe's noise floor)"), ("kill", "kill -9, started 0.5 s later"),
                    ("term", "SIGTERM, started at once")):
    rs = [r["probe"] for r in recs if r["mode"] == mode]
    if not rs: continue
    ping = [r["icmp"]["largest_gap_ms"] or 0 for r in rs]
    tcp = [r["tcp"]["largest_gap_ms"] or 0 for r in rs]
    moved = sum(1 for r in rs if r["tcp"].get("node_after") not in (None, r["tcp"].get("node_before")))
    f = lambda xs: f"{pct(xs,50):.1f} / {pct(xs,95):.1f} / {max(xs):.1f}"
    print(f"| {label} | {len(rs)} | {f(ping)} | {f(tcp)} | {moved} |")
PY
