#!/usr/bin/env python3
"""Side by side: the forgetting figures of issue 17 item 6 from several result directories.

    python3 benchmarks/scripts/quality_compare.py LABEL=DIR [LABEL=DIR ...] [--strategy llmpool]

Each DIR holds an experiment.json (QualityExperiment, the forgetting scenarios or all of them)
and/or a simulation.json (ScaleSimulation). Prints, per directory, the figures the targets of item 6
are judged on (the same definitions as quality_report.py): identical / identical-fast max deviation
from equal shares; per spell scenario the half share held for 5 s after recovery, the share while
slow and the herd peak; per simulation spell fleet and load the half share back, share while slow,
peak over fair, TTFT p99 and 429s per 1000 requests. Standard library only.
"""
import argparse
import json
import os

SPELLS = ("spell-12s", "spell-10x", "slow-spell")
SIM_SPELLS = ("uniform-spell", "uniform-spell10", "uniform-blip")


def load(d, name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return None
    with open(p, encoding="utf-8") as f:
        return json.load(f)


def f(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}"


def experiment_row(exp, strategy):
    runs = {}
    for r in exp["runs"]:
        runs.setdefault(r["scenario"], {})[r["strategy"]] = r
    out = []
    for sc in ("identical", "identical-fast"):
        r = runs.get(sc, {}).get(strategy)
        if r:
            sh = list(r["attemptShare"].values())
            out.append(f(100 * max(abs(v - 1 / len(sh)) for v in sh)))
        else:
            out.append("–")
    back, share, herd = [], [], []
    for sc in SPELLS:
        r = runs.get(sc, {}).get(strategy)
        b = (r or {}).get("bad") or {}
        rec = b.get("recovery") or {}
        back.append(f(rec.get("halfShareBackSustainedSec")))
        share.append(f(100 * b["shareWhileBad"], 2) if "shareWhileBad" in b else "–")
        herd.append(f(rec.get("herdPeakOverFair"), 2))
    m = exp.get("meta", {})
    return out + [" / ".join(back), " / ".join(share), " / ".join(herd), m.get("loadAverage", "?").split(" ")[0]]


def timeline_rows(exp, strategy):
    """Per spell scenario: slow attempts / all attempts while slow, and the bins of the slow ones."""
    rows = []
    for r in exp["runs"]:
        if r["scenario"] not in SPELLS or r["strategy"] != strategy:
            continue
        b = r.get("bad") or {}
        s = r["series"]
        t = s["t"]
        bins = []
        for p in b.get("providers", []):
            per = s["attempts"][p]
            bins += [t[k] for k in range(len(t)) for _ in range(per[k]) if b["fromSec"] <= t[k] < b["toSec"]]
        all_ = sum(s["attempts"][p][k] for p in s["attempts"] for k in range(len(t))
                   if b["fromSec"] <= t[k] < b["toSec"])
        gaps = [bins[i + 1] - bins[i] for i in range(len(bins) - 1)]
        rows.append((r["scenario"], b.get("attemptsWhileBad"), all_, ", ".join(f"{x:.1f}" for x in sorted(bins)),
                     ", ".join(f"{g:.1f}" for g in gaps)))
    return rows


def simulation_rows(sim, strategy):
    rows = []
    for fl in SIM_SPELLS:
        for u in (0.5, 0.7, 0.9):
            r = next((x for x in sim["runs"] if x["fleet"] == fl and x["strategy"] == strategy
                      and abs(x["utilization"] - u) < 1e-9), None)
            if not r or "spell" not in r:
                continue
            sp = r["spell"]
            rows.append((fl, int(u * 100), f(sp.get("halfShareBackSec"), 0), f(sp.get("p0QueueDrainedSec"), 0),
                         f(100 * sp["shareDuring"], 2),
                         f(sp["peakOverFair"], 2), f(r["ttftSec"]["p99"], 2), f(r["rateLimitedPer1000"], 2)))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+", help="LABEL=DIR")
    ap.add_argument("--strategy", default="llmpool")
    ap.add_argument("--timeline", action="store_true", help="also the dispatch bins of the slow attempts")
    a = ap.parse_args()
    pairs = [x.split("=", 1) for x in a.dirs]
    print(f"strategy {a.strategy}\n")
    print("| run | identical / identical-fast, max deviation (points) | half share for 5 s after: spell-12s / "
          "spell-10x / slow-spell (s) | share while slow (%) | herd peak / fair | load |")
    print("|---|---|---|---|---|---|")
    for label, d in pairs:
        exp = load(d, "experiment.json")
        if exp:
            r = experiment_row(exp, a.strategy)
            print(f"| {label} | {r[0]} / {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |")
    if a.timeline:
        print("\n| run | scenario | slow attempts / all while slow | dispatched in bins (s) | gaps (s) |")
        print("|---|---|---|---|---|")
        for label, d in pairs:
            exp = load(d, "experiment.json")
            for row in timeline_rows(exp, a.strategy) if exp else []:
                print(f"| {label} | {row[0]} | {row[1]} / {row[2]} | {row[3]} | {row[4]} |")
    sims = [(label, load(d, "simulation.json")) for label, d in pairs]
    sims = [(label, s) for label, s in sims if s]
    if sims:
        print("\n| run | fleet | load | half share back (s) | p0's queue drained (s) | share while slow (%) | peak / fair "
              "| TTFT p99 (s) | 429s / 1000 |")
        print("|---|---|---|---|---|---|---|---|---|")
        for label, s in sims:
            for row in simulation_rows(s, a.strategy):
                print(f"| {label} (seed {s['meta']['seed']}) | " + " | ".join(str(x) for x in row) + " |")


if __name__ == "__main__":
    main()
