package io.github.llmpool.spi;

import java.util.Objects;

/**
 * What one instance of a pool learned about a provider's quota from its rate-limit headers
 * ({@code x-ratelimit-*} and kin), as {@link SharedState} carries it to the others: the request
 * window and the token window, each as the last response announced it (either may be absent).
 * Times travel as wall-clock epoch milliseconds, like {@link SharedEviction}'s deadline; each pool
 * turns them into its own ticker time. A pool applies a remote window with the merge it applies
 * to its own responses' windows (while the stored reset is ahead, the later reset wins; otherwise
 * the later arrival). Carries no key and no body. Immutable and thread-safe.
 */
public final class SharedQuota {
  private final String pool;
  private final String provider;
  private final boolean group;
  private final Window requests;
  private final Window tokens;

  private SharedQuota(String pool, String provider, boolean group, Window requests, Window tokens) {
    this.pool = pool;
    this.provider = provider;
    this.group = group;
    this.requests = requests;
    this.tokens = tokens;
  }

  /**
   * A provider's quota as one instance last saw it.
   *
   * @param pool the pool's name
   * @param provider the provider's name
   * @param requests the request window, or null when none was announced
   * @param tokens the token window, or null when none was announced
   * @return the value
   * @throws NullPointerException if {@code pool} or {@code provider} is null
   * @throws IllegalArgumentException if both windows are null ({@code requests or tokens is required})
   */
  public static SharedQuota of(String pool, String provider, Window requests, Window tokens) {
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(provider, "provider");
    if (requests == null && tokens == null) {
      throw new IllegalArgumentException("requests or tokens is required");
    }
    return new SharedQuota(pool, provider, false, requests, tokens);
  }

  /**
   * A quota group's window as one instance last saw it (a member's answer announced it; every
   * member shares it, on every instance that has any member of the group).
   *
   * @param pool the pool's name
   * @param group the quota group's name
   * @param requests the request window, or null when none was announced
   * @param tokens the token window, or null when none was announced
   * @return the value ({@link #group()} true, {@link #provider()} the group's name)
   * @throws NullPointerException if {@code pool} or {@code group} is null
   * @throws IllegalArgumentException if both windows are null ({@code requests or tokens is required})
   */
  public static SharedQuota ofGroup(String pool, String group, Window requests, Window tokens) {
    Objects.requireNonNull(group, "group");
    SharedQuota q = of(pool, group, requests, tokens);
    return new SharedQuota(q.pool, q.provider, true, requests, tokens);
  }

  /** Whether this is a quota group's window ({@link #provider()} is then the group's name). */
  public boolean group() {
    return group;
  }

  /** The pool's name. */
  public String pool() {
    return pool;
  }

  /** The provider's name, or the quota group's when {@link #group()}. */
  public String provider() {
    return provider;
  }

  /** The request window, or null when this value carries none. */
  public Window requests() {
    return requests;
  }

  /** The token window, or null when this value carries none. */
  public Window tokens() {
    return tokens;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SharedQuota q && pool.equals(q.pool) && provider.equals(q.provider) && group == q.group
        && Objects.equals(requests, q.requests) && Objects.equals(tokens, q.tokens);
  }

  @Override
  public int hashCode() {
    return Objects.hash(pool, provider, group, requests, tokens);
  }

  @Override
  public String toString() {
    return "SharedQuota{pool=" + pool + (group ? ", group=" : ", provider=") + provider + (requests != null ? ", requests=" + requests : "")
        + (tokens != null ? ", tokens=" + tokens : "") + "}";
  }

  /**
   * One rate-limit dimension as a response announced it: limit and remaining (-1: not
   * announced), the reset instant (-1: not announced) and when the response arrived, both
   * wall-clock epoch milliseconds. Immutable.
   */
  public static final class Window {
    private final long limit;
    private final long remaining;
    private final long resetEpochMillis;
    private final long seenEpochMillis;
    private final boolean dated;

