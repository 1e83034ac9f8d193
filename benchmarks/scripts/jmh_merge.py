#!/usr/bin/env python3
"""Merges JMH JSON results of the same benchmarks run several times (say one fork per round, rounds
interleaved with another jar's by quota-pick-rounds.sh) into one JMH-shaped JSON list: for every
(benchmark, params), every metric's rawData (one list per fork) is the concatenation of the
inputs' in their order, and its score the mean over every iteration (Python 3 standard library only).

    python3 scripts/jmh_merge.py OUT.json IN.json [IN.json ...]
"""

import json
import statistics
import sys


def merge_metric(into, m):
    into["rawData"].extend(m.get("rawData", []))
    xs = [x for f in into["rawData"] for x in f]
    if xs:
        into["score"] = statistics.mean(xs)


def main():
    out, ins = sys.argv[1], sys.argv[2:]
    rows = {}
    order = []
    for path in ins:
        for r in json.load(open(path)):
            key = (r["benchmark"], json.dumps(r.get("params", {}), sort_keys=True))
            if key not in rows:
                rows[key] = json.loads(json.dumps(r))
                order.append(key)
                continue
            t = rows[key]
            t["forks"] = t.get("forks", 0) + r.get("forks", 0)
            merge_metric(t["primaryMetric"], r["primaryMetric"])
            for name, m in r.get("secondaryMetrics", {}).items():
                if name in t["secondaryMetrics"]:
                    merge_metric(t["secondaryMetrics"][name], m)
                else:
                    t["secondaryMetrics"][name] = json.loads(json.dumps(m))
    json.dump([rows[k] for k in order], open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
