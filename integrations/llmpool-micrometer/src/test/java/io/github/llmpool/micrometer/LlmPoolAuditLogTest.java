package io.github.llmpool.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.AttemptsExhaustedException;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.TruncatedStreamException;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.WireFixtures;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import mockwebserver3.MockResponse;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** One audit line per logical request, with the documented fields, and never a key or a body. */
class LlmPoolAuditLogTest {
  /** Durations vary: the line is compared with them replaced. */
  private static final Pattern MILLIS = Pattern.compile("(duration_ms|ttft_ms)=\\d+\\.\\d{3}");

  private final List<FakeLlmServer> upstreams = new ArrayList<>();

  @AfterEach
  void close() {
    upstreams.forEach(FakeLlmServer::close);
  }

  private FakeLlmServer up(FakeLlmServer u) {
    upstreams.add(u);
    return u;
  }

  static String masked(String line) {
    return MILLIS.matcher(line).replaceAll("$1=X");
  }

  @Test
  void failoverAcrossTiersIsOneLineNamingEveryAttempt() throws IOException {
    FakeLlmServer limited = up(FakeLlmServer.start("limited")
        .answerWith(r -> WireFixtures.response("openai-429-rate-limit.http").build()));
    FakeLlmServer b = up(FakeLlmServer.start("b").answerWith(r -> WireFixtures.response("openai-chat.json").build()));
    CapturingLogger log = new CapturingLogger("llmpool.audit", Level.INFO);
    ProviderPool pool = LlmPoolAuditLog.configure(ProviderPool.builder().name("chat")
        .tier(limited.provider().model("gpt-4o-mini").build()).tier(b.provider().build()), log).build();

    Calls.Result r = Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false);
    assertEquals(200, r.status());

