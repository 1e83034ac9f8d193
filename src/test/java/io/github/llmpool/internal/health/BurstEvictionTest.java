package io.github.llmpool.internal.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Outcome;
import io.github.llmpool.ScriptedRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One burst of simultaneous failures of attempts already in flight is one ejection: the check
 * "did this attempt start before the eviction in force?" and the eviction itself are decided under
 * the provider's one lock. Threads meet at a barrier and report their failures at the same moment,
 * thousands of bursts in a row; the invariant must hold in every one of them.
 */
class BurstEvictionTest {
  private static final long S = 1_000_000_000L;
  private static final LatencyModel MODEL = new LatencyModel(10 * S, S, true);
  private static final int THREADS = 8;
  private static final int BURSTS = 20_000;
  private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(20);

  @Test
  void everyBurstOfSimultaneousFailuresIsExactlyOneEjection() throws Exception {
    Health h = new Health(EvictionPolicy.builder().jitter(0).failureThreshold(1).build(), MODEL,
        ScriptedRandom.seeded(1));
    ProviderState s = new ProviderState("a");
    AtomicInteger evictions = new AtomicInteger();
    long[] clock = new long[1]; // written by the coordinator before each burst's barrier
    CyclicBarrier start = new CyclicBarrier(THREADS + 1);
    CyclicBarrier end = new CyclicBarrier(THREADS + 1);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    int bursts = 0;
    try {
      List<Future<?>> workers = new ArrayList<>();
      int[] burstsRun = new int[1];
      for (int t = 0; t < THREADS; t++) {
        int id = t;
        java.util.Random jitter = new java.util.Random(id);
        workers.add(pool.submit(() -> {
          while (true) {
            start.await();
            long base = clock[0];
            if (base < 0) {
              return null;
            }
            // a little jitter spread the arrivals over each other's decisions,
            // so the interleavings a real burst produces are explored, not only lock convoys
            for (int spin = jitter.nextInt(64); spin > 0; spin--) {
              Thread.onSpinWait();
            }
            // every attempt was dispatched before the burst (base + id ns); all fail at base + 1 ms
            if (h.onFailure(s, Outcome.RATE_LIMITED, -1, base + 1_000_000, base + id, false, true) != null) {
              evictions.incrementAndGet();
            }
            end.await();
          }
        }));
      }
      long began = System.nanoTime();
      long t = 0;
      while (bursts < BURSTS && System.nanoTime() - began < BUDGET_NANOS) {
        clock[0] = t;
        start.await();
        end.await();
        bursts++;
        assertEquals(1, evictions.getAndSet(0), "evictions in burst " + bursts);
        assertEquals(1, s.ejections(), "ejections after burst " + bursts);
        assertEquals(t + 1_000_000 + 5 * S, s.evictedUntil(), "deadline after burst " + bursts);
        // the provider comes back (its probe succeeds) before the next burst
        t = s.evictedUntil() + S;
        assertEquals(ProviderState.PROBE, s.claim(t));
        assertTrue(h.onHealthy(s, t));
        t += S;
      }
      clock[0] = -1;
      start.await();
      for (Future<?> w : workers) {
        w.get(10, TimeUnit.SECONDS);
      }
      burstsRun[0] = bursts;
      assertTrue(burstsRun[0] >= 1_000, "only " + burstsRun[0] + " bursts ran in the time budget");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aSuccessThatPredatesTheEvictionNeverEndsItEvenWhenBothLandTogether() throws Exception {
    Health h = new Health(EvictionPolicy.builder().jitter(0).failureThreshold(2).build(), MODEL,
        ScriptedRandom.seeded(1));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      long began = System.nanoTime();
      int rounds = 0;
      while (rounds < 5_000 && System.nanoTime() - began < BUDGET_NANOS) {
        ProviderState s = new ProviderState("a");
        // one failure already counted (threshold 2), so the success has a count to reset
        h.onFailure(s, Outcome.SERVER_ERROR, -1, 500_000, 0, false, true);
        CyclicBarrier go = new CyclicBarrier(2);
        // two attempts dispatched at 0 and 1 ns: one fails at 1 ms, the other's success lands then too
        Future<Health.Eviction> fail = pool.submit(() -> {
          go.await();
          return h.onFailure(s, Outcome.SERVER_ERROR, -1, 1_000_000, 0, false, true);
        });
        Future<Boolean> ok = pool.submit(() -> {
          go.await();
          return h.onHealthy(s, 1);
        });
        Health.Eviction eviction = fail.get(10, TimeUnit.SECONDS);
        boolean restored = ok.get(10, TimeUnit.SECONDS);
        rounds++;
        // Either order is legitimate (a success decided first resets the count, so the failure
        // does not evict), but a success that started before the eviction never ends it: it says
        // nothing about the provider after the failure.
        assertFalse(eviction != null && restored, "round " + rounds + ": a stale success ended the eviction");
        assertEquals(eviction != null, s.evicted(), "round " + rounds);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
