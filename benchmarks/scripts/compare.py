#!/usr/bin/env python3
"""Tables of a scripts/compare.sh run: each benchmark (and parameters) on the baseline and the new
library, every round, mean +- JMH's 99.9% error and B/op (gc.alloc.rate.norm); and, when the
interceptor benchmarks are there, what the pool adds (pool* - direct*) per side and round.
Usage: compare.py DIR LABEL. Python 3 standard library only."""
import glob
import json
import os
import re
import sys


def load(d, label):
    runs = {}
    for path in sorted(glob.glob(os.path.join(d, f"{label}-*-r*.json"))):
        m = re.search(r"-(base|new)-r(\d+)\.json$", path)
        side, rnd = m.group(1), int(m.group(2))
        for b in json.load(open(path)):
            name = b["benchmark"].rsplit(".", 1)[-1]
            params = ",".join(f"{k}={v}" for k, v in sorted((b.get("params") or {}).items()))
            pm = b["primaryMetric"]
            alloc = (b.get("secondaryMetrics") or {}).get("gc.alloc.rate.norm", {}).get("score")
            runs[(name, params, side, rnd)] = (pm["score"], pm["scoreError"], pm["scoreUnit"], alloc)
    return runs


def fmt(v):
    return "n/a" if v is None else (f"{v:,.0f}" if abs(v) >= 100 else f"{v:.1f}")


def main():
    d, label = sys.argv[1], sys.argv[2]
    runs = load(d, label)
    rounds = sorted({k[3] for k in runs})
    keys = sorted({(k[0], k[1]) for k in runs})
    print(f"| benchmark | params | round | baseline | new | B/op baseline | B/op new |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, params in keys:
        for r in rounds:
            b = runs.get((name, params, "base", r))
            n = runs.get((name, params, "new", r))
            unit = (b or n)[2]
            cell = lambda x: "n/a" if x is None else f"{fmt(x[0])} ± {fmt(x[1])} {unit}"
            print(f"| {name} | {params} | {r} | {cell(b)} | {cell(n)} | {fmt(b and b[3])} | {fmt(n and n[3])} |")
    pairs = [("poolCanned", "directCanned", "chat, no network"), ("poolChat", "directChat", "chat, loopback"),
             ("poolStream", "directStream", "4 MiB stream")]
    lines = []
    for pool, direct, what in pairs:
        for r in rounds:
            row = []
            for side in ("base", "new"):
                p = runs.get((pool, "", side, r))
                q = runs.get((direct, "", side, r))
                if p and q:
                    err = (p[1] ** 2 + q[1] ** 2) ** 0.5
                    alloc = None if p[3] is None or q[3] is None else p[3] - q[3]
                    row.append(f"{fmt(p[0] - q[0])} ± {fmt(err)} {p[2]}, {fmt(alloc)} B")
                else:
                    row.append("n/a")
            if row != ["n/a", "n/a"]:
                lines.append(f"| added by the pool ({what}) | {r} | {row[0]} | {row[1]} |")
    if lines:
        print()
        print("| figure | round | baseline | new |")
        print("|---|---:|---:|---:|")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
