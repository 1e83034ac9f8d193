package io.github.llmpool;

import java.time.Duration;
import java.util.Objects;

/**
 * The settings of the latency estimates that {@link Strategy#POWER_OF_TWO_CHOICES} compares: how
 * fast an estimate decays, what a provider without a sample is assumed to cost, and which latency
 * signal is measured. Set with {@code ProviderPool.Builder.p2c(...)}; the other strategies ignore
 * them (the estimates still show in {@link ProviderSnapshot#latencyEstimate()}).
 *
 * <pre>{@code
 * ProviderPool.builder()
 *     .p2c(P2cSettings.builder().latencyDecay(Duration.ofSeconds(30)).llmAware(false).build())
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class P2cSettings {

  /** Default decay time constant of latency estimates: 10 s. */
  public static final Duration DEFAULT_LATENCY_DECAY = Duration.ofSeconds(10);
  /** Shortest {@link Builder#latencyDecay(Duration) latencyDecay}: 100 ms. */
  public static final Duration MIN_LATENCY_DECAY = Duration.ofMillis(100);
  /** Longest {@link Builder#latencyDecay(Duration) latencyDecay}: 1 h. */
  public static final Duration MAX_LATENCY_DECAY = Duration.ofHours(1);
  /**
   * Default latency estimate of a provider with no sample yet: 100 ms. Below typical LLM latencies,
   * so a new provider is tried at once; the in-flight factor of the cost keeps it from being
   * flooded before its first answers arrive, and while it has attempts in flight its estimate is
   * at least the age of the oldest of them. It decays from the provider's creation like any
   * estimate.
   */
  public static final Duration DEFAULT_INITIAL_LATENCY = Duration.ofMillis(100);
  /** Smallest {@link Builder#initialLatency(Duration) initialLatency}: 1 ms. */
  public static final Duration MIN_INITIAL_LATENCY = Duration.ofMillis(1);
  /** Largest {@link Builder#initialLatency(Duration) initialLatency}: 10 min. */
  public static final Duration MAX_INITIAL_LATENCY = Duration.ofMinutes(10);
  /** Default of {@link Builder#llmAware(boolean) llmAware}: true. */
  public static final boolean DEFAULT_LLM_AWARE = true;
  /** Default {@link Builder#exploration(double) exploration}: 2% of picks at most. */
  public static final double DEFAULT_EXPLORATION = 0.02;
  /** Largest {@link Builder#exploration(double) exploration}: 5% of picks. */
  public static final double MAX_EXPLORATION = 0.05;
  /** Default of {@link Builder#probes(boolean) probes}: false (the pool sends no request of its own). */
  public static final boolean DEFAULT_PROBES = false;

  private static final P2cSettings DEFAULTS = builder().build();

  private final Duration latencyDecay;
  private final Duration initialLatency;
  private final boolean llmAware;
  private final double exploration;
  private final boolean probes;
  /** The decay before bounded forgetting (hyperbolic, no exploration): for side-by-side benchmarks only. */
  final boolean legacyDecay;

  private P2cSettings(Builder b) {
    this.latencyDecay = b.latencyDecay;
    this.initialLatency = b.initialLatency;
    this.llmAware = b.llmAware;
    this.exploration = b.exploration;
    this.probes = b.probes;
    this.legacyDecay = b.legacyDecay;
  }

  /** The defaults: decay 10 s, initial latency 100 ms, LLM-aware signal, exploration 2%. */
  public static P2cSettings defaults() {
    return DEFAULTS;
  }

  /** A new builder holding the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** The time constant of the estimates' decay. */
  public Duration latencyDecay() {
    return latencyDecay;
  }

  /** The estimate of a provider with no sample yet. */
  public Duration initialLatency() {
    return initialLatency;
  }

  /** Whether the LLM-aware latency signal is measured rather than the whole latency. */
  public boolean llmAware() {
    return llmAware;
  }

  /** The largest share of picks that go to exploring a provider whose estimate is old. */
  public double exploration() {
    return exploration;
  }

  /** Whether a provider that still looks slow is re-measured by a probe of the pool's own. */
  public boolean probes() {
    return probes;
  }

  /** A builder holding these settings. */
  public Builder toBuilder() {
    Builder b = builder().latencyDecay(latencyDecay).initialLatency(initialLatency).llmAware(llmAware)
        .exploration(exploration).probes(probes);
    b.legacyDecay = legacyDecay;
    return b;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof P2cSettings p && latencyDecay.equals(p.latencyDecay) && initialLatency.equals(p.initialLatency)
        && llmAware == p.llmAware && exploration == p.exploration && probes == p.probes
        && legacyDecay == p.legacyDecay;
  }

  @Override
  public int hashCode() {
    return Objects.hash(latencyDecay, initialLatency, llmAware, exploration, probes, legacyDecay);
  }

  @Override
  public String toString() {
    return "P2cSettings{latencyDecay=" + latencyDecay + ", initialLatency=" + initialLatency + ", llmAware="
        + llmAware + ", exploration=" + exploration + (probes ? ", probes" : "") + (legacyDecay ? ", legacyDecay" : "") + "}";
  }

  /** A mutable, not thread-safe builder; {@link #build()} returns an immutable value. */
  public static final class Builder {
    private Duration latencyDecay = DEFAULT_LATENCY_DECAY;
    private Duration initialLatency = DEFAULT_INITIAL_LATENCY;
    private boolean llmAware = DEFAULT_LLM_AWARE;
    private double exploration = DEFAULT_EXPLORATION;
    private boolean probes = DEFAULT_PROBES;
    boolean legacyDecay;

    private Builder() {}

    /**
     * Time constant of the latency estimates, which forget in bounded time: a peak's excess over
     * the provider's mean fades linearly to nothing {@code tau} after it was seen; an estimate not
     * refreshed by a sample moves to the tier's average by {@code tau / (tau + dt) x (1 - dt / 10
     * tau)}, reaching it at {@code 10 tau}; a sample after
     * {@code tau / 2} without one replaces the estimate, a sooner one moves the mean by
     * {@code dt / tau} (at least a quarter). Default {@link #DEFAULT_LATENCY_DECAY} (10 s); from
     * {@link #MIN_LATENCY_DECAY} (100 ms) to {@link #MAX_LATENCY_DECAY} (1 h).
     *
     * @throws NullPointerException if {@code tau} is null
     * @throws IllegalArgumentException if it is out of range
     *     ({@code latencyDecay must be in [PT0.1S, PT1H] but was PT0S})
     */
    public Builder latencyDecay(Duration tau) {
      this.latencyDecay = range("latencyDecay", tau, MIN_LATENCY_DECAY, MAX_LATENCY_DECAY);
      return this;
    }

    /**
     * Latency estimate of a provider with no sample yet. Default {@link #DEFAULT_INITIAL_LATENCY}
     * (100 ms); from {@link #MIN_INITIAL_LATENCY} (1 ms) to {@link #MAX_INITIAL_LATENCY} (10 min).
     *
     * @throws NullPointerException if {@code estimate} is null
     * @throws IllegalArgumentException if it is out of range
     *     ({@code initialLatency must be in [PT0.001S, PT10M] but was PT0S})
     */
    public Builder initialLatency(Duration estimate) {
      this.initialLatency = range("initialLatency", estimate, MIN_INITIAL_LATENCY, MAX_INITIAL_LATENCY);
      return this;
    }

    /**
     * Whether the LLM-aware latency signal is measured (time to first token for streams, latency
     * normalised by output tokens otherwise) rather than the whole latency. Default
     * {@link #DEFAULT_LLM_AWARE} (true).
     */
    public Builder llmAware(boolean enabled) {
      this.llmAware = enabled;
      return this;
    }

    /**
     * The largest share of picks that explore. A provider that has no sample younger than
     * {@code latencyDecay / 2} ({@code latencyDecay} while its estimate is still twice the others'
     * or more) and nothing in flight is due: the next pick goes to it, once the tier has dispatched
     * {@code 1 / share} attempts (50 at 2%) since its last exploring pick. So a provider that looked
     * slow is measured again at a known time and found when it has recovered, and one that stays
     * slow costs one slow request per {@code latencyDecay}. No random number is drawn for it. 0
     * turns exploration off. Default {@link #DEFAULT_EXPLORATION} (2%); from 0 to
     * {@link #MAX_EXPLORATION} (5%).
     *
     * @throws IllegalArgumentException if it is out of range or not a number
     *     ({@code exploration must be in [0, 0.05] but was 0.5})
     */
    public Builder exploration(double share) {
      if (!(share >= 0 && share <= MAX_EXPLORATION)) {
        throw new IllegalArgumentException("exploration must be in [0, " + MAX_EXPLORATION + "] but was " + share);
      }
      this.exploration = share;
      return this;
    }

    /**
     * Whether a provider that still looks slow (its estimate twice the others' or more, no sample
     * for {@code 0.75 x latencyDecay}) is re-measured by a <em>probe</em>: a streamed chat completion of
     * the pool's own asking for one output token ({@code "max_tokens": 1}, or
     * {@code max_completion_tokens} when the provider's last request used that), with the model,
     * path and credentials of the last chat completion the pool sent it. The caller's request
     * that would have explored it goes where P2C sends it instead. So a provider that stays slow
     * costs no caller a slow answer, and one that recovered is found within {@code 0.75 x
     * latencyDecay} plus one time to first token. At most one probe per provider in flight and per
     * {@code 0.75 x latencyDecay}, and one per
     * {@value io.github.llmpool.internal.health.LatencyModel#PROBE_EVERY} attempts of the tier. A
     * provider the pool has sent no chat completion to yet is explored with a caller's request as
     * without probes. Probes are requests the caller did not make: they count against the
     * provider's rate limits and are billed (a few prompt tokens and one output token each); their
     * usage reaches {@code onUsage} like any attempt's, and a failed probe evicts like a failed
     * attempt. Needs exploration on ({@link #exploration} above 0). Default
     * {@link #DEFAULT_PROBES} (false).
     */
    public Builder probes(boolean enabled) {
      this.probes = enabled;
      return this;
    }

    /** The settings; every value was checked by its setter. */
    public P2cSettings build() {
      return new P2cSettings(this);
    }

    private static Duration range(String name, Duration d, Duration min, Duration max) {
      Objects.requireNonNull(d, name);
      if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
        throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "] but was " + d);
      }
      return d;
    }
  }
}
