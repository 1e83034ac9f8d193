#!/usr/bin/env python3
"""Tables of benchmarks/QUOTA.md from the raw quota results (Python 3 standard library only).

Reads quality-results/quota-experiment.json (the loopback quota experiment) and
quality-results/quota-simulation.json (the 100-instance simulation with providers reporting their
global quota), and rewrites every generated block of QUOTA.md: the text between
`<!-- quota:begin NAME -->` and `<!-- quota:end NAME -->`. Everything else is left as written.
Exits non-zero when a result file is missing or a run has no requests (the smoke check).

    python3 scripts/quota_report.py [--results DIR] [--doc FILE]
"""

import argparse
import json
import math
import os
import re
import sys

ORDER = ["reactive", "weighted", "header-aware", "configured-limits", "pacer"]


def num(v):
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def fmt(v, digits=1):
    return f"{float(v):.{digits}f}" if num(v) else "–"


def pct(v, digits=1):
    return f"{100 * float(v):.{digits}f}%" if num(v) else "–"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def by(runs, scenario, contender):
    for r in runs:
        if r["scenario"] == scenario and r["contender"] == contender:
            return r
    return None


def verdict(ok):
    return "met" if ok else "**missed**"


def ratio(a, b):
    """How many times fewer a has than b (b / a), inf when a is 0 and b is not."""
    if not num(a) or not num(b):
        return None
    if a == 0:
        return math.inf if b > 0 else 1.0
    return b / a


def fx(x):
    return "∞" if x == math.inf else fmt(x, 1) + "×" if num(x) else "–"


