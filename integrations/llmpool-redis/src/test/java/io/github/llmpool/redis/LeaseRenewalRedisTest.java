package io.github.llmpool.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.spi.SharedLimit;
import io.github.llmpool.spi.SharedLimits;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.ManualTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 18's refusals far below the limit ("out of quota headroom for 20 ms more"): when a lease
 * expired, the instance took every unused unit back from the pool and asked for a fresh lease in the
 * same round, so for one round trip it held nothing and refused calls while the fleet window was
 * nearly full. An expiring lease is now renewed (only units above a full lease go back), and a
 * holder short of a request's need above its low-water mark is topped up. On a real Redis started
 * by the test.
 */
class LeaseRenewalRedisTest extends RedisTestBase {

  @BeforeEach
  void flush() {
    rawConn.sync().flushall();
  }

  /** A holder as the core's, recording the least it held after any reclaim. */
  static final class RecordingHolder implements SharedLimits.Holder {
    final AtomicLong held = new AtomicLong();
    final AtomicLong leastAfterReclaim = new AtomicLong(Long.MAX_VALUE);
    final List<Long> givenBack = new ArrayList<>();
    final AtomicLong wanted = new AtomicLong();

    @Override
    public long held() {
      return held.get();
    }

    @Override
    public void granted(SharedLimits.Grant grant) {
      held.addAndGet(grant.units());
    }

    @Override
    public synchronized long reclaim(long keep) {
      long h = held.get();
      long back = Math.max(0, h - Math.max(0, keep));
      held.addAndGet(-back);
      givenBack.add(back);
      leastAfterReclaim.accumulateAndGet(held.get(), Math::min);
      return back;
    }

    @Override
    public long wanted() {
      return wanted.get();
    }

    @Override
    public void storeDown() {}

    @Override
    public void storeUp() {}
  }

  @Test
  void anExpiringLeaseIsRenewedAndOnlyUnitsAboveAFullLeaseGoBack() throws Exception {
    ManualTicker ticker = new ManualTicker(Instance.WALL).setWall(Instance.WALL);
    try (RedisSharedState shared = RedisSharedState.builder().uri(redis.uri()).ticker(ticker).leaseShare(0.1)
        .leaseTtl(Duration.ofMillis(100)).build()) {
      RecordingHolder h = new RecordingHolder();
      SharedLimits.Line line = shared.limits().open(SharedLimit.of("chat", "a", false,
          SharedLimit.Dimension.REQUESTS, 100), h); // lease 10, low water 5
      assertEquals(10, line.leaseSize());
      assertEquals(5, line.lowWater());
      shared.nextLeaseRound().get(10, TimeUnit.SECONDS);
      assertEquals(10, h.held(), "the first lease");

      ticker.advance(Duration.ofMillis(150)); // the lease expires unused
      shared.nextLeaseRound().get(10, TimeUnit.SECONDS);
      assertEquals(List.of(0L), h.givenBack, "a full lease is renewed, not given back and taken again");
      assertEquals(10, h.leastAfterReclaim.get(), "never left with nothing while a fresh lease was on its way");
      assertEquals(10, h.held());

      h.held.addAndGet(3); // answers used 3 fewer than estimated: 13 held, above a lease
      ticker.advance(Duration.ofMillis(150));
      shared.nextLeaseRound().get(10, TimeUnit.SECONDS);
      assertEquals(3L, h.givenBack.get(h.givenBack.size() - 1), "what exceeds a full lease goes back");
      assertEquals(10, h.held());

      // 7 held (not below the low-water mark of 5) but a request needs 8: the holder says so and is topped up.
      h.held.addAndGet(-3);
      h.wanted.set(8);
      shared.nextLeaseRound().get(10, TimeUnit.SECONDS);
      assertEquals(10, h.held(), "topped up to a full lease although not below the low-water mark");

      // The window: 100 less the 10 held (+3 back, -3 topped up), half a unit refilled in 300 ms: 90 for another.
      try (RedisSharedState other = RedisSharedState.builder().uri(redis.uri()).ticker(ticker).leaseShare(1.0)
          .build()) {
        RecordingHolder o = new RecordingHolder();
        other.limits().open(SharedLimit.of("chat", "a", false, SharedLimit.Dimension.REQUESTS, 100), o);
        other.nextLeaseRound().get(10, TimeUnit.SECONDS);
        assertEquals(90, o.held(), "the fleet window holds everything but the 10 this instance holds");
      }
      line.close();
    }
  }

  @Test
  void aPoolWellBelowItsLimitRefusesNothingAcrossLeaseExpiries() throws Exception {
    FakeLlmServer a = FakeLlmServer.start("a");
    Instance i = new Instance(redis.uri(), 0, p -> p.whenAllEvicted(AllEvictedPolicy.FAIL_FAST)
        .tier(a.provider().requestsPerMinute(6_000_000).build()), s -> s.leaseTtl(Duration.ofMillis(100)));
    try {
      i.leased();
      int refused = 0;
      int calls = 0;
      for (int round = 0; round < 40; round++) {
        i.advance(Duration.ofMillis(150)); // every lease held expires
        i.shared.nextLeaseRound(); // its round starts now, on the shared state's thread: calls race it
        for (int k = 0; k < 5; k++) {
          calls++;
          if (!i.admitted()) {
            refused++;
          }
        }
      }
      assertEquals(0, refused, "a pool at a fraction of its 6,000,000/min refused " + refused + " of " + calls);
      assertEquals(calls, a.requestCount());
    } finally {
      i.close();
      a.close();
    }
  }
}
