#!/usr/bin/env bash
# Routing quality of llmpool (issue 7), one command: builds the library and the benchmarks jar, runs
# the loopback experiment (fake OpenAI-compatible providers, every strategy side by side) and the
# scale simulation (100 pools x 10 providers in virtual time), then regenerates the charts and the
# generated tables of QUALITY.md from the raw results in quality-results/.
#
#   benchmarks/quality.sh           # full run: ~5 min experiment + ~1 min simulation, plus the build
#   benchmarks/quality.sh --quick   # smoke run, < 1 min after the build: results and a report copy go
#                                   # to quality-results/quick/, QUALITY.md is left alone
#   SKIP_BUILD=1 benchmarks/quality.sh ...   # reuse target/benchmarks.jar and the installed library
#   MAVEN_REPO_LOCAL=/path benchmarks/quality.sh  # build with that local Maven repository
#
# Needs Java 17, Maven, Python 3 (standard library only). Run it on an otherwise idle machine: the
# loopback latencies are real time on this machine (the load average is recorded with the results).
set -euo pipefail
cd "$(dirname "$0")"

quick=0
if [[ "${1:-}" == "--quick" ]]; then
  quick=1
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--quick]" >&2
  exit 2
fi

if [[ "${SKIP_BUILD:-0}" != "1" ]]; then
  repo=()
  if [[ -n "${MAVEN_REPO_LOCAL:-}" ]]; then
    repo=(-Dmaven.repo.local="$MAVEN_REPO_LOCAL")
  fi
  (cd .. && mvn -q -B "${repo[@]}" install -DskipTests)
  mvn -q -B "${repo[@]}" package -DskipTests
fi

# Run from a private copy: a rebuild of target/ during the run must not swap classes under it.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp target/benchmarks.jar "$work/benchmarks.jar"
java_run=(java -Xms1g -Xmx2g -cp "$work/benchmarks.jar")

if [[ $quick == 1 ]]; then
  out=quality-results/quick
  mkdir -p "$out"
  "${java_run[@]}" io.github.llmpool.bench.quality.QualityExperiment --quick --out "$out"
  "${java_run[@]}" io.github.llmpool.bench.quality.ScaleSimulation --quick --out "$out"
  cp QUALITY.md "$out/QUALITY-quick.md"
  python3 scripts/quality_report.py --results "$out" --doc "$out/QUALITY-quick.md"
else
  out=quality-results
  "${java_run[@]}" io.github.llmpool.bench.quality.QualityExperiment --out "$out"
  "${java_run[@]}" io.github.llmpool.bench.quality.ScaleSimulation --out "$out"
  python3 scripts/quality_report.py --results "$out" --doc QUALITY.md
fi
