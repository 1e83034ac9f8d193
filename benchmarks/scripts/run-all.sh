#!/usr/bin/env bash
# The full benchmark run behind benchmarks/README.md (about 25 minutes on 2 cores):
# builds the jar, runs every benchmark class with -prof gc, writes raw JMH JSON to results/,
# records the machine in results/machine.txt, then draws the charts and tables.
# Run it on an otherwise idle machine; the load average before and after is recorded.
# On a shared machine, NICE=-15 (needs root) runs the benchmark JVMs ahead of other work.
set -euo pipefail
cd "$(dirname "$0")/.."

OPTS=(-f 1 -wi 3 -w 1s -i 5 -r 1s -prof gc -foe true -rf json)
# Interceptor and usage tap: the iteration counts of their @Warmup/@Measurement annotations
# (15+10 and 5+5 one-second iterations): the pooled HTTP path needs ~10 s to be fully compiled.
IO_OPTS=(-f 1 -prof gc -foe true -rf json)
JMH=(nice -n "${NICE:-0}" java -jar target/benchmarks.jar)
if [[ -n "${BENCH_CP:-}" ]]; then # a class path instead of the shaded jar (see README)
  JMH=(nice -n "${NICE:-0}" java -cp "$BENCH_CP" org.openjdk.jmh.Main)
fi
mkdir -p results

if [[ "${SKIP_BUILD:-0}" != "1" ]]; then
  (cd .. && mvn -q -B install -DskipTests)
  mvn -q -B package
fi

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "library changes not yet committed (measured as they were):"
  git -C .. diff --stat -- src/main 2>/dev/null | tail -1 || true
  git -C .. status --short -- src/main 2>/dev/null | sed 's/^/  /' || true
  echo "nice: ${NICE:-0}"
  echo "runner: ${JMH[*]}"
  echo "nproc: $(nproc)"
  lscpu | head -20
  java -version 2>&1
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > results/machine.txt

echo "load before SelectorBenchmark -t 1: $(cut -d' ' -f1-3 /proc/loadavg)" >> results/machine.txt
"${JMH[@]}" 'SelectorBenchmark' -t 1 "${OPTS[@]}" -rff results/selectors-t1.json
echo "load before SelectorBenchmark -t 2: $(cut -d' ' -f1-3 /proc/loadavg)" >> results/machine.txt
"${JMH[@]}" 'SelectorBenchmark' -t 2 "${OPTS[@]}" -rff results/selectors-t2.json
echo "load before MixedBenchmark: $(cut -d' ' -f1-3 /proc/loadavg)" >> results/machine.txt
"${JMH[@]}" 'MixedBenchmark' "${OPTS[@]}" -rff results/mixed.json
echo "load before InterceptorBenchmark: $(cut -d' ' -f1-3 /proc/loadavg)" >> results/machine.txt
"${JMH[@]}" 'InterceptorBenchmark' "${IO_OPTS[@]}" -rff results/interceptor.json
echo "load before UsageTapBenchmark: $(cut -d' ' -f1-3 /proc/loadavg)" >> results/machine.txt
"${JMH[@]}" 'UsageTapBenchmark' "${IO_OPTS[@]}" -rff results/usagetap.json

echo "load before PickAnatomyBenchmark: $(cut -d' ' -f1-3 /proc/loadavg)" >> results/machine.txt
"${JMH[@]}" 'PickAnatomyBenchmark' "${OPTS[@]}" -rff results/anatomy.json

echo "load before RetryBudgetBenchmark: $(cut -d' ' -f1-3 /proc/loadavg)" >> results/machine.txt
"${JMH[@]}" 'RetryBudgetBenchmark' -t 1 "${OPTS[@]}" -rff results/retrybudget-t1.json
"${JMH[@]}" 'RetryBudgetBenchmark' -t 2 "${OPTS[@]}" -rff results/retrybudget-t2.json

echo "load before the paired measurement: $(cut -d' ' -f1-3 /proc/loadavg)" >> results/machine.txt
NO_BASE=1 ROUNDS=1 scripts/paired.sh

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> results/machine.txt
python3 scripts/chart.py results
