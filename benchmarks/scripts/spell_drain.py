#!/usr/bin/env python3
"""Recovery counted from the blip's end and from when p0's queue drained (QUALITY.md R13).

Reads DIR/sim-s<seed>/simulation.json for the given seeds (ScaleSimulation output) and prints, per
fleet with a spell and per contender: how many rows miss "half its fair share back within 15 s"
counted from the spell's end, how many counted from the first second after it with nothing queued
at p0, and the rows that miss either. Then, for the contender NEW against OLD, the paired
difference of the share while slow per row with that row's binomial standard deviation.

usage: spell_drain.py DIR [--seeds 11-15] [--new llmpool-probes] [--old llmpool-main]
"""
import argparse
import json
import math


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--seeds", default="11-15")
    ap.add_argument("--new", default="llmpool-probes")
    ap.add_argument("--old", default="llmpool-main")
    ap.add_argument("--bound", type=float, default=15.0, help="1.5 tau, seconds")
    a = ap.parse_args()
    lo, hi = (int(x) for x in a.seeds.split("-"))
    runs = []
    for seed in range(lo, hi + 1):
        with open(f"{a.dir}/sim-s{seed}/simulation.json") as fh:
            for r in json.load(fh)["runs"]:
                if r.get("spell"):
                    runs.append((seed, r))
    rows = {}
    for seed, r in runs:
        sp = r["spell"]
        rows.setdefault((r["fleet"], r["strategy"]), []).append(
            (seed, int(round(r["utilization"] * 100)), sp["halfShareBackSec"], sp.get("p0QueueDrainedSec"),
             sp.get("halfShareBackAfterDrainSec")))
    print("| fleet | contender | rows | back > 15 s after the spell | back > 15 s after p0's queue drained "
          "| drained after (s) | rows missing either (seed, load %, back, drained, back after drain) |")
    print("|---|---|---|---|---|---|---|")
    for (fleet, strategy), v in sorted(rows.items()):
        late = [x for x in v if x[2] is None or x[2] > a.bound]
        late_drained = [x for x in v if x[4] is None or x[4] > a.bound]
        drained = [x[3] for x in v if x[3] is not None]
        span = f"{min(drained):g}-{max(drained):g}" if drained else "–"
        listed = ", ".join(str(x) for x in v if x in late or x in late_drained)
        print(f"| {fleet} | {strategy} | {len(v)} | {len(late)} | {len(late_drained)} | {span} | {listed} |")
    print()
    print(f"share while slow, {a.new} minus {a.old} (points), per row; sd = binomial sd of {a.old}'s share")
    by = {(seed, r["fleet"], r["strategy"], r["utilization"]): r for seed, r in runs}
    for fleet in sorted({r["fleet"] for _, r in runs}):
        diffs = []
        for seed, r in runs:
            if r["fleet"] != fleet or r["strategy"] != a.new:
                continue
            o = by.get((seed, fleet, a.old, r["utilization"]))
            if not o:
                continue
            sn, so = r["spell"], o["spell"]
            n = r["offeredPerSec"] * (sn["toSec"] - sn["fromSec"])
            sd = 100 * math.sqrt(so["shareDuring"] * (1 - so["shareDuring"]) / n)
            diffs.append((seed, int(round(r["utilization"] * 100)), 100 * (sn["shareDuring"] - so["shareDuring"]), sd))
        if not diffs:
            continue
        above = [d for d in diffs if d[2] > 0]
        print(f"  {fleet}: mean {sum(d[2] for d in diffs) / len(diffs):+.2f} over {len(diffs)} rows; above in "
              f"{len(above)}: " + ", ".join(f"seed {d[0]} {d[1]}% {d[2]:+.2f} (sd {d[3]:.2f})" for d in above))


if __name__ == "__main__":
    main()
