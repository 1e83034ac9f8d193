package io.github.llmpool.internal.health;

/**
 * How attempts turn into the latency signal P2C compares, how the estimate forgets, and how much
 * deliberate exploration P2C does. Immutable.
 *
 * <p>The signal (one place computes it, {@link #signal}):
 * <ul>
 *   <li>streamed response: time to first token (the first data event), sampled when that token
 *       arrives ({@link #samplesAtFirstToken});</li>
 *   <li>non-streamed response with reported output tokens {@code n}: {@code latency x c / (n + c)},
 *       with {@code c} = {@link #OVERHEAD_TOKENS}. If latency = TTFT + n x time-per-token and a
 *       provider's TTFT is worth {@code c} tokens, this is exactly its TTFT whatever {@code n}: a
 *       slow model writing short answers no longer looks faster than a fast model writing long
 *       ones;</li>
 *   <li>otherwise (no usage reported) the whole latency;</li>
 *   <li>with {@code llmAware} off (plain latency EWMA, for comparison): always the whole latency.</li>
 * </ul>
 *
 * <p>Forgetting ({@code horizonNanos > 0}, the default): a peak's excess over the provider's mean
 * fades linearly to nothing {@code horizon} after the peak was seen; an estimate's difference to
 * the tier's reference fades by {@code tau / (tau + age) x (1 - age / staleHorizon)}, to nothing
 * {@code staleHorizon} after its last sample; a sample after {@link #replaceAfterNanos} without
 * one replaces the estimate (see {@code ProviderState}). {@code horizonNanos <= 0} is the earlier hyperbolic decay
 * {@code tau / (tau + dt)} (kept for side-by-side benchmarks only: {@link #legacy}).
 *
 * <p>Exploration: when the tier's provider due first has no sample younger than its exploration
 * age ({@code exploreAgeNanos}, twice that while its estimate is still {@link #EXPLORE_BAD_RATIO}
 * times the others' or more) and nothing in flight, the next pick goes to it, at most once per
 * {@code 65536 / exploreThreshold} attempts of the tier (see {@code P2cPicker}).
 *
 * @param tauNanos time constant of the estimates (the EWMA's weights, the failure score's decay)
 * @param defaultEstimateNanos estimate of a provider with no sample yet
 * @param llmAware whether the LLM-aware signal is used
 * @param horizonNanos after how long an old peak weighs nothing; {@code <= 0}: the legacy
 *     hyperbolic decay, which never reaches zero
 * @param staleHorizonNanos after how long an estimate no sample refreshed weighs nothing
 * @param exploreThreshold the largest share of exploring picks, in 1/65536 ({@code 0}: none)
 * @param exploreAgeNanos how old a provider's last sample must be for it to be explored
 * @param probes whether a provider whose estimate is still bad is re-measured by a probe request
 *     (one output token, sent by the pool) instead of a caller's request (see {@code P2cPicker})
 */
