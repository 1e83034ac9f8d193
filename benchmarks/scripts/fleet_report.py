#!/usr/bin/env python3
"""Tables of benchmarks/FLEET.md from the raw fleet results (Python 3 standard library only).

Reads fleet-results/fleet-experiment.json (8 instance processes sharing fake providers, per load and
contender) and fleet-results/fleet-overhead.json (the pool's own time with Redis against local mode,
paired in one JVM), and rewrites every generated block of FLEET.md: the text between
`<!-- fleet:begin NAME -->` and `<!-- fleet:end NAME -->`. Everything else is left as written.
Exits non-zero when a result file is missing or a run has no requests (the smoke check).

    python3 scripts/fleet_report.py [--results DIR] [--doc FILE]
"""

import argparse
import json
import math
import os
import sys

import report_md
from report_md import fewer, fmt, num, pct, table

ORDER = ["independent", "redis-headers", "redis-configured"]


def by(runs, load, contender):
    for r in runs:
        if abs(r["load"] - load) < 1e-9 and r["contender"] == contender:
            return r
    return None


def verdict(ok):
    if ok is None:
        return "not measured"
    return "met" if ok else "**missed**"


def times(x):
    if x is None:
        return "–"
    return "∞ (none)" if math.isinf(x) else f"{x:.1f}×"


def steady_429s(r):
    """429s of the limited providers in the steady minutes: what they refused (sent - admitted) per minute."""
    k0 = r["steadyFromMinute"]
    return sum(sum(p["sentPerMinute"][k0:]) - sum(p["admittedPerMinute"][k0:]) for p in r["tier0"])


def meta_block(exp, ovh):
    m = exp["meta"]
    o = ovh["meta"]
    lines = [
        f"- instances: {m['instances']} ({m['processes']}); world time ×{m['scale']} (a world minute = "
        f"{m['worldMinuteLoopbackSec']:.0f} s); {m['durationMin']:g} world minutes per run, the second half the steady"
        f" minutes of the per-minute limit figures; seed {m['seed']}",
        f"- tier 0: 3 providers of {m['rpm']} RPM and {m['tpm']} TPM (token buckets, 10% full at the start, OpenAI"
        f" headers); tier 1: one fallback of {m['fallbackRpm']} RPM",
        f"- Redis: {m['redis']}; RedisSharedState publish {m['publishIntervalMs']:g} ms, resync"
        f" {m['resyncIntervalMs']:g} ms loopback (the defaults, 20 / 250 ms, in world time)",
        f"- configured limits shared fleet-wide (leases): {'yes' if m['configuredLimitsShared'] else 'no (not on this branch)'}",
        f"- machine: {m['cpus']} CPUs, Java {m['java']}; load average {m['loadAverage']} at the start,"
        f" {m['loadAverageEnd']} at the end; {m['elapsedSec']:.0f} s",
        f"- overhead pairing: {o['blocks']} blocks of {o['callsPerBlock']} calls per pool after {o['warmupCalls']}"
        f" warm-up calls; peer calls {o['peerCalls']}; load average {o['loadAverage']}; {o['elapsedSec']:.0f} s",
    ]
    if m.get("smoke") or o.get("smoke"):
        lines.insert(0, "- **smoke run** (short; figures not comparable with the full run)")
    return "\n".join(lines)


def targets(exp, ovh):
    runs = exp["runs"]
    loads = sorted({r["load"] for r in runs})
    rows = []
    configured = "redis-configured"
    shared_limits = exp["meta"]["configuredLimitsShared"]
    for load in loads:
        r = by(runs, load, configured)
        if r is not None:
            note = "" if shared_limits else " (no leases on this branch: each instance keeps its own window)"
            rows.append([f"fleet sends ≤ 1.05× the configured limit ({int(round(load * 100))}%): the whole run against"
                         f" one limiter of the limit (N + N × minutes)", f"{configured}: {fmt(r['sentOverOneLimiter'], 3)}×"
                         f"{note}", verdict(r["sentOverOneLimiter"] <= 1.05)])
            rows.append([f"… per steady minute ({int(round(load * 100))}%, the run's second half)",
                         f"{configured}: {fmt(r['sentOverLimit'], 3)}× mean, worst provider-minute"
                         f" {fmt(r['maxMinuteSentOverLimit'], 3)}×{note}", verdict(r["maxMinuteSentOverLimit"] <= 1.05)])
    for load in loads:
        ind = by(runs, load, "independent")
        for c in ["redis-headers", configured]:
            r = by(runs, load, c)
            if ind is None or r is None:
                continue
            x = fewer(r["rateLimited"], ind["rateLimited"])
            ok = None if ind["rateLimited"] == 0 else x >= 10
            rows.append([f"≥ 10× fewer 429s than independent pools ({int(round(load * 100))}%, {c})",
                         f"{fmt(r['rateLimitedPer1000'], 1)} vs {fmt(ind['rateLimitedPer1000'], 1)} per 1,000: {times(x)}"
                         + (" (independent had none)" if ind["rateLimited"] == 0 else ""),
                         "nothing to cut" if ok is None else verdict(ok)])
    for load in loads:
        ind = by(runs, load, "independent")
        for c in ["redis-headers", configured]:
            r = by(runs, load, c)
            if ind is None or r is None or steady_429s(ind) == 0:
                continue
            x = fewer(steady_429s(r), steady_429s(ind))
            rows.append([f"… in the steady minutes ({int(round(load * 100))}%, {c}; refused = sent − admitted)",
                         f"{steady_429s(r)} vs {steady_429s(ind)}: {times(x)}", verdict(x >= 10)])
    for key, a, b, what in [("redisMinusLocal", "redis", "local", "header windows"),
                            ("redisConfiguredMinusLocalConfigured", "redisConfigured", "localConfigured",
                             "configured limits: leases vs local buckets")]:
        d = ovh.get(key)
        if d is None:
            continue
        rows.append([f"p50 added per call within 2 µs of local mode (paired, one JVM; {what})",
                     f"{a} {fmt(ovh[a]['p50'], 2)} µs vs {b} {fmt(ovh[b]['p50'], 2)} µs; per block"
                     f" {fmt(d['medianOfBlockP50DiffUs'], 2)} µs (range {fmt(d['minBlockP50DiffUs'], 2)} ..."
                     f" {fmt(d['maxBlockP50DiffUs'], 2)})", verdict(abs(d["medianOfBlockP50DiffUs"]) <= 2)])
    for load in loads:
        ind = by(runs, load, "independent")
        r = by(runs, load, "redis-headers")
        if ind is None or r is None:
            continue
        diff = r["addedUs"]["p50"] - ind["addedUs"]["p50"]
        rows.append([f"… the same in the fleet runs ({int(round(load * 100))}%, 8 processes on the shared cores)",
                     f"redis-headers {fmt(r['addedUs']['p50'], 1)} µs vs independent {fmt(ind['addedUs']['p50'], 1)} µs"
                     f" ({diff:+.1f} µs)", verdict(abs(diff) <= 2) + " (noise-bound)"])
    return table(["goal", "measured", "verdict"], rows)


