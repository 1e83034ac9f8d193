#!/usr/bin/env python3
"""Charts and tables of benchmarks/QUALITY.md from the raw results (Python 3 standard library only).

Reads quality-results/experiment.json (the loopback experiment) and quality-results/simulation.json
(the scale simulation), writes SVG charts to quality-results/charts/, and rewrites every generated
block of QUALITY.md: the text between `<!-- quality:begin NAME -->` and `<!-- quality:end NAME -->`.
Everything outside those markers is left as written.

    python3 scripts/quality_report.py [--results DIR] [--doc FILE]
"""

import argparse
import html
import json
import math
import os
import sys

import report_md
from report_md import table

STRATEGY_ORDER = ["round-robin", "weighted", "p2c-latency", "llmpool", "llmpool-concurrency-8", "llmpool-main",
                  "llmpool-main-concurrency-8", "healthy-only"]
VARIANT = "llmpool-concurrency-8"
COLORS = {
    "round-robin": "#d62728",
    "weighted": "#ff7f0e",
    "p2c-latency": "#1f77b4",
    "llmpool": "#2ca02c",
    "llmpool-concurrency-8": "#9467bd",
    "llmpool-main": "#8c564b",
    "llmpool-main-concurrency-8": "#e377c2",
    "llmpool-probes": "#17becf",
    "healthy-only": "#7f7f7f",
}
LABELS = {
    "round-robin": "round robin",
    "weighted": "weighted random",
    "p2c-latency": "P2C, plain latency EWMA",
    "llmpool": "llmpool (LLM-aware P2C)",
    "llmpool-concurrency-8": "llmpool, concurrency(8)",
    "llmpool-main": "llmpool before bounded forgetting",
    "llmpool-main-concurrency-8": "llmpool before bounded forgetting, concurrency(8)",
    "llmpool-probes": "llmpool, probes",
    "healthy-only": "healthy providers only",
}
# Scenarios of issue 17 item 6 (forgetting in bounded time), with their own table.
FORGETTING = ["identical", "identical-fast", "spell-12s", "spell-10x", "slow-spell"]
SIM_SPELLS = ["uniform-spell", "uniform-spell10", "uniform-blip"]


# --------------------------------------------------------------------------- formatting

def fmt(v, digits=1):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{float(v):.{digits}f}"


def pct(v, digits=2):
    if v is None:
        return "–"
    return f"{100 * v:.{digits}f}%"


# --------------------------------------------------------------------------- SVG

class Svg:
    def __init__(self, width, height, title):
        self.w, self.h = width, height
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
            f'<rect width="{width}" height="{height}" fill="white"/>',
            f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">'
            f'{html.escape(title)}</text>',
        ]

    def add(self, s):
        self.parts.append(s)

    def text(self, x, y, s, anchor="start", size=12, color="#000", rotate=None, weight="normal"):
        tr = f' transform="rotate({rotate} {x} {y})"' if rotate is not None else ""
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{color}" '
                 f'font-weight="{weight}"{tr}>{html.escape(str(s))}</text>')

    def line(self, x1, y1, x2, y2, color="#000", width=1, dash=None):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" '
                 f'stroke-width="{width}"{d}/>')

    def rect(self, x, y, w, h, fill, opacity=1.0, stroke=None):
        s = f' stroke="{stroke}"' if stroke else ""
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{fill}" '
                 f'fill-opacity="{opacity}"{s}/>')

    def polyline(self, pts, color, width=1.8, dash=None):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        p = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        self.add(f'<polyline points="{p}" fill="none" stroke="{color}" stroke-width="{width}"{d}/>')

    def save(self, path):
        self.parts.append("</svg>")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(self.parts) + "\n")


def nice_ticks(lo, hi, n=5):
    if hi <= lo:
        hi = lo + 1
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / n))
    for m in (1, 2, 2.5, 5, 10):
        if span / (step * m) <= n:
            step *= m
            break
    t = math.floor(lo / step) * step
    out = []
    while t <= hi + 1e-9:
        out.append(round(t, 10))
        t += step
    return out


def log_ticks(lo, hi):
    out = []
    e = math.floor(math.log10(lo))
    while 10 ** e <= hi * 1.0001:
        for m in (1, 2, 5):
            v = m * 10 ** e
            if lo <= v <= hi * 1.0001:
                out.append(v)
        e += 1
    return out


def tick_label(v):
    if v >= 1000 and v == int(v):
        return f"{int(v):,}".replace(",", " ")
    if v == int(v):
        return str(int(v))
    return f"{v:g}"


def legend(svg, x, y, items, dashed=()):
    for i, (key, label) in enumerate(items):
        yy = y + i * 16
        svg.line(x, yy - 4, x + 18, yy - 4, COLORS.get(key, "#333"), 3, "5,3" if key in dashed else None)
        svg.text(x + 24, yy, label, size=11)


