package io.github.llmpool.redis;

import static io.github.llmpool.redis.Instance.assertOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.Affinity;
import io.github.llmpool.Outcome;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.Quota;
import io.github.llmpool.Strategy;
import io.github.llmpool.spi.SharedAffinity;
import io.github.llmpool.spi.SharedEviction;
import io.github.llmpool.spi.SharedQuota;
import io.github.llmpool.testing.FakeLlmServer;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.UnaryOperator;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What instances of one pool share through a real Redis (started by the test on a loopback port):
 * two or three pools in one JVM, each with its own {@link RedisSharedState} and connections, over
 * the same fake providers. Waits are for the value to arrive (with a timeout), never sleeps; pool
 * time is each instance's {@code ManualTicker}, on one wall clock.
 */
class SharedSemanticsTest extends RedisTestBase {
  private static final Duration ARRIVAL = Duration.ofSeconds(5);

  private final List<Instance> instances = new ArrayList<>();
  private FakeLlmServer a;
  private FakeLlmServer b;

  @BeforeEach
  void providers() {
    rawConn.sync().flushall();
    a = FakeLlmServer.start("a");
    b = FakeLlmServer.start("b");
  }

  @AfterEach
  void close() {
    instances.forEach(Instance::close);
    a.close();
    b.close();
  }

  private static RedisCommands<String, String> redisCli() {
    return rawConn.sync();
  }

  private Instance instance(long nanosOffset, UnaryOperator<ProviderPool.Builder> pool) {
    Instance i = new Instance(redis.uri(), nanosOffset, pool);
    instances.add(i);
    return i;
  }

  /** a in the first tier, b as the fallback tier. */
  private Instance tiered(long nanosOffset) {
    return instance(nanosOffset, p -> p.tier(a.provider().build()).tier(b.provider().build()));
  }

  @Test
  void a429WithRetryAfter30OnAKeepsBOffWithinTheSyncBound() throws Exception {
    Instance ia = tiered(0);
    Instance ib = tiered(987_654_321_000L);
    ia.resynced();
    ib.resynced(); // both subscribed and synced

    a.rateLimitNext(1, Duration.ofSeconds(30));
    assertOk(ia.call()); // a: 429 Retry-After 30, then b
    long t0 = System.nanoTime(); // (the eviction was published before the call returned)
    SharedEviction e = ib.next(SharedEviction.class, ARRIVAL);
    long arrivalMicros = (System.nanoTime() - t0) / 1_000;
    assertEquals(SharedEviction.builder().pool("chat").provider("a").cause(Outcome.RATE_LIMITED).serverHint(true)
        .deadlineEpochMillis(Instance.WALL.toEpochMilli() + 30_000).build(), e);
    assertTrue(arrivalMicros < RedisSharedState.DEFAULT_RESYNC_INTERVAL.toNanos() / 1_000 * 4,
        "arrived after " + arrivalMicros + " us");
    System.out.println("[llmpool-redis] eviction A -> B: arrived " + arrivalMicros + " us after A's call returned");

    assertEquals(ProviderSnapshot.Status.EVICTED, ib.provider("a").status());
    assertEquals(Optional.of(Duration.ofSeconds(30)), ib.provider("a").evictedFor());
    for (int i = 0; i < 5; i++) {
      assertOk(ib.call());
    }
    assertEquals(1, a.requestCount(), "B never asked a");
    ib.advance(Duration.ofSeconds(31));
    assertOk(ib.call()); // past the deadline: B probes a itself
    assertEquals(2, a.requestCount());
  }

