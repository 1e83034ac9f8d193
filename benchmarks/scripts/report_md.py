"""What the generated-Markdown reports of benchmarks/ share (quality_report, quota_report, fleet_report):
number formatting, Markdown tables, and rewriting the generated blocks of a document (the text between
`<!-- TAG:begin NAME -->` and `<!-- TAG:end NAME -->`). Python 3 standard library only."""

import math
import re


def num(v):
    """Whether v is a number to show (not None, not NaN)."""
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def fmt(v, digits=1):
    return f"{float(v):.{digits}f}" if num(v) else "–"


def pct(v, digits=1):
    return f"{100 * float(v):.{digits}f}%" if num(v) else "–"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def fewer(a, b):
    """How many times fewer a has than b (b / a); inf when a is 0 and b is not."""
    if not num(a) or not num(b):
        return None
    if a == 0:
        return math.inf if b > 0 else 1.0
    return b / a


def replace_blocks(text, tag, blocks):
    """Text with each generated block NAME of blocks replaced by its body; and the names not found."""
    missing = []
    for name, body in blocks.items():
        pat = re.compile(r"(<!-- " + tag + r":begin " + re.escape(name) + r" -->\n)(.*?)(<!-- " + tag + r":end "
                         + re.escape(name) + r" -->)", re.S)
        if not pat.search(text):
            missing.append(name)
            continue
        text = pat.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(3), text)
    return text, missing