def targets(exp, sim):
    runs = exp["runs"]
    rows = []
    core = exp["meta"].get("coreQuotaRouting")
    for c in ["header-aware", "configured-limits"]:
        vals = []
        ok = True
        for sc in ["load-80", "azure-80", "anthropic-80", "none-80", "window-80"]:
            r = by(runs, sc, c)
            if r is None:
                continue
            v = r["rateLimitedPer1000AfterFirstMinute"]
            vals.append(f"{sc} {fmt(v, 1)}")
            ok = ok and num(v) and v == 0
        if vals:
            rows.append([f"one instance, 80%: no 429 after the first minute, every dialect ({c})", "; ".join(vals),
                         verdict(ok)])
    for c in ["header-aware", "configured-limits"]:
        vals = []
        ok = True
        att = []
        att_ok = True
        for sc in ["load-100", "load-120", "window-120", "tokens-100"]:
            r, base = by(runs, sc, c), by(runs, sc, "reactive")
            if r is None or base is None:
                continue
            x = ratio(r["rateLimitedPer1000"], base["rateLimitedPer1000"])
            vals.append(f"{sc} {fmt(r['rateLimitedPer1000'])} vs {fmt(base['rateLimitedPer1000'])} ({fx(x)})")
            ok = ok and x is not None and x >= 10
            att.append(f"{sc} {fmt(r['attemptsPerRequest'], 3)}")
            att_ok = att_ok and r["attemptsPerRequest"] <= 1.05
        if vals:
            rows.append([f"one instance, 100%/120%: 429s ≥ 10× fewer than reactive ({c})", "; ".join(vals), verdict(ok)])
            rows.append([f"one instance, 100%/120%: attempts per request ≤ 1.05 ({c})", "; ".join(att), verdict(att_ok)])
    for c in ["header-aware", "configured-limits"]:
        vals = []
        ok = True
        for sc in ["load-100", "load-120", "window-120"]:
            r = by(runs, sc, c)
            if r is None or not num(r.get("outWhileRoomShare")):
                continue
            vals.append(f"{sc} {pct(r['outWhileRoomShare'])} of {pct(r['providerOutShare'])}")
            ok = ok and r["outWhileRoomShare"] <= 0.05
        if vals:
            rows.append([f"no provider out of rotation while it had room: share of out time with room ≤ 5% ({c})",
                         "; ".join(vals), verdict(ok)])
    for c in ["reactive", "header-aware", "configured-limits", "pacer"]:
        r = by(runs, "fallback", c)
        if r is None:
            continue
        ok = r["spilledShare"] <= r["shortfallShare"] + 0.02
        rows.append([f"fallback tier: spill ≤ shortfall + 2 points ({c})",
                     f"{pct(r['spilledShare'])} spilled, shortfall {pct(r['shortfallShare'])}", verdict(ok)])
    for c in ["header-aware", "configured-limits"]:
        vals = []
        ok = True
        for sc in ["load-120", "window-120"]:
            r = by(runs, sc, c)
            if r is None:
                continue
            f = r["failed"]
            vals.append(f"{sc}: {f['count']} failed, p99 {fmt(f['p99Sec'], 2)} s")
            ok = ok and (f["count"] == 0 or f["p99Sec"] <= 2.0)
        if vals:
            rows.append([f"excess refused fast: p99 time to failure ≤ 2 s, world ({c})", "; ".join(vals), verdict(ok)])
    for c in ["header-aware", "configured-limits", "reactive"]:
        e, m = by(runs, "unequal-equal", c), by(runs, "unequal-matched", c)
        if e is None or m is None:
            continue
        a, b = e["rateLimitedPer1000"], m["rateLimitedPer1000"]
        ok = a <= 2 * b if b > 0 else a == 0
        rows.append([f"limits 1:2:4, equal weights within 2× of matched weights (429/1000, {c})",
                     f"{fmt(a)} vs {fmt(b)}", verdict(ok)])
    r, base = by(runs, "instances-8", "header-aware"), by(runs, "instances-8", "reactive")
    if r and base:
        x = ratio(r["rateLimitedPer1000"], base["rateLimitedPer1000"])
        rows.append(["8 instances, headers only, 120%: 429s ≥ 3× fewer than reactive",
                     f"{fmt(r['rateLimitedPer1000'])} vs {fmt(base['rateLimitedPer1000'])} ({fx(x)})",
                     verdict(x is not None and x >= 3)])
    if sim:
        for fleet in ["mixed-weighted", "mixed-equal"]:
            s = [x for x in sim["runs"] if x["fleet"] == fleet]
            h = next((x for x in s if x["contender"] == "header-aware"), None)
            b = next((x for x in s if x["contender"] == "reactive"), None)
            if h and b:
                x = ratio(h["rateLimitedPer1000"], b["rateLimitedPer1000"])
                rows.append([f"simulation, 100 instances, global quota in headers, 90%, {fleet}: 429s ≥ 3× fewer than reactive",
                             f"{fmt(h['rateLimitedPer1000'], 2)} vs {fmt(b['rateLimitedPer1000'], 2)} ({fx(x)})",
                             verdict(x is not None and x >= 3)])
    note = ("" if core else
            "\n\nThe core had no `quotaRouting` when these results were made (`coreQuotaRouting: false` in the JSON): "
            "\"header-aware\" and \"configured-limits\" ran the library as it is, which routes reactively; their rows "
            "measure today's behaviour, not the new routing.")
    return table(["target (issue #17)", "measured", "verdict"], rows) + note


def scenario_table(exp, name):
    rows = []
    for c in ORDER:
        r = by(exp["runs"], name, c)
        if r is None:
            continue
        f = r["failed"]
        fifth = r.get("rateLimitedByWindowFifth")
        spill = (f"{pct(r['spilledShare'])} ({pct(r['shortfallShare'])})" if "spilledShare" in r else "–")
        tier_out = r.get("tierOutShare")
        rows.append([
            c, fmt(r["rateLimitedPer1000"]), fmt(r["rateLimitedPer1000AfterFirstMinute"]), fmt(r["attemptsPerRequest"], 3),
            pct(r["successRate"], 2),
            " / ".join(pct(x) for x in tier_out) if tier_out else "–",
            pct(r.get("outWhileRoomShare")), pct(r.get("rateLimitedWhileAnotherOutShare")), spill,
            pct(fifth[4]) if fifth and num(fifth[4]) else "–",
            f"{f['count']}: {fmt(f['p50Sec'], 2)} / {fmt(f['p99Sec'], 2)}",
            fmt(r["latencySec"]["p50"], 2),
        ])
    return table(["contender", "429 / 1,000", "after 1st min", "attempts", "success", "tier out",
                  "out with room", "429 beside an out one", "spill (shortfall)", "429s in last fifth",
                  "failed: p50 / p99 s", "latency p50 s"], rows)


