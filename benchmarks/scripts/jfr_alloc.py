#!/usr/bin/env python3
"""Allocation sites from a JFR recording (e.g. one made by JMH's `-prof jfr`).

Usage: jfr print --json --events jdk.ObjectAllocationSample --stack-depth 64 rec.jfr > alloc.json
       python3 scripts/jfr_alloc.py alloc.json [package-prefix] [ops]

Groups the sampled allocation weight by thread, then, for the allocations whose stack passes
through `package-prefix` (default io.github.llmpool, benchmark classes excluded), by allocated
class and first frame inside that package (with its line). With `ops` (operations measured
while recording), also prints bytes per operation. Python 3 standard library only.
"""
import collections
import json
import sys


def main():
    path = sys.argv[1]
    prefix = (sys.argv[2] if len(sys.argv) > 2 else "io.github.llmpool").replace(".", "/")
    ops = float(sys.argv[3]) if len(sys.argv) > 3 else None
    events = json.load(open(path))["recording"]["events"]
    total = 0
    by_thread = collections.Counter()
    by_site = collections.Counter()
    inside = 0
    for e in events:
        v = e["values"]
        w = v["weight"]
        total += w
        thread = (v.get("eventThread") or {}).get("javaName") or "?"
        by_thread[thread.split(" /")[0][:60]] += w
        frames = (v.get("stackTrace") or {}).get("frames") or []
        names = [(f["method"]["type"]["name"], f["method"]["name"], f.get("lineNumber")) for f in frames]
        ours = [n for n in names if n[0].startswith(prefix) and "/bench/" not in n[0]]
        if ours:
            inside += w
            t, m, line = ours[0]
            cls = v["objectClass"]["name"]
            by_site[f"{cls}  <-  {t.split('/')[-1]}.{m}:{line}"] += w
    print(f"sampled allocation: {total / 1e6:.1f} MB, through {prefix}: {inside / 1e6:.1f} MB "
          f"({inside / max(total, 1) * 100:.1f}%)")
    if ops:
        print(f"per op: {total / ops:.0f} B total, {inside / ops:.0f} B through {prefix}")
    print("\nby thread:")
    for k, w in by_thread.most_common(10):
        print(f"  {w / total * 100:5.1f}%  {k}")
    print(f"\nby site (share of the {prefix} part):")
    for k, w in by_site.most_common(40):
        print(f"  {w / max(inside, 1) * 100:5.1f}%  {k}")


if __name__ == "__main__":
    main()
