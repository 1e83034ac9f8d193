#!/usr/bin/env bash
# The paired external measurement (io.github.llmpool.bench.PairedLatency): per chat call, the time
# through a two-provider pool minus the time of the same call straight to the same loopback
# upstream (JDK HttpServer, default OkHttp clients), call by call. With BASE_JAR (or BASE_REF, as
# in compare.sh) it alternates rounds between the baseline library and the current one.
#
#   scripts/paired.sh                      # PAIRS=20000 WARMUP=20000 ROUNDS=2
#   PAIRS=2000 WARMUP=2000 ROUNDS=1 NO_BASE=1 scripts/paired.sh
#
# Writes results/paired-{base,new}-r<round>.json ({"added": {"median_us", "p99_us", ...}, ...}).
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS="${PAIRS:-20000}"
WARMUP="${WARMUP:-20000}"
ROUNDS="${ROUNDS:-2}"
NEW_JAR="${NEW_JAR:-$(ls ../target/llmpool-*-SNAPSHOT.jar | head -1)}"
[[ -f target/benchmarks.jar ]] || mvn -q -B package
sides=(new)
if [[ "${NO_BASE:-0}" != "1" ]]; then
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
  sides=(base new)
fi
mkdir -p results
for r in $(seq 1 "$ROUNDS"); do
  for side in "${sides[@]}"; do
    jar=$NEW_JAR; [[ $side == base ]] && jar=$BASE_JAR
    echo "round $r $side ($jar), load $(cut -d' ' -f1-3 /proc/loadavg):"
    nice -n "${NICE:-0}" java -Xms512m -Xmx512m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
      -cp "$jar:target/benchmarks.jar" io.github.llmpool.bench.PairedLatency "$PAIRS" "$WARMUP" \
      "results/paired-$side-r$r.json" | tail -1
  done
done
