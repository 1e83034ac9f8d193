#!/usr/bin/env bash
# The multi-instance experiment (issue 18), one command: builds the library, llmpool-redis and the
# benchmarks jar, starts its own Redis (redis-server / valkey-server on PATH, else the embedded-redis
# binary shaded into the jar), runs 8 instance JVMs per contender (independent pools, Redis-shared
# headers, Redis-shared with configured limits) over fake providers that enforce RPM/TPM at 90% and
# 150% of the limited tier's capacity, then the paired pool-overhead measurement (Redis vs local in
# one JVM), and regenerates the generated tables of FLEET.md from fleet-results/*.json.
#
#   benchmarks/fleet.sh            # full run: ~6-7 min after the build on 2 busy cores
#   benchmarks/fleet.sh --smoke    # 3 world minutes per run (~4 min, JVM starts dominate): results and a
#                                  # report copy in fleet-results/smoke/ (not committed); exits non-zero
#                                  # if anything fails or a run is empty
#   SKIP_BUILD=1 benchmarks/fleet.sh ...   # reuse target/benchmarks.jar and the installed library
#   MVN_ARGS="-Dmaven.repo.local=..." benchmarks/fleet.sh   # extra arguments for every mvn call
#
# Needs Java 17, Maven, Python 3 (standard library only). Not part of CI. Loopback timing is real
# time on this machine: the load average is recorded with the results.
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
  (cd .. && mvn -q -B "${mvn_args[@]}" install -DskipTests -Dmaven.javadoc.skip=true)
  # llmpool-redis with -DskipTests (not -Dmaven.test.skip): its test-jar (RedisServerProcess, the Redis the
  # experiment runs) is built and installed with it.
  (cd ../integrations && mvn -q -B "${mvn_args[@]}" install -N -DskipTests \
    && mvn -q -B "${mvn_args[@]}" -f llmpool-bom/pom.xml install \
    && mvn -q -B "${mvn_args[@]}" -f llmpool-redis/pom.xml install -DskipTests -Dmaven.javadoc.skip=true)
  mvn -q -B "${mvn_args[@]}" package -DskipTests
fi

# Run from a private copy: a rebuild of target/ during the run must not swap classes under it.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp target/benchmarks.jar "$work/benchmarks.jar"
java_run=(java -Xms512m -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=error -cp "$work/benchmarks.jar")

if [[ $smoke == 1 ]]; then
  out=fleet-results/smoke
  rm -rf "$out"
  mkdir -p "$out"
  "${java_run[@]}" io.github.llmpool.bench.quality.FleetExperiment --smoke --out "$out"
  "${java_run[@]}" io.github.llmpool.bench.quality.FleetOverhead --smoke --out "$out"
  cp FLEET.md "$out/FLEET-smoke.md"
  python3 scripts/fleet_report.py --results "$out" --doc "$out/FLEET-smoke.md"
else
  out=fleet-results
  rm -rf "$out/raw"
  mkdir -p "$out"
  "${java_run[@]}" io.github.llmpool.bench.quality.FleetExperiment --out "$out"
  "${java_run[@]}" io.github.llmpool.bench.quality.FleetOverhead --out "$out"
  python3 scripts/fleet_report.py --results "$out" --doc FLEET.md
fi
