#!/usr/bin/env python3
"""Checks a Central Portal bundle (central-bundle.zip) as Maven Central's validation would.

    release-check.py BUNDLE --version V --bom BOM_POM [--key PUBLIC_KEY.asc]

Fails (exit 1, every problem listed) unless:
  - the bundle holds exactly llmpool's published artifacts: every io.github.llmpool artifact the
    BOM manages, the BOM itself, and the io.github.llmpool parents their poms name; so nothing
    unpublished (llmpool-all, llmpool-samples, llmpool-benchmarks) and nothing the BOM misses;
  - every artifact is at version V (no SNAPSHOT) and has its pom; a non-pom artifact also its jar,
    -sources.jar (with .java files) and -javadoc.jar (with index.html); a jar without classes
    (a starter) may have README.md-only placeholders instead, as Central allows;
  - every file has .asc (a valid detached signature, checked with gpg against --key when given),
    .md5 and .sha1 (required by Central; .sha256/.sha512 too if present) matching its bytes;
  - every pom has name and description, and url, licence (name + url), developers and scm
    (url + connection), itself or through its io.github.llmpool parents, and these values are the
    same for every artifact (one set of project metadata);
  - every jar is usable on the module path: module-info.class or an Automatic-Module-Name that is a
    valid module name.
"""
import argparse
import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile

NS = "{http://maven.apache.org/POM/4.0.0}"
GROUP = "io.github.llmpool"
GROUP_PATH = GROUP.replace(".", "/")
MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
JAVA_KEYWORDS = {"abstract", "assert", "boolean", "break", "byte", "case", "catch", "char", "class", "const",
                 "continue", "default", "do", "double", "else", "enum", "extends", "final", "finally", "float",
                 "for", "goto", "if", "implements", "import", "instanceof", "int", "interface", "long", "native",
                 "new", "package", "private", "protected", "public", "return", "short", "static", "strictfp",
                 "super", "switch", "synchronized", "this", "throw", "throws", "transient", "try", "void",
                 "volatile", "while", "true", "false", "null", "_"}

problems = []


def problem(msg):
    problems.append(msg)


def text(el, path):
    v = el.findtext("/".join(NS + p for p in path.split("/")))
    return v.strip() if v else None


def metadata(pom, poms_by_artifact):
    """url, licences, developers, scm of a pom, inherited through io.github.llmpool parents."""
    def own(p):
        lic = tuple((text(l, "name"), text(l, "url")) for l in p.findall(f"{NS}licenses/{NS}license"))
        dev = tuple((text(d, "id"), text(d, "name"), text(d, "email"), text(d, "url"))
                    for d in p.findall(f"{NS}developers/{NS}developer"))
        scm = p.find(f"{NS}scm")
        scm_v = (text(scm, "url"), text(scm, "connection"), text(scm, "developerConnection")) if scm is not None else None
        return {"url": text(p, "url"), "licenses": lic or None, "developers": dev or None, "scm": scm_v}
    out = own(pom)
    p = pom
    while any(v is None for v in out.values()):
        parent = p.find(f"{NS}parent")
        if parent is None or text(parent, "groupId") != GROUP:
            break
        p = poms_by_artifact.get(text(parent, "artifactId"))
        if p is None:
            break
        for k, v in own(p).items():
            if out[k] is None:
                out[k] = v
    return out