def runs_table(exp):
    rows = []
    for r in sorted(exp["runs"], key=lambda r: (r["load"], ORDER.index(r["contender"]) if r["contender"] in ORDER else 9)):
        rows.append([f"{int(round(r['load'] * 100))}%", r["contender"], r["requests"], pct(r["successRate"], 2),
                     fmt(r["rateLimitedPer1000"], 1), fmt(r["attemptsPerRequest"], 3),
                     f"{fmt(r['sentOverOneLimiter'], 3)}×",
                     f"{fmt(r['sentOverLimit'], 3)}× / {fmt(r['maxMinuteSentOverLimit'], 3)}×", r["sentAboveLimit"],
                     f"{fmt(r['admittedOverLimit'], 3)}× / {r['admittedAboveLimit']}", pct(r["fallbackShare"]),
                     f"{fmt(r['addedUs']['p50'], 1)} / {fmt(r['addedUs']['p99'], 0)}",
                     f"{fmt(r['addedUsOneAttempt']['p50'], 1)} / {fmt(r['addedUsOneAttempt']['p99'], 0)}",
                     f"{r['instancesMeta']['minWarmupCalls']} / {fmt(r['instancesMeta']['maxLateStartMs'], 0)}",
                     r['instancesMeta'].get('sharedStateDownEvents', '–')])
    return table(["load", "contender", "requests", "ok", "429s / 1,000", "attempts / request",
                  "sent / one limiter, whole run", "sent / limit, steady minutes (mean / worst)", "sent above the limit, steady", "admitted / limit, above",
                  "on the fallback", "pool µs p50 / p99", "pool µs p50 / p99, one attempt",
                  "warm-up calls (fewest) / late start ms (worst)", "Redis down events"], rows)


def minutes_table(exp):
    rows = []
    for r in sorted(exp["runs"], key=lambda r: (r["load"], ORDER.index(r["contender"]) if r["contender"] in ORDER else 9)):
        for p in r["tier0"]:
            rows.append([f"{int(round(r['load'] * 100))}%", r["contender"], p["provider"], p["limitPerMinute"],
                         " ".join(str(x) for x in p["sentPerMinute"]), " ".join(str(x) for x in p["admittedPerMinute"]),
                         p["rateLimited"]])
    return table(["load", "contender", "provider", "limit / min", "sent per minute", "admitted per minute", "429s"], rows)


def overhead_table(ovh):
    rows = []
    for k in ["local", "redis", "localConfigured", "redisConfigured"]:
        if k not in ovh:
            continue
        v = ovh[k]
        rows.append([k, v["n"], fmt(v["p50"], 2), fmt(v["p90"], 2), fmt(v["p99"], 1), fmt(v["mean"], 2)])
    return table(["pool", "calls", "p50 µs", "p90 µs", "p99 µs", "mean µs"], rows)


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--results", default=os.path.join(here, "..", "fleet-results"))
    ap.add_argument("--doc", default=os.path.join(here, "..", "FLEET.md"))
    a = ap.parse_args()
    try:
        with open(os.path.join(a.results, "fleet-experiment.json")) as f:
            exp = json.load(f)
        with open(os.path.join(a.results, "fleet-overhead.json")) as f:
            ovh = json.load(f)
    except OSError as e:
        print(f"fleet_report: {e}", file=sys.stderr)
        return 1
    empty = [f"{r['scenario']}/{r['contender']}" for r in exp["runs"] if r["requests"] == 0]
    if not exp["runs"] or empty:
        print(f"fleet_report: runs without requests: {empty or 'no runs'}", file=sys.stderr)
        return 1
    blocks = {"meta": meta_block(exp, ovh), "targets": targets(exp, ovh), "runs": runs_table(exp),
              "minutes": minutes_table(exp), "overhead": overhead_table(ovh)}
    with open(a.doc) as f:
        doc, missing = report_md.replace_blocks(f.read(), "fleet", blocks)
    if missing:
        print(f"fleet_report: no block '{missing[0]}' in {a.doc}", file=sys.stderr)
        return 1
    with open(a.doc, "w") as f:
        f.write(doc)
    print(f"fleet_report: wrote {len(blocks)} blocks into {a.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
