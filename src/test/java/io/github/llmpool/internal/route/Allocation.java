package io.github.llmpool.internal.route;

import java.lang.management.ManagementFactory;
import java.util.function.Supplier;

/**
 * Bytes allocated by the current thread per call, after warm-up, via
 * {@code com.sun.management.ThreadMXBean}. A single-pick allocation check; JMH's
 * {@code gc.alloc.rate.norm} in benchmarks/ is the real measure.
 */
public final class Allocation {
  private Allocation() {}

  public static long measure(Supplier<?> op) {
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().getId();
    Object sink = null;
    for (int i = 0; i < 200_000; i++) {
      sink = op.get(); // warm up so the JIT can scalarise what it will
    }
    int n = 100_000;
    long before = mx.getThreadAllocatedBytes(id);
    for (int i = 0; i < n; i++) {
      sink = op.get();
    }
    long after = mx.getThreadAllocatedBytes(id);
    if (sink == null) {
      return -1;
    }
    // The measurement itself allocates a little; anything below one byte per call is zero.
    return (after - before) / n;
  }
}