def grouped_bars(path, title, groups, series, ylabel, log=True, note=None):
    """groups: list of group names (x axis); series: list of (key, label, values-per-group)."""
    W, H = 880, 380
    L, R, T, B = 70, 290, 40, 60
    svg = Svg(W, H, title)
    vals = [v for _, _, vs in series for v in vs if v is not None and v > 0]
    if not vals:
        svg.save(path)
        return
    if log:
        lo = 10 ** math.floor(math.log10(min(vals)))
        hi = 10 ** math.ceil(math.log10(max(vals) * 1.05))
        ticks = log_ticks(lo, hi)

        def ypos(v):
            return T + (H - T - B) * (1 - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)))
    else:
        lo, hi = 0, max(vals) * 1.1
        ticks = nice_ticks(lo, hi)
        hi = max(hi, ticks[-1])

        def ypos(v):
            return T + (H - T - B) * (1 - (v - lo) / (hi - lo))
    for t in ticks:
        y = ypos(t)
        svg.line(L, y, W - R, y, "#e0e0e0")
        svg.text(L - 6, y + 4, tick_label(t), anchor="end", size=11)
    svg.line(L, T, L, H - B)
    svg.line(L, H - B, W - R, H - B)
    svg.text(16, (T + H - B) / 2, ylabel, anchor="middle", rotate=-90)
    gw = (W - R - L) / len(groups)
    bw = gw * 0.8 / max(1, len(series))
    for gi, g in enumerate(groups):
        x0 = L + gi * gw + gw * 0.1
        svg.text(L + gi * gw + gw / 2, H - B + 18, g, anchor="middle")
        for si, (key, _, vs) in enumerate(series):
            v = vs[gi]
            if v is None or v <= 0:
                continue
            y = ypos(v)
            svg.rect(x0 + si * bw, y, bw - 2, H - B - y, COLORS.get(key, "#555"))
            if len(series) * len(groups) <= 20:
                svg.text(x0 + si * bw + (bw - 2) / 2, y - 3, tick_label(round(v, (1 if log else 2) if v < 10 else 0)),
                         anchor="middle", size=9)
    legend(svg, W - R + 12, T + 14, [(k, lab) for k, lab, _ in series])
    if note:
        svg.text(L, H - 14, note, size=10, color="#555")
    svg.save(path)


def line_chart(path, title, series, xlabel, ylabel, shade=None, ymax=None, note=None, hline=None, dashed=()):
    """series: list of (key, label, [(x, y)...]); shade: (x0, x1, label)."""
    W, H = 880, 360
    L, R, T, B = 60, 290, 40, 56
    svg = Svg(W, H, title)
    xs = [x for _, _, pts in series for x, _ in pts]
    ys = [y for _, _, pts in series for _, y in pts if y is not None]
    if not xs:
        svg.save(path)
        return
    x0, x1 = min(xs), max(xs)
    y0 = 0
    y1 = ymax if ymax is not None else max(ys + [hline or 0]) * 1.1 or 1
    yt = nice_ticks(y0, y1)
    y1 = max(y1, yt[-1])

    def X(x):
        return L + (W - L - R) * (x - x0) / ((x1 - x0) or 1)

    def Y(y):
        return T + (H - T - B) * (1 - (y - y0) / ((y1 - y0) or 1))
    if shade:
        svg.rect(X(shade[0]), T, X(min(shade[1], x1)) - X(shade[0]), H - T - B, "#f4cccc", 0.6)
        svg.text((X(shade[0]) + X(min(shade[1], x1))) / 2, T + 14, shade[2], anchor="middle", size=11, color="#a33")
    for t in yt:
        svg.line(L, Y(t), W - R, Y(t), "#e0e0e0")
        svg.text(L - 6, Y(t) + 4, tick_label(t), anchor="end", size=11)
    for t in nice_ticks(x0, x1, 8):
        if x0 <= t <= x1:
            svg.line(X(t), H - B, X(t), H - B + 4)
            svg.text(X(t), H - B + 16, tick_label(t), anchor="middle", size=11)
    if hline is not None:
        svg.line(L, Y(hline[0]), W - R, Y(hline[0]), "#555", 1, "4,4")
        svg.text(W - R - 4, Y(hline[0]) - 4, hline[1], anchor="end", size=10, color="#555")
    svg.line(L, T, L, H - B)
    svg.line(L, H - B, W - R, H - B)
    svg.text((L + W - R) / 2, H - B + 34, xlabel, anchor="middle")
    svg.text(16, (T + H - B) / 2, ylabel, anchor="middle", rotate=-90)
    for key, _, pts in series:
        p = [(X(x), Y(min(y, y1))) for x, y in pts if y is not None]
        if p:
            svg.polyline(p, COLORS.get(key, "#333"), dash="5,3" if key in dashed else None)
            if len(p) <= 12:
                for x, y in p:
                    svg.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLORS.get(key, "#333")}"/>')
    legend(svg, W - R + 12, T + 14, [(k, lab) for k, lab, _ in series], dashed)
    if note:
        svg.text(L, H - 10, note, size=10, color="#555")
    svg.save(path)


