package io.github.llmpool.testing;

import java.time.Duration;
import java.util.Locale;
import java.util.function.Supplier;
import mockwebserver3.MockResponse;
import mockwebserver3.SocketEffect;

/**
 * A scripted failure a {@link FakeLlmServer} answers with instead of a success
 * ({@link FakeLlmServer#failNext(int, Fault)}, {@link FakeLlmServer#failAlways(Fault)}). The
 * answers are the shapes real providers send (see {@link WireFixtures}). Immutable.
 *
 * <pre>{@code
 * server.failNext(2, Fault.rateLimited(Duration.ofSeconds(1)));   // two 429s with Retry-After: 1
 * server.failAlways(Fault.unavailable());                          // 503 until server.heal()
 * }</pre>
 */
public final class Fault {

  private final String description;
  private final int status;
  private final Supplier<MockResponse.Builder> response;

  private Fault(String description, int status, Supplier<MockResponse.Builder> response) {
    this.description = description;
    this.status = status;
    this.response = response;
  }

  /**
   * OpenAI's 429 rate-limit answer ({@code openai-429-rate-limit.http}) as recorded: {@code retry-after: 2}
   * and the six {@code x-ratelimit-*} headers, remaining requests 0.
   *
   * @return the fault
   */
  public static Fault rateLimited() {
    return new Fault("429 rate limited (retry-after: 2)", 429, () -> WireFixtures.response("openai-429-rate-limit.http"));
  }

  /**
   * OpenAI's 429 rate-limit answer whose {@code retry-after} (and {@code x-ratelimit-reset-requests})
   * say {@code retryAfter}: whole seconds as {@code retry-after: N}; a delay with a fraction of a
   * second also as {@code retry-after-ms} (which OpenAI sends too) with {@code retry-after} rounded up.
   *
   * @param retryAfter the delay the provider asks for, positive
   * @return the fault
   * @throws IllegalArgumentException if {@code retryAfter} is null, zero or negative
   */
  public static Fault rateLimited(Duration retryAfter) {
    Duration d = positive("retryAfter", retryAfter);
    long ms = d.toMillis();
    long seconds = (ms + 999) / 1000;
    String reset = ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    return new Fault("429 rate limited (retry after " + reset + ")", 429, () -> {
      MockResponse.Builder b = WireFixtures.response("openai-429-rate-limit.http")
          .setHeader("retry-after", Long.toString(seconds))
          .setHeader("x-ratelimit-reset-requests", reset);
      if (ms % 1000 != 0) {
        b.setHeader("retry-after-ms", Long.toString(ms));
      }
      return b;
    });
  }

  /**
   * OpenAI's 429 when the quota is used up ({@code insufficient_quota}): no wait helps, no
   * {@code retry-after}.
   *
   * @return the fault
   */
  public static Fault quotaExhausted() {
    return new Fault("429 insufficient_quota", 429, () -> WireFixtures.response("openai-429-insufficient-quota.http"));
  }

  /**
   * A 500 with OpenAI's {@code server_error} body.
   *
   * @return the fault
   */
  public static Fault serverError() {
    return status(500, "{\"error\":{\"message\":\"The server had an error while processing your request. Sorry about that!\","
        + "\"type\":\"server_error\",\"param\":null,\"code\":null}}");
  }

  /**
   * OpenAI's 503 ({@code openai-503.http}: "The server is overloaded or not ready yet."), without a
   * {@code retry-after}.
   *
   * @return the fault
   */
  public static Fault unavailable() {
    return new Fault("503 unavailable", 503,
        () -> WireFixtures.response("openai-503.http").removeHeader("retry-after"));
  }

  /**
   * OpenAI's 503 with {@code retry-after} in whole seconds (rounded up).
   *
   * @param retryAfter the delay the provider asks for, positive
   * @return the fault
   * @throws IllegalArgumentException if {@code retryAfter} is null, zero or negative
   */
  public static Fault unavailable(Duration retryAfter) {
    long seconds = (positive("retryAfter", retryAfter).toMillis() + 999) / 1000;
    return new Fault("503 unavailable (retry-after: " + seconds + ")", 503,
        () -> WireFixtures.response("openai-503.http").setHeader("retry-after", Long.toString(seconds)));
  }

  /**
   * Anthropic's 529 {@code overloaded_error} ({@code anthropic-529.http}).
   *
   * @return the fault
   */
  public static Fault overloaded() {
    return new Fault("529 overloaded", 529, () -> WireFixtures.response("anthropic-529.http"));
  }

  /**
   * Any status with a JSON body.
   *
   * @param code the HTTP status, 100..599
   * @param jsonBody the body, sent as {@code application/json}
   * @return the fault
   * @throws IllegalArgumentException if {@code code} is out of range or {@code jsonBody} is null
   */
  public static Fault status(int code, String jsonBody) {
    if (code < 100 || code > 599) {
      throw new IllegalArgumentException("code must be an HTTP status 100..599, was " + code);
    }
    if (jsonBody == null) {
      throw new IllegalArgumentException("jsonBody must not be null");
    }
    return new Fault(code + " (custom body)", code,
        () -> new MockResponse.Builder().code(code).addHeader("content-type", "application/json").body(jsonBody));
  }

  /**
   * The connection is closed as the response would start: the client sees an I/O error, no status.
   *
   * @return the fault
   */
  public static Fault disconnect() {
    return new Fault("disconnect", -1,
        () -> new MockResponse.Builder().onResponseStart(new SocketEffect.CloseSocket(true, false, false)));
  }

  /**
   * The answer of a fixture of {@link WireFixtures#NAMES}, as recorded.
   *
   * @param name the fixture's file name
   * @return the fault
   * @throws IllegalArgumentException if there is no such fixture
   */
  public static Fault fixture(String name) {
    int code = WireFixtures.response(name).getCode();
    return new Fault(code + " (" + name + ")", code, () -> WireFixtures.response(name));
  }

  /** {@return the HTTP status this fault answers with, or -1 for {@link #disconnect()}} */
  public int status() {
    return status;
  }

  /** A new response builder for one answer. */
  MockResponse.Builder response() {
    return response.get();
  }

  /** {@return what the fault is, e.g. {@code Fault[429 rate limited (retry after 1s)]}} */
  @Override
  public String toString() {
    return "Fault[" + description + "]";
  }

  static Duration positive(String name, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, was " + (d == null ? "null" : d.toString().toLowerCase(Locale.ROOT)));
    }
    return d;
  }
}
