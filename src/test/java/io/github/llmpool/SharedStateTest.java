package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.spi.SharedEviction;
import io.github.llmpool.spi.SharedState;
import java.time.Duration;
import java.util.Optional;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two pools in one JVM stand in for two instances of one pool, sharing an in-memory
 * {@link SharedState}: what one learns from a provider keeps the other off it. Fake tickers with
 * different monotonic times and one wall clock, as two machines have; no sleeps.
 */
class SharedStateTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker tickerA = new FakeTicker();
  private final FakeTicker tickerB = new FakeTicker().advanceNanos(987_654_321_000L).setWallMillis(tickerA.wallMillis());
  private final InMemorySharedState shared = new InMemorySharedState();
  private final List<PoolEvent> eventsB = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    up.close();
  }

  private void advance(Duration d) {
    tickerA.advance(d);
    tickerB.advance(d);
  }

  /** A server that answers 429 with the Retry-After in {@code retryAfter}, or 200 when it is null. */
  private MockWebServer limited(AtomicReference<String> retryAfter) {
    return up.start(r -> {
      String ra = retryAfter.get();
      return ra == null ? Fixtures.json("openai-chat.json")
          : new MockResponse.Builder().code(429).addHeader("Retry-After", ra).addHeader("content-type", "application/json")
              .body("{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}")
              .build();
    });
  }

  private ProviderPool pool(FakeTicker ticker, MockWebServer a, MockWebServer b, List<PoolEvent> events) {
    return ProviderPool.builder().name("chat").ticker(ticker).sharedState(shared).onEvent(events::add)
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).build())
        .tier(Provider.builder("b").baseUrl(Upstreams.baseUrl(b)).build())
        .build();
  }

  private static ProviderSnapshot a(ProviderPool pool) {
    return pool.snapshot().provider("a").orElseThrow();
  }

  @Test
  void a429WithRetryAfterOnOnePoolKeepsTheOtherOffThatProvider() throws Exception {
    MockWebServer aA = limited(new AtomicReference<>("30"));
    MockWebServer aB = up.startChat(); // B's view of provider a would answer: it must not be asked
    MockWebServer bA = up.startChat();
    MockWebServer bB = up.startChat();
    ProviderPool poolA = pool(tickerA, aA, bA, new CopyOnWriteArrayList<>());
    ProviderPool poolB = pool(tickerB, aB, bB, eventsB);

    assertEquals("200", Upstreams.call(up.client(poolA), Upstreams.chat(poolA))[0]); // a: 429, then b
    assertEquals(List.of(SharedEviction.builder().pool("chat").provider("a")
        .deadlineEpochMillis(tickerA.wallMillis() + 30_000).cause(Outcome.RATE_LIMITED).serverHint(true).build()),
        shared.published, "published once, when decided");
    assertEquals(ProviderSnapshot.Status.AVAILABLE, a(poolB).status(), "publishing is asynchronous: not yet arrived");

    assertEquals(1, shared.deliver());
    assertEquals(ProviderSnapshot.Status.EVICTED, a(poolB).status());
    assertEquals(Optional.of(Duration.ofSeconds(30)), a(poolB).evictedFor());
    assertEquals(0, a(poolB).ejections(), "the instance that decided counted the ejection");
    assertTrue(eventsB.stream().noneMatch(e -> e instanceof PoolEvent.Evicted), eventsB.toString());

    OkHttpClient cB = up.client(poolB);
    for (int i = 0; i < 5; i++) {
      assertEquals("200", Upstreams.call(cB, Upstreams.chat(poolB))[0]);
    }
    assertEquals(0, up.count(aB), "pool B keeps off a");
    assertEquals(5, up.count(bB));
    advance(Duration.ofSeconds(29));
    assertEquals("200", Upstreams.call(cB, Upstreams.chat(poolB))[0]);
    assertEquals(0, up.count(aB));
    assertEquals(Optional.of(Duration.ofSeconds(1)), a(poolB).evictedFor());

    advance(Duration.ofSeconds(2)); // past the deadline: B probes a itself
    assertEquals("200", Upstreams.call(cB, Upstreams.chat(poolB))[0]);
    assertEquals(1, up.count(aB));
    assertEquals(ProviderSnapshot.Status.AVAILABLE, a(poolB).status());
    assertEquals(1, shared.published.size(), "an applied eviction is not published again");
  }

  @Test
  void aShorterRemoteEvictionDoesNotShortenALongerLocalOneAndALongerOneExtendsIt() throws Exception {
    MockWebServer aA = limited(new AtomicReference<>("5"));
    MockWebServer aB = limited(new AtomicReference<>("30"));
    ProviderPool poolA = pool(tickerA, aA, up.startChat(), new CopyOnWriteArrayList<>());
    ProviderPool poolB = pool(tickerB, aB, up.startChat(), eventsB);

    assertEquals("200", Upstreams.call(up.client(poolB), Upstreams.chat(poolB))[0]); // B: a out for 30 s
    advance(Duration.ofSeconds(1));
    assertEquals("200", Upstreams.call(up.client(poolA), Upstreams.chat(poolA))[0]); // A: a out for 5 s
    assertEquals(Optional.of(Duration.ofSeconds(29)), a(poolB).evictedFor());
    assertEquals(Optional.of(Duration.ofSeconds(5)), a(poolA).evictedFor());

    assertEquals(2, shared.deliver()); // B learns A's 5 s, A learns B's 30 s
    assertEquals(Optional.of(Duration.ofSeconds(29)), a(poolB).evictedFor(), "a shorter remote eviction never shortens one in force");
    assertEquals(1, a(poolB).ejections());
    assertEquals(Optional.of(Duration.ofSeconds(29)), a(poolA).evictedFor(), "a longer one extends it: the later deadline wins");
    assertEquals(2, shared.published.size());

    advance(Duration.ofSeconds(10)); // past A's own 5 s: A still keeps off a
    assertEquals("200", Upstreams.call(up.client(poolA), Upstreams.chat(poolA))[0]);
    assertEquals(1, up.count(aA));
  }

  @Test
  void theReceiverIgnoresWhatItCannotUseAndRefusesAnotherPool() throws Exception {
    ProviderPool pool = pool(tickerA, up.startChat(), up.startChat(), eventsB);
    SharedState.Receiver r = shared.receiver(0);
    long wall = tickerA.wallMillis();
    SharedEviction.Builder e = SharedEviction.builder().pool("chat").provider("a").cause(Outcome.SERVER_ERROR);
    r.onEviction(e.deadlineEpochMillis(wall).build()); // already past
    r.onEviction(SharedEviction.builder().pool("chat").provider("zz").cause(Outcome.SERVER_ERROR)
        .deadlineEpochMillis(wall + 60_000).build()); // a provider this pool does not have
    assertEquals(ProviderSnapshot.Status.AVAILABLE, a(pool).status());
    assertEquals("pool must be 'chat' but was 'embed'", assertThrows(IllegalArgumentException.class,
        () -> r.onEviction(SharedEviction.builder().pool("embed").provider("a").cause(Outcome.SERVER_ERROR)
            .deadlineEpochMillis(wall + 60_000).build())).getMessage());
    assertEquals("eviction", assertThrows(NullPointerException.class, () -> r.onEviction(null)).getMessage());
    r.onEviction(e.deadlineEpochMillis(wall + 86_400_000L).build()); // a day: cut to quotaDuration (10 min)
    assertEquals(Optional.of(EvictionPolicy.defaults().quotaDuration()), a(pool).evictedFor());
    assertEquals(List.of(), shared.published);
  }

  @Test
  void aThrowingPublisherIsLoggedAndTheCallGoesOn() throws Exception {
    SharedState failing = (pool, receiver) -> eviction -> {
      throw new IllegalStateException("connection to redis lost " + eviction);
    };
    MockWebServer a = limited(new AtomicReference<>("30"));
    ProviderPool pool = ProviderPool.builder().name("chat").ticker(tickerA).sharedState(failing)
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).build())
        .tier(Provider.builder("b").baseUrl(Upstreams.baseUrl(up.startChat())).build()).build();
    String logged = ListenerCompositionTest.capturingStderr(
        () -> assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]));
    assertTrue(logged.contains("llmpool[chat] SharedState publisher threw java.lang.IllegalStateException at "), logged);
    assertTrue(!logged.contains("redis lost"), logged);
    assertEquals(ProviderSnapshot.Status.EVICTED, a(pool).status());
  }

  @Test
  void joinIsCalledOnceAtBuildAndTheDefaultSharesNothing() {
    List<String> joined = new CopyOnWriteArrayList<>();
    SharedState counting = (pool, receiver) -> {
      joined.add(pool);
      return eviction -> {};
    };
    Provider p = Provider.builder("a").baseUrl("http://127.0.0.1:9/v1").build();
    ProviderPool.Builder b = ProviderPool.builder().name("embed").sharedState(counting).tier(p);
    assertEquals(List.of(), joined);
    ProviderPool pool = b.build();
    assertEquals(List.of("embed"), joined);
    assertSame(counting, pool.sharedState());
    assertSame(SharedState.LOCAL_ONLY, ProviderPool.builder().tier(p).build().sharedState());
    assertEquals("SharedState.LOCAL_ONLY", SharedState.LOCAL_ONLY.toString());
    assertEquals("sharedState", assertThrows(NullPointerException.class, () -> ProviderPool.builder().sharedState(null))
        .getMessage());
    assertEquals("SharedState.join returned null", assertThrows(NullPointerException.class,
        () -> ProviderPool.builder().sharedState((pool1, receiver) -> null).tier(p).build()).getMessage());
  }

  @Test
  void sharedEvictionsCheckWhatTheyAreGiven() {
    assertEquals("pool", assertThrows(NullPointerException.class, () -> SharedEviction.builder().pool(null)).getMessage());
    assertEquals("provider", assertThrows(NullPointerException.class, () -> SharedEviction.builder().provider(null))
        .getMessage());
    assertEquals("cause", assertThrows(NullPointerException.class, () -> SharedEviction.builder().cause(null)).getMessage());
    assertEquals("cause must be a retryable outcome but was SUCCESS", assertThrows(IllegalArgumentException.class,
        () -> SharedEviction.builder().cause(Outcome.SUCCESS)).getMessage());
    assertEquals("deadlineEpochMillis must be >= 0 but was -1", assertThrows(IllegalArgumentException.class,
        () -> SharedEviction.builder().deadlineEpochMillis(-1)).getMessage());
    SharedEviction.Builder b = SharedEviction.builder();
    assertEquals("pool is required", assertThrows(IllegalArgumentException.class, b::build).getMessage());
    b.pool("p");
    assertEquals("provider is required", assertThrows(IllegalArgumentException.class, b::build).getMessage());
    b.provider("a");
    assertEquals("deadlineEpochMillis is required", assertThrows(IllegalArgumentException.class, b::build).getMessage());
    b.deadlineEpochMillis(5);
    assertEquals("cause is required", assertThrows(IllegalArgumentException.class, b::build).getMessage());
    SharedEviction e = b.cause(Outcome.TIMEOUT).build();
    assertEquals("SharedEviction{pool=p, provider=a, deadlineEpochMillis=5, cause=TIMEOUT}", e.toString());
    assertEquals(e, b.build());
    assertEquals(e.hashCode(), b.build().hashCode());
    assertTrue(b.serverHint(true).build().toString().endsWith(", serverHint}"));
  }
}
