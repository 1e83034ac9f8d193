package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.spi.SharedAffinity;
import io.github.llmpool.spi.SharedQuota;
import io.github.llmpool.spi.SharedState;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The shared-state extension beyond evictions, with two pools in one JVM on an
 * {@link InMemorySharedState}: quota windows learned from one pool's rate-limit headers reach the
 * other through the same merge; affinity bound on one is honoured on the other; a store outage
 * becomes one event each way. Fake tickers with different monotonic times and one wall clock.
 */
class SharedQuotaAffinityTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker tickerA = new FakeTicker();
  private final FakeTicker tickerB = new FakeTicker().advanceNanos(987_654_321_000L).setWallMillis(tickerA.wallMillis());
  private final InMemorySharedState shared = new InMemorySharedState();

  @AfterEach
  void close() {
    up.close();
  }

  /** A 200 announcing {@code remaining} of 100 requests, resetting in {@code reset}. */
  private static MockResponse limited(int remaining, String reset) {
    return new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .addHeader("x-ratelimit-limit-requests", "100").addHeader("x-ratelimit-remaining-requests", "" + remaining)
        .addHeader("x-ratelimit-reset-requests", reset)
        .body("{\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}")
        .build();
  }

  private ProviderPool pool(FakeTicker ticker, MockWebServer a, List<PoolEvent> events) {
    return ProviderPool.builder().name("chat").ticker(ticker).sharedState(shared).onEvent(events::add)
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).build()).build();
  }

  private static Quota requests(ProviderPool pool) {
    return pool.snapshot().provider("a").orElseThrow().requestQuota().orElseThrow();
  }

  @Test
  void dispatchesAgainstAHeaderWindowArePublishedAndOthersCountThem() throws Exception {
    MockWebServer aA = up.start(r -> limited(7, "20s"));
    ProviderPool poolA = pool(tickerA, aA, new CopyOnWriteArrayList<>());
    ProviderPool poolB = pool(tickerB, up.startChat(), new CopyOnWriteArrayList<>()); // B's answers say nothing
    OkHttpClient a = up.client(poolA);
    assertEquals("200", Upstreams.call(a, Upstreams.chat(poolA))[0]);
    assertEquals(List.of(), shared.dispatched, "no header window when the first request went");
    assertEquals("200", Upstreams.call(a, Upstreams.chat(poolA))[0]);
    assertEquals(1, shared.dispatched.size());
    assertEquals(List.of("a", false, 1L), shared.dispatched.get(0).subList(0, 3), "one request to a, not a group");
    shared.deliver(); // B has A's window: 7 left (time stands: no refill)
    SharedState.Receiver b = shared.receiver(1);
    b.onDispatched(io.github.llmpool.spi.SharedDispatch.of("chat", "a", false, 5, 0, tickerB.wallMillis(),
        tickerB.wallMillis()));
    b.onDispatched(io.github.llmpool.spi.SharedDispatch.of("chat", "a", true, 9, 0, tickerB.wallMillis(),
        tickerB.wallMillis())); // a group named a: not this provider's window
    OkHttpClient client = up.client(poolB);
    int admitted = 0;
    for (int i = 0; i < 10; i++) {
      try {
        Upstreams.call(client, Upstreams.chat(poolB));
        admitted++;
      } catch (NoProviderAvailableException refused) {
        break;
      }
    }
    assertEquals(2, admitted, "7 announced, 5 sent by another instance: B sends 2");
    assertEquals("pool must be 'chat' but was 'embed'", assertThrows(IllegalArgumentException.class,
        () -> b.onDispatched(io.github.llmpool.spi.SharedDispatch.of("embed", "a", false, 1, 0, 0, 0))).getMessage());
    assertEquals("toEpochMillis must be >= fromEpochMillis (5) but was 4", assertThrows(IllegalArgumentException.class,
        () -> io.github.llmpool.spi.SharedDispatch.of("chat", "a", false, 1, 0, 5, 4)).getMessage());
    SharedQuota g = SharedQuota.ofGroup("chat", "acct", SharedQuota.Window.of(10, 0, -1, 0), null);
    assertTrue(g.group());
    assertFalse(SharedQuota.of("chat", "acct", SharedQuota.Window.of(10, 0, -1, 0), null).equals(g));
  }

  @Test
  void quotaHeadersSeenOnOnePoolReachTheOtherAsWallClockTimes() throws Exception {
    MockWebServer aA = up.start(r -> limited(7, "20s"));
    ProviderPool poolA = pool(tickerA, aA, new CopyOnWriteArrayList<>());
    ProviderPool poolB = pool(tickerB, up.startChat(), new CopyOnWriteArrayList<>());
    assertEquals("200", Upstreams.call(up.client(poolA), Upstreams.chat(poolA))[0]);
    assertEquals(List.of(SharedQuota.of("chat", "a",
        SharedQuota.Window.of(100, 7, tickerA.wallMillis() + 20_000, tickerA.wallMillis()), null)), shared.quotas);
    assertEquals(Optional.empty(), poolB.snapshot().provider("a").orElseThrow().requestQuota(), "not delivered yet");

    tickerA.advance(Duration.ofSeconds(1));
    tickerB.advance(Duration.ofSeconds(1));
    assertEquals(1, shared.deliver());
    Quota q = requests(poolB);
    assertEquals(Quota.Source.HEADER, q.source());
    assertEquals(OptionalLong.of(100), q.limit());
    assertEquals(OptionalLong.of(7), q.remaining());
    assertEquals(Optional.of(Duration.ofSeconds(19)), q.resetIn(), "B's ticker, A's wall-clock reset");
    assertEquals(Duration.ofSeconds(1), q.age());
    assertEquals(1, shared.quotas.size(), "an applied window is not published again");
  }

  @Test
  void aWindowDatedToItsDispatchTravelsDated() throws Exception {
    long sent = tickerA.wallMillis();
    MockWebServer aA = up.start(r -> {
      tickerA.advance(Duration.ofSeconds(2)); // a non-streamed answer: its headers come a generation later
      return limited(7, "20s");
    });
    ProviderPool poolA = pool(tickerA, aA, new CopyOnWriteArrayList<>());
    ProviderPool poolB = pool(tickerB, up.startChat(), new CopyOnWriteArrayList<>());
    assertEquals("200", Upstreams.call(up.client(poolA), Upstreams.chat(poolA))[0]);
    // The reader dated it to the dispatch (the reset counts from there); the others must read it so too.
    assertEquals(List.of(SharedQuota.of("chat", "a", SharedQuota.Window.of(100, 7, sent + 20_000, sent, true), null)),
        shared.quotas);
    tickerB.advance(Duration.ofSeconds(2));
    assertEquals(1, shared.deliver());
    Quota q = requests(poolB);
    assertEquals(Duration.ofSeconds(18), q.resetIn().orElseThrow());
    assertEquals(Duration.ofSeconds(2), q.age(), "as old as on A: dated to the dispatch");
    assertEquals("Window{limit=1, remaining=0, seenEpochMillis=5, dated}", SharedQuota.Window.of(1, 0, -1, 5, true).toString());
    assertFalse(SharedQuota.Window.of(1, 0, -1, 5, true).equals(SharedQuota.Window.of(1, 0, -1, 5)));
  }

  @Test
  void aRemoteWindowGoesThroughTheLocalMergeAndOnlyStoredWindowsArePublished() throws Exception {
    AtomicInteger remainingA = new AtomicInteger(50);
    MockWebServer aA = up.start(r -> limited(remainingA.get(), "30s"));
    MockWebServer aB = up.start(r -> limited(3, "40s"));
    ProviderPool poolA = pool(tickerA, aA, new CopyOnWriteArrayList<>());
    ProviderPool poolB = pool(tickerB, aB, new CopyOnWriteArrayList<>());
    assertEquals("200", Upstreams.call(up.client(poolB), Upstreams.chat(poolB))[0]); // B: 3 left, reset in 40 s
    assertEquals("200", Upstreams.call(up.client(poolA), Upstreams.chat(poolA))[0]); // A: 50 left, reset in 30 s
    assertEquals(2, shared.deliver());
    assertEquals(OptionalLong.of(3), requests(poolB).remaining(), "A's earlier reset is an older state: B keeps its own");
    assertEquals(OptionalLong.of(3), requests(poolA).remaining(), "B's later reset supersedes A's");
    assertEquals(Optional.of(Duration.ofSeconds(40)), requests(poolA).resetIn());

    // A's next response announces the 30 s reset again: superseded by what A stored, so not published.
    remainingA.set(49);
    assertEquals("200", Upstreams.call(up.client(poolA), Upstreams.chat(poolA))[0]);
    assertEquals(2, shared.quotas.size(), shared.quotas.toString());
    assertEquals(OptionalLong.of(3), requests(poolA).remaining());
  }

  @Test
  void anAffinityBoundOnOnePoolIsHonouredOnTheOther() throws Exception {
    MockWebServer aA = up.startChat();
    MockWebServer bA = up.startChat();
    MockWebServer aB = up.startChat();
    MockWebServer bB = up.startChat();
    Affinity sticky = Affinity.header("X-Session-Id");
    ProviderPool poolA = ProviderPool.builder().name("chat").ticker(tickerA).sharedState(shared).affinity(sticky)
        .strategy(Strategy.WEIGHTED)
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(aA)).build(),
            Provider.builder("b").baseUrl(Upstreams.baseUrl(bA)).build()).build();
    // B would send (almost) everything to a on its own: b weighs 1 in 1,000.
    ProviderPool poolB = ProviderPool.builder().name("chat").ticker(tickerB).sharedState(shared).affinity(sticky)
        .strategy(Strategy.WEIGHTED)
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(aB)).weight(999).build(),
            Provider.builder("b").baseUrl(Upstreams.baseUrl(bB)).weight(1).build()).build();
    poolA.drain("a"); // A binds every session to b
    OkHttpClient cA = up.client(poolA);
    OkHttpClient cB = up.client(poolB);
    for (int i = 0; i < 10; i++) {
      assertEquals("200", Upstreams.call(cA, session(poolA, "s" + i))[0]);
    }
    assertEquals(10, up.count(bA));
    assertEquals(10, shared.affinities.size(), "one entry per new binding");
    assertTrue(shared.affinities.stream().allMatch(a -> a.provider().equals("b")
        && a.expiresEpochMillis() == tickerA.wallMillis() + Duration.ofMinutes(30).toMillis()));
    assertFalse(shared.affinities.get(0).toString().contains("s0"), "the key is never shown");
    assertEquals("200", Upstreams.call(cA, session(poolA, "s0"))[0]);
    assertEquals(10, shared.affinities.size(), "a binding that did not change is not published again");

    assertEquals(10, shared.deliver());
    for (int i = 0; i < 10; i++) {
      assertEquals("200", Upstreams.call(cB, session(poolB, "s" + i))[0]);
    }
    assertEquals(10, up.count(bB), "B sends A's sessions where A bound them");
    for (int i = 0; i < 10; i++) {
      assertEquals("200", Upstreams.call(cB, session(poolB, "new" + i))[0]);
    }
    assertTrue(up.count(aB) >= 9, "sessions A never saw follow B's weights: " + up.count(aB));
  }

  private static Request session(ProviderPool pool, String id) {
    return Upstreams.chat(pool).newBuilder().header("X-Session-Id", id).build();
  }

  @Test
  void theReceiverIgnoresWhatItCannotUse() throws Exception {
    ProviderPool pool = ProviderPool.builder().name("chat").ticker(tickerA).sharedState(shared)
        .affinity(Affinity.header("X-Session-Id"))
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(up.startChat())).build()).build();
    SharedState.Receiver r = shared.receiver(0);
    long wall = tickerA.wallMillis();
    r.onQuota(SharedQuota.of("chat", "zz", SharedQuota.Window.of(1, 1, -1, wall), null)); // no such provider
    r.onAffinity(SharedAffinity.of("chat", "k", "zz", wall + 60_000)); // no such provider
    r.onAffinity(SharedAffinity.of("chat", "k2", "a", wall)); // expired
    assertEquals(Optional.empty(), pool.snapshot().provider("a").orElseThrow().requestQuota());
    assertEquals("pool must be 'chat' but was 'embed'", assertThrows(IllegalArgumentException.class,
        () -> r.onQuota(SharedQuota.of("embed", "a", SharedQuota.Window.of(1, 1, -1, wall), null))).getMessage());
    assertEquals("pool must be 'chat' but was 'embed'", assertThrows(IllegalArgumentException.class,
        () -> r.onAffinity(SharedAffinity.of("embed", "k", "a", wall + 1))).getMessage());
    assertEquals("quota", assertThrows(NullPointerException.class, () -> r.onQuota(null)).getMessage());
    assertEquals("affinity", assertThrows(NullPointerException.class, () -> r.onAffinity(null)).getMessage());
    r.onQuota(SharedQuota.of("chat", "a", null, SharedQuota.Window.of(-1, 5, -1, wall)));
    assertEquals(OptionalLong.of(5), pool.snapshot().provider("a").orElseThrow().tokenQuota().orElseThrow().remaining());
  }

  @Test
  void aStoreOutageIsOneWarnAndOneEventEachWay() throws Exception {
    List<PoolEvent> events = new CopyOnWriteArrayList<>();
    pool(tickerA, up.startChat(), events);
    SharedState.Receiver r = shared.receiver(0);
    String logged = ListenerCompositionTest.capturingStderr(() -> {
      r.onSharedStateDown("connection refused to 127.0.0.1:6379");
      r.onSharedStateDown("connection refused to 127.0.0.1:6379");
    });
    assertEquals(List.of(new PoolEvent.SharedStateDown("connection refused to 127.0.0.1:6379")), events);
    assertEquals(1, logged.split("shared state down", -1).length - 1, logged);
    assertTrue(logged.contains("WARN"), logged);
    r.onSharedStateUp();
    r.onSharedStateUp();
    assertEquals(List.of(new PoolEvent.SharedStateDown("connection refused to 127.0.0.1:6379"),
        new PoolEvent.SharedStateUp()), events);
    assertEquals("SharedStateDown[provider=, tier=0, reason=x]", new PoolEvent.SharedStateDown("x").toString());
    assertEquals("SharedStateUp[provider=, tier=0]", new PoolEvent.SharedStateUp().toString());
  }

  @Test
  void valuesCheckWhatTheyAreGiven() {
    assertEquals("requests or tokens is required", assertThrows(IllegalArgumentException.class,
        () -> SharedQuota.of("p", "a", null, null)).getMessage());
    assertEquals("limit must be >= -1 but was -2", assertThrows(IllegalArgumentException.class,
        () -> SharedQuota.Window.of(-2, 0, 0, 0)).getMessage());
    assertEquals("seenEpochMillis must be >= 0 but was -1", assertThrows(IllegalArgumentException.class,
        () -> SharedQuota.Window.of(1, 0, 0, -1)).getMessage());
    assertEquals("key must not be empty", assertThrows(IllegalArgumentException.class,
        () -> SharedAffinity.of("p", "", "a", 0)).getMessage());
    assertEquals("expiresEpochMillis must be >= 0 but was -1", assertThrows(IllegalArgumentException.class,
        () -> SharedAffinity.of("p", "k", "a", -1)).getMessage());
    assertEquals("SharedQuota{pool=p, provider=a, tokens=Window{limit=-1, remaining=5, seenEpochMillis=9}}",
        SharedQuota.of("p", "a", null, SharedQuota.Window.of(-1, 5, -1, 9)).toString());
    assertEquals(SharedAffinity.of("p", "k", "a", 3), SharedAffinity.of("p", "k", "a", 3));
  }
}
