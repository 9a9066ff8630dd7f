#!/usr/bin/env python3
"""bench/start's numbers: one record per power-on of both nodes (`record`) and the summary.

`record` reads what start.sh left for one run — both nodes' heartbeat logs from where they stood
after the power-off, each node's events since then (`hasysctl events --since … --json`), the
roles and virtual IP holders once the pair settled — and prints one JSON line. `summary` reads
every record and prints a markdown summary: the flagged node (a, `--priority a`) Active N of M,
node b activated in K runs, `priority_not_taken`, the time from boot to a Active, per kind of run.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import sys

KINDS = [("plain", "both nodes booted together"),
         ("links", "daemons of both started again right after node a's links came back "
                   "(switch side down 2 s while the pair ran, neighbour entries failed)")]
# <time> info event <group> <severity> <code>: <text>   (hasys-heartbeat's log, docs/lab.md)
EVENT_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z \S+ event (\S+) (\S+) (\S+): (.*)$")
START_LINE = re.compile(r"hasys-heartbeat starting: node (\S+), .* boot id (\d+)")


def unix_ms(iso):
    t = datetime.datetime.fromisoformat(iso).replace(tzinfo=datetime.timezone.utc)
    return t.timestamp() * 1000.0


def log_part(path, offset):
    """The heartbeat log from a byte offset: its start line's boot id and its events."""
    boot_id, events = None, []
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None, [], ""
    for line in text.splitlines():
        m = START_LINE.search(line)
        if m and boot_id is None:
            boot_id = int(m.group(2))
            continue
        m = EVENT_LINE.match(line)
        if m and m.group(2) == "lab":
            events.append({"time_unix_ms": unix_ms(m.group(1)), "severity": m.group(3),
                           "code": m.group(4), "text": m.group(5), "source": "log"})
    return boot_id, events, text


def stream_events(path, since_ms):
    """hasysctl events --json lines at or after since_ms (the heartbeat's and executor's)."""
    out = []
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("time_unix_ms", 0) >= math.floor(since_ms):
            out.append({"time_unix_ms": float(e["time_unix_ms"]), "severity": e.get("severity"),
                        "code": e.get("code"), "text": e.get("text", ""),
                        "source": e.get("source", "")})
    return sorted(out, key=lambda e: e["time_unix_ms"])


def first(events, code):
    return next((e for e in events if e["code"] == code), None)


