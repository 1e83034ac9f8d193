package io.github.llmpool.internal.health;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A pool-wide retry budget over a sliding window (Finagle's RetryBudget idea): retries in the
 * window may not exceed {@code minPerSecond x windowSeconds + ratio x requests in the window}.
 * The window is ten buckets; counts are approximate under races (a bucket reset may lose a few
 * increments), never unbounded. Thread-safe, lock-free; time comes from the caller.
 *
 * <p>Every logical request counts itself ({@link #onRequest}), so that count is striped: each
 * bucket has {@value #STRIPES} request cells, each on its own 128-byte line, and a thread adds to
 * the cell its thread id picks (as {@code RoundRobinPicker} picks its position): requests on
 * different threads do not write one shared cache line, and one thread pays one atomic add, as
 * before. The bucket epochs are only read on that path (written once per bucket period); retries,
 * counted only when a request fails over, have cells of their own. {@link #tryRetry} sums the
 * window.
 */
public final class RetryBudget {
  private static final int BUCKETS = 10;
  static final int STRIPES = 8;
  private static final int PAD = 16; // longs between two cells: 128 bytes

  private final double ratio;
  private final long floor;
  private final long bucketNanos;
  private final AtomicLongArray epochs = new AtomicLongArray(BUCKETS);
  /** Request cell (bucket b, stripe s) at ((b x STRIPES + s) + 1) x PAD; the first line left empty. */
  private final AtomicLongArray requests = new AtomicLongArray((BUCKETS * STRIPES + 2) * PAD);
  private final AtomicLongArray retries = new AtomicLongArray((BUCKETS + 2) * PAD);

  public RetryBudget(double ratio, int minRetriesPerSecond, long windowNanos) {
    this.ratio = ratio;
    this.floor = (long) Math.ceil(minRetriesPerSecond * (windowNanos / 1e9));
    this.bucketNanos = Math.max(1, windowNanos / BUCKETS);
    for (int i = 0; i < BUCKETS; i++) {
      epochs.set(i, Long.MIN_VALUE);
    }
  }

  /** Counts one logical request: one atomic add on this thread's cell of the current bucket. */
  @SuppressWarnings("deprecation") // Thread.getId(): threadId() needs Java 19
  public void onRequest(long now) {
    int stripe = (int) ((Thread.currentThread().getId() * 0x9E3779B97F4A7C15L) >>> 61); // 0..7
    requests.getAndIncrement((bucket(now) * STRIPES + stripe + 1) * PAD);
  }

  /** Takes one retry from the budget if there is one. */
  public boolean tryRetry(long now) {
    int b = bucket(now);
    long epoch = Math.floorDiv(now, bucketNanos);
    long req = 0;
    long ret = 0;
    for (int i = 0; i < BUCKETS; i++) {
      long e = epochs.get(i);
      if (e != Long.MIN_VALUE && epoch - e < BUCKETS) {
        for (int s = 0; s < STRIPES; s++) {
          req += requests.get((i * STRIPES + s + 1) * PAD);
        }
        ret += retries.get((i + 1) * PAD);
      }
    }
    if (ret >= floor + (long) (ratio * req)) {
      return false;
    }
    retries.getAndIncrement((b + 1) * PAD);
    return true;
  }

  private int bucket(long now) {
    long epoch = Math.floorDiv(now, bucketNanos);
    int i = Math.floorMod(epoch, BUCKETS);
    long e = epochs.get(i);
    if (e != epoch && epochs.compareAndSet(i, e, epoch)) {
      for (int s = 0; s < STRIPES; s++) {
        requests.set((i * STRIPES + s + 1) * PAD, 0);
      }
      retries.set((i + 1) * PAD, 0);
    }
    return i;
  }
}
