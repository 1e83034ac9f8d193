package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The kill switch, at the public API against loopback servers: drain and resume a provider, a tier, the pool. */
class DrainTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();
  private final List<PoolEvent> events = new CopyOnWriteArrayList<>();
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void close() {
    threads.shutdownNow();
    up.close();
  }

  private static Provider provider(String name, MockWebServer s) {
    return Provider.builder(name).baseUrl(Upstreams.baseUrl(s)).build();
  }

  private ProviderPool.Builder pool() {
    return ProviderPool.builder().name("chat").ticker(ticker).random(ScriptedRandom.seeded(5))
        .strategy(Strategy.ROUND_ROBIN).onEvent(events::add);
  }

  private static ProviderSnapshot.Status status(ProviderPool pool, String provider) {
    return pool.snapshot().provider(provider).orElseThrow().status();
  }

  private List<PoolEvent> drainEvents() {
    List<PoolEvent> out = new ArrayList<>();
    for (PoolEvent e : events) {
      if (e instanceof PoolEvent.Drained || e instanceof PoolEvent.Resumed) {
        out.add(e);
      }
    }
    return out;
  }

  @Test
  void aDrainedProviderFinishesWhatIsInFlightAndGetsNoNewTrafficUntilResumed() throws Exception {
    CountDownLatch arrived = new CountDownLatch(3);
    CountDownLatch release = new CountDownLatch(1);
    MockWebServer a = up.start(r -> {
      arrived.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return Fixtures.json("openai-chat.json");
    });
    MockWebServer b = up.startChat();
    ProviderPool pool = pool().tier(provider("a", a)).tier(provider("b", b)).build();
    OkHttpClient c = up.client(pool);
    List<Future<String[]>> inFlight = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      inFlight.add(threads.submit(() -> Upstreams.call(c, Upstreams.chat(pool))));
    }
    assertTrue(arrived.await(10, TimeUnit.SECONDS), "three requests reached a");

    pool.drain("a");
    ProviderSnapshot s = pool.snapshot().provider("a").orElseThrow();
    assertEquals(ProviderSnapshot.Status.DRAINED, s.status());
    assertEquals(3, s.inFlight(), "in flight still counted");
    assertEquals(List.of(new PoolEvent.Drained("a", 0)), drainEvents());

    // New requests spill to tier 1 while a holds its three.
    for (int i = 0; i < 4; i++) {
      assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
    }
    assertEquals(4, up.count(b));
    assertEquals(3, up.count(a));

    release.countDown();
    for (Future<String[]> f : inFlight) {
      assertEquals("200", f.get(10, TimeUnit.SECONDS)[0], "a request in flight finishes normally");
    }
    s = pool.snapshot().provider("a").orElseThrow();
    assertEquals(0, s.inFlight());
    assertEquals(3, s.requests());
    assertEquals(3, s.successes(), "and is counted");
    assertEquals(ProviderSnapshot.Status.DRAINED, s.status());
    assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
    assertEquals(3, up.count(a), "still no new traffic");

    pool.resume("a");
    assertEquals(ProviderSnapshot.Status.AVAILABLE, status(pool, "a"));
    assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
    assertEquals(4, up.count(a), "back in rotation");
    assertEquals(List.of(new PoolEvent.Drained("a", 0), new PoolEvent.Resumed("a", 0)), drainEvents());
    pool.resume("a"); // already in rotation: no event
    assertEquals(2, drainEvents().size());
  }

  @Test
  void aDrainedTierSpillsToTheNextAndComesBackOnResume() throws Exception {
    MockWebServer a1 = up.startChat();
    MockWebServer a2 = up.startChat();
    MockWebServer b = up.startChat();
    ProviderPool pool = pool().tier(provider("a1", a1), provider("a2", a2)).tier(provider("b", b)).build();
    OkHttpClient c = up.client(pool);
    pool.drainTier(0);
    assertEquals(ProviderSnapshot.Status.DRAINED, status(pool, "a1"));
    assertEquals(ProviderSnapshot.Status.DRAINED, status(pool, "a2"));
    assertEquals(ProviderSnapshot.Status.AVAILABLE, status(pool, "b"));
    for (int i = 0; i < 5; i++) {
      assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
    }
    assertEquals(5, up.count(b));
    assertEquals(0, up.count(a1) + up.count(a2));

    pool.resumeTier(0);
    for (int i = 0; i < 4; i++) {
      assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
    }
    assertEquals(5, up.count(b));
    assertEquals(2, up.count(a1));
    assertEquals(2, up.count(a2));
    assertEquals(List.of(new PoolEvent.Drained("a1", 0), new PoolEvent.Drained("a2", 0),
        new PoolEvent.Resumed("a1", 0), new PoolEvent.Resumed("a2", 0)), drainEvents());
  }

  @Test
  void aDrainedProviderIsNeitherTheFailOpenChoiceNorAProbe() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.http("openai-429-rate-limit.http")); // retry-after: 2
    MockWebServer b = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    // Reactive: the fixture's 429 also says 0 requests left, which quota routing never fails open to.
    ProviderPool pool = pool().quotaRouting(false).whenAllEvicted(AllEvictedPolicy.FAIL_OPEN).tier(provider("a", a))
        .tier(provider("b", b)).build();
    OkHttpClient c = up.client(pool);
    assertEquals("429", Upstreams.call(c, Upstreams.chat(pool))[0]); // a, then b: both evicted for 2 s
    assertEquals(1, up.count(a));
    assertEquals(1, up.count(b));
    pool.drain("a");
    assertEquals(ProviderSnapshot.Status.DRAINED, status(pool, "a"));
    assertEquals(Optional.of(Duration.ofSeconds(2)), pool.snapshot().provider("a").orElseThrow().evictedFor(),
        "the eviction in force still shows");

    // Both out: fail-open picks the provider whose eviction ends first, but never a drained one.
    assertEquals("429", Upstreams.call(c, Upstreams.chat(pool))[0]);
    assertEquals(1, up.count(a));
    assertEquals(2, up.count(b));

    // Past a's deadline a drained provider is not probed either.
    ticker.advance(Duration.ofSeconds(3));
    events.clear();
    assertEquals("429", Upstreams.call(c, Upstreams.chat(pool))[0]); // b's probe
    assertEquals(1, up.count(a));
    assertTrue(events.stream().noneMatch(e -> e instanceof PoolEvent.Probing && e.provider().equals("a")), events.toString());

    pool.resume("a");
    // The delay a's server named ended while it was drained: back for every request, no probe.
    assertEquals(ProviderSnapshot.Status.AVAILABLE, status(pool, "a"), "the eviction ended while it was drained");
    Upstreams.call(c, Upstreams.chat(pool));
    assertEquals(2, up.count(a), "after resume, a takes traffic");
    assertTrue(events.stream().anyMatch(e -> e instanceof PoolEvent.Restored && e.provider().equals("a")), events.toString());
  }

  @Test
  void aDrainedPoolRefusesAtOnceSayingSoUntilResumed() throws Exception {
    MockWebServer a = up.startChat();
    MockWebServer b = up.startChat();
    ProviderPool pool = pool().tier(provider("a", a)).tier(provider("b", b)).build();
    OkHttpClient c = up.client(pool);
    pool.drain("b");
    pool.drainAll();
    assertEquals(List.of(new PoolEvent.Drained("b", 1), new PoolEvent.Drained("a", 0)), drainEvents(),
        "b was already out: one event for a");
    NoProviderAvailableException e = assertThrows(NoProviderAvailableException.class,
        () -> Upstreams.call(c, Upstreams.chat(pool)));
    assertEquals("no provider available: pool 'chat' is drained (drainAll; resume puts it back in rotation)",
        e.getMessage());
    assertEquals(List.of(), e.attempts());
    assertEquals(Duration.ZERO, e.earliestReturn());
    assertEquals(0, up.count(a) + up.count(b), "no upstream call");
    assertTrue(pool.snapshot().providers().stream().allMatch(p -> p.status() == ProviderSnapshot.Status.DRAINED));

    // A provider added while the pool is drained is drained too; resuming one provider is not enough.
    MockWebServer n = up.startChat();
    pool.update(List.of(List.of(provider("a", a)), List.of(provider("b", b), provider("new", n))));
    assertEquals(ProviderSnapshot.Status.DRAINED, status(pool, "new"));
    pool.resume("a");
    assertThrows(NoProviderAvailableException.class, () -> Upstreams.call(c, Upstreams.chat(pool)));
    assertEquals(0, up.count(a) + up.count(b) + up.count(n));

    pool.resumeAll(); // the pool, and every provider drained one by one (b)
    assertTrue(pool.snapshot().providers().stream().allMatch(p -> p.status() == ProviderSnapshot.Status.AVAILABLE));
    assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
    assertEquals(1, up.count(a));
    assertEquals(List.of(new PoolEvent.Drained("b", 1), new PoolEvent.Drained("a", 0), new PoolEvent.Resumed("a", 0),
        new PoolEvent.Resumed("b", 1), new PoolEvent.Resumed("new", 1)), drainEvents());
  }

  @Test
  void everyProviderDrainedOneByOneAlsoSaysThePoolIsDrained() {
    MockWebServer a = up.startChat();
    ProviderPool pool = pool().tier(provider("a", a)).build();
    pool.drain("a");
    NoProviderAvailableException e = assertThrows(NoProviderAvailableException.class,
        () -> Upstreams.call(up.client(pool), Upstreams.chat(pool)));
    assertEquals("no provider available: pool 'chat' is drained (every provider; resume puts it back in rotation)",
        e.getMessage());
    assertEquals(0, up.count(a));
  }

  @Test
  void aDrainSurvivesAnUpdateThatKeepsTheName() throws Exception {
    MockWebServer a = up.startChat();
    MockWebServer b = up.startChat();
    ProviderPool pool = pool().tier(provider("a", a), provider("b", b)).build();
    OkHttpClient c = up.client(pool);
    pool.drain("a");
    // a moves to tier 1 with another weight; its drain goes with it
    pool.update(List.of(List.of(provider("b", b)), List.of(Provider.builder("a").baseUrl(Upstreams.baseUrl(a))
        .weight(5).build())));
    ProviderSnapshot s = pool.snapshot().provider("a").orElseThrow();
    assertEquals(ProviderSnapshot.Status.DRAINED, s.status());
    assertEquals(1, s.tier());
    pool.drainTier(0); // b: now nothing is in rotation
    NoProviderAvailableException e = assertThrows(NoProviderAvailableException.class,
        () -> Upstreams.call(c, Upstreams.chat(pool)));
    assertTrue(e.getMessage().contains("is drained (every provider;"), e.getMessage());
    pool.resumeTier(1);
    assertEquals("200", Upstreams.call(c, Upstreams.chat(pool))[0]);
    assertEquals(1, up.count(a));
    assertEquals(0, up.count(b));
    assertEquals(new PoolEvent.Resumed("a", 1), drainEvents().get(drainEvents().size() - 1));
  }

  @Test
  void aDrainedProviderIsListedAsSuchWhenNothingElseIsLeft() throws Exception {
    MockWebServer a = up.startChat();
    MockWebServer b = up.start(r -> Fixtures.http("openai-429-rate-limit.http"));
    ProviderPool pool = pool().whenAllEvicted(AllEvictedPolicy.FAIL_FAST).tier(provider("a", a), provider("b", b))
        .build();
    OkHttpClient c = up.client(pool);
    pool.drain("a");
    assertEquals("429", Upstreams.call(c, Upstreams.chat(pool))[0]); // b evicted for 2 s; a drained
    NoProviderAvailableException e = assertThrows(NoProviderAvailableException.class,
        () -> Upstreams.call(c, Upstreams.chat(pool)));
    assertTrue(e.getMessage().startsWith("no provider available (policy FAIL_FAST): a (tier 0) drained; b (tier 0)"
        + " evicted for 2000 ms more; earliest return in 2000 ms"), e.getMessage());
    assertEquals(Duration.ofSeconds(2), e.earliestReturn(), "a drain has no deadline: b returns first");
  }

  @Test
  void unknownProvidersAndTiersAreRefusedByName() {
    ProviderPool pool = pool().tier(Provider.builder("a").baseUrl("http://127.0.0.1:9/v1").build())
        .tier(Provider.builder("b").baseUrl("http://127.0.0.1:9/v1").build()).build();
    assertEquals("provider must be one of [a, b] but was 'x'",
        assertThrows(IllegalArgumentException.class, () -> pool.drain("x")).getMessage());
    assertEquals("provider must be one of [a, b] but was 'x'",
        assertThrows(IllegalArgumentException.class, () -> pool.resume("x")).getMessage());
    assertEquals("provider", assertThrows(NullPointerException.class, () -> pool.drain(null)).getMessage());
    assertEquals("provider", assertThrows(NullPointerException.class, () -> pool.resume(null)).getMessage());
    assertEquals("tier must be in [0, 1] but was 2",
        assertThrows(IllegalArgumentException.class, () -> pool.drainTier(2)).getMessage());
    assertEquals("tier must be in [0, 1] but was -1",
        assertThrows(IllegalArgumentException.class, () -> pool.resumeTier(-1)).getMessage());
    assertFalse(pool.snapshot().providers().stream().anyMatch(p -> p.status() == ProviderSnapshot.Status.DRAINED));
    assertEquals(List.of(), drainEvents());
  }
}
