package io.github.llmpool;

import java.time.Duration;
import java.util.Objects;

/**
 * How a logical request fails over. A failed attempt whose outcome is retryable (429, 5xx, 408,
 * connection failure, timeout) and whose response has not reached the caller is closed and sent at
 * once to a different provider (same tier first, then the next), up to {@link #maxAttempts()}
 * attempts. llmpool never waits between attempts: it changes provider instead.
 *
 * <p>A pool-wide retry budget keeps an outage from multiplying traffic: over a sliding
 * {@link #budgetWindow()} the pool allows at most {@code budgetRatio x requests} retries, plus
 * {@link #minRetriesPerSecond()} so a quiet pool can still fail over.
 *
 * <p>Immutable and thread-safe.
 */
public final class RetryPolicy {

  /** Default attempts per logical request, the first included: 3. */
  public static final int DEFAULT_MAX_ATTEMPTS = 3;
  /** Default share of recent requests that may be retried: 0.2. */
  public static final double DEFAULT_BUDGET_RATIO = 0.2;
  /** Default retries always allowed per second of the window: 10. */
  public static final int DEFAULT_MIN_RETRIES_PER_SECOND = 10;
  /** Default budget window: 10 seconds. */
  public static final Duration DEFAULT_BUDGET_WINDOW = Duration.ofSeconds(10);

  private static final RetryPolicy DEFAULTS = builder().build();

  private final int maxAttempts;
  private final double budgetRatio;
  private final int minRetriesPerSecond;
  private final Duration budgetWindow;

  private RetryPolicy(Builder b) {
    this.maxAttempts = b.maxAttempts;
    this.budgetRatio = b.budgetRatio;
    this.minRetriesPerSecond = b.minRetriesPerSecond;
    this.budgetWindow = b.budgetWindow;
  }

  /** Every default: {@link #DEFAULT_MAX_ATTEMPTS} attempts, the budget of the {@code DEFAULT_BUDGET_*} constants. */
  public static RetryPolicy defaults() {
    return DEFAULTS;
  }

  /** A builder with every default of this class's {@code DEFAULT_*} constants. */
  public static Builder builder() {
    return new Builder();
  }

  /** No failover: every request makes exactly one attempt. */
  public static RetryPolicy none() {
    return builder().maxAttempts(1).build();
  }

  /** Attempts per logical request, the first included (default {@link #DEFAULT_MAX_ATTEMPTS}). */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** Retries allowed as a fraction of recent requests (default {@link #DEFAULT_BUDGET_RATIO}). */
  public double budgetRatio() {
    return budgetRatio;
  }

  /** Retries always allowed per second, whatever the ratio (default {@link #DEFAULT_MIN_RETRIES_PER_SECOND}). */
  public int minRetriesPerSecond() {
    return minRetriesPerSecond;
  }

  /** The window the budget counts requests and retries over (default {@link #DEFAULT_BUDGET_WINDOW}). */
  public Duration budgetWindow() {
    return budgetWindow;
  }

  @Override
  public String toString() {
    return "RetryPolicy{maxAttempts=" + maxAttempts + ", budgetRatio=" + budgetRatio
        + ", minRetriesPerSecond=" + minRetriesPerSecond + ", budgetWindow=" + budgetWindow + "}";
  }

  /** A mutable, not thread-safe builder. */
  public static final class Builder {
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private double budgetRatio = DEFAULT_BUDGET_RATIO;
    private int minRetriesPerSecond = DEFAULT_MIN_RETRIES_PER_SECOND;
    private Duration budgetWindow = DEFAULT_BUDGET_WINDOW;

    private Builder() {}

    /** Attempts per logical request, the first included, 1..100. Default 3. */
    public Builder maxAttempts(int n) {
      if (n < 1 || n > 100) {
        throw new IllegalArgumentException("maxAttempts must be in [1, 100] but was " + n);
      }
      this.maxAttempts = n;
      return this;
    }

    /** Retries allowed as a share of recent requests, in [0, 10]. Default 0.2. */
    public Builder budgetRatio(double ratio) {
      if (!(ratio >= 0 && ratio <= 10)) {
        throw new IllegalArgumentException("budgetRatio must be in [0, 10] but was " + ratio);
      }
      this.budgetRatio = ratio;
      return this;
    }

    /** Retries always allowed per second of the window, >= 0. Default 10. */
    public Builder minRetriesPerSecond(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("minRetriesPerSecond must be >= 0 but was " + n);
      }
      this.minRetriesPerSecond = n;
      return this;
    }

    /** The sliding window of the retry budget, 1 s .. 10 min. Default 10 s. */
    public Builder budgetWindow(Duration window) {
      Objects.requireNonNull(window, "budgetWindow");
      if (window.compareTo(Duration.ofSeconds(1)) < 0 || window.compareTo(Duration.ofMinutes(10)) > 0) {
        throw new IllegalArgumentException("budgetWindow must be in [1s, 10m] but was " + window);
      }
      this.budgetWindow = window;
      return this;
    }

    /**
     * The policy; settings were validated as they were set.
     *
     * @return an immutable policy
     */
    public RetryPolicy build() {
      return new RetryPolicy(this);
    }
  }
}
