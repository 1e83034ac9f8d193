#!/usr/bin/env bash
# Quota-aware routing (issue 17), one command: builds the library and the benchmarks jar, runs the
# loopback quota experiment (fake providers that enforce RPM/TPM like the hosted APIs, every
# contender side by side, world time 10x faster: a "minute" lasts 6 s) and the 100-instance quota
# simulation (virtual time), then regenerates the generated tables of QUOTA.md from the raw results
# in quality-results/quota-*.json.
#
#   benchmarks/quota.sh            # full run: ~7 min experiment + ~20 s simulation, plus the build
#   benchmarks/quota.sh --smoke    # CI-sized, ~30 s after the build: the instrument's tests, two short
#                                  # scenarios at scale 20 and a short simulation; results and a report
#                                  # copy go to quality-results/quota-smoke/, QUOTA.md is left alone;
#                                  # exits non-zero if anything fails or a run is empty
#   SKIP_BUILD=1 benchmarks/quota.sh ...   # reuse target/benchmarks.jar and the installed library
#   MVN_ARGS="-Dmaven.repo.local=..." benchmarks/quota.sh   # extra arguments for every mvn call
#
# Needs Java 17, Maven, Python 3 (standard library only). Loopback timing is real time on this
# machine: run it on an otherwise idle machine (the load average is recorded with the results).
set -euo pipefail
cd "$(dirname "$0")"

smoke=0
if [[ "${1:-}" == "--smoke" ]]; then
  smoke=1
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--smoke]" >&2
  exit 2
fi
read -r -a mvn_args <<< "${MVN_ARGS:-}"

if [[ "${SKIP_BUILD:-0}" != "1" ]]; then
  (cd .. && mvn -q -B "${mvn_args[@]}" install -DskipTests)
  if [[ $smoke == 1 ]]; then
    mvn -q -B "${mvn_args[@]}" package -Dtest=QuotaFakeTest -Dsurefire.failIfNoSpecifiedTests=false
  else
    mvn -q -B "${mvn_args[@]}" package -DskipTests
  fi
fi

# Run from a private copy: a rebuild of target/ during the run must not swap classes under it.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp target/benchmarks.jar "$work/benchmarks.jar"
java_run=(java -Xms1g -Xmx2g -Dorg.slf4j.simpleLogger.defaultLogLevel=error -cp "$work/benchmarks.jar")

if [[ $smoke == 1 ]]; then
  out=quality-results/quota-smoke
  mkdir -p "$out"
  "${java_run[@]}" io.github.llmpool.bench.quality.QuotaExperiment --smoke --out "$out"
  "${java_run[@]}" io.github.llmpool.bench.quality.QuotaSimulation --smoke --out "$out"
  cp QUOTA.md "$out/QUOTA-smoke.md"
  python3 scripts/quota_report.py --results "$out" --doc "$out/QUOTA-smoke.md"
else
  out=quality-results
  "${java_run[@]}" io.github.llmpool.bench.quality.QuotaExperiment --out "$out"
  "${java_run[@]}" io.github.llmpool.bench.quality.QuotaSimulation --out "$out"
  python3 scripts/quota_report.py --results "$out" --doc QUOTA.md
fi
