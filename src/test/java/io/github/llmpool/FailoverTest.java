package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Loopback failover: 429/5xx/connection faults evict, requests fail over, nothing is lost. */
class FailoverTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();
  private final List<PoolEvent> events = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    up.close();
  }

  private static Provider provider(String name, MockWebServer s) {
    return Provider.builder(name).baseUrl(Upstreams.baseUrl(s)).build();
  }

  private static Provider refused(String name) {
    MockWebServer s = new MockWebServer();
    try {
      s.start();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    int port = s.getPort();
    s.close(); // nothing listens here any more: connection refused
    return Provider.builder(name).baseUrl("http://127.0.0.1:" + port + "/v1").build();
  }

  private ProviderPool.Builder pool(Strategy strategy) {
    return ProviderPool.builder().strategy(strategy).ticker(ticker).random(ScriptedRandom.seeded(11)).onEvent(events::add);
  }

  @Test
  void providerAnswering429IsEvictedForItsRetryAfterAndEveryRequestSucceeds() throws Exception {
    MockWebServer bad = up.start(r -> Fixtures.http("openai-429-rate-limit.http")); // retry-after: 2
    MockWebServer a = up.startChat();
    MockWebServer b = up.startChat();
    ProviderPool pool = pool(Strategy.WEIGHTED).tier(provider("bad", bad), provider("a", a), provider("b", b)).build();
    OkHttpClient c = up.client(pool);
    int n = 1000;
    for (int i = 0; i < n; i++) {
      int before = up.count(bad);
      assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0], "request " + i);
      if (up.count(bad) > before) {
        // the fake clock did not move during the call: the deadline is exactly Retry-After away
        ProviderSnapshot s = pool.snapshot().provider("bad").orElseThrow();
        assertEquals(ProviderSnapshot.Status.EVICTED, s.status());
        assertEquals(Duration.ofSeconds(2), s.evictedFor().orElseThrow());
      }
      ticker.advance(Duration.ofMillis(10)); // 1,000 requests span 10 s of pool time
    }
    // one request, then one per 2 s window when the named delay ends: at most 1 + 10 s / 2 s
    int badRequests = up.count(bad);
    assertTrue(badRequests >= 2 && badRequests <= 6, "bad provider got " + badRequests);
    assertEquals(n + badRequests, up.count(a) + up.count(b) + badRequests);
    assertEquals(0, pool.snapshot().inFlight());
    // The delay the server named ends on time for every request: no single probe gates the return.
    long probes = events.stream().filter(e -> e instanceof PoolEvent.Probing).count();
    assertEquals(0, probes);
    assertEquals(badRequests - 1, events.stream().filter(e -> e instanceof PoolEvent.Restored).count());
    PoolEvent.Evicted first = (PoolEvent.Evicted) events.stream().filter(e -> e instanceof PoolEvent.Evicted).findFirst().orElseThrow();
    assertEquals(Duration.ofSeconds(2), first.duration());
    assertTrue(first.serverHint());
  }

  @Test
  void connectionRefusedFailsOver() throws Exception {
    MockWebServer good = up.startChat();
    ProviderPool pool = pool(Strategy.ROUND_ROBIN).tier(refused("dead")).tier(provider("good", good)).build();
    String[] r = Upstreams.call(up.client(pool), Upstreams.chat(pool));
    assertEquals("200", r[0]);
    assertEquals(1, up.count(good));
    assertEquals(1, pool.snapshot().provider("dead").orElseThrow().failures());
    assertEquals(0, pool.snapshot().inFlight());
  }

  @Test
  void resetBeforeHeadersFailsOver() throws Exception {
    MockWebServer reset = up.start(r -> new MockResponse.Builder().onResponseStart(new SocketEffect.CloseSocket()).build());
    MockWebServer good = up.startChat();
    ProviderPool pool = pool(Strategy.ROUND_ROBIN).tier(provider("reset", reset)).tier(provider("good", good)).build();
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    assertEquals(1, up.count(good));
    assertTrue(up.count(reset) >= 1);
    assertEquals(0, pool.snapshot().inFlight());
  }

  @Test
  void readTimeoutFailsOver() throws Exception {
    MockWebServer slow = up.start(r -> new MockResponse.Builder().headersDelay(3, TimeUnit.SECONDS).body("{}").build());
    MockWebServer good = up.startChat();
    ProviderPool pool = pool(Strategy.ROUND_ROBIN).tier(provider("slow", slow)).tier(provider("good", good)).build();
    // 1 s: far below the slow provider's 3 s, and far above what the good one takes on a loaded
    // 2-core machine (200 ms was seen to time out the good provider's answer too, under load).
    OkHttpClient c = up.client(pool, new OkHttpClient.Builder().readTimeout(1, TimeUnit.SECONDS));
    OkHttpClient fast = c.newBuilder().readTimeout(1, TimeUnit.SECONDS).build();
    assertEquals("200", Upstreams.call(fast, Upstreams.chat(pool))[0]);
    assertEquals(1, up.count(good));
    assertEquals(0, pool.snapshot().inFlight());
  }

  @Test
  void allProvidersFailingListsEveryAttempt() {
    ProviderPool pool = pool(Strategy.ROUND_ROBIN).tier(refused("one")).tier(refused("two")).build();
    AttemptsExhaustedException e = assertThrows(AttemptsExhaustedException.class,
        () -> Upstreams.call(up.client(pool), Upstreams.chat(pool)));
    assertEquals(2, e.attempts().size());
    assertTrue(e.getMessage().contains("one (tier 0)") && e.getMessage().contains("two (tier 1)"), e.getMessage());
    assertTrue(e.getMessage().contains("no untried provider is available"), e.getMessage());
    assertEquals(1, e.getSuppressed().length);
    assertInstanceOf(java.net.ConnectException.class, e.getCause());
    assertEquals(0, pool.snapshot().inFlight());
  }

  @Test
  void lastUpstreamResponseIsReturnedWhenEveryProviderAnswersWithAnError() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.http("anthropic-529.http"));
    MockWebServer b = up.start(r -> Fixtures.http("openai-503.http"));
    ProviderPool pool = pool(Strategy.ROUND_ROBIN).tier(provider("a", a)).tier(provider("b", b)).build();
    try (okhttp3.Response r = up.client(pool).newCall(Upstreams.chat(pool)).execute()) {
      assertEquals(503, r.code());
      assertEquals("false", r.header("x-should-retry"));
      assertTrue(r.body().string().contains("The server is overloaded"));
    }
    assertEquals(1, up.count(a));
    assertEquals(1, up.count(b));
    assertTrue(events.stream().anyMatch(e -> e instanceof PoolEvent.Exhausted));
    assertTrue(events.stream().anyMatch(e -> e instanceof PoolEvent.FailedOver f && f.provider().equals("b") && f.from().equals("a")));
  }

  @Test
  void clientErrorIsNeitherRetriedNorEvicted() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.http("openai-400.http"));
    MockWebServer b = up.startChat();
    ProviderPool pool = pool(Strategy.ROUND_ROBIN).tier(provider("a", a)).tier(provider("b", b)).build();
    assertEquals("400", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    assertEquals(0, up.count(b));
    assertEquals(ProviderSnapshot.Status.AVAILABLE, pool.snapshot().provider("a").orElseThrow().status());
    assertEquals(1, pool.snapshot().provider("a").orElseThrow().clientErrors());
  }

  @Test
  void retryBudgetCapsAttemptsUnderASustainedOutage() throws Exception {
    MockWebServer a = up.start(r -> new MockResponse.Builder().code(503).body("{}").build());
    MockWebServer b = up.start(r -> new MockResponse.Builder().code(503).body("{}").build());
    MockWebServer c = up.start(r -> new MockResponse.Builder().code(503).body("{}").build());
    ProviderPool pool = pool(Strategy.WEIGHTED)
        .eviction(EvictionPolicy.builder().failureThreshold(1_000).build()) // keep them all in rotation
        .retry(RetryPolicy.builder().maxAttempts(3).budgetRatio(0.2).minRetriesPerSecond(0).build())
        .tier(provider("a", a), provider("b", b), provider("c", c)).build();
    OkHttpClient client = up.client(pool);
    for (int i = 0; i < 100; i++) {
      assertEquals("503", Upstreams.call(client, Upstreams.chat(pool))[0]);
    }
    // 100 first attempts + retries of at most 20% of the requests; without the budget: 300
    assertEquals(120, up.count(a) + up.count(b) + up.count(c));
  }

  @Test
  void failFastWhenEverythingIsEvictedNamesProvidersAndEarliestReturn() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    ProviderPool pool = pool(Strategy.POWER_OF_TWO_CHOICES).whenAllEvicted(AllEvictedPolicy.FAIL_FAST)
        .tier(provider("a", a)).build();
    OkHttpClient c = up.client(pool);
    assertEquals("429", Upstreams.call(c, Upstreams.chat(pool))[0]);
    ticker.advance(Duration.ofMillis(500));
    NoProviderAvailableException e = assertThrows(NoProviderAvailableException.class,
        () -> Upstreams.call(c, Upstreams.chat(pool)));
    assertEquals(Duration.ofMillis(1500), e.earliestReturn());
    assertTrue(e.getMessage().contains("a (tier 0) evicted for 1500 ms more"), e.getMessage());
    assertEquals(1, up.count(a));
    ticker.advance(Duration.ofMillis(1500));
    assertEquals("429", Upstreams.call(c, Upstreams.chat(pool))[0]); // back when the named delay ends
    assertEquals(2, up.count(a));
  }

  @Test
  void failOpenSendsTheFirstAttemptToTheEarliestReturn() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    MockWebServer b = up.start(r -> new MockResponse.Builder().code(429).addHeader("retry-after", "30").body("{}").build());
    // Reactive: a's 429 also says 0 requests left, and quota routing would refuse rather than fail open to it
    // (QuotaRoutingTest.failOpenNeverSendsToAProviderThatSaysItHasNoRoom); this is about evictions.
    ProviderPool pool = pool(Strategy.ROUND_ROBIN).quotaRouting(false).tier(provider("a", a), provider("b", b)).build();
    OkHttpClient c = up.client(pool);
    assertEquals("429", Upstreams.call(c, Upstreams.chat(pool))[0]); // a then b, both evicted
    assertEquals(1, up.count(a));
    assertEquals(1, up.count(b));
    assertEquals("429", Upstreams.call(c, Upstreams.chat(pool))[0]); // fail open: a returns first (2 s < 30 s), one attempt only
    assertEquals(2, up.count(a));
    assertEquals(1, up.count(b));
  }

  @Test
  void tierZeroOutageSpillsToTierOneAndTrafficReturnsAfterTheProbe() throws Exception {
    boolean[] down = {true};
    MockWebServer primary = up.start(r -> down[0]
        ? new MockResponse.Builder().code(503).addHeader("retry-after", "5").body("{}").build()
        : Fixtures.json("openai-chat.json"));
    MockWebServer backup = up.startChat();
    ProviderPool pool = pool(Strategy.POWER_OF_TWO_CHOICES).tier(provider("primary", primary)).tier(provider("backup", backup)).build();
    OkHttpClient c = up.client(pool);
    for (int i = 0; i < 20; i++) {
      assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
    }
    assertEquals(1, up.count(primary));
    assertEquals(20, up.count(backup));
    down[0] = false;
    ticker.advance(Duration.ofSeconds(5));
    for (int i = 0; i < 20; i++) {
      assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
    }
    assertEquals(21, up.count(primary)); // one probe, then all traffic back on tier 0
    assertEquals(20, up.count(backup));
    assertTrue(events.stream().anyMatch(e -> e instanceof PoolEvent.Restored r && r.provider().equals("primary")));
  }

  @Test
  void unauthorizedOnASignedRequestEvictsForLongAndFailsOver() throws Exception {
    MockWebServer revoked = up.start(r -> new MockResponse.Builder().code(401)
        .body("{\"error\":{\"message\":\"Incorrect API key provided\",\"code\":\"invalid_api_key\"}}").build());
    MockWebServer good = up.startChat();
    ProviderPool pool = pool(Strategy.ROUND_ROBIN)
        .tier(Provider.builder("revoked").baseUrl(Upstreams.baseUrl(revoked)).apiKey("old-key").build())
        .tier(provider("good", good)).build();
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    ProviderSnapshot s = pool.snapshot().provider("revoked").orElseThrow();
    assertEquals(Duration.ofMinutes(10), s.evictedFor().orElseThrow()); // the quota duration: no wait fixes a key
    assertEquals(1, s.failures());
    assertEquals(0, s.clientErrors());
  }

  @Test
  void unauthorizedOnAnUnsignedRequestIsTheCallersFault() throws Exception {
    MockWebServer open = up.start(r -> new MockResponse.Builder().code(401).body("{}").build());
    MockWebServer good = up.startChat();
    ProviderPool pool = pool(Strategy.ROUND_ROBIN).tier(provider("open", open)).tier(provider("good", good)).build();
    assertEquals("401", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    assertEquals(0, up.count(good));
    assertEquals(1, pool.snapshot().provider("open").orElseThrow().clientErrors());
  }
}
