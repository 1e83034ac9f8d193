package io.github.llmpool.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.config.PoolConfig;
import io.github.llmpool.testing.FakeLlmServer;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Configured limits as fleet-wide windows on a real Redis (started by the test): 4 pools in one
 * JVM, each with its own {@link RedisSharedState} and connections and its own {@code ManualTicker}
 * (one wall clock), over one fake provider. A limit of N per minute admits N across the 4 while
 * time stands (not 4N), and every later minute at most N plus instances x lease; a quota group
 * exhausted on one instance is out on all (configured leases and rate-limit headers); Redis down
 * falls back to N / 4 per instance; the config file's {@code "shared": {"redis": ...}} finds this
 * module's factory.
 */
class SharedLimitsRedisTest extends RedisTestBase {
  private static final int N = 240;
  private static final double SHARE = 0.0125; // lease = 240 x 0.0125 = 3
  private static final long LEASE = 3;
  private static final int INSTANCES = 4;

  private final List<Instance> instances = new ArrayList<>();
  private FakeLlmServer a;
  private FakeLlmServer z;

  @BeforeEach
  void providers() {
    rawConn.sync().flushall();
    a = FakeLlmServer.start("a");
    z = FakeLlmServer.start("z");
  }

  @AfterEach
  void close() {
    instances.forEach(Instance::close);
    a.close();
    z.close();
  }

  private Instance instance(long nanosOffset, UnaryOperator<ProviderPool.Builder> pool,
      Consumer<RedisSharedState.Builder> shared) {
    Instance i = new Instance(redis.uri(), nanosOffset, pool, shared);
    instances.add(i);
    return i;
  }

  /** 4 instances of pool chat with provider a at N per minute, failing fast when it has no headroom. */
  private List<Instance> fleet() {
    List<Instance> out = new ArrayList<>();
    for (int i = 0; i < INSTANCES; i++) {
      out.add(instance(i * 3_000_000_000L, p -> p.whenAllEvicted(AllEvictedPolicy.FAIL_FAST)
          .tier(a.provider().requestsPerMinute(N).build()), s -> s.leaseShare(SHARE)));
    }
    return out;
  }

  /**
   * Every instance's lease round, then calls until refused, again until a whole pass admits
   * nothing: what the fleet window lets through now. Returns the calls admitted.
   */
  private static int drain(List<Instance> insts) throws Exception {
    int admitted = 0;
    boolean progress = true;
    while (progress) {
      progress = false;
      for (Instance i : insts) {
        i.leased();
      }
      for (Instance i : insts) {
        while (i.admitted()) {
          admitted++;
          progress = true;
        }
      }
    }
    return admitted;
  }

  @Test
  void aLimitOfNSharedByFourInstancesAdmitsAtMostNPlusInstancesTimesLeasePerMinute() throws Exception {
    List<Instance> insts = fleet();
    int burst = drain(insts);
    assertEquals(N, burst, "time stands: the window's burst, exactly, across the 4 (local buckets: 4N)");
    assertEquals(N, a.requestCount());

    int seconds = 130;
    int[] perSecond = new int[seconds + 1];
    perSecond[0] = burst;
    for (int s = 1; s <= seconds; s++) {
      insts.forEach(i -> i.advance(Duration.ofSeconds(1)));
      perSecond[s] = drain(insts);
    }
    int worst = 0;
    int best = Integer.MAX_VALUE;
    for (int start = 1; start + 60 <= seconds + 1; start++) { // every minute after the burst
      int sum = 0;
      for (int s = start; s < start + 60; s++) {
        sum += perSecond[s];
      }
      worst = Math.max(worst, sum);
      best = Math.min(best, sum);
    }
    long bound = N + INSTANCES * LEASE;
    System.out.println("[llmpool-redis] limit " + N + "/min on " + INSTANCES + " instances, lease " + LEASE
        + ": burst " + burst + ", later minutes " + best + ".." + worst + " (bound N + 4 x 3 = " + bound + ", "
        + String.format("%.3f", worst / (double) N) + "x)");
    assertTrue(worst <= bound, "a minute admitted " + worst + " > " + bound);
    assertTrue(best >= N - INSTANCES * LEASE, "the fleet still uses its limit: " + best);
    assertEquals(a.requestCount(), java.util.Arrays.stream(perSecond).sum());

    // The keys: one hash of windows and one set of holders, in the pool's slot, with TTLs.
    assertEquals(INSTANCES, rawConn.sync().zcard("llmpool:{chat}:holders"));
    assertTrue(rawConn.sync().hexists("llmpool:{chat}:limits", "r:p:a"));
    assertTrue(rawConn.sync().pttl("llmpool:{chat}:limits") > 0);
    assertTrue(rawConn.sync().pttl("llmpool:{chat}:holders") > 0);
  }

