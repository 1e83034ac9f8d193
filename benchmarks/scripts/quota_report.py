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
import sys

import report_md
from report_md import fewer, fmt, num, pct, table

ORDER = ["reactive", "weighted", "header-aware", "configured-limits", "fail-fast", "queued-2s", "pacer"]


def by(runs, scenario, contender):
    for r in runs:
        if r["scenario"] == scenario and r["contender"] == contender:
            return r
    return None


def verdict(ok):
    return "met" if ok else "**missed**"


def fx(x):
    return "∞" if x == math.inf else fmt(x, 1) + "×" if num(x) else "–"


AFTER = ["header-aware", "configured-limits"]
OVERLOAD = ["fail-fast", "queued-2s"]


def targets(exp, sim):
    """One row per target and contender: the figure before (reactive) and after, and the verdict."""
    runs = exp["runs"]
    rows = []

    def row(target, c, before, after, ok):
        rows.append([target, c, before, after, verdict(ok)])

    for c in AFTER:
        vals, ok, base = [], True, []
        for sc in ["load-80", "azure-80", "anthropic-80", "none-80", "window-80"]:
            r, b = by(runs, sc, c), by(runs, sc, "reactive")
            if r is None:
                continue
            v = r["rateLimitedPer1000AfterFirstMinute"]
            vals.append(f"{sc} {fmt(v, 1)}")
            base.append(f"{sc} {fmt(b['rateLimitedPer1000AfterFirstMinute'], 1)}" if b else f"{sc} –")
            ok = ok and num(v) and v == 0
        if vals:
            row("one instance, 80%: no 429 after the first minute, every dialect", c, "; ".join(base), "; ".join(vals), ok)
    for c in AFTER + OVERLOAD:
        vals, ok, att, att_ok, base, base_att = [], True, [], True, [], []
        for sc in ["load-100", "load-120", "window-120", "tokens-100"]:
            r, b = by(runs, sc, c), by(runs, sc, "reactive")
            if r is None or b is None:
                continue
            x = fewer(r["rateLimitedPer1000"], b["rateLimitedPer1000"])
            vals.append(f"{sc} {fmt(r['rateLimitedPer1000'])} ({fx(x)} fewer)")
            base.append(f"{sc} {fmt(b['rateLimitedPer1000'])}")
            ok = ok and x is not None and x >= 10
            att.append(f"{sc} {fmt(r['attemptsPerRequest'], 3)}")
            base_att.append(f"{sc} {fmt(b['attemptsPerRequest'], 3)}")
            att_ok = att_ok and r["attemptsPerRequest"] <= 1.05
        if vals:
            row("one instance, 100%/120%: 429s / 1,000 at least 10× fewer than reactive", c, "; ".join(base),
                "; ".join(vals), ok)
            row("one instance, 100%/120%: attempts per request ≤ 1.05", c, "; ".join(base_att), "; ".join(att), att_ok)
    for c in AFTER + OVERLOAD:
        vals, ok, base = [], True, []
        for sc in ["load-100", "load-120", "window-120"]:
            r, b = by(runs, sc, c), by(runs, sc, "reactive")
            if r is None:
                continue
            share = r.get("headroomOutWhileRoomShare")
            vals.append(f"{sc} {pct(share)} of {pct(r.get('headroomOutShare'))}")
            if b is not None:
                base.append(f"{sc} evicted with room {pct(b.get('evictedWhileRoomShare', b.get('outWhileRoomShare')))}")
            ok = ok and (not num(share) or share <= 0.05)
        if vals:
            row("no provider out of rotation by its own headroom signal while it had room (share of its "
                "headroom-out time with room ≤ 5%)", c, "; ".join(base), "; ".join(vals), ok)
    b = by(runs, "fallback", "reactive")
    for c in AFTER + ["pacer"]:
        r = by(runs, "fallback", c)
        if r is None:
            continue
        ok = r["spilledShare"] <= r["shortfallShare"] + 0.02
        row("fallback tier: spill ≤ shortfall + 2 points", c,
            f"{pct(b['spilledShare'])} spilled" if b else "–",
            f"{pct(r['spilledShare'])} spilled, shortfall {pct(r['shortfallShare'])}", ok)
    for c in AFTER + OVERLOAD:
        vals, ok, base = [], True, []
        for sc in ["load-120", "window-120"]:
            r, b = by(runs, sc, c), by(runs, sc, "reactive")
            if r is None:
                continue
            f = r["failed"]
            bound = 2.0 + (2.0 if c == "queued-2s" else 0.0)
            vals.append(f"{sc}: {f['count']} failed, p50 {fmt(f['p50Sec'], 2)} / p99 {fmt(f['p99Sec'], 2)} s; "
                        f"{r.get('rateLimitedWithoutRoomAtDispatch', '–')} 429s sent without room")
            if b:
                base.append(f"{sc}: {b['failed']['count']} failed, p99 {fmt(b['failed']['p99Sec'], 2)} s")
            ok = ok and (f["count"] == 0 or f["p99Sec"] <= bound) and r.get("rateLimitedWithoutRoomAtDispatch", 0) == 0
        if vals:
            row("excess refused fast (p99 ≤ 2 s world; queued: within the 2 s bound + 2 s) or queued, "
                "and not sent where there is no room", c, "; ".join(base), "; ".join(vals), ok)
    for c in AFTER:
        e, m = by(runs, "unequal-equal", c), by(runs, "unequal-matched", c)
        be, bm = by(runs, "unequal-equal", "reactive"), by(runs, "unequal-matched", "reactive")
        if e is None or m is None:
            continue
        a, bb = e["rateLimitedPer1000"], m["rateLimitedPer1000"]
        ok = a <= 2 * bb if bb > 0 else a <= 1.0
        row("limits 1:2:4: equal weights within 2× of matched weights (429 / 1,000)", c,
            f"{fmt(be['rateLimitedPer1000'])} vs {fmt(bm['rateLimitedPer1000'])}" if be and bm else "–",
            f"{fmt(a)} vs {fmt(bb)}", ok)
    base = by(runs, "instances-8", "reactive")
    for c in ["header-aware"] + OVERLOAD:
        r = by(runs, "instances-8", c)
        if r and base:
            x = fewer(r["rateLimitedPer1000"], base["rateLimitedPer1000"])
            row("8 instances, headers only, 120%: 429s at least 3× fewer than reactive", c,
                fmt(base["rateLimitedPer1000"]), f"{fmt(r['rateLimitedPer1000'])} ({fx(x)} fewer)",
                x is not None and x >= 3)
    if sim:
        for fleet in ["mixed-weighted", "mixed-equal"]:
            s = [x for x in sim["runs"] if x["fleet"] == fleet]
            b = next((x for x in s if x["contender"] == "reactive"), None)
            for c in AFTER + ["header-aware+shared"]:  # +shared: the instances share through SharedState (simulated)
                h = next((x for x in s if x["contender"] == c), None)
                if h and b:
                    x = fewer(h["rateLimitedPer1000"], b["rateLimitedPer1000"])
                    row(f"simulation, 100 instances, global quota in headers, 90%, {fleet}: 429s at least 3× fewer",
                        c, fmt(b["rateLimitedPer1000"], 2), f"{fmt(h['rateLimitedPer1000'], 2)} ({fx(x)} fewer)",
                        x is not None and x >= 3)
    return table(["target (issue #17)", "contender", "before: reactive", "after", "verdict"], rows)


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
            pct(r.get("evictedWhileRoomShare", r.get("outWhileRoomShare"))),
            f"{pct(r.get('headroomOutShare'))} ({pct(r.get('headroomOutWhileRoomShare'))})" if "headroomOutShare" in r else "–",
            f"{r.get('rateLimitedWithRoomAtDispatch', '–')} / {r.get('rateLimitedWithoutRoomAtDispatch', '–')}",
            pct(r.get("rateLimitedWhileAnotherOutShare")), spill,
            pct(fifth[4]) if fifth and num(fifth[4]) else "–",
            f"{f['count']}: {fmt(f['p50Sec'], 2)} / {fmt(f['p99Sec'], 2)}",
            fmt(r["latencySec"]["p50"], 2),
        ])
    return table(["contender", "429 / 1,000", "after 1st min", "attempts", "success", "tier out",
                  "evicted with room", "no headroom (with room)", "429s: room / none at dispatch", "429 beside an out one", "spill (shortfall)", "429s in last fifth",
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


def tuning(before, after, sim_before, sim_after):
    """The Headroom tuning, side by side: the same scenarios and contenders with the core's model before and after."""
    rows = []
    for d in after["meta"]["scenarios"]:
        sc = d["name"]
        for c in ["reactive"] + AFTER + OVERLOAD:
            a, b = by(after["runs"], sc, c), by(before["runs"], sc, c)
            if a is None or b is None or (b["rateLimited"] == 0 and a["rateLimited"] == 0):
                continue
            rows.append([sc, c, f"{fmt(b['rateLimitedPer1000'])} → {fmt(a['rateLimitedPer1000'])}",
                         f"{fmt(b['attemptsPerRequest'], 3)} → {fmt(a['attemptsPerRequest'], 3)}",
                         f"{pct(b['successRate'], 2)} → {pct(a['successRate'], 2)}",
                         f"{pct(b.get('headroomOutWhileRoomShare'))} → {pct(a.get('headroomOutWhileRoomShare'))}"])
    out = table(["scenario", "contender", "429 / 1,000", "attempts", "success", "no headroom while it had room"], rows)
    if sim_before and sim_after:
        srows = []
        for r in sim_after["runs"]:
            b = next((x for x in sim_before["runs"] if x["fleet"] == r["fleet"] and x["contender"] == r["contender"]),
                     None)
            if b:
                srows.append([r["fleet"], r["contender"], f"{fmt(b['rateLimitedPer1000'], 2)} → {fmt(r['rateLimitedPer1000'], 2)}",
                              f"{fmt(b['attemptsPerRequest'], 3)} → {fmt(r['attemptsPerRequest'], 3)}"])
        out += "\n\nSimulation (100 instances, 90%):\n\n" + table(["fleet", "contender", "429 / 1,000", "attempts"], srows)
    return out


def load(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def replace_blocks(doc, blocks):
    with open(doc, encoding="utf-8") as f:
        text, missing = report_md.replace_blocks(f.read(), "quota", blocks)
    with open(doc, "w", encoding="utf-8") as f:
        f.write(text)
    return missing


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--results", default=os.path.join(here, "..", "quality-results"))
    ap.add_argument("--doc", default=os.path.join(here, "..", "QUOTA.md"))
    ap.add_argument("--before", help="results of the same run with the core before the Headroom tuning "
                    "(fills the 'tuning' block)")
    ap.add_argument("--session-before", help="results of the full run at the start of a session (fills the "
                    "'session-targets-before' and 'session' blocks: that run's target table, and every scenario "
                    "and contender side by side with this run)")
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
    if a.before:
        b_exp = load(os.path.join(a.before, "quota-experiment.json"))
        if b_exp:
            blocks["tuning"] = tuning(b_exp, exp, load(os.path.join(a.before, "quota-simulation.json")), sim)
    if a.session_before:
        s_exp = load(os.path.join(a.session_before, "quota-experiment.json"))
        if s_exp:
            s_sim = load(os.path.join(a.session_before, "quota-simulation.json"))
            blocks["session-targets-before"] = targets(s_exp, s_sim)
            blocks["session"] = tuning(s_exp, exp, s_sim, sim)
    missing = replace_blocks(a.doc, blocks)
    if missing:
        sys.exit(f"quota report: {a.doc} lacks the blocks {missing}")
    print(f"quota report: {len(exp['runs'])} runs, {len(sim['runs']) if sim else 0} simulation runs -> {a.doc}")


if __name__ == "__main__":
    main()
