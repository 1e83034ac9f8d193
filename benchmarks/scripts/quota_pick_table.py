#!/usr/bin/env python3
"""QuotaPickBenchmark's JMH JSON as docs/performance.md's table (Python 3 standard library only).

For each strategy and provider count: `off` with JMH's 99.9% error, every other mode's score and
its ratio to `off` with the bounds the two errors allow ((m - e_m) / (off + e_off) ..
(m + e_m) / (off - e_off)), and the verdict against the goal: "within" when the upper bound is at
most the goal, "above" when the lower bound exceeds it, "unresolved" otherwise. Then each mode's
fastest iteration per fork (median over forks; the reading least moved by a shared machine, as
QuotaPickCpuTime's fastest chunk), and each fork's mean (a JVM in the slow mode shows up as one
fork off the others).

    python3 scripts/quota_pick_table.py RESULT.json [--goal 1.2] [--benchmark picks] [--metric NAME]

--benchmark picksCpu --metric cpuNsPerPick reads the CPU-time counter instead of the wall clock.
"""

import argparse
import json
import statistics

MODES = ["off", "unknown", "headers", "configured", "budget"]
# Student's t at 0.9995 (JMH's 99.9% interval) by degrees of freedom; between entries, the next lower.
T9995 = [(1, 636.6), (2, 31.6), (3, 12.92), (4, 8.61), (5, 6.87), (6, 5.96), (7, 5.41), (8, 5.04), (9, 4.78),
         (10, 4.59), (11, 4.44), (12, 4.32), (13, 4.22), (14, 4.14), (15, 4.07), (16, 4.01), (17, 3.97),
         (18, 3.92), (19, 3.88), (20, 3.85), (24, 3.75), (29, 3.66), (39, 3.56),
         (59, 3.46), (119, 3.37), (10**9, 3.29)]


def t9995(df):
    best = T9995[0][1]
    for d, t in T9995:
        if d <= df:
            best = t
    return best


def score(metric):
    """Mean and 99.9% error over every iteration of every fork (as JMH's for an average), from the raw
    data: JMH sums an EVENTS counter over iterations in its own score, the raw data are per iteration."""
    xs = [x for f in metric["rawData"] for x in f]
    m = statistics.mean(xs)
    e = t9995(len(xs) - 1) * statistics.stdev(xs) / len(xs) ** 0.5 if len(xs) > 1 else float("nan")
    return m, e
STRATEGIES = {"WEIGHTED": "weighted", "POWER_OF_TWO_CHOICES": "P2C"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("result")
    ap.add_argument("--goal", type=float, default=1.2)
    ap.add_argument("--benchmark", default="picks")
    ap.add_argument("--metric", default=None, help="a secondary metric instead of the primary score")
    a = ap.parse_args()
    rows = {}
    alloc = 0.0
    for r in json.load(open(a.result)):
        if not r["benchmark"].endswith("." + a.benchmark):
            continue
        p = r["params"]
        m = r["secondaryMetrics"][a.metric] if a.metric else r["primaryMetric"]
        forks = [statistics.mean(f) for f in m["rawData"]]
        mean, err = score(m)
        fastest = [min(f) for f in m["rawData"]]
        rows[(p["strategy"], int(p["providers"]), p["quota"])] = (mean, err, forks, fastest)
        g = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
        if g:
            alloc = max(alloc, g["score"])
    print("| strategy, providers | off | " + " | ".join(MODES[1:]) + " |")
    print("|---|---|" + "---|" * (len(MODES) - 1))
    verdicts = []
    for s in STRATEGIES:
        for n in sorted({k[1] for k in rows if k[0] == s}):
            off = rows.get((s, n, "off"))
            if off is None:
                continue
            o, oe = off[0], off[1]
            cells = [f"{o:.2f} ± {oe:.2f} ns"]
            for mode in MODES[1:]:
                x = rows.get((s, n, mode))
                if x is None:
                    cells.append("-")
                    continue
                v, ve = x[0], x[1]
                lo = (v - ve) / (o + oe)
                hi = (v + ve) / (o - oe) if o > oe else float("inf")
                verdict = "within" if hi <= a.goal else ("above" if lo > a.goal else "unresolved")
                verdicts.append((STRATEGIES[s], n, mode, verdict, v / o, lo, hi))
                cells.append(f"{v:.2f} ± {ve:.2f} ({v / o:.2f}x, {lo:.2f}-{hi:.2f})")
            print(f"| {STRATEGIES[s]}, {n} | " + " | ".join(cells) + " |")
    print()
    print(f"largest gc.alloc.rate.norm: {alloc:.4f} B/op")
    for v in verdicts:
        print(f"{v[0]} {v[1]} {v[2]}: {v[4]:.2f}x ({v[5]:.2f}-{v[6]:.2f}) {v[3]} {a.goal}x")
    print()
    print("fastest iteration of each fork, median over forks (range of the forks' fastest), ratio to off's:")
    for s in STRATEGIES:
        for n in sorted({k[1] for k in rows if k[0] == s}):
            if (s, n, "off") not in rows:
                continue
            o = statistics.median(rows[(s, n, "off")][3])
            cells = []
            for mode in MODES:
                x = rows.get((s, n, mode))
                if x is None:
                    continue
                v = statistics.median(x[3])
                cells.append(f"{mode} {v:.2f} ({min(x[3]):.2f}-{max(x[3]):.2f}, {v / o:.2f}x)")
            print(f"  {STRATEGIES[s]} {n}: " + "; ".join(cells))
    print()
    print("forks (mean ns per pick of each JVM):")
    for k in sorted(rows):
        print(f"  {STRATEGIES.get(k[0], k[0])} {k[1]} {k[2]}: " + ", ".join(f"{f:.2f}" for f in rows[k][2]))


if __name__ == "__main__":
    main()
