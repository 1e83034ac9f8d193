#!/usr/bin/env python3
"""Set llmpool's one version in every pom of the repository (docs/releasing.md).

    python3 .ci/set-version.py 0.1.0            # a release
    python3 .ci/set-version.py 0.2.0-SNAPSHOT   # back to development

The poms are separate trees (the core's pom.xml, integrations/pom.xml and its modules,
integrations/llmpool-bom, all/, samples/, benchmarks/), so no one Maven reactor reaches all of
them (benchmarks/ is in none, samples/ and benchmarks/ name the library in an <llmpool.version>
property). This rewrites exactly these elements, nothing else, and then checks every pom:
  - the project's own <version> of every io.github.llmpool pom,
  - <parent><version> where the parent is io.github.llmpool,
  - the <llmpool.version> property.
The BOM manages llmpool's artifacts at ${project.version}, so it follows. Files other than poms
(README snippets) are listed, not changed.
"""
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

NS = {"m": "http://maven.apache.org/POM/4.0.0"}
GROUP = "io.github.llmpool"
VERSION_RE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(-[A-Za-z0-9.]+)?$")


def poms(root):
    for p in sorted(root.rglob("pom.xml")):
        rel = p.relative_to(root)
        if any(part in ("target", ".git", "node_modules") for part in rel.parts):
            continue
        yield p


def versions_of(path):
    """(project version or None, parent version or None, llmpool.version or None) of one pom."""
    doc = ET.parse(path).getroot()
    own_group = doc.findtext("m:groupId", namespaces=NS)
    parent = doc.find("m:parent", NS)
    parent_group = parent.findtext("m:groupId", namespaces=NS) if parent is not None else None
    own = doc.findtext("m:version", namespaces=NS)
    group = own_group or parent_group
    out_own = own if group == GROUP else None
    out_parent = parent.findtext("m:version", namespaces=NS) if parent_group == GROUP else None
    prop = doc.find("m:properties/m:llmpool.version", NS)
    return out_own, out_parent, (prop.text if prop is not None else None)


def main():
    if len(sys.argv) != 2 or not VERSION_RE.match(sys.argv[1]):
        sys.exit("usage: set-version.py NEW_VERSION   (e.g. 0.1.0 or 0.2.0-SNAPSHOT)")
    new = sys.argv[1]
    root = pathlib.Path(__file__).resolve().parent.parent
    old = versions_of(root / "pom.xml")[0]
    if not old:
        sys.exit("set-version: no <version> in the core's pom.xml")
    changed = []
    for p in poms(root):
        own, parent, prop = versions_of(p)
        if old not in (own, parent, prop):
            continue
        text = p.read_text(encoding="utf-8")
        # The project's own <version> (the first one after </parent> or <artifactId> at depth 1),
        # the parent's <version>, and the property: each only where it holds the old version.
        text2 = re.sub(r"(<parent>.*?<groupId>" + re.escape(GROUP) + r"</groupId>.*?<version>)"
                       + re.escape(old) + r"(</version>)", r"\g<1>" + new + r"\g<2>", text, count=1, flags=re.S)
        body_start = text2.find("</parent>")
        head, body = (text2[:body_start], text2[body_start:]) if body_start >= 0 else ("", text2)
        # Own version: the first <version> at two-space indent outside <parent>.
        body = re.sub(r"(\n  <version>)" + re.escape(old) + r"(</version>)", r"\g<1>" + new + r"\g<2>", body, count=1)
        text2 = head + body
        text2 = re.sub(r"(<llmpool\.version>)" + re.escape(old) + r"(</llmpool\.version>)",
                       r"\g<1>" + new + r"\g<2>", text2)
        if text2 != text:
            p.write_text(text2, encoding="utf-8")
            changed.append(p.relative_to(root))
    bad = []
    for p in poms(root):
        own, parent, prop = versions_of(p)
        for what, v in (("version", own), ("parent version", parent), ("llmpool.version", prop)):
            if v is not None and v != new:
                bad.append(f"{p.relative_to(root)}: {what} is {v}")
    for c in changed:
        print(f"set-version: {c}: {old} -> {new}")
    if bad:
        sys.exit("set-version: not every pom has " + new + ":\n  " + "\n  ".join(bad))
    token = re.compile(r"(?<![\w.-])" + re.escape(old) + r"(?![\w-]|\.\w)")
    others = [str(f.relative_to(root)) for f in root.rglob("*.md")
              if "target" not in f.parts and token.search(f.read_text(encoding="utf-8", errors="replace"))]
    if others and old != new:
        print(f"set-version: still naming {old} (not changed; update the snippets by hand): " + ", ".join(sorted(others)))


if __name__ == "__main__":
    main()