  @Test
  void closingAnInstanceGivesItsUnusedUnitsBack() throws Exception {
    List<Instance> insts = fleet();
    for (Instance i : insts) {
      i.leased();
    }
    Instance first = insts.get(0);
    assertTrue(first.admitted()); // 2 of its 3 units left
    first.close();
    instances.remove(first);
    // The 3 other instances hold 3 each: the window has N - 1 - 9 - 0 (the 2 came back).
    int admitted = drain(insts.subList(1, INSTANCES));
    assertEquals(N - 1, admitted, "every unit but the one used came back or was used");
  }

  @Test
  void aQuotaGroupExhaustedOnOneInstanceIsOutOnAll() throws Exception {
    // Configured: group acct at 10 per minute. A has members a and b; B has member c and a fallback tier z.
    Instance ia = instance(0, p -> p.whenAllEvicted(AllEvictedPolicy.FAIL_FAST)
        .tier(a.provider().quotaGroup("acct").requestsPerMinute(10).build(),
            Provider.builder("b").baseUrl(a.baseUrl()).apiKey(a.apiKey()).quotaGroup("acct").requestsPerMinute(10)
                .build()), s -> {});
    assertEquals(10, drain(List.of(ia)), "A takes the group's whole window");
    Instance ib = instance(5_000_000_000L, p -> p
        .tier(Provider.builder("c").baseUrl(a.baseUrl()).apiKey(a.apiKey()).quotaGroup("acct").requestsPerMinute(10)
            .build())
        .tier(z.provider().build()), s -> {});
    ib.leased();
    for (int i = 0; i < 3; i++) {
      Instance.assertOk(ib.call());
    }
    assertEquals(10, a.requestCount(), "B's member c is out too");
    assertEquals(3, z.requestCount(), "B spilled to its fallback tier");
    assertEquals(List.of("r:g:acct"), rawConn.sync().hkeys("llmpool:{chat}:limits"),
        "one window, the group's, by group name");
  }

  @Test
  void aQuotaGroupWhoseHeadersSayNothingIsLeftOnOneInstanceIsOutOnAll() throws Exception {
    // Headers: a's answer on A says the account has no request left for 30 s; B has members a and c, and z.
    a.answerWith(r -> new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .addHeader("x-ratelimit-limit-requests", "100").addHeader("x-ratelimit-remaining-requests", "0")
        .addHeader("x-ratelimit-reset-requests", "30s")
        .body("{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
            + "\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,"
            + "\"completion_tokens\":1,\"total_tokens\":2}}").build());
    UnaryOperator<ProviderPool.Builder> group = p -> p
        .tier(a.provider().quotaGroup("acct").build(),
            Provider.builder("c").baseUrl(a.baseUrl()).apiKey(a.apiKey()).quotaGroup("acct").build())
        .tier(z.provider().build());
    Instance ia = instance(0, group, s -> {});
    Instance ib = instance(9_000_000_000L, group, s -> {});
    ia.resynced();
    ib.resynced();
    Instance.assertOk(ia.call());
    ib.next(io.github.llmpool.spi.SharedQuota.class, Duration.ofSeconds(5));
    int before = a.requestCount();
    for (int i = 0; i < 3; i++) {
      Instance.assertOk(ib.call());
    }
    assertEquals(before, a.requestCount(), "neither a nor c (one account) is asked on B");
    assertEquals(3, z.requestCount());
  }

  @Test
  void redisDownFallsBackToTheLimitOverTheFleetSizeAndBackOnLeasesWhenItReturns() throws Exception {
    List<Instance> insts = fleet();
    assertEquals(N, drain(insts));
    redis.stop();
    for (Instance i : insts) {
      i.event(PoolEvent.SharedStateDown.class, Duration.ofSeconds(10));
    }
    int during = 0;
    for (Instance i : insts) {
      while (i.admitted()) {
        during++;
      }
    }
    assertEquals(0, during, "the fallback starts empty: the fleet had used the window");
    insts.forEach(i -> i.advance(Duration.ofSeconds(60)));
    for (Instance i : insts) {
      while (i.admitted()) {
        during++;
      }
    }
    assertEquals(N, during, "a minute: each instance admitted N / 4 = 60 on its own, the fleet N");
    redis.restart();
    for (Instance i : insts) {
      i.event(PoolEvent.SharedStateUp.class, Duration.ofSeconds(20));
    }
    assertEquals(N, drain(insts), "back on leases of the (restarted, empty) window");
  }

