package io.github.llmpool.internal.health;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Outcome;
import io.github.llmpool.spi.RandomSource;

/**
 * Turns attempt outcomes into eviction decisions for a {@link ProviderState}, following an
 * {@link EvictionPolicy}. Stateless apart from its configuration; thread-safe. Knows nothing of
 * HTTP: the caller passes the outcome and the server's suggested delay.
 */
public final class Health {

  /**
   * An eviction in force after a failure.
   *
   * @param untilNanos the deadline in force (ticker time), never earlier than a previous one
   * @param durationNanos time from now to that deadline
   * @param serverHint whether this failure's duration came from the response
   * @param ejections consecutive ejections, this one included
   */
  public record Eviction(long untilNanos, long durationNanos, boolean serverHint, int ejections) {}

  private final EvictionPolicy policy;
  private final LatencyModel model;
  private final RandomSource random;
  private final long baseNanos;
  private final long maxNanos;
  private final long quotaNanos;

  public Health(EvictionPolicy policy, LatencyModel model, RandomSource random) {
    this.policy = policy;
    this.model = model;
    this.random = random;
    this.baseNanos = nanos(policy.baseDuration());
    this.maxNanos = nanos(policy.maxDuration());
    this.quotaNanos = nanos(policy.quotaDuration());
  }

  /**
   * Longest eviction: 2^61 ns (about 73 years). Longer policy durations are clamped to it, so that
   * doubling and jitter never overflow, {@code toNanos} never throws, and a deadline
   * {@code now + duration} stays within 2^62 of {@code now}: right when compared by difference,
   * as ticker times are, even where the ticker wraps.
   */
  static final long MAX_EVICTION_NANOS = 1L << 61;

  private static long nanos(java.time.Duration d) {
    return d.compareTo(java.time.Duration.ofNanos(MAX_EVICTION_NANOS)) >= 0 ? MAX_EVICTION_NANOS : d.toNanos();
  }

  public EvictionPolicy policy() {
    return policy;
  }

  public LatencyModel latencyModel() {
    return model;
  }

  /**
   * Records a retryable failure. Returns the eviction in force if this failure evicted (or
   * re-evicted) the provider, else null.
   *
   * @param hintNanos the delay the response asked for (any non-negative value; capped at the
   *     policy's max duration), or -1
   * @param probe whether this attempt was the provider's probe
   * @param mayEvict false when the tier's max-ejection share is reached (a probe or an evicted
   *     provider is re-evicted regardless)
   */
  public Eviction onFailure(ProviderState s, Outcome outcome, long hintNanos, long now, boolean probe, boolean mayEvict) {
    return onFailure(s, outcome, hintNanos, now, now, probe, mayEvict);
  }

  /**
   * As above, for an attempt dispatched at {@code dispatchedAt}: an attempt that started before the
   * eviction in force (and is not the probe) only raises the failure score; the eviction already
   * accounts for it, so it neither escalates nor extends it.
   */
  public Eviction onFailure(ProviderState s, Outcome outcome, long hintNanos, long now, long dispatchedAt,
      boolean probe, boolean mayEvict) {
    // One failure is decided under the provider's one lock: "did this attempt predate the eviction
    // in force?", the consecutive count, the deadline and the ejection count are read and written
    // together, so a burst of simultaneous failures of attempts already in flight is one ejection.
    synchronized (s) {
      return decideFailure(s, outcome, hintNanos, now, dispatchedAt, probe, mayEvict);
    }
  }

  private Eviction decideFailure(ProviderState s, Outcome outcome, long hintNanos, long now, long dispatchedAt,
      boolean probe, boolean mayEvict) {
    s.noteFailureScore(now, model);
    if (!probe && s.predatesEviction(dispatchedAt)) {
      return null;
    }
    boolean rateLimit = outcome == Outcome.RATE_LIMITED || outcome == Outcome.QUOTA_EXHAUSTED;
    int consecutive = s.incrementFailures(rateLimit);
    int threshold = rateLimit ? policy.rateLimitThreshold() : policy.failureThreshold();
    boolean longLived = outcome == Outcome.QUOTA_EXHAUSTED || outcome == Outcome.UNAUTHORIZED;
    boolean evict = probe || longLived || hintNanos >= 0 || consecutive >= threshold;
    if (!evict || (!mayEvict && !probe && !s.evicted())) {
      if (probe) {
        s.releaseProbe();
      }
      return null;
    }
    long duration;
    boolean fromHint = false;
    if (longLived) {
      duration = quotaNanos;
    } else if (hintNanos >= 0) {
      duration = Math.min(hintNanos, maxNanos);
      fromHint = true;
    } else {
      duration = backoff(s.ejections());
    }
    long deadline = s.evictUntil(now, now + duration, true, fromHint && rateLimit && outcome == Outcome.RATE_LIMITED);
    if (probe) {
      s.releaseProbe();
    }
    return new Eviction(deadline, deadline - now, fromHint, s.ejections());
  }

