package io.github.llmpool.spi;

import java.util.Objects;
import java.util.Optional;

/**
 * One logical request as the pool takes it, given to {@link RequestListener#onStart}: which pool,
 * the request's id, what the caller asked for and when. Carries no key, no header and no body. A
 * final class rather than a record so that it can grow; built by the pool (or by tests of a
 * listener) with {@link #builder()}. Immutable and thread-safe; compared by identity.
 */
public final class RequestStart {
  private final String pool;
  private final long id;
  private final String requestedModel;
  private final boolean streaming;
  private final long startNanos;

  private RequestStart(Builder b) {
    this.pool = b.pool;
    this.id = b.id;
    this.requestedModel = b.requestedModel;
    this.streaming = b.streaming;
    this.startNanos = b.startNanos;
  }

  /** A new builder; {@code pool} must be set. */
  public static Builder builder() {
    return new Builder();
  }

  /** The name of the pool that serves the request ({@code ProviderPool.name()}). */
  public String pool() {
    return pool;
  }

  /**
   * The request's id: unique within its pool instance (from 1, counting up), and the
   * {@link AttemptStart#requestId()} of each of its attempts.
   */
  public long id() {
    return id;
  }

  /**
   * The top-level {@code model} of the caller's JSON body, if it named one: free-form text from the
   * request, not a configured name. Map it to a bounded set of values (or escape it) before using
   * it as a metric tag, span attribute or log field.
   */
  public Optional<String> requestedModel() {
    return Optional.ofNullable(requestedModel);
  }

  /** Whether the caller asked for a stream ({@code "stream": true}). */
  public boolean streaming() {
    return streaming;
  }

  /** When the pool took the request, in nanoseconds of the pool's {@code Ticker}. */
  public long startNanos() {
    return startNanos;
  }

  @Override
  public String toString() {
    return "RequestStart{pool=" + pool + ", id=" + id + (streaming ? ", streaming" : "") + "}";
  }

  /** A mutable, not thread-safe builder; {@link #build()} checks and copies. */
  public static final class Builder {
    private String pool;
    private long id;
    private String requestedModel;
    private boolean streaming;
    private long startNanos;

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
     * The request's id. Default 0.
     *
     * @throws IllegalArgumentException if negative ({@code id must be >= 0 but was -1})
     */
    public Builder id(long id) {
      if (id < 0) {
        throw new IllegalArgumentException("id must be >= 0 but was " + id);
      }
      this.id = id;
      return this;
    }

    /** The model the caller asked for, or null (the default) when it named none. */
    public Builder requestedModel(String model) {
      this.requestedModel = model;
      return this;
    }

    /** Whether the caller asked for a stream. Default false. */
    public Builder streaming(boolean streaming) {
      this.streaming = streaming;
      return this;
    }

    /** When the request began, in the pool's ticker nanoseconds. Default 0. */
    public Builder startNanos(long nanos) {
      this.startNanos = nanos;
      return this;
    }

    /**
     * The value.
     *
     * @throws IllegalArgumentException if {@code pool} was not set ({@code pool is required})
     */
    public RequestStart build() {
      if (pool == null) {
        throw new IllegalArgumentException("pool is required");
      }
      return new RequestStart(this);
    }
  }
}
