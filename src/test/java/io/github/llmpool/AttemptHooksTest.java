package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptListener;
import io.github.llmpool.spi.AttemptStart;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Attempt hooks at the public API, against loopback servers: one start and one end per attempt. */
class AttemptHooksTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();
  private final Recorder hooks = new Recorder();

  @AfterEach
  void close() {
    up.close();
  }

  /** Records every call in order: "start a#1", "end a#1". */
  static final class Recorder implements AttemptListener {
    final List<String> calls = new CopyOnWriteArrayList<>();
    final List<AttemptStart> starts = new CopyOnWriteArrayList<>();
    final List<AttemptEnd> ends = new CopyOnWriteArrayList<>();

    @Override
    public void onStart(AttemptStart s) {
      calls.add("start " + s.provider() + "#" + s.attempt());
      starts.add(s);
    }

    @Override
    public void onEnd(AttemptEnd e) {
      calls.add("end " + e.start().provider() + "#" + e.start().attempt());
      ends.add(e);
    }
  }

  private static Provider provider(String name, MockWebServer s) {
    return Provider.builder(name).baseUrl(Upstreams.baseUrl(s)).build();
  }

  private ProviderPool.Builder pool() {
    return ProviderPool.builder().name("chat").ticker(ticker).strategy(Strategy.ROUND_ROBIN).onAttempt(hooks);
  }

  @Test
  void aSuccessfulAttemptStartsAndEndsOnce() throws Exception {
    MockWebServer a = up.start(r -> {
      ticker.advance(Duration.ofMillis(250)); // the headers take 250 ms of pool time
      return Fixtures.json("openai-chat.json");
    });
    ProviderPool pool = pool().tier(provider("a", a)).build();
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    assertEquals(List.of("start a#1", "end a#1"), hooks.calls);
    AttemptStart s = hooks.starts.get(0);
    assertEquals("chat", s.pool());
    assertEquals("a", s.provider());
    assertEquals(0, s.tier());
    assertEquals(1, s.attempt());
    assertFalse(s.probe());
    assertEquals(Optional.of("gpt-4o-mini"), s.requestedModel());
    assertFalse(s.streaming());
    AttemptEnd e = hooks.ends.get(0);
    assertSame(s, e.start(), "the very start value, to key a span");
    assertEquals(Optional.of(Outcome.SUCCESS), e.outcome());
    assertEquals(OptionalInt.of(200), e.status());
    assertEquals(Optional.of(TokenUsage.End.COMPLETE), e.bodyEnd());
    assertEquals(Optional.of(Duration.ofMillis(250)), e.timeToHeaders());
    assertEquals(Optional.of(Duration.ofMillis(250)), e.timeToFirstToken());
    assertEquals(Duration.ofMillis(250), e.duration());
    assertEquals("AttemptStart{pool=chat, request=1, provider=a, tier=0, attempt=1}", s.toString());
    assertEquals("AttemptEnd{AttemptStart{pool=chat, request=1, provider=a, tier=0, attempt=1}, outcome=SUCCESS, status=200,"
        + " duration=PT0.25S, body=COMPLETE}", e.toString());
  }

  @Test
  void aFailoverShowsEachAttemptInOrder() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    MockWebServer b = up.startChat();
    ProviderPool pool = pool().tier(provider("a", a)).tier(provider("b", b)).build();
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    // a's response is discarded (its attempt ends) before b is dispatched
    assertEquals(List.of("start a#1", "end a#1", "start b#2", "end b#2"), hooks.calls);
    AttemptEnd first = hooks.ends.get(0);
    assertEquals(Optional.of(Outcome.RATE_LIMITED), first.outcome());
    assertEquals(OptionalInt.of(429), first.status());
    assertEquals(Optional.of(TokenUsage.End.DISCARDED), first.bodyEnd());
    AttemptStart second = hooks.starts.get(1);
    assertEquals(1, second.tier());
    assertEquals(2, second.attempt());
    assertEquals(Optional.of(Outcome.SUCCESS), hooks.ends.get(1).outcome());

    // After a's eviction ends (the delay its server named), the next request goes to it, not as a probe.
    ticker.advance(Duration.ofSeconds(3));
    Upstreams.call(up.client(pool), Upstreams.chat(pool));
    assertTrue(!hooks.starts.get(2).probe(), hooks.starts.toString());
    assertEquals("a", hooks.starts.get(2).provider());
    assertTrue(!hooks.starts.get(2).toString().contains(", probe"), hooks.starts.get(2).toString());
  }

  @Test
  void theEndCarriesTheRateLimitWindowTheResponseAnnounced() throws Exception {
    MockWebServer openai = up.start(r -> Fixtures.http("openai-200-ratelimit.http"));
    MockWebServer anthropic = up.start(r -> Fixtures.http("anthropic-200-ratelimit.http"));
    MockWebServer limited = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    MockWebServer garbled = up.start(r -> new mockwebserver3.MockResponse.Builder().code(200)
        .addHeader("content-type", "application/json").addHeader("x-ratelimit-remaining-requests", "-1")
        .addHeader("x-ratelimit-remaining-tokens", "12 tokens").body(Fixtures.text("openai-chat.json")).build());
    MockWebServer none = up.startChat();
    for (MockWebServer s : List.of(openai, anthropic, limited, garbled, none)) {
      ProviderPool pool = pool().tier(provider("p", s)).build();
      Upstreams.call(up.client(pool), Upstreams.chat(pool));
    }
    assertEquals(java.util.OptionalLong.of(499), hooks.ends.get(0).remainingRequests());
    assertEquals(java.util.OptionalLong.of(199384), hooks.ends.get(0).remainingTokens());
    assertEquals(java.util.OptionalLong.of(49), hooks.ends.get(1).remainingRequests());
    assertEquals(java.util.OptionalLong.of(89000), hooks.ends.get(1).remainingTokens());
    assertEquals(java.util.OptionalLong.of(0), hooks.ends.get(2).remainingRequests(), "the 429 says none are left");
    assertEquals(java.util.OptionalLong.of(18350), hooks.ends.get(2).remainingTokens());
    assertEquals(java.util.OptionalLong.empty(), hooks.ends.get(3).remainingRequests(), "not a count");
    assertEquals(java.util.OptionalLong.empty(), hooks.ends.get(3).remainingTokens(), "not a count");
    assertEquals(java.util.OptionalLong.empty(), hooks.ends.get(4).remainingRequests());
    assertEquals(5, hooks.ends.size());
    AttemptStart s = AttemptStart.builder().pool("p").provider("a").build();
    assertEquals(java.util.OptionalLong.empty(), AttemptEnd.builder(s).remainingRequests(-7).build().remainingRequests());
    assertEquals(java.util.OptionalLong.of(3), AttemptEnd.builder(s).remainingTokens(3).build().remainingTokens());
  }

  @Test
  void aFailureBeforeTheResponseHasNoStatusNorBody() throws Exception {
    MockWebServer dead = new MockWebServer();
    dead.start();
    int port = dead.getPort();
    dead.close();
    MockWebServer b = up.startChat();
    ProviderPool pool = pool()
        .tier(Provider.builder("dead").baseUrl("http://127.0.0.1:" + port + "/v1").build())
        .tier(provider("b", b)).build();
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    assertEquals(List.of("start dead#1", "end dead#1", "start b#2", "end b#2"), hooks.calls);
    AttemptEnd e = hooks.ends.get(0);
    assertEquals(Optional.of(Outcome.CONNECTION_FAILURE), e.outcome());
    assertEquals(OptionalInt.empty(), e.status());
    assertEquals(Optional.empty(), e.bodyEnd());
    assertEquals(Optional.empty(), e.timeToHeaders());
    assertEquals(Optional.empty(), e.timeToFirstToken());
  }

  @Test
  void aStreamIsMarkedAndItsFirstTokenTimed() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.sse("openai-chat-stream-usage.sse"));
    ProviderPool pool = pool().tier(provider("a", a)).build();
    String[] r = Upstreams.call(up.client(pool),
        Upstreams.post(pool, "chat/completions", "{\"model\":\"m\",\"stream\":true}"));
    assertEquals("200", r[0]);
    assertTrue(hooks.starts.get(0).streaming());
    assertTrue(hooks.starts.get(0).toString().endsWith(", streaming}"), hooks.starts.get(0).toString());
    assertEquals(Optional.of("m"), hooks.starts.get(0).requestedModel());
    AttemptEnd e = hooks.ends.get(0);
    assertTrue(e.timeToFirstToken().isPresent(), e.toString());
    assertEquals(Optional.of(TokenUsage.End.COMPLETE), e.bodyEnd());
  }

  @Test
  void aBodyClosedEarlyEndsWhenTheCallerClosesIt() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.sse("openai-chat-stream-usage.sse"));
    ProviderPool pool = pool().tier(provider("a", a)).build();
    OkHttpClient c = up.client(pool);
    try (Response response = c.newCall(Upstreams.post(pool, "chat/completions", "{\"stream\":true}")).execute()) {
      assertEquals(200, response.code());
      assertEquals(List.of("start a#1"), hooks.calls, "not ended while the caller holds the body");
    }
    assertEquals(List.of("start a#1", "end a#1"), hooks.calls);
    assertEquals(Optional.of(TokenUsage.End.CLOSED_EARLY), hooks.ends.get(0).bodyEnd());
    assertEquals(Optional.of(Outcome.SUCCESS), hooks.ends.get(0).outcome());
    assertEquals(Optional.empty(), hooks.starts.get(0).requestedModel());
  }

  @Test
  void hooksComposeInOrderAndOneThatThrowsIsLoggedWithoutItsMessage() throws Exception {
    MockWebServer a = up.startChat();
    List<String> calls = new CopyOnWriteArrayList<>();
    ProviderPool pool = ProviderPool.builder().name("chat").tier(provider("a", a))
        .onAttempt(new AttemptListener() {
          @Override
          public void onStart(AttemptStart s) {
            calls.add("1 start");
            throw new IllegalStateException("quoting " + s.requestedModel().orElse(""));
          }

          @Override
          public void onEnd(AttemptEnd e) {
            calls.add("1 end");
            throw new IllegalStateException("quoting " + e.start().requestedModel().orElse(""));
          }
        })
        .onAttempt(new AttemptListener() {
          @Override
          public void onEnd(AttemptEnd e) { // onStart left to its default
            calls.add("2 end");
          }
        })
        .onAttempt(hooks)
        .build();
    String logged = ListenerCompositionTest.capturingStderr(
        () -> assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]));
    assertEquals(List.of("1 start", "1 end", "2 end"), calls);
    assertEquals(List.of("start a#1", "end a#1"), hooks.calls);
    assertTrue(logged.contains("llmpool[chat] AttemptListener.onStart threw java.lang.IllegalStateException at "), logged);
    assertTrue(logged.contains("llmpool[chat] AttemptListener.onEnd threw java.lang.IllegalStateException at "), logged);
    assertTrue(logged.contains("(listener 1 of 3)"), logged);
    assertFalse(logged.contains("quoting"), logged);
    assertFalse(logged.contains("gpt-4o-mini"), logged);
  }

  @Test
  void theValuesCheckWhatTheyAreGiven() {
    assertEquals("onAttempt", assertThrows(NullPointerException.class, () -> ProviderPool.builder().onAttempt(null))
        .getMessage());
    assertEquals("pool", assertThrows(NullPointerException.class, () -> AttemptStart.builder().pool(null)).getMessage());
    assertEquals("provider", assertThrows(NullPointerException.class, () -> AttemptStart.builder().provider(null))
        .getMessage());
    assertEquals("tier must be >= 0 but was -1",
        assertThrows(IllegalArgumentException.class, () -> AttemptStart.builder().tier(-1)).getMessage());
    assertEquals("attempt must be >= 1 but was 0",
        assertThrows(IllegalArgumentException.class, () -> AttemptStart.builder().attempt(0)).getMessage());
    assertEquals("pool is required",
        assertThrows(IllegalArgumentException.class, () -> AttemptStart.builder().provider("a").build()).getMessage());
    assertEquals("provider is required",
        assertThrows(IllegalArgumentException.class, () -> AttemptStart.builder().pool("p").build()).getMessage());

    AttemptStart s = AttemptStart.builder().pool("p").provider("a").build();
    assertEquals(0, s.tier());
    assertEquals(1, s.attempt());
    assertFalse(s.probe());
    assertFalse(s.streaming());
    assertEquals(Optional.empty(), s.requestedModel());
    assertEquals("start", assertThrows(NullPointerException.class, () -> AttemptEnd.builder(null)).getMessage());
    assertEquals("status must be -1 or in [100, 999] but was 42",
        assertThrows(IllegalArgumentException.class, () -> AttemptEnd.builder(s).status(42)).getMessage());
    assertEquals("duration", assertThrows(NullPointerException.class, () -> AttemptEnd.builder(s).duration(null))
        .getMessage());
    assertEquals("duration must be >= 0 but was PT-1S", assertThrows(IllegalArgumentException.class,
        () -> AttemptEnd.builder(s).duration(Duration.ofSeconds(-1))).getMessage());
    assertEquals("timeToHeaders must be >= 0 but was PT-0.001S", assertThrows(IllegalArgumentException.class,
        () -> AttemptEnd.builder(s).timeToHeaders(Duration.ofMillis(-1))).getMessage());
    assertEquals("timeToFirstToken must be >= 0 but was PT-0.001S", assertThrows(IllegalArgumentException.class,
        () -> AttemptEnd.builder(s).timeToFirstToken(Duration.ofMillis(-1))).getMessage());
    AttemptEnd e = AttemptEnd.builder(s).build();
    assertSame(s, e.start());
    assertEquals(Optional.empty(), e.outcome());
    assertEquals(OptionalInt.empty(), e.status());
    assertEquals(Duration.ZERO, e.duration());
    assertEquals(Optional.empty(), e.timeToHeaders());
    assertEquals(Optional.empty(), e.bodyEnd());
  }
}