def scenarios(exp):
    out = []
    desc = {d["name"]: d for d in exp["meta"]["scenarios"]}
    for name, d in desc.items():
        out.append(f"**{d['title']}** (`{name}`): {d['description']} Offered {fmt(d['offeredPerMinute'])} requests per "
                   f"world minute for {fmt(d['durationMin'], 0)} minutes, {d['instances']} instance(s).\n")
        out.append(scenario_table(exp, name))
        out.append("")
    return "\n".join(out)


def simulation(sim):
    rows = []
    for r in sim["runs"]:
        rows.append([r["fleet"], r["contender"], r["requests"], fmt(r["rateLimitedPer1000"], 2),
                     fmt(r["attemptsPerRequest"], 3), pct(r["successRate"], 3), fmt(r["latencySec"]["p50"], 2),
                     fmt(r["latencySec"]["p99"], 2)])
    m = sim["meta"]
    head = (f"{m['instances']} instances, {fmt(m['durationSec'], 0)} s virtual ({fmt(m['warmupSec'], 0)} s warm-up), "
            f"utilisation {m['utilization']}, seed {m['seed']}, {fmt(m['elapsedSec'], 1)} s to run.\n\n")
    return head + table(["fleet", "contender", "requests", "429 / 1,000", "attempts", "success", "latency p50 s",
                         "p99 s"], rows)


def meta(exp):
    m = exp["meta"]
    return (f"Scale {m['scale']} (a world minute lasts {fmt(m['worldMinuteLoopbackSec'], 1)} loopback seconds), seed "
            f"{m['seed']}, core quota routing {'present' if m['coreQuotaRouting'] else 'absent'}; mean admission "
            f"estimate {fmt(m['meanAdmissionTokens'], 0)} tokens, mean real usage {fmt(m['meanRealTokens'], 0)} tokens "
            f"per request; pacer's wait bound {fmt(m['pacerMaxWaitSec'], 0)} s. {m['cpus']} CPUs, Java {m['java']}, "
            f"load average {m['loadAverage']} at the start and {m['loadAverageEnd']} at the end; "
            f"{fmt(m['elapsedSec'], 0)} s to run.")


def replace_blocks(doc, blocks):
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    missing = []
    for name, body in blocks.items():
        pat = re.compile(r"(<!-- quota:begin " + re.escape(name) + r" -->\n)(.*?)(<!-- quota:end " + re.escape(name)
                         + r" -->)", re.S)
        if not pat.search(text):
            missing.append(name)
            continue
        text = pat.sub(lambda mm: mm.group(1) + body.rstrip() + "\n" + mm.group(3), text)
    with open(doc, "w", encoding="utf-8") as f:
        f.write(text)
    return missing


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--results", default=os.path.join(here, "..", "quality-results"))
    ap.add_argument("--doc", default=os.path.join(here, "..", "QUOTA.md"))
    a = ap.parse_args()
    with open(os.path.join(a.results, "quota-experiment.json"), encoding="utf-8") as f:
        exp = json.load(f)
    sim = None
    sim_file = os.path.join(a.results, "quota-simulation.json")
    if os.path.exists(sim_file):
        with open(sim_file, encoding="utf-8") as f:
            sim = json.load(f)
    empty = [f"{r['scenario']}/{r['contender']}" for r in exp["runs"] if not r["requests"]]
    if empty:
        sys.exit(f"quota report: runs without requests: {empty}")
    blocks = {"meta": meta(exp), "targets": targets(exp, sim), "scenarios": scenarios(exp)}
    if sim:
        blocks["simulation"] = simulation(sim)
    missing = replace_blocks(a.doc, blocks)
    if missing:
        sys.exit(f"quota report: {a.doc} lacks the blocks {missing}")
    print(f"quota report: {len(exp['runs'])} runs, {len(sim['runs']) if sim else 0} simulation runs -> {a.doc}")


if __name__ == "__main__":
    main()
