#!/usr/bin/env bash
# Interleaves JMH runs of several benchmark jars (say main's and a branch's) round by round, so
# that every jar sees the same stretch of a shared machine: for each round, each jar in turn runs
# the given benchmark and options once (use -f 1), its JSON saved as OUT/<label>-r<round>.json.
# Merge a label's rounds with scripts/jmh_merge.py. Hold the measurement lock around it.
# Usage: scripts/quota-pick-rounds.sh OUT ROUNDS label=jar [label=jar ...] -- JMH-ARGS...
# (FIRST=n numbers the rounds from n, to add rounds to an earlier run's directory.)
set -euo pipefail
OUT="$1"; ROUNDS="$2"; shift 2
JARS=()
while [[ "$1" != "--" ]]; do JARS+=("$1"); shift; done
shift
mkdir -p "$OUT"
FIRST="${FIRST:-1}"
for r in $(seq "$FIRST" $((FIRST + ROUNDS - 1))); do
  for lj in "${JARS[@]}"; do
    label="${lj%%=*}"; jar="${lj#*=}"
    echo "$(date +%T) round $r $label ($(cut -d' ' -f1-3 /proc/loadavg))"
    java -jar "$jar" "$@" -rf json -rff "$OUT/$label-r$r.json" > "$OUT/$label-r$r.log" 2>&1
  done
done
echo "$(date +%T) done ($(cut -d' ' -f1-3 /proc/loadavg))"