public record LatencyModel(long tauNanos, long defaultEstimateNanos, boolean llmAware, long horizonNanos,
    long staleHorizonNanos, int exploreThreshold, long exploreAgeNanos, boolean probes) {

  /**
   * Attempts of the tier per probe at most (see {@code P2cPicker}): 10. A probe asks for one output
   * token, so even at this rate its tokens are well under 1% of the traffic's.
   */
  public static final int PROBE_EVERY = 10;
  /**
   * The probe age in units of tau: a provider that still looks bad is probed once its last sample is
   * 0.75 tau old (and then at most once per 0.75 tau). Shorter than the bad exploration age (tau):
   * a probe costs no caller a slow answer, and the re-measurement comes well within the 1.5-tau
   * recovery the forgetting targets ask for (simulation, R12: 15 of 15 10x-spell rows within 15 s
   * at 0.75 tau against 13 of 15 at tau, seeds 11-15).
   */
  public static final double PROBE_AGE_TAUS = 0.75;

  /** Output tokens a typical time to first token is worth: 32. */
  public static final long OVERHEAD_TOKENS = 32;
  /** The denominator of {@link #exploreThreshold}: 65536. */
  public static final int EXPLORE_ONE = 1 << 16;
  /** The peak horizon in units of tau: a peak's excess over the mean weighs nothing after 1 tau. */
  public static final double HORIZON_TAUS = 1;
  /** The stale horizon in units of tau: an estimate not refreshed weighs nothing after 10 tau. */
  public static final double STALE_HORIZON_TAUS = 10;
  /** The exploration age in units of tau: a provider not sampled for tau / 2 may be explored. */
  public static final double EXPLORE_AGE_TAUS = 0.5;
  /**
   * A provider whose own estimate is this many times its reference or more is still bad: it is
   * explored after {@link #exploreAgeBadNanos} instead of {@link #exploreAgeNanos}.
   */
  public static final double EXPLORE_BAD_RATIO = 2;
  /** The default share of exploring picks: 2%. */
  public static final double DEFAULT_EXPLORATION = 0.02;
  /**
   * Smallest weight of a sample below the estimate's mean, whatever the time since the last one:
   * the mean follows the samples within a few of them, the peak part holds a slowdown for the
   * horizon.
   */
  public static final double MIN_SAMPLE_WEIGHT = 0.25;

  public LatencyModel {
    if (tauNanos <= 0 || defaultEstimateNanos <= 0) {
      throw new IllegalArgumentException("tau and default estimate must be positive");
    }
    if (horizonNanos > 0 && staleHorizonNanos <= 0) {
      throw new IllegalArgumentException("a bounded model needs a positive stale horizon");
    }
    if (exploreThreshold < 0 || exploreThreshold > EXPLORE_ONE || exploreAgeNanos < 0) {
      throw new IllegalArgumentException("exploration must be in [0, 65536] with a non-negative age");
    }
  }

  /** Without probes. */
  public LatencyModel(long tauNanos, long defaultEstimateNanos, boolean llmAware, long horizonNanos,
      long staleHorizonNanos, int exploreThreshold, long exploreAgeNanos) {
    this(tauNanos, defaultEstimateNanos, llmAware, horizonNanos, staleHorizonNanos, exploreThreshold, exploreAgeNanos,
        false);
  }

  /** This model with probes on or off (no effect on the legacy model, which does not explore). */
  public LatencyModel withProbes(boolean on) {
    return new LatencyModel(tauNanos, defaultEstimateNanos, llmAware, horizonNanos, staleHorizonNanos,
        exploreThreshold, exploreAgeNanos, on && !isLegacy());
  }

  /**
   * The defaults: peaks fade in 1 tau, stale estimates in 10 tau, exploration 2% of picks for
   * providers not sampled for tau / 2.
   */
  public LatencyModel(long tauNanos, long defaultEstimateNanos, boolean llmAware) {
    this(tauNanos, defaultEstimateNanos, llmAware, DEFAULT_EXPLORATION);
  }

  /** The default horizon and exploration age, with {@code exploration} the share of exploring picks. */
  public LatencyModel(long tauNanos, long defaultEstimateNanos, boolean llmAware, double exploration) {
    this(tauNanos, defaultEstimateNanos, llmAware, (long) (tauNanos * HORIZON_TAUS),
        (long) (tauNanos * STALE_HORIZON_TAUS), threshold(exploration), (long) (tauNanos * EXPLORE_AGE_TAUS));
  }

  /**
   * The behaviour before bounded forgetting: hyperbolic decay {@code tau / (tau + dt)}, the EWMA's
   * weight {@code exp(-dt / tau)} per sample, no exploration. For side-by-side benchmarks only.
   */
  public static LatencyModel legacy(long tauNanos, long defaultEstimateNanos, boolean llmAware) {
    return new LatencyModel(tauNanos, defaultEstimateNanos, llmAware, 0, 0, 0, 0);
  }

  /** An exploring-pick share in [0, 1] as a threshold out of {@link #EXPLORE_ONE}. */
  public static int threshold(double share) {
    if (!(share >= 0 && share <= 1)) {
      throw new IllegalArgumentException("exploration share must be in [0, 1] but was " + share);
    }
    return (int) Math.round(share * EXPLORE_ONE);
  }

  /**
   * After how long without a sample the next sample replaces the estimate (mean and peak) instead
   * of moving it: the exploration age, or {@code tau / 2} when it is 0. A provider re-measured after
   * a silence (an exploring pick) is what it measures now, however slow it was before.
   */
  public long replaceAfterNanos() {
    return exploreAgeNanos > 0 ? exploreAgeNanos : tauNanos / 2;
  }

  /**
   * How old the last sample of a provider whose estimate is still bad ({@link #EXPLORE_BAD_RATIO})
   * must be for it to be explored: twice {@link #exploreAgeNanos} (tau by default). A provider that
   * stays slow costs half as many slow requests; one that recovered is re-measured within it.
   */
  public long exploreAgeBadNanos() {
    return 2 * exploreAgeNanos;
  }

  /** How old the last sample of a provider that still looks bad must be for it to be probed ({@link #PROBE_AGE_TAUS}). */
  public long probeAgeNanos() {
    return (long) (tauNanos * PROBE_AGE_TAUS);
  }

  /**
   * Whether a streamed attempt's sample is taken when its first token arrives (at that ticker time,
   * its time to first token as the signal) rather than when its body ends: with the LLM-aware
   * signal under bounded forgetting. A stream 27x slower than usual then tells the pool so after its
   * time to first token, not after its whole answer (which can be several times longer), and the
   * first fast token after a recovery tells it as soon. The plain-latency signal is the whole
   * latency, known only at the end; the legacy model keeps its end-of-body sample for the
   * side-by-side benchmarks.
   */
  public boolean samplesAtFirstToken() {
    return llmAware && !isLegacy();
  }

  /** Whether this is the legacy hyperbolic decay ({@link #legacy}). */
  public boolean isLegacy() {
    return horizonNanos <= 0;
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