    assertEquals(1, log.lines.size(), log.lines.toString());
    String line = log.lines.get(0);
    assertEquals("INFO pool=chat model=\"gpt-4o-mini\" served=\"gpt-4o-mini-2024-07-18\" outcome=success status=200"
        + " error=none stream=false attempts=2 providers=limited:429:rate_limited,b:200:success tiers=0,1"
        + " tokens_in=23 tokens_out=57 tokens_cached=12 tokens_reasoning=40 duration_ms=X ttft_ms=X body=complete"
        + " id=\"chatcmpl-abc123\" finish=\"stop\" cost=- currency=- cost_status=unpriced",
        masked(line));
    assertFalse(line.contains(limited.apiKey()) || line.contains(b.apiKey()), "no key");
    assertFalse(line.contains("agentgateway works"), "no response body");
    assertFalse(line.contains("hello"), "no request body");
  }

  @Test
  void aPricedRequestPrintsTheSumOfItsAttemptsCosts() throws IOException {
    FakeLlmServer limited = up(FakeLlmServer.start("limited")
        .answerWith(r -> WireFixtures.response("openai-429-rate-limit.http").build()));
    FakeLlmServer b = up(FakeLlmServer.start("b").answerWith(r -> WireFixtures.response("openai-chat.json").build()));
    io.github.llmpool.Price mini = io.github.llmpool.Price.builder("USD").input("0.15").cachedInput("0.075")
        .output("0.60").build();
    CapturingLogger log = new CapturingLogger("llmpool.audit", Level.INFO);
    ProviderPool pool = LlmPoolAuditLog.configure(ProviderPool.builder().name("chat")
        .tier(limited.provider().price(mini).build()).tier(b.provider().price(mini).build()), log).build();
    Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false);
    // the 429 costs 0 (exact), the answer (23-12) x 0.15 + 12 x 0.075 + 57 x 0.60 = 36.75 per 1M
    assertTrue(log.lines.get(0).endsWith(" finish=\"stop\" cost=0.00003675 currency=USD cost_status=exact"),
        log.lines.get(0));
  }

  @Test
  void streamTruncatedStreamAndExhaustionAreAudited() throws IOException {
    FakeLlmServer s = up(FakeLlmServer.start("s")
        .answerWith(r -> WireFixtures.response("openai-chat-stream-usage.sse").build()));
    String full = WireFixtures.text("openai-chat-stream-usage.sse");
    String cut = full.substring(0, full.indexOf("data:", full.indexOf("data:") + 1));
    FakeLlmServer t = up(FakeLlmServer.start("t").answerWith(r -> new MockResponse.Builder().code(200)
        .addHeader("content-type", "text/event-stream").body(cut).build()));
    FakeLlmServer dead = FakeLlmServer.start("dead").down();
    CapturingLogger log = new CapturingLogger("llmpool.audit", Level.INFO);
    ProviderPool stream = LlmPoolAuditLog.configure(ProviderPool.builder().name("stream").tier(s.provider().build()), log)
        .build();
    ProviderPool truncated = LlmPoolAuditLog.configure(ProviderPool.builder().name("cut").tier(t.provider().build()), log)
        .build();
    ProviderPool gone = LlmPoolAuditLog.configure(ProviderPool.builder().name("gone").tier(dead.provider().build()), log)
        .build();

    Calls.chat(stream.newHttpClient(), stream, "gpt-4o-mini", true);
    assertThrows(TruncatedStreamException.class, () -> Calls.chat(truncated.newHttpClient(), truncated, "m", true));
    assertThrows(AttemptsExhaustedException.class, () -> Calls.chat(gone.newHttpClient(), gone, "m", false));

    assertEquals(List.of(
        "INFO pool=stream model=\"gpt-4o-mini\" served=\"gpt-4o-mini-2024-07-18\" outcome=success status=200 error=none"
            + " stream=true attempts=1 providers=s:200:success tiers=0 tokens_in=19 tokens_out=2 tokens_cached=0"
            + " tokens_reasoning=0 duration_ms=X ttft_ms=X body=complete id=\"chatcmpl-1\" finish=\"stop\" cost=- currency=- cost_status=unpriced",
        "INFO pool=cut model=\"m\" served=\"gpt-4o-mini-2024-07-18\" outcome=truncated_stream status=200 error=truncated_stream stream=true"
            + " attempts=1 providers=t:200:truncated_stream tiers=0 tokens_in=- tokens_out=- tokens_cached=-"
            + " tokens_reasoning=- duration_ms=X ttft_ms=X body=truncated id=\"chatcmpl-1\" finish=- cost=- currency=- cost_status=unpriced",
        "INFO pool=gone model=\"m\" served=- outcome=connection_failure status=- error=connection_failure stream=false"
            + " attempts=1 providers=dead:-:connection_failure tiers=0 tokens_in=- tokens_out=- tokens_cached=-"
            + " tokens_reasoning=- duration_ms=X ttft_ms=- body=- id=- finish=- cost=- currency=- cost_status=unpriced stop=no_provider"),
        log.lines.stream().map(LlmPoolAuditLogTest::masked).toList());
  }

  @Test
  void aDrainedPoolsRefusedCallIsOneLineWithNoAttempt() {
    FakeLlmServer b = up(FakeLlmServer.start("b").answerWith(r -> WireFixtures.response("openai-chat.json").build()));
    CapturingLogger log = new CapturingLogger("llmpool.audit", Level.INFO);
    ProviderPool pool = LlmPoolAuditLog.configure(ProviderPool.builder().name("chat").tier(b.provider().build()), log)
        .build();
    pool.drainAll();

    assertThrows(io.github.llmpool.NoProviderAvailableException.class,
        () -> Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false));

    assertEquals(List.of("INFO pool=chat model=\"gpt-4o-mini\" served=- outcome=refused status=- error=refused"
        + " stream=false attempts=0 providers= tiers= tokens_in=- tokens_out=- tokens_cached=- tokens_reasoning=-"
        + " duration_ms=X ttft_ms=- body=- id=- finish=- cost=- currency=- cost_status=- stop=drained"), log.lines.stream().map(LlmPoolAuditLogTest::masked).toList());
    assertFalse(log.lines.get(0).contains(b.apiKey()), "no key");
  }

  @Test
  void theCallersModelTextIsQuotedEscapedAndCut() throws IOException {
    FakeLlmServer b = up(FakeLlmServer.start("b").answerWith(r -> WireFixtures.response("openai-chat.json").build()));
    CapturingLogger log = new CapturingLogger("llmpool.audit", Level.INFO);
    ProviderPool pool = LlmPoolAuditLog.configure(ProviderPool.builder().tier(b.provider().build()), log).build();

    Calls.chat(pool.newHttpClient(), pool, "x\\\\\\\" key=sk\\\\nfake=1" + "y".repeat(200), false);

    String line = log.lines.get(0);
    assertTrue(line.startsWith("INFO pool=default model=\"x\\\\\\\" key=sk\\\\nfake=1yyy"), line);
    assertTrue(line.contains("y...\" served="), line);
    assertFalse(line.contains("\n"), "one line");
    assertEquals(1, line.split(" served=").length - 1);
  }

  @Test
  void nothingIsBuiltWhileTheLoggerIsOff() throws IOException {
    FakeLlmServer b = up(FakeLlmServer.start("b").answerWith(r -> WireFixtures.response("openai-chat.json").build()));
    CapturingLogger log = new CapturingLogger("llmpool.audit", Level.WARN);
    ProviderPool pool = LlmPoolAuditLog.configure(ProviderPool.builder().tier(b.provider().build()), log).build();
    OkHttpClient client = pool.newHttpClient();
    Calls.chat(client, pool, "gpt-4o-mini", false);
    assertEquals(List.of(), log.lines);
  }

  @Test
  void metricsBindingWritesTheAuditLogFromTheSameHooks() throws IOException {
    FakeLlmServer b = up(FakeLlmServer.start("b").answerWith(r -> WireFixtures.response("openai-chat.json").build()));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    // The default logger, llmpool.audit, through slf4j-simple on the test class path: the line is written
    // (slf4j-simple prints at INFO for this logger: see simplelogger.properties) and the metrics are recorded.
    ProviderPool pool = LlmPoolMetrics.builder(registry).auditLog(true).build()
        .build(ProviderPool.builder().name("both").tier(b.provider().build()));
    Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false);
    assertEquals(1, registry.get("llmpool.requests").tag("pool", "both").counter().count());
    assertTrue(org.slf4j.LoggerFactory.getLogger(LlmPoolAuditLog.DEFAULT_LOGGER_NAME).isInfoEnabled());
  }

  @Test
  void auditLineFormatsMillisecondsWithThreeDecimals() {
    StringBuilder b = new StringBuilder();
    AuditSink.quoted(b, null);
    assertEquals("-", b.toString());
    io.github.llmpool.telemetry.TrackedRequest r = io.github.llmpool.telemetry.TrackedRequest.of(
        io.github.llmpool.spi.AttemptStart.builder().pool("p").provider("a").build(), true);
    io.github.llmpool.spi.AttemptStart s = io.github.llmpool.spi.AttemptStart.builder().pool("p").provider("a").build();
    r.started(s);
    io.github.llmpool.spi.AttemptEnd e = io.github.llmpool.spi.AttemptEnd.builder(s)
        .outcome(io.github.llmpool.Outcome.SUCCESS).status(200).duration(java.time.Duration.ofNanos(1_002_003_004L))
        .build();
    r.ended(s, e, null);
    assertTrue(AuditSink.line(r, e).contains(" duration_ms=1002.003 "), AuditSink.line(r, e));
  }
}
