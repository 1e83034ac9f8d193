package io.github.llmpool.spi;

import io.github.llmpool.TokenUsage;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How one logical request ended, given to {@link RequestListener#onEnd} exactly once per
 * {@link RequestListener#onStart}: its {@link Result}, the attempts it made, the final status and
 * when. Carries no key and no body; the reason of a refusal is text the pool wrote (provider names
 * and states, never a credential). A final class rather than a record so that it can grow; built
 * by the pool (or by tests of a listener) with {@link #builder(RequestStart)}. Immutable and
 * thread-safe.
 */
public final class RequestEnd {

  /** How a logical request ended. */
  public enum Result {
    /** The caller got a 2xx response and its body ended (read to its end or closed by the caller). */
    SUCCESS,
    /**
     * The call threw ({@link #exceptionClass()}), the caller got a response that is not 2xx
     * ({@link #status()}: a client error, or the last failed answer when the pool gave up), or the
     * body of the response failed or was cut while read ({@link #bodyEnd()}).
     */
    FAILED,
    /**
     * The pool made no attempt: nothing could take the request (a drained pool, every provider out
     * under {@code AllEvictedPolicy.FAIL_FAST}); {@link #reason()} says why, {@link #attempts()} is 0.
     */
    REFUSED,
    /** The caller cancelled the call or its thread was interrupted, before or while reading the body. */
    CANCELLED
  }

  private final RequestStart start;
  private final Result result;
  private final String exceptionClass;
  private final String reason;
  private final int attempts;
  private final int status;
  private final TokenUsage.End bodyEnd;
  private final long endNanos;

  private RequestEnd(Builder b) {
    this.start = b.start;
    this.result = b.result;
    this.exceptionClass = b.exceptionClass;
    this.reason = b.reason;
    this.attempts = b.attempts;
    this.status = b.status;
    this.bodyEnd = b.bodyEnd;
    this.endNanos = b.endNanos;
  }

  /**
   * A new builder for the end of {@code start}.
   *
   * @throws NullPointerException if {@code start} is null
   */
  public static Builder builder(RequestStart start) {
    return new Builder(Objects.requireNonNull(start, "start"));
  }

  /** The start of this request: the same instance {@link RequestListener#onStart} was given. */
  public RequestStart start() {
    return start;
  }

  /** How the request ended. */
  public Result result() {
    return result;
  }

  /**
   * The fully qualified class name of what the call threw ({@code NoProviderAvailableException},
   * {@code AttemptsExhaustedException}, an {@code IOException} of a cancel, ...); empty when the
   * caller got a response.
   */
  public Optional<String> exceptionClass() {
    return Optional.ofNullable(exceptionClass);
  }

  /** For {@link Result#REFUSED}: why nothing could take the request (the pool's own text); else empty. */
  public Optional<String> reason() {
    return Optional.ofNullable(reason);
  }

  /** The attempts the request made (0 for {@link Result#REFUSED}). */
  public int attempts() {
    return attempts;
  }

  /** The HTTP status of the response the caller got; empty when the call threw. */
  public OptionalInt status() {
    return status < 0 ? OptionalInt.empty() : OptionalInt.of(status);
  }

  /** How the body of the response the caller got ended; empty when the call threw. */
  public Optional<TokenUsage.End> bodyEnd() {
    return Optional.ofNullable(bodyEnd);
  }

  /** When the request ended, in nanoseconds of the pool's {@code Ticker}. */
  public long endNanos() {
    return endNanos;
  }

  /** From {@link RequestStart#startNanos()} to {@link #endNanos()} (zero if the ticker went back). */
  public Duration duration() {
    return Duration.ofNanos(Math.max(0, endNanos - start.startNanos()));
  }

  @Override
  public String toString() {
    return "RequestEnd{" + start + ", result=" + result + ", attempts=" + attempts
        + (status >= 0 ? ", status=" + status : "") + (exceptionClass == null ? "" : ", exception=" + exceptionClass)
        + (bodyEnd == null ? "" : ", body=" + bodyEnd) + "}";
  }

  /** A mutable, not thread-safe builder; {@link #build()} checks and copies. */
  public static final class Builder {
    private final RequestStart start;
    private Result result = Result.SUCCESS;
    private String exceptionClass;
    private String reason;
    private int attempts;
    private int status = -1;
    private TokenUsage.End bodyEnd;
    private long endNanos;

    private Builder(RequestStart start) {
      this.start = start;
      this.endNanos = start.startNanos();
    }

    /**
     * How the request ended. Default {@link Result#SUCCESS}.
     *
     * @throws NullPointerException if {@code result} is null
     */
    public Builder result(Result result) {
      this.result = Objects.requireNonNull(result, "result");
      return this;
    }

    /** The class name of what the call threw, or null (the default) for none. */
    public Builder exceptionClass(String className) {
      this.exceptionClass = className;
      return this;
    }

    /** Why the request was refused, or null (the default). */
    public Builder reason(String reason) {
      this.reason = reason;
      return this;
    }

    /**
     * The attempts made. Default 0.
     *
     * @throws IllegalArgumentException if negative ({@code attempts must be >= 0 but was -1})
     */
    public Builder attempts(int attempts) {
      if (attempts < 0) {
        throw new IllegalArgumentException("attempts must be >= 0 but was " + attempts);
      }
      this.attempts = attempts;
      return this;
    }

    /**
     * The final HTTP status, or -1 (the default) for none.
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

    /** How the final body ended, or null (the default) when the call threw. */
    public Builder bodyEnd(TokenUsage.End end) {
      this.bodyEnd = end;
      return this;
    }

    /** When the request ended, in the pool's ticker nanoseconds. Default: the start's. */
    public Builder endNanos(long nanos) {
      this.endNanos = nanos;
      return this;
    }

    /** The value. */
    public RequestEnd build() {
      return new RequestEnd(this);
    }
  }
}