  @Test
  void anEvictionInForceIsNeverShortenedByAnotherInstancesShorterOne() throws Exception {
    Instance ia = tiered(0);
    Instance ib = tiered(5_000_000_000L);
    ia.resynced();
    ib.resynced();
    a.rateLimitNext(1, Duration.ofSeconds(30));
    assertOk(ia.call()); // A: a out for 30 s
    ib.next(SharedEviction.class, ARRIVAL);
    ib.advance(Duration.ofSeconds(1));
    ia.advance(Duration.ofSeconds(1));
    assertEquals(Optional.of(Duration.ofSeconds(29)), ib.provider("a").evictedFor());

    // A third instance writes a shorter eviction of a straight to Redis, as an instance that had
    // a 5 s Retry-After would: Redis keeps the 30 s one, and neither pool shortens its own.
    long wall = ia.ticker.wallMillis();
    Instance ic = tiered(9_000_000_000L);
    ic.advance(Duration.ofSeconds(1));
    ic.resynced();
    assertEquals(Optional.of(Duration.ofSeconds(29)), ic.provider("a").evictedFor(), "a late joiner reads it");
    String before = redisCli().hget("llmpool:{chat}:evictions", "a");
    ic.shared.join("chat", new io.github.llmpool.spi.SharedState.Receiver() {
      @Override
      public void onEviction(SharedEviction ignored) {}
    }).publish(SharedEviction.builder().pool("chat").provider("a").cause(Outcome.RATE_LIMITED).serverHint(true)
        .deadlineEpochMillis(wall + 5_000).build());
    ic.resynced(); // the write, then a read
    assertEquals(before, redisCli().hget("llmpool:{chat}:evictions", "a"), "Redis keeps the later deadline");
    ib.resynced();
    ia.resynced();
    assertEquals(Optional.of(Duration.ofSeconds(29)), ib.provider("a").evictedFor());
    assertEquals(Optional.of(Duration.ofSeconds(29)), ia.provider("a").evictedFor());

    // A longer one extends everyone's.
    ib.shared.join("chat", new io.github.llmpool.spi.SharedState.Receiver() {
      @Override
      public void onEviction(SharedEviction ignored) {}
    }).publish(SharedEviction.builder().pool("chat").provider("a").cause(Outcome.SERVER_ERROR)
        .deadlineEpochMillis(wall + 60_000).build());
    SharedEviction longer = ia.next(SharedEviction.class, ARRIVAL);
    assertEquals(wall + 60_000, longer.deadlineEpochMillis());
    assertEquals(Optional.of(Duration.ofSeconds(60)), ia.provider("a").evictedFor());
  }

  @Test
  void aWindowDatedToItsDispatchTravelsDatedThroughRedis() throws Exception {
    Instance[] answering = new Instance[1];
    a.answerWith(r -> {
      answering[0].ticker.advance(Duration.ofSeconds(2)); // not streamed: the headers come a generation later
      return new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
          .addHeader("x-ratelimit-limit-requests", "100").addHeader("x-ratelimit-remaining-requests", "3")
          .addHeader("x-ratelimit-reset-requests", "20s")
          .body("{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,"
              + "\"completion_tokens\":1,\"total_tokens\":2}}").build();
    });
    Instance ia = tiered(0);
    answering[0] = ia;
    Instance ib = tiered(3_000_000_000L);
    ia.resynced();
    ib.resynced();
    assertOk(ia.call());
    SharedQuota q = ib.next(SharedQuota.class, ARRIVAL);
    long sent = Instance.WALL.toEpochMilli();
    // B reads it as A's reader did: counts of the window at the dispatch, the reset 20 s from it.
    assertEquals(SharedQuota.Window.of(100, 3, sent + 20_000, sent, true), q.requests());
    assertEquals("100|3|" + (sent + 20_000) + "|" + sent + "|1", redisCli().hgetall("llmpool:{chat}:quota").get("r:a"));
  }

