#!/usr/bin/env bash
# Before/after in one run: the same JMH benchmarks against a baseline build of the library and the
# current one, back to back, in alternating rounds (base, new, base, new, ...), so that both see the
# same machine load. The benchmark classes are the current ones (target/benchmarks.jar); for the
# baseline its library classes come first on the class path (java -cp BASE.jar:benchmarks.jar):
# benchmarks that call something the baseline lacks (UsageTapBenchmark.tapped) cannot run on it.
#
#   scripts/compare.sh                          # baseline: BASE_REF (default: where this branch left main)
#   BASE_REF=89dea23 ROUNDS=2 scripts/compare.sh 'InterceptorBenchmark.(pool|direct)(Canned|Chat)$'
#   BASE_JAR=/path/llmpool.jar scripts/compare.sh 'SelectorBenchmark.p2c' -p providers=8
#
# Extra arguments are JMH arguments (benchmark regexes, -p, -wi, ...); -prof gc is always on.
# Writes results/compare/<label>-{base,new}-r<round>.json and prints the table of
# scripts/compare.py (mean +- 99.9% error of each side, B/op, pool-added figures).
set -euo pipefail
cd "$(dirname "$0")/.."
LABEL="${LABEL:-compare}"
ROUNDS="${ROUNDS:-2}"
NEW_JAR="${NEW_JAR:-$(ls ../target/llmpool-*-SNAPSHOT.jar | head -1)}"
if [[ -z "${BASE_JAR:-}" ]]; then
  BASE_REF="${BASE_REF:-$(git -C .. merge-base HEAD main)}"
  dir=target/baseline-$(git -C .. rev-parse --short "$BASE_REF")
  if [[ ! -f "$dir/done" ]]; then
    rm -rf "$dir" && mkdir -p "$dir/src"
    git -C .. archive "$BASE_REF" | tar -x -C "$dir/src"
    (cd "$dir/src" && mvn -q -B package -DskipTests)
    touch "$dir/done"
  fi
  BASE_JAR=$(ls "$dir"/src/target/llmpool-*.jar | head -1)
fi
[[ -f target/benchmarks.jar ]] || mvn -q -B package
mkdir -p results/compare
echo "baseline: $BASE_JAR"
echo "new:      $NEW_JAR"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
  for side in base new; do
    jar=$BASE_JAR; [[ $side == new ]] && jar=$NEW_JAR
    nice -n "${NICE:-0}" java -cp "$jar:target/benchmarks.jar" org.openjdk.jmh.Main "$@" \
      -prof gc -foe true -rf json -rff "results/compare/$LABEL-$side-r$r.json" > "results/compare/$LABEL-$side-r$r.log"
    echo "round $r $side done (load $(cut -d' ' -f1-3 /proc/loadavg))"
  done
done
python3 scripts/compare.py results/compare "$LABEL"
