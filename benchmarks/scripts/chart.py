#!/usr/bin/env python3
"""Charts and tables from llmpool's JMH results (Python 3 standard library only).

Reads, from the results directory (default: ../results next to this script):
  selectors-t1.json, selectors-t2.json   SelectorBenchmark with -t 1 and -t 2
  mixed.json                             MixedBenchmark (optional)
  interceptor.json, usagetap.json        InterceptorBenchmark, UsageTapBenchmark (optional)
  anatomy.json                           PickAnatomyBenchmark (optional)
all written by JMH's `-rf json -rff <file>`, and writes:
  selectors.svg      ns per pick against the number of providers (log-log), 1 and 2 threads
  interceptor.svg    direct vs pooled call time, and the usage tap's stream throughput
  summary.md         the tables and the target verdicts quoted by benchmarks/README.md

Usage: python3 scripts/chart.py [results-dir]
"""
import json
import math
import os
import sys

LLMPOOL = ["weighted", "roundRobin", "p2c", "p2cTwoTiers", "p2cTierSpill", "p2cPoolChoose"]
RIBBON = ["ribbonRoundRobin", "ribbonWeightedResponseTime", "ribbonAvailabilityFiltering", "ribbonBestAvailable"]
FLOOR = "floorRandomElement"
COLORS = {
    "weighted": "#1f77b4", "roundRobin": "#2ca02c", "p2c": "#d62728", "p2cTwoTiers": "#ff7f0e",
    "p2cTierSpill": "#9467bd", "p2cPoolChoose": "#17becf", "ribbonRoundRobin": "#2ca02c", "ribbonWeightedResponseTime": "#1f77b4",
    "ribbonAvailabilityFiltering": "#8c564b", "ribbonBestAvailable": "#e377c2", FLOOR: "#7f7f7f",
}
# The strategy each Ribbon rule is compared with.
PEERS = {
    "weighted": ["ribbonWeightedResponseTime"],
    "roundRobin": ["ribbonRoundRobin"],
    "p2c": ["ribbonAvailabilityFiltering", "ribbonBestAvailable"],
    "p2cTwoTiers": ["ribbonAvailabilityFiltering", "ribbonBestAvailable"],
    "p2cTierSpill": ["ribbonAvailabilityFiltering", "ribbonBestAvailable"],
    "p2cPoolChoose": ["ribbonAvailabilityFiltering", "ribbonBestAvailable"],
}
PROVIDERS = [2, 8, 64, 1024]


def load(path):
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return []  # absent, or JMH has not written it yet
    with open(path) as f:
        return json.load(f)


def short(entry):
    return entry["benchmark"].rsplit(".", 1)[-1]


def index(runs):
    """{(method, providers or None): entry}"""
    out = {}
    for e in runs:
        p = e.get("params", {}).get("providers")
        out[(short(e), int(p) if p else None)] = e
    return out


def score(e):
    return e["primaryMetric"]["score"]


def err(e):
    v = e["primaryMetric"].get("scoreError")
    return v if isinstance(v, (int, float)) and not math.isnan(v) else 0.0


def median(e):
    """Median of the measurement iterations: robust to an iteration disturbed by other load."""
    raw = sorted(v for fork in e["primaryMetric"].get("rawData", []) for v in fork)
    if not raw:
        return score(e)
    mid = len(raw) // 2
    return raw[mid] if len(raw) % 2 else (raw[mid - 1] + raw[mid]) / 2


def alloc(e):
    m = e.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
    return m["score"] if m else None


def fmt_ns(v):
    if v is None:
        return "–"
    if v >= 10000:
        return f"{v / 1000:,.1f} µs"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.1f}"


def fmt_b(v):
    if v is None:
        return "–"
    return "0" if v < 0.5 else f"{v:,.0f}"


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------------- SVG helpers

class Svg:
    def __init__(self, w, h):
        self.w, self.h, self.parts = w, h, []

    def add(self, s):
        self.parts.append(s)

    def text(self, x, y, s, size=12, anchor="start", color="#222", weight="normal", rotate=None):
        tr = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate is not None else ""
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{color}" '
                 f'font-weight="{weight}"{tr}>{esc(s)}</text>')

    def line(self, x1, y1, x2, y2, color="#ccc", width=1, dash=None):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" '
                 f'stroke-width="{width}"{d}/>')

    def render(self):
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.w}" height="{self.h}" '
                f'viewBox="0 0 {self.w} {self.h}" font-family="Helvetica, Arial, sans-serif">\n'
                f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(self.parts) + "\n</svg>\n")


