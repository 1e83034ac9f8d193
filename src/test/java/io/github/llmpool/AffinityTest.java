package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Session affinity: a key sticks to its provider while it is eligible, and moves only when it is not. */
class AffinityTest {
  private static final String SESSION = "X-Session-Id";

  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();

  @AfterEach
  void close() {
    up.close();
  }

  /** A provider that names itself in {@code x-upstream}, and answers 503 while {@code failing} is set. */
  private MockWebServer server(String name, AtomicBoolean failing) {
    MockResponse ok = Fixtures.json("openai-chat.json").newBuilder().addHeader("x-upstream", name).build();
    MockResponse overloaded = new MockResponse.Builder().code(503).body("{\"error\":{\"message\":\"overloaded\"}}").build();
    return up.start(r -> failing.get() ? overloaded : ok);
  }

  private MockWebServer server(String name) {
    return server(name, new AtomicBoolean());
  }

  private static Provider p(String name, MockWebServer s) {
    return Provider.builder(name).baseUrl(Upstreams.baseUrl(s)).build();
  }

  private static Request keyed(ProviderPool pool, String key) {
    Request r = Upstreams.chat(pool);
    return key == null ? r : r.newBuilder().header(SESSION, key).build();
  }

  /** The provider that served the request, or its status when it failed. */
  private static String served(OkHttpClient client, Request request) throws IOException {
    try (Response r = client.newCall(request).execute()) {
      r.body().string();
      return r.isSuccessful() ? r.header("x-upstream") : String.valueOf(r.code());
    }
  }

  private static long tableSize(ProviderPool pool) {
    return pool.core().affinity().size();
  }