  /**
   * Applies an eviction another instance of the pool decided (a shared state's), with the rule of
   * local ones: the deadline in force is never shortened. It counts no ejection (the instance
   * that decided it did); {@code durationNanos} is cut to the longest eviction this policy gives (the
   * larger of its max and quota durations). A probe in flight when it lands now predates the
   * eviction: the probe flag is freed so that its end, whatever it is, cannot hold the provider
   * out for good. Returns the deadline in force if this eviction began or extended one, else
   * {@link Long#MIN_VALUE} (nothing changed).
   *
   * @param mayEvict false when the tier's max-ejection share is reached (an evicted provider is
   *     extended regardless)
   */
  public long applyShared(ProviderState s, long durationNanos, long now, boolean mayEvict) {
    if (durationNanos <= 0) {
      return Long.MIN_VALUE;
    }
    long d = Math.min(durationNanos, Math.max(maxNanos, quotaNanos));
    synchronized (s) {
      boolean wasEvicted = s.evicted();
      if (!wasEvicted && !mayEvict) {
        return Long.MIN_VALUE;
      }
      long before = s.evictedUntil();
      boolean probing = wasEvicted && now - before >= 0;
      long deadline = s.evictUntil(now, now + d, false);
      if (wasEvicted && deadline == before) {
        return Long.MIN_VALUE; // the eviction in force already ends later
      }
      if (probing) {
        s.releaseProbe();
      }
      return deadline;
    }
  }

  /**
   * Moves a server-named rate-limit eviction's end later by a random share of up to
   * {@code jitter} of its duration (the policy's jitter; nothing without): for an eviction that
   * would end at the same instant as others (fixed windows reset together), so that the providers
   * do not all return at once. Never shortens. Returns the deadline in force.
   */
  public long spread(ProviderState s, long now) {
    double j = policy.jitter();
    synchronized (s) {
      long until = s.evictedUntil();
      if (!s.evicted() || j <= 0 || until - now <= 0) {
        return until;
      }
      long extra = (long) ((until - now) * j * random.nextDouble());
      return s.evictUntil(now, until + extra, false, s.namedEnd());
    }
  }

  /** {@code base x 2^ejections}, capped at max, plus up to {@code jitter} of itself (still capped). */
  long backoff(int previousEjections) {
    int shift = Math.min(previousEjections, 30);
    long d = baseNanos;
    for (int i = 0; i < shift && d < maxNanos; i++) {
      d <<= 1;
    }
    d = Math.min(d, maxNanos);
    if (policy.jitter() > 0) {
      d += (long) (d * policy.jitter() * random.nextDouble());
    }
    return Math.min(d, Math.max(maxNanos, baseNanos));
  }

  /**
   * Records an answer that proves the provider is up (2xx, or a 4xx that is the caller's fault).
   * Returns true if it restored an evicted provider.
   */
  public boolean onHealthy(ProviderState s) {
    return s.needsHealthyReset() && s.recordHealthy();
  }

  /**
   * As above, for an attempt dispatched at {@code dispatchedAt}: a success that started before the
   * eviction in force says nothing about the provider now and does not restore it.
   */
  public boolean onHealthy(ProviderState s, long dispatchedAt) {
    if (!s.needsHealthyReset()) {
      return false; // the common case, lock-free: nothing to reset
    }
    synchronized (s) { // decided with the eviction it might end, like a failure
      if (s.predatesEviction(dispatchedAt)) {
        return false;
      }
      return s.recordHealthy();
    }
  }

  /** Ends an attempt without a verdict (cancelled): frees the probe if this attempt held it. */
  public void onNeutral(ProviderState s, boolean probe) {
    if (probe) {
      s.releaseProbe();
    }
  }
}
