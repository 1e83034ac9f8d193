package io.github.llmpool.internal.health;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A pool-wide retry budget over a sliding window (Finagle's RetryBudget idea): retries in the
 * window may not exceed {@code minPerSecond x windowSeconds + ratio x requests in the window}.
 * The window is ten buckets; counts are approximate under races (a bucket reset may lose a few
 * increments), never unbounded. Thread-safe, lock-free; time comes from the caller.
 *
 * <p>Every logical request counts itself ({@link #onRequest}), so that increment is striped: each
 * bucket's request count is a {@link LongAdder}, whose cells are padded against false sharing and
 * spread concurrent writers over separate cache lines once they collide. The bucket epochs are
 * only read on that path (written once per bucket period), and retries, counted only when a
 * request fails over, sit in their own cells too. {@link #tryRetry} sums the ten buckets.
 */
public final class RetryBudget {
  private static final int BUCKETS = 10;

  private final double ratio;
  private final long floor;
  private final long bucketNanos;
  private final AtomicLongArray epochs = new AtomicLongArray(BUCKETS);
  private final LongAdder[] requests = new LongAdder[BUCKETS];
  private final LongAdder[] retries = new LongAdder[BUCKETS];

  public RetryBudget(double ratio, int minRetriesPerSecond, long windowNanos) {
    this.ratio = ratio;
    this.floor = (long) Math.ceil(minRetriesPerSecond * (windowNanos / 1e9));
    this.bucketNanos = Math.max(1, windowNanos / BUCKETS);
    for (int i = 0; i < BUCKETS; i++) {
      epochs.set(i, Long.MIN_VALUE);
      requests[i] = new LongAdder();
      retries[i] = new LongAdder();
    }
  }

  /** Counts one logical request. Contention-free across threads (striped, padded cells). */
  public void onRequest(long now) {
    requests[bucket(now)].increment();
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
        req += requests[i].sum();
        ret += retries[i].sum();
      }
    }
    if (ret >= floor + (long) (ratio * req)) {
      return false;
    }
    retries[b].increment();
    return true;
  }

  private int bucket(long now) {
    long epoch = Math.floorDiv(now, bucketNanos);
    int i = Math.floorMod(epoch, BUCKETS);
    long e = epochs.get(i);
    if (e != epoch && epochs.compareAndSet(i, e, epoch)) {
      requests[i].reset();
      retries[i].reset();
    }
    return i;
  }
}