def cmd_record(a):
    r = {"run": a.run, "kind": a.kind, "boot": a.boot, "power_off_unix_ms": a.power_off_ms,
         "boot_unix_ms": a.boot_ms, "settled": a.settled, "settle_ms": a.settle_ms,
         "roles": {}, "vip_on": [], "failures": list(a.failure)}
    for spec in a.role:
        node, _, role = spec.partition("=")
        r["roles"][node] = role or None
    for spec in a.vip:
        node, _, held = spec.partition("=")
        if held == "1":
            r["vip_on"].append(node)
    nodes = {}
    for spec in a.node:
        # node:heartbeat log:offset after the power-off:events file
        node, log, offset, events_file = spec.split(":", 3)
        boot_id, log_events, text = log_part(log, int(offset))
        stream = stream_events(events_file, a.power_off_ms)
        nodes[node] = {"boot_id": boot_id, "log": log_events, "stream": stream, "text": text}
        if boot_id is None:
            r["failures"].append(f"node {node}: no heartbeat start in its log after the power-off")
        if stream is None:
            r["failures"].append(f"node {node}: no events from hasysctl")
    hb = {n: (v["boot_id"] / 1e6 if v["boot_id"] else None) for n, v in nodes.items()}
    r["heartbeat_start_unix_ms"] = hb
    if hb.get("a") is not None and hb.get("b") is not None:
        r["heartbeat_start_b_minus_a_ms"] = round(hb["b"] - hb["a"], 3)
    # Role events: the node's events stream (exact decision times) where it has them, else the
    # heartbeat's log lines (stamped when written, within a millisecond or so).
    role = {}
    for n, v in nodes.items():
        heartbeat_stream = [e for e in (v["stream"] or []) if e["source"] == "heartbeat"]
        role[n] = heartbeat_stream if heartbeat_stream else v["log"]
        r[f"{n}_events"] = [e["code"] for e in role[n]]
        r[f"{n}_event_source"] = "stream" if heartbeat_stream else "log"

    active = None
    if a.settled:
        actives = [n for n, x in r["roles"].items() if x == "active"]
        active = actives[0] if len(actives) == 1 else None
    r["active"] = active
    if not a.settled:
        r["failures"].append(f"no Active/Standby pair {a.timeout_s} s after the boot "
                             f"(roles {r['roles']})")
    elif active != "a":
        r["failures"].append(f"node {active} became Active, not a")
    if a.vip_checked and a.settled:
        if r["vip_on"] != ([active] if active else []):
            r["failures"].append(f"the virtual IP is on {r['vip_on'] or 'no node'}, "
                                 f"the Active is {active}")

    # Node b activating at any time of this run: in its stream or in its log.
    b = nodes.get("b", {"log": [], "stream": []})
    b_stream = [e for e in b["stream"] or [] if e["code"] == "activating"]
    b_log = [e for e in b["log"] if e["code"] == "activating"]
    r["b_activated"] = bool(b_stream or b_log)
    r["b_activating"] = [[e["time_unix_ms"], e["text"]] for e in (b_stream or b_log)]
    pnt = []
    for n, v in nodes.items():
        seen = set()
        for e in (v["stream"] or []) + v["log"]:
            if e["code"] == "priority_not_taken" and e["text"] not in seen:
                seen.add(e["text"])
                pnt.append({"node": n, "time_unix_ms": e["time_unix_ms"], "text": e["text"]})
    r["priority_not_taken"] = pnt

    a_events = role.get("a", [])
    act, on = first(a_events, "activating"), first(a_events, "active")
    r["a_activating_after_start_ms"] = (round(act["time_unix_ms"] - hb["a"], 3)
                                        if act and hb.get("a") else None)
    r["a_active_after_start_ms"] = (round(on["time_unix_ms"] - hb["a"], 3)
                                    if on and hb.get("a") else None)
    r["a_active_after_boot_ms"] = round(on["time_unix_ms"] - a.boot_ms, 3) if on else None
    if active == "a" and on is None:
        r["failures"].append("node a is Active but said no 'active' event")
    r["a_active"] = active == "a" and not r["failures"]
    r["ok"] = r["a_active"] and not r["b_activated"] and not pnt
    if a.keep_dir and not r["ok"]:
        for n, v in nodes.items():
            with open(os.path.join(a.keep_dir, f"run{a.run}-{n}-heartbeat.log"), "w",
                      encoding="utf-8") as f:
                f.write(v["text"])
    print(json.dumps(r))


def cmd_progress(a):
    r = json.loads(a.record)
    f = lambda k: "-" if r.get(k) is None else f"{r[k]:.1f}"  # noqa: E731
    trouble = []
    if r["b_activated"]:
        trouble.append("b ACTIVATED: " + "; ".join(t for _, t in r["b_activating"]))
    for p in r["priority_not_taken"]:
        trouble.append(f"{p['node']} priority_not_taken: {p['text']}")
    trouble += r["failures"]
    print(f"run {r['run']} ({r['kind']}): {r['active'] or 'no'} Active; a decided "
          f"{f('a_activating_after_start_ms')} ms after its heartbeat started, Active "
          f"{f('a_active_after_boot_ms')} ms after the boot command; heartbeat start b-a "
          f"{f('heartbeat_start_b_minus_a_ms')} ms"
          + ("" if not trouble else "  " + " | ".join(trouble)))


