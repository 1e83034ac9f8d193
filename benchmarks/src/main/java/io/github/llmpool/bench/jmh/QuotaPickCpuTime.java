package io.github.llmpool.bench.jmh;

import io.github.llmpool.Strategy;
import io.github.llmpool.internal.route.Slot;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * {@link QuotaPickBenchmark}'s pick timed in the thread's CPU time rather than wall time, for a
 * shared, loaded machine where JMH's wall-clock error bars swamp a few nanoseconds: time the thread
 * spends descheduled does not count. One mode per JVM (so each mode's JIT profile is its own), 3 s
 * of warm-up, then 40 chunks of 200,000 picks; prints the minimum, lower quartile and median
 * nanoseconds per pick. {@code scripts/quota-pick-cpu.sh} runs the modes interleaved over rounds.
 *
 * <p>Usage: {@code java -cp target/benchmarks.jar io.github.llmpool.bench.jmh.QuotaPickCpuTime
 * MODE [PROVIDERS [STRATEGY]]}, MODE one of {@code off unknown headers configured budget}.
 */
public final class QuotaPickCpuTime {
  private static long sink;

  private QuotaPickCpuTime() {}

  public static void main(String[] args) {
    QuotaPickBenchmark b = new QuotaPickBenchmark();
    b.quota = args[0];
    b.providers = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    b.strategy = Strategy.valueOf(args.length > 2 ? args[2] : "POWER_OF_TWO_CHOICES");
    b.setup();
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    int chunk = 200_000;
    long warmEnd = mx.getCurrentThreadCpuTime() + 3_000_000_000L;
    while (mx.getCurrentThreadCpuTime() < warmEnd) {
      run(b, chunk);
    }
    double[] ns = new double[40];
    for (int i = 0; i < ns.length; i++) {
      long t0 = mx.getCurrentThreadCpuTime();
      run(b, chunk);
      ns[i] = (mx.getCurrentThreadCpuTime() - t0) / (double) chunk;
    }
    Arrays.sort(ns);
    System.out.printf("%s %s %d min %.2f p25 %.2f median %.2f (sink %d)%n", b.strategy, b.quota, b.providers, ns[0],
        ns[ns.length / 4], ns[ns.length / 2], sink & 1);
  }

  private static void run(QuotaPickBenchmark b, int n) {
    long s = 0;
    for (int i = 0; i < n; i++) {
      Slot x = b.pick();
      s += x.weight;
    }
    sink += s;
  }
}