  @Test
  void quotaHeadersSeenOnASteerB() throws Exception {
    a.answerWith(r -> new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .addHeader("x-ratelimit-limit-requests", "100").addHeader("x-ratelimit-remaining-requests", "3")
        .addHeader("x-ratelimit-reset-requests", "20s").addHeader("x-ratelimit-limit-tokens", "40000")
        .addHeader("x-ratelimit-remaining-tokens", "1200").addHeader("x-ratelimit-reset-tokens", "6s")
        .body("{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,"
            + "\"completion_tokens\":1,\"total_tokens\":2}}").build());
    Instance ia = tiered(0);
    Instance ib = tiered(3_000_000_000L);
    ia.resynced();
    ib.resynced();
    assertOk(ia.call());
    SharedQuota q = ib.next(SharedQuota.class, ARRIVAL);
    if (q.requests() == null || q.tokens() == null) {
      ib.next(SharedQuota.class, ARRIVAL); // the two windows travel as two fields
    }
    Quota requests = ib.provider("a").requestQuota().orElseThrow();
    assertEquals(Quota.Source.HEADER, requests.source());
    assertEquals(OptionalLong.of(100), requests.limit());
    assertEquals(OptionalLong.of(3), requests.remaining());
    assertEquals(Optional.of(Duration.ofSeconds(20)), requests.resetIn());
    Quota tokens = ib.provider("a").tokenQuota().orElseThrow();
    assertEquals(OptionalLong.of(1200), tokens.remaining());
    assertEquals(Optional.of(Duration.ofSeconds(6)), tokens.resetIn());
    // limit|remaining|reset|seen|dated (0: the answer came at once, the reader did not date it)
    assertEquals(Map.of("r:a", "100|3|" + (Instance.WALL.toEpochMilli() + 20_000) + "|" + Instance.WALL.toEpochMilli() + "|0",
        "t:a", "40000|1200|" + (Instance.WALL.toEpochMilli() + 6_000) + "|" + Instance.WALL.toEpochMilli() + "|0"),
        redisCli().hgetall("llmpool:{chat}:quota"));
    assertEquals(0, b.requestCount());
  }

  @Test
  void affinityOfAKeySetOnAIsHonouredOnB() throws Exception {
    Affinity sticky = Affinity.header("X-Session-Id");
    Instance ia = instance(0, p -> p.affinity(sticky).strategy(Strategy.WEIGHTED)
        .tier(a.provider().build(), b.provider().build()));
    // B alone would send (almost) everything to a: b weighs 1 in 1,000.
    Instance ib = instance(4_000_000_000L, p -> p.affinity(sticky).strategy(Strategy.WEIGHTED)
        .tier(a.provider().weight(999).build(), b.provider().weight(1).build()));
    ia.resynced();
    ib.resynced();
    ia.pool.drain("a"); // A binds every session to b
    for (int i = 0; i < 10; i++) {
      assertOk(ia.call("s" + i));
    }
    assertEquals(10, b.requestCount());
    for (int i = 0; i < 10; i++) {
      assertEquals("b", ib.next(SharedAffinity.class, ARRIVAL).provider());
    }
    for (int i = 0; i < 10; i++) {
      assertOk(ib.call("s" + i));
    }
    assertEquals(20, b.requestCount(), "B sends A's sessions where A bound them");
    for (int i = 0; i < 10; i++) {
      assertOk(ib.call("other" + i));
    }
    assertTrue(a.requestCount() >= 9, "sessions A never bound follow B's weights: " + a.requestCount());

    // An instance that joins later reads the bindings from Redis.
    Instance ic = instance(6_000_000_000L, p -> p.affinity(sticky).strategy(Strategy.WEIGHTED)
        .tier(a.provider().weight(999).build(), b.provider().weight(1).build()));
    ic.resynced();
    int bBefore = b.requestCount();
    for (int i = 0; i < 10; i++) {
      assertOk(ic.call("s" + i));
    }
    assertEquals(bBefore + 10, b.requestCount());
  }