  @Test
  void sameKeyGoesToTheSameProviderAcrossAThousandRequests() throws Exception {
    MockWebServer a = server("a");
    MockWebServer b = server("b");
    MockWebServer c = server("c");
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.ROUND_ROBIN).ticker(ticker)
        .affinity(Affinity.header(SESSION)).tier(p("a", a), p("b", b), p("c", c)).build();
    OkHttpClient client = up.client(pool);
    String first = served(client, keyed(pool, "s1"));
    for (int i = 1; i < 1000; i++) {
      assertEquals(first, served(client, keyed(pool, "s1")), "request " + i);
    }
    assertEquals(List.of(1000), List.of(up.count(a), up.count(b), up.count(c)).stream().filter(n -> n > 0).toList());
    // Without a key the same pool spreads evenly.
    for (int i = 0; i < 30; i++) {
      served(client, keyed(pool, null));
    }
    assertEquals(1030, up.count(a) + up.count(b) + up.count(c));
    assertEquals(List.of(10, 10, 10), List.of(up.count(a), up.count(b), up.count(c)).stream()
        .map(n -> n >= 1000 ? n - 1000 : n).toList());
    assertEquals(1, tableSize(pool));
  }

  @Test
  void keyMovesAfterItsProviderIsEvictedAndNotBefore() throws Exception {
    Map<String, AtomicBoolean> failing = Map.of("a", new AtomicBoolean(), "b", new AtomicBoolean());
    MockWebServer a = server("a", failing.get("a"));
    MockWebServer b = server("b", failing.get("b"));
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.ROUND_ROBIN).ticker(ticker).retry(RetryPolicy.none())
        .eviction(EvictionPolicy.builder().failureThreshold(2).build())
        .affinity(Affinity.header(SESSION)).tier(p("a", a), p("b", b)).build();
    OkHttpClient client = up.client(pool);
    String home = served(client, keyed(pool, "s1"));
    String other = home.equals("a") ? "b" : "a";
    failing.get(home).set(true);
    assertEquals("503", served(client, keyed(pool, "s1"))); // first failure: not evicted, the key stays
    assertEquals(ProviderSnapshot.Status.AVAILABLE, pool.snapshot().provider(home).orElseThrow().status());
    assertEquals(home, pool.core().affinity().provider("s1"));
    assertEquals("503", served(client, keyed(pool, "s1"))); // second failure: evicted
    assertEquals(ProviderSnapshot.Status.EVICTED, pool.snapshot().provider(home).orElseThrow().status());
    assertEquals(other, served(client, keyed(pool, "s1"))); // moved
    failing.get(home).set(false);
    ticker.advance(Duration.ofMinutes(10)); // the eviction is over: home could take traffic again
    for (int i = 0; i < 20; i++) {
      assertEquals(other, served(client, keyed(pool, "s1"))); // but the key stays where it moved
    }
    assertEquals(other, pool.core().affinity().provider("s1"));
  }

  @Test
  void keyMovesWithTheFailoverOfItsRequest() throws Exception {
    Map<String, AtomicBoolean> failing = Map.of("a", new AtomicBoolean(), "b", new AtomicBoolean());
    MockWebServer a = server("a", failing.get("a"));
    MockWebServer b = server("b", failing.get("b"));
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.ROUND_ROBIN).ticker(ticker)
        .eviction(EvictionPolicy.builder().failureThreshold(5).build())
        .affinity(Affinity.header(SESSION)).tier(p("a", a), p("b", b)).build();
    OkHttpClient client = up.client(pool);
    String home = served(client, keyed(pool, "s1"));
    String other = home.equals("a") ? "b" : "a";
    failing.get(home).set(true);
    assertEquals(other, served(client, keyed(pool, "s1"))); // 503 on home (not evicted), failed over
    assertEquals(ProviderSnapshot.Status.AVAILABLE, pool.snapshot().provider(home).orElseThrow().status());
    failing.get(home).set(false);
    for (int i = 0; i < 10; i++) {
      assertEquals(other, served(client, keyed(pool, "s1")));
    }
  }

  @Test
  void differentKeysSpreadAndEachStays() throws Exception {
    MockWebServer a = server("a");
    MockWebServer b = server("b");
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.WEIGHTED).random(ScriptedRandom.seeded(11)).ticker(ticker)
        .affinity(Affinity.header(SESSION)).tier(p("a", a), p("b", b)).build();
    OkHttpClient client = up.client(pool);
    Map<String, String> home = new HashMap<>();
    for (int i = 0; i < 100; i++) {
      home.put("s" + i, served(client, keyed(pool, "s" + i)));
    }
    assertTrue(up.count(a) >= 30 && up.count(b) >= 30, "a=" + up.count(a) + " b=" + up.count(b));
    for (int i = 0; i < 100; i++) {
      assertEquals(home.get("s" + i), served(client, keyed(pool, "s" + i)));
    }
    assertEquals(100, tableSize(pool));
  }

  @Test
  void tableStaysWithinItsBound() throws Exception {
    MockWebServer a = server("a");
    ProviderPool pool = ProviderPool.builder().ticker(ticker).affinity(Affinity.header(SESSION).maxSize(10))
        .tier(p("a", a)).build();
    OkHttpClient client = up.client(pool);
    for (int i = 0; i < 60; i++) {
      served(client, keyed(pool, "s" + i));
    }
    assertEquals(10, tableSize(pool));
    assertEquals(60, up.count(a));
  }

  @Test
  void tableBoundHoldsUnderManyKeys() {
    io.github.llmpool.internal.engine.AffinityTable t =
        new io.github.llmpool.internal.engine.AffinityTable(Affinity.user().maxSize(100), ticker);
    for (int i = 0; i < 5_000; i++) {
      String k = "k" + i;
      t.remember(k, i % 2 == 0 ? "a" : "b", t.provider(k));
    }
    assertEquals(100, t.size());
  }

  @Test
  void idleKeyIsForgottenAfterItsExpiry() throws Exception {
    MockWebServer a = server("a");
    MockWebServer b = server("b");
    // Weighted draws: 0 -> a, then 1 -> b.
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.WEIGHTED).random(new ScriptedRandom(1, 0, 1))
        .ticker(ticker).affinity(Affinity.header(SESSION).idleExpiry(Duration.ofMinutes(1)))
        .tier(p("a", a), p("b", b)).build();
    OkHttpClient client = up.client(pool);
    assertEquals("a", served(client, keyed(pool, "s1")));
    ticker.advance(Duration.ofSeconds(59));
    assertEquals("a", served(client, keyed(pool, "s1"))); // used again: idle time restarts
    ticker.advance(Duration.ofSeconds(59));
    assertEquals(1, tableSize(pool));
    ticker.advance(Duration.ofSeconds(2)); // 61 s idle
    assertEquals(0, tableSize(pool));
    assertEquals("b", served(client, keyed(pool, "s1"))); // chosen afresh
    assertEquals("b", pool.core().affinity().provider("s1"));
  }

  @Test
  void keyReturnsToItsPrimaryTierWhenItComesBack() throws Exception {
    AtomicBoolean limited = new AtomicBoolean(true);
    MockWebServer a = up.start(r -> limited.get() ? Fixtures.http("openai-429-rate-limit.http")
        : Fixtures.json("openai-chat.json").newBuilder().addHeader("x-upstream", "a").build());
    MockWebServer b = server("b");
    ProviderPool pool = ProviderPool.builder().ticker(ticker).affinity(Affinity.header(SESSION))
        .eviction(EvictionPolicy.builder().baseDuration(Duration.ofSeconds(1)).maxDuration(Duration.ofSeconds(2)).build())
        .tier(p("a", a)).tier(p("b", b)).build();
    OkHttpClient client = up.client(pool);
    assertEquals("b", served(client, keyed(pool, "s1"))); // 429 on a, spilled to b
    assertEquals("b", served(client, keyed(pool, "s1")));
    limited.set(false);
    ticker.advance(Duration.ofSeconds(3));
    assertEquals("a", served(client, keyed(pool, "s1"))); // tier 0 is back: affinity never overrides priority
    assertEquals("a", served(client, keyed(pool, "s1")));
    assertEquals("a", pool.core().affinity().provider("s1"));
  }

  @Test
  void keyMovesWhenItsProviderIsWeightedToZero() throws Exception {
    MockWebServer a = server("a");
    MockWebServer b = server("b");
    Provider pa = p("a", a);
    Provider pb = p("b", b);
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.ROUND_ROBIN).ticker(ticker)
        .affinity(Affinity.header(SESSION)).tier(pa, pb).build();
    OkHttpClient client = up.client(pool);
    String home = served(client, keyed(pool, "s1"));
    pool.update(List.of(List.of(home.equals("a") ? pa.withWeight(0) : pa, home.equals("b") ? pb.withWeight(0) : pb)));
    String other = home.equals("a") ? "b" : "a";
    assertEquals(other, served(client, keyed(pool, "s1")));
    pool.update(List.of(List.of(pa, pb)));
    assertEquals(other, served(client, keyed(pool, "s1")));
  }

  @Test
  void bodyUserIsAKey() throws Exception {
    assertSticky(Affinity.user(), "{\"model\":\"m\",\"user\":\"u-42\"}", null);
  }

  @Test
  void bodyPromptCacheKeyIsAKey() throws Exception {
    assertSticky(Affinity.promptCacheKey(), "{\"model\":\"m\",\"prompt_cache_key\":\"pck-1\"}", null);
  }

  @Test
  void functionOfTheRequestIsAKey() throws Exception {
    Affinity byTenantAndUser = Affinity.key(r -> r.method() + " " + r.path() + " " + r.header("X-Tenant").orElse(null) + "/"
        + r.user().orElse(null) + "/" + r.model().orElse(null));
    assertSticky(byTenantAndUser, "{\"model\":\"m\",\"user\":\"u\"}", "t1");
  }

  private void assertSticky(Affinity affinity, String body, String tenant) throws Exception {
    MockWebServer a = server("a");
    MockWebServer b = server("b");
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.ROUND_ROBIN).ticker(ticker).affinity(affinity)
        .tier(p("a", a), p("b", b)).build();
    OkHttpClient client = up.client(pool);
    for (int i = 0; i < 20; i++) {
      Request.Builder r = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
          .post(RequestBody.create(body, Upstreams.JSON));
      if (tenant != null) {
        r.header("X-Tenant", tenant);
      }
      served(client, r.build());
    }
    assertEquals(20, Math.max(up.count(a), up.count(b)));
    assertEquals(1, tableSize(pool));
  }

  @Test
  void keyFunctionThatThrowsRoutesWithoutAffinity() throws Exception {
    MockWebServer a = server("a");
    ProviderPool pool = ProviderPool.builder().ticker(ticker)
        .affinity(Affinity.key(r -> {
          throw new IllegalStateException("boom");
        })).tier(p("a", a)).build();
    assertEquals("a", served(up.client(pool), keyed(pool, "s1")));
    assertEquals(0, tableSize(pool));
  }

  /**
   * README: "If it throws, the request is routed without affinity": an Error included. A
   * VirtualMachineError is not the key function's verdict: it reaches the caller, nothing is
   * dispatched.
   */
  @Test
  void keyFunctionThatThrowsAnErrorRoutesWithoutAffinity() throws Exception {
    MockWebServer a = server("a");
    ProviderPool pool = ProviderPool.builder().ticker(ticker)
        .affinity(Affinity.key(r -> {
          throw new AssertionError("no session in " + r.header(SESSION));
        })).tier(p("a", a)).build();
    OkHttpClient client = up.client(pool);
    assertEquals("a", served(client, keyed(pool, "s1")));
    assertEquals("a", served(client, keyed(pool, "s2")));
    assertEquals(2, up.count(a));
    assertEquals(0, tableSize(pool));
    assertEquals(0, pool.snapshot().inFlight());

    ProviderPool vm = ProviderPool.builder().ticker(ticker)
        .affinity(Affinity.key(r -> {
          throw new StackOverflowError();
        })).tier(p("a", a)).build();
    assertThrows(StackOverflowError.class, () -> served(up.client(vm), keyed(vm, "s1")));
    assertEquals(2, up.count(a), "nothing dispatched");
    assertEquals(0, vm.snapshot().inFlight());
  }

  @Test
  void requestsWithoutAKeyRememberNothing() throws Exception {
    MockWebServer a = server("a");
    ProviderPool pool = ProviderPool.builder().ticker(ticker).affinity(Affinity.header(SESSION)).tier(p("a", a)).build();
    OkHttpClient client = up.client(pool);
    served(client, keyed(pool, null));
    served(client, keyed(pool, ""));
    assertEquals(0, tableSize(pool));
    assertEquals(2, up.count(a));
  }

  @Test
  void settingsAreValidated() {
    assertEquals("maxSize must be >= 1 but was 0",
        assertThrows(IllegalArgumentException.class, () -> Affinity.user().maxSize(0)).getMessage());
    assertEquals("idleExpiry must be positive but was PT0S",
        assertThrows(IllegalArgumentException.class, () -> Affinity.user().idleExpiry(Duration.ZERO)).getMessage());
    assertEquals("header must be a header name but was 'X Session'",
        assertThrows(IllegalArgumentException.class, () -> Affinity.header("X Session")).getMessage());
    assertEquals("key", assertThrows(NullPointerException.class, () -> Affinity.key(null)).getMessage());
    Affinity d = Affinity.header(SESSION);
    assertEquals(Affinity.DEFAULT_MAX_SIZE, d.maxSize());
    assertEquals(Affinity.DEFAULT_IDLE_EXPIRY, d.idleExpiry());
    assertEquals("Affinity{header X-Session-Id, maxSize=10000, idleExpiry=PT30M}", d.toString());
    assertNull(ProviderPool.builder().tier(Provider.builder("a").baseUrl("http://127.0.0.1:9").build()).build()
        .affinity().orElse(null));
  }
}
