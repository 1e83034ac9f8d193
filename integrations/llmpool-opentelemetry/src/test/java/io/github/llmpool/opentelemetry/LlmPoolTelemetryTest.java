package io.github.llmpool.opentelemetry;

import static io.github.llmpool.opentelemetry.Otel.attr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.AttemptsExhaustedException;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.TruncatedStreamException;
import io.github.llmpool.telemetry.GenAiNaming;
import io.github.llmpool.telemetry.TelemetryValues;
import io.github.llmpool.testing.FakeLlmServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import mockwebserver3.MockResponse;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Real calls through a pool on loopback ({@link FakeLlmServer}), read back from a real
 * OpenTelemetry SDK's in-memory metric reader and span exporter.
 */
class LlmPoolTelemetryTest {
  static final List<Double> DURATION_BUCKETS = List.of(0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12,
      10.24, 20.48, 40.96, 81.92);
  static final List<Double> TOKEN_BUCKETS = List.of(1d, 4d, 16d, 64d, 256d, 1024d, 4096d, 16384d, 65536d, 262144d,
      1048576d, 4194304d, 16777216d, 67108864d);

  private final Otel otel = new Otel();
  private final List<FakeLlmServer> servers = new ArrayList<>();

  @AfterEach
  void close() {
    servers.forEach(FakeLlmServer::close);
    otel.close();
  }

  private FakeLlmServer server(String name) {
    FakeLlmServer s = FakeLlmServer.start(name);
    servers.add(s);
    return s;
  }

  private ProviderPool bind(ProviderPool.Builder b) {
    return LlmPoolTelemetry.builder(otel.sdk).spanKinds(SpanKinds.CLIENT).build().build(b);
  }

  /** Runs {@code call} inside the test's own span and returns that span's data. */
  private SpanData underTestSpan(IoRunnable call) throws IOException {
    Span parent = otel.sdk.getTracer("test").spanBuilder("test").startSpan();
    try (Scope ignored = parent.makeCurrent()) {
      call.run();
    } finally {
      parent.end();
    }
    return otel.span("test");
  }

  interface IoRunnable {
    void run() throws IOException;
  }

  private static MockResponse fixtureAnswer() {
    return new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .body(Calls.fixture("openai-chat.json")).build();
  }

  private static MockResponse streamAnswer() {
    return new MockResponse.Builder().code(200).addHeader("content-type", "text/event-stream")
        .body(Calls.fixture("openai-chat-stream-usage.sse")).build();
  }

  /**
   * A latency probe of the pool's own (P2cSettings.probes): counted in llmpool.latency_probes, not
   * in the callers' llmpool.attempts, its tokens in llmpool.tokens (it is billed), and no span (it
   * belongs to no caller's request). Each answer takes 50 ms on the pool's ticker, c's first 2 s
   * ({@code FakeLlmServer.latencyOn}); 10 s later c still looks slow and the next pick probes it.
   * The probe client's one thread says when the probe has ended.
   */
  @Test
  void aLatencyProbeIsCountedApartFromTheCallersAttemptsAndItsTokensAreCounted() throws Exception {
    io.github.llmpool.testing.ManualTicker ticker = new io.github.llmpool.testing.ManualTicker();
    Duration fast = Duration.ofMillis(50);
    FakeLlmServer a = server("a").answerWith(r -> streamAnswer()).latencyOn(ticker, fast);
    FakeLlmServer b = server("b").answerWith(r -> streamAnswer()).latencyOn(ticker, fast);
    FakeLlmServer c = server("c").answerWith(r -> streamAnswer()).latencyOn(ticker, Duration.ofSeconds(2));
    java.util.concurrent.ExecutorService probeThread = java.util.concurrent.Executors.newSingleThreadExecutor();
    OkHttpClient probeClient = new OkHttpClient.Builder().dispatcher(new okhttp3.Dispatcher(probeThread)).build();
    ProviderPool pool = bind(ProviderPool.builder().name("chat").ticker(ticker)
        .p2c(io.github.llmpool.P2cSettings.builder().probes(true).build()).probeClient(probeClient)
        .tier(a.provider().build(), b.provider().build(), c.provider().build()));
    OkHttpClient client = pool.newHttpClient();
    for (String only : List.of("a", "b", "c")) { // one caller's stream each, c's slow
      callOnly(pool, client, only);
    }
    c.latencyOn(ticker, fast);
    ticker.advance(Duration.ofMillis(10_100));
    callOnly(pool, client, "a"); // a and b measured again; c's last sample is 10 s old
    callOnly(pool, client, "b");
    otel.spans.reset();

    assertTrue(Calls.chat(client, pool, "gpt-4o-mini", true).startsWith("200 ")); // the pick that probes c
    probeThread.shutdown(); // the probe was handed to it during the call
    assertTrue(probeThread.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS), "the probe ended");