def percentile(sorted_values, q):
    """Nearest rank: the smallest value with at least q of the samples at or below it."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def stats(values):
    v = sorted(x for x in values if x is not None)
    return {"n": len(v), "p50": percentile(v, 0.5), "p95": percentile(v, 0.95),
            "max": v[-1] if v else None}


def fmt(v):
    return "–" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.1f}")


def fmt3(s):
    return f"{fmt(s['p50'])} / {fmt(s['p95'])} / {fmt(s['max'])}"


def summarize(records):
    rows = []
    for kind, name in [("all", "all runs")] + KINDS:
        rs = [r for r in records if kind == "all" or r["kind"] == kind]
        if not rs:
            continue
        rows.append({
            "kind": kind, "name": name, "runs": len(rs),
            "a_active": sum(r["a_active"] for r in rs),
            "not_a_active_runs": [r["run"] for r in rs if not r["a_active"]],
            "b_activated_runs": [r["run"] for r in rs if r["b_activated"]],
            "priority_not_taken_runs": [r["run"] for r in rs if r["priority_not_taken"]],
            "decision": stats(r["a_activating_after_start_ms"] for r in rs),
            "active": stats(r["a_active_after_boot_ms"] for r in rs),
            "skew": stats(abs(r["heartbeat_start_b_minus_a_ms"]) for r in rs
                          if r.get("heartbeat_start_b_minus_a_ms") is not None),
        })
    return rows


def runs_text(runs):
    if not runs:
        return "0"
    shown = ", ".join(map(str, runs[:10])) + (", …" if len(runs) > 10 else "")
    return f"{len(runs)} ({'run' if len(runs) == 1 else 'runs'} {shown})"


def markdown(rows, meta):
    lines = [f"Start bench {meta.get('date', '')}: both nodes powered off together and booted "
             f"together, period {meta.get('period')} x {meta.get('count')}, --priority a, "
             f"boot: {meta.get('boot')}; git {meta.get('git')}, {meta.get('machine', {}).get('cores')} "
             f"cores, kernel {meta.get('machine', {}).get('kernel')}.", "",
             "| runs | count | flagged node (a) Active | b activated | priority_not_taken | "
             "a's decision after its heartbeat started p50 / p95 / max (ms) | "
             "a Active after the boot command p50 / p95 / max (ms) | "
             "heartbeat starts apart p50 / p95 / max (ms) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['runs']} | {r['a_active']} of {r['runs']} | "
                     f"{runs_text(r['b_activated_runs'])} | "
                     f"{runs_text(r['priority_not_taken_runs'])} | {fmt3(r['decision'])} | "
                     f"{fmt3(r['active'])} | {fmt3(r['skew'])} |")
    if rows:
        total = rows[0]
        ok = total["a_active"] == total["runs"]
        lines += ["", f"- flagged node Active {total['a_active']} of {total['runs']}: "
                  f"{'met' if ok else 'NOT met'}"
                  + ("" if ok else f" (not in runs {', '.join(map(str, total['not_a_active_runs']))})"),
                  f"- node b activated in {len(total['b_activated_runs'])} runs; "
                  f"priority_not_taken in {len(total['priority_not_taken_runs'])} runs"]
    return "\n".join(lines)


def cmd_summary(a):
    records = [json.loads(l) for l in open(a.records, encoding="utf-8") if l.strip()]
    meta = json.loads(open(a.meta, encoding="utf-8").read()) if a.meta else {}
    rows = summarize(records)
    with open(a.json_out, "w", encoding="utf-8") as f:
        json.dump(dict(meta, summary=rows), f, indent=1)
    text = markdown(rows, meta)
    with open(a.md_out, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(text)
    return 0 if rows and rows[0]["a_active"] == rows[0]["runs"] else 1


def cmd_meta(a):
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    now = datetime.datetime.now(datetime.timezone.utc)
    print(json.dumps({"date": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "command": a.command,
                      "git": a.git, "period": a.period, "count": a.count, "boot": a.boot,
                      "machine": {"cpu": cpu, "cores": os.cpu_count(),
                                  "kernel": platform.release()}}, indent=1))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--run", type=int, required=True)
    r.add_argument("--kind", choices=[k for k, _ in KINDS], required=True)
    r.add_argument("--boot", required=True)
    r.add_argument("--power-off-ms", type=float, required=True)
    r.add_argument("--boot-ms", type=float, required=True)
    r.add_argument("--settled", type=int, choices=[0, 1], required=True)
    r.add_argument("--settle-ms", type=float, default=None)
    r.add_argument("--timeout-s", type=int, default=30)
    r.add_argument("--role", action="append", default=[], help="NODE=ROLE once settled")
    r.add_argument("--vip", action="append", default=[], help="NODE=1 when it holds the VIP")
    r.add_argument("--vip-checked", action="store_true")
    r.add_argument("--node", action="append", default=[],
                   help="NODE:HEARTBEAT_LOG:OFFSET:EVENTS_FILE")
    r.add_argument("--failure", action="append", default=[])
    r.add_argument("--keep-dir", default="", help="where to keep the log parts of a bad run")
    g = sub.add_parser("progress")
    g.add_argument("record")
    s = sub.add_parser("summary")
    s.add_argument("--records", required=True)
    s.add_argument("--meta", default="")
    s.add_argument("--json-out", required=True)
    s.add_argument("--md-out", required=True)
    m = sub.add_parser("meta")
    for name in ("command", "git", "period", "count", "boot"):
        m.add_argument("--" + name, required=True)
    a = p.parse_args()
    return {"record": cmd_record, "progress": cmd_progress, "summary": cmd_summary,
            "meta": cmd_meta}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
