package io.github.llmpool;

import java.time.Duration;
import java.util.Objects;

/**
 * When and for how long a provider leaves the rotation.
 *
 * <ul>
 *   <li>A 429 evicts after {@link Builder#rateLimitThreshold(int) 1} failure; 5xx, 408 and
 *       connection failures after {@link Builder#failureThreshold(int) 2} consecutive failures;
 *       a response that names its own delay ({@code retry-after-ms}, {@code Retry-After},
 *       {@code x-ratelimit-reset-*} with remaining 0) evicts at once for that delay.</li>
 *   <li>Without a hint: {@code baseDuration x 2^(ejections-1)}, capped at {@code maxDuration}, plus
 *       up to {@code jitter} of itself (never less than the computed value). The ejection count
 *       resets after a success.</li>
 *   <li>Quota exhausted ({@code insufficient_quota} and kin): {@code quotaDuration}.</li>
 *   <li>A new eviction never shortens one in force: the deadline is the later of the two.</li>
 *   <li>After the deadline exactly one request probes the provider; success restores full
 *       traffic, failure evicts again with the next, longer duration.</li>
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public final class EvictionPolicy {

  /** Default base eviction: 5 seconds. */
  public static final Duration DEFAULT_BASE_DURATION = Duration.ofSeconds(5);
  /** Default cap of a computed or server-suggested eviction: 5 minutes. */
  public static final Duration DEFAULT_MAX_DURATION = Duration.ofMinutes(5);
  /** Default eviction when the quota is exhausted: 10 minutes. */
  public static final Duration DEFAULT_QUOTA_DURATION = Duration.ofMinutes(10);
  /** Default jitter: up to 20% added to a computed eviction. */
  public static final double DEFAULT_JITTER = 0.2;
  /** Default consecutive 429s before eviction: 1. */
  public static final int DEFAULT_RATE_LIMIT_THRESHOLD = 1;
  /** Default consecutive 5xx/408/connection failures before eviction: 2. */
  public static final int DEFAULT_FAILURE_THRESHOLD = 2;
  /** Default share of a tier that may be evicted at once: 100 (no cap). */
  public static final int DEFAULT_MAX_EJECTION_PERCENT = 100;

  private static final EvictionPolicy DEFAULTS = builder().build();

  private final Duration baseDuration;
  private final Duration maxDuration;
  private final Duration quotaDuration;
  private final double jitter;
  private final int rateLimitThreshold;
  private final int failureThreshold;
  private final int maxEjectionPercent;

  private EvictionPolicy(Builder b) {
    this.baseDuration = b.baseDuration;
    this.maxDuration = b.maxDuration;
    this.quotaDuration = b.quotaDuration;
    this.jitter = b.jitter;
    this.rateLimitThreshold = b.rateLimitThreshold;
    this.failureThreshold = b.failureThreshold;
    this.maxEjectionPercent = b.maxEjectionPercent;
  }

  /** The defaults listed on the builder's setters. */
  public static EvictionPolicy defaults() {
    return DEFAULTS;
  }

  /** A builder with every default of this class's {@code DEFAULT_*} constants. */
  public static Builder builder() {
    return new Builder();
  }

  /** The first computed eviction (default {@link #DEFAULT_BASE_DURATION}); doubled per ejection. */
  public Duration baseDuration() {
    return baseDuration;
  }

  /** The cap of computed and server-named evictions (default {@link #DEFAULT_MAX_DURATION}). */
  public Duration maxDuration() {
    return maxDuration;
  }

  /** The eviction after a quota-exhausted 429 or a bad key (default {@link #DEFAULT_QUOTA_DURATION}). */
  public Duration quotaDuration() {
    return quotaDuration;
  }

  /** Up to this fraction of a computed eviction is added at random (default {@link #DEFAULT_JITTER}). */
  public double jitter() {
    return jitter;
  }

  /** Consecutive 429s that evict (default {@link #DEFAULT_RATE_LIMIT_THRESHOLD}). */
  public int rateLimitThreshold() {
    return rateLimitThreshold;
  }

  /** Consecutive failures other than 429 that evict (default {@link #DEFAULT_FAILURE_THRESHOLD}). */
  public int failureThreshold() {
    return failureThreshold;
  }

  /** The largest share of a tier evicted at once, in percent (default {@link #DEFAULT_MAX_EJECTION_PERCENT}). */
  public int maxEjectionPercent() {
    return maxEjectionPercent;
  }

  @Override
  public String toString() {
    return "EvictionPolicy{base=" + baseDuration + ", max=" + maxDuration + ", quota=" + quotaDuration
        + ", jitter=" + jitter + ", rateLimitThreshold=" + rateLimitThreshold
        + ", failureThreshold=" + failureThreshold + ", maxEjectionPercent=" + maxEjectionPercent + "}";
  }

  /** A mutable, not thread-safe builder; {@link #build()} validates cross-field rules. */
  public static final class Builder {
    private Duration baseDuration = DEFAULT_BASE_DURATION;
    private Duration maxDuration = DEFAULT_MAX_DURATION;
    private Duration quotaDuration = DEFAULT_QUOTA_DURATION;
    private double jitter = DEFAULT_JITTER;
    private int rateLimitThreshold = DEFAULT_RATE_LIMIT_THRESHOLD;
    private int failureThreshold = DEFAULT_FAILURE_THRESHOLD;
    private int maxEjectionPercent = DEFAULT_MAX_EJECTION_PERCENT;

    private Builder() {}

    /** First eviction without a server hint. Default 5 s. Must be positive. */
    public Builder baseDuration(Duration d) {
      this.baseDuration = positive("baseDuration", d);
      return this;
    }

    /** Cap of computed and server-suggested evictions. Default 5 min. Must be positive. */
    public Builder maxDuration(Duration d) {
      this.maxDuration = positive("maxDuration", d);
      return this;
    }

    /** Eviction when the provider says its quota is exhausted. Default 10 min. Must be positive. */
    public Builder quotaDuration(Duration d) {
      this.quotaDuration = positive("quotaDuration", d);
      return this;
    }

    /** Fraction (0..1) of a computed eviction added at random. Default 0.2. */
    public Builder jitter(double jitter) {
      if (!(jitter >= 0 && jitter <= 1)) {
        throw new IllegalArgumentException("jitter must be in [0, 1] but was " + jitter);
      }
      this.jitter = jitter;
      return this;
    }

    /** Consecutive 429s that evict. Default 1. Must be >= 1. */
    public Builder rateLimitThreshold(int n) {
      this.rateLimitThreshold = atLeastOne("rateLimitThreshold", n);
      return this;
    }

    /** Consecutive 5xx/408/connection failures that evict. Default 2. Must be >= 1. */
    public Builder failureThreshold(int n) {
      this.failureThreshold = atLeastOne("failureThreshold", n);
      return this;
    }

    /**
     * Most of a tier (in percent, 1..100) that may be evicted at once; a failure that would exceed
     * it is counted but does not evict (Envoy's max ejection percent). Default 100 (no cap). At
     * least one provider of a tier can always be evicted.
     */
    public Builder maxEjectionPercent(int percent) {
      if (percent < 1 || percent > 100) {
        throw new IllegalArgumentException("maxEjectionPercent must be in [1, 100] but was " + percent);
      }
      this.maxEjectionPercent = percent;
      return this;
    }

    /**
     * The policy; settings were validated as they were set.
     *
     * @return an immutable policy
     */
    public EvictionPolicy build() {
      if (maxDuration.compareTo(baseDuration) < 0) {
        throw new IllegalArgumentException("maxDuration (" + maxDuration + ") must be >= baseDuration (" + baseDuration + ")");
      }
      return new EvictionPolicy(this);
    }

    private static Duration positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive but was " + d);
      }
      return d;
    }

    private static int atLeastOne(String name, int n) {
      if (n < 1) {
        throw new IllegalArgumentException(name + " must be >= 1 but was " + n);
      }
      return n;
    }
  }
}