  /**
   * The affinity hash is read once per pool, but a read made before the pool's subscription took
   * effect does not count: a binding published in between reached no subscriber here (seen under
   * load as a missing SharedAffinity in {@link #affinityOfAKeySetOnAIsHonouredOnB}). Here B's
   * subscription never takes effect (its ACL user may not SUBSCRIBE): its first resync reads the
   * empty hash, A then binds ten sessions, and B's next resync reads the hash again and honours
   * them. Before: B never read it again and sent A's sessions by its own weights (to a).
   */
  @Test
  void aPoolWhoseSubscriptionHasNotTakenEffectReadsTheBindingsAgainAtItsNextResync() throws Exception {
    try (RedisServerProcess acl = RedisServerProcess.start("--user", "default", "on", "nopass", "~*", "&*", "+@all",
        "--user", "nosub", "on", ">pw", "~*", "&*", "+@all", "-subscribe")) {
      Affinity sticky = Affinity.header("X-Session-Id");
      try (Instance ia = new Instance(acl.uri(), 0, p -> p.affinity(sticky).strategy(Strategy.WEIGHTED)
              .tier(a.provider().build(), b.provider().build()));
          Instance ib = new Instance("redis://nosub:pw@127.0.0.1:" + acl.port(), 4_000_000_000L,
              p -> p.affinity(sticky).strategy(Strategy.WEIGHTED)
                  .tier(a.provider().weight(999).build(), b.provider().weight(1).build()))) {
        ia.resynced();
        ib.resynced(); // B read the (empty) affinity hash; Redis refused its SUBSCRIBE
        ia.pool.drain("a"); // A binds every session to b
        for (int i = 0; i < 10; i++) {
          assertOk(ia.call("s" + i));
        }
        ia.resynced(); // A's bindings written (a resync writes first)
        ib.resynced();
        for (int i = 0; i < 10; i++) {
          assertEquals("b", ib.next(SharedAffinity.class, ARRIVAL).provider(), "binding " + i + " read from the hash");
        }
        int before = b.requestCount();
        for (int i = 0; i < 10; i++) {
          assertOk(ib.call("s" + i));
        }
        assertEquals(before + 10, b.requestCount(), "B sends A's sessions where A bound them");
      }
    }
  }

  @Test
  void aLostMessageIsCaughtByTheNextResync() throws Exception {
    Instance ib = tiered(0);
    ib.resynced();
    // Another instance's write whose PUBLISH never arrived: only the hash has it.
    long deadline = Instance.WALL.toEpochMilli() + 12_000;
    redisCli().hset("llmpool:{chat}:evictions", "a", deadline + "|SERVER_ERROR|0");
    redisCli().pexpire("llmpool:{chat}:evictions", 60_000);
    ib.resynced();
    assertEquals(Optional.of(Duration.ofSeconds(12)), ib.provider("a").evictedFor());
    assertEquals(deadline, ib.next(SharedEviction.class, ARRIVAL).deadlineEpochMillis());
  }

  @Test
  void everyKeyHasThePoolsHashTagAndATtl() throws Exception {
    a.rateLimitNext(1, Duration.ofSeconds(30));
    a.answerWith(r -> new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .addHeader("x-ratelimit-remaining-requests", "3").body("{\"choices\":[]}").build());
    Instance ia = instance(0, p -> p.affinity(Affinity.header("X-Session-Id"))
        .tier(a.provider().build()).tier(b.provider().build()));
    ia.resynced();
    assertOk(ia.call("s1")); // a 429: evicted; the session goes to b
    ia.resynced(); // written while its deadline is ahead (the ticker jumps next)
    ia.advance(Duration.ofSeconds(31));
    assertOk(ia.call("s2")); // a again, with a quota header
    ia.resynced();
    List<String> keys = new ArrayList<>(redisCli().scan(ScanArgs.Builder.limit(1000)).getKeys());
    keys.sort(null);
    assertEquals(List.of("llmpool:{chat}:affinity", "llmpool:{chat}:affinity:expiry", "llmpool:{chat}:evictions",
        "llmpool:{chat}:quota"), keys);
    for (String k : keys) {
      long ttl = redisCli().pttl(k);
      assertTrue(ttl > 0, k + " has no TTL: " + ttl);
    }
    assertTrue(redisCli().pttl("llmpool:{chat}:affinity") <= Duration.ofMinutes(30).toMillis());
    assertTrue(redisCli().pttl("llmpool:{chat}:quota") <= RedisSharedState.QUOTA_TTL_MILLIS);
  }
}
