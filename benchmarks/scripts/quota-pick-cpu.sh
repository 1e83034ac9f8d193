#!/usr/bin/env bash
# The pick's CPU time per quota mode (QuotaPickCpuTime), modes interleaved over rounds so that all
# see the same machine load; one JVM per mode and round. Hold the measurement lock around it on a
# shared machine. Usage: scripts/quota-pick-cpu.sh [ROUNDS] [PROVIDERS] [STRATEGY]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"; PROVIDERS="${2:-8}"; STRATEGY="${3:-POWER_OF_TWO_CHOICES}"
[[ -f target/benchmarks.jar ]] || mvn -q -B package
for r in $(seq 1 "$ROUNDS"); do
  for m in off unknown headers configured budget; do
    # Router.pick not inlined into the timing loop: one real call per pick, as from JMH's stub
    # (and the interceptor), so that no load of the pick is hoisted out of the loop.
    echo "round $r $(java -XX:CompileCommand=quiet -XX:CompileCommand=dontinline,io/github/llmpool/internal/route/Router.pick \
      -cp target/benchmarks.jar io.github.llmpool.bench.jmh.QuotaPickCpuTime "$m" "$PROVIDERS" "$STRATEGY")"
  done
done