    assertEquals(2, c.requestCount(), "c: one caller's stream and the probe");
    assertEquals(1, otel.sum("llmpool.latency_probes", "provider", "c", "outcome", "success"));
    assertEquals(1, otel.sum("llmpool.attempts", "provider", "c"), "the callers' attempts do not count the probe");
    assertEquals(2 * 19, otel.sum("llmpool.tokens", "provider", "c", "type", "input"), "the fixture's 19, twice");
    assertTrue(otel.spans.getFinishedSpanItems().stream()
        .noneMatch(sp -> "c".equals(sp.getAttributes().get(AttributeKey.stringKey("llmpool.provider")))),
        "no span for the probe: " + otel.spans.getFinishedSpanItems());
  }

  private static void callOnly(ProviderPool pool, OkHttpClient client, String provider) throws IOException {
    for (String p : List.of("a", "b", "c")) {
      if (!p.equals(provider)) {
        pool.drain(p);
      }
    }
    assertTrue(Calls.chat(client, pool, "gpt-4o-mini", true).startsWith("200 "));
    pool.resumeAll();
  }

  @Test
  void eachBudgetExportsItsSpendLimitRemainingAndWhetherItIsSpentByNameScopeAndUnit() throws IOException {
    FakeLlmServer a = server("a").answerWith(r -> fixtureAnswer());
    io.github.llmpool.Price mini = io.github.llmpool.Price.builder("USD").input("0.15").cachedInput("0.075")
        .output("0.60").build();
    ProviderPool pool = bind(ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").price(mini).build())
        .budget(io.github.llmpool.Budget.builder("daily").amount("0.001", "USD").window(io.github.llmpool.Budget.Window.DAY)
            .provider("a").build())
        .budget(io.github.llmpool.Budget.builder("tokens").tokens(100).window(io.github.llmpool.Budget.Window.HOUR)
            .reservationCap(0).build()));
    Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false);
    otel.collect();
    String[] daily = {"pool", "chat", "budget", "daily", "scope", "provider", "unit", "USD"};
    String[] tokens = {"pool", "chat", "budget", "tokens", "scope", "pool", "unit", "tokens"};
    // openai-chat.json: 36.75 per 1M = 0.00003675 USD; 80 tokens
    assertEquals(0.00003675, otel.doubleSum("llmpool.budget.spent", daily), 1e-15);
    assertEquals(0.001, otel.doubleSum("llmpool.budget.limit", daily), 1e-15);
    assertEquals(0.00096325, otel.doubleSum("llmpool.budget.remaining", daily), 1e-15);
    assertEquals(0, otel.sum("llmpool.budget.exhausted", daily));
    assertEquals(80, otel.doubleSum("llmpool.budget.spent", tokens));
    assertEquals(100, otel.doubleSum("llmpool.budget.limit", tokens));
    assertEquals(20, otel.doubleSum("llmpool.budget.remaining", tokens));
    assertEquals(1, otel.sum("llmpool.budget.exhausted", tokens), "20 left is less than the smallest reservation");
    assertEquals(2, otel.points("llmpool.budget.remaining").size(), "one series per budget");
  }

  @Test
  void spendIsCountedPerProviderAndCurrencyAndUnpricedAttemptsAddNothing() throws IOException {
    FakeLlmServer a = server("a").answerWith(r -> fixtureAnswer());
    FakeLlmServer b = server("b").answerWith(r -> fixtureAnswer());
    io.github.llmpool.Price mini = io.github.llmpool.Price.builder("USD").input("0.15").cachedInput("0.075")
        .output("0.60").build();
    ProviderPool pool = bind(ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").price(mini).build())
        .tier(b.provider().build()));
    Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false);
    // openai-chat.json: (23-12) x 0.15 + 12 x 0.075 + 57 x 0.60 = 36.75 per 1M
    assertEquals(0.00003675, otel.doubleSum("llmpool.spend", "pool", "chat", "provider", "a", "currency", "USD"), 1e-12);
    assertEquals("{currency}", otel.metric("llmpool.spend").getUnit());
  }

  @Test
  void successRecordsTheGenAiMetricsAndARequestSpanUnderTheCallersSpan() throws IOException {
    FakeLlmServer a = server("a").answerWith(r -> fixtureAnswer());
    ProviderPool pool = bind(ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").build()));
    OkHttpClient client = pool.newHttpClient();

    SpanData test = underTestSpan(() -> assertTrue(Calls.chat(client, pool, "gpt-4o-mini", false).startsWith("200 ")));

    String port = Integer.toString(a.port());
    Map<String, String> genAi = Map.of("gen_ai.operation.name", "chat", "gen_ai.provider.name", "openai",
        "gen_ai.request.model", "gpt-4o-mini", "gen_ai.response.model", "gpt-4o-mini-2024-07-18",
        "server.address", "127.0.0.1", "server.port", port);
    MetricData duration = otel.metric("gen_ai.client.operation.duration");
    assertEquals("s", duration.getUnit());
    HistogramPointData d = otel.histogram("gen_ai.client.operation.duration");
    assertEquals(DURATION_BUCKETS, d.getBoundaries());
    assertEquals(1, d.getCount());
    Map<String, String> withError = new java.util.TreeMap<>(genAi);
    withError.put("error.type", "none");
    assertEquals(withError, Otel.asText(d.getAttributes()));

    MetricData usage = otel.metric("gen_ai.client.token.usage");
    assertEquals("{token}", usage.getUnit());
    HistogramPointData in = otel.histogram("gen_ai.client.token.usage", "gen_ai.token.type", "input");
    HistogramPointData out = otel.histogram("gen_ai.client.token.usage", "gen_ai.token.type", "output");
    assertEquals(TOKEN_BUCKETS, in.getBoundaries());
    assertEquals(1, in.getCount());
    assertEquals(23, in.getSum());
    assertEquals(57, out.getSum());
    Map<String, String> inAttrs = new java.util.TreeMap<>(genAi);
    inAttrs.put("gen_ai.token.type", "input");
    assertEquals(inAttrs, Otel.asText(in.getAttributes()));

    assertEquals(1, otel.sum("llmpool.attempts", "pool", "chat", "provider", "a", "tier", "0", "outcome", "success"));
    assertEquals(1, otel.sum("llmpool.requests", "pool", "chat", "model", "gpt-4o-mini", "outcome", "success"));
    assertEquals(23, otel.sum("llmpool.tokens", "provider", "a", "model", "gpt-4o-mini", "type", "input"));
    assertEquals(57, otel.sum("llmpool.tokens", "type", "output"));
    assertEquals(12, otel.sum("llmpool.tokens", "type", "cached"));
    assertEquals(40, otel.sum("llmpool.tokens", "type", "reasoning"));
    assertEquals("{token}", otel.metric("llmpool.tokens").getUnit());
    assertEquals(DURATION_BUCKETS, otel.histogram("llmpool.attempt.duration", "provider", "a").getBoundaries());
    assertEquals(1, otel.sum("llmpool.provider.state", "provider", "a", "state", "available"));
    assertEquals(0, otel.sum("llmpool.provider.state", "provider", "a", "state", "evicted"));
    assertEquals(0, otel.sum("llmpool.in_flight", "pool", "chat"));
    assertTrue(otel.find("gen_ai.client.operation.time_to_first_chunk").isEmpty(), "not a stream");
    assertTrue(otel.find("gen_ai.client.inference.duration").isEmpty(), "CURRENT names only");

    // The span tree: test -> request span -> one attempt span.
    assertEquals(3, otel.spans().size(), otel.spans().toString());
    List<SpanData> top = otel.childrenOf(test);
    assertEquals(1, top.size());
    SpanData request = top.get(0);
    assertEquals(test.getTraceId(), request.getTraceId());
    assertEquals("chat gpt-4o-mini", request.getName());
    assertEquals(SpanKind.CLIENT, request.getKind());
    assertEquals(StatusCode.UNSET, request.getStatus().getStatusCode());
    assertEquals("chat", attr(request, AttributeKey.stringKey("gen_ai.operation.name")));
    assertEquals("openai", attr(request, AttributeKey.stringKey("gen_ai.provider.name")));
    assertEquals("gpt-4o-mini", attr(request, AttributeKey.stringKey("gen_ai.request.model")));
    assertEquals("gpt-4o-mini-2024-07-18", attr(request, AttributeKey.stringKey("gen_ai.response.model")));
    assertEquals(23L, attr(request, AttributeKey.longKey("gen_ai.usage.input_tokens")));
    assertEquals(57L, attr(request, AttributeKey.longKey("gen_ai.usage.output_tokens")));
    assertEquals(12L, attr(request, AttributeKey.longKey("gen_ai.usage.cache_read.input_tokens")));
    assertEquals(40L, attr(request, AttributeKey.longKey("gen_ai.usage.reasoning.output_tokens")));
    assertEquals(false, attr(request, AttributeKey.booleanKey("gen_ai.request.stream")));
    assertEquals("chat", attr(request, AttributeKey.stringKey("llmpool.pool")));
    assertEquals(1L, attr(request, AttributeKey.longKey("llmpool.attempts")));
    assertEquals((long) a.port(), attr(request, AttributeKey.longKey("server.port")));
    assertNull(attr(request, AttributeKey.stringKey("error.type")));
    assertEquals("chatcmpl-abc123", attr(request, AttributeKey.stringKey("gen_ai.response.id")));
    assertEquals(List.of("stop"), attr(request, AttributeKey.stringArrayKey("gen_ai.response.finish_reasons")));

    List<SpanData> attempts = otel.childrenOf(request);
    assertEquals(1, attempts.size());
    SpanData attempt = attempts.get(0);
    assertEquals("chat gpt-4o-mini", attempt.getName());
    assertEquals(SpanKind.CLIENT, attempt.getKind());
    assertEquals("a", attr(attempt, AttributeKey.stringKey("llmpool.provider")));
    assertEquals(0L, attr(attempt, AttributeKey.longKey("llmpool.tier")));
    assertEquals(1L, attr(attempt, AttributeKey.longKey("llmpool.attempt")));
    assertEquals(200L, attr(attempt, AttributeKey.longKey("http.response.status_code")));
    assertEquals("success", attr(attempt, AttributeKey.stringKey("llmpool.outcome")));
    assertEquals("127.0.0.1", attr(attempt, AttributeKey.stringKey("server.address")));
    assertEquals(23L, attr(attempt, AttributeKey.longKey("gen_ai.usage.input_tokens")));
    assertNull(attr(attempt, AttributeKey.stringKey("llmpool.retry.reason")));
    assertEquals("chatcmpl-abc123", attr(attempt, AttributeKey.stringKey("gen_ai.response.id")));
    assertEquals(List.of("stop"), attr(attempt, AttributeKey.stringArrayKey("gen_ai.response.finish_reasons")));
    assertFalse(request.getStartEpochNanos() > attempt.getStartEpochNanos(), "the request span starts first");
    assertFalse(request.getEndEpochNanos() < attempt.getEndEpochNanos(), "and ends last");
    assertNoKeyIn(a.apiKey());
  }

  @Test
  void streamRecordsTimeToFirstChunkAndTimePerOutputChunk() throws IOException {
    FakeLlmServer a = server("a").reply("pool ok").usage(19, 2);
    ProviderPool pool = bind(ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").build()));

    SpanData test = underTestSpan(() -> Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", true));

    HistogramPointData ttfc = otel.histogram("gen_ai.client.operation.time_to_first_chunk");
    assertEquals(1, ttfc.getCount());
    assertEquals(DURATION_BUCKETS, ttfc.getBoundaries());
    assertEquals("s", otel.metric("gen_ai.client.operation.time_to_first_chunk").getUnit());
    assertEquals(Map.of("gen_ai.operation.name", "chat", "gen_ai.provider.name", "openai", "gen_ai.request.model",
        "gpt-4o-mini", "gen_ai.response.model", "gpt-4o-mini", "server.address", "127.0.0.1", "server.port",
        Integer.toString(a.port())), Otel.asText(ttfc.getAttributes()));
    HistogramPointData tpoc = otel.histogram("gen_ai.client.operation.time_per_output_chunk");
    assertEquals(1, tpoc.getCount());
    assertEquals(DURATION_BUCKETS, tpoc.getBoundaries());
    assertEquals(19, otel.histogram("gen_ai.client.token.usage", "gen_ai.token.type", "input").getSum());
    assertEquals(2, otel.histogram("gen_ai.client.token.usage", "gen_ai.token.type", "output").getSum());

    SpanData request = otel.childrenOf(test).get(0);
    assertEquals(true, attr(request, AttributeKey.booleanKey("gen_ai.request.stream")));
    assertEquals(19L, attr(request, AttributeKey.longKey("gen_ai.usage.input_tokens")));
    assertEquals(2L, attr(request, AttributeKey.longKey("gen_ai.usage.output_tokens")));
    assertEquals(StatusCode.UNSET, request.getStatus().getStatusCode());
    assertEquals(1, otel.childrenOf(request).size());
    SpanData attempt = otel.childrenOf(request).get(0);
    for (SpanData span : List.of(request, attempt)) { // every chunk carries the id; the last one the reason
      assertEquals("chatcmpl-a-1", attr(span, AttributeKey.stringKey("gen_ai.response.id")), span.getName());
      assertEquals(List.of("stop"), attr(span, AttributeKey.stringArrayKey("gen_ai.response.finish_reasons")));
    }
  }

  @Test
  void rateLimitedFirstTierFailsOverToTheNextTier() throws IOException {
    FakeLlmServer a = server("a").rateLimitNext(1, Duration.ofSeconds(30));
    FakeLlmServer b = server("b").usage(10, 3);
    ProviderPool pool = bind(ProviderPool.builder().name("chat")
        .tier(a.provider().model("gpt-4o-mini").build()).tier(b.provider().model("gpt-4o-mini").build()));

    SpanData test = underTestSpan(() -> assertTrue(
        Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false).startsWith("200 ")));

    assertEquals(1, otel.sum("llmpool.attempts", "provider", "a", "tier", "0", "outcome", "rate_limited"));
    assertEquals(1, otel.sum("llmpool.attempts", "provider", "b", "tier", "1", "outcome", "success"));
    assertEquals(1, otel.sum("llmpool.failovers", "provider", "b", "scope", "other_tier"));
    assertEquals(1, otel.sum("llmpool.retries", "provider", "a", "cause", "rate_limited"));
    assertEquals(1, otel.sum("llmpool.evictions", "provider", "a", "cause", "rate_limited"));
    assertEquals(1, otel.sum("llmpool.provider.state", "provider", "a", "state", "evicted"));
    assertEquals(1, otel.sum("llmpool.provider.state", "provider", "b", "state", "available"));
    HistogramPointData d = otel.histogram("gen_ai.client.operation.duration");
    assertEquals(1, d.getCount(), "one logical request");
    assertEquals(Integer.toString(b.port()), Otel.asText(d.getAttributes()).get("server.port"), "the serving provider");
    assertEquals("none", Otel.asText(d.getAttributes()).get("error.type"));
    assertEquals(1, otel.sum("llmpool.requests", "outcome", "success"));

    SpanData request = otel.childrenOf(test).get(0);
    assertEquals(StatusCode.UNSET, request.getStatus().getStatusCode());
    assertEquals(2L, attr(request, AttributeKey.longKey("llmpool.attempts")));
    assertEquals("b", attr(request, AttributeKey.stringKey("llmpool.provider")));
    assertEquals((long) b.port(), attr(request, AttributeKey.longKey("server.port")));
    assertEquals(10L, attr(request, AttributeKey.longKey("gen_ai.usage.input_tokens")));
    List<SpanData> attempts = otel.childrenOf(request);
    assertEquals(2, attempts.size());
    SpanData first = attempts.get(0);
    assertEquals("a", attr(first, AttributeKey.stringKey("llmpool.provider")));
    assertEquals(429L, attr(first, AttributeKey.longKey("http.response.status_code")));
    assertEquals("rate_limited", attr(first, AttributeKey.stringKey("llmpool.outcome")));
    assertEquals("429", attr(first, AttributeKey.stringKey("error.type")));
    assertEquals(StatusCode.ERROR, first.getStatus().getStatusCode());
    SpanData second = attempts.get(1);
    assertEquals("b", attr(second, AttributeKey.stringKey("llmpool.provider")));
    assertEquals(1L, attr(second, AttributeKey.longKey("llmpool.tier")));
    assertEquals(2L, attr(second, AttributeKey.longKey("llmpool.attempt")));
    assertEquals("rate_limited", attr(second, AttributeKey.stringKey("llmpool.retry.reason")));
    assertEquals("other_tier", attr(second, AttributeKey.stringKey("llmpool.failover")));
    assertEquals(StatusCode.UNSET, second.getStatus().getStatusCode());
    assertFalse(first.getEndEpochNanos() > second.getStartEpochNanos(), "attempts one after the other");
    // the 429 answer has no id or finish reason; the request span has the serving attempt's
    assertNull(attr(first, AttributeKey.stringKey("gen_ai.response.id")));
    assertNull(attr(first, AttributeKey.stringArrayKey("gen_ai.response.finish_reasons")));
    assertEquals("chatcmpl-b-1", attr(second, AttributeKey.stringKey("gen_ai.response.id")));
    assertEquals("chatcmpl-b-1", attr(request, AttributeKey.stringKey("gen_ai.response.id")));
    assertEquals(List.of("stop"), attr(request, AttributeKey.stringArrayKey("gen_ai.response.finish_reasons")));
    assertNoKeyIn(a.apiKey());
    assertNoKeyIn(b.apiKey());
  }

  @Test
  void deadProviderIsAConnectionFailureAndTheNextTierServes() throws IOException {
    FakeLlmServer a = server("a").down();
    FakeLlmServer b = server("b");
    ProviderPool pool = bind(ProviderPool.builder().name("chat")
        .tier(a.provider().model("gpt-4o-mini").build()).tier(b.provider().model("gpt-4o-mini").build()));

    SpanData test = underTestSpan(() -> Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false));

    assertEquals(1, otel.sum("llmpool.attempts", "provider", "a", "outcome", "connection_failure"));
    assertEquals(1, otel.sum("llmpool.attempts", "provider", "b", "outcome", "success"));
    SpanData request = otel.childrenOf(test).get(0);
    assertEquals(StatusCode.UNSET, request.getStatus().getStatusCode());
    List<SpanData> attempts = otel.childrenOf(request);
    assertEquals(2, attempts.size());
    assertEquals("connection_failure", attr(attempts.get(0), AttributeKey.stringKey("error.type")));
    assertNull(attr(attempts.get(0), AttributeKey.longKey("http.response.status_code")), "no response");
    assertEquals(StatusCode.ERROR, attempts.get(0).getStatus().getStatusCode());
    assertEquals("connection_failure", attr(attempts.get(1), AttributeKey.stringKey("llmpool.retry.reason")));
  }

  @Test
  void onlyProviderDeadEndsTheRequestSpanWithAnError() {
    FakeLlmServer a = server("a").down();
    ProviderPool pool = bind(ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").build()));

    assertThrows(AttemptsExhaustedException.class,
        () -> underTestSpan(() -> Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false)));

    SpanData test = otel.span("test");
    SpanData request = otel.childrenOf(test).get(0);
    assertEquals(StatusCode.ERROR, request.getStatus().getStatusCode());
    assertEquals("connection_failure", attr(request, AttributeKey.stringKey("error.type")));
    assertEquals("no_provider", attr(request, AttributeKey.stringKey("llmpool.stop")));
    assertEquals(1, otel.childrenOf(request).size());
    HistogramPointData d = otel.histogram("gen_ai.client.operation.duration");
    assertEquals("connection_failure", Otel.asText(d.getAttributes()).get("error.type"));
    assertEquals(1, otel.sum("llmpool.exhausted", "pool", "chat", "reason", "no_provider"));
    assertTrue(otel.find("gen_ai.client.token.usage").isEmpty(), "no tokens reported");
  }

  @Test
  void aDrainedPoolsRefusedCallHasARequestSpanWithNoAttemptAndIsCounted() {
    FakeLlmServer a = server("a").answerWith(r -> fixtureAnswer());
    ProviderPool pool = bind(ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").build()));
    pool.drainAll();

    assertThrows(io.github.llmpool.NoProviderAvailableException.class,
        () -> underTestSpan(() -> Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false)));

    SpanData test = otel.span("test");
    List<SpanData> children = otel.childrenOf(test);
    assertEquals(1, children.size(), otel.spans().toString());
    SpanData request = children.get(0);
    assertEquals(request, otel.requestSpan());
    assertEquals("chat gpt-4o-mini", request.getName());
    assertEquals(StatusCode.ERROR, request.getStatus().getStatusCode());
    assertEquals(TelemetryValues.REFUSED, attr(request, AttributeKey.stringKey("error.type")));
    assertEquals(TelemetryValues.REFUSED, attr(request, AttributeKey.stringKey("llmpool.outcome")));
    assertEquals("drained", attr(request, AttributeKey.stringKey("llmpool.stop")));
    assertEquals(0L, attr(request, AttributeKey.longKey("llmpool.attempts")));
    assertEquals(List.of(), otel.childrenOf(request), "no attempt span");
    assertEquals(0, a.requestCount());
    assertEquals(1, otel.sum("llmpool.requests", "pool", "chat", "model", "gpt-4o-mini", "outcome", "refused"));
    assertTrue(otel.find("llmpool.attempts").isEmpty(), "no attempt");
  }

  @Test
  void aCallCancelledRightAfterAFailedConnectionEndsItsRequestSpan() {
    FakeLlmServer dead = server("dead").down();
    FakeLlmServer b = server("b").answerWith(r -> fixtureAnswer());
    okhttp3.Call[] call = new okhttp3.Call[1];
    ProviderPool pool = bind(ProviderPool.builder().name("chat")
        .tier(dead.provider().model("gpt-4o-mini").build()).tier(b.provider().model("gpt-4o-mini").build())
        .onAttempt(new io.github.llmpool.spi.AttemptListener() {
          @Override
          public void onEnd(io.github.llmpool.spi.AttemptEnd e) {
            call[0].cancel(); // on the call's thread, between the failed attempt and the next
          }
        }));
    call[0] = pool.newHttpClient().newCall(Calls.request(pool, "gpt-4o-mini", false));

    assertThrows(IOException.class, () -> underTestSpan(() -> call[0].execute().close()));

    SpanData request = otel.requestSpan();
    assertEquals(otel.span("test").getSpanId(), request.getParentSpanId());
    assertEquals(TelemetryValues.CANCELLED, attr(request, AttributeKey.stringKey("error.type")));
    assertEquals(1L, attr(request, AttributeKey.longKey("llmpool.attempts")));
    assertEquals(1, otel.childrenOf(request).size(), "the failed attempt's span");
    assertEquals(0, b.requestCount(), "not failed over");
  }

  @Test
  void truncatedStreamIsAnErrorOfTheRequest() {
    String full = Calls.fixture("openai-chat-stream-usage.sse");
    String cut = full.substring(0, full.indexOf("data:", full.indexOf("data:") + 1)); // the first event only
    FakeLlmServer a = server("a").answerWith(r -> new MockResponse.Builder().code(200)
        .addHeader("content-type", "text/event-stream").body(cut).build());
    ProviderPool pool = bind(ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").build()));

    assertThrows(TruncatedStreamException.class,
        () -> underTestSpan(() -> Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", true)));

    HistogramPointData d = otel.histogram("gen_ai.client.operation.duration");
    assertEquals("truncated_stream", Otel.asText(d.getAttributes()).get("error.type"));
    assertEquals(1, otel.sum("llmpool.attempts", "provider", "a", "outcome", "truncated_stream"));
    assertEquals(1, otel.histogram("gen_ai.client.operation.time_to_first_chunk").getCount(), "a first chunk arrived");
    assertTrue(otel.find("gen_ai.client.operation.time_per_output_chunk").isEmpty());
    SpanData request = otel.childrenOf(otel.span("test")).get(0);
    assertEquals(StatusCode.ERROR, request.getStatus().getStatusCode());
    assertEquals("truncated_stream", attr(request, AttributeKey.stringKey("error.type")));
    assertEquals("truncated_stream", attr(otel.childrenOf(request).get(0), AttributeKey.stringKey("llmpool.outcome")));
  }

  @ParameterizedTest
  @EnumSource(GenAiNaming.class)
  void bothNamingsOverASuccessAndAStream(GenAiNaming naming) throws IOException {
    FakeLlmServer a = server("a").answerWith(r -> r.stream() ? streamAnswer() : fixtureAnswer());
    ProviderPool pool = LlmPoolTelemetry.builder(otel.sdk).naming(naming).build()
        .build(ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").build()));
    OkHttpClient client = pool.newHttpClient();
    Calls.chat(client, pool, "gpt-4o-mini", false);
    Calls.chat(client, pool, "gpt-4o-mini", true);

    boolean current = naming == GenAiNaming.CURRENT;
    String duration = current ? "gen_ai.client.operation.duration" : "gen_ai.client.inference.duration";
    String ttfc = current ? "gen_ai.client.operation.time_to_first_chunk" : "gen_ai.client.inference.time_to_first_chunk";
    String tpoc = current ? "gen_ai.client.operation.time_per_output_chunk"
        : "gen_ai.client.inference.time_per_output_chunk";
    assertEquals(2, otel.histogram(duration).getCount());
    assertEquals(DURATION_BUCKETS, otel.histogram(duration).getBoundaries());
    assertEquals(1, otel.histogram(ttfc).getCount());
    assertEquals(1, otel.histogram(tpoc).getCount());
    List<String> other = current
        ? List.of("gen_ai.client.inference.duration", "gen_ai.client.inference.operation.input_tokens",
            "gen_ai.client.inference.usage.input_tokens")
        : List.of("gen_ai.client.operation.duration", "gen_ai.client.token.usage",
            "gen_ai.client.operation.time_to_first_chunk");
    for (String name : other) {
      assertTrue(otel.find(name).isEmpty(), name + " under " + naming);
    }
    if (current) {
      HistogramPointData in = otel.histogram("gen_ai.client.token.usage", "gen_ai.token.type", "input");
      assertEquals(2, in.getCount());
      assertEquals(23 + 19, in.getSum());
      assertEquals(TOKEN_BUCKETS, in.getBoundaries());
    } else {
      HistogramPointData in = otel.histogram("gen_ai.client.inference.operation.input_tokens");
      assertEquals(2, in.getCount());
      assertEquals(23 + 19, in.getSum());
      assertEquals(TOKEN_BUCKETS, in.getBoundaries());
      assertEquals(TOKEN_BUCKETS, otel.histogram("gen_ai.client.inference.operation.output_tokens").getBoundaries());
      assertEquals(57 + 2, otel.histogram("gen_ai.client.inference.operation.output_tokens").getSum());
      assertEquals("{token}", otel.metric("gen_ai.client.inference.usage.input_tokens").getUnit());
      assertEquals(23 + 19, otel.sum("gen_ai.client.inference.usage.input_tokens", "gen_ai.token.modality", "text"));
      assertEquals(57 + 2, otel.sum("gen_ai.client.inference.usage.output_tokens", "gen_ai.token.modality", "text"));
      assertEquals(12, otel.sum("gen_ai.client.inference.usage.cache_read.input_tokens"));
      assertEquals(40, otel.sum("gen_ai.client.inference.usage.reasoning.output_tokens"));
    }
  }

  @ParameterizedTest
  @EnumSource(GenAiNaming.class)
  void failuresUnderBothNamings(GenAiNaming naming) {
    FakeLlmServer a = server("a").down();
    ProviderPool pool = LlmPoolTelemetry.builder(otel.sdk).naming(naming).build()
        .build(ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").build()));
    assertThrows(AttemptsExhaustedException.class, () -> Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false));
    String duration = naming == GenAiNaming.CURRENT ? "gen_ai.client.operation.duration"
        : "gen_ai.client.inference.duration";
    HistogramPointData d = otel.histogram(duration);
    assertEquals(DURATION_BUCKETS, d.getBoundaries());
    assertEquals("connection_failure", Otel.asText(d.getAttributes()).get("error.type"));
    assertEquals(Integer.toString(a.port()), Otel.asText(d.getAttributes()).get("server.port"));
  }

  @Test
  void modelNamesComeFromConfigurationNeverFromTheRequest() throws IOException {
    FakeLlmServer a = server("a");
    ProviderPool pool = LlmPoolTelemetry.builder(otel.sdk).models("gpt-4o").build()
        .build(ProviderPool.builder().name("chat").tier(a.provider().build()));
    OkHttpClient client = pool.newHttpClient();
    Calls.chat(client, pool, "gpt-4o", false);
    Calls.chat(client, pool, "my-secret-prompt-as-model", false);

    assertEquals(1, otel.histogram("gen_ai.client.operation.duration", "gen_ai.request.model", "gpt-4o").getCount());
    assertEquals(1, otel.histogram("gen_ai.client.operation.duration", "gen_ai.request.model", "other").getCount());
    assertEquals(List.of("chat gpt-4o", "chat gpt-4o", "chat other", "chat other"),
        otel.spans().stream().map(SpanData::getName).sorted().toList());
    assertNoTextIn("my-secret-prompt-as-model");
  }

  @Test
  void metricsOrTracesCanBeTurnedOff() throws IOException {
    FakeLlmServer a = server("a");
    ProviderPool noTraces = LlmPoolTelemetry.builder(otel.sdk).traces(false).build()
        .build(ProviderPool.builder().name("m").tier(a.provider().model("gpt-4o-mini").build()));
    Calls.chat(noTraces.newHttpClient(), noTraces, "gpt-4o-mini", false);
    assertTrue(otel.spans().isEmpty());
    assertEquals(1, otel.histogram("gen_ai.client.operation.duration").getCount());

    Otel other = new Otel();
    try (other) {
      ProviderPool noMetrics = LlmPoolTelemetry.builder(other.sdk).metrics(false).build()
          .build(ProviderPool.builder().name("t").tier(a.provider().model("gpt-4o-mini").build()));
      Calls.chat(noMetrics.newHttpClient(), noMetrics, "gpt-4o-mini", false);
      assertEquals(2, other.spans().size());
      assertTrue(other.collect().isEmpty(), other.metrics().toString());
    }
  }

  @Test
  void spanKindsInternalAndAuto() throws IOException {
    FakeLlmServer a = server("a");
    ProviderPool pool = LlmPoolTelemetry.builder(otel.sdk).spanKinds(SpanKinds.INTERNAL).build()
        .build(ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").build()));
    Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false);
    assertEquals(List.of(SpanKind.INTERNAL, SpanKind.INTERNAL), otel.spans().stream().map(SpanData::getKind).toList());

    // No agent on this JVM: AUTO is CLIENT. With the agent's marker class loadable, it is INTERNAL.
    assertFalse(LlmPoolTelemetry.agentAttached(LlmPoolTelemetry.AGENT_CLASS));
    assertEquals(SpanKind.CLIENT, LlmPoolTelemetry.builder(otel.sdk).build().spanKind());
    assertTrue(LlmPoolTelemetry.agentAttached(LlmPoolTelemetryTest.class.getName()), "the check sees a loadable class");
    assertEquals(SpanKind.INTERNAL, LlmPoolTelemetry.spanKind(SpanKinds.AUTO, true));
    assertEquals(SpanKind.CLIENT, LlmPoolTelemetry.spanKind(SpanKinds.CLIENT, true));
    assertEquals(SpanKind.CLIENT, LlmPoolTelemetry.spanKind(SpanKinds.AUTO, false));
  }

  @Test
  void onePoolBoundToMicrometerAndOpenTelemetryRecordsTheSameRequest() throws IOException {
    FakeLlmServer a = server("a").usage(7, 3);
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    ProviderPool pool = LlmPoolTelemetry.builder(otel.sdk).build().build(
        ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").build()),
        b -> io.github.llmpool.micrometer.LlmPoolMetrics.bind(b, registry));
    Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false);

    HistogramPointData otelDuration = otel.histogram("gen_ai.client.operation.duration");
    io.micrometer.core.instrument.Timer mmDuration = registry.get("gen_ai.client.operation.duration").timer();
    assertEquals(1, otelDuration.getCount());
    assertEquals(1, mmDuration.count());
    for (io.micrometer.core.instrument.Tag t : mmDuration.getId().getTags()) {
      assertEquals(t.getValue(), Otel.asText(otelDuration.getAttributes()).get(t.getKey()), t.getKey());
    }
    assertEquals(mmDuration.getId().getTags().size(), otelDuration.getAttributes().size(), "the same attributes");
    assertEquals(7, otel.histogram("gen_ai.client.token.usage", "gen_ai.token.type", "input").getSum());
    assertEquals(7, registry.get("gen_ai.client.token.usage").tag("gen_ai.token.type", "input").summary().totalAmount());
    assertEquals(1, registry.get("llmpool.attempts").tag("provider", "a").counter().count());
    assertEquals(1, otel.sum("llmpool.attempts", "provider", "a"));
    assertEquals(2, otel.spans().size());
    assertThrows(NullPointerException.class, () -> LlmPoolTelemetry.builder(otel.sdk).build()
        .build(ProviderPool.builder().tier(a.provider().build()), b -> null));
  }

  @Test
  void badSettingsAreNamed() {
    LlmPoolTelemetry.Builder b = LlmPoolTelemetry.builder(otel.sdk);
    assertEquals("operation must not be blank but was ' '",
        assertThrows(IllegalArgumentException.class, () -> b.operation(" ")).getMessage());
    assertEquals("model must not be blank but was ''",
        assertThrows(IllegalArgumentException.class, () -> b.models("")).getMessage());
    assertThrows(NullPointerException.class, () -> LlmPoolTelemetry.builder(null));
    assertTrue(b.build().toString().contains("naming=CURRENT"));
  }

  private void assertNoKeyIn(String key) {
    assertNoTextIn(key);
  }

  /** No span attribute, span name or metric attribute holds {@code text}. */
  private void assertNoTextIn(String text) {
    for (SpanData s : otel.spans()) {
      assertFalse(s.getName().contains(text), s.getName());
      s.getAttributes().forEach((k, v) -> assertFalse(String.valueOf(v).contains(text), k + "=" + v));
    }
    for (MetricData m : otel.metrics()) {
      m.getData().getPoints().forEach(p -> p.getAttributes().forEach(
          (k, v) -> assertFalse(String.valueOf(v).contains(text), m.getName() + " " + k + "=" + v)));
    }
  }

  /** TelemetryValues is the single source of the buckets asserted here. */
  @Test
  void bucketsAreTheSharedOnes() {
    assertEquals(DURATION_BUCKETS, TelemetryValues.DURATION_BUCKETS);
    assertEquals(TOKEN_BUCKETS, TelemetryValues.TOKEN_BUCKETS);
  }
}
