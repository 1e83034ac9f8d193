package io.github.llmpool.internal.health;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.llmpool.Fixtures;
import io.github.llmpool.Outcome;
import io.github.llmpool.OutcomeClassifier;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/** Each fixture's classification and the delay it asks for. */
class ClassificationTest {
  static final long WALL = ZonedDateTime.parse("2026-10-21T07:27:30Z").toInstant().toEpochMilli();

  /** A parsed .http fixture: status, lower-cased headers, body. */
  record Http(int status, Map<String, String> headers, String body) implements OutcomeClassifier.ResponseInfo {
    static Http load(String name) {
      String raw = new String(Fixtures.bytes(name), StandardCharsets.UTF_8).replace("\r\n", "\n");
      int split = raw.indexOf("\n\n");
      String[] lines = raw.substring(0, split).split("\n");
      Map<String, String> h = new HashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int c = lines[i].indexOf(':');
        h.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
      }
      return new Http(Integer.parseInt(lines[0].split(" ")[1].trim()), h, raw.substring(split + 2).trim());
    }

    @Override
    public Optional<String> header(String name) {
      return Optional.ofNullable(rawHeader(name));
    }

    /** The header's value or null, as the pool reads OkHttp's headers for retry hints. */
    String rawHeader(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    @Override
    public String errorBody() {
      return body;
    }

    Outcome outcome() {
      return OutcomeClassifier.defaults().classify(status, this);
    }

    long delayNanos() {
      return RetryHints.delayNanos(this::rawHeader, WALL);
    }
  }

  @Test
  void openAiRateLimitUsesRetryAfterSeconds() {
    Http h = Http.load("openai-429-rate-limit.http");
    assertEquals(Outcome.RATE_LIMITED, h.outcome());
    assertEquals(TimeUnit.SECONDS.toNanos(2), h.delayNanos()); // retry-after wins over x-ratelimit-reset-requests 6m0s
  }

  @Test
  void resetHeadersAreUsedWhenRemainingIsZeroAndNoRetryAfter() {
    Http h = Http.load("openai-429-rate-limit.http");
    h.headers().remove("retry-after");
    assertEquals(TimeUnit.MINUTES.toNanos(6), h.delayNanos()); // requests exhausted: 6m0s; tokens remain so 20ms is ignored
    h.headers().put("x-ratelimit-remaining-requests", "3");
    assertEquals(-1, h.delayNanos());
    h.headers().put("x-ratelimit-remaining-tokens", "0");
    assertEquals(TimeUnit.MILLISECONDS.toNanos(20), h.delayNanos());
  }

  @Test
  void azureRetryAfterMsWins() {
    Http h = Http.load("azure-429.http");
    assertEquals(Outcome.RATE_LIMITED, h.outcome());
    assertEquals(TimeUnit.MILLISECONDS.toNanos(1500), h.delayNanos());
  }

  @Test
  void insufficientQuotaIsQuotaExhausted() {
    assertEquals(Outcome.QUOTA_EXHAUSTED, Http.load("openai-429-insufficient-quota.http").outcome());
  }

  @Test
  void geminiArrayBodyIsReadAndIsARateLimit() {
    Http h = Http.load("gemini-429.http");
    assertEquals(Outcome.RATE_LIMITED, h.outcome());
    assertEquals(-1, h.delayNanos());
    Http quotaArray = new Http(429, Map.of(), "[{\"error\":{\"code\":429,\"status\":\"insufficient_quota\"}}]");
    assertEquals(Outcome.QUOTA_EXHAUSTED, quotaArray.outcome());
  }

  @Test
  void truncatedOrGarbageErrorBodyIsAPlainRateLimit() {
    assertEquals(Outcome.RATE_LIMITED, new Http(429, Map.of(), "{\"error\":{\"type\":\"requ").outcome());
    assertEquals(Outcome.RATE_LIMITED, new Http(429, Map.of(), "<html>slow down</html>").outcome());
    assertEquals(Outcome.QUOTA_EXHAUSTED, new Http(429, Map.of(), "{\"error\":{\"code\":\"insufficient_quota\",\"mess").outcome());
  }

  @Test
  void anthropicOverloadedIsAServerError() {
    assertEquals(Outcome.SERVER_ERROR, Http.load("anthropic-529.http").outcome());
  }

  @Test
  void retryAfterHttpDateIsADelayFromNow() {
    Http h = Http.load("openai-503.http"); // Wed, 21 Oct 2026 07:28:00 GMT, 30 s after WALL
    assertEquals(Outcome.SERVER_ERROR, h.outcome());
    assertEquals(TimeUnit.SECONDS.toNanos(30), h.delayNanos());
    assertEquals(-1, RetryHints.delayNanos(h::rawHeader, WALL + 60_000)); // a date in the past is no hint
  }

  @Test
  void badRequestIsTheCallersFault() {
    assertEquals(Outcome.CLIENT_ERROR, Http.load("openai-400.http").outcome());
    for (int code : new int[] {400, 401, 403, 404, 413, 422}) {
      assertEquals(Outcome.CLIENT_ERROR, new Http(code, Map.of(), "").outcome(), "status " + code);
    }
    for (int code : new int[] {408, 500, 502, 503, 504, 529}) {
      assertEquals(Outcome.SERVER_ERROR, new Http(code, Map.of(), "").outcome(), "status " + code);
    }
  }

  @Test
  void exceptionsAreTimeoutsOrConnectionFailures() {
    OutcomeClassifier c = OutcomeClassifier.defaults();
    assertEquals(Outcome.TIMEOUT, c.classify(new SocketTimeoutException("timeout")));
    assertEquals(Outcome.CONNECTION_FAILURE, c.classify(new ConnectException("Connection refused")));
    assertEquals(Outcome.CONNECTION_FAILURE, c.classify(new SSLHandshakeException("bad cert")));
    assertEquals(Outcome.CONNECTION_FAILURE, c.classify(new IOException("unexpected end of stream")));
  }

  @Test
  void goDurationsParse() {
    assertEquals(TimeUnit.SECONDS.toNanos(360), RetryHints.parseGoDuration("6m0s"));
    assertEquals(TimeUnit.MILLISECONDS.toNanos(20), RetryHints.parseGoDuration("20ms"));
    assertEquals(TimeUnit.MILLISECONDS.toNanos(1500), RetryHints.parseGoDuration("1.5s"));
    assertEquals(TimeUnit.SECONDS.toNanos(3723), RetryHints.parseGoDuration("1h2m3s"));
    assertEquals(-1, RetryHints.parseGoDuration("soon"));
    assertEquals(-1, RetryHints.parseGoDuration("5x"));
    assertEquals(-1, RetryHints.parseGoDuration(""));
  }
}