# --------------------------------------------------------------------------- experiment

def by_scenario(exp):
    out = {}
    for r in exp["runs"]:
        out.setdefault(r["scenario"], {})[r["strategy"]] = r
    return out


def ordered(runs):
    return [s for s in STRATEGY_ORDER if s in runs]


def smooth_share(run, bad, window=7):
    att = run["series"]["attempts"]
    t = run["series"]["t"]
    n = len(t)
    pts = []
    for k in range(n):
        lo, hi = max(0, k - window // 2), min(n, k + window // 2 + 1)
        tot = sum(sum(att[p][lo:hi]) for p in att)
        b = sum(sum(att[p][lo:hi]) for p in bad)
        pts.append((t[k], b / tot if tot else None))
    return pts


def scenario_table(sc, runs):
    rows = []
    has_bad = any("bad" in runs[s] for s in runs)
    for s in ordered(runs):
        r = runs[s]
        lat, ttft = r["latencyMs"], r["ttftMs"]
        row = [LABELS[s], pct(r["successRate"]), fmt(lat["p50"]), fmt(lat["p99"]), fmt(lat["p999"]),
               fmt(ttft["p50"]), fmt(ttft["p99"]), fmt(ttft["p999"]), fmt(r["attempts"]["mean"], 3)]
        if has_bad:
            b = r.get("bad")
            row.append(pct(b["shareWhileBad"]) if b else "–")
            rec = b.get("recovery") if b else None
            if any("recovery" in (runs[x].get("bad") or {}) for x in runs):
                row.append(fmt(rec["restoreDelaySec"]) if rec and rec["restoreDelaySec"] is not None else "–")
                row.append(fmt(rec["halfShareBackSec"]) if rec and rec["halfShareBackSec"] is not None else "–")
                row.append(fmt(rec.get("halfShareBackSustainedSec")) if rec and rec.get("halfShareBackSustainedSec")
                           is not None else "–")
                row.append(fmt(rec.get("herdPeakOverFair"), 2) if rec and rec.get("herdPeakOverFair") is not None
                           else "–")
        elif sc in FORGETTING:
            sh = list(r["attemptShare"].values())
            row.append("/".join(f"{100 * v:.0f}" for v in sh))
            row.append(fmt(100 * max(abs(v - 1 / len(sh)) for v in sh), 1))
        rows.append(row)
    header = ["strategy", "success", "p50 ms", "p99 ms", "p99.9 ms", "TTFT p50", "TTFT p99", "TTFT p99.9",
              "attempts/req"]
    if has_bad:
        header.append("share to bad while bad")
        if any("recovery" in (runs[x].get("bad") or {}) for x in runs):
            header += ["restored after (s)", "half share back after (s)", "half share for 5 s after (s)",
                       "herd: peak 10-s share / fair"]
    elif sc in FORGETTING:
        header += ["shares %", "max deviation (points)"]
    return table(header, rows)


def experiment_charts(exp, charts, rel):
    scen = by_scenario(exp)
    meta = {m["name"]: m for m in exp["meta"]["scenarios"]}
    blocks = {}
    for name, runs in scen.items():
        m = meta.get(name, {})
        keys = ordered(runs)
        series = []
        for s in keys:
            lat = runs[s]["latencyMs"]
            series.append((s, LABELS[s], [lat["p50"], lat["p99"], lat["p999"]]))
        f = f"latency-{name}.svg"
        grouped_bars(os.path.join(charts, f), f"{m.get('title', name)}: latency per strategy",
                     ["p50", "p99", "p99.9"], series, "latency (loopback ms, log scale)",
                     note=f"{runs[keys[0]]['requests']} requests per strategy; world time = {exp['meta']['scale']:g} x loopback time")
        text = [scenario_table(name, runs), "", f"![latency percentiles, {name}]({rel}/{f})"]
        if name == "lengths":
            series = [(s, LABELS[s], [runs[s]["ttftMs"]["p50"], runs[s]["ttftMs"]["p99"], runs[s]["ttftMs"]["p999"]])
                      for s in keys]
            f2 = f"ttft-{name}.svg"
            grouped_bars(os.path.join(charts, f2), "Answer lengths 10..1000 tokens: time to first token (streams)",
                         ["p50", "p99", "p99.9"], series, "TTFT (loopback ms, log scale)")
            text += ["", f"![time to first token, {name}]({rel}/{f2})"]
        bad = m.get("bad") or []
        if bad and m.get("badToSec", 0) < m.get("durationSec", 0) or name in ("slow-spell", "dead", "tier-outage",
                                                                              "quota"):
            if bad:
                lines = [(s, LABELS[s], smooth_share(runs[s], bad)) for s in keys if s != "healthy-only"]
                fair = None
                b = runs[keys[0]].get("bad")
                if b:
                    fair = b["fairShare"]
                f3 = f"share-{name}.svg"
                who = ", ".join(bad)
                line_chart(os.path.join(charts, f3), f"{m.get('title', name)}: share of attempts sent to {who}",
                           lines, "world time (s)", f"share of attempts to {who}",
                           shade=(m["badFromSec"], min(m["badToSec"], m["durationSec"]), "bad"),
                           ymax=min(1.0, max(0.05, (fair or 0.2) * 1.6)),
                           hline=(fair, f"fair share {fair:.0%}") if fair else None,
                           note="attempts dispatched by the pool (its snapshot), moving window of 7 bins "
                                f"(~{7 * runs[keys[0]]['series']['binSec']:.0f} world s)",
                           dashed=(VARIANT,))
                text += ["", f"![traffic share over time, {name}]({rel}/{f3})"]
        blocks[f"scenario-{name}"] = "\n".join(text)
    return blocks


def targets(exp, sim):
    scen = by_scenario(exp) if exp else {}
    rows = []

    def status(ok):
        return "**met**" if ok else "**missed**"

    # 1. slow
    s = scen.get("slow")
    if s and "llmpool" in s and "healthy-only" in s:
        p = s["llmpool"]["latencyMs"]["p99"]
        h = s["healthy-only"]["latencyMs"]["p99"]
        rr = s.get("round-robin", {}).get("latencyMs", {}).get("p99")
        ps = s["llmpool"]["latencyMsSteady"]["p99"]
        hs = s["healthy-only"]["latencyMsSteady"]["p99"]
        share = s["llmpool"]["bad"]["shareWhileBad"]
        rows.append(["One provider 10x slower: llmpool p99 <= 1.3x healthy-only p99",
                     f"llmpool p99 {fmt(p)} ms = {p / h:.2f}x healthy-only ({fmt(h)} ms); round robin {fmt(rr)} ms "
                     f"({rr / h:.1f}x). After the first {fmt(s['llmpool']['steadyAfterSec'], 0)} s: "
                     f"{fmt(ps)} ms = {ps / hs:.2f}x. Share of attempts sent to p11: {pct(share)} "
                     f"(round robin {pct(s['round-robin']['bad']['shareWhileBad'])})"
                     + (f". With concurrency(8): p99 {fmt(s[VARIANT]['latencyMs']['p99'])} ms = "
                        f"{s[VARIANT]['latencyMs']['p99'] / h:.2f}x, share {pct(s[VARIANT]['bad']['shareWhileBad'])}"
                        if VARIANT in s else ""),
                     status(p <= 1.3 * h)])
    # 2. rate-limited-all
    s = scen.get("rate-limited-all")
    if s and "llmpool" in s:
        r = s["llmpool"]
        w = r["bad"].get("retryAfterWindows", {})
        ok = r["successRate"] >= 1.0 and r["attempts"]["mean"] <= 1.1 and w.get("maxInAnyWindowAfterBurst", 99) <= 2
        rows.append(["One provider 429 on every request: 100% success, attempts/request <= 1.1, "
                     "bad provider <= 1 request per Retry-After window + probes",
                     f"success {pct(r['successRate'])}; attempts/request {fmt(r['attempts']['mean'], 4)}; "
                     f"{w.get('received')} requests reached it: {w.get('initialBurst')} in the first burst "
                     f"(before its first 429 came back), then {fmt(w.get('perWindowAfterBurst'), 2)} per "
                     f"{fmt(w.get('retryAfterSec'), 0)} s window (max {w.get('maxInAnyWindowAfterBurst')} in any window)",
                     status(ok)])
    # 3. dead
    s = scen.get("dead")
    if s and "llmpool" in s:
        b = s["llmpool"]["bad"]
        rec = b.get("recovery", {})
        ok = b.get("failedAfterFirstEviction") == 0 and rec.get("probesAfterRecoveryUntilRestored") == 1
        rows.append(["Dead provider for 30 s: no caller failure after the first eviction; traffic back within one "
                     "probe after it recovers",
                     f"{b.get('failedAfterFirstEviction')} failures among {b.get('requestsAfterFirstEviction')} "
                     f"requests after the first eviction ({b.get('failedWhileBad')} while dead); "
                     f"{rec.get('probesAfterRecoveryUntilRestored')} probe after recovery, restored "
                     f"{fmt(rec.get('restoreDelaySec'))} s after it came back",
                     status(ok)])
    # 4. lengths
    s = scen.get("lengths")
    if s and "llmpool" in s and "p2c-latency" in s:
        a = s["llmpool"]["ttftMs"]
        b = s["p2c-latency"]["ttftMs"]
        sa = s["llmpool"]["bad"]["shareWhileBad"]
        sb = s["p2c-latency"]["bad"]["shareWhileBad"]
        rows.append(["Answer lengths varying 100x: LLM-aware P2C beats plain-latency P2C on p99 TTFT "
                     "(by more than 5%, the run-to-run noise)",
                     f"TTFT p99 {fmt(a['p99'])} ms (LLM-aware) vs {fmt(b['p99'])} ms (plain latency); p90 "
                     f"{fmt(a['p90'])} vs {fmt(b['p90'])} ms; share sent to the slow starter {pct(sa)} vs {pct(sb)}"
                     + (f". With concurrency(8): TTFT p99 {fmt(s[VARIANT]['ttftMs']['p99'])} ms, p90 "
                        f"{fmt(s[VARIANT]['ttftMs']['p90'])} ms, share {pct(s[VARIANT]['bad']['shareWhileBad'])}"
                        if VARIANT in s else ""),
                     status(a["p99"] < 0.95 * b["p99"])])
    # 5. simulation
    if sim:
        runs = sim["runs"]
        at70 = {r["fleet"]: r for r in runs if abs(r["utilization"] - 0.7) < 1e-9}
        herd = [r for r in runs if r["strategy"] == "llmpool" and abs(r["utilization"] - 0.7) < 1e-9
                and r["fleet"] in ("uniform", "mixed-weighted")]
        if herd:
            worst = max(herd, key=lambda r: r["maxOverMeanLoad"])
            txt = "; ".join(f"{r['fleet']} {r['maxOverMeanLoad']:.3f} (dispersion {fmt(r.get('arrivalDispersion'), 2)})"
                            for r in herd)
            eq = next((r for r in runs if r["strategy"] == "llmpool" and r["fleet"] == "mixed-equal"
                       and abs(r["utilization"] - 0.7) < 1e-9), None)
            wq = next((r for r in runs if r["strategy"] == "weighted" and r["fleet"] == "mixed-equal"
                       and abs(r["utilization"] - 0.7) < 1e-9), None)
            if eq and wq:
                txt += (f". Not counted: mixed-equal (weights do not match capacities, an imbalance no "
                        f"strategy without capacity knowledge removes) {eq['maxOverMeanLoad']:.3f}, weighted random "
                        f"{wq['maxOverMeanLoad']:.3f}")
            rows.append(["Simulation: no herding, max/mean provider load <= 1.2 at 70% utilisation (llmpool; "
                         "fleets whose weights match capacity)",
                         f"max/mean load: {txt}", status(worst["maxOverMeanLoad"] <= 1.2)])
        cmp = []
        ok = True
        for r in runs:
            if r["strategy"] != "llmpool" or r["fleet"] in SIM_SPELLS:
                continue
            w = next((x for x in runs if x["strategy"] == "weighted" and x["fleet"] == r["fleet"]
                      and x["utilization"] == r["utilization"]), None)
            if w is None:
                continue
            better = r["rateLimited"] < w["rateLimited"] or (r["rateLimited"] == 0 and w["rateLimited"] == 0)
            ok = ok and better
            cmp.append(f"{r['fleet']} {int(r['utilization'] * 100)}%: {fmt(r['rateLimitedPer1000'], 2)} vs "
                       f"{fmt(w['rateLimitedPer1000'], 2)}")
        if cmp:
            rows.append(["Simulation: fewer 429s than weighted random at the same offered load",
                         "429s per 1000 requests, llmpool vs weighted: " + "; ".join(cmp), status(ok)])
    rows += forgetting_targets(scen, sim, status)
    rows += forgetting_targets(scen, sim, status, "llmpool-probes", "with probes(true): ")
    return table(["target", "measured", ""], rows)


def forgetting_targets(scen, sim, status, new="llmpool", prefix=""):
    """Issue 17 item 6: llmpool (bounded forgetting; or with probes) against llmpool before it, in the same run.

    With probes, the share while slow counts the callers' attempts only (a probe is the pool's own
    one-token request; the probes sent are shown beside it), and the simulation's herd is judged as
    the experiment's: the highest 10-s share starting within 30 s of the recovery.
    """
    rows = []
    old = "llmpool-main"
    if not any(new in s for s in scen.values()) and not (sim and any(r["strategy"] == new for r in sim["runs"])):
        return rows
    tau = 10.0  # world seconds: P2cSettings.DEFAULT_LATENCY_DECAY

    def dev(r):
        sh = list(r["attemptShare"].values())
        return 100 * max(abs(v - 1 / len(sh)) for v in sh)

    cmp, ok = [], True
    for name in ("identical", "identical-fast"):
        s = scen.get(name)
        if s and new in s:
            d = dev(s[new])
            ok = ok and d <= 5
            cmp.append(f"{name}: {'/'.join(f'{100 * v:.0f}' for v in s[new]['attemptShare'].values())}% "
                       f"(max {fmt(d)} points; before: "
                       + (f"{'/'.join(f'{100 * v:.0f}' for v in s[old]['attemptShare'].values())}%, "
                          f"{fmt(dev(s[old]))}" if old in s else "–") + ")")
    if cmp:
        rows.append([prefix + "Forgetting: identical providers get equal shares within ±5 points", "; ".join(cmp),
                     status(ok)])

    def rec(r):
        return (r.get("bad") or {}).get("recovery") or {}

    spells = [n for n in ("spell-12s", "spell-10x", "slow-spell") if n in scen and new in scen[n]]
    if spells:
        back, herd, share = [], [], []
        ok_back = ok_herd = ok_share = True
        for n in spells:
            s = scen[n]
            rn, ro = rec(s[new]), rec(s.get(old, {}))
            b = rn.get("halfShareBackSustainedSec")
            ok_back = ok_back and b is not None and b <= 1.5 * tau
            back.append(f"{n}: {fmt(b)} s (before {fmt(ro.get('halfShareBackSustainedSec'))} s)")
            h = rn.get("herdPeakOverFair")
            ok_herd = ok_herd and h is not None and h <= 1.5
            herd.append(f"{n}: {fmt(h, 2)} (before {fmt(ro.get('herdPeakOverFair'), 2)}, weighted random "
                        f"{fmt(rec(s.get('weighted', {})).get('herdPeakOverFair'), 2)})")
            bn = s[new]["bad"]["shareWhileBad"]
            bo = s[old]["bad"]["shareWhileBad"] if old in s else None
            ok_share = ok_share and bo is not None and bn <= bo
            probes = s[new]["bad"].get("probesWhileBad")
            share.append(f"{n}: {pct(bn)} (before {pct(bo)})" + (f", {probes} probes" if probes else ""))
        rows.append([prefix + "Forgetting, experiment: a recovered provider has half its fair share back within 1.5 tau "
                     f"({1.5 * tau:g} s), whatever its spell", "half share held for 5 s after: " + "; ".join(back),
                     status(ok_back)])
        rows.append([prefix + "Forgetting, experiment: no herd on its return (peak <= 1.5x fair share)",
                     "peak 10-s share over fair within 30 s of recovery: " + "; ".join(herd), status(ok_herd)])
        rows.append([prefix + "Forgetting, experiment: the slow provider's share while slow at today's level or lower",
                     ("callers' attempts: " if prefix else "") + "; ".join(share), status(ok_share)])
    if sim:
        back, herd, share = [], [], []
        ok_back = ok_herd = ok_share = True
        for fl in SIM_SPELLS:
            for u in (0.5, 0.7, 0.9):
                rn = next((x for x in sim["runs"] if x["fleet"] == fl and x["strategy"] == new
                           and abs(x["utilization"] - u) < 1e-9), None)
                ro = next((x for x in sim["runs"] if x["fleet"] == fl and x["strategy"] == old
                           and abs(x["utilization"] - u) < 1e-9), None)
                if not rn or "spell" not in rn or not ro:
                    continue
                sp, so = rn["spell"], ro["spell"]
                tag = f"{fl} {int(u * 100)}%"
                b = sp.get("halfShareBackSec")
                ok_back = ok_back and b is not None and b <= 1.5 * tau
                d = sp.get("p0QueueDrainedSec")
                back.append(f"{tag} {fmt(b, 0)} s ({fmt(so.get('halfShareBackSec'), 0)})"
                            + (f" [p0's queue drained at {fmt(d, 0)} s]" if d else ""))
                if prefix:  # the experiment's definition: the highest 10-s share within 30 s of recovery
                    ok_herd = ok_herd and sp.get("peak10sOverFair", 9) <= 1.5
                    herd.append(f"{tag} {fmt(sp.get('peak10sOverFair'), 2)} ({fmt(so.get('peak10sOverFair'), 2)};"
                                f" 5-s peak {fmt(sp['peakOverFair'], 2)})")
                else:
                    ok_herd = ok_herd and sp["peakOverFair"] <= 1.5
                    herd.append(f"{tag} {fmt(sp['peakOverFair'], 2)} ({fmt(so['peakOverFair'], 2)})")
                ok_share = ok_share and sp["shareDuring"] <= so["shareDuring"]
                share.append(f"{tag} {pct(sp['shareDuring'], 1)} ({pct(so['shareDuring'], 1)})")
        if back:
            rows.append([prefix + f"Forgetting, simulation: half its fair share back within 1.5 tau ({1.5 * tau:g} s)",
                         "new (before bounded forgetting): " + ", ".join(back), status(ok_back)])
            rows.append([prefix + ("Forgetting, simulation: no herd on its return (peak 10-s share within 30 s <= 1.5x fair)"
                                   if prefix else "Forgetting, simulation: no herd on its return (peak 5-s share <= 1.5x fair)"),
                         "new (before): " + ", ".join(herd), status(ok_herd)])
            rows.append([prefix + "Forgetting, simulation: the slow provider's share while slow at today's level or lower",
                         "new (before): " + ", ".join(share), status(ok_share)])
    return rows


# --------------------------------------------------------------------------- simulation

def simulation_blocks(sim, charts, rel):
    runs = sim["runs"]
    fleets = [f["name"] for f in sim["meta"]["fleets"]]
    blocks = {}
    text = []
    for fl in fleets:
        fr = [r for r in runs if r["fleet"] == fl]
        rows = []
        for u in sorted({r["utilization"] for r in fr}):
            for s in STRATEGY_ORDER:
                r = next((x for x in fr if x["strategy"] == s and x["utilization"] == u), None)
                if not r:
                    continue
                rows.append([f"{int(u * 100)}%", LABELS[s], pct(r["successRate"], 3), fmt(r["rateLimitedPer1000"], 2),
                             fmt(r["attemptsPerRequest"], 3), fmt(r["maxOverMeanLoad"], 3),
                             fmt(r["instantMaxOverMeanLoad"]["p99"], 2), fmt(r.get("arrivalDispersion"), 2),
                             fmt(r["ttftSec"]["p50"], 2),
                             fmt(r["ttftSec"]["p99"], 2), fmt(r["latencySec"]["p99"], 1)])
        desc = next(f["description"] for f in sim["meta"]["fleets"] if f["name"] == fl)
        text += [f"**{fl}** — {desc}.", "",
                 table(["load", "strategy", "success", "429s / 1000 req", "attempts/req", "max/mean load",
                        "1-s max/mean p99", "arrival dispersion", "TTFT p50 s", "TTFT p99 s", "latency p99 s"], rows),
                 ""]
        if fl in SIM_SPELLS:
            rows2 = []
            for u in sorted({r["utilization"] for r in fr}):
                for s in STRATEGY_ORDER:
                    r = next((x for x in fr if x["strategy"] == s and x["utilization"] == u), None)
                    if not r or "spell" not in r:
                        continue
                    sp = r["spell"]
                    rows2.append([f"{int(u * 100)}%", LABELS[s], pct(sp["shareBefore"], 1), pct(sp["shareDuring"], 1),
                                  pct(sp["shareAfter"], 1), fmt(sp["peakOverFair"], 2),
                                  fmt(sp.get("halfShareBackSec"), 0)])
            text += ["p0's share of arrivals around its slow spell (fair share 10%); the peak is the highest "
                     "5-second average after the spell, over the fair share (a herd coming back would show > 1.5; "
                     "weighted random, which cannot herd, shows the noise of that figure); half share back: the first "
                     "second after the spell from which p0's mean share over 5 s is at least 5%:",
                     "", table(["load", "strategy", "before", "during", "after", "peak after / fair",
                                "half share back after (s)"], rows2), ""]
    blocks["simulation-tables"] = "\n".join(text)

    # Charts: 429s per 1000 vs utilisation, per fleet; max/mean load at 70%.
    chart_lines = []
    for fl in fleets:
        if fl in SIM_SPELLS:
            continue
        fr = [r for r in runs if r["fleet"] == fl]
        series = []
        for s in STRATEGY_ORDER:
            pts = sorted((r["utilization"] * 100, r["rateLimitedPer1000"]) for r in fr if r["strategy"] == s)
            if pts:
                series.append((s, LABELS[s], pts))
        f = f"sim-429-{fl}.svg"
        line_chart(os.path.join(charts, f), f"Simulation, {fl}: 429s per 1000 requests", series,
                   "utilisation (% of fleet capacity)", "429s per 1000 requests", dashed=(VARIANT,),
                   note=f"{sim['meta']['instances']} instances x {len(fr[0]['loadPerProvider'])} providers, "
                        f"{sim['meta']['durationSec']:g} s virtual")
        chart_lines.append(f"![429s per 1000 requests, {fl}]({rel}/{f})")
    groups = [fl for fl in fleets if fl not in SIM_SPELLS[1:]]
    series = []
    for s in STRATEGY_ORDER:
        vals = []
        for fl in groups:
            r = next((x for x in runs if x["fleet"] == fl and x["strategy"] == s and abs(x["utilization"] - 0.7) < 1e-9),
                     None)
            vals.append(r["maxOverMeanLoad"] if r else None)
        if any(v is not None for v in vals):
            series.append((s, LABELS[s], vals))
    f = "sim-balance-70.svg"
    grouped_bars(os.path.join(charts, f), "Simulation at 70% utilisation: max/mean provider load", groups, series,
                 "max/mean load (1 = perfect)", log=False,
                 note="load = time-average (generating + queued) / capacity, per provider")
    chart_lines.append(f"![max/mean provider load at 70%]({rel}/{f})")
    # Spell timeline: p0 share over time at 70%.
    fr = [r for r in runs if r["fleet"] == "uniform-spell" and abs(r["utilization"] - 0.7) < 1e-9]
    if fr:
        series = []
        for s in STRATEGY_ORDER:
            r = next((x for x in fr if x["strategy"] == s), None)
            if r:
                series.append((s, LABELS[s], [(row[0], row[2]) for row in r["timeline"]]))
        d = sim["meta"]["durationSec"]
        f = "sim-spell-share.svg"
        line_chart(os.path.join(charts, f), "Simulation, uniform-spell at 70%: p0's share of arrivals", series,
                   "virtual time (s)", "share of arrivals to p0", shade=(0.4 * d, 0.6 * d, "p0 3x slower"),
                   dashed=(VARIANT,),
                   ymax=0.25, hline=(0.1, "fair share 10%"), note="1-second windows, every 5th shown")
        chart_lines.append(f"![p0 share over time, uniform-spell]({rel}/{f})")
    blocks["simulation-charts"] = "\n\n".join(chart_lines)
    return blocks


# --------------------------------------------------------------------------- main

def replace_blocks(doc, blocks):
    with open(doc, encoding="utf-8") as f:
        text, missing = report_md.replace_blocks(f.read(), "quality", blocks)
    with open(doc, "w", encoding="utf-8") as f:
        f.write(text)
    return missing


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    bench = os.path.dirname(here)
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=os.path.join(bench, "quality-results"))
    ap.add_argument("--doc", default=os.path.join(bench, "QUALITY.md"))
    a = ap.parse_args()
    charts = os.path.join(a.results, "charts")
    os.makedirs(charts, exist_ok=True)
    rel = os.path.relpath(charts, os.path.dirname(os.path.abspath(a.doc)))
    exp = sim = None
    ef = os.path.join(a.results, "experiment.json")
    sf = os.path.join(a.results, "simulation.json")
    if os.path.exists(ef):
        with open(ef, encoding="utf-8") as f:
            exp = json.load(f)
    if os.path.exists(sf):
        with open(sf, encoding="utf-8") as f:
            sim = json.load(f)
    if not exp and not sim:
        sys.exit(f"no results in {a.results}")
    blocks = {}
    if exp:
        blocks.update(experiment_charts(exp, charts, rel))
        m = exp["meta"]
        blocks["experiment-meta"] = (
            f"Measured with scale {m['scale']:g} (1 loopback second = {m['scale']:g} world seconds), "
            f"{m['cpus']} CPUs, Java {m['java']}, {m['ratePerPool']:g} requests per loopback second offered to "
            f"each pool; the whole experiment took "
            f"{m['elapsedSec']:g} s. Load average when it started: `{m['loadAverage']}`"
            + (f", when it ended: `{m['loadAverageEnd']}`" if m.get("loadAverageEnd") else "") + "."
            + (" **Quick mode** (smoke test, not the reported figures)." if m.get("quick") else ""))
    if sim:
        blocks.update(simulation_blocks(sim, charts, rel))
        m = sim["meta"]
        blocks["simulation-meta"] = (
            f"{m['instances']} instances, {len(m['fleets'][0]['capacities'])} providers, {m['durationSec']:g} s of "
            f"virtual time per run ({m['warmupSec']:g} s warm-up left out of every figure), seed {m['seed']}; "
            f"mean answer {m['meanServiceSec']:g} s on an idle provider; the {len(sim['runs'])} runs took "
            f"{m['elapsedSec']:g} s." + (" **Quick mode.**" if m.get("quick") else ""))
    blocks["targets"] = targets(exp, sim)
    missing = replace_blocks(a.doc, blocks) if os.path.exists(a.doc) else list(blocks)
    print(f"charts in {charts}; {len(blocks) - len(missing)} blocks of {a.doc} rewritten")
    if missing:
        print("blocks without markers in the document: " + ", ".join(sorted(missing)))


if __name__ == "__main__":
    main()
