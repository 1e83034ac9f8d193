package io.github.llmpool.spi;

import java.util.Objects;

/**
 * A session-affinity entry one instance of a pool wrote ({@code io.github.llmpool.Affinity}): the
 * key now goes to this provider, until {@code expiresEpochMillis} (the write plus the pool's idle
 * expiry) unless used again. {@link SharedState} carries it to the other instances, which
 * remember it as if they had routed the key there themselves, so a conversation keeps one
 * provider whichever instance serves its next request.
 *
 * <p>The key is the affinity key itself (a session id, a user id: whatever the pool's
 * {@code Affinity} source gives), so a shared state stores it where its other instances can read
 * it: use {@code Affinity.key(...)} with a hash if the keys must not leave the process in clear.
 * {@link #toString()} never shows it. Immutable and thread-safe.
 */
public final class SharedAffinity {
  private final String pool;
  private final String key;
  private final String provider;
  private final long expiresEpochMillis;

  private SharedAffinity(String pool, String key, String provider, long expiresEpochMillis) {
    this.pool = pool;
    this.key = key;
    this.provider = provider;
    this.expiresEpochMillis = expiresEpochMillis;
  }

  /**
   * An entry.
   *
   * @param pool the pool's name
   * @param key the affinity key (not empty)
   * @param provider the provider the key goes to
   * @param expiresEpochMillis when an unused entry is forgotten, epoch milliseconds ({@code >= 0})
   * @return the value
   * @throws NullPointerException if {@code pool}, {@code key} or {@code provider} is null
   * @throws IllegalArgumentException if {@code key} is empty or {@code expiresEpochMillis} negative
   */
  public static SharedAffinity of(String pool, String key, String provider, long expiresEpochMillis) {
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(provider, "provider");
    if (key.isEmpty()) {
      throw new IllegalArgumentException("key must not be empty");
    }
    if (expiresEpochMillis < 0) {
      throw new IllegalArgumentException("expiresEpochMillis must be >= 0 but was " + expiresEpochMillis);
    }
    return new SharedAffinity(pool, key, provider, expiresEpochMillis);
  }

  /** The pool's name. */
  public String pool() {
    return pool;
  }

  /** The affinity key (never in {@link #toString()}). */
  public String key() {
    return key;
  }

  /** The provider the key goes to. */
  public String provider() {
    return provider;
  }

  /** When the entry is forgotten unless used again, epoch milliseconds. */
  public long expiresEpochMillis() {
    return expiresEpochMillis;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SharedAffinity a && pool.equals(a.pool) && key.equals(a.key) && provider.equals(a.provider)
        && expiresEpochMillis == a.expiresEpochMillis;
  }

  @Override
  public int hashCode() {
    return Objects.hash(pool, key, provider, expiresEpochMillis);
  }

  /** Names pool and provider, never the key. */
  @Override
  public String toString() {
    return "SharedAffinity{pool=" + pool + ", provider=" + provider + ", expiresEpochMillis=" + expiresEpochMillis
        + "}";
  }
}