def loglog_panel(svg, x0, y0, w, h, title, series, ymin, ymax):
    """series: [(name, color, dashed, [(providers, ns)])]"""
    svg.text(x0 + w / 2, y0 - 10, title, 14, "middle", weight="bold")
    lo, hi = math.floor(math.log10(ymin)), math.ceil(math.log10(ymax))
    xs = {p: x0 + (math.log2(p) - 1) / (math.log2(PROVIDERS[-1]) - 1) * w for p in PROVIDERS}

    def ypos(v):
        return y0 + h - (math.log10(v) - lo) / (hi - lo) * h

    for d in range(lo, hi + 1):
        y = ypos(10 ** d)
        svg.line(x0, y, x0 + w, y)
        label = f"{10 ** d:g} ns" if d < 3 else (f"{10 ** (d - 3):g} µs" if d < 6 else f"{10 ** (d - 6):g} ms")
        svg.text(x0 - 6, y + 4, label, 11, "end", "#555")
    for p, x in xs.items():
        svg.line(x, y0, x, y0 + h, "#eee")
        svg.text(x, y0 + h + 16, str(p), 11, "middle", "#555")
    svg.text(x0 + w / 2, y0 + h + 34, "providers (log scale)", 12, "middle", "#333")
    svg.add(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
    for name, color, dashed, pts in series:
        pts = [(p, v) for p, v in pts if v]
        if not pts:
            continue
        d = " ".join(f"{'M' if i == 0 else 'L'}{xs[p]:.1f},{ypos(v):.1f}" for i, (p, v) in enumerate(pts))
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        svg.add(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for p, v in pts:
            shape = (f'<rect x="{xs[p] - 3:.1f}" y="{ypos(v) - 3:.1f}" width="6" height="6" fill="{color}"/>'
                     if dashed else f'<circle cx="{xs[p]:.1f}" cy="{ypos(v):.1f}" r="3.5" fill="{color}"/>')
            svg.add(shape)


def selectors_svg(t1, t2, out):
    names = [FLOOR] + LLMPOOL + RIBBON
    vals = [score(e) for r in (t1, t2) for (n, p), e in r.items() if n in names and p]
    if not vals:
        return False
    ymin, ymax = min(vals), max(vals)
    svg = Svg(1180, 560)
    svg.text(590, 26, "One pick: llmpool's Router vs Netflix Ribbon 2.7.18 rules (ns/op, lower is better)",
             16, "middle", weight="bold")
    for i, (title, data) in enumerate((("1 thread", t1), ("2 threads (per-thread time per pick)", t2))):
        series = []
        for n in names:
            series.append((n, COLORS[n], n.startswith("ribbon") or n == FLOOR,
                           [(p, score(data[(n, p)]) if (n, p) in data else None) for p in PROVIDERS]))
        loglog_panel(svg, 90 + i * 430, 70, 360, 400, title, series, ymin, ymax)
    lx, ly = 950, 80
    svg.text(lx, ly, "llmpool (solid)", 12, weight="bold")
    ly += 18
    for n in LLMPOOL:
        svg.line(lx, ly - 4, lx + 24, ly - 4, COLORS[n], 2)
        svg.text(lx + 30, ly, n, 12)
        ly += 18
    ly += 8
    svg.text(lx, ly, "Ribbon / floor (dashed)", 12, weight="bold")
    ly += 18
    for n in RIBBON + [FLOOR]:
        svg.line(lx, ly - 4, lx + 24, ly - 4, COLORS[n], 2, "6,4")
        svg.text(lx + 30, ly, n.replace("ribbon", "Ribbon "), 12)
        ly += 18
    svg.text(lx, ly + 16, "p2cTwoTiers: first tier healthy", 11, color="#555")
    svg.text(lx, ly + 32, "p2cTierSpill: first tier all evicted", 11, color="#555")
    svg.text(lx, ly + 48, "p2cPoolChoose: PoolCore.choose", 11, color="#555")
    svg.text(lx, ly + 64, "floor: array[ThreadLocalRandom]", 11, color="#555")
    with open(out, "w") as f:
        f.write(svg.render())
    return True


def bar_panel(svg, x0, y0, w, title, unit, bars):
    """bars: [(label, value, color)] drawn horizontally, scaled to the largest."""
    svg.text(x0, y0, title, 13, weight="bold")
    vmax = max(v for _, v, _ in bars) or 1
    y = y0 + 14
    for label, v, color in bars:
        bw = max(1.0, v / vmax * (w - 290))
        svg.text(x0 + 190, y + 13, label, 12, "end")
        svg.add(f'<rect x="{x0 + 198}" y="{y}" width="{bw:.1f}" height="18" fill="{color}"/>')
        svg.text(x0 + 204 + bw, y + 13, f"{v:,.1f} {unit}" if v < 100 else f"{v:,.0f} {unit}", 12)
        y += 26
    return y


def interceptor_svg(inter, tap, out):
    if not inter and not tap:
        return False
    svg = Svg(900, 650)
    svg.text(450, 26, "What the pool adds to an OkHttp call (loopback MockWebServer), and the usage tap",
             15, "middle", weight="bold")
    y = 60
    if inter:
        chat = [(n, score(inter[(n, None)]), c) for n, c in (("directCanned", "#7f7f7f"), ("poolCanned", "#d62728"),
                                                            ("directChat", "#7f7f7f"), ("poolChat", "#d62728"))
                if (n, None) in inter]
        y = bar_panel(svg, 20, y, 860, "1 KB chat completion: µs per call, no network (canned) and loopback "
                      "(lower is better)", "µs", chat) + 14
        stream = [(n, score(inter[(n, None)]) / 1000, c)
                  for n, c in (("directStream", "#7f7f7f"), ("directStreamForwarded", "#bcbd22"),
                               ("poolStream", "#d62728")) if (n, None) in inter]
        if stream:
            mb = [(n, (4.0 * 1.048576) / (v / 1000), c) for n, v, c in stream]  # MB/s of a 4 MiB stream
            y = bar_panel(svg, 20, y, 860, "4 MiB SSE stream over loopback: MB/s (higher is better)", "MB/s",
                          mb) + 14
    if tap:
        bars = []
        for rs in ("8192", "256"):
            for n, c in (("raw", "#7f7f7f"), ("tapped", "#d62728"), ("parserOnly", "#ff7f0e")):
                e = tap.get((n, rs))
                if e:
                    bars.append((f"{n} ({rs} B reads)", (4.0 * 1.048576) / (score(e) / 1e6), c))
        if bars:
            bar_panel(svg, 20, y, 860, "4 MiB SSE stream in memory: MB/s (higher is better)", "MB/s", bars)
    with open(out, "w") as f:
        f.write(svg.render())
    return True


# ---------------------------------------------------------------------------------- tables

def matrix(data, names, title):
    lines = [f"**{title}** (ns per pick; B/op = `gc.alloc.rate.norm`, largest over the four sizes)", "",
             "| benchmark | 2 | 8 | 64 | 1,024 | 1,024 / 8 | B/op |", "|---|---:|---:|---:|---:|---:|---:|"]
    for n in names:
        row = [data.get((n, p)) for p in PROVIDERS]
        if not any(row):
            continue
        cells = [fmt_ns(score(e)) if e else "–" for e in row]
        growth = f"{score(row[3]) / score(row[1]):.2f}×" if row[1] and row[3] else "–"
        allocs = [alloc(e) for e in row if e and alloc(e) is not None]
        lines.append(f"| {n} | " + " | ".join(cells) + f" | {growth} | {fmt_b(max(allocs) if allocs else None)} |")
    return lines


def ratio_table(t1, t2):
    lines = ["**Ratios** (1 thread unless noted; × = how many times faster llmpool is; "
             "2t/1t = per-pick time on two threads over one)", "",
             "| strategy | providers | ns (1t) | ÷ floor | Ribbon peer | peer ns | peer ÷ llmpool | ns (2t) | 2t / 1t |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for n in LLMPOOL:
        for p in PROVIDERS:
            e = t1.get((n, p))
            if not e:
                continue
            fl = t1.get((FLOOR, p))
            e2 = t2.get((n, p))
            for peer in PEERS[n]:
                pe = t1.get((peer, p))
                lines.append(
                    f"| {n} | {p} | {fmt_ns(score(e))} | {score(e) / score(fl):.1f}× | {peer} | "
                    f"{fmt_ns(score(pe)) if pe else '–'} | {score(pe) / score(e):.1f}× | "
                    f"{fmt_ns(score(e2)) if e2 else '–'} | {score(e2) / score(e):.2f} |"
                    if pe else f"| {n} | {p} | {fmt_ns(score(e))} | – | – | – | – | – | – |")
    return lines


def peers_2t(t1, t2):
    lines = ["**Ribbon and floor on two threads**", "", "| benchmark | providers | ns (1t) | ns (2t) | 2t / 1t |",
             "|---|---:|---:|---:|---:|"]
    for n in [FLOOR] + RIBBON:
        for p in PROVIDERS:
            a, b = t1.get((n, p)), t2.get((n, p))
            if a and b:
                lines.append(f"| {n} | {p} | {fmt_ns(score(a))} | {fmt_ns(score(b))} | {score(b) / score(a):.2f} |")
    return lines


def mixed_table(runs):
    if not runs:
        return []
    lines = ["**Mixed: picks while a thread records outcomes** (ns per call; the pick reads `System.nanoTime()`)",
             "", "| strategy | providers | quiet: pick | busy: pick | busy / quiet | busy: record |",
             "|---|---:|---:|---:|---:|---:|"]
    rows = {}
    for e in runs:
        key = (e["params"]["strategy"], int(e["params"]["providers"]))
        rows.setdefault(key, {})[short(e)] = e
    for (s, p), g in sorted(rows.items()):
        q = g.get("quiet", {}).get("secondaryMetrics", {}).get("pickQuiet", {}).get("score")
        b = g.get("busy", {}).get("secondaryMetrics", {}).get("pick", {}).get("score")
        r = g.get("busy", {}).get("secondaryMetrics", {}).get("record", {}).get("score")
        ratio = f"{b / q:.2f}" if q and b else "–"
        lines.append(f"| {s} | {p} | {fmt_ns(q)} | {fmt_ns(b)} | {ratio} | {fmt_ns(r)} |")
    return lines


def io_tables(inter, tap):
    lines = []
    if inter:
        lines += ["**Interceptor** (per call; the server runs in the same JVM, read the difference)", "",
                  "| benchmark | time (mean) | ± | median of iterations | B/op |", "|---|---:|---:|---:|---:|"]
        for n in ("directCanned", "poolCanned", "directChat", "poolChat", "directStream", "directStreamForwarded",
                  "poolStream"):
            e = inter.get((n, None))
            if e:
                lines.append(f"| {n} | {score(e):,.1f} µs | {err(e):,.1f} | {median(e):,.1f} µs | {fmt_b(alloc(e))} |")
        d, p = inter.get(("directCanned", None)), inter.get(("poolCanned", None))
        if d and p:
            lines.append(f"| **added by the pool (chat, no network)** | **{score(p) - score(d):,.1f} µs** | | "
                         f"{median(p) - median(d):,.1f} µs | "
                         f"**{fmt_b(alloc(p) - alloc(d))}** |")
        d, p = inter.get(("directChat", None)), inter.get(("poolChat", None))
        if d and p:
            lines.append(f"| **added by the pool (chat, loopback)** | **{score(p) - score(d):,.1f} µs** | | "
                         f"{median(p) - median(d):,.1f} µs | "
                         f"**{fmt_b(alloc(p) - alloc(d))}** |")
        d, p = inter.get(("directStream", None)), inter.get(("poolStream", None))
        if d and p:
            lines.append(f"| **added by the pool (4 MiB stream)** | **{score(p) - score(d):,.1f} µs** | | "
                         f"{median(p) - median(d):,.1f} µs | "
                         f"**{fmt_b(alloc(p) - alloc(d))}** |")
            lines.append(f"| stream throughput pooled / direct | {score(d) / score(p) * 100:.0f}% | | "
                         f"{median(d) / median(p) * 100:.0f}% | |")
        lines.append("")
    if tap:
        lines += ["**Usage tap, 4 MiB SSE stream in memory**", "",
                  "| read size | raw | tapped | parser only | tapped / raw throughput | B/op tapped |",
                  "|---:|---:|---:|---:|---:|---:|"]
        for rs in ("8192", "256"):
            r, t, po = tap.get(("raw", rs)), tap.get(("tapped", rs)), tap.get(("parserOnly", rs))
            if r and t:
                mbs = lambda e: (4.0 * 1.048576) / (score(e) / 1e6)
                lines.append(f"| {rs} B | {mbs(r):,.0f} MB/s | {mbs(t):,.0f} MB/s | "
                             f"{mbs(po):,.0f} MB/s | {score(r) / score(t) * 100:.1f}% | {fmt_b(alloc(t))} |"
                             if po else "")
        lines.append("")
    return lines


def anatomy_table(runs):
    if not runs:
        return []
    data = index(runs)
    order = ["randomPow2", "randomWeightTotal", "randomMultiplyShift", "cumulativeSearch", "aliasDrawBench",
             "costPair", "p2cSketch"]
    lines = ["**Anatomy of a pick** (`PickAnatomyBenchmark`, 1 thread, ns/op)", "",
             "| part | 8 providers | 1,024 providers |", "|---|---:|---:|"]
    for n in order:
        a, b = data.get((n, 8)), data.get((n, 1024))
        if a or b:
            lines.append(f"| {n} | {fmt_ns(score(a)) if a else '–'} ± {err(a):.1f} | "
                         f"{fmt_ns(score(b)) if b else '–'} ± {err(b):.1f} |")
    return lines


def verdicts(t1, t2, inter, tap):
    out = ["**Targets, computed from the JSON**", "", "| target | measured | verdict |", "|---|---|---|"]

    def row(target, measured, ok):
        verdict = ok if isinstance(ok, str) else ("met" if ok else "**missed**")
        out.append(f"| {target} | {measured} | {verdict} |")

    g = lambda d, n, p: score(d[(n, p)]) if (n, p) in d else None
    p2c8 = g(t1, "p2c", 8)
    if p2c8:
        m = median(t1[("p2c", 8)])
        row("P2C ≤ 25 ns at 8 providers, 1 thread", f"{p2c8:.1f} ns (median of iterations {m:.1f})", p2c8 <= 25)
        af, ba = g(t1, "ribbonAvailabilityFiltering", 8), g(t1, "ribbonBestAvailable", 8)
        if af:
            row("P2C ≥ 5× faster than Ribbon AvailabilityFilteringRule (8)", f"{af / p2c8:.1f}×", af / p2c8 >= 5)
        if ba:
            row("P2C ≥ 20× faster than Ribbon BestAvailableRule (8)", f"{ba / p2c8:.1f}×", ba / p2c8 >= 20)
    w8 = g(t1, "weighted", 8)
    if w8:
        m = median(t1[("weighted", 8)])
        row("weighted ≤ 10 ns (8, 1 thread)", f"{w8:.1f} ns (median of iterations {m:.1f})", w8 <= 10)
    for t, label in ((t1, "1 thread"), (t2, "2 threads")):
        worst = None
        for p in PROVIDERS:
            rr, rib = g(t, "roundRobin", p), g(t, "ribbonRoundRobin", p)
            if rr and rib:
                r = rr / rib
                worst = max(worst or 0, r)
        if worst is not None:
            row(f"round robin no slower than Ribbon RoundRobinRule ({label}, all sizes)",
                f"worst llmpool / Ribbon = {worst:.2f}", worst <= 1.0)
    picks = [n for n in LLMPOOL if n != "p2cPoolChoose"]
    allocs = [(n, p, alloc(t[(n, p)])) for t in (t1, t2) for n in picks for p in PROVIDERS
              if (n, p) in t and alloc(t[(n, p)]) is not None]
    if allocs:
        worst = max(allocs, key=lambda a: a[2])
        row("0 B/op for every strategy's pick (Router.pick, 1 and 2 threads)",
            f"max {worst[2]:.3f} B/op ({worst[0]}, {worst[1]} providers)", worst[2] < 0.5)
    choose = [(p, alloc(t1[("p2cPoolChoose", p)])) for p in PROVIDERS
              if ("p2cPoolChoose", p) in t1 and alloc(t1[("p2cPoolChoose", p)]) is not None]
    if choose:
        row("(same rule, the pool's per-attempt selection) PoolCore.choose 0 B/op",
            ", ".join(f"{b:,.0f} B at {p}" for p, b in choose), max(b for _, b in choose) < 0.5)
    for n in LLMPOOL:
        a, b = g(t1, n, 8), g(t1, n, 1024)
        if a and b:
            row(f"{n}: 8 → 1,024 providers ≤ 2×", f"{b / a:.2f}×", b / a <= 2)
    for n in LLMPOOL:
        ratios = [(p, g(t2, n, p) / g(t1, n, p)) for p in PROVIDERS if g(t1, n, p) and g(t2, n, p)]
        if ratios:
            p, r = max(ratios, key=lambda x: x[1])
            row(f"{n}: 2 threads ≤ 2× 1 thread", f"worst {r:.2f} (at {p})", r <= 2)
    for direct, pooled, where in (("directCanned", "poolCanned", "no network"), ("directChat", "poolChat", "loopback")):
        if inter and (direct, None) in inter and (pooled, None) in inter:
            d, p = inter[(direct, None)], inter[(pooled, None)]
            dt = score(p) - score(d)
            e = math.hypot(err(p), err(d))
            ok = dt <= 15
            if e > 15:  # the error of the difference exceeds the target itself
                ok = f"inconclusive (± {e:.0f} µs)"
            row(f"interceptor adds ≤ 15 µs per call ({where})",
                f"{dt:.1f} ± {e:.1f} µs ({score(d):.1f} → {score(p):.1f})", ok)
            db = alloc(p) - alloc(d)
            row(f"interceptor adds ≤ 4 KB allocated per call ({where})", f"{db:,.0f} B", db <= 4096)
    if tap:
        for rs in ("8192", "256"):
            r, t = tap.get(("raw", rs)), tap.get(("tapped", rs))
            if r and t:
                pct = score(r) / score(t) * 100
                row(f"usage tap ≥ 90% of raw throughput (in memory, {rs} B reads)", f"{pct:.1f}%", pct >= 90)
    if inter and ("directStream", None) in inter and ("poolStream", None) in inter:
        d, p = inter[("directStream", None)], inter[("poolStream", None)]
        pct = score(d) / score(p) * 100
        row("usage tap ≥ 90% of raw throughput (loopback HTTP stream)",
            f"{pct:.1f}% (medians of iterations: {median(d) / median(p) * 100:.1f}%)", pct >= 90)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    res = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "results")
    t1 = index(load(os.path.join(res, "selectors-t1.json")))
    t2 = index(load(os.path.join(res, "selectors-t2.json")))
    mixed = load(os.path.join(res, "mixed.json"))
    inter = index(load(os.path.join(res, "interceptor.json")))
    tap = {}
    for e in load(os.path.join(res, "usagetap.json")):
        tap[(short(e), e["params"]["readSize"])] = e
    written = []
    if selectors_svg(t1, t2, os.path.join(res, "selectors.svg")):
        written.append("selectors.svg")
    if interceptor_svg(inter, tap, os.path.join(res, "interceptor.svg")):
        written.append("interceptor.svg")
    md = []
    if t1:
        md += matrix(t1, [FLOOR] + LLMPOOL + RIBBON, "1 thread") + [""]
    if t2:
        md += matrix(t2, [FLOOR] + LLMPOOL + RIBBON, "2 threads") + [""]
    if t1 and t2:
        md += ratio_table(t1, t2) + [""] + peers_2t(t1, t2) + [""]
    if (None, None) != (t1.get(("nanoTime", None)), None) and t1.get(("nanoTime", None)):
        md += [f"Clock read (`System.nanoTime()`), 1 thread: {score(t1[('nanoTime', None)]):.1f} ns"
               + (f"; 2 threads: {score(t2[('nanoTime', None)]):.1f} ns" if t2.get(("nanoTime", None)) else ""), ""]
    md += mixed_table(mixed) + [""]
    md += io_tables(inter, tap)
    md += anatomy_table(load(os.path.join(res, "anatomy.json"))) + [""]
    md += verdicts(t1, t2, inter, tap) + [""]
    with open(os.path.join(res, "summary.md"), "w") as f:
        f.write("\n".join(md))
    written.append("summary.md")
    print("wrote " + ", ".join(os.path.join(res, w) for w in written))


if __name__ == "__main__":
    main()
