package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptListener;
import io.github.llmpool.spi.AttemptStart;
import io.github.llmpool.spi.RequestEnd;
import io.github.llmpool.spi.RequestListener;
import io.github.llmpool.spi.RequestStart;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Request hooks at the public API, against loopback servers: one start and exactly one end per
 * logical request, whichever way it ends, and attempts that name their request.
 */
class RequestHooksTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();
  private final Recorder hooks = new Recorder();

  @AfterEach
  void close() {
    up.close();
  }

  /** Records request and attempt calls in one order: "request 1", "start a#1 of 1", "end a#1", "end 1 SUCCESS". */
  static final class Recorder implements RequestListener, AttemptListener {
    final List<String> calls = new CopyOnWriteArrayList<>();
    final List<RequestStart> starts = new CopyOnWriteArrayList<>();
    final List<RequestEnd> ends = new CopyOnWriteArrayList<>();
    final List<AttemptStart> attempts = new CopyOnWriteArrayList<>();

    @Override
    public void onStart(RequestStart s) {
      calls.add("request " + s.id());
      starts.add(s);
    }

    @Override
    public void onEnd(RequestEnd e) {
      calls.add("end " + e.start().id() + " " + e.result());
      ends.add(e);
    }

    @Override
    public void onStart(AttemptStart s) {
      calls.add("start " + s.provider() + "#" + s.attempt() + " of " + s.requestId());
      attempts.add(s);
    }

    @Override
    public void onEnd(AttemptEnd e) {
      calls.add("end " + e.start().provider() + "#" + e.start().attempt());
    }
  }

  private static Provider provider(String name, MockWebServer s) {
    return Provider.builder(name).baseUrl(Upstreams.baseUrl(s)).apiKey("sk-secret-" + name).build();
  }

  private ProviderPool.Builder pool() {
    return ProviderPool.builder().name("chat").ticker(ticker).strategy(Strategy.ROUND_ROBIN).onRequest(hooks)
        .onAttempt(hooks);
  }

  @Test
  void aSuccessStartsAndEndsOnceWithItsAttempt() throws Exception {
    MockWebServer a = up.start(r -> {
      ticker.advance(Duration.ofMillis(250));
      return Fixtures.json("openai-chat.json");
    });
    ProviderPool pool = pool().tier(provider("a", a)).build();
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    assertEquals(List.of("request 1", "start a#1 of 1", "end a#1", "end 1 SUCCESS",
        "request 2", "start a#1 of 2", "end a#1", "end 2 SUCCESS"), hooks.calls);
    RequestStart s = hooks.starts.get(0);
    assertEquals("chat", s.pool());
    assertEquals(Optional.of("gpt-4o-mini"), s.requestedModel());
    assertFalse(s.streaming());
    RequestEnd e = hooks.ends.get(0);
    assertSame(s, e.start(), "the very start value");
    assertEquals(RequestEnd.Result.SUCCESS, e.result());
    assertEquals(1, e.attempts());
    assertEquals(OptionalInt.of(200), e.status());
    assertEquals(Optional.of(TokenUsage.End.COMPLETE), e.bodyEnd());
    assertEquals(Optional.empty(), e.exceptionClass());
    assertEquals(Optional.empty(), e.reason());
    assertEquals(Duration.ofMillis(250), e.duration(), "from the pool's ticker");
    assertEquals(s.startNanos() + 250_000_000L, e.endNanos());
    assertEquals("RequestStart{pool=chat, id=1}", s.toString());
    assertEquals("RequestEnd{RequestStart{pool=chat, id=1}, result=SUCCESS, attempts=1, status=200, body=COMPLETE}",
        e.toString());
    assertEquals("AttemptStart{pool=chat, request=1, provider=a, tier=0, attempt=1}", hooks.attempts.get(0).toString());
    for (Object v : List.of(s, e, hooks.attempts.get(0))) {
      assertFalse(v.toString().contains("sk-secret"), v::toString);
      assertFalse(v.toString().contains("gpt-4o-mini"), v::toString);
    }
  }

  @Test
  void aStreamEndsAtTheEndOfItsBodyNotAtTheHeaders() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.sse("openai-chat-stream-usage.sse"));
    ProviderPool pool = pool().tier(provider("a", a)).build();
    OkHttpClient c = up.client(pool);
    try (Response response = c.newCall(Upstreams.post(pool, "chat/completions", "{\"model\":\"m\",\"stream\":true}"))
        .execute()) {
      assertEquals(200, response.code());
      assertEquals(List.of("request 1", "start a#1 of 1"), hooks.calls, "not ended while the caller reads");
      response.body().string();
    }
    assertEquals(List.of("request 1", "start a#1 of 1", "end a#1", "end 1 SUCCESS"), hooks.calls);
    assertTrue(hooks.starts.get(0).streaming());
    assertEquals(Optional.of("m"), hooks.starts.get(0).requestedModel());
    assertEquals(Optional.of(TokenUsage.End.COMPLETE), hooks.ends.get(0).bodyEnd());
  }

  @Test
  void aFailoverIsOneRequestWhoseAttemptsNameIt() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    MockWebServer b = up.startChat();
    ProviderPool pool = pool().tier(provider("a", a)).tier(provider("b", b)).build();
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    assertEquals(List.of("request 1", "start a#1 of 1", "end a#1", "start b#2 of 1", "end b#2", "end 1 SUCCESS"),
        hooks.calls);
    assertEquals(2, hooks.ends.get(0).attempts());
    assertEquals(hooks.starts.get(0).id(), hooks.attempts.get(1).requestId());
  }

  @Test
  void theLastFailedAnswerPassedOnIsAFailedRequestWithItsStatus() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    ProviderPool pool = pool().tier(provider("a", a)).build();
    assertEquals("429", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    RequestEnd e = hooks.ends.get(0);
    assertEquals(RequestEnd.Result.FAILED, e.result());
    assertEquals(OptionalInt.of(429), e.status());
    assertEquals(1, e.attempts());
    assertEquals(Optional.empty(), e.exceptionClass());
  }

  @Test
  void aDrainedPoolRefusesWithNoAttemptAndTheHooksSeeIt() throws Exception {
    MockWebServer a = up.startChat();
    ProviderPool pool = pool().tier(provider("a", a)).build();
    pool.drainAll();
    NoProviderAvailableException x = assertThrows(NoProviderAvailableException.class,
        () -> Upstreams.call(up.client(pool), Upstreams.chat(pool)));
    assertEquals(List.of("request 1", "end 1 REFUSED"), hooks.calls);
    RequestEnd e = hooks.ends.get(0);
    assertEquals(0, e.attempts());
    assertEquals(Optional.of(NoProviderAvailableException.class.getName()), e.exceptionClass());
    assertEquals(Optional.of(x.getMessage()), e.reason());
    assertTrue(e.reason().get().contains("is drained"), e.reason().get());
    assertEquals(OptionalInt.empty(), e.status());
    assertEquals(Optional.empty(), e.bodyEnd());
    assertEquals(0, up.count(a));
  }

  @Test
  void failFastWithEveryProviderEvictedRefusesWithNoAttempt() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    ProviderPool pool = pool().whenAllEvicted(AllEvictedPolicy.FAIL_FAST).tier(provider("a", a)).build();
    OkHttpClient c = up.client(pool);
    assertEquals("429", Upstreams.call(c, Upstreams.chat(pool))[0]); // evicts a
    assertThrows(NoProviderAvailableException.class, () -> Upstreams.call(c, Upstreams.chat(pool)));
    assertEquals(List.of("request 1", "start a#1 of 1", "end a#1", "end 1 FAILED", "request 2", "end 2 REFUSED"),
        hooks.calls);
    RequestEnd e = hooks.ends.get(1);
    assertEquals(0, e.attempts());
    assertTrue(e.reason().get().contains("a (tier 0) evicted for"), e.reason().get());
    assertFalse(e.toString().contains("sk-secret"), e::toString);
  }

  @Test
  void aCallThatThrowsAfterItsAttemptsEndsFailedWithTheExceptionClass() throws Exception {
    MockWebServer dead = new MockWebServer();
    dead.start();
    int port = dead.getPort();
    dead.close();
    ProviderPool pool = pool().tier(Provider.builder("dead").baseUrl("http://127.0.0.1:" + port + "/v1").build())
        .build();
    assertThrows(AttemptsExhaustedException.class, () -> Upstreams.call(up.client(pool), Upstreams.chat(pool)));
    assertEquals(List.of("request 1", "start dead#1 of 1", "end dead#1", "end 1 FAILED"), hooks.calls);
    assertEquals(Optional.of(AttemptsExhaustedException.class.getName()), hooks.ends.get(0).exceptionClass());
    assertEquals(1, hooks.ends.get(0).attempts());
  }

  @Test
  void aCancelMidStreamEndsTheRequestOnceAsCancelled() throws Exception {
    StringBuilder sse = new StringBuilder();
    for (int i = 0; i < 2000; i++) {
      sse.append("data: {\"choices\":[{\"delta\":{\"content\":\"tok\"},\"finish_reason\":null}]}\n\n");
    }
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("content-type", "text/event-stream")
        .body(sse.toString()).throttleBody(2048, 20, TimeUnit.MILLISECONDS).build());
    ProviderPool pool = pool().tier(provider("a", s)).build();
    Call call = up.client(pool).newCall(Upstreams.post(pool, "chat/completions", "{\"stream\":true}"));
    try (Response r = call.execute()) {
      r.body().source().readUtf8Line();
      call.cancel();
      assertThrows(IOException.class, () -> r.body().source().readByteArray());
    }
    assertEquals(List.of("request 1", "start a#1 of 1", "end a#1", "end 1 CANCELLED"), hooks.calls);
    assertEquals(Optional.of(TokenUsage.End.FAILED), hooks.ends.get(0).bodyEnd());
    assertEquals(OptionalInt.of(200), hooks.ends.get(0).status());
  }

  @Test
  void aCancelWhileWaitingForHeadersEndsTheRequestAsCancelled() throws Exception {
    MockWebServer slow = up.start(r -> new MockResponse.Builder().headersDelay(2, TimeUnit.SECONDS).body("{}").build());
    ProviderPool pool = pool().tier(provider("a", slow)).build();
    Call call = up.client(pool).newCall(Upstreams.chat(pool));
    Thread canceller = new Thread(() -> {
      while (slow.getRequestCount() == 0) {
        Thread.onSpinWait();
      }
      call.cancel();
    });
    canceller.start();
    assertThrows(IOException.class, () -> call.execute().close());
    canceller.join();
    assertEquals(List.of("request 1", "start a#1 of 1", "end a#1", "end 1 CANCELLED"), hooks.calls);
    assertEquals(1, hooks.ends.get(0).attempts());
    assertTrue(hooks.ends.get(0).exceptionClass().isPresent());
  }

  @Test
  void requestHooksComposeAndOneThatThrowsIsLoggedWithoutItsMessage() throws Exception {
    MockWebServer a = up.startChat();
    List<String> calls = new CopyOnWriteArrayList<>();
    ProviderPool pool = ProviderPool.builder().name("chat").tier(provider("a", a))
        .onRequest(new RequestListener() {
          @Override
          public void onStart(RequestStart s) {
            calls.add("1 start");
            throw new IllegalStateException("quoting " + s.requestedModel().orElse(""));
          }

          @Override
          public void onEnd(RequestEnd e) {
            calls.add("1 end");
            throw new IllegalStateException("quoting " + e.start().requestedModel().orElse(""));
          }
        })
        .onRequest(new RequestListener() {
          @Override
          public void onEnd(RequestEnd e) { // onStart left to its default
            calls.add("2 end " + e.result());
          }
        })
        .onRequest(hooks)
        .build();
    String logged = ListenerCompositionTest.capturingStderr(
        () -> assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]));
    assertEquals(List.of("1 start", "1 end", "2 end SUCCESS"), calls);
    assertEquals(List.of("request 1", "end 1 SUCCESS"), hooks.calls, "no attempt hook registered here");
    assertTrue(logged.contains("llmpool[chat] RequestListener.onStart threw java.lang.IllegalStateException at "),
        logged);
    assertTrue(logged.contains("llmpool[chat] RequestListener.onEnd threw java.lang.IllegalStateException at "), logged);
    assertTrue(logged.contains("(listener 1 of 3)"), logged);
    assertFalse(logged.contains("quoting"), logged);
    assertFalse(logged.contains("gpt-4o-mini"), logged);
  }

  @Test
  void attemptHooksAloneStillGetRequestIds() throws Exception {
    MockWebServer a = up.startChat();
    List<Long> ids = new CopyOnWriteArrayList<>();
    ProviderPool pool = ProviderPool.builder().tier(provider("a", a))
        .onAttempt(new AttemptListener() {
          @Override
          public void onStart(AttemptStart s) {
            ids.add(s.requestId());
          }
        }).build();
    Upstreams.call(up.client(pool), Upstreams.chat(pool));
    Upstreams.call(up.client(pool), Upstreams.chat(pool));
    assertEquals(List.of(1L, 2L), ids);
  }

  @Test
  void theValuesCheckWhatTheyAreGiven() {
    assertEquals("onRequest", assertThrows(NullPointerException.class, () -> ProviderPool.builder().onRequest(null))
        .getMessage());
    assertEquals("pool", assertThrows(NullPointerException.class, () -> RequestStart.builder().pool(null)).getMessage());
    assertEquals("pool is required",
        assertThrows(IllegalArgumentException.class, () -> RequestStart.builder().build()).getMessage());
    assertEquals("id must be >= 0 but was -1",
        assertThrows(IllegalArgumentException.class, () -> RequestStart.builder().id(-1)).getMessage());
    assertEquals("requestId must be >= 0 but was -1",
        assertThrows(IllegalArgumentException.class, () -> AttemptStart.builder().requestId(-1)).getMessage());
    assertEquals(0, AttemptStart.builder().pool("p").provider("a").build().requestId());
    RequestStart s = RequestStart.builder().pool("p").startNanos(100).build();
    assertEquals(0, s.id());
    assertEquals(Optional.empty(), s.requestedModel());
    assertEquals("start", assertThrows(NullPointerException.class, () -> RequestEnd.builder(null)).getMessage());
    assertEquals("result", assertThrows(NullPointerException.class, () -> RequestEnd.builder(s).result(null))
        .getMessage());
    assertEquals("attempts must be >= 0 but was -1",
        assertThrows(IllegalArgumentException.class, () -> RequestEnd.builder(s).attempts(-1)).getMessage());
    assertEquals("status must be -1 or in [100, 999] but was 42",
        assertThrows(IllegalArgumentException.class, () -> RequestEnd.builder(s).status(42)).getMessage());
    RequestEnd e = RequestEnd.builder(s).build();
    assertEquals(RequestEnd.Result.SUCCESS, e.result());
    assertEquals(100, e.endNanos());
    assertEquals(Duration.ZERO, e.duration());
    assertEquals(Duration.ZERO, RequestEnd.builder(s).endNanos(50).build().duration(), "a ticker gone back");
    assertEquals(OptionalInt.empty(), e.status());
  }
}
