#!/usr/bin/env python3
"""bench/failover's numbers: one record per crash (`record`) and the tables (`summary`).

`record` reads what failover.sh left for one run — the crash time, the client probe's JSON, the
taker's `ip -ts monitor address` output and its detection source (hasysctl events JSON lines for
hasys, the time-stamped keepalived log and notify events for keepalived) — and prints one JSON
line. For hasys it adds the takeover's phases from the taker's `vip_up` event (issue 18); for
both, the false failovers (role or fence events, VRRP state changes for keepalived, on either node
while the pair was steady before the crash) and whether the client's ping gap stayed within VIP
added + 2 periods. `summary` reads every record of a results directory and prints a markdown
table.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys

VIP = "198.51.100.100"
MEASURES = [
    ("detection_ms", "detection"),
    ("vip_added_ms", "VIP added"),
    ("ping_gap_ms", "client ping gap"),
    ("tcp_gap_ms", "client TCP gap"),
]
# Issue 3's targets at the fast setting (p99, ms).
TARGETS = {"detection_ms": 120, "ping_gap_ms": 150, "tcp_gap_ms": 250}
# The takeover's phases, as the taker's executor reports them in its vip_up event (issue 18).
PHASES = [
    ("peer_silent_ms", "peer silent (last packet heard → decision)"),
    ("decision_to_executor_ms", "decision → executor"),
    ("executor_to_address_ms", "executor → address added"),
    ("address_to_announce_ms", "address → gratuitous ARP sent"),
    ("decision_to_announce_ms", "decision → gratuitous ARP sent"),
]
# Events that mean a role moved or resources were let go: before a crash, a false failover.
ROLE_CODES = {"activating", "deactivating", "peer_lost", "both_active", "resources_released",
              "resources_releasing", "fenced", "failed"}
# Issue 18's targets: the setting keepalived is compared at, and the p50 ratio of VIP added.
ISSUE18_SETTING = "10ms:3"
ISSUE18_P50_RATIO = 0.8
MONITOR_LINE = re.compile(
    r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\]\s+(Deleted\s+)?\d+:\s+(\S+)\s+inet\s+([\d.]+)/")


def vip_added_unix_ms(monitor_file, since_ms):
    """The first `ip -ts monitor address` line (run with TZ=UTC) adding the VIP after since_ms."""
    try:
        lines = open(monitor_file, encoding="utf-8", errors="replace").read().splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        m = MONITOR_LINE.match(line)
        if not m or m.group(2) or m.group(4) != VIP:
            continue
        t = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
        ms = t.timestamp() * 1000.0
        if ms >= since_ms:
            return ms
    return None


def hasys_detection_unix_ms(events_file, since_ms):
    """time_unix_ms of the first peer_lost event after the crash (hasysctl events --json)."""
    try:
        lines = open(events_file, encoding="utf-8", errors="replace").read().splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("code") == "peer_lost" and e.get("time_unix_ms", 0) >= math.floor(since_ms):
            return float(e["time_unix_ms"])
    return None


def keepalived_detection_unix_ms(log_file, since_ms):
    """The stamp (µs) of keepalived's 'Receive advertisement timeout' line after the crash."""
    try:
        lines = open(log_file, encoding="utf-8", errors="replace").read().splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        head, _, rest = line.partition(" ")
        if not head.isdigit() or "Receive advertisement timeout" not in rest:
            continue
        ms = int(head) / 1000.0
        if ms >= since_ms:
            return ms
    return None


def keepalived_notify_unix_ms(events_file, since_ms):
    """The first MASTER line of the notify events after the crash."""
    try:
        lines = open(events_file, encoding="utf-8", errors="replace").read().splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        parts = line.split()
        if (len(parts) >= 2 and parts[1] == "MASTER" and parts[0].isdigit()
                and int(parts[0]) >= math.floor(since_ms)):
            return float(parts[0])
    return None


def read_lines(path):
    try:
        return open(path, encoding="utf-8", errors="replace").read().splitlines()
    except (FileNotFoundError, IsADirectoryError):
        return []


def hasys_takeover_phases(events_file, since_ms):
    """The details of the first vip_up event at or after the crash: the phases, as floats (ms).

    Returns (phases or None, the event's time or None)."""
    for line in read_lines(events_file):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("code") != "vip_up" or e.get("time_unix_ms", 0) < math.floor(since_ms):
            continue
        details = e.get("details") or {}
        phases = {}
        for key, _ in PHASES:
            try:
                phases[key] = float(details[key])
            except (KeyError, TypeError, ValueError):
                phases[key] = None
        return phases, float(e["time_unix_ms"])
    return None, None


