package io.github.llmpool.redis;

import static io.github.llmpool.redis.Instance.assertOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.spi.SharedDispatch;
import io.github.llmpool.spi.SharedQuota;
import io.github.llmpool.testing.FakeLlmServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Header windows across instances (issue 18, phase 3), on a real Redis started by the test, each
 * instance with its own connections and its own {@code ManualTicker} (time stands): what one
 * instance dispatches against a window a provider's headers announced is counted by the others, so
 * a fleet does not spend one announced remaining count once per instance; a quota group's window
 * is shared by group, so an instance without the member that was answered knows it too; and a
 * provider's headers correct the fleet window of a configured limit down to what it says is left.
 */
class SharedHeaderWindowsTest extends RedisTestBase {
  private static final Duration ARRIVAL = Duration.ofSeconds(5);

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

  /** The first answer announces {@code remaining} of 100 requests (full again in 60 s); later ones say nothing. */
  private void firstAnswerAnnounces(int remaining) {
    AtomicInteger n = new AtomicInteger();
    a.answerWith(r -> {
      MockResponse.Builder b = new MockResponse.Builder().code(200).addHeader("content-type", "application/json");
      if (n.incrementAndGet() == 1) {
        b.addHeader("x-ratelimit-limit-requests", "100")
            .addHeader("x-ratelimit-remaining-requests", Integer.toString(remaining))
            .addHeader("x-ratelimit-reset-requests", "60s");
      }
      return b.body("{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,"
          + "\"completion_tokens\":1,\"total_tokens\":2}}").build();
    });
  }

  private static int callsUntilRefused(Instance i, int max) throws Exception {
    int admitted = 0;
    while (admitted < max && i.admitted()) {
      admitted++;
    }
    return admitted;
  }

  @Test
  void whatBDispatchesAgainstASharedHeaderWindowIsCountedByA() throws Exception {
    firstAnswerAnnounces(10);
    UnaryOperator<ProviderPool.Builder> pool = p -> p.whenAllEvicted(AllEvictedPolicy.FAIL_FAST)
        .tier(a.provider().build());
    Instance ia = instance(0, pool, s -> {});
    Instance ib = instance(2_000_000_000L, pool, s -> {});
    ia.resynced();
    ib.resynced();
    assertOk(ia.call()); // the answer: 10 of 100 left (time stands: no refill)
    ib.next(SharedQuota.class, ARRIVAL);
    for (int k = 0; k < 6; k++) {
      assertOk(ib.call()); // B spends 6 of the same 10
    }
    long counted = 0;
    while (counted < 6) {
      SharedDispatch d = ia.next(SharedDispatch.class, ARRIVAL);
      assertEquals("a", d.scope());
      counted += d.requests();
    }
    assertEquals(6, counted, "A heard of B's 6 dispatches (batched)");
    assertEquals(4, callsUntilRefused(ia, 20), "A sends only what B left of the announced 10 (without: 10)");
    assertEquals(1 + 6 + 4, a.requestCount());
  }

  @Test
  void aQuotaGroupsHeaderWindowReachesAnInstanceWithoutTheMemberThatWasAnswered() throws Exception {
    // a's answer on A says the account has no request left for 30 s; B has only member c of the group, and z.
    a.answerWith(r -> new MockResponse.Builder().code(200).addHeader("content-type", "application/json")
        .addHeader("x-ratelimit-limit-requests", "100").addHeader("x-ratelimit-remaining-requests", "0")
        .addHeader("x-ratelimit-reset-requests", "30s")
        .body("{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,"
            + "\"completion_tokens\":1,\"total_tokens\":2}}").build());
    Instance ia = instance(0, p -> p.tier(a.provider().quotaGroup("acct").build()).tier(z.provider().build()), s -> {});
    Instance ib = instance(9_000_000_000L, p -> p
        .tier(Provider.builder("c").baseUrl(a.baseUrl()).apiKey(a.apiKey()).quotaGroup("acct").build())
        .tier(z.provider().build()), s -> {});
    ia.resynced();
    ib.resynced();
    assertOk(ia.call());
    SharedQuota q = ib.next(SharedQuota.class, ARRIVAL);
    assertTrue(q.group(), "published as the group's window: " + q);
    assertEquals("acct", q.provider());
    int before = a.requestCount();
    for (int i = 0; i < 3; i++) {
      assertOk(ib.call());
    }
    assertEquals(before, a.requestCount(), "c (the same account) is not asked on B, which has no member a");
    assertEquals(3, z.requestCount());
    assertTrue(rawConn.sync().hexists("llmpool:{chat}:quota", "r:g:acct"), "stored by group name");
  }

  @Test
  void aProvidersHeadersCorrectAConfiguredFleetWindowDownToWhatItHasLeft() throws Exception {
    // Both configure 100/min; quota windows are not shared, so B knows only the fleet window.
    firstAnswerAnnounces(2);
    UnaryOperator<ProviderPool.Builder> pool = p -> p.whenAllEvicted(AllEvictedPolicy.FAIL_FAST)
        .tier(a.provider().requestsPerMinute(100).build());
    Instance ia = instance(0, pool, s -> s.shareQuota(false));
    Instance ib = instance(4_000_000_000L, pool, s -> s.shareQuota(false));
    ia.leased();
    ib.leased();
    assertOk(ia.call()); // the provider says 2 of 100 are left (the window thought 99)
    ia.leased(); // A's next round carries it to the window
    ia.leased();
    int admitted = 0;
    for (int round = 0; round < 10; round++) {
      ib.leased();
      admitted += callsUntilRefused(ib, 200);
    }
    assertTrue(admitted <= 3, "B admitted " + admitted + ": at most the 2 left and the unit it held before (without: 98)");
    assertTrue(admitted >= 1, "B admitted " + admitted);
  }
}
