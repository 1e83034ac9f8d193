package io.github.llmpool;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the pool knows of one provider's rate limit for one dimension (requests or tokens), one of
 * {@link ProviderSnapshot#requestQuota()} and {@link ProviderSnapshot#tokenQuota()}.
 *
 * <pre>{@code
 * pool.snapshot().provider("mini").flatMap(ProviderSnapshot::tokenQuota).ifPresent(q ->
 *     log.info("{} of {} tokens left, reset in {} ({} old, from {})", q.remaining(), q.limit(),
 *         q.resetIn(), q.age(), q.source()));
 * }</pre>
 *
 * <p>From a response's rate-limit headers ({@link Source#HEADER}: the latest the pool accepted, see
 * docs/quotas.md), or, while no header has been seen, from the provider's configured
 * {@link Provider.Builder#requestsPerMinute(int) requestsPerMinute} / {@link
 * Provider.Builder#tokensPerMinute(long) tokensPerMinute} ({@link Source#CONFIGURATION}: a limit
 * only). Values that may be absent are {@link Optional}. Information only: routing does not read it.
 *
 * <p>Immutable and thread-safe. A final class rather than a record, made by {@link #builder(Source)},
 * so that a field can be added later without breaking code that builds or reads it.
 */
public final class Quota {

  /** Where the values came from. Switches over it should have a default branch: a source may be added. */
  public enum Source {
    /** A response's rate-limit headers ({@code x-ratelimit-*}, {@code anthropic-ratelimit-*}). */
    HEADER,
    /** The provider's configured per-minute limit ({@code requestsPerMinute} / {@code tokensPerMinute}). */
    CONFIGURATION
  }

  private final Source source;
  private final long limit; // -1: absent
  private final long remaining; // -1: absent
  private final Duration resetIn; // null: absent
  private final Duration age;

  private Quota(Builder b) {
    this.source = b.source;
    this.limit = b.limit;
    this.remaining = b.remaining;
    this.resetIn = b.resetIn;
    this.age = b.age;
  }

  /**
   * A builder for a quota from {@code source}; every other field has the default its setter
   * documents. For the pool and for tests.
   *
   * @throws NullPointerException if {@code source} is null
   */
  public static Builder builder(Source source) {
    return new Builder(Objects.requireNonNull(source, "source"));
  }

  /** Where the values came from. */
  public Source source() {
    return source;
  }

  /**
   * The limit: the provider's {@code *-limit} header, or the configured per-minute limit; empty
   * when the headers gave none (Azure OpenAI sends remaining values only).
   */
  public OptionalLong limit() {
    return limit < 0 ? OptionalLong.empty() : OptionalLong.of(limit);
  }

  /** What the provider said was left when it answered; empty when it did not say (always, for a configured limit). */
  public OptionalLong remaining() {
    return remaining < 0 ? OptionalLong.empty() : OptionalLong.of(remaining);
  }

  /**
   * Time from the snapshot until the provider said the limit resets ({@link Duration#ZERO} once
   * that time has passed); empty when it did not say (Azure OpenAI, a configured limit).
   */
  public Optional<Duration> resetIn() {
    return Optional.ofNullable(resetIn);
  }

  /**
   * How old the values are at the snapshot: since the response that carried the headers arrived,
   * or, for a configured limit, since the configuration that set it took effect (the pool was
   * built or last reconfigured).
   */
  public Duration age() {
    return age;
  }

  /** Equal when every field is equal. */
  @Override
  public boolean equals(Object o) {
    return o instanceof Quota q && source == q.source && limit == q.limit && remaining == q.remaining
        && Objects.equals(resetIn, q.resetIn) && age.equals(q.age);
  }

  @Override
  public int hashCode() {
    return Objects.hash(source, limit, remaining, resetIn, age);
  }

  /** Every field, absent ones left out, e.g. {@code Quota{source=HEADER, limit=500, remaining=499, resetIn=PT0.12S, age=PT1S}}. */
  @Override
  public String toString() {
    return "Quota{source=" + source + (limit < 0 ? "" : ", limit=" + limit)
        + (remaining < 0 ? "" : ", remaining=" + remaining) + (resetIn == null ? "" : ", resetIn=" + resetIn)
        + ", age=" + age + "}";
  }

  /**
   * Builds a {@link Quota}. Setters validate at once; mutable, not thread-safe; reusable
   * ({@link #build()} copies).
   */
  public static final class Builder {
    private final Source source;
    private long limit = -1;
    private long remaining = -1;
    private Duration resetIn;
    private Duration age = Duration.ZERO;

    private Builder(Source source) {
      this.source = source;
    }

    /**
     * The limit; -1 (the default) when absent.
     *
     * @throws IllegalArgumentException if {@code limit} is below -1
     */
    public Builder limit(long limit) {
      this.limit = Checks.atLeast("limit", limit, -1L);
      return this;
    }

    /**
     * What was left; -1 (the default) when absent.
     *
     * @throws IllegalArgumentException if {@code remaining} is below -1
     */
    public Builder remaining(long remaining) {
      this.remaining = Checks.atLeast("remaining", remaining, -1L);
      return this;
    }

    /**
     * Time until the reset; null (the default) when absent.
     *
     * @throws IllegalArgumentException if {@code resetIn} is negative
     */
    public Builder resetIn(Duration resetIn) {
      this.resetIn = resetIn == null ? null : Checks.nonNegative("resetIn", resetIn);
      return this;
    }

    /**
     * How old the values are. Default zero.
     *
     * @throws NullPointerException if {@code age} is null
     * @throws IllegalArgumentException if {@code age} is negative
     */
    public Builder age(Duration age) {
      this.age = Checks.nonNegative("age", Objects.requireNonNull(age, "age"));
      return this;
    }

    /** The immutable quota. */
    public Quota build() {
      return new Quota(this);
    }
  }
}
