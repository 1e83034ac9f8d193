#!/usr/bin/env bash
# Smoke pass for CI: builds target/benchmarks.jar and runs one short iteration of one benchmark
# per class (plus the Ribbon peer, whose setup is the most fragile), with the setup checks each
# benchmark makes (every router picks, Ribbon sees all servers up and has response-time weights,
# direct and pooled requests are identical and usage is reported, the tap extracts usage).
# Exits non-zero if the build, a setup check or a benchmark fails. Takes well under two minutes.
#
#   benchmarks/smoke.sh                         # installs the library from ../ first
#   SKIP_LIBRARY_INSTALL=1 benchmarks/smoke.sh  # uses the llmpool snapshot already in ~/.m2
set -euo pipefail
cd "$(dirname "$0")"

if [[ "${SKIP_LIBRARY_INSTALL:-0}" != "1" && -f ../pom.xml ]]; then
  (cd .. && mvn -q -B install -DskipTests)
  # MetricsBenchmark needs llmpool-micrometer, the fleet experiment llmpool-redis: the BOM (which the integrations' parent imports) first,
  # then with -am the module and what it needs (the parent, llmpool-telemetry, and for its tests'
  # scope llmpool-testing and llmpool-build-checks).
  (cd ../integrations && mvn -q -B -f llmpool-bom/pom.xml install \
    && mvn -q -B install -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -pl llmpool-micrometer,llmpool-redis -am)
fi
mvn -q -B package

out=target/smoke.json
rm -f "$out"
# -foe: fail on error (a failing setup check or benchmark makes java exit non-zero).
timeout 150 java -jar target/benchmarks.jar \
  'SelectorBenchmark\.(p2c|ribbonAvailabilityFiltering)$' \
  'MixedBenchmark\.busy$' \
  'InterceptorBenchmark\.poolChat$' \
  'UsageTapBenchmark\.tapped$' \
  'RetryBudgetBenchmark\.onRequest$' \
  'MetricsBenchmark\.poolMetrics$' \
  'QuotaPickBenchmark\.picksCpu$' \
  'QuotaPickPairedBenchmark\.paired$' \
  -p providers=8 -p strategy=POWER_OF_TWO_CHOICES -p readSize=8192 -p quota=configured \
  -f 1 -wi 0 -i 1 -r 200ms -foe true -rf json -rff "$out"

python3 - "$out" <<'PY'
import json, math, sys
runs = json.load(open(sys.argv[1]))
names = sorted(r["benchmark"].rsplit(".", 1)[-1] for r in runs)
want = sorted(["p2c", "ribbonAvailabilityFiltering", "busy", "poolChat", "tapped", "onRequest", "poolMetrics",
               "picksCpu", "paired"])
bad = [r["benchmark"] for r in runs if not math.isfinite(r["primaryMetric"]["score"]) or r["primaryMetric"]["score"] <= 0]
if names != want or bad:
    sys.exit(f"smoke: expected results for {want}, got {names}; bad scores: {bad}")
print("smoke: ok (" + ", ".join(names) + ")")
PY

# The paired external measurement, a few hundred pairs: it runs, the pool reports usage for each call.
timeout 60 java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp target/benchmarks.jar \
  io.github.llmpool.bench.PairedLatency 300 300 > target/smoke-paired.txt
tail -1 target/smoke-paired.txt
echo "smoke: paired ok"
