package io.github.llmpool.internal.health;

/**
 * One rate-limit dimension (requests or tokens) as one response's headers announced it: limit,
 * remaining, reset instant (ticker nanos), and when the response arrived. Immutable; published
 * whole through {@link ProviderState#observeRateLimits}.
 */
public final class RateWindow {
  /** The announced limit, or -1. */
  public final long limit;
  /** The announced remaining count, or -1. */
  public final long remaining;
  /** Whether a reset was announced ({@link #resetAt} is meaningful). */
  public final boolean hasReset;
  /** Ticker time of the announced reset, when {@link #hasReset}. */
  public final long resetAt;
  /** Ticker time the response's headers arrived. */
  public final long seenAt;
  /**
   * Units this instance dispatched after the header was seen (requests, or estimated tokens
   * corrected to the reported usage): what the announced remaining count does not know yet
   * ({@link Headroom}). The one mutable part.
   */
  final java.util.concurrent.atomic.AtomicLong used = new java.util.concurrent.atomic.AtomicLong();

  public RateWindow(long limit, long remaining, boolean hasReset, long resetAt, long seenAt) {
    this.limit = limit;
    this.remaining = remaining;
    this.hasReset = hasReset;
    this.resetAt = resetAt;
    this.seenAt = seenAt;
  }

  /**
   * Whether {@code next} replaces {@code old} at ticker time {@code now}. While the stored reset is
   * still ahead and both announce one, the later reset wins (a tie goes to the later arrival): a
   * response announcing an earlier reset describes an older state of the window (it was generated
   * earlier and overtaken by a concurrent attempt's, or it is from the window before), and would
   * make the provider look as if its window had already restarted. For a token bucket the time to
   * full refill never moves earlier, and for a fixed window the reset only jumps forward, so the
   * later reset is the fresher state in both. Once the stored reset has passed it protects nothing,
   * and without resets (Azure OpenAI) the later arrival wins.
   */
  public static boolean supersedes(RateWindow next, RateWindow old, long now) {
    if (old == null) {
      return true;
    }
    if (next.hasReset && old.hasReset && old.resetAt - now > 0 && next.resetAt != old.resetAt) {
      return next.resetAt - old.resetAt > 0;
    }
    return next.seenAt - old.seenAt >= 0;
  }

  @Override
  public String toString() {
    return "RateWindow{limit=" + limit + ", remaining=" + remaining + (hasReset ? ", resetAt=" + resetAt : "")
        + ", seenAt=" + seenAt + "}";
  }
}
