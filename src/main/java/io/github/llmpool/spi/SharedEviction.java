package io.github.llmpool.spi;

import io.github.llmpool.Outcome;
import java.util.Objects;

/**
 * An eviction one instance of a pool decided, as {@link SharedState} carries it to the others:
 * which provider of which pool is out until when, and why. Carries no key and no body. A final
 * class rather than a record so that it can grow; built with {@link #builder()} (by the pool when
 * it publishes, by a shared state when it decodes one). Immutable and thread-safe.
 */
public final class SharedEviction {
  private final String pool;
  private final String provider;
  private final long deadlineEpochMillis;
  private final Outcome cause;
  private final boolean serverHint;

  private SharedEviction(Builder b) {
    this.pool = b.pool;
    this.provider = b.provider;
    this.deadlineEpochMillis = b.deadlineEpochMillis;
    this.cause = b.cause;
    this.serverHint = b.serverHint;
  }

  /** A new builder; pool, provider, deadline and cause must be set. */
  public static Builder builder() {
    return new Builder();
  }

  /** The pool's name. */
  public String pool() {
    return pool;
  }

  /** The provider's name. */
  public String provider() {
    return provider;
  }

  /** When the eviction ends, in wall-clock milliseconds since the epoch. */
  public long deadlineEpochMillis() {
    return deadlineEpochMillis;
  }

  /** The outcome that evicted the provider (always a retryable one). */
  public Outcome cause() {
    return cause;
  }

  /** Whether the server named the delay ({@code Retry-After} and kin) rather than the backoff. */
  public boolean serverHint() {
    return serverHint;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SharedEviction e && pool.equals(e.pool) && provider.equals(e.provider)
        && deadlineEpochMillis == e.deadlineEpochMillis && cause == e.cause && serverHint == e.serverHint;
  }

  @Override
  public int hashCode() {
    return Objects.hash(pool, provider, deadlineEpochMillis, cause, serverHint);
  }

  @Override
  public String toString() {
    return "SharedEviction{pool=" + pool + ", provider=" + provider + ", deadlineEpochMillis=" + deadlineEpochMillis
        + ", cause=" + cause + (serverHint ? ", serverHint" : "") + "}";
  }

  /** A mutable, not thread-safe builder; {@link #build()} checks and copies. */
  public static final class Builder {
    private String pool;
    private String provider;
    private long deadlineEpochMillis = -1;
    private Outcome cause;
    private boolean serverHint;

    private Builder() {}

    /**
     * The pool's name. Required.
     *
     * @throws NullPointerException if {@code pool} is null
     */
    public Builder pool(String pool) {
      this.pool = Objects.requireNonNull(pool, "pool");
      return this;
    }

    /**
     * The provider's name. Required.
     *
     * @throws NullPointerException if {@code provider} is null
     */
    public Builder provider(String provider) {
      this.provider = Objects.requireNonNull(provider, "provider");
      return this;
    }

    /**
     * When the eviction ends, wall-clock epoch milliseconds. Required.
     *
     * @throws IllegalArgumentException if negative ({@code deadlineEpochMillis must be >= 0 but was -1})
     */
    public Builder deadlineEpochMillis(long millis) {
      if (millis < 0) {
        throw new IllegalArgumentException("deadlineEpochMillis must be >= 0 but was " + millis);
      }
      this.deadlineEpochMillis = millis;
      return this;
    }

    /**
     * The outcome that evicted the provider. Required.
     *
     * @throws NullPointerException if {@code cause} is null
     * @throws IllegalArgumentException if it is not retryable (a success or a caller's error
     *     evicts nothing: {@code cause must be a retryable outcome but was SUCCESS})
     */
    public Builder cause(Outcome cause) {
      Objects.requireNonNull(cause, "cause");
      if (!cause.retryable()) {
        throw new IllegalArgumentException("cause must be a retryable outcome but was " + cause);
      }
      this.cause = cause;
      return this;
    }

    /** Whether the server named the delay. Default false. */
    public Builder serverHint(boolean serverHint) {
      this.serverHint = serverHint;
      return this;
    }

    /**
     * The value.
     *
     * @throws IllegalArgumentException if pool, provider, deadline or cause was not set
     *     ({@code deadlineEpochMillis is required})
     */
    public SharedEviction build() {
      String missing = pool == null ? "pool" : provider == null ? "provider"
          : deadlineEpochMillis < 0 ? "deadlineEpochMillis" : cause == null ? "cause" : null;
      if (missing != null) {
        throw new IllegalArgumentException(missing + " is required");
      }
      return new SharedEviction(this);
    }
  }
}
