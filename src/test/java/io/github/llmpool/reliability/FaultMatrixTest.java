package io.github.llmpool.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.Attempt;
import io.github.llmpool.AttemptsExhaustedException;
import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.FakeTicker;
import io.github.llmpool.Fixtures;
import io.github.llmpool.LlmPoolException;
import io.github.llmpool.NoProviderAvailableException;
import io.github.llmpool.Outcome;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.TruncatedStreamException;
import io.github.llmpool.Upstreams;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.Buffer;
import okio.BufferedSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every fault a provider can produce, under every strategy, on real loopback servers: a faulty
 * provider in tier 0 with a healthy one in tier 1 ({@code PAIR}), and the faulty provider alone
 * ({@code ALONE}, built with {@link AllEvictedPolicy#FAIL_FAST}). The pool runs on a
 * {@link FakeTicker} that never moves during a case, with {@code failureThreshold(1)} and no
 * jitter, so every eviction is exact: the server's delay when it names one (capped at
 * {@code maxDuration}, 5 min), the quota duration (10 min) for an exhausted quota, else the base
 * duration (5 s).
 *
 * <p>For every case: what the caller gets (status and body, the exception its read throws, or the
 * typed exception listing every attempt); the eviction and its exact duration (in the snapshot and
 * in the {@code Evicted} event); the usage records (provider, attempt, status, {@code end()},
 * tokens); hits on each server; every provider's {@code requests == successes + failures +
 * clientErrors} and in-flight back to 0; no connection still carrying a call and no leak warning
 * from OkHttp; after the last case, a forced GC and every case's connection-pool cleanup find no
 * response left open ({@link Leaks}; the control case
 * {@link #leakDetectorReportsAnAbandonedResponse} proves the detector fires). When the provider
 * was evicted, a second request shows it: in PAIR it goes straight to tier 1, and ALONE it fails fast
 * with {@link NoProviderAvailableException} whose {@code earliestReturn()} is the eviction.
 *
 * <pre>
 * fault                                   PAIR (tier 0 faulty + tier 1 healthy)   ALONE (fail fast)                    eviction
 * 200 JSON / SSE, odd bodies (malformed     200 from faulty, usage as parsed,       same                                 none
 *   JSON, not JSON, no content type, 10 MB, COMPLETE
 *   gzip, error object then [DONE])
 * 400 404 413                             status returned as is, COMPLETE, no     same                                 none
 *                                         retry, counted as client error
 * 408 (OkHttp repeats it once itself)     failover: 200 from healthy; faulty      the 408, x-should-retry: false       5 s
 * 500 502 503 504 529                     record DISCARDED                        the status, x-should-retry: false    5 s
 * 401 (the pool signed it: bad key)         "                                       "                                  10 min (quota)
 * 503 Retry-After date a month ahead        "                                       "                                  5 min (cap)
 * 429 no header / remaining not 0           "                                       "                                  5 s
 * 429 retry-after 3 / HTTP date +7 s        "                                       "                                  3 s / 7 s
 * 429 retry-after-ms 1500                   "                                       "                                  1.5 s
 * 429 x-ratelimit-reset-requests 1m30s,     "                                       "                                  90 s / 45 s
 *   -tokens 45s (remaining 0)
 * 429 fixtures: OpenAI (retry-after 2       "                                       "                                  2 s / 1.5 s / 5 s
 *   beats reset 6m0s), Azure (ms beats
 *   seconds), Gemini (array body)
 * 429 insufficient_quota                    "                                       "                                  10 min (quota)
 * connection refused                      failover: 200 from healthy; no record   AttemptsExhaustedException, 1        5 s
 * reset before headers                    for the failed attempt                  attempt (status -1, outcome)         5 s
 * read timeout before headers               "                                       "  (TIMEOUT)                       5 s
 * reset mid-body (JSON, SSE), gzip cut    200, read throws IOException, FAILED    same                                 5 s
 * headers then stall / stall mid-stream   200, read throws SocketTimeout, FAILED  same                                 5 s
 * truncated chat SSE / Responses SSE      200, read throws TruncatedStream-       same                                 5 s
 *                                         Exception, TRUNCATED
 *   same with failOnTruncatedStream(false) 200, every byte, TRUNCATED             same                                 5 s
 * SSE error event, then end of stream     200, TruncatedStreamException,          same                                 5 s
 *                                         TRUNCATED, errorEvent
 * </pre>
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultMatrixTest {
  private static final Duration BASE = Duration.ofSeconds(5);
  private static final int SLOW_READ_TIMEOUT_MS = 300;
  private static final int READ_TIMEOUT_MS = 10_000;
  private static final AtomicInteger CASES = new AtomicInteger();
  private static final AtomicInteger SECOND_REQUESTS = new AtomicInteger();
  private static Leaks leaks;
  /** Every case's connection pool, swept for leaks after the last case. */
  private static final List<Map.Entry<ConnectionPool, String>> SWEEP = new CopyOnWriteArrayList<>();
  private static final Map<Integer, String> PORTS = new ConcurrentHashMap<>();

  private static String caseOf(String leakMessage) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("127\\.0\\.0\\.1:(\\d+)").matcher(leakMessage);
    return m.find() ? PORTS.getOrDefault(Integer.parseInt(m.group(1)), "?") : "?";
  }

  enum Layout { PAIR, ALONE }

  /** How the fault reaches the pool. */
  enum Kind {
    /** A response the pool returns as is (2xx, the caller's 4xx); the body may still fail. */
    ANSWER,
    /** A retryable status (408, 429, 5xx): failover, or the response itself when alone. */
    RETRYABLE_STATUS,
    /** An exception before any response: failover, or AttemptsExhaustedException when alone. */
    BEFORE_RESPONSE
  }

  @FunctionalInterface
  interface Serve {
    MockResponse answer(FakeTicker ticker);
  }

  /**
   * @param status the faulty provider's status (-1 when it never answers)
   * @param outcome the attempt's classification (for attempts and events)
   * @param eviction the exact eviction, or null for none
   * @param hint whether the eviction came from the response's headers
   * @param evictCause the {@code Evicted} event's cause
   * @param evictStatus the {@code Evicted} event's status
   * @param end ANSWER: the faulty provider's record end
   * @param readError ANSWER: what the caller's read throws, or null
   * @param reported ANSWER: whether the record reports usage
   * @param total ANSWER: the record's total tokens
   * @param errorEvent the faulty record's error flag when the caller reads its body (a JSON error body, an SSE error)
   * @param hits requests the faulty server receives; -1: at least one
   */
  record Expect(Kind kind, int status, Outcome outcome, Duration eviction, boolean hint, Outcome evictCause,
      int evictStatus, TokenUsage.End end, Class<? extends IOException> readError, boolean reported, long total,
      boolean errorEvent, int hits) {

    static Expect ok(int status, boolean reported, long total) {
      Outcome o = status < 300 ? Outcome.SUCCESS : Outcome.CLIENT_ERROR;
      return new Expect(Kind.ANSWER, status, o, null, false, null, 0, TokenUsage.End.COMPLETE, null, reported, total,
          status >= 400, 1); // every error body here is a JSON {"error": ...}
    }

    static Expect bodyFault(TokenUsage.End end, Class<? extends IOException> readError) {
      return new Expect(Kind.ANSWER, 200, Outcome.SUCCESS, BASE, false, Outcome.CONNECTION_FAILURE, 200, end,
          readError, false, 0, false, 1);
    }

    static Expect retryable(int status, Outcome outcome, Duration eviction, boolean hint) {
      return new Expect(Kind.RETRYABLE_STATUS, status, outcome, eviction, hint, outcome, status, null, null, false, 0,
          true, 1); // a JSON {"error": ...} body, unless noErrorEvent()
    }

    static Expect beforeResponse(Outcome outcome, int hits) {
      return new Expect(Kind.BEFORE_RESPONSE, -1, outcome, BASE, false, outcome, -1, null, null, false, 0, false,
          hits);
    }

    Expect hits(int n) {
      return new Expect(kind, status, outcome, eviction, hint, evictCause, evictStatus, end, readError, reported,
          total, errorEvent, n);
    }

    Expect noErrorEvent() {
      return new Expect(kind, status, outcome, eviction, hint, evictCause, evictStatus, end, readError, reported,
          total, false, hits);
    }

    Expect withErrorEvent() {
      return new Expect(kind, status, outcome, eviction, hint, evictCause, evictStatus, end, readError, reported,
          total, true, hits);
    }

    Expect withUsage(long totalTokens) {
      return new Expect(kind, status, outcome, eviction, hint, evictCause, evictStatus, end, readError, true,
          totalTokens, errorEvent, hits);
    }
  }

  /**
   * @param serve the faulty server's answer, or null: nothing listens (connection refused)
   * @param stream whether the caller asks for a stream
   * @param slow the fault is a stall: attempts on the faulty provider get a short read timeout
   * @param failOnTruncated the pool's failOnTruncatedStream
   */
  record Fault(String name, Serve serve, boolean stream, boolean slow, boolean failOnTruncated, Expect expect) {
    @Override
    public String toString() {
      return name;
    }
  }

  // ------------------------------------------------------------------ bodies

  private static final String CHAT = Fixtures.text("openai-chat.json");
  private static final String CHAT_SSE = Fixtures.text("openai-chat-stream-usage.sse");
  private static final String RESPONSES_SSE = Fixtures.text("responses-stream.sse");
  private static final String CHAT_SSE_CUT = events(CHAT_SSE, 3); // content only: no finish_reason, no [DONE]
  private static final String RESPONSES_SSE_CUT = events(RESPONSES_SSE, 3); // no response.completed
  private static final String SSE_ERROR_EVENT = events(CHAT_SSE, 2)
      + "event: error\ndata: {\"error\":{\"message\":\"The server had an error while processing your request.\","
      + "\"type\":\"server_error\"}}\n\n";
  private static final String SSE_ERROR_THEN_DONE = events(CHAT_SSE, 2)
      + "data: {\"error\":{\"message\":\"The server had an error while processing your request.\","
      + "\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\ndata: [DONE]\n\n";
  private static final byte[] TEN_MB = tenMegabytes();

  /** The first {@code n} events of an SSE body. */
  private static String events(String sse, int n) {
    String[] parts = sse.split("\n\n");
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(parts[i]).append("\n\n");
    }
    return sb.toString();
  }

  private static byte[] tenMegabytes() {
    StringBuilder sb = new StringBuilder(10_500_000);
    sb.append("{\"id\":\"chatcmpl-big\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,")
        .append("\"message\":{\"role\":\"assistant\",\"content\":\"");
    String word = "lorem ipsum \\u00e9 ";
    while (sb.length() < 10_000_000) {
      sb.append(word);
    }
    sb.append("\"},\"finish_reason\":\"length\"}],")
        .append("\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2500000,\"total_tokens\":2500005}}");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The gzip of {@code text}; {@code cut}: only its first half. */
  private static Buffer gzip(String text, boolean cut) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(out)) {
      z.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    byte[] b = out.toByteArray();
    return new Buffer().write(cut ? Arrays.copyOf(b, b.length / 2) : b);
  }

  private static MockResponse json(int code, String body) {
    return new MockResponse.Builder().code(code).addHeader("content-type", "application/json").body(body).build();
  }

  private static MockResponse error(int code, String type) {
    return json(code, "{\"error\":{\"message\":\"fault " + code + "\",\"type\":\"" + type + "\",\"param\":null,"
        + "\"code\":\"" + type + "\"}}");
  }

  private static MockResponse sse(String body) {
    return new MockResponse.Builder().code(200).addHeader("content-type", "text/event-stream").body(body).build();
  }

  private static MockResponse.Builder rateLimited() {
    return new MockResponse.Builder().code(429).addHeader("content-type", "application/json")
        .body("{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}");
  }

  private static String httpDate(FakeTicker t, Duration ahead) {
    return DateTimeFormatter.RFC_1123_DATE_TIME.format(
        Instant.ofEpochMilli(t.wallMillis() + ahead.toMillis()).atZone(ZoneOffset.UTC));
  }

  // ------------------------------------------------------------------ the matrix

  private static Fault fault(String name, Serve serve, Expect expect) {
    return new Fault(name, serve, false, false, true, expect);
  }

  private static Fault streamFault(String name, Serve serve, Expect expect) {
    return new Fault(name, serve, true, false, true, expect);
  }

  static List<Fault> faults() {
    List<Fault> f = new ArrayList<>();
    // Answers the pool returns as is.
    f.add(fault("200 chat completion", t -> json(200, CHAT), Expect.ok(200, true, 80)));
    f.add(streamFault("200 chat stream", t -> sse(CHAT_SSE), Expect.ok(200, true, 21)));
    f.add(fault("400 bad request", t -> Fixtures.http("openai-400.http"), Expect.ok(400, false, 0)));
    // The pool signed the request with the provider's own key: a 401 means that key is bad.
    f.add(fault("401 invalid key on a signed request", t -> error(401, "invalid_api_key"),
        Expect.retryable(401, Outcome.UNAUTHORIZED, EvictionPolicy.DEFAULT_QUOTA_DURATION, false)));
    f.add(fault("404 model not found", t -> error(404, "model_not_found"), Expect.ok(404, false, 0)));
    f.add(fault("413 request too large", t -> error(413, "request_too_large"), Expect.ok(413, false, 0)));
    // Retryable statuses.
    f.add(fault("408 request timeout", t -> error(408, "timeout"),
        Expect.retryable(408, Outcome.SERVER_ERROR, BASE, false).hits(2))); // OkHttp repeats a 408 once itself
    f.add(fault("429 without retry headers", t -> rateLimited().build(),
        Expect.retryable(429, Outcome.RATE_LIMITED, BASE, false)));
    f.add(fault("429 retry-after: 3", t -> rateLimited().addHeader("retry-after", "3").build(),
        Expect.retryable(429, Outcome.RATE_LIMITED, Duration.ofSeconds(3), true)));
    f.add(fault("429 retry-after: HTTP date 7 s ahead",
        t -> rateLimited().addHeader("retry-after", httpDate(t, Duration.ofSeconds(7))).build(),
        Expect.retryable(429, Outcome.RATE_LIMITED, Duration.ofSeconds(7), true)));
    f.add(fault("429 retry-after-ms: 1500", t -> rateLimited().addHeader("retry-after-ms", "1500").build(),
        Expect.retryable(429, Outcome.RATE_LIMITED, Duration.ofMillis(1500), true)));
    f.add(fault("429 x-ratelimit-reset-requests: 1m30s, remaining 0",
        t -> rateLimited().addHeader("x-ratelimit-remaining-requests", "0")
            .addHeader("x-ratelimit-reset-requests", "1m30s").build(),
        Expect.retryable(429, Outcome.RATE_LIMITED, Duration.ofSeconds(90), true)));
    f.add(fault("429 x-ratelimit-reset-tokens: 45s, remaining 0",
        t -> rateLimited().addHeader("x-ratelimit-remaining-requests", "12")
            .addHeader("x-ratelimit-reset-requests", "2s").addHeader("x-ratelimit-remaining-tokens", "0")
            .addHeader("x-ratelimit-reset-tokens", "45s").build(),
        Expect.retryable(429, Outcome.RATE_LIMITED, Duration.ofSeconds(45), true)));
    f.add(fault("429 x-ratelimit-reset-requests with remaining 7 is no hint",
        t -> rateLimited().addHeader("x-ratelimit-remaining-requests", "7")
            .addHeader("x-ratelimit-reset-requests", "1m30s").build(),
        Expect.retryable(429, Outcome.RATE_LIMITED, BASE, false)));
    f.add(fault("429 OpenAI fixture: retry-after 2 beats reset 6m0s", t -> Fixtures.http("openai-429-rate-limit.http"),
        Expect.retryable(429, Outcome.RATE_LIMITED, Duration.ofSeconds(2), true)));
    f.add(fault("429 Azure fixture: retry-after-ms 1500 beats retry-after 2", t -> Fixtures.http("azure-429.http"),
        Expect.retryable(429, Outcome.RATE_LIMITED, Duration.ofMillis(1500), true)));
    f.add(fault("429 Gemini fixture: array body", t -> Fixtures.http("gemini-429.http"),
        Expect.retryable(429, Outcome.RATE_LIMITED, BASE, false)));
    f.add(fault("429 insufficient_quota", t -> Fixtures.http("openai-429-insufficient-quota.http"),
        Expect.retryable(429, Outcome.QUOTA_EXHAUSTED, EvictionPolicy.DEFAULT_QUOTA_DURATION, false)));
    f.add(fault("500", t -> error(500, "server_error"), Expect.retryable(500, Outcome.SERVER_ERROR, BASE, false)));
    f.add(fault("502 with an HTML body",
        t -> new MockResponse.Builder().code(502).addHeader("content-type", "text/html")
            .body("<html><body><h1>502 Bad Gateway</h1></body></html>").build(),
        Expect.retryable(502, Outcome.SERVER_ERROR, BASE, false).noErrorEvent()));
    f.add(fault("503", t -> error(503, "server_error"), Expect.retryable(503, Outcome.SERVER_ERROR, BASE, false)));
    f.add(fault("503 retry-after date a month ahead (capped)", t -> Fixtures.http("openai-503.http"),
        Expect.retryable(503, Outcome.SERVER_ERROR, EvictionPolicy.DEFAULT_MAX_DURATION, true)));
    f.add(fault("504", t -> error(504, "server_error"), Expect.retryable(504, Outcome.SERVER_ERROR, BASE, false)));
    f.add(fault("529 overloaded", t -> Fixtures.http("anthropic-529.http"),
        Expect.retryable(529, Outcome.SERVER_ERROR, BASE, false)));
    // Failures before a response.
    f.add(fault("connection refused", null, Expect.beforeResponse(Outcome.CONNECTION_FAILURE, 0)));
    f.add(fault("reset before headers",
        t -> new MockResponse.Builder().onResponseStart(new SocketEffect.CloseSocket()).build(),
        Expect.beforeResponse(Outcome.CONNECTION_FAILURE, -1))); // OkHttp may retry a reset on its own
    f.add(new Fault("read timeout before headers",
        t -> new MockResponse.Builder().headersDelay(1, TimeUnit.MINUTES).body(CHAT).build(), false, true, true,
        Expect.beforeResponse(Outcome.TIMEOUT, 1)));
    // The response arrived; its body fails.
    f.add(fault("reset mid-body (JSON)",
        t -> json(200, CHAT).newBuilder().onResponseBody(new SocketEffect.CloseSocket()).build(),
        Expect.bodyFault(TokenUsage.End.FAILED, IOException.class)));
    f.add(streamFault("reset mid-stream (SSE)",
        t -> sse(CHAT_SSE).newBuilder().onResponseBody(new SocketEffect.CloseSocket()).build(),
        Expect.bodyFault(TokenUsage.End.FAILED, IOException.class)));
    f.add(new Fault("headers then stall",
        t -> json(200, CHAT).newBuilder().bodyDelay(1, TimeUnit.MINUTES).build(), false, true, true,
        Expect.bodyFault(TokenUsage.End.FAILED, SocketTimeoutException.class)));
    f.add(new Fault("stream stalls mid-way",
        t -> sse(CHAT_SSE).newBuilder().onResponseBody(SocketEffect.Stall.INSTANCE).build(), true, true, true,
        Expect.bodyFault(TokenUsage.End.FAILED, SocketTimeoutException.class)));
    f.add(streamFault("truncated chat SSE (no [DONE], no finish_reason)", t -> sse(CHAT_SSE_CUT),
        Expect.bodyFault(TokenUsage.End.TRUNCATED, TruncatedStreamException.class)));
    f.add(new Fault("truncated chat SSE, failOnTruncatedStream(false)", t -> sse(CHAT_SSE_CUT), true, false, false,
        Expect.bodyFault(TokenUsage.End.TRUNCATED, null)));
    f.add(streamFault("truncated Responses SSE (no response.completed)", t -> sse(RESPONSES_SSE_CUT),
        Expect.bodyFault(TokenUsage.End.TRUNCATED, TruncatedStreamException.class)));
    f.add(new Fault("truncated Responses SSE, failOnTruncatedStream(false)", t -> sse(RESPONSES_SSE_CUT), true,
        false, false, Expect.bodyFault(TokenUsage.End.TRUNCATED, null)));
    f.add(streamFault("SSE error event, then end of stream", t -> sse(SSE_ERROR_EVENT),
        Expect.bodyFault(TokenUsage.End.TRUNCATED, TruncatedStreamException.class).withErrorEvent()));
    // Odd bodies that arrive whole.
    f.add(streamFault("SSE error object, then [DONE]", t -> sse(SSE_ERROR_THEN_DONE),
        Expect.ok(200, false, 0).withErrorEvent()));
    f.add(fault("malformed JSON",
        t -> json(200, "{\"id\":\"x\",\"model\":\"m\",\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":}}"),
        Expect.ok(200, false, 0)));
    f.add(fault("JSON cut short", t -> json(200, CHAT.substring(0, CHAT.length() / 2)), Expect.ok(200, false, 0)));
    f.add(fault("10 MB JSON body",
        t -> new MockResponse.Builder().addHeader("content-type", "application/json")
            .body(new Buffer().write(TEN_MB)).build(),
        Expect.ok(200, true, 2_500_005)));
    f.add(fault("body that is not JSON (text/html)",
        t -> new MockResponse.Builder().addHeader("content-type", "text/html").body("<html>hello</html>").build(),
        Expect.ok(200, false, 0)));
    f.add(fault("HTML body labelled application/json", t -> json(200, "<html>hello</html>"), Expect.ok(200, false, 0)));
    f.add(fault("no content type", t -> new MockResponse.Builder().body(CHAT).build(), Expect.ok(200, false, 0)));
    f.add(fault("gzip-encoded JSON (OkHttp decompresses below the pool)",
        t -> json(200, CHAT).newBuilder().addHeader("content-encoding", "gzip").body(gzip(CHAT, false)).build(),
        Expect.ok(200, true, 80)));
    f.add(fault("gzip body cut short",
        t -> json(200, CHAT).newBuilder().addHeader("content-encoding", "gzip").body(gzip(CHAT, true)).build(),
        Expect.bodyFault(TokenUsage.End.FAILED, IOException.class)));
    return f;
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (Fault f : faults()) {
      for (Strategy s : Strategy.values()) {
        for (Layout l : Layout.values()) {
          out.add(Arguments.of(f, s, l));
        }
      }
    }
    return out.stream();
  }

  @BeforeAll
  static void open() {
    leaks = new Leaks();
  }

  /**
   * OkHttp's own leak detection over every case's connection pool, once: a forced GC costs tens of
   * milliseconds, too much per case. Each case checks the GC-free signal ({@link Leaks#inUse}) and
   * that OkHttp logged no leak; this sweep then collects garbage and runs every pool's cleanup, so
   * a response any case dropped without closing is reported, with the case it came from.
   */
  @AfterAll
  static void sweepAndSummary() {
    List<String> found;
    try {
      leaks.sweep(SWEEP.stream().map(Map.Entry::getKey).toList());
      found = leaks.seenFor(PORTS.keySet());
      List<String> others = leaks.seen();
      others.removeAll(found);
      if (!others.isEmpty()) {
        System.out.println("FaultMatrixTest: OkHttp reported leaks from outside this class: " + others);
      }
    } finally {
      leaks.close();
    }
    assertEquals(List.of(), found.stream().map(m -> m + " <- " + caseOf(m)).toList(), "responses left open");
    System.out.println("FaultMatrixTest: " + CASES.get() + " cases run (" + faults().size() + " faults x "
        + Strategy.values().length + " strategies x " + Layout.values().length + " layouts), "
        + SECOND_REQUESTS.get() + " eviction follow-ups; nothing lost, nothing leaked");
  }

  // ------------------------------------------------------------------ the case

  /** What the caller saw. */
  record Seen(int status, byte[] body, IOException readError, IOException thrown, String shouldRetry) {}

  static Seen call(OkHttpClient client, Request request) {
    Response response;
    try {
      response = client.newCall(request).execute();
    } catch (IOException e) {
      return new Seen(-1, null, null, e, null);
    }
    try (response) {
      Buffer read = new Buffer();
      BufferedSource src = response.body().source();
      try {
        while (src.read(read, 8192) != -1) {
          // read everything
        }
      } catch (IOException e) {
        return new Seen(response.code(), read.readByteArray(), e, null, response.header("x-should-retry"));
      }
      return new Seen(response.code(), read.readByteArray(), null, null, response.header("x-should-retry"));
    }
  }

  private static String deadUrl() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    return "http://127.0.0.1:" + port + "/v1"; // nothing listens here any more
  }

  private static Request request(ProviderPool pool, boolean stream) {
    return Upstreams.post(pool, "chat/completions", stream
        ? "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
        : Upstreams.CHAT);
  }

  @ParameterizedTest(name = "{0} / {1} / {2}")
  @MethodSource("cases")
  @Order(2)
  void fault(Fault f, Strategy strategy, Layout layout) throws Exception {
    CASES.incrementAndGet();
    Expect e = f.expect();
    FakeTicker ticker = new FakeTicker();
    List<TokenUsage> usages = new CopyOnWriteArrayList<>();
    List<PoolEvent> events = new CopyOnWriteArrayList<>();
    try (Upstreams up = new Upstreams()) {
      MockWebServer faultyServer = f.serve() == null ? null : up.start(r -> f.serve().answer(ticker));
      String faultyUrl = faultyServer == null ? deadUrl() : Upstreams.baseUrl(faultyServer);
      ProviderPool.Builder b = ProviderPool.builder().strategy(strategy).ticker(ticker)
          .random(ScriptedRandom.seeded(7))
          .eviction(EvictionPolicy.builder().baseDuration(BASE).jitter(0).failureThreshold(1).build())
          .failOnTruncatedStream(f.failOnTruncated()).onUsage(usages::add).onEvent(events::add)
          .tier(Provider.builder("faulty").baseUrl(faultyUrl).apiKey("sk-faulty").build());
      MockWebServer healthy = null;
      if (layout == Layout.PAIR) {
        healthy = up.startChat();
        b.tier(Provider.builder("healthy").baseUrl(Upstreams.baseUrl(healthy)).apiKey("sk-healthy").build());
      } else {
        b.whenAllEvicted(AllEvictedPolicy.FAIL_FAST);
      }
      ProviderPool pool = b.build();
      // Only attempts on the faulty provider get the short read timeout of a stall fault: placed after
      // the pool's interceptor, this runs once per attempt, so the healthy provider keeps 10 s.
      int faultyPort = java.net.URI.create(faultyUrl).getPort();
      OkHttpClient client = up.client(pool).newBuilder().readTimeout(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS)
          .addInterceptor(chain -> f.slow() && chain.request().url().port() == faultyPort
              ? chain.withReadTimeout(SLOW_READ_TIMEOUT_MS, TimeUnit.MILLISECONDS).proceed(chain.request())
              : chain.proceed(chain.request()))
          .build();
      String name = f + " / " + strategy + " / " + layout;
      SWEEP.add(Map.entry(client.connectionPool(), name));
      if (faultyServer != null) {
        PORTS.put(faultyServer.getPort(), name);
      }
      if (healthy != null) {
        PORTS.put(healthy.getPort(), name);
      }

      Seen seen = call(client, request(pool, f.stream()));
      boolean failedOver = layout == Layout.PAIR && e.kind() != Kind.ANSWER;

      // What the caller got.
      switch (e.kind()) {
        case ANSWER -> {
          assertNull(seen.thrown(), () -> "thrown: " + seen.thrown());
          assertEquals(e.status(), seen.status());
          assertNull(seen.shouldRetry());
          if (e.readError() == null) {
            assertNull(seen.readError(), () -> "read failed: " + seen.readError());
            byte[] served = served(f, ticker);
            if (served != null) {
              assertTrue(Arrays.equals(served, seen.body()), "the caller read other bytes than were served");
            }
          } else {
            assertInstanceOf(e.readError(), seen.readError());
            assertFalse(seen.readError() instanceof LlmPoolException, seen.readError().toString());
            if (e.readError() == IOException.class) {
              assertFalse(seen.readError() instanceof TruncatedStreamException, seen.readError().toString());
            }
          }
        }
        case RETRYABLE_STATUS, BEFORE_RESPONSE -> {
          if (failedOver) {
            assertNull(seen.thrown(), () -> "thrown: " + seen.thrown());
            assertEquals(200, seen.status());
            assertEquals(CHAT, new String(seen.body(), StandardCharsets.UTF_8));
          } else if (e.kind() == Kind.RETRYABLE_STATUS) {
            assertNull(seen.thrown(), () -> "thrown: " + seen.thrown());
            assertEquals(e.status(), seen.status());
            assertEquals("false", seen.shouldRetry());
            assertNull(seen.readError());
          } else {
            AttemptsExhaustedException x = assertInstanceOf(AttemptsExhaustedException.class, seen.thrown());
            assertEquals(1, x.attempts().size(), x.attempts()::toString);
            Attempt a = x.attempts().get(0);
            assertEquals(List.of("faulty", 0, -1, e.outcome()), List.of(a.provider(), a.tier(), a.status(), a.outcome()));
            assertNotNull(a.error().orElseThrow());
            assertTrue(x.getMessage().contains("faulty (tier 0): " + a.error().orElseThrow()), x.getMessage());
            assertTrue(x.getMessage().contains("no untried provider is available"), x.getMessage());
            assertNotNull(x.getCause());
          }
        }
        default -> fail();
      }

      // Usage records: one per attempt that got a response, in order.
      List<String> expected = new ArrayList<>();
      if (e.kind() == Kind.ANSWER) {
        expected.add(record("faulty", 0, 1, e.status(), e.end(), e.reported(), e.total(), e.errorEvent()));
      } else if (e.kind() == Kind.RETRYABLE_STATUS) {
        expected.add(failedOver
            ? record("faulty", 0, 1, e.status(), TokenUsage.End.DISCARDED, false, 0, false) // not parsed
            : record("faulty", 0, 1, e.status(), TokenUsage.End.COMPLETE, false, 0, e.errorEvent()));
      }
      if (failedOver) {
        expected.add(record("healthy", 1, 2, 200, TokenUsage.End.COMPLETE, true, 80, false));
      }
      assertEquals(expected, usages.stream().map(FaultMatrixTest::record).toList());

      // Counters, in-flight, hits.
      ProviderSnapshot faulty = pool.snapshot().provider("faulty").orElseThrow();
      boolean bodyFailed = e.end() == TokenUsage.End.FAILED || e.end() == TokenUsage.End.TRUNCATED;
      long successes = e.kind() == Kind.ANSWER && e.status() < 300 && !bodyFailed ? 1 : 0;
      long clientErrors = e.kind() == Kind.ANSWER && e.status() >= 400 ? 1 : 0;
      assertEquals(List.of(1L, successes, 1 - successes - clientErrors, clientErrors, 0L),
          List.of(faulty.requests(), faulty.successes(), faulty.failures(), faulty.clientErrors(), faulty.inFlight()),
          "faulty: requests, successes, failures, client errors, in flight");
      consistent(pool, usages);
      if (faultyServer != null) {
        if (e.hits() >= 0) {
          assertEquals(e.hits(), up.count(faultyServer), "requests the faulty server received");
        } else {
          assertTrue(up.count(faultyServer) >= 1);
        }
      }
      if (healthy != null) {
        assertEquals(failedOver ? 1 : 0, up.count(healthy), "requests the healthy server received");
        ProviderSnapshot h = pool.snapshot().provider("healthy").orElseThrow();
        assertEquals(failedOver ? List.of(1L, 1L) : List.of(0L, 0L), List.of(h.requests(), h.successes()));
      }

      // Eviction: state, exact duration, one event.
      List<PoolEvent.Evicted> evictions = events.stream().filter(PoolEvent.Evicted.class::isInstance)
          .map(PoolEvent.Evicted.class::cast).toList();
      if (e.eviction() == null) {
        assertEquals(ProviderSnapshot.Status.AVAILABLE, faulty.status());
        assertEquals(Optional.empty(), faulty.evictedFor());
        assertEquals(List.of(), evictions);
      } else {
        assertEquals(ProviderSnapshot.Status.EVICTED, faulty.status());
        assertEquals(e.eviction(), faulty.evictedFor().orElseThrow());
        assertEquals(List.of(new PoolEvent.Evicted("faulty", 0, e.evictCause(), e.evictStatus(), e.eviction(), e.hint(), 1)),
            evictions);
      }
      if (healthy != null) {
        assertEquals(ProviderSnapshot.Status.AVAILABLE, pool.snapshot().provider("healthy").orElseThrow().status());
      }
      if (failedOver) {
        assertTrue(events.contains(new PoolEvent.FailedOver("healthy", 1, "faulty", 0, 2)), events::toString);
      }
      List<Integer> ports = new ArrayList<>();
      if (faultyServer != null) {
        ports.add(faultyServer.getPort());
      }
      if (healthy != null) {
        ports.add(healthy.getPort());
      }
      noLeak(client, ports);

      // The eviction is honoured by the next request.
      if (e.eviction() != null) {
        SECOND_REQUESTS.incrementAndGet();
        int faultyHits = faultyServer == null ? 0 : up.count(faultyServer);
        Seen next = call(client, request(pool, f.stream()));
        if (layout == Layout.PAIR) {
          assertEquals(200, next.status(), () -> "second request: " + next);
          assertEquals(failedOver ? 2 : 1, up.count(healthy));
          assertEquals(record("healthy", 1, 1, 200, TokenUsage.End.COMPLETE, true, 80, false),
              record(usages.get(usages.size() - 1)));
        } else {
          NoProviderAvailableException x = assertInstanceOf(NoProviderAvailableException.class, next.thrown());
          assertEquals(e.eviction(), x.earliestReturn());
          assertEquals(List.of(), x.attempts());
          assertTrue(x.getMessage().contains("faulty (tier 0) evicted for " + e.eviction().toMillis() + " ms more"),
              x.getMessage());
          assertEquals(expected.size(), usages.size());
        }
        assertEquals(faultyHits, faultyServer == null ? 0 : up.count(faultyServer), "an evicted provider was called");
        assertEquals(e.eviction(), pool.snapshot().provider("faulty").orElseThrow().evictedFor().orElseThrow());
        consistent(pool, usages);
        noLeak(client, ports);
      }
    }
  }

  /** The exact bytes served, for answers whose body is known here. */
  private static byte[] served(Fault f, FakeTicker ticker) {
    if (f.serve() == null) {
      return null;
    }
    MockResponse r = f.serve().answer(ticker);
    if (r.getBody() == null) {
      return null;
    }
    Buffer b = new Buffer();
    try {
      r.getBody().writeTo(b);
      if ("gzip".equals(r.getHeaders().get("content-encoding"))) { // the caller reads it decompressed
        return new java.util.zip.GZIPInputStream(b.inputStream()).readAllBytes();
      }
    } catch (IOException x) {
      throw new AssertionError(x);
    }
    return b.readByteArray();
  }

  static String record(String provider, int tier, int attempt, int status, TokenUsage.End end, boolean reported,
      long total, boolean errorEvent) {
    return provider + "/tier " + tier + "/attempt " + attempt + "/" + status + "/" + end + "/reported " + reported
        + "/total " + total + "/errorEvent " + errorEvent;
  }

  static String record(TokenUsage u) {
    return record(u.provider(), u.tier(), u.attempt(), u.status(), u.end(), u.reported(), u.totalTokens(),
        u.errorEvent());
  }

  /** Every provider: in-flight 0, requests = successes + failures + client errors, tokens = records' tokens. */
  static void consistent(ProviderPool pool, List<TokenUsage> usages) {
    for (ProviderSnapshot p : pool.snapshot().providers()) {
      assertEquals(0, p.inFlight(), p.name() + " in flight");
      assertEquals(p.requests(), p.successes() + p.failures() + p.clientErrors(), () -> p.name() + ": " + p);
      long tokens = usages.stream().filter(u -> u.provider().equals(p.name()) && u.reported())
          .mapToLong(TokenUsage::totalTokens).sum();
      assertEquals(tokens, p.totalTokens(), p.name() + " total tokens");
    }
    assertEquals(0, pool.snapshot().inFlight());
  }

  private static void noLeak(OkHttpClient client, List<Integer> ports) {
    assertEquals(0, Leaks.inUse(client.connectionPool()), "a connection still carries a call: a response is open");
    assertEquals(List.of(), leaks.seenFor(ports));
  }

  // ------------------------------------------------------------------ the detector's control case

  @Test
  @Order(1) // first: it clears the detector's messages when done
  void leakDetectorReportsAnAbandonedResponse() throws Exception {
    try (Upstreams up = new Upstreams()) {
      MockWebServer s = up.startChat();
      ProviderPool pool = ProviderPool.builder().tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build()).build();
      OkHttpClient client = up.client(pool);
      // A response closed without being read is no leak.
      client.newCall(Upstreams.chat(pool)).execute().close();
      assertEquals(0, Leaks.inUse(client.connectionPool()));
      leaks.detect(client.connectionPool(), 1);
      assertEquals(List.of(), leaks.seenFor(List.of(s.getPort())));
      // A response dropped without closing is.
      abandon(client, pool);
      assertEquals(1, Leaks.inUse(client.connectionPool()), "the abandoned call still holds its connection");
      for (int i = 0; i < 20 && leaks.seenFor(List.of(s.getPort())).isEmpty(); i++) {
        leaks.detect(client.connectionPool(), 1);
      }
      List<String> found = leaks.seenFor(List.of(s.getPort()));
      assertEquals(1, found.size(), found::toString);
      assertTrue(found.get(0).startsWith("A connection to http://127.0.0.1:" + s.getPort() + "/ was leaked."), found.get(0));
      assertEquals(0, Leaks.inUse(client.connectionPool()), "OkHttp released the leaked call");
      assertEquals(1, pool.snapshot().provider("p").orElseThrow().inFlight(),
          "the pool cannot know either: an unclosed body keeps its attempt in flight");
    } finally {
      leaks.clear(); // the matrix must not see this control case's leak
    }
  }

  private static void abandon(OkHttpClient client, ProviderPool pool) throws IOException {
    Response r = client.newCall(Upstreams.chat(pool)).execute();
    assertEquals(200, r.code()); // never closed
  }
}
