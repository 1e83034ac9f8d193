package io.github.llmpool.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.FakeTicker;
import io.github.llmpool.Fixtures;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.Upstreams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The failover loop under concurrency and odd inputs, through the public API against real servers
 * on loopback: one burst of simultaneous 429s is one ejection; selection racing evictions never
 * throws and never leaves a response open or a counter unbalanced; a failure before dispatch
 * releases the probe it claimed; an exception OkHttp throws inside an attempt is that attempt's
 * failure.
 */
class FailoverLoopTest {
  private final Upstreams up = new Upstreams();
  private final List<TokenUsage> usage = new CopyOnWriteArrayList<>();
  private final List<PoolEvent> events = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    up.close();
  }

  private static Provider provider(String name, MockWebServer s) {
    return Provider.builder(name).baseUrl(Upstreams.baseUrl(s)).build();
  }

  private static MockResponse status(int code, String... headers) {
    MockResponse.Builder b = new MockResponse.Builder().code(code).body("{\"error\":{\"message\":\"x\"}}")
        .addHeader("Content-Type", "application/json");
    for (int i = 0; i < headers.length; i += 2) {
      b.addHeader(headers[i], headers[i + 1]);
    }
    return b.build();
  }

  // ------------------------------------------------------------------ defect 2

  @Test
  void aBurstOfSimultaneous429sOnRequestsAlreadyInFlightIsOneEjectionEveryTime() throws Exception {
    int concurrent = 8;
    FakeTicker ticker = new FakeTicker();
    AtomicBoolean burst = new AtomicBoolean(true);
    // All eight requests are in flight on "bad" before any answer leaves: the barrier's action
    // moves the pool's clock 1 ms past their dispatch, then all eight get a 429 at once.
    CyclicBarrier together = new CyclicBarrier(concurrent, () -> ticker.advance(Duration.ofMillis(1)));
    MockWebServer bad = up.start(r -> {
      if (!burst.get()) {
        return Fixtures.json("openai-chat.json");
      }
      try {
        together.await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError("the burst did not assemble", e);
      }
      return status(429);
    });
    MockWebServer good = up.startChat();
    ProviderPool pool = ProviderPool.builder().ticker(ticker).random(ScriptedRandom.seeded(5))
        .eviction(EvictionPolicy.builder().jitter(0).build())
        .retry(RetryPolicy.builder().maxAttempts(2).budgetRatio(1).build())
        .tier(provider("bad", bad)).tier(provider("good", good)).build();
    OkHttpClient client = up.client(pool);
    ExecutorService callers = Executors.newFixedThreadPool(concurrent);
    long budget = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    int bursts = 0;
    try {
      while (bursts < 150 && System.nanoTime() < budget) {
        burst.set(true);
        List<Future<String>> calls = new ArrayList<>();
        for (int i = 0; i < concurrent; i++) {
          calls.add(callers.submit(() -> Upstreams.call(client, Upstreams.chat(pool))[0]));
        }
        for (Future<String> f : calls) {
          assertEquals("200", f.get(20, TimeUnit.SECONDS)); // every one failed over to "good"
        }
        bursts++;
        ProviderSnapshot s = pool.snapshot().provider("bad").orElseThrow();
        assertEquals(1, s.ejections(), "ejections after burst " + bursts);
        // the base duration, not doubled by the burst's other seven failures
        assertEquals(Duration.ofSeconds(5).minusMillis(0), s.evictedFor().orElseThrow(), "eviction after burst " + bursts);
        // the provider comes back: past its deadline, one probe succeeds
        burst.set(false);
        ticker.advance(Duration.ofSeconds(6));
        assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
        assertEquals(ProviderSnapshot.Status.AVAILABLE, pool.snapshot().provider("bad").orElseThrow().status());
        assertEquals(0, pool.snapshot().provider("bad").orElseThrow().ejections());
      }
    } finally {
      callers.shutdownNow();
    }
    assertTrue(bursts >= 20, "only " + bursts + " bursts in the time budget");
    assertEquals(0, pool.snapshot().inFlight());
  }

  // ------------------------------------------------------------------ defect 3

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void selectionRacingEvictionsNeverThrowsAndNothingStaysOpen(Strategy strategy) throws Exception {
    // Two tier-0 providers answer 503 and are evicted for 1 ms at their first failure; 16 threads
    // keep picking while others evict and probe them. Every call must end in a response (a 503
    // the pool gave up on, or the fallback's 200): no exception, no open response, no counter
    // left above zero, one usage record per attempt.
    MockWebServer a = up.start(r -> status(503));
    MockWebServer b = up.start(r -> status(503));
    MockWebServer fallback = up.startChat();
    ProviderPool pool = ProviderPool.builder().strategy(strategy).onUsage(usage::add)
        .eviction(EvictionPolicy.builder().failureThreshold(1).baseDuration(Duration.ofMillis(1))
            .maxDuration(Duration.ofMillis(1)).jitter(0).build())
        .retry(RetryPolicy.builder().maxAttempts(3).budgetRatio(1).minRetriesPerSecond(100_000).build())
        .whenAllEvicted(AllEvictedPolicy.FAIL_OPEN)
        .tier(provider("a", a), provider("b", b)).tier(provider("fallback", fallback)).build();
    OkHttpClient client = up.client(pool);
    int threads = 16;
    int perThread = 150;
    ExecutorService callers = Executors.newFixedThreadPool(threads);
    List<Throwable> thrown = new CopyOnWriteArrayList<>();
    try (Leaks leaks = new Leaks()) {
      List<Future<?>> all = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        all.add(callers.submit(() -> {
          for (int i = 0; i < perThread; i++) {
            try (Response r = client.newCall(Upstreams.chat(pool)).execute()) {
              r.body().string();
              assertTrue(r.code() == 200 || r.code() == 503, "status " + r.code());
            } catch (Throwable e) {
              thrown.add(e);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : all) {
        f.get(60, TimeUnit.SECONDS);
      }
      assertEquals(List.of(), thrown);
      assertEquals(0, pool.snapshot().inFlight(), "attempts left in flight");
      long attempts = pool.snapshot().providers().stream().mapToLong(ProviderSnapshot::requests).sum();
      assertEquals(attempts, usage.size(), "one usage record per attempt");
      assertEquals(List.of(), leaks.detect(client.connectionPool(), 3));
    } finally {
      callers.shutdownNow();
    }
  }

  // ------------------------------------------------------------------ defect 4

  @Test
  void aRequestForTheBareVirtualBaseUrlReachesAProviderWithoutAPathAndItsProbeIsReleased() throws Exception {
    FakeTicker ticker = new FakeTicker();
    AtomicBoolean down = new AtomicBoolean(true);
    MockWebServer s = up.start(r -> down.get() ? status(503) : Fixtures.json("openai-chat.json"));
    // a base URL with no path at all
    Provider p = Provider.builder("root").baseUrl("http://127.0.0.1:" + s.getPort()).build();
    ProviderPool pool = ProviderPool.builder().ticker(ticker)
        .eviction(EvictionPolicy.builder().failureThreshold(1).jitter(0).build())
        .whenAllEvicted(AllEvictedPolicy.FAIL_FAST).tier(p).build();
    OkHttpClient client = up.client(pool);
    Request bare = new Request.Builder().url("http://llmpool.invalid/v1").build();
    try (Response r = client.newCall(bare).execute()) {
      assertEquals(503, r.code()); // went out (to "/"), answered, evicted
    }
    assertEquals("/", s.takeRequest().getUrl().encodedPath());
    assertEquals(ProviderSnapshot.Status.EVICTED, pool.snapshot().provider("root").orElseThrow().status());
    // past the deadline the bare request is the probe; it must go out, and the provider come back
    down.set(false);
    ticker.advance(Duration.ofSeconds(6));
    try (Response r = client.newCall(bare).execute()) {
      assertEquals(200, r.code());
    }
    assertEquals("/", s.takeRequest().getUrl().encodedPath());
    assertEquals(ProviderSnapshot.Status.AVAILABLE, pool.snapshot().provider("root").orElseThrow().status());
  }

  @Test
  void aUtf16JsonBodyThatNeedsRewritingGoesOutAsUtf8WithTheOverrideAndUsageAdded() throws Exception {
    MockWebServer s = up.start(r -> Fixtures.sse("openai-chat-stream-usage.sse"));
    Provider p = Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).model("served-model").build();
    ProviderPool pool = ProviderPool.builder().onUsage(usage::add).tier(p).build();
    OkHttpClient client = up.client(pool);
    String json = "{\"model\":\"alias\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"h\u00e9\"}]}";
    for (java.nio.charset.Charset cs : List.of(java.nio.charset.StandardCharsets.UTF_16LE,
        java.nio.charset.StandardCharsets.UTF_16BE, java.nio.charset.StandardCharsets.UTF_16,
        java.nio.charset.Charset.forName("UTF-32LE"))) {
      Request req = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
          .post(okhttp3.RequestBody.create(json.getBytes(cs),
              okhttp3.MediaType.get("application/json; charset=" + cs.name().toLowerCase(java.util.Locale.ROOT))))
          .build();
      try (Response r = client.newCall(req).execute()) {
        assertEquals(200, r.code(), cs.name());
        r.body().string();
      }
      mockwebserver3.RecordedRequest got = s.takeRequest();
      String sent = got.getBody().utf8();
      assertTrue(sent.contains("\"model\":\"served-model\""), cs + ": " + sent);
      assertTrue(sent.contains("\"stream_options\":{\"include_usage\":true}"), cs + ": " + sent);
      assertTrue(sent.contains("h\u00e9"), cs + ": " + sent);
      assertTrue(got.getHeaders().get("Content-Type").contains("charset=utf-8"), got.getHeaders().get("Content-Type"));
    }
    assertEquals(4, usage.size());
    assertTrue(usage.stream().allMatch(TokenUsage::reported));
    assertEquals(0, pool.snapshot().inFlight());
  }

  // ------------------------------------------------------------------ defect 5

  @Test
  void okHttpsOwnRetryAfterParsingFailureIsTheAttemptsFailureAndFailsOver() throws Exception {
    // OkHttp 5.5.1's RetryAndFollowUpInterceptor throws NumberFormatException reading this
    // Retry-After on a 503 or 408, out of proceed()
    MockWebServer bad = up.start(r -> status(503, "Retry-After", "99999999999"));
    MockWebServer good = up.startChat();
    ProviderPool pool = ProviderPool.builder().onEvent(events::add).onUsage(usage::add)
        .eviction(EvictionPolicy.builder().failureThreshold(1).jitter(0).build())
        .tier(provider("bad", bad)).tier(provider("good", good)).build();
    OkHttpClient client = up.client(pool);
    String[] r = Upstreams.call(client, Upstreams.chat(pool));
    assertEquals("200", r[0]);
    ProviderSnapshot s = pool.snapshot().provider("bad").orElseThrow();
    assertEquals(ProviderSnapshot.Status.EVICTED, s.status());
    assertEquals(1, s.failures());
    assertTrue(events.stream().anyMatch(e -> e instanceof PoolEvent.Evicted ev && ev.provider().equals("bad")));
    assertEquals(0, pool.snapshot().inFlight());
    assertEquals(1, usage.size()); // one record per attempt that got a response: the success
  }

  @Test
  void okHttpsOwnParsingFailureOnTheLastAttemptEndsInAnExceptionThatListsIt() throws Exception {
    MockWebServer bad = up.start(r -> status(408, "Retry-After", "99999999999"));
    ProviderPool pool = ProviderPool.builder()
        .eviction(EvictionPolicy.builder().failureThreshold(1).jitter(0).build()).tier(provider("bad", bad)).build();
    OkHttpClient client = up.client(pool);
    io.github.llmpool.AttemptsExhaustedException e = org.junit.jupiter.api.Assertions.assertThrows(
        io.github.llmpool.AttemptsExhaustedException.class, () -> Upstreams.call(client, Upstreams.chat(pool)));
    assertEquals(1, e.attempts().size());
    assertEquals("bad", e.attempts().get(0).provider());
    assertTrue(e.attempts().get(0).error().orElseThrow().contains("NumberFormatException"),
        e.attempts().get(0).error().orElseThrow());
    assertEquals(ProviderSnapshot.Status.EVICTED, pool.snapshot().provider("bad").orElseThrow().status());
    assertEquals(0, pool.snapshot().inFlight());
  }
}
