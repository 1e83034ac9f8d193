package io.github.llmpool.spi;

import io.github.llmpool.Cost;
import io.github.llmpool.Outcome;
import io.github.llmpool.TokenUsage;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * How one attempt ended, given to {@link AttemptListener#onEnd} exactly once per
 * {@link AttemptListener#onStart}: its verdict, HTTP status and durations. Carries no key and no
 * body. A final class rather than a record so that it can grow; built by the pool (or by tests of
 * a listener) with {@link #builder(AttemptStart)}. Immutable and thread-safe.
 */
public final class AttemptEnd {
  private final AttemptStart start;
  private final Outcome outcome;
  private final int status;
  private final Duration duration;
  private final Duration timeToHeaders;
  private final Duration timeToFirstToken;
  private final TokenUsage.End bodyEnd;
  private final long remainingRequests;
  private final long remainingTokens;
  private final Cost cost;

  private AttemptEnd(Builder b) {
    this.cost = b.cost;
    this.remainingRequests = b.remainingRequests;
    this.remainingTokens = b.remainingTokens;
    this.start = b.start;
    this.outcome = b.outcome;
    this.status = b.status;
    this.duration = b.duration;
    this.timeToHeaders = b.timeToHeaders;
    this.timeToFirstToken = b.timeToFirstToken;
    this.bodyEnd = b.bodyEnd;
  }

  /**
   * A new builder for the end of {@code start}.
   *
   * @throws NullPointerException if {@code start} is null
   */
  public static Builder builder(AttemptStart start) {
    return new Builder(Objects.requireNonNull(start, "start"));
  }

  /** The start of this attempt: the same instance {@link AttemptListener#onStart} was given. */
  public AttemptStart start() {
    return start;
  }

  /**
   * The verdict on the provider: the classification of the response ({@link Outcome#SUCCESS},
   * {@link Outcome#RATE_LIMITED}, ...), or of the failure before it or while its body was read
   * ({@link Outcome#CONNECTION_FAILURE}, {@link Outcome#TIMEOUT}); empty when the attempt ended
   * without one (the caller cancelled the call or was interrupted).
   */
  public Optional<Outcome> outcome() {
    return Optional.ofNullable(outcome);
  }

  /** The HTTP status of the response; empty when the attempt ended before a response. */
  public OptionalInt status() {
    return status < 0 ? OptionalInt.empty() : OptionalInt.of(status);
  }

  /** From dispatch to the end: of the body, of the failure, or of the discard. */
  public Duration duration() {
    return duration;
  }

  /** From dispatch to the response headers; empty when no response arrived. */
  public Optional<Duration> timeToHeaders() {
    return Optional.ofNullable(timeToHeaders);
  }

  /**
   * Streams: from dispatch to the first data event; otherwise the same as
   * {@link #timeToHeaders()}; empty when no token (or no response) arrived.
   */
  public Optional<Duration> timeToFirstToken() {
    return Optional.ofNullable(timeToFirstToken);
  }

  /**
   * How the response body ended ({@code COMPLETE}, {@code TRUNCATED}, {@code CLOSED_EARLY},
   * {@code FAILED}, or {@code DISCARDED} when the pool closed it to fail over); empty when the
   * attempt ended before a response.
   */
  public Optional<TokenUsage.End> bodyEnd() {
    return Optional.ofNullable(bodyEnd);
  }

  /**
   * The requests the provider said are left in its current rate-limit window, from the response's
   * {@code x-ratelimit-remaining-requests} (OpenAI, Azure OpenAI, Groq and most OpenAI-compatible
   * servers) or {@code anthropic-ratelimit-requests-remaining}; empty without a response or
   * without a valid count there (ASCII digits, below 10^15; a bad value is also counted in
   * {@code ProviderSnapshot.ignoredQuotaValues()}). A number the pool parsed, never the header's text.
   */
  public OptionalLong remainingRequests() {
    return remainingRequests < 0 ? OptionalLong.empty() : OptionalLong.of(remainingRequests);
  }

  /**
   * The tokens the provider said are left in its current rate-limit window, from
   * {@code x-ratelimit-remaining-tokens} or {@code anthropic-ratelimit-tokens-remaining}; empty as
   * for {@link #remainingRequests()}.
   */
  public OptionalLong remainingTokens() {
    return remainingTokens < 0 ? OptionalLong.empty() : OptionalLong.of(remainingTokens);
  }

  /**
   * What the attempt cost: the same value as its {@code TokenUsage.cost()}; {@link Cost#UNPRICED}
   * when the provider has no price; zero ({@link Cost.Status#EXACT}) for an error answer, which
   * providers do not bill; zero as a lower bound ({@link Cost.Status#ESTIMATED}) for an attempt that
   * failed before its response (a provider may bill work it did for a request that timed out).
   */
  public Cost cost() {
    return cost;
  }

  @Override
  public String toString() {
    return "AttemptEnd{" + start + ", outcome=" + outcome + (status >= 0 ? ", status=" + status : "")
        + ", duration=" + duration + (bodyEnd == null ? "" : ", body=" + bodyEnd)
        + (cost.priced() ? ", cost=" + cost : "") + "}";
  }

  /** A mutable, not thread-safe builder; {@link #build()} checks and copies. */
  public static final class Builder {
    private final AttemptStart start;
    private Outcome outcome;
    private int status = -1;
    private Duration duration = Duration.ZERO;
    private Duration timeToHeaders;
    private Duration timeToFirstToken;
    private TokenUsage.End bodyEnd;
    private long remainingRequests = -1;
    private long remainingTokens = -1;
    private Cost cost = Cost.UNPRICED;

    private Builder(AttemptStart start) {
      this.start = start;
    }

    /** The verdict, or null (the default) for none. */
    public Builder outcome(Outcome outcome) {
      this.outcome = outcome;
      return this;
    }

    /**
     * The HTTP status, or -1 (the default) for none.
     *
     * @throws IllegalArgumentException if neither -1 nor in [100, 999]
     *     ({@code status must be -1 or in [100, 999] but was 42})
     */
    public Builder status(int status) {
      if (status != -1 && (status < 100 || status > 999)) {
        throw new IllegalArgumentException("status must be -1 or in [100, 999] but was " + status);
      }
      this.status = status;
      return this;
    }

    /**
     * From dispatch to the end. Default zero.
     *
     * @throws NullPointerException if {@code duration} is null
     * @throws IllegalArgumentException if negative ({@code duration must be >= 0 but was PT-1S})
     */
    public Builder duration(Duration duration) {
      this.duration = nonNegative("duration", Objects.requireNonNull(duration, "duration"));
      return this;
    }

    /**
     * From dispatch to the headers, or null (the default) for none.
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder timeToHeaders(Duration d) {
      this.timeToHeaders = d == null ? null : nonNegative("timeToHeaders", d);
      return this;
    }

    /**
     * From dispatch to the first token, or null (the default) for none.
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder timeToFirstToken(Duration d) {
      this.timeToFirstToken = d == null ? null : nonNegative("timeToFirstToken", d);
      return this;
    }

    /** How the body ended, or null (the default) when there was no response. */
    public Builder bodyEnd(TokenUsage.End end) {
      this.bodyEnd = end;
      return this;
    }

    /** The requests left in the provider's rate-limit window, or -1 (the default) for unknown; below -1 is unknown too. */
    public Builder remainingRequests(long remaining) {
      this.remainingRequests = Math.max(-1, remaining);
      return this;
    }

    /** The tokens left in the provider's rate-limit window, or -1 (the default) for unknown; below -1 is unknown too. */
    public Builder remainingTokens(long remaining) {
      this.remainingTokens = Math.max(-1, remaining);
      return this;
    }

    /**
     * What the attempt cost. Default {@link Cost#UNPRICED}.
     *
     * @throws NullPointerException if {@code cost} is null
     */
    public Builder cost(Cost cost) {
      this.cost = Objects.requireNonNull(cost, "cost");
      return this;
    }

    /** The value. */
    public AttemptEnd build() {
      return new AttemptEnd(this);
    }

    private static Duration nonNegative(String name, Duration d) {
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + " must be >= 0 but was " + d);
      }
      return d;
    }
  }
}
