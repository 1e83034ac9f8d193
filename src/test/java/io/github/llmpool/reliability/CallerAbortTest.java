package io.github.llmpool.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.FakeTicker;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.Upstreams;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * The caller gives up (cancels the call, interrupts its thread, lets the call's timeout expire):
 * that is not the provider's fault. No provider is evicted or marked failing for it, the pool does
 * not fail over to other providers that would fail the same way, and nothing stays in flight.
 */
class CallerAbortTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();
  private final List<PoolEvent> events = new CopyOnWriteArrayList<>();
  private final List<TokenUsage> usages = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    up.close();
  }

  private ProviderPool pool(MockWebServer... servers) {
    ProviderPool.Builder b = ProviderPool.builder().strategy(Strategy.ROUND_ROBIN).ticker(ticker)
        .eviction(EvictionPolicy.builder().failureThreshold(1).jitter(0).build())
        .onEvent(events::add).onUsage(usages::add);
    for (int i = 0; i < servers.length; i++) {
      b.tier(Provider.builder("p" + i).baseUrl(Upstreams.baseUrl(servers[i])).apiKey("sk-" + i).build());
    }
    return b.build();
  }

  private void nobodyBlamed(ProviderPool pool) {
    for (ProviderSnapshot p : pool.snapshot().providers()) {
      assertEquals(ProviderSnapshot.Status.AVAILABLE, p.status(), p::toString);
      assertEquals(0, p.ejections(), p::toString);
      assertEquals(0, p.inFlight(), p::toString);
      assertEquals(p.requests(), p.successes() + p.failures() + p.clientErrors(), p::toString);
    }
    assertEquals(List.of(), events.stream().filter(e -> e instanceof PoolEvent.Evicted).toList());
  }

  @Test
  void cancelWhileWaitingForHeadersBlamesNobodyAndDoesNotFailOver() throws Exception {
    MockWebServer slow = up.start(r -> new MockResponse.Builder().headersDelay(2, TimeUnit.SECONDS).body("{}").build());
    MockWebServer other = up.startChat();
    ProviderPool pool = pool(slow, other);
    Call call = up.client(pool).newCall(Upstreams.chat(pool));
    Thread canceller = new Thread(() -> {
      while (slow.getRequestCount() == 0) {
        Thread.onSpinWait();
      }
      call.cancel();
    });
    canceller.start();
    IOException e = assertThrows(IOException.class, () -> call.execute().close());
    canceller.join();
    assertTrue(e.getMessage() != null, e.toString()); // "Canceled" or "Socket closed", by timing
    assertEquals(0, up.count(other), "a cancelled call was failed over");
    nobodyBlamed(pool);
  }

  @Test
  void cancelMidStreamBlamesNobody() throws Exception {
    StringBuilder sse = new StringBuilder();
    for (int i = 0; i < 2000; i++) {
      sse.append("data: {\"choices\":[{\"delta\":{\"content\":\"tok\"},\"finish_reason\":null}]}\n\n");
    }
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("content-type", "text/event-stream")
        .body(sse.toString()).throttleBody(2048, 20, TimeUnit.MILLISECONDS).build());
    ProviderPool pool = pool(s);
    Call call = up.client(pool).newCall(Upstreams.post(pool, "chat/completions", "{\"stream\":true}"));
    try (Response r = call.execute()) {
      r.body().source().readUtf8Line();
      call.cancel();
      assertThrows(IOException.class, () -> r.body().source().readByteArray());
    }
    assertEquals(TokenUsage.End.FAILED, usages.get(0).end());
    nobodyBlamed(pool);
  }

  /** Runs one call on this thread with its interrupt flag set; returns what it threw (never null). */
  private static Throwable interrupted(OkHttpClient client, ProviderPool pool) {
    Thread.currentThread().interrupt();
    try {
      client.newCall(Upstreams.chat(pool)).execute().close();
      return new AssertionError("the interrupted call succeeded");
    } catch (Throwable t) {
      return t;
    } finally {
      Thread.interrupted(); // clear the flag whatever happened
    }
  }

  /**
   * An interrupted caller thread (an executor shut down with {@code shutdownNow()}, a
   * {@code Future.cancel(true)}) on a warm connection: Okio fails every socket operation with
   * {@code InterruptedIOException("interrupted")}. Today the pool classifies that as the provider's
   * connection failure, evicts a healthy provider, then fails over to the next one, which fails the
   * same way (or, connecting, with an undeclared {@code InterruptedException}: see
   * {@link #interruptedConnectReleasesTheAttemptAndTheProbe}).
   */
  @Test
  void interruptedCallerThreadBlamesNobody() throws Exception {
    MockWebServer a = up.startChat();
    MockWebServer b = up.startChat();
    ProviderPool pool = pool(a, b);
    OkHttpClient client = up.client(pool);
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]); // warm connections to p0
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]); // and p1
    Throwable e = interrupted(client, pool);
    // OkHttp throws InterruptedIOException, or (connecting) an undeclared InterruptedException.
    assertTrue(e instanceof InterruptedIOException || e instanceof InterruptedException, e::toString);
    nobodyBlamed(pool);
    // The providers are fine: the next call from a healthy thread goes through at once.
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
  }

  /**
   * An interrupted caller thread on a cold connection: OkHttp's connect path
   * ({@code FastFallbackExchangeFinder.awaitTcpConnect}) throws {@link InterruptedException}, a
   * checked exception no Java signature declares. {@code LogicalCall} catches only
   * {@code IOException}, {@code RuntimeException} and {@code Error} around {@code proceed}, so the
   * attempt's lease is never released: in-flight stays at 1 for good, and when the attempt was a
   * provider's probe, the probe is never released and the provider never gets traffic again.
   */
  @Test
  void interruptedConnectReleasesTheAttemptAndTheProbe() throws Exception {
    MockWebServer a = up.start(r -> new MockResponse.Builder().code(503).body("{}").build());
    ProviderPool pool = pool(a);
    OkHttpClient client = up.client(pool).newBuilder().connectionPool(new okhttp3.ConnectionPool()).build();
    assertEquals("503", Upstreams.call(client, Upstreams.chat(pool))[0]); // evicted for 5 s
    client.connectionPool().evictAll(); // the next call connects afresh
    ticker.advance(Duration.ofSeconds(5)); // the next call is the probe
    Throwable e = interrupted(client, pool);
    assertTrue(e instanceof InterruptedException || e instanceof InterruptedIOException, e::toString);
    ProviderSnapshot p = pool.snapshot().provider("p0").orElseThrow();
    assertEquals(0, p.inFlight(), "the interrupted attempt is still in flight");
    assertEquals(p.requests(), p.successes() + p.failures() + p.clientErrors(), p::toString);
    // The probe was given back: the next call probes the provider.
    int before = up.count(a);
    Upstreams.call(client, Upstreams.chat(pool));
    assertEquals(before + 1, up.count(a), "the provider's probe is stuck: it gets no traffic");
  }

  /**
   * OkHttp's {@code callTimeout} cancels the call when it expires. The provider that made the
   * caller wait that long gets a TIMEOUT verdict (evicted here, threshold 1), so a provider that
   * hangs before its headers loses its traffic even when callers rely on the call timeout rather
   * than a read timeout. There is no failover: the call's deadline is gone.
   */
  @Test
  void callTimeoutWhileWaitingForHeaders() throws Exception {
    MockWebServer hanging = up.start(r -> new MockResponse.Builder().headersDelay(2, TimeUnit.SECONDS).body("{}")
        .build());
    MockWebServer other = up.startChat();
    ProviderPool pool = pool(hanging, other);
    OkHttpClient client = up.client(pool).newBuilder().callTimeout(Duration.ofMillis(300)).build();
    IOException e = assertThrows(IOException.class, () -> client.newCall(Upstreams.chat(pool)).execute().close());
    assertInstanceOf(InterruptedIOException.class, e, e::toString);
    assertEquals(0, up.count(other), "the call's deadline is gone: no failover");
    ProviderSnapshot h = pool.snapshot().provider("p0").orElseThrow();
    assertEquals(0, h.inFlight());
    assertEquals(1, h.failures());
    assertEquals(ProviderSnapshot.Status.EVICTED, h.status());
    assertEquals(EvictionPolicy.DEFAULT_BASE_DURATION, h.evictedFor().orElseThrow());
  }
  /**
   * The same call timeout expiring while the body streams is the provider's fault too: the
   * provider started answering, then did not finish in time. OkHttp cancels the call in both
   * cases; the tap tells its own timeout from a caller's cancel and gives the provider a TIMEOUT
   * verdict (evicted here, threshold 1), with the attempt's usage record ending FAILED.
   */
  @Test
  void callTimeoutWhileTheBodyStreamsCountsAgainstTheProvider() throws Exception {
    StringBuilder sse = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      sse.append("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok").append(i).append("\"}}]}\n\n");
    }
    // the first 256 bytes come at once, the rest 256 bytes per second: far past the deadline
    MockWebServer slowBody = up.start(r -> new MockResponse.Builder().addHeader("Content-Type", "text/event-stream")
        .body(sse.toString()).throttleBody(256, 1, TimeUnit.SECONDS).build());
    ProviderPool pool = pool(slowBody);
    OkHttpClient client = up.client(pool).newBuilder().callTimeout(Duration.ofMillis(300)).build();
    try (Response r = client.newCall(Upstreams.chat(pool)).execute()) {
      assertEquals(200, r.code());
      IOException e = assertThrows(IOException.class, () -> r.body().string());
      assertInstanceOf(InterruptedIOException.class, e, e::toString);
    }
    ProviderSnapshot h = pool.snapshot().provider("p0").orElseThrow();
    assertEquals(0, h.inFlight());
    assertEquals(1, h.failures(), h::toString);
    assertEquals(ProviderSnapshot.Status.EVICTED, h.status());
    PoolEvent.Evicted ev = (PoolEvent.Evicted) events.stream().filter(x -> x instanceof PoolEvent.Evicted)
        .findFirst().orElseThrow();
    assertEquals(io.github.llmpool.Outcome.TIMEOUT, ev.cause());
    assertEquals(1, usages.size());
    assertEquals(TokenUsage.End.FAILED, usages.get(0).end());
  }
}
