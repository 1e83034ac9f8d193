package io.github.llmpool.spi;

import java.util.Objects;

/**
 * One configured rate limit as the instances of a pool share it ({@link SharedLimits}): the pool,
 * the provider or quota group whose limit it is, the dimension (requests or tokens) and the limit
 * per minute. A provider's own limit and a quota group's are different windows even when the names
 * are equal ({@link #key()} tells them apart). Immutable and thread-safe.
 */
public final class SharedLimit {
  /** What a limit counts. */
  public enum Dimension {
    /** Requests per minute ({@code requestsPerMinute}). */
    REQUESTS,
    /** Tokens per minute ({@code tokensPerMinute}). */
    TOKENS
  }

  private final String pool;
  private final String scope;
  private final boolean group;
  private final Dimension dimension;
  private final long perMinute;

  private SharedLimit(String pool, String scope, boolean group, Dimension dimension, long perMinute) {
    this.pool = pool;
    this.scope = scope;
    this.group = group;
    this.dimension = dimension;
    this.perMinute = perMinute;
  }

  /**
   * A limit.
   *
   * @param pool the pool's name
   * @param scope the provider's name, or the quota group's when {@code group}
   * @param group whether {@code scope} names a quota group
   * @param dimension requests or tokens
   * @param perMinute the configured limit per minute, {@code >= 1}
   * @return the value
   * @throws NullPointerException if {@code pool}, {@code scope} or {@code dimension} is null
   * @throws IllegalArgumentException if {@code perMinute} is below 1 ({@code perMinute must be >= 1 but was 0})
   */
  public static SharedLimit of(String pool, String scope, boolean group, Dimension dimension, long perMinute) {
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(dimension, "dimension");
    if (perMinute < 1) {
      throw new IllegalArgumentException("perMinute must be >= 1 but was " + perMinute);
    }
    return new SharedLimit(pool, scope, group, dimension, perMinute);
  }

  /** The pool's name. */
  public String pool() {
    return pool;
  }

  /** The provider's name, or the quota group's when {@link #group()}. */
  public String scope() {
    return scope;
  }

  /** Whether {@link #scope()} names a quota group (shared by every member of it). */
  public boolean group() {
    return group;
  }

  /** Requests or tokens. */
  public Dimension dimension() {
    return dimension;
  }

  /** The configured limit per minute. */
  public long perMinute() {
    return perMinute;
  }

  /**
   * The window's identity within the pool: {@code r:p:<provider>}, {@code t:p:<provider>},
   * {@code r:g:<group>} or {@code t:g:<group>} (names as given; a store encodes them as it needs).
   */
  public String key() {
    return (dimension == Dimension.REQUESTS ? "r:" : "t:") + (group ? "g:" : "p:") + scope;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SharedLimit l && pool.equals(l.pool) && scope.equals(l.scope) && group == l.group
        && dimension == l.dimension && perMinute == l.perMinute;
  }

  @Override
  public int hashCode() {
    return Objects.hash(pool, scope, group, dimension, perMinute);
  }

  @Override
  public String toString() {
    return "SharedLimit{pool=" + pool + ", " + (group ? "group=" : "provider=") + scope + ", " + dimension
        + ", perMinute=" + perMinute + "}";
  }
}