def placeholder_ok(art, version, z):
    """A jar without classes (a starter: a pom with dependencies) may ship README-only
    -sources/-javadoc jars, as Central allows."""
    try:
        main_jar = zipfile.ZipFile(io.BytesIO(z.read(f"{GROUP_PATH}/{art}/{version}/{art}-{version}.jar")))
    except KeyError:
        return False
    return not any(e.endswith(".class") for e in main_jar.namelist())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle")
    ap.add_argument("--version", required=True)
    ap.add_argument("--bom", required=True)
    ap.add_argument("--key")
    a = ap.parse_args()
    version = a.version
    if version.endswith("-SNAPSHOT"):
        problem(f"version {version} is a SNAPSHOT: Central takes no SNAPSHOT in a bundle")
    if not os.path.isfile(a.bundle):
        sys.exit(f"release check: no bundle at {a.bundle}")

    z = zipfile.ZipFile(a.bundle)
    names = set(n for n in z.namelist() if not n.endswith("/"))
    artifacts = {}
    for n in names:
        parts = n.split("/")
        if "/".join(parts[:-3]) != GROUP_PATH:
            problem(f"{n}: not under {GROUP_PATH}/")
            continue
        art, ver = parts[-3], parts[-2]
        if ver != version:
            problem(f"{n}: version {ver}, expected {version}")
        artifacts.setdefault(art, set()).add(parts[-1])

    poms = {}
    for art, files in artifacts.items():
        pom_name = f"{art}-{version}.pom"
        if pom_name not in files:
            problem(f"{art}: no {pom_name}")
            continue
        poms[art] = ET.fromstring(z.read(f"{GROUP_PATH}/{art}/{version}/{pom_name}"))

    # Which artifacts must be there: the BOM's llmpool artifacts, the BOM, and their llmpool parents.
    bom = ET.parse(a.bom).getroot()
    bom_id = text(bom, "artifactId")
    managed = {text(d, "artifactId") for d in bom.findall(f"{NS}dependencyManagement/{NS}dependencies/{NS}dependency")
               if text(d, "groupId") == GROUP}
    expected = set(managed) | {bom_id}
    for art, pom in poms.items():
        parent = pom.find(f"{NS}parent")
        if parent is not None and text(parent, "groupId") == GROUP:
            expected.add(text(parent, "artifactId"))
            if text(parent, "version") != version:
                problem(f"{art}: parent version {text(parent, 'version')}, expected {version}")
    for art in sorted(expected - set(artifacts)):
        problem(f"{art}: missing from the bundle (managed by the BOM or a parent of a bundled pom)")
    for art in sorted(set(artifacts) - expected):
        problem(f"{art}: in the bundle but not published (not managed by {bom_id}, nobody's parent)")

    if a.key:
        gnupg = tempfile.mkdtemp(prefix="llmpool-verify-")
        os.chmod(gnupg, 0o700)
        subprocess.run(["gpg", "--homedir", gnupg, "--batch", "--quiet", "--import", a.key], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        gnupg = None

    rows = []
    reference = None
    for art in sorted(poms):
        pom, files = poms[art], artifacts[art]
        base = f"{art}-{version}"
        module = "-"
        packaging = text(pom, "packaging") or "jar"
        if text(pom, "version") not in (None, version):
            problem(f"{art}: pom version {text(pom, 'version')}")
        for field in ("name", "description"):
            if not text(pom, field):
                problem(f"{art}: pom has no <{field}>")
        meta = metadata(pom, poms)
        for k, v in meta.items():
            if not v:
                problem(f"{art}: no <{k}> in its pom or its parents")
        if meta["licenses"] and any(not n or not u for n, u in meta["licenses"]):
            problem(f"{art}: a licence without name or url")
        if meta["scm"] and (not meta["scm"][0] or not meta["scm"][1]):
            problem(f"{art}: scm without url or connection")
        if reference is None:
            reference = (art, meta)
        elif meta != reference[1]:
            diff = [k for k in meta if meta[k] != reference[1][k]]
            problem(f"{art}: project metadata {diff} differ from {reference[0]}'s (keep one set of values)")

        wanted = [f"{base}.pom"]
        if packaging != "pom":
            wanted += [f"{base}.jar", f"{base}-sources.jar", f"{base}-javadoc.jar"]
        for w in wanted:
            if w not in files:
                problem(f"{art}: no {w}")
        primary = [f for f in files if not re.search(r"\.(asc|md5|sha1|sha256|sha512)$", f)]
        for f in primary:
            data = z.read(f"{GROUP_PATH}/{art}/{version}/{f}")
            for alg in ("md5", "sha1", "sha256", "sha512"):
                sidecar = f"{f}.{alg}"
                if sidecar not in files:
                    if alg in ("md5", "sha1"):
                        problem(f"{art}: no {sidecar} (required)")
                    continue
                got = z.read(f"{GROUP_PATH}/{art}/{version}/{sidecar}").decode().split()[0].strip().lower()
                if got != hashlib.new(alg, data).hexdigest():
                    problem(f"{art}: {sidecar} does not match {f}")
            if f"{f}.asc" not in files:
                problem(f"{art}: no {f}.asc")
            elif gnupg:
                with tempfile.TemporaryDirectory() as d:
                    fp, sp = os.path.join(d, f), os.path.join(d, f + ".asc")
                    open(fp, "wb").write(data)
                    open(sp, "wb").write(z.read(f"{GROUP_PATH}/{art}/{version}/{f}.asc"))
                    r = subprocess.run(["gpg", "--homedir", gnupg, "--batch", "--verify", sp, fp],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                    if r.returncode != 0:
                        problem(f"{art}: {f}.asc does not verify: {r.stderr.strip().splitlines()[-1:]}")
            if f.endswith(".jar"):
                jar = zipfile.ZipFile(io.BytesIO(data))
                entries = jar.namelist()
                if f == f"{base}.jar":
                    has_descriptor = "module-info.class" in entries or any(
                        re.match(r"META-INF/versions/\d+/module-info\.class$", e) for e in entries)
                    manifest = jar.read("META-INF/MANIFEST.MF").decode("utf-8", "replace") if "META-INF/MANIFEST.MF" in entries else ""
                    m = re.search(r"^Automatic-Module-Name:\s*(\S+)", manifest, re.M)
                    amn = m.group(1) if m else None
                    if not has_descriptor and not amn:
                        problem(f"{art}: {f} has neither module-info.class nor Automatic-Module-Name")
                    if amn and (not MODULE_NAME.match(amn) or set(amn.split(".")) & JAVA_KEYWORDS):
                        problem(f"{art}: Automatic-Module-Name {amn!r} is not a valid module name")
                    module = "module-info" if has_descriptor else (amn or "-")
                elif f.endswith("-sources.jar") and not any(e.endswith(".java") for e in entries) \
                        and not (placeholder_ok(art, version, z) and "README.md" in entries):
                    problem(f"{art}: {f} holds no .java file")
                elif f.endswith("-javadoc.jar") and "index.html" not in entries \
                        and not (placeholder_ok(art, version, z) and "README.md" in entries):
                    problem(f"{art}: {f} holds no index.html")
        rows.append((art, packaging, len(files), module if packaging != "pom" else ""))

    width = max([len(r[0]) for r in rows] + [8])
    print(f"release check: {a.bundle} ({len(names)} files)")
    for art, packaging, n, module in rows:
        print(f"  {art:<{width}}  {packaging:<4}  {n:>3} files  {module}")
    if problems:
        print("release check: FAILED")
        for p in problems:
            print("  - " + p)
        sys.exit(1)
    print(f"release check: ok ({len(rows)} artifacts at {version}: pom, jar, sources, javadoc where due, "
          f"each signed (.asc{', verified' if gnupg else ''}) with .md5/.sha1/.sha256/.sha512; one set of metadata)")


if __name__ == "__main__":
    main()