  /**
   * Redis stalled (SIGSTOP), with a command timeout (10 s) that does not call it down during the
   * test: each instance spends the lease it holds, and its lease request stays unanswered; once it
   * is 60 ms old on the pool's ticker (the stall bound) the line counts Redis as down and admits
   * from the Redis-down fallback (N / 4 per minute, starting empty), so over a minute of stall the
   * fleet admits N beyond what it held, where it admitted 0 until the command timeout before, and
   * never more than the Redis-down bound.
   */
  @Test
  void aStalledRedisCountsAsDownForEachLineAfterTheStallBoundTheFallbackAdmitsTheLimitOverTheFleet()
      throws Exception {
    List<Instance> insts = new ArrayList<>();
    for (int i = 0; i < INSTANCES; i++) {
      insts.add(instance(i * 3_000_000_000L, p -> p.whenAllEvicted(AllEvictedPolicy.FAIL_FAST)
          .tier(a.provider().requestsPerMinute(N).build()), s -> s.leaseShare(SHARE).commandTimeout(Duration.ofSeconds(10))));
    }
    for (Instance i : insts) {
      i.leased(); // the first lease: L = 3 held each, the window has room
    }
    int before = 0;
    for (Instance i : insts) {
      for (int k = 0; k < 2; k++) {
        assertTrue(i.admitted());
        before++;
      }
      i.leased(); // topped up again: each grant now says the fleet is 4
    }
    redis.stall();
    int held = 0;
    int during = 0;
    try {
      for (Instance i : insts) {
        while (i.admitted()) { // the held lease, then the next lease request goes out into the stall
          held++;
        }
      }
      insts.forEach(i -> i.advance(Duration.ofMillis(61)));
      for (Instance i : insts) {
        while (i.admitted()) {
          during++;
        }
      }
      assertEquals(0, during, "past the stall bound: the fallback, starting empty (as when Redis is down)");
      insts.forEach(i -> i.advance(Duration.ofSeconds(60)));
      for (Instance i : insts) {
        while (i.admitted()) {
          during++;
        }
      }
      System.out.println("[shared limits] Redis stalled (not called down): held " + held + ", then the stall fallback "
          + during + " in a minute (N = " + N + ")");
      assertTrue(held >= INSTANCES * 3 && held <= INSTANCES * 3 * 2, "what the leases held: " + held);
      assertEquals(N, during, "a minute of stall: each instance admitted N / 4 = 60 on its own, the fleet N");
      assertTrue(insts.stream().noneMatch(i -> i.shared.isDown()), "not called down: the stall bound did it");
    } finally {
      redis.resume();
    }
  }

  @Test
  void theConfigFilesSharedRedisKeyFindsThisModulesFactory() throws Exception {
    String json = "{\"name\":\"chat\",\"shared\":{\"redis\":\"${REDIS_URL}\"},\"whenAllEvicted\":\"fail_fast\","
        + "\"tiers\":[{\"providers\":[{\"name\":\"a\",\"baseUrl\":\"" + a.baseUrl() + "\",\"apiKey\":\"${KEY}\","
        + "\"requestsPerMinute\":5}]}]}";
    Map<String, String> env = Map.of("REDIS_URL", redis.uri(), "KEY", a.apiKey());
    PoolConfig c1 = PoolConfig.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), env::get);
    PoolConfig c2 = PoolConfig.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), env::get);
    RedisSharedState s1 = assertInstanceOf(RedisSharedState.class, c1.sharedState().orElseThrow());
    RedisSharedState s2 = assertInstanceOf(RedisSharedState.class, c2.sharedState().orElseThrow());
    try {
      ProviderPool p1 = c1.toPoolBuilder().build();
      ProviderPool p2 = c2.toPoolBuilder().build();
      int admitted = 0;
      for (int round = 0; round < 20 && admitted < 6; round++) {
        s1.nextLeaseRound().get(10, java.util.concurrent.TimeUnit.SECONDS);
        s2.nextLeaseRound().get(10, java.util.concurrent.TimeUnit.SECONDS);
        boolean any = false;
        for (ProviderPool p : List.of(p1, p2)) {
          okhttp3.OkHttpClient http = p.newHttpClient();
          while (true) {
            try (okhttp3.Response r = http.newCall(new okhttp3.Request.Builder()
                .url(p.baseUrl().resolve("chat/completions").toString())
                .post(okhttp3.RequestBody.create("{\"model\":\"m\",\"messages\":[]}", Instance.JSON)).build())
                .execute()) {
              r.body().string();
              admitted++;
              any = true;
            } catch (io.github.llmpool.NoProviderAvailableException refused) {
              break;
            }
          }
        }
        if (!any) {
          break;
        }
      }
      assertEquals(5, admitted, "two pools from two reads of the file share the limit of 5 through Redis");
      assertFalse(s1.toString().contains("@"), s1.toString());
    } finally {
      s1.close();
      s2.close();
    }
  }
}
