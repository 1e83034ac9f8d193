package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Routing on quota headroom, through pools on loopback with the fake ticker: a provider whose
 * headers or configured limits say it cannot take a request is passed over while another can,
 * tiers spill, the estimate is reserved at dispatch and corrected to the reported usage, quota
 * groups share headroom and account-wide evictions, a server-named rate-limit delay ends on time
 * without a probe, {@code Retried} fires only when a retry happens, and {@code quotaWait} waits on
 * the ticker.
 */
class QuotaRoutingTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();
  private final List<PoolEvent> events = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    up.close();
  }

  /** A 200 with OpenAI-style headers: {@code remaining} requests of 100 left, reset in {@code reset}. */
  private static MockResponse withRemaining(long remaining, String reset) {
    return new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .addHeader("x-ratelimit-limit-requests", "100").addHeader("x-ratelimit-remaining-requests", remaining)
        .addHeader("x-ratelimit-reset-requests", reset).body(Fixtures.text("openai-chat.json")).build();
  }

  private static Provider.Builder provider(String name, MockWebServer s) {
    return Provider.builder(name).baseUrl(Upstreams.baseUrl(s));
  }

  private ProviderPool.Builder pool(Strategy strategy) {
    return ProviderPool.builder().ticker(ticker).random(new ScriptedRandom(0)).strategy(strategy)
        .onEvent(events::add);
  }

  private static Request chat(ProviderPool pool, int maxTokens) {
    return Upstreams.post(pool, "chat/completions",
        "{\"model\":\"m\",\"max_tokens\":" + maxTokens + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
  }

  @Test
  void aProviderWhoseHeadersSayNothingIsLeftIsPassedOverUntilItsReset() throws Exception {
    for (Strategy strategy : Strategy.values()) {
      up.close();
      MockWebServer a = up.start(r -> withRemaining(0, "10s")); // the bucket is empty, full again in 10 s
      MockWebServer b = up.startChat();
      ProviderPool pool = pool(strategy).tier(provider("a", a).build(), provider("b", b).weight(1).build()).build();
      OkHttpClient client = up.client(pool);
      // Learn a's state: one request with b drained.
      pool.drain("b");
      assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
      pool.resume("b");
      int before = up.count(a);
      assertEquals(1, before);
      for (int i = 0; i < 10; i++) {
        assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
      }
      // The refill model: 100 per 10 s from 0, so one request's room after 100 ms; none has passed.
      assertEquals(before, up.count(a), strategy + ": a has no headroom");
      ticker.advance(Duration.ofSeconds(10)); // the reset: a is full again
      pool.drain("b");
      assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
      assertEquals(before + 1, up.count(a), strategy + ": a takes traffic again after its reset");
    }
  }

  @Test
  void withQuotaRoutingOffTheHeadersOnlyShowTodaysReactiveBehaviour() throws Exception {
    MockWebServer a = up.start(r -> withRemaining(0, "10s"));
    ProviderPool pool = pool(Strategy.WEIGHTED).quotaRouting(false).tier(provider("a", a).build())
        .whenAllEvicted(AllEvictedPolicy.FAIL_FAST).build();
    OkHttpClient client = up.client(pool);
    for (int i = 0; i < 3; i++) {
      assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    }
    assertEquals(3, up.count(a));
  }

  @Test
  void aTierWithoutHeadroomSpillsToTheNextAndTrafficReturnsWithTheRefill() throws Exception {
    MockWebServer primary = up.start(r -> withRemaining(0, "1s"));
    MockWebServer fallback = up.startChat();
    ProviderPool pool = pool(Strategy.POWER_OF_TWO_CHOICES).tier(provider("primary", primary).build())
        .tier(provider("fallback", fallback).build()).build();
    OkHttpClient client = up.client(pool);
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]); // primary says: 0 left, full in 1 s
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    assertEquals(List.of(1, 1), List.of(up.count(primary), up.count(fallback)));
    assertTrue(events.contains(new PoolEvent.HeadroomExhausted("primary", 0, null, Duration.ofMillis(10))),
        events.toString()); // 100 per second refills one request in 10 ms
    ticker.advance(Duration.ofMillis(50)); // room for five: one taken, four left
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    assertEquals(List.of(2, 1), List.of(up.count(primary), up.count(fallback)));
    assertTrue(events.contains(new PoolEvent.HeadroomRestored("primary", 0, null)), events.toString());
  }

  @Test
  void configuredTokensPerMinuteReserveTheEstimateAndSettleToTheReportedUsage() throws Exception {
    MockWebServer a = up.startChat(); // reports 80 tokens in all (openai-chat.json)
    MockWebServer b = up.startChat();
    ProviderPool pool = pool(Strategy.POWER_OF_TWO_CHOICES)
        .tier(provider("a", a).tokensPerMinute(1_000).build(), provider("b", b).weight(1).build()).build();
    OkHttpClient client = up.client(pool);
    // Warm b's latency estimate first so that P2C would prefer a only by headroom... send to a directly:
    // a single-provider view: drain b.
    pool.drain("b");
    Request big = chat(pool, 600); // about 600 + body/4 tokens: fits a's empty minute once
    assertEquals("200", Upstreams.call(client, big)[0]);
    // Settled to 80 reported tokens, the minute has room for another 600-token request.
    assertEquals("200", Upstreams.call(client, big)[0]);
    assertEquals(2, up.count(a));
    ProviderSnapshot snap = pool.snapshot().provider("a").orElseThrow();
    assertEquals(Quota.Source.CONFIGURATION, snap.tokenQuota().orElseThrow().source());
    assertEquals(1_000 - 2 * 80, snap.tokenQuota().orElseThrow().remaining().getAsLong(), 1); // 80 reported each

    // Now a request that cannot fit with what is left goes to b.
    pool.resume("b");
    Request huge = chat(pool, 990);
    assertEquals("200", Upstreams.call(client, huge)[0]);
    assertEquals(List.of(2, 1), List.of(up.count(a), up.count(b)));
  }

  @Test
  void anAnswerWithoutUsageKeepsTheEstimate() throws Exception {
    MockWebServer a = up.start(r -> new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .body("{\"id\":\"x\",\"choices\":[]}").build()); // no usage
    ProviderPool pool = pool(Strategy.WEIGHTED).tier(provider("a", a).tokensPerMinute(1_000).build())
        .whenAllEvicted(AllEvictedPolicy.FAIL_FAST).build();
    OkHttpClient client = up.client(pool);
    Request big = chat(pool, 600);
    assertEquals("200", Upstreams.call(client, big)[0]);
    NoProviderAvailableException e = assertThrows(NoProviderAvailableException.class,
        () -> Upstreams.call(client, big));
    assertTrue(e.getMessage().contains("a (tier 0) out of quota headroom for"), e.getMessage());
    assertTrue(e.earliestReturn().compareTo(Duration.ZERO) > 0, e.earliestReturn().toString());
    assertEquals(1, up.count(a));
  }

  @Test
  void quotaWaitWaitsOnTheTickerForTheEarliestResetWithinItsBound() throws Exception {
    MockWebServer a = up.start(r -> withRemaining(0, "2s"));
    // Every draw in the middle of its range: the wake-up comes half a refill after the return.
    ProviderPool pool = pool(Strategy.WEIGHTED).random(bound -> bound / 2).tier(provider("a", a).build())
        .whenAllEvicted(AllEvictedPolicy.FAIL_FAST).quotaWait(Duration.ofSeconds(5)).build();
    OkHttpClient client = up.client(pool);
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]); // 0 left, 100 per 2 s: 20 ms each
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]); // waits 20 ms + 10 ms of jitter
    assertEquals(2, up.count(a));
    assertEquals(Duration.ofMillis(30).toNanos(), ticker.parkedNanos(), Duration.ofMillis(1).toNanos());

    ProviderPool strict = pool(Strategy.WEIGHTED).tier(provider("a", a).build())
        .whenAllEvicted(AllEvictedPolicy.FAIL_FAST).quotaWait(Duration.ofMillis(5)).build();
    OkHttpClient c2 = up.client(strict);
    assertEquals("200", Upstreams.call(c2, Upstreams.chat(strict))[0]);
    long parked = ticker.parkedNanos();
    assertThrows(NoProviderAvailableException.class, () -> Upstreams.call(c2, Upstreams.chat(strict)));
    assertEquals(parked, ticker.parkedNanos(), "20 ms is beyond a 5 ms bound: no wait");
    assertThrows(IllegalArgumentException.class, () -> ProviderPool.builder().quotaWait(Duration.ofMillis(-1)));
  }

  @Test
  void aServerNamedRateLimitDelayEndsOnTimeWithoutASingleProbe() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean limited = new java.util.concurrent.atomic.AtomicBoolean(true);
    java.util.concurrent.CountDownLatch second = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger served = new java.util.concurrent.atomic.AtomicInteger();
    MockWebServer a = up.start(r -> {
      if (limited.get()) {
        return new MockResponse.Builder().code(429).addHeader("retry-after", "5")
            .body("{\"error\":{\"code\":\"rate_limit_exceeded\"}}").build();
      }
      if (served.incrementAndGet() == 1) {
        try { // the first request after the delay holds its headers until the second arrives
          second.await(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      } else {
        second.countDown();
      }
      return Fixtures.json("openai-chat.json");
    });
    MockWebServer b = up.startChat();
    ProviderPool pool = pool(Strategy.WEIGHTED).tier(provider("a", a).build(), provider("b", b).weight(1).build())
        .whenAllEvicted(AllEvictedPolicy.FAIL_FAST).build();
    OkHttpClient client = up.client(pool);
    while (up.count(a) == 0) {
      assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    }
    assertEquals(ProviderSnapshot.Status.EVICTED, pool.snapshot().provider("a").orElseThrow().status());
    limited.set(false);
    ticker.advance(Duration.ofSeconds(5));
    // Past the named delay: available to every request, not to a single probe.
    assertEquals(ProviderSnapshot.Status.AVAILABLE, pool.snapshot().provider("a").orElseThrow().status());
    pool.drain("b");
    java.util.concurrent.CompletableFuture<String[]> first = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return Upstreams.call(client, Upstreams.chat(pool));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    while (served.get() == 0) { // the first request reached a and waits there for its answer
      Thread.onSpinWait();
    }
    // With a probe gate this one would find a held by the first request's probe and fail fast.
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    assertEquals("200", first.get(10, java.util.concurrent.TimeUnit.SECONDS)[0]);
    assertEquals(ProviderSnapshot.Status.AVAILABLE, pool.snapshot().provider("a").orElseThrow().status());
    assertTrue(events.contains(new PoolEvent.Restored("a", 0)), events.toString());
    assertTrue(events.stream().noneMatch(e -> e instanceof PoolEvent.Probing), events.toString());
  }

  @Test
  void aServerErrorStillGetsItsSingleProbe() throws Exception {
    MockWebServer a = up.start(r -> new MockResponse.Builder().code(503).build());
    ProviderPool pool = pool(Strategy.WEIGHTED).tier(provider("a", a).build()).build();
    OkHttpClient client = up.client(pool);
    for (int i = 0; i < 2; i++) {
      Upstreams.call(client, Upstreams.chat(pool)); // the failure threshold is 2
    }
    ticker.advance(Duration.ofMinutes(10));
    assertEquals(ProviderSnapshot.Status.PROBING, pool.snapshot().provider("a").orElseThrow().status());
    Upstreams.call(client, Upstreams.chat(pool));
    assertTrue(events.stream().anyMatch(e -> e instanceof PoolEvent.Probing), events.toString());
  }

  @Test
  void aQuotaGroupSharesHeadroomAndAnAccountWideSignalTakesEveryMemberOut() throws Exception {
    AtomicReference<MockResponse> answer = new AtomicReference<>(withRemaining(0, "10s"));
    MockWebServer a = up.start(r -> answer.get());
    MockWebServer b = up.startChat(); // same account, sends no headers of its own
    MockWebServer other = up.startChat();
    ProviderPool pool = pool(Strategy.WEIGHTED)
        .tier(provider("a", a).quotaGroup("acct").build(), provider("b", b).quotaGroup("acct").build(),
            provider("other", other).build())
        .build();
    OkHttpClient client = up.client(pool);
    while (up.count(a) == 0) {
      assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    }
    int beforeB = up.count(b);
    for (int i = 0; i < 10; i++) {
      assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    }
    assertEquals(beforeB, up.count(b), "b shares a's empty window");
    assertEquals(java.util.OptionalLong.of(0),
        pool.snapshot().provider("b").orElseThrow().requestQuota().orElseThrow().remaining());

    // insufficient_quota on a member: the whole group is out (quota duration), the other provider serves.
    ticker.advance(Duration.ofSeconds(11));
    answer.set(Fixtures.http("openai-429-insufficient-quota.http"));
    while (up.count(a) == 1) {
      assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    }
    assertEquals(ProviderSnapshot.Status.EVICTED, pool.snapshot().provider("a").orElseThrow().status());
    assertEquals(ProviderSnapshot.Status.EVICTED, pool.snapshot().provider("b").orElseThrow().status());
    assertTrue(events.stream().anyMatch(e -> e instanceof PoolEvent.Evicted ev && ev.provider().equals("b")
        && ev.cause() == Outcome.QUOTA_EXHAUSTED), events.toString());
  }

  @Test
  void groupMembersMustAgreeOnConfiguredLimits() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProviderPool.builder()
        .tier(Provider.builder("a").baseUrl("http://127.0.0.1:1/v1").quotaGroup("acct").requestsPerMinute(100).build(),
            Provider.builder("b").baseUrl("http://127.0.0.1:2/v1").quotaGroup("acct").requestsPerMinute(200).build())
        .build());
    assertEquals("requestsPerMinute of quota group 'acct' must be the same for every member that sets limits but 'a'"
        + " has 100 and 'b' has 200", e.getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Provider.builder("a").quotaGroup(" ")).getMessage()
        .startsWith("quotaGroup must be a non-blank name but was ' '"));
  }

  @Test
  void retriedFiresOnlyWhenAnotherAttemptIsMade() throws Exception {
    MockWebServer bad = up.start(r -> new MockResponse.Builder().code(503).build());
    ProviderPool alone = pool(Strategy.WEIGHTED).tier(provider("bad", bad).build()).build();
    assertEquals("503", Upstreams.call(up.client(alone), Upstreams.chat(alone))[0]);
    assertTrue(events.stream().noneMatch(e -> e instanceof PoolEvent.Retried), events.toString());

    events.clear();
    MockWebServer good = up.startChat();
    ProviderPool two = pool(Strategy.ROUND_ROBIN).tier(provider("bad", bad).build(), provider("good", good).build())
        .build();
    OkHttpClient client = up.client(two);
    while (events.stream().noneMatch(e -> e instanceof PoolEvent.Retried)) {
      assertEquals("200", Upstreams.call(client, Upstreams.chat(two))[0]);
    }
    assertEquals(1, events.stream().filter(e -> e instanceof PoolEvent.Retried).count());
  }

  @Test
  void theSnapshotShowsConfiguredRemainingAndTheEventsPrintTheirFields() throws IOException {
    MockWebServer a = up.startChat();
    ProviderPool pool = pool(Strategy.WEIGHTED).tier(provider("a", a).requestsPerMinute(60).build()).build();
    assertEquals(60, pool.snapshot().provider("a").orElseThrow().requestQuota().orElseThrow().remaining().getAsLong());
    assertEquals("200", Upstreams.call(up.client(pool), Upstreams.chat(pool))[0]);
    assertEquals(59, pool.snapshot().provider("a").orElseThrow().requestQuota().orElseThrow().remaining().getAsLong());
    ticker.advance(Duration.ofSeconds(1)); // one request per second comes back
    assertEquals(60, pool.snapshot().provider("a").orElseThrow().requestQuota().orElseThrow().remaining().getAsLong());
    assertEquals("HeadroomExhausted[provider=a, tier=0, quotaGroup=g, resetIn=PT1S]",
        new PoolEvent.HeadroomExhausted("a", 0, "g", Duration.ofSeconds(1)).toString());
    assertEquals("HeadroomRestored[provider=a, tier=0, quotaGroup=null]",
        new PoolEvent.HeadroomRestored("a", 0, null).toString());
  }

  @Test
  void rateLimitEvictionsThatWouldEndAtOneInstantAreSpreadOut() throws Exception {
    // Two fixed windows that reset together: both 429 with Retry-After pointing at the same instant.
    MockWebServer a = up.start(r -> new MockResponse.Builder().code(429).addHeader("retry-after", "10").build());
    MockWebServer b = up.start(r -> new MockResponse.Builder().code(429).addHeader("retry-after", "10").build());
    MockWebServer c = up.startChat();
    ProviderPool pool = pool(Strategy.ROUND_ROBIN).tier(provider("a", a).build(), provider("b", b).build())
        .tier(provider("c", c).build()).build();
    OkHttpClient client = up.client(pool);
    while (up.count(a) == 0 || up.count(b) == 0) {
      assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    }
    List<Duration> out = List.of(pool.snapshot().provider("a").orElseThrow().evictedFor().orElseThrow(),
        pool.snapshot().provider("b").orElseThrow().evictedFor().orElseThrow());
    Duration first = out.get(0).compareTo(out.get(1)) <= 0 ? out.get(0) : out.get(1);
    Duration second = out.get(0).compareTo(out.get(1)) <= 0 ? out.get(1) : out.get(0);
    assertEquals(Duration.ofSeconds(10), first, out.toString()); // the first keeps its server's word
    // the second, which would have ended at the same instant, ends later by up to the jitter (20%)
    assertTrue(second.compareTo(first) > 0 && second.compareTo(Duration.ofSeconds(12)) <= 0, out.toString());
  }

  @Test
  void theConfigurationFileSetsQuotaRoutingWaitAndGroups() throws Exception {
    String json = "{\"quota\":{\"routing\":false,\"wait\":\"2s\"},\"tiers\":[{\"providers\":["
        + "{\"name\":\"a\",\"baseUrl\":\"http://127.0.0.1:1/v1\",\"quotaGroup\":\"acct\",\"requestsPerMinute\":60}]}]}";
    io.github.llmpool.config.PoolConfig c = io.github.llmpool.config.PoolConfig.read(
        new java.io.ByteArrayInputStream(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)), v -> null);
    assertEquals(false, c.quotaRouting());
    assertEquals(Duration.ofSeconds(2), c.quotaWait());
    assertEquals(java.util.Optional.of("acct"), c.tiers().get(0).get(0).quotaGroup());
    ProviderPool pool = c.toPoolBuilder().build();
    assertEquals(List.of(false, Duration.ofSeconds(2)), List.of(pool.quotaRouting(), pool.quotaWait()));
    // A reload may not change what is fixed at build time.
    String changed = json.replace("\"routing\":false", "\"routing\":true");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> io.github.llmpool.config.PoolConfig
        .read(new java.io.ByteArrayInputStream(changed.getBytes(java.nio.charset.StandardCharsets.UTF_8)), v -> null)
        .applyTo(pool));
    assertTrue(e.getMessage().contains("$.quota.routing"), e.getMessage());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> io.github.llmpool.config.PoolConfig
        .read(new java.io.ByteArrayInputStream("{\"quota\":{\"wait\":\"soon\"},\"tiers\":[]}".getBytes(
            java.nio.charset.StandardCharsets.UTF_8)), v -> null));
    assertTrue(bad.getMessage().startsWith("$.quota.wait"), bad.getMessage());
  }

  @Test
  void failOpenNeverSendsToAProviderThatSaysItHasNoRoom() throws Exception {
    MockWebServer a = up.start(r -> withRemaining(0, "10s"));
    ProviderPool pool = pool(Strategy.WEIGHTED).tier(provider("a", a).build()).build(); // FAIL_OPEN, the default
    OkHttpClient client = up.client(pool);
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]); // a: 0 left, 100 per 10 s
    NoProviderAvailableException e = assertThrows(NoProviderAvailableException.class,
        () -> Upstreams.call(client, Upstreams.chat(pool)));
    assertEquals(1, up.count(a), "refused at once, not sent for a sure 429");
    assertEquals(Duration.ofMillis(100), e.earliestReturn());
    assertTrue(e.getMessage().contains("a (tier 0) out of quota headroom for 100 ms more"), e.getMessage());
    ticker.advance(Duration.ofMillis(100));
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    // Evicted (its end a guess) is still failed open to, as before.
    MockWebServer dead = up.start(r -> new MockResponse.Builder().code(503).build());
    ProviderPool p2 = pool(Strategy.WEIGHTED).tier(provider("dead", dead).build()).build();
    OkHttpClient c2 = up.client(p2);
    for (int i = 0; i < 3; i++) {
      assertEquals("503", Upstreams.call(c2, Upstreams.chat(p2))[0]);
    }
    assertEquals(3, up.count(dead), "evicted after two, the third failed open to it");
  }

  /**
   * A ticker whose {@link #park} blocks until the test moves time past the parked-for instant
   * (several requests wait at once), counting the threads parked. Real time only bounds a wait
   * that would otherwise hang (30 s: a failure).
   */
  private static final class SteppedTicker implements Ticker {
    private long nanos = 1_000_000_000L;
    /** The instants the parked threads wait for. */
    private final List<Long> targets = new java.util.ArrayList<>();
    private final List<Long> parks = new CopyOnWriteArrayList<>();

    @Override
    public synchronized long read() {
      return nanos;
    }

    @Override
    public synchronized long wallMillis() {
      return 1_790_000_000_000L + nanos / 1_000_000;
    }

    @Override
    public synchronized void park(long n) {
      parks.add(n);
      long target = nanos + n;
      long giveUp = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
      Long mine = target;
      targets.add(mine);
      notifyAll();
      try {
        while (nanos < target) {
          long left = giveUp - System.nanoTime();
          if (left <= 0) {
            throw new AssertionError("parked for " + n + " ns of ticker time that never came");
          }
          wait(Math.max(1, left / 1_000_000));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        targets.remove(mine);
        notifyAll();
      }
    }

    synchronized void advance(Duration d) {
      nanos += d.toNanos();
      notifyAll();
    }

    /** Waits (real time, bounded) until every one of {@code total} callers is done or parked for a later instant. */
    synchronized void awaitQuiet(java.util.concurrent.atomic.AtomicInteger done, int total) throws InterruptedException {
      long giveUp = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
      while (true) {
        long waiting = targets.stream().filter(t -> t > nanos).count();
        if (waiting + done.get() == total) {
          return;
        }
        long left = giveUp - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(waiting + " parked and " + done.get() + " done of " + total);
        }
        wait(Math.max(1, left / 1_000_000));
      }
    }

    synchronized void wake() {
      notifyAll();
    }
  }

  @Test
  void requestsWaitingTogetherTakeOneUnitOfRoomEachAndTheRestWaitAgain() throws Exception {
    SteppedTicker stepped = new SteppedTicker();
    MockWebServer a = up.startChat(); // no rate-limit headers: the configured 1 per minute is all there is
    ProviderPool pool = ProviderPool.builder().ticker(stepped).random(new ScriptedRandom(7))
        .strategy(Strategy.WEIGHTED).tier(provider("a", a).requestsPerMinute(1).build())
        .whenAllEvicted(AllEvictedPolicy.FAIL_FAST).quotaWait(Duration.ofMinutes(10)).build();
    OkHttpClient client = up.client(pool);
    assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]); // the minute's one request
    int waiters = 4;
    java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(waiters);
    try {
      List<java.util.concurrent.Future<String>> calls = new java.util.ArrayList<>();
      for (int i = 0; i < waiters; i++) {
        calls.add(threads.submit(() -> {
          try {
            return Upstreams.call(client, Upstreams.chat(pool))[0];
          } finally {
            done.incrementAndGet();
            stepped.wake();
          }
        }));
      }
      stepped.awaitQuiet(done, waiters);
      assertEquals(List.of(1, 0), List.of(up.count(a), done.get()), "all four wait for the next minute");
      for (int round = 1; round <= waiters; round++) {
        // Past the next unit's refill (a minute) and any wake-up jitter (under one more minute): all
        // parked requests wake; the first to take the unit goes, the others find it gone and wait again.
        stepped.advance(Duration.ofMinutes(2));
        stepped.awaitQuiet(done, waiters);
        assertEquals(List.of(1 + round, round), List.of(up.count(a), done.get()), "round " + round);
      }
      for (java.util.concurrent.Future<String> f : calls) {
        assertEquals("200", f.get(30, java.util.concurrent.TimeUnit.SECONDS));
      }
    } finally {
      threads.shutdownNow();
    }
    long minute = Duration.ofMinutes(1).toNanos();
    for (long p : stepped.parks) { // each wait: the time to the refill, plus a jitter of less than one refill
      assertTrue(p >= 1 && p < 2 * minute, p + " ns");
    }
    assertTrue(stepped.parks.stream().anyMatch(p -> p > minute), "some wake-ups are jittered past the refill: " + stepped.parks);
  }
}