    private Window(long limit, long remaining, long resetEpochMillis, long seenEpochMillis, boolean dated) {
      this.limit = limit;
      this.remaining = remaining;
      this.resetEpochMillis = resetEpochMillis;
      this.seenEpochMillis = seenEpochMillis;
      this.dated = dated;
    }

    /**
     * A window.
     *
     * @param limit the announced limit, or -1
     * @param remaining the announced remaining count, or -1
     * @param resetEpochMillis when the window resets (epoch milliseconds), or -1 when not announced
     * @param seenEpochMillis when the response arrived (epoch milliseconds), {@code >= 0}
     * @return the value
     * @throws IllegalArgumentException if a value is below -1, or {@code seenEpochMillis} negative
     *     ({@code limit must be >= -1 but was -2})
     */
    public static Window of(long limit, long remaining, long resetEpochMillis, long seenEpochMillis) {
      return of(limit, remaining, resetEpochMillis, seenEpochMillis, false);
    }

    /**
     * A window, saying whether it is dated to its request's dispatch: the reader that took it from
     * a response dated it ({@code seenEpochMillis} is then the dispatch, when the provider counted
     * the request, and the reset is the window's own), so a pool applying it reads the reset as the
     * provider's bucket's, not an inferred per-minute one's. Without it, a pool infers the window's
     * age from its numbers, which for a bucket that is not per-minute can make it count a minute of
     * the fleet's dispatches against a bucket that refills in seconds.
     *
     * @param limit the announced limit, or -1
     * @param remaining the announced remaining count, or -1
     * @param resetEpochMillis when the window resets (epoch milliseconds), or -1 when not announced
     * @param seenEpochMillis when the response arrived, or its request was dispatched when
     *     {@code dated} (epoch milliseconds), {@code >= 0}
     * @param dated whether the window is dated to its request's dispatch
     * @return the value
     * @throws IllegalArgumentException if a value is below -1, or {@code seenEpochMillis} negative
     *     ({@code limit must be >= -1 but was -2})
     */
    public static Window of(long limit, long remaining, long resetEpochMillis, long seenEpochMillis, boolean dated) {
      check("limit", limit, -1);
      check("remaining", remaining, -1);
      check("resetEpochMillis", resetEpochMillis, -1);
      check("seenEpochMillis", seenEpochMillis, 0);
      return new Window(limit, remaining, resetEpochMillis, seenEpochMillis, dated);
    }

    private static void check(String name, long v, long min) {
      if (v < min) {
        throw new IllegalArgumentException(name + " must be >= " + min + " but was " + v);
      }
    }

    /** The announced limit, or -1. */
    public long limit() {
      return limit;
    }

    /** The announced remaining count, or -1. */
    public long remaining() {
      return remaining;
    }

    /** When the window resets, epoch milliseconds, or -1 when no reset was announced. */
    public long resetEpochMillis() {
      return resetEpochMillis;
    }

    /** When the response that announced it arrived (its request's dispatch when {@link #dated}), epoch milliseconds. */
    public long seenEpochMillis() {
      return seenEpochMillis;
    }

    /** Whether the window is dated to its request's dispatch (see {@link #of(long, long, long, long, boolean)}). */
    public boolean dated() {
      return dated;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Window w && limit == w.limit && remaining == w.remaining
          && resetEpochMillis == w.resetEpochMillis && seenEpochMillis == w.seenEpochMillis && dated == w.dated;
    }

    @Override
    public int hashCode() {
      return Objects.hash(limit, remaining, resetEpochMillis, seenEpochMillis, dated);
    }

    @Override
    public String toString() {
      return "Window{limit=" + limit + ", remaining=" + remaining
          + (resetEpochMillis >= 0 ? ", resetEpochMillis=" + resetEpochMillis : "") + ", seenEpochMillis="
          + seenEpochMillis + (dated ? ", dated" : "") + "}";
    }
  }
}
