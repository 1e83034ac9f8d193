package io.github.llmpool.bench.quality;

import java.util.ArrayList;
import java.util.List;

/**
 * The shared providers of the scale simulation, in world time. Each provider generates
 * {@code capacity} answers at once (more wait FIFO, which adds to their time to first token) and
 * enforces a request rate limit (a token bucket of {@code rateFactor x} its capacity rate, with a
 * {@link #BURST_SEC}-second burst) answered by 429 with {@code Retry-After} in whole seconds.
 * Optionally one provider turns {@code spellFactor x} slower for a while. Immutable.
 *
 * @param capacities concurrent answers per provider
 * @param weights the pools' weights per provider
 */
record SimFleet(String name, String description, int[] capacities, int[] weights, double spellFromFrac,
    double spellToFrac, double spellFactor) {

  /** Time to first token of an idle provider, seconds (median; log-normal jitter sigma 0.3). */
  static final double TTFT_SEC = 0.5;
  static final double TTFT_SIGMA = 0.3;
  /** Decode time per output token, seconds. */
  static final double PER_TOKEN_SEC = 0.02;
  /** Output tokens: log-normal, median 150, sigma 0.8, capped at 2000 (mean ~207). */
  static final double TOKENS_MEDIAN = 150;
  static final double TOKENS_SIGMA = 0.8;
  static final int TOKENS_MAX = 2000;
  /** Round trip between an application instance and a provider, seconds. */
  static final double RTT_SEC = 0.02;
  /** Burst of the rate limit, in seconds of its rate. */
  static final double BURST_SEC = 2;
  /** The rate limit as a multiple of the provider's capacity rate (capacity / mean service time). */
  static final double RATE_FACTOR = 1.0;

  /** Mean service time of one answer on an idle provider, seconds (analytic). */
  static double meanServiceSec() {
    double meanTokens = TOKENS_MEDIAN * Math.exp(TOKENS_SIGMA * TOKENS_SIGMA / 2);
    return TTFT_SEC * Math.exp(TTFT_SIGMA * TTFT_SIGMA / 2) + meanTokens * PER_TOKEN_SEC;
  }

  int size() {
    return capacities.length;
  }

  int totalCapacity() {
    int s = 0;
    for (int c : capacities) {
      s += c;
    }
    return s;
  }

  boolean hasSpell() {
    return spellFactor > 1;
  }

  static List<SimFleet> all() {
    List<SimFleet> out = new ArrayList<>();
    int[] uniform = {40, 40, 40, 40, 40, 40, 40, 40, 40, 40};
    int[] ones = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    int[] mixed = {80, 60, 60, 40, 40, 40, 40, 20, 20, 20};
    out.add(new SimFleet("uniform", "10 identical providers (40 concurrent answers each), equal weights",
        uniform, ones, 0, 0, 1));
    out.add(new SimFleet("mixed-weighted",
        "10 providers of 20..80 concurrent answers, weights proportional to capacity", mixed, mixed.clone(), 0, 0, 1));
    out.add(new SimFleet("mixed-equal",
        "the same 10 providers with equal weights (capacity unknown to the operator)", mixed, ones, 0, 0, 1));
    out.add(new SimFleet("uniform-spell",
        "10 identical providers; p0 answers 3x slower from 40% to 60% of the run, then recovers",
        uniform, ones, 0.4, 0.6, 3));
    out.add(new SimFleet("uniform-spell10",
        "10 identical providers; p0 answers 10x slower from 40% to 60% of the run, then recovers",
        uniform, ones, 0.4, 0.6, 10));
    out.add(new SimFleet("uniform-blip",
        "10 identical providers; p0 answers 10x slower for 12 s (1.2 tau) at mid-run, then recovers",
        uniform, ones, 0.5, 0.5 + 12 / 900.0, 10));
    return out;
  }
}
