package io.github.llmpool.internal.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.Affinity;
import io.github.llmpool.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The sticky table is bounded by recency (true LRU), not by frequency. */
class AffinityTableTest {
  private final FakeTicker ticker = new FakeTicker();

  private AffinityTable table(long maxSize) {
    return new AffinityTable(Affinity.user().maxSize(maxSize), ticker);
  }

  /** One request of a key: look it up, remember where it went (as LogicalCall does). */
  private static void use(AffinityTable t, String key) {
    String known = t.provider(key);
    t.remember(key, known != null ? known : home(key), known);
  }

  private static String home(String key) {
    return "p" + Math.floorMod(key.hashCode(), 7);
  }

  /** The keys of {@code from..to-1} that the table does not remember (lookups refresh, so check absent ones first). */
  private static List<Integer> missing(AffinityTable t, int from, int to) {
    List<Integer> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      String p = t.provider("k" + i);
      if (p == null) {
        out.add(i);
      } else {
        assertEquals(home("k" + i), p, "k" + i);
      }
    }
    return out;
  }

  @Test
  void afterManyOneOffKeysExactlyTheMostRecentAreRemembered() {
    AffinityTable t = table(100);
    for (int i = 0; i < 300; i++) {
      use(t, "k" + i);
    }
    assertEquals(100, t.size());
    assertEquals(List.of(), missing(t, 200, 300)); // the last 100, every one
    assertNull(t.provider("k199")); // the 101st most recent is gone
    assertEquals(200, missing(t, 0, 200).size());
    assertEquals(100, t.size()); // lookups of forgotten keys add nothing
  }

  @Test
  void atTheDefaultSizeKeysUsedAFewHundredKeysAgoAreKept() {
    AffinityTable t = new AffinityTable(Affinity.user(), ticker); // maxSize 10,000
    int n = 25_000;
    for (int i = 0; i < n; i++) {
      use(t, "k" + i);
    }
    // keys last used 200..249 distinct keys ago, then the oldest still inside the bound
    assertEquals(List.of(), missing(t, n - 250, n - 200));
    assertEquals(List.of(), missing(t, n - 10_000, n - 9_950));
    assertNull(t.provider("k" + (n - 10_001)));
    assertEquals(10_000, t.size());
  }

  @Test
  void recencyWinsOverFrequency() {
    AffinityTable t = table(100);
    for (int i = 0; i < 50; i++) {
      use(t, "hot"); // used often, but long ago
    }
    use(t, "warm");
    for (int i = 0; i < 1_000; i++) {
      use(t, "k" + i);
      if (i % 90 == 0) {
        use(t, "warm"); // used now and then: never among the 100 least recent
      }
    }
    assertEquals(home("warm"), t.provider("warm"));
    assertNull(t.provider("hot"));
    // warm took one place: the other 99 are the 99 most recent one-off keys
    assertEquals(List.of(), missing(t, 901, 1_000));
    assertNull(t.provider("k900"));
    assertEquals(100, t.size());
    // the checks above used warm, then k901..k999 in order: warm is now the least recent, but a
    // key that moves to another provider is written in place and becomes the most recent
    t.remember("warm", "elsewhere", t.provider("warm"));
    use(t, "new");
    assertNull(t.provider("k901")); // the least recent went
    assertEquals("elsewhere", t.provider("warm"));
    assertEquals(100, t.size());
  }

  @Test
  void idleKeysExpireOnTheTickerAndFreshOnesAreNotEvictedForThem() {
    AffinityTable t = new AffinityTable(Affinity.user().maxSize(100).idleExpiry(Duration.ofMinutes(1)), ticker);
    for (int i = 0; i < 100; i++) {
      use(t, "k" + i);
    }
    ticker.advance(Duration.ofSeconds(30));
    for (int i = 0; i < 50; i++) {
      use(t, "k" + i); // idle time restarts
    }
    ticker.advance(Duration.ofSeconds(30).minusNanos(1)); // k50..k99 idle 1 ns short of a minute
    assertEquals(100, t.size());
    ticker.advanceNanos(1); // now a full minute: forgotten
    assertEquals(50, t.size());
    assertEquals(List.of(), missing(t, 0, 50));
    assertNull(t.provider("k50"));
    // 100 new keys: the bound holds by recency, so the 50 used-twice keys go, not the new ones
    for (int i = 100; i < 200; i++) {
      use(t, "k" + i);
    }
    assertEquals(100, t.size());
    assertEquals(List.of(), missing(t, 100, 200));
    assertEquals(100, missing(t, 0, 100).size());
    // everything idle: an empty table, and a lookup does not bring anything back
    ticker.advance(Duration.ofMinutes(1));
    assertEquals(0, t.size());
    assertNull(t.provider("k150"));
    assertEquals(0, t.size());
  }

  @Test
  void concurrentUseKeepsTheBoundAndTheOrder() throws Exception {
    int maxSize = 500;
    AffinityTable t = table(maxSize);
    int threads = 8;
    int perThread = 40_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
    CountDownLatch start = new CountDownLatch(1);
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong maxSeen = new AtomicLong();
    try {
      Future<?> watcher = pool.submit(() -> {
        while (!done.get()) {
          maxSeen.accumulateAndGet(t.size(), Math::max);
        }
      });
      List<Future<?>> workers = new ArrayList<>();
      for (int w = 0; w < threads; w++) {
        int id = w;
        workers.add(pool.submit(() -> {
          start.await();
          java.util.Random r = new java.util.Random(id);
          for (int i = 0; i < perThread; i++) {
            // a mix of one-off keys and keys shared between threads
            String key = r.nextInt(4) == 0 ? "shared" + r.nextInt(2_000) : "t" + id + "-" + i;
            use(t, key);
            if (i % 1_000 == 0) {
              ticker.advanceNanos(1);
            }
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : workers) {
        f.get(60, TimeUnit.SECONDS);
      }
      done.set(true);
      watcher.get(10, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    assertTrue(maxSeen.get() <= maxSize, "size reached " + maxSeen.get());
    assertEquals(maxSize, t.size());
    // the structure is intact: maxSize fresh keys replace everything, in order
    for (int i = 0; i < maxSize; i++) {
      use(t, "k" + i);
    }
    assertEquals(maxSize, t.size());
    assertEquals(List.of(), missing(t, 0, maxSize));
    use(t, "k" + maxSize);
    assertNull(t.provider("k0"));
    assertEquals(maxSize, t.size());
  }
}
