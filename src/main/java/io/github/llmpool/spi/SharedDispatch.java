package io.github.llmpool.spi;

import java.util.Objects;

/**
 * What another instance of a pool dispatched to a provider (or to a quota group) during a short
 * interval, as {@link SharedState} carries it: requests and estimated tokens (corrected by the
 * answers' usage; the token count may be negative when the corrections outweigh new dispatches).
 * Every instance counts its own dispatches against the quota window the provider's rate-limit
 * headers announced; counting the others' too keeps a fleet that shares one window from spending
 * the same announced remaining count once per instance (issue 18). Applied to the window in force
 * when it describes a state before the interval's end; a window announced later already counts
 * them. Carries no key and no body. Immutable and thread-safe.
 */
public final class SharedDispatch {
  private final String pool;
  private final String scope;
  private final boolean group;
  private final long requests;
  private final long tokens;
  private final long fromEpochMillis;
  private final long toEpochMillis;

  private SharedDispatch(String pool, String scope, boolean group, long requests, long tokens, long fromEpochMillis,
      long toEpochMillis) {
    this.pool = pool;
    this.scope = scope;
    this.group = group;
    this.requests = requests;
    this.tokens = tokens;
    this.fromEpochMillis = fromEpochMillis;
    this.toEpochMillis = toEpochMillis;
  }

  /**
   * Dispatches of one interval.
   *
   * @param pool the pool's name
   * @param scope the provider's name, or the quota group's when {@code group}
   * @param group whether {@code scope} names a quota group
   * @param requests requests dispatched, {@code >= 0}
   * @param tokens estimated tokens dispatched, corrected by usage reported meanwhile (may be negative)
   * @param fromEpochMillis the interval's start, wall-clock epoch milliseconds, {@code >= 0}
   * @param toEpochMillis the interval's end, {@code >= fromEpochMillis}
   * @return the value
   * @throws NullPointerException if {@code pool} or {@code scope} is null
   * @throws IllegalArgumentException if a value is out of range ({@code requests must be >= 0 but was -1})
   */
  public static SharedDispatch of(String pool, String scope, boolean group, long requests, long tokens,
      long fromEpochMillis, long toEpochMillis) {
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(scope, "scope");
    if (requests < 0) {
      throw new IllegalArgumentException("requests must be >= 0 but was " + requests);
    }
    if (fromEpochMillis < 0) {
      throw new IllegalArgumentException("fromEpochMillis must be >= 0 but was " + fromEpochMillis);
    }
    if (toEpochMillis < fromEpochMillis) {
      throw new IllegalArgumentException("toEpochMillis must be >= fromEpochMillis (" + fromEpochMillis + ") but was "
          + toEpochMillis);
    }
    return new SharedDispatch(pool, scope, group, requests, tokens, fromEpochMillis, toEpochMillis);
  }

  /** The pool's name. */
  public String pool() {
    return pool;
  }

  /** The provider's name, or the quota group's when {@link #group()}. */
  public String scope() {
    return scope;
  }

  /** Whether {@link #scope()} names a quota group (its members share one window). */
  public boolean group() {
    return group;
  }

  /** Requests dispatched in the interval. */
  public long requests() {
    return requests;
  }

  /** Estimated tokens dispatched in the interval, corrected by the usage reported meanwhile. */
  public long tokens() {
    return tokens;
  }

  /** The interval's start, epoch milliseconds. */
  public long fromEpochMillis() {
    return fromEpochMillis;
  }

  /** The interval's end, epoch milliseconds. */
  public long toEpochMillis() {
    return toEpochMillis;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SharedDispatch d && pool.equals(d.pool) && scope.equals(d.scope) && group == d.group
        && requests == d.requests && tokens == d.tokens && fromEpochMillis == d.fromEpochMillis
        && toEpochMillis == d.toEpochMillis;
  }

  @Override
  public int hashCode() {
    return Objects.hash(pool, scope, group, requests, tokens, fromEpochMillis, toEpochMillis);
  }

  @Override
  public String toString() {
    return "SharedDispatch{pool=" + pool + ", " + (group ? "group=" : "provider=") + scope + ", requests=" + requests
        + ", tokens=" + tokens + ", from=" + fromEpochMillis + ", to=" + toEpochMillis + "}";
  }
}
