package io.github.llmpool;

/**
 * How a provider is chosen inside one priority tier. Every strategy honours weights, skips evicted
 * providers, never retries a request on a provider it already tried while another is available,
 * and spills to the next tier when a tier has nothing left.
 */
public enum Strategy {
  /**
   * Power of two choices (the default): two distinct providers are drawn with probability
   * proportional to weight and the one with the lower cost wins. Cost = latency estimate x
   * (1 + in-flight / capacity) x (1 + recent-failure score), capacity = the provider's
   * {@linkplain Provider.Builder#concurrency concurrency} x its weight / the tier's mean weight
   * (equal weights and the default concurrency: in-flight + 1). The latency estimate is a peak
   * EWMA of an LLM-aware signal (time to first token for streams; latency normalised by output
   * tokens for non-streaming answers) that decays, while a provider gets no samples, toward the
   * average of the tier's other providers. Pick it for real traffic: it steers away from slow or
   * failing providers within seconds while keeping weights as the long-run prior. With correct
   * weights and many instances sharing providers near their rate limits, {@link #WEIGHTED}
   * provokes slightly fewer 429s (benchmarks/QUALITY.md).
   */
  POWER_OF_TWO_CHOICES,

  /**
   * Weighted random: one draw over the cumulative weights. Exactly proportional to weight in the
   * long run, blind to latency and load. Pick it for fixed traffic splits (A/B, 80/20 cost
   * routing) where the split matters more than latency.
   */
  WEIGHTED,

  /**
   * Smooth weighted round robin over a precomputed schedule (weights 5/1/1 give a,a,b,a,c,a,a).
   * Deterministic order per thread; each thread walks its own stripe of the schedule, so picks
   * never contend on one shared counter. Pick it when you want an even, predictable spread.
   */
  ROUND_ROBIN
}