def hasys_false_failovers(node, events_file, from_ms, to_ms):
    """Role and fence events of one node in [from_ms, to_ms): the pair was steady then."""
    out = []
    for line in read_lines(events_file):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        t = e.get("time_unix_ms")
        if e.get("code") in ROLE_CODES and t is not None and from_ms <= t < to_ms:
            out.append({"node": node, "code": e["code"], "time_unix_ms": t,
                        "text": e.get("text", ""), "details": e.get("details") or {}})
    return out


def keepalived_false_failovers(node, events_file, from_ms, to_ms):
    """VRRP state changes (notify FIFO lines) of one node in [from_ms, to_ms)."""
    out = []
    for line in read_lines(events_file):
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit() and from_ms <= int(parts[0]) < to_ms:
            out.append({"node": node, "code": parts[1], "time_unix_ms": int(parts[0]),
                        "text": line})
    return out


def since(t, crash):
    return None if t is None else round(t - crash, 3)


def cmd_record(a):
    r = {"impl": a.impl, "setting": a.setting, "run": a.run, "crashed": a.crashed, "taker": a.taker,
         "crash_unix_ms": a.crash_ms, "failures": list(a.failure), "missing": []}
    if a.impl == "hasys":
        detect = hasys_detection_unix_ms(a.detect, a.crash_ms)
    else:
        detect = keepalived_detection_unix_ms(a.detect, a.crash_ms)
        r["notify_ms"] = since(keepalived_notify_unix_ms(a.notify, a.crash_ms), a.crash_ms)
        if detect is not None and r["notify_ms"] is not None:
            r["notify_after_detection_ms"] = round(r["notify_ms"] - (detect - a.crash_ms), 3)
    r["detection_ms"] = since(detect, a.crash_ms)
    if detect is None:
        r["failures"].append("no detection by the taker")
    if a.no_vip:
        r["vip_added_ms"] = r["ping_gap_ms"] = r["tcp_gap_ms"] = None
        r["missing"].append(a.no_vip)
    else:
        r["vip_added_ms"] = since(vip_added_unix_ms(a.monitor, a.crash_ms), a.crash_ms)
        if r["vip_added_ms"] is None:
            r["failures"].append("the VIP was not added on the taker")
        probe = None
        try:
            probe = json.loads(open(a.probe, encoding="utf-8").read())
        except (FileNotFoundError, ValueError) as e:
            r["failures"].append(f"no client probe result ({e})")
        r["probe"] = probe
        r["ping_gap_ms"] = r["tcp_gap_ms"] = None
        if probe:
            moved = probe["tcp"].get("moved_unix_ms") is not None
            if not moved:
                r["failures"].append(
                    f"the client never reached {a.taker} (stopped by {probe['stopped_by']})")
            else:
                r["ping_gap_ms"] = probe["icmp"]["largest_gap_ms"]
                r["tcp_gap_ms"] = probe["tcp"]["largest_gap_ms"]
    # Issue 18: the client's ping gap within VIP added + 2 periods (None: not measured).
    r["period_ms"] = a.period_ms
    r["ping_gap_limit_ms"] = r["ping_gap_within_limit"] = None
    if r.get("ping_gap_ms") is not None and r.get("vip_added_ms") is not None and a.period_ms:
        r["ping_gap_limit_ms"] = round(r["vip_added_ms"] + 2 * a.period_ms, 3)
        r["ping_gap_within_limit"] = r["ping_gap_ms"] <= r["ping_gap_limit_ms"]
    if a.impl == "hasys":
        phases, at = hasys_takeover_phases(a.detect, a.crash_ms)
        r["phases"] = phases
        r["vip_up_ms"] = since(at, a.crash_ms)
        if not a.no_vip:
            if phases is None:
                r["missing"].append("no vip_up event on the taker after the crash")
            elif any(v is None for v in phases.values()):
                r["missing"].append("a vip_up event without (all) the takeover phases")
    # False failovers: role or fence events on either node while the pair was steady, from the
    # end of the previous settling to this crash — a move the crash did not cause.
    r["steady_since_unix_ms"] = a.steady_since_ms
    false = []
    if a.steady_since_ms is not None:
        for spec in a.node_events:
            node, _, path = spec.partition(":")
            if a.impl == "hasys":
                false += hasys_false_failovers(node, path, a.steady_since_ms, a.crash_ms)
            else:
                false += keepalived_false_failovers(node, path, a.steady_since_ms, a.crash_ms)
    r["false_failovers"] = sorted(false, key=lambda e: e["time_unix_ms"])
    r["ok"] = not r["failures"]
    print(json.dumps(r))


