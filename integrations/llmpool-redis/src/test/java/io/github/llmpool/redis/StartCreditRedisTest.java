package io.github.llmpool.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.testing.FakeLlmServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: a pool whose configured limits are leased from Redis refused every call until its first
 * lease arrived (97 refusals in the first milliseconds of {@code FleetOverhead}). Before its first
 * grant a holder now admits one lease's worth on credit, a debt the next grant pays from the fleet
 * window. On a real Redis started by the test.
 */
class StartCreditRedisTest extends RedisTestBase {

  private final List<Instance> instances = new ArrayList<>();
  private FakeLlmServer a;

  @BeforeEach
  void flush() {
    rawConn.sync().flushall();
    a = FakeLlmServer.start("a");
  }

  @AfterEach
  void close() {
    instances.forEach(Instance::close);
    a.close();
  }

  private Instance instance(long nanosOffset, int perMinute, double share) {
    Instance i = new Instance(redis.uri(), nanosOffset, p -> p.whenAllEvicted(AllEvictedPolicy.FAIL_FAST)
        .tier(a.provider().requestsPerMinute(perMinute).build()),
        s -> s.leaseShare(share).commandTimeout(Duration.ofSeconds(10)));
    instances.add(i);
    return i;
  }

  @Test
  void aPoolBuiltAgainstRedisTakesItsFirstFiftyConcurrentCallsAtOnce() throws Exception {
    // 10,000/min with the default lease share (0.005): a lease, and the start credit, of 50 requests.
    Instance i = instance(0, 10_000, RedisSharedState.DEFAULT_LEASE_SHARE);
    int calls = 50;
    java.util.concurrent.atomic.AtomicReference<String> firstRefusal = new java.util.concurrent.atomic.AtomicReference<>();
    ExecutorService pool = Executors.newFixedThreadPool(calls);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Boolean>> results = new ArrayList<>();
      for (int k = 0; k < calls; k++) {
        results.add(pool.submit(() -> {
          go.await();
          try {
            return i.call() == 200;
          } catch (io.github.llmpool.NoProviderAvailableException e) {
            firstRefusal.compareAndSet(null, e.getMessage() + " [" + i.pool.snapshot().provider("a").orElseThrow() + "]");
            return false;
          }
        }));
      }
      go.countDown(); // at once after build: the first lease is a connection and a round trip away
      int refused = 0;
      for (Future<Boolean> f : results) {
        if (!f.get(30, TimeUnit.SECONDS)) {
          refused++;
        }
      }
      System.out.println("[llmpool-redis] a pool just built: " + refused + " of " + calls
          + " concurrent calls refused");
      assertEquals(0, refused, refused + " of the first " + calls + " concurrent calls were refused, the first: "
          + firstRefusal.get());
      assertEquals(calls, a.requestCount());
    } finally {
      pool.shutdownNow();
    }
    // The credit was a debt, paid from the window: with this instance closed (what it holds goes
    // back), the window is short of exactly the 50 calls.
    i.leased();
    i.close();
    instances.remove(i);
    try (RedisSharedState other = RedisSharedState.builder().uri(redis.uri()).ticker(i.ticker).leaseShare(1.0)
        .build()) {
      LeaseRenewalRedisTest.RecordingHolder o = new LeaseRenewalRedisTest.RecordingHolder();
      other.limits().open(io.github.llmpool.spi.SharedLimit.of("chat", "a", false,
          io.github.llmpool.spi.SharedLimit.Dimension.REQUESTS, 10_000), o);
      other.nextLeaseRound().get(10, TimeUnit.SECONDS);
      assertEquals(10_000 - calls, o.held(), "the window was charged the " + calls + " calls taken on credit");
    }
  }

  @Test
  void fourInstancesSpendingTheirCreditStayWithinTheBound() throws Exception {
    int n = 240;
    long lease = 3; // 240 x 0.0125
    int fleet = 4;
    // Built while Redis is frozen: no lease can arrive; each instance admits its credit, exactly, then nothing.
    redis.stall();
    List<Instance> insts = new ArrayList<>();
    int credit = 0;
    try {
      for (int k = 0; k < fleet; k++) {
        insts.add(instance(k * 3_000_000_000L, n, 0.0125));
      }
      for (Instance i : insts) {
        int admitted = 0;
        while (i.admitted()) {
          admitted++;
        }
        assertEquals(lease, admitted, "one lease on credit before the first grant");
        credit += admitted;
      }
    } finally {
      redis.resume();
    }
    int seconds = 130;
    int[] perSecond = new int[seconds + 1];
    perSecond[0] = credit + drain(insts);
    assertEquals(n, perSecond[0],
        "time stands: the window's burst, exactly; the credit (" + credit + ") was paid from it");
    for (int s = 1; s <= seconds; s++) {
      insts.forEach(i -> i.advance(Duration.ofSeconds(1)));
      perSecond[s] = drain(insts);
    }
    long bound = n + fleet * lease; // N + I x L: a holder spends leased units held before a window or credit, not both
    int worst = 0;
    for (int start = 1; start + 60 <= seconds + 1; start++) {
      int sum = 0;
      for (int s = start; s < start + 60; s++) {
        sum += perSecond[s];
      }
      worst = Math.max(worst, sum);
    }
    int first = 0;
    for (int s = 0; s < 60; s++) {
      first += perSecond[s];
    }
    System.out.println("[llmpool-redis] credit " + credit + " on " + fleet + " instances, " + n + "/min, lease " + lease
        + ": first minute " + first + " (bound 2N - N/60 + I x L = " + (2 * n - n / 60 + fleet * lease)
        + "), worst later minute " + worst + " (bound " + bound + ")");
    assertTrue(worst <= bound, "a minute admitted " + worst + " > " + bound);
    assertTrue(first <= 2 * n - n / 60 + fleet * lease, "the first minute: burst + 59 s of refill + I x L: " + first);
    assertEquals(a.requestCount(), java.util.Arrays.stream(perSecond).sum());
  }

  /** Every instance's lease round, then calls until refused, until a whole pass admits nothing. */
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
}
