package io.github.llmpool.spi;

import java.util.Objects;
import java.util.Optional;

/**
 * One attempt as it is dispatched, given to {@link AttemptListener#onStart}: which pool sent
 * which attempt of a request to which provider. Carries no key and no body; the requested model
 * is the caller's own text. A final class rather than a record so that it can grow; built by the
 * pool (or by tests of a listener) with {@link #builder()}. Immutable and thread-safe; compared by
 * identity, so it can key the span or timer of its attempt.
 */
public final class AttemptStart {
  private final String pool;
  private final String provider;
  private final int tier;
  private final int attempt;
  private final boolean probe;
  private final boolean latencyProbe;
  private final String requestedModel;
  private final boolean streaming;
  private final long requestId;

  private AttemptStart(Builder b) {
    this.requestId = b.requestId;
    this.pool = b.pool;
    this.provider = b.provider;
    this.tier = b.tier;
    this.attempt = b.attempt;
    this.probe = b.probe;
    this.latencyProbe = b.latencyProbe;
    this.requestedModel = b.requestedModel;
    this.streaming = b.streaming;
  }

  /** A new builder; {@code pool} and {@code provider} must be set. */
  public static Builder builder() {
    return new Builder();
  }

  /** The name of the pool that made the attempt ({@code ProviderPool.name()}). */
  public String pool() {
    return pool;
  }

  /** The provider the attempt went to. */
  public String provider() {
    return provider;
  }

  /** The provider's tier, 0 = first. */
  public int tier() {
    return tier;
  }

  /** The attempt's number within its logical request, from 1 (above 1: a failover). */
  public int attempt() {
    return attempt;
  }

  /** Whether this attempt is the single probe of a provider whose eviction ended. */
  public boolean probe() {
    return probe;
  }

  /**
   * Whether this attempt is a request of the pool's own, not a caller's: a latency probe of P2C
   * ({@code P2cSettings.probes}), a one-token chat completion re-measuring a provider that still
   * looks slow. It belongs to no logical request ({@link #requestId()} is 0).
   */
  public boolean latencyProbe() {
    return latencyProbe;
  }

  /** The top-level {@code model} of the caller's JSON body, if it named one. */
  public Optional<String> requestedModel() {
    return Optional.ofNullable(requestedModel);
  }

  /** Whether the caller asked for a stream ({@code "stream": true}). */
  public boolean streaming() {
    return streaming;
  }

  /**
   * The id of the logical request this attempt belongs to: the {@link RequestStart#id()} given to
   * {@link RequestListener#onStart}, the same for every attempt of one request, unique within the
   * pool instance (from 1); 0 when not known (a value built by a test without one).
   */
  public long requestId() {
    return requestId;
  }

  @Override
  public String toString() {
    return "AttemptStart{pool=" + pool + ", request=" + requestId + ", provider=" + provider + ", tier=" + tier
        + ", attempt=" + attempt
        + (probe ? ", probe" : "") + (latencyProbe ? ", latencyProbe" : "") + (streaming ? ", streaming" : "") + "}";
  }

  /** A mutable, not thread-safe builder; {@link #build()} checks and copies. */
  public static final class Builder {
    private String pool;
    private String provider;
    private int tier;
    private int attempt = 1;
    private boolean probe;
    private boolean latencyProbe;
    private String requestedModel;
    private boolean streaming;
    private long requestId;

    private Builder() {}

    /**
     * The id of the attempt's request. Default 0 (unknown).
     *
     * @throws IllegalArgumentException if negative ({@code requestId must be >= 0 but was -1})
     */
    public Builder requestId(long id) {
      if (id < 0) {
        throw new IllegalArgumentException("requestId must be >= 0 but was " + id);
      }
      this.requestId = id;
      return this;
    }

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
     * The provider's tier. Default 0.
     *
     * @throws IllegalArgumentException if negative ({@code tier must be >= 0 but was -1})
     */
    public Builder tier(int tier) {
      if (tier < 0) {
        throw new IllegalArgumentException("tier must be >= 0 but was " + tier);
      }
      this.tier = tier;
      return this;
    }

    /**
     * The attempt's number within its request. Default 1.
     *
     * @throws IllegalArgumentException if below 1 ({@code attempt must be >= 1 but was 0})
     */
    public Builder attempt(int attempt) {
      if (attempt < 1) {
        throw new IllegalArgumentException("attempt must be >= 1 but was " + attempt);
      }
      this.attempt = attempt;
      return this;
    }

    /** Whether the attempt is a probe. Default false. */
    public Builder probe(boolean probe) {
      this.probe = probe;
      return this;
    }

    /** Whether the attempt is a latency probe of the pool's own ({@link AttemptStart#latencyProbe()}). Default false. */
    public Builder latencyProbe(boolean latencyProbe) {
      this.latencyProbe = latencyProbe;
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

    /**
     * The value.
     *
     * @throws IllegalArgumentException if {@code pool} or {@code provider} was not set
     *     ({@code pool is required})
     */
    public AttemptStart build() {
      if (pool == null || provider == null) {
        throw new IllegalArgumentException((pool == null ? "pool" : "provider") + " is required");
      }
      return new AttemptStart(this);
    }
  }
}
