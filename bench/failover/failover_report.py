#!/usr/bin/env python3
"""bench/failover's numbers: one record per crash (`record`) and the tables (`summary`).

`record` reads what failover.sh left for one run — the crash time, the client probe's JSON, the
taker's `ip -ts monitor address` output and its detection source (hasysctl events JSON lines for
hasys, the time-stamped keepalived log and notify events for keepalived) — and prints one JSON
line. `summary` reads every record of a results directory and prints a markdown table.
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
    r["ok"] = not r["failures"]
    print(json.dumps(r))


def percentile(sorted_values, q):
    """Nearest rank: the smallest value with at least q of the samples at or below it."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def fmt(v):
    return "–" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")


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
            if impl == "keepalived":
                row["notify_ms"] = stats(rs, "notify_ms")
                row["notify_after_detection_ms"] = stats(rs, "notify_after_detection_ms")
            out.append(row)
    return out


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def markdown(summary, settings):
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
    return "\n".join(lines)


def cmd_summary(a):
    records = [json.loads(l) for l in open(a.records, encoding="utf-8") if l.strip()]
    settings = a.settings.split()
    impls = [i for i in ("hasys", "keepalived") if any(r["impl"] == i for r in records)]
    summary = summarize(records, settings, impls)
    result = json.loads(open(a.meta, encoding="utf-8").read()) if a.meta else {}
    result.update({"summary": summary, "runs": records})
    with open(a.json_out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    table = markdown(summary, settings)
    with open(a.md_out, "w", encoding="utf-8") as f:
        f.write(table + "\n")
    print(table)


def cmd_progress(a):
    r = json.loads(a.record)
    f = lambda k: "-" if r.get(k) is None else f"{r[k]:.1f}"  # noqa: E731
    print(f"{r['impl']} {r['setting']} run {r['run']}: {r['crashed']} -> {r['taker']}: "
          f"detection {f('detection_ms')}, VIP {f('vip_added_ms')}, ping gap {f('ping_gap_ms')}, "
          f"TCP gap {f('tcp_gap_ms')} ms"
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
    s = sub.add_parser("summary")
    s.add_argument("--records", required=True)
    s.add_argument("--settings", required=True)
    s.add_argument("--meta", default="")
    s.add_argument("--json-out", required=True)
    s.add_argument("--md-out", required=True)
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
