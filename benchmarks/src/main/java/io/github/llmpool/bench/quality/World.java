package io.github.llmpool.bench.quality;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.P2cSettings;
import io.github.llmpool.RetryPolicy;
import java.time.Duration;

/**
 * The time scale of the loopback experiment. Scenarios are written in "world" time (what a real
 * deployment would see: a 300 ms time to first token, a 30 s outage, a 10 s Retry-After); the
 * experiment runs them {@code scale} times faster on loopback. Every time constant of the pool is
 * scaled by the same factor (eviction durations, latency decay, initial estimate, retry-budget
 * window), so the pool sees the same ratios it would see in the world.
 *
 * <p>Immutable.
 *
 * @param scale world seconds per loopback second (10: a 30 s outage lasts 3 s on loopback)
 */
record World(double scale) {

  World {
    if (!(scale >= 1)) {
      throw new IllegalArgumentException("scale must be >= 1 but was " + scale);
    }
  }

  /** Loopback nanoseconds for {@code worldMillis} of world time. */
  long nanos(double worldMillis) {
    return (long) (worldMillis * 1e6 / scale);
  }

  /** World seconds for a loopback interval in nanoseconds. */
  double worldSeconds(long loopbackNanos) {
    return loopbackNanos / 1e9 * scale;
  }

  /** Loopback duration for a world duration. */
  Duration loopback(Duration world) {
    return Duration.ofNanos((long) (world.toNanos() / scale));
  }

  /** The library's default eviction policy, every duration scaled. */
  EvictionPolicy eviction() {
    return EvictionPolicy.builder()
        .baseDuration(loopback(EvictionPolicy.DEFAULT_BASE_DURATION))
        .maxDuration(loopback(EvictionPolicy.DEFAULT_MAX_DURATION))
        .quotaDuration(loopback(EvictionPolicy.DEFAULT_QUOTA_DURATION))
        .build();
  }

  /**
   * The library's default retry policy, its window scaled (but never below the library's 1 s
   * minimum) and its floor kept at the same number of retries per world window.
   */
  RetryPolicy retry() {
    Duration window = loopback(RetryPolicy.DEFAULT_BUDGET_WINDOW);
    if (window.compareTo(Duration.ofSeconds(1)) < 0) {
      window = Duration.ofSeconds(1);
    }
    return RetryPolicy.builder()
        .budgetWindow(window)
        .minRetriesPerSecond((int) Math.round(RetryPolicy.DEFAULT_MIN_RETRIES_PER_SECOND * scale))
        .build();
  }

  Duration latencyDecay() {
    Duration d = loopback(P2cSettings.DEFAULT_LATENCY_DECAY);
    return d.compareTo(P2cSettings.MIN_LATENCY_DECAY) < 0 ? P2cSettings.MIN_LATENCY_DECAY : d;
  }

  Duration initialLatency() {
    Duration d = loopback(P2cSettings.DEFAULT_INITIAL_LATENCY);
    return d.compareTo(P2cSettings.MIN_INITIAL_LATENCY) < 0 ? P2cSettings.MIN_INITIAL_LATENCY : d;
  }
}
