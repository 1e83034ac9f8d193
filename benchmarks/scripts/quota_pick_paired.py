#!/usr/bin/env python3
"""QuotaPickPairedBenchmark's JMH JSON as a table (Python 3 standard library only): for each
strategy, provider count and mode, the ratio mode / off measured in the same JVM (paired:ratio,
one value per iteration), its mean over every iteration of every fork with the 99.9% error
(Student's t, as JMH's), the bounds mean - e .. mean + e and the verdict against the goal ("within"
when the upper bound is at most the goal, "above" when the lower bound exceeds it); then off's
and the mode's CPU time per pick and each fork's mean ratio.

    python3 scripts/quota_pick_paired.py RESULT.json [--goal 1.2]
"""

import argparse
import json
import statistics

from quota_pick_table import MODES, STRATEGIES, score


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("result")
    ap.add_argument("--goal", type=float, default=1.2)
    a = ap.parse_args()
    rows = {}
    alloc = 0.0
    for r in json.load(open(a.result)):
        if not r["benchmark"].endswith(".paired"):
            continue
        p = r["params"]
        sm = r["secondaryMetrics"]
        rows[(p["strategy"], int(p["providers"]), p["quota"])] = (
            score(sm["ratio"]), score(sm["offNsPerPick"]), score(sm["modeNsPerPick"]),
            [statistics.mean(f) for f in sm["ratio"]["rawData"]], sum(len(f) for f in sm["ratio"]["rawData"]))
        g = sm.get("gc.alloc.rate.norm")
        if g:
            alloc = max(alloc, g["score"])
    print("| strategy, providers | " + " | ".join(MODES[1:]) + " |")
    print("|---|" + "---|" * (len(MODES) - 1))
    verdicts = []
    for s in STRATEGIES:
        for n in sorted({k[1] for k in rows if k[0] == s}):
            cells = []
            for mode in MODES[1:]:
                x = rows.get((s, n, mode))
                if x is None:
                    cells.append("-")
                    continue
                (m, e), _, _, _, _ = x
                verdict = "within" if m + e <= a.goal else ("above" if m - e > a.goal else "unresolved")
                verdicts.append((STRATEGIES[s], n, mode, m, m - e, m + e, verdict, x[4]))
                cells.append(f"{m:.3f}x ({m - e:.3f}-{m + e:.3f})")
            print(f"| {STRATEGIES[s]}, {n} | " + " | ".join(cells) + " |")
    print()
    print(f"largest gc.alloc.rate.norm: {alloc:.4f} B/op (both routers' picks)")
    for v in verdicts:
        print(f"{v[0]} {v[1]} {v[2]}: {v[3]:.3f}x ({v[4]:.3f}-{v[5]:.3f}, {v[7]} iterations) {v[6]} {a.goal}x")
    print()
    print("CPU ns per pick, mean ± 99.9% error: off (paired with the mode) / mode; each fork's mean ratio:")
    for k in sorted(rows):
        (_, _), (o, oe), (v, ve), forks, _ = rows[k]
        print(f"  {STRATEGIES.get(k[0], k[0])} {k[1]} {k[2]}: off {o:.2f} ± {oe:.2f}, mode {v:.2f} ± {ve:.2f}; forks "
              + ", ".join(f"{f:.3f}" for f in forks))


if __name__ == "__main__":
    main()