def percentile(sorted_values, q):
    """Nearest rank: the smallest value with at least q of the samples at or below it."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def fmt(v):
    return "–" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")


def fmt_fine(v):
    """For phases, which can be tenths of a millisecond."""
    return "–" if v is None else (f"{v:.2f}" if v < 10 else fmt(v))


def stats(records, key):
    values = sorted(r[key] for r in records if r.get(key) is not None)
    return {"n": len(values), "p50": percentile(values, 0.50), "p95": percentile(values, 0.95),
            "p99": percentile(values, 0.99), "max": values[-1] if values else None}


def summarize(records, settings, impls):
    out = []
    for setting in settings:
        for impl in impls:
            rs = [r for r in records if r["setting"] == setting and r["impl"] == impl]
            if not rs:
                continue
            row = {"setting": setting, "impl": impl, "runs": len(rs),
                   "ok": sum(r["ok"] for r in rs),
                   "missing": sorted({m for r in rs for m in r["missing"]})}
            for key, _ in MEASURES:
                row[key] = stats(rs, key)
            if impl == "hasys":
                row["phases"] = {key: stats([r.get("phases") or {} for r in rs], key)
                                 for key, _ in PHASES}
                row["vip_up_ms"] = stats(rs, "vip_up_ms")
            row["false_failovers"] = sum(len(r.get("false_failovers", [])) for r in rs)
            row["false_failover_runs"] = [r["run"] for r in rs if r.get("false_failovers")]
            checked = [r for r in rs if r.get("ping_gap_within_limit") is not None]
            row["gap_checked"] = len(checked)
            row["gap_violations"] = [
                {"run": r["run"], "ping_gap_ms": r["ping_gap_ms"], "limit_ms": r["ping_gap_limit_ms"]}
                for r in checked if not r["ping_gap_within_limit"]]
            if impl == "keepalived":
                row["notify_ms"] = stats(rs, "notify_ms")
                row["notify_after_detection_ms"] = stats(rs, "notify_after_detection_ms")
            out.append(row)
    return out


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def markdown(summary, settings, skipped=()):
    lines = ["| setting | impl | runs ok | measure | p50 | p95 | p99 | max |",
             "|---|---|---|---|---|---|---|---|"]
    for row in summary:
        for key, name in MEASURES:
            s = row[key]
            lines.append(f"| {row['setting']} | {row['impl']} | {row['ok']}/{row['runs']} | "
                         f"{name} | {fmt(s['p50'])} | {fmt(s['p95'])} | {fmt(s['p99'])} | "
                         f"{fmt(s['max'])} |")
    ratios = []
    by = {(r["setting"], r["impl"]): r for r in summary}
    for setting in settings:
        h, k = by.get((setting, "hasys")), by.get((setting, "keepalived"))
        if not h or not k:
            continue
        for key, name in MEASURES:
            r50 = ratio(h[key]["p50"], k[key]["p50"])
            r99 = ratio(h[key]["p99"], k[key]["p99"])
            ratios.append(f"| {setting} | {name} | {'–' if r50 is None else f'{r50:.2f}'} | "
                          f"{'–' if r99 is None else f'{r99:.2f}'} |")
    if ratios:
        lines += ["", "Ratio hasys / keepalived (p50, p99; below 1.0 means hasys is faster):", "",
                  "| setting | measure | p50 ratio | p99 ratio |", "|---|---|---|---|"] + ratios
    fast = [r for r in summary if r["impl"] == "hasys" and not r["setting"].startswith("1s")]
    if fast:
        lines += ["", "hasys against issue 3's targets (p99 at the fast settings):", ""]
        for row in fast:
            checks = []
            for key, limit in TARGETS.items():
                v = row[key]["p99"]
                name = key.replace("_ms", "").replace("_", " ")
                if v is None:
                    checks.append(f"{name}: no data (target {limit} ms)")
                else:
                    checks.append(f"{name} {fmt(v)} ms {'≤' if v <= limit else '>'} {limit} "
                                  f"({'met' if v <= limit else 'MISSED'})")
            k = by.get((row["setting"], "keepalived"))
            if k:
                worst = max((ratio(row[key]["p99"], k[key]["p99"]) or 0.0) for key, _ in MEASURES)
                checks.append(f"largest p99 ratio to keepalived {worst:.2f} "
                              f"({'met' if worst <= 1.0 else 'MISSED'}: ≤ 1.0)")
            lines.append(f"- {row['setting']}: " + "; ".join(checks))
    phased = [r for r in summary if r["impl"] == "hasys" and r.get("phases")]
    if phased:
        lines += ["", "hasys takeover phases (the taker's vip_up event, ms):", "",
                  "| setting | phase | n | p50 | p99 | max |", "|---|---|---|---|---|---|"]
        for row in phased:
            for key, name in PHASES:
                s = row["phases"][key]
                lines.append(f"| {row['setting']} | {name} | {s['n']} | {fmt_fine(s['p50'])} | "
                             f"{fmt_fine(s['p99'])} | {fmt_fine(s['max'])} |")
            s = row["vip_up_ms"]
            lines.append(f"| {row['setting']} | the vip_up event, after the crash (its own clock, "
                         f"1 ms steps; compare VIP added) | {s['n']} | {fmt_fine(s['p50'])} | "
                         f"{fmt_fine(s['p99'])} | {fmt_fine(s['max'])} |")
    lines += ["", "Steady pair and client (false failovers: role or fence events — VRRP state "
              "changes for keepalived — on either node between the previous settling and the "
              "crash):", "",
              "| setting | impl | runs | false failovers (events; runs) | "
              "ping gap ≤ VIP added + 2 periods | violations (run: gap > limit, ms) |",
              "|---|---|---|---|---|---|"]
    for row in summary:
        v = row["gap_violations"]
        lines.append(
            f"| {row['setting']} | {row['impl']} | {row['runs']} | {row['false_failovers']}"
            f"{'' if not row['false_failover_runs'] else '; runs ' + ', '.join(map(str, row['false_failover_runs']))} | "
            f"{row['gap_checked'] - len(v)}/{row['gap_checked']} | "
            + (", ".join(f"{x['run']}: {fmt(x['ping_gap_ms'])} > {fmt(x['limit_ms'])}" for x in v)
               or "–") + " |")
    lags = [r for r in summary if r.get("notify_after_detection_ms", {}).get("n")]
    if lags:
        lines += ["", "Notes:", ""]
    for row in lags:
        lag = row["notify_after_detection_ms"]
        if lag["n"]:
            lines.append(f"- keepalived {row['setting']}: its MASTER notify line came "
                         f"{fmt(lag['p50'])} ms (p50; max {fmt(lag['max'])}) after its decision, "
                         "i.e. after adding the VIP and sending its first gratuitous ARPs")
    notes = sorted({m for r in summary for m in r["missing"]})
    if notes:
        lines += ["", "Missing: " + "; ".join(notes)]
    if skipped:
        lines += ["", "Not run: " + "; ".join(skipped)]
    lines += ["", "issue 18 targets:", ""] + issue18_lines(summary, by)
    return "\n".join(lines)


def met(ok):
    return "met" if ok else "NOT met"


def issue18_lines(summary, by):
    """met / NOT met with the numbers: VIP added against keepalived at 10ms:3, the client's
    ping gap within VIP added + 2 periods in every crash, no false failover (hasys)."""
    out = []
    h, k = by.get((ISSUE18_SETTING, "hasys")), by.get((ISSUE18_SETTING, "keepalived"))
    if h and k and h["vip_added_ms"]["n"] and k["vip_added_ms"]["n"]:
        hv, kv = h["vip_added_ms"], k["vip_added_ms"]
        ok = hv["p99"] <= kv["p99"] and hv["max"] <= kv["max"]
        out.append(f"- {ISSUE18_SETTING}: hasys VIP added p99 {fmt(hv['p99'])} / max "
                   f"{fmt(hv['max'])} ms ≤ keepalived's {fmt(kv['p99'])} / {fmt(kv['max'])} ms: "
                   f"{met(ok)}")
        r50 = ratio(hv["p50"], kv["p50"])
        out.append(f"- {ISSUE18_SETTING}: VIP added p50 ratio hasys / keepalived "
                   f"{fmt(hv['p50'])} / {fmt(kv['p50'])} = "
                   f"{'–' if r50 is None else f'{r50:.2f}'} ≤ {ISSUE18_P50_RATIO}: "
                   f"{met(r50 is not None and r50 <= ISSUE18_P50_RATIO)}")
    else:
        out.append(f"- {ISSUE18_SETTING}: VIP added against keepalived: not measured "
                   "(needs both implementations at this setting)")
    for row in summary:
        if row["impl"] != "hasys":
            continue
        v, n = row["gap_violations"], row["gap_checked"]
        ok = n == row["runs"] and not v
        worst = max((x["ping_gap_ms"] - x["limit_ms"] for x in v), default=None)
        out.append(f"- {row['setting']}: client ping gap ≤ VIP added + 2 periods in "
                   f"{n - len(v)} of {row['runs']} crashes"
                   + (f" ({n} measured)" if n != row["runs"] else "")
                   + (f", worst {fmt(worst)} ms over" if worst is not None else "")
                   + f": {met(ok)}")
        ff = row["false_failovers"]
        out.append(f"- {row['setting']}: false failovers {ff}"
                   + (f" (runs {', '.join(map(str, row['false_failover_runs']))})" if ff else "")
                   + f": {met(ff == 0)}")
    return out


def cmd_summary(a):
    records = [json.loads(l) for l in open(a.records, encoding="utf-8") if l.strip()]
    settings = a.settings.split()
    impls = [i for i in ("hasys", "keepalived") if any(r["impl"] == i for r in records)]
    summary = summarize(records, settings, impls)
    result = json.loads(open(a.meta, encoding="utf-8").read()) if a.meta else {}
    result.update({"summary": summary, "runs": records})
    with open(a.json_out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    result["not_run"] = list(a.skipped)
    table = markdown(summary, settings, a.skipped)
    with open(a.md_out, "w", encoding="utf-8") as f:
        f.write(table + "\n")
    print(table)


def cmd_progress(a):
    r = json.loads(a.record)
    f = lambda k: "-" if r.get(k) is None else f"{r[k]:.1f}"  # noqa: E731
    ph = r.get("phases") or {}
    p = lambda k: "-" if ph.get(k) is None else f"{ph[k]:.2f}"  # noqa: E731
    print(f"{r['impl']} {r['setting']} run {r['run']}: {r['crashed']} -> {r['taker']}: "
          f"detection {f('detection_ms')}, VIP {f('vip_added_ms')}, ping gap {f('ping_gap_ms')}, "
          f"TCP gap {f('tcp_gap_ms')} ms"
          + (f"; phases: silent {p('peer_silent_ms')}, decision→executor "
             f"{p('decision_to_executor_ms')}, →address {p('executor_to_address_ms')}, "
             f"→announce {p('address_to_announce_ms')} (decision→announce "
             f"{p('decision_to_announce_ms')})" if r.get("phases") else "")
          + ("" if r.get("ping_gap_within_limit") is not False else
             f"  PING GAP {f('ping_gap_ms')} > VIP + 2 periods {f('ping_gap_limit_ms')}")
          + ("" if not r.get("false_failovers") else
             "  FALSE FAILOVER: " + ", ".join(f"{e['node']} {e['code']}"
                                             for e in r["false_failovers"]))
          + ("" if r["ok"] else "  FAILED: " + "; ".join(r["failures"])))


def cmd_meta(a):
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    try:
        keepalived = subprocess.run(["keepalived", "--version"], capture_output=True, text=True,
                                    timeout=10).stderr.splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        keepalived = "not installed"
    now = datetime.datetime.now(datetime.timezone.utc)
    print(json.dumps({"date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "command": a.command, "fresh_lab": a.fresh_lab, "git": a.git,
                      "machine": {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
                                  "keepalived": keepalived},
                      "build_dir": a.build_dir, "executor_built": a.executor_built}, indent=1))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    for name in ("impl", "setting", "crashed", "taker", "detect", "monitor", "probe"):
        r.add_argument("--" + name, required=True)
    r.add_argument("--notify", default="")
    r.add_argument("--run", type=int, required=True)
    r.add_argument("--crash-ms", type=float, required=True)
    r.add_argument("--no-vip", default="",
                   help="why the VIP is not measured (hasys without executor)")
    r.add_argument("--failure", action="append", default=[], help="a failure the driver saw")
    r.add_argument("--period-ms", type=float, default=None)
    r.add_argument("--steady-since-ms", type=float, default=None,
                   help="when the pair was last settled before this crash (unix ms)")
    r.add_argument("--node-events", action="append", default=[],
                   help="NODE:FILE, that node's events (hasysctl JSON or keepalived notify lines)")
    s = sub.add_parser("summary")
    s.add_argument("--records", required=True)
    s.add_argument("--settings", required=True)
    s.add_argument("--meta", default="")
    s.add_argument("--json-out", required=True)
    s.add_argument("--md-out", required=True)
    s.add_argument("--skipped", action="append", default=[],
                   help="an implementation and setting not run, and why")
    g = sub.add_parser("progress")
    g.add_argument("record")
    m = sub.add_parser("meta")
    for name in ("command", "git", "build-dir"):
        m.add_argument("--" + name, required=True)
    m.add_argument("--fresh-lab", action="store_true")
    m.add_argument("--executor-built", action="store_true")
    a = p.parse_args()
    commands = {"record": cmd_record, "summary": cmd_summary, "progress": cmd_progress,
                "meta": cmd_meta}
    commands[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
