package io.github.llmpool.internal.health;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A pool-wide retry budget over a sliding window (Finagle's RetryBudget idea): retries in the
 * window may not exceed {@code minPerSecond x windowSeconds + ratio x requests in the window}.
 * The window is ten buckets; counts are approximate under races (a bucket reset may lose a few
 * increments), never unbounded. Thread-safe, lock-free; time comes from the caller.
 */
public final class RetryBudget {
  private static final int BUCKETS = 10;

  private final double ratio;
  private final long floor;
  private final long bucketNanos;
  private final AtomicLongArray epochs = new AtomicLongArray(BUCKETS);
  private final AtomicLongArray requests = new AtomicLongArray(BUCKETS);
  private final AtomicLongArray retries = new AtomicLongArray(BUCKETS);

  public RetryBudget(double ratio, int minRetriesPerSecond, long windowNanos) {
    this.ratio = ratio;
    this.floor = (long) Math.ceil(minRetriesPerSecond * (windowNanos / 1e9));
    this.bucketNanos = Math.max(1, windowNanos / BUCKETS);
    for (int i = 0; i < BUCKETS; i++) {
      epochs.set(i, Long.MIN_VALUE);
    }
  }

  /** Counts one logical request. */
  public void onRequest(long now) {
    requests.incrementAndGet(bucket(now));
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
        req += requests.get(i);
        ret += retries.get(i);
      }
    }
    if (ret >= floor + (long) (ratio * req)) {
      return false;
    }
    retries.incrementAndGet(b);
    return true;
  }

  private int bucket(long now) {
    long epoch = Math.floorDiv(now, bucketNanos);
    int i = (int) Math.floorMod(epoch, BUCKETS);
    long e = epochs.get(i);
    if (e != epoch && epochs.compareAndSet(i, e, epoch)) {
      requests.set(i, 0);
      retries.set(i, 0);
    }
    return i;
  }
}
