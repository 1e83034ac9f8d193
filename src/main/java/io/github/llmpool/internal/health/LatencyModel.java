package io.github.llmpool.internal.health;

/**
 * How attempts turn into the latency signal P2C compares, and how the estimate decays. Immutable.
 *
 * <p>The signal (one place computes it, {@link #signal}):
 * <ul>
 *   <li>streamed response: time to first token (the first data event);</li>
 *   <li>non-streamed response with reported output tokens {@code n}: {@code latency x c / (n + c)},
 *       with {@code c} = {@link #OVERHEAD_TOKENS}. If latency = TTFT + n x time-per-token and a
 *       provider's TTFT is worth {@code c} tokens, this is exactly its TTFT whatever {@code n}: a
 *       slow model writing short answers no longer looks faster than a fast model writing long
 *       ones;</li>
 *   <li>otherwise (no usage reported) the whole latency;</li>
 *   <li>with {@code llmAware} off (plain latency EWMA, for comparison): always the whole latency.</li>
 * </ul>
 *
 * @param tauNanos decay time constant of the peak EWMA
 * @param defaultEstimateNanos estimate of a provider with no sample yet
 * @param llmAware whether the LLM-aware signal is used
 */
public record LatencyModel(long tauNanos, long defaultEstimateNanos, boolean llmAware) {

  /** Output tokens a typical time to first token is worth: 32. */
  public static final long OVERHEAD_TOKENS = 32;

  public LatencyModel {
    if (tauNanos <= 0 || defaultEstimateNanos <= 0) {
      throw new IllegalArgumentException("tau and default estimate must be positive");
    }
  }

  /** The latency signal of one successful attempt, in nanoseconds. */
  public long signal(boolean streamed, long ttftNanos, long durationNanos, long outputTokens, boolean reported) {
    if (!llmAware) {
      return durationNanos;
    }
    if (streamed && ttftNanos >= 0) {
      return ttftNanos;
    }
    if (!streamed && reported && outputTokens > 0) {
      return (long) (durationNanos * (double) OVERHEAD_TOKENS / (outputTokens + OVERHEAD_TOKENS));
    }
    return durationNanos;
  }
}
