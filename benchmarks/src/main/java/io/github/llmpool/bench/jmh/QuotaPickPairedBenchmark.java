package io.github.llmpool.bench.jmh;

import io.github.llmpool.Strategy;
import io.github.llmpool.internal.route.Exclusion;
import io.github.llmpool.internal.route.Router;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Issue 17's ratio, paired: each mode of {@link QuotaPickBenchmark} against {@code off} in the same
 * JVM, the two measured alternately in chunks of {@value #CHUNK} picks (about 0.1-0.5 ms each,
 * base-mode-mode-base in every invocation) in the thread's CPU time, so that both sides of the
 * ratio see the same moment of the shared machine (its 20-40% drift between 1-s iterations falls
 * on both) and the same compiled {@code Router.pick} (a real call, as in {@code picksCpu}). Read
 * {@code paired:ratio} (mode / off, per iteration), with {@code paired:offNsPerPick} and
 * {@code paired:modeNsPerPick}. The two routers are separate fleets as {@code picksCpu} builds
 * them for each mode; the price of pairing: {@code Router.pick}'s profile holds both routers' paths
 * (quota routing on and off), where {@code picksCpu} compiles each mode alone.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-XX:CompileCommand=quiet",
    "-XX:CompileCommand=dontinline,io/github/llmpool/internal/route/Router.pick"})
@State(Scope.Benchmark)
public class QuotaPickPairedBenchmark {
  @Param({"8", "64"})
  public int providers;

  @Param({"unknown", "headers", "configured", "budget"})
  public String quota;

  @Param({"POWER_OF_TWO_CHOICES", "WEIGHTED"})
  public Strategy strategy;

  /** Picks per timed chunk. */
  public static final int CHUNK = 1 << 13;
  private static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();

  private Router off;
  private Router mode;
  private final long[] instants = new long[QuotaPickBenchmark.BATCH];
  private final Exclusion request = QuotaPickBenchmark.REQUEST;

  @Setup
  public void setup() {
    long now = TimeUnit.HOURS.toNanos(1);
    off = QuotaPickBenchmark.router("off", providers, strategy, now, request);
    mode = QuotaPickBenchmark.router(quota, providers, strategy, now, request);
    for (int k = 0; k < instants.length; k++) {
      instants[k] = now + k;
    }
  }

  /** CPU time of each side over one iteration. */
  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(Scope.Thread)
  public static class Pair {
    long offNanos;
    long modeNanos;
    long picksEach;

    @Setup(Level.Iteration)
    public void reset() {
      offNanos = 0;
      modeNanos = 0;
      picksEach = 0;
    }

    /** The mode's CPU time per pick over off's in this iteration. */
    public double ratio() {
      return offNanos == 0 ? Double.NaN : modeNanos / (double) offNanos;
    }

    /** off's CPU nanoseconds per pick in this iteration. */
    public double offNsPerPick() {
      return picksEach == 0 ? Double.NaN : offNanos / (double) picksEach;
    }

    /** The mode's CPU nanoseconds per pick in this iteration. */
    public double modeNsPerPick() {
      return picksEach == 0 ? Double.NaN : modeNanos / (double) picksEach;
    }
  }

  private int chunk(Router r, int sum) {
    long[] at = instants;
    Exclusion x = request;
    for (int k = 0; k < CHUNK; k++) {
      sum += r.pick(at[k & (QuotaPickBenchmark.BATCH - 1)], x).weight;
    }
    return sum;
  }

  /** off, mode, mode, off: {@value #CHUNK} picks each, four reads of the thread's CPU time (the two mode chunks timed together). */
  @Benchmark
  @OperationsPerInvocation(4 * CHUNK)
  public int paired(Pair p) {
    long t0 = MX.getCurrentThreadCpuTime();
    int sum = chunk(off, 0);
    long t1 = MX.getCurrentThreadCpuTime();
    sum = chunk(mode, sum);
    sum = chunk(mode, sum);
    long t3 = MX.getCurrentThreadCpuTime();
    sum = chunk(off, sum);
    long t4 = MX.getCurrentThreadCpuTime();
    p.offNanos += (t1 - t0) + (t4 - t3);
    p.modeNanos += t3 - t1;
    p.picksEach += 2 * CHUNK;
    return sum;
  }
}
