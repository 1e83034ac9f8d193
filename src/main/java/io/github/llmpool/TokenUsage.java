package io.github.llmpool;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What one attempt cost, reported exactly once per attempt that got a response: when its body was
 * read to the end, closed early, or failed while being read; or at once when the pool discarded a
 * failed attempt's response to fail over.
 *
 * <p>Token counts ({@link #tokens()}) are as the provider reported them, in the one convention of
 * {@link TokenCounts} (Anthropic and Gemini usage is brought to it when read; {@code total} is
 * never recomputed); a count the provider did not send is 0, and {@link #reported()} tells whether any usage arrived at
 * all. Values that may be absent are {@link Optional} (see the package documentation).
 *
 * <pre>{@code
 * .onUsage(usage -> meter.record(usage.provider(), usage.totalTokens()))
 * .onUsage(usage -> cacheHits.add(usage.tokens().cached()))
 * .onUsage(usage -> usage.cost().amount().ifPresent(a -> spend.add(usage.cost().currency().get(), a)))
 * }</pre>
 *
 * <p>Immutable and thread-safe. The pool makes one only when a {@link UsageListener} is registered.
 * It is a final class rather than a record, and is made by {@link #builder(String)}, so that a field
 * can be added later without breaking code that builds or reads usage records.
 */
public final class TokenUsage {

  /** How the response body of an attempt ended. */
  public enum End {
    /** Read to its end, and for a stream its terminal event ({@code [DONE]}, a finish reason, {@code response.completed}) was seen. */
    COMPLETE,
    /** Read to its end, but the stream stopped before its terminal event. */
    TRUNCATED,
    /** The caller closed the body before its end. */
    CLOSED_EARLY,
    /** Reading failed (connection cut, timeout, cancel). */
    FAILED,
    /** The pool discarded the response of a failed attempt to fail over. */
    DISCARDED
  }

  private final String provider;
  private final int tier;
  private final String requestedModel; // null: absent
  private final String servedModel; // null: absent
  private final String responseId; // null: absent
  private final List<String> finishReasons;
  private final TokenCounts tokens;
  private final boolean reported;
  private final int status;
  private final boolean streamed;
  // Durations are kept as nanoseconds (-1: absent) and made on access: a record costs one object
  // fewer per Duration, and few listeners read every one.
  private final long timeToFirstByte;
  private final long timeToFirstToken;
  private final long duration;
  private final int attempt;
  private final End end;
  private final boolean errorEvent;
  private final boolean latencyProbe;
  private final Cost cost;

  private TokenUsage(Builder b) {
    this.cost = b.cost;
    this.provider = b.provider;
    this.tier = b.tier;
    this.requestedModel = b.requestedModel;
    this.servedModel = b.servedModel;
    this.responseId = b.responseId;
    this.finishReasons = b.finishReasons;
    this.tokens = b.tokens;
    this.reported = b.reported;
    this.status = b.status;
    this.streamed = b.streamed;
    this.timeToFirstByte = b.timeToFirstByte;
    this.timeToFirstToken = b.timeToFirstToken;
    this.duration = b.duration;
    this.attempt = b.attempt;
    this.end = b.end;
    this.errorEvent = b.errorEvent;
    this.latencyProbe = b.latencyProbe;
  }

  /**
   * A builder for the usage of an attempt on {@code provider}; every other field has the default its
   * setter documents. For the pool and for tests (a listener's test may build the records it
   * expects).
   *
   * @throws NullPointerException if {@code provider} is null
   */
  public static Builder builder(String provider) {
    return new Builder(Objects.requireNonNull(provider, "provider"));
  }

  /** The provider's name. */
  public String provider() {
    return provider;
  }

  /** The provider's tier (0 = first). */
  public int tier() {
    return tier;
  }

  /** The top-level {@code model} of the request as the caller sent it; empty when it named none. */
  public Optional<String> requestedModel() {
    return Optional.ofNullable(requestedModel);
  }

  /** The {@code model} the response named; empty when it named none. */
  public Optional<String> servedModel() {
    return Optional.ofNullable(servedModel);
  }

  /**
   * The response's {@code id} as the provider sent it (a chat completion's or a stream chunk's
   * top-level {@code id}, a Responses API answer's {@code id} or a stream's {@code response.id}),
   * at most 128 chars (a longer one is cut); empty when it named none. Provider data: use it to
   * correlate with the provider's logs, never as a key.
   */
  public Optional<String> responseId() {
    return Optional.ofNullable(responseId);
  }

  /**
   * Why the model stopped, as the provider said it, immutable and never null: chat completions'
   * {@code choices[].finish_reason} of every choice in order (streams: of the chunks that carry
   * one); for the Responses API one entry, {@code incomplete_details.reason} of an
   * {@code incomplete} response (e.g. {@code max_output_tokens}), else its {@code status} (e.g.
   * {@code completed}, {@code failed}; not {@code in_progress}). Empty when the response gave none
   * (embeddings, errors, a stream cut before its end). At most 16 entries of at most 64 chars.
   */
  public List<String> finishReasons() {
    return finishReasons;
  }

  /** The token counts as reported; {@link TokenCounts#ZERO} when the provider reported none. */
  public TokenCounts tokens() {
    return tokens;
  }

  /** {@code total_tokens} as reported: the same as {@code tokens().total()}. */
  public long totalTokens() {
    return tokens.total();
  }

  /** Whether the provider reported usage. */
  public boolean reported() {
    return reported;
  }

  /** The HTTP status of the attempt. */
  public int status() {
    return status;
  }

  /** Whether the response was a server-sent-event stream. */
  public boolean streamed() {
    return streamed;
  }

  /**
   * From dispatch to the response headers. Always present: a usage record is made only for an
   * attempt that received its response headers.
   */
  public Duration timeToFirstByte() {
    return Duration.ofNanos(timeToFirstByte);
  }

  /**
   * Streams: from dispatch to the first data event; otherwise the same as
   * {@link #timeToFirstByte()}. Empty when no token arrived (a stream that ended or failed before
   * its first event).
   */
  public Optional<Duration> timeToFirstToken() {
    return timeToFirstToken < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(timeToFirstToken));
  }

  /** From dispatch to the end of the body (or to the discard). */
  public Duration duration() {
    return Duration.ofNanos(duration);
  }

  /** The attempt number within its logical request, from 1. */
  public int attempt() {
    return attempt;
  }

  /** How the body ended. */
  public End end() {
    return end;
  }

  /** Whether the stream carried an in-band {@code error} event. */
  public boolean errorEvent() {
    return errorEvent;
  }

  /**
   * Whether the attempt was a request of the pool's own, not a caller's: a latency probe of P2C
   * ({@code P2cSettings.probes}), billed like any request but made for no caller (a listener that
   * attributes usage to callers leaves these out, or books them to the pool).
   */
  public boolean latencyProbe() {
    return latencyProbe;
  }

  /**
   * What the attempt cost at its provider's {@link Price}: {@link Cost#UNPRICED} when the provider
   * has none; zero ({@link Cost.Status#EXACT}) for an error answer; a lower bound
   * ({@link Cost.Status#ESTIMATED}) for a 2xx answer whose usage was partial or missing.
   */
  public Cost cost() {
    return cost;
  }

  /** Whether the caller got the whole answer: {@link End#COMPLETE}. */
  public boolean complete() {
    return end == End.COMPLETE;
  }

  /** Equal when every field is equal. */
  @Override
  public boolean equals(Object o) {
    return o instanceof TokenUsage u && provider.equals(u.provider) && tier == u.tier
        && Objects.equals(requestedModel, u.requestedModel) && Objects.equals(servedModel, u.servedModel)
        && Objects.equals(responseId, u.responseId) && finishReasons.equals(u.finishReasons)
        && tokens.equals(u.tokens) && reported == u.reported && status == u.status && streamed == u.streamed
        && timeToFirstByte == u.timeToFirstByte && timeToFirstToken == u.timeToFirstToken
        && duration == u.duration && attempt == u.attempt && end == u.end && errorEvent == u.errorEvent
        && latencyProbe == u.latencyProbe && cost.equals(u.cost);
  }

  @Override
  public int hashCode() {
    return Objects.hash(provider, tier, requestedModel, servedModel, responseId, finishReasons, tokens, reported, status, streamed,
        timeToFirstByte, timeToFirstToken, duration, attempt, end, errorEvent, latencyProbe, cost);
  }

  /**
   * Every field, absent ones left out, e.g. {@code TokenUsage{provider=a, tier=0, attempt=1,
   * status=200, end=COMPLETE, ...}}. It holds no credential (a usage record has none).
   */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("TokenUsage{provider=").append(provider).append(", tier=").append(tier)
        .append(", attempt=").append(attempt).append(", status=").append(status).append(", end=").append(end)
        .append(", streamed=").append(streamed).append(", reported=").append(reported).append(", tokens=")
        .append(tokens).append(", cost=").append(cost);
    if (requestedModel != null) {
      sb.append(", requestedModel=").append(requestedModel);
    }
    if (servedModel != null) {
      sb.append(", servedModel=").append(servedModel);
    }
    if (responseId != null) {
      sb.append(", responseId=").append(responseId);
    }
    if (!finishReasons.isEmpty()) {
      sb.append(", finishReasons=").append(finishReasons);
    }
    sb.append(", timeToFirstByte=").append(timeToFirstByte());
    if (timeToFirstToken >= 0) {
      sb.append(", timeToFirstToken=").append(Duration.ofNanos(timeToFirstToken));
    }
    sb.append(", duration=").append(duration()).append(", errorEvent=").append(errorEvent);
    return (latencyProbe ? sb.append(", latencyProbe=true") : sb).append('}').toString();
  }

  /**
   * Builds a {@link TokenUsage}. Setters validate at once; mutable, not thread-safe; reusable
   * ({@link #build()} copies).
   */
  public static final class Builder {
    private final String provider;
    private int tier;
    private String requestedModel;
    private String servedModel;
    private String responseId;
    private List<String> finishReasons = List.of();
    private TokenCounts tokens = TokenCounts.ZERO;
    private boolean reported;
    private int status = 200;
    private boolean streamed;
    private long timeToFirstByte;
    private long timeToFirstToken = -1;
    private long duration;
    private int attempt = 1;
    private End end = End.COMPLETE;
    private boolean errorEvent;
    private boolean latencyProbe;
    private Cost cost = Cost.UNPRICED;

    private Builder(String provider) {
      this.provider = provider;
    }

    /**
     * The provider's tier. Default 0.
     *
     * @throws IllegalArgumentException if {@code tier} is negative
     */
    public Builder tier(int tier) {
      this.tier = Checks.atLeast("tier", tier, 0);
      return this;
    }

    /** The request's top-level {@code model}; null (the default) for none. */
    public Builder requestedModel(String model) {
      this.requestedModel = model;
      return this;
    }

    /** The {@code model} the response named; null (the default) for none. */
    public Builder servedModel(String model) {
      this.servedModel = model;
      return this;
    }

    /** The response's {@code id}; null (the default) for none. */
    public Builder responseId(String id) {
      this.responseId = id;
      return this;
    }

    /**
     * The finish reasons, copied. Default empty.
     *
     * @throws NullPointerException if {@code reasons} or one of its elements is null
     */
    public Builder finishReasons(List<String> reasons) {
      this.finishReasons = List.copyOf(Objects.requireNonNull(reasons, "finishReasons"));
      return this;
    }

    /**
     * The reported token counts. Default {@link TokenCounts#ZERO}.
     *
     * @throws NullPointerException if {@code tokens} is null
     */
    public Builder tokens(TokenCounts tokens) {
      this.tokens = Objects.requireNonNull(tokens, "tokens");
      return this;
    }

    /** Whether the provider reported usage. Default false. */
    public Builder reported(boolean reported) {
      this.reported = reported;
      return this;
    }

    /**
     * The HTTP status. Default 200.
     *
     * @throws IllegalArgumentException if {@code status} is negative (a usage record always has a
     *     response, so never the -1 of "no response")
     */
    public Builder status(int status) {
      this.status = Checks.atLeast("status", status, 0);
      return this;
    }

    /** Whether the response was a server-sent-event stream. Default false. */
    public Builder streamed(boolean streamed) {
      this.streamed = streamed;
      return this;
    }

    /**
     * From dispatch to the response headers. Default zero.
     *
     * @throws NullPointerException if {@code d} is null
     * @throws IllegalArgumentException if {@code d} is negative or too long to count in nanoseconds
     *     (about 292 years)
     */
    public Builder timeToFirstByte(Duration d) {
      this.timeToFirstByte = Checks.nanos("timeToFirstByte", Objects.requireNonNull(d, "timeToFirstByte"));
      return this;
    }

    /**
     * From dispatch to the first token; null (the default) when none arrived.
     *
     * @throws IllegalArgumentException if {@code d} is negative or too long to count in nanoseconds
     */
    public Builder timeToFirstToken(Duration d) {
      this.timeToFirstToken = d == null ? -1 : Checks.nanos("timeToFirstToken", d);
      return this;
    }

    /**
     * From dispatch to the end of the body. Default zero.
     *
     * @throws NullPointerException if {@code d} is null
     * @throws IllegalArgumentException if {@code d} is negative or too long to count in nanoseconds
     */
    public Builder duration(Duration d) {
      this.duration = Checks.nanos("duration", Objects.requireNonNull(d, "duration"));
      return this;
    }

    /**
     * The attempt number within its logical request. Default 1.
     *
     * @throws IllegalArgumentException if {@code attempt} is below 1
     */
    public Builder attempt(int attempt) {
      this.attempt = Checks.atLeast("attempt", attempt, 1);
      return this;
    }

    /**
     * How the body ended. Default {@link End#COMPLETE}.
     *
     * @throws NullPointerException if {@code end} is null
     */
    public Builder end(End end) {
      this.end = Objects.requireNonNull(end, "end");
      return this;
    }

    /** Whether the stream carried an in-band {@code error} event. Default false. */
    public Builder errorEvent(boolean errorEvent) {
      this.errorEvent = errorEvent;
      return this;
    }

    /** Whether the attempt was a latency probe of the pool's own ({@link TokenUsage#latencyProbe()}). Default false. */
    public Builder latencyProbe(boolean latencyProbe) {
      this.latencyProbe = latencyProbe;
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

    /** The immutable usage record. */
    public TokenUsage build() {
      return new TokenUsage(this);
    }
  }
}
