package io.github.llmpool.bench.jmh;

import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.Headroom;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.health.RateWindow;
import io.github.llmpool.internal.route.Exclusion;
import io.github.llmpool.internal.route.Router;
import io.github.llmpool.internal.route.Slot;
import io.github.llmpool.spi.RandomSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Fork;
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
 * Issue 17: the cost of a pick with quota headroom tracking on, side by side with today's pick in
 * one run. The same seeded fleet ({@link Fleet}) in one tier; {@code quota} is:
 * <ul>
 *   <li>{@code off}: {@code quotaRouting(false)}, today's reactive pick (the baseline);</li>
 *   <li>{@code unknown}: quota routing on, nothing known yet (no header seen, no limit configured);</li>
 *   <li>{@code headers}: every provider's last answer announced request and token windows with
 *       plenty left (OpenAI style, limit/remaining/reset): each eligibility check refills and compares;</li>
 *   <li>{@code configured}: every provider has configured requests- and tokens-per-minute limits
 *       (the GCRA buckets), far from used up.</li>
 *   <li>{@code budget}: quota routing off as in {@code off}, and every provider under a budget of its
 *       own (issue 19: money per day, priced, none spent), so each eligibility check reads the
 *       budget's one volatile counter and compares it with its gate's threshold (an estimate is
 *       priced only when a budget is nearly spent).</li>
 * </ul>
 * Run with {@code -prof gc}: the pick must stay at 0 B/op, and within 1.2x of {@code off}. On a
 * loaded machine, {@link QuotaPickCpuTime} times the same state in CPU time.
 *
 * <p>{@link #picks} is the method to read: {@value #BATCH} picks per invocation (JMH divides by
 * them), each a real call of {@code Router.pick} (not inlined, as {@link QuotaPickCpuTime} runs it
 * and as the interceptor calls it, so nothing of one pick is hoisted out of the loop into the next),
 * each at its own instant from a pre-filled array (the JIT cannot treat the input as a constant):
 * the harness' per-invocation cost and its jitter (the timer, the blackhole, the stub's loop) are
 * shared by 64 picks instead of falling on each ~10-ns pick. {@link #pick} is the single-call form
 * of the earlier runs.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-XX:CompileCommand=quiet",
    "-XX:CompileCommand=dontinline,io/github/llmpool/internal/route/Router.pick"})
@State(Scope.Benchmark)
public class QuotaPickBenchmark {
  @Param({"8", "64"})
  public int providers;

  @Param({"off", "unknown", "headers", "configured", "budget"})
  public String quota;

  @Param({"POWER_OF_TWO_CHOICES", "WEIGHTED"})
  public Strategy strategy;

  private static final io.github.llmpool.Price PRICE = io.github.llmpool.Price.builder("USD").input("2.50")
      .output("10").above(200_000, io.github.llmpool.Price.builder("USD").input("5").output("15").build()).build();

  /** Picks per invocation of {@link #picks}. */
  public static final int BATCH = 64;

  private Router router;
  private long now;
  /** {@link #picks}' instants: now, now + 1 ns, ... (every answer the same as at now). */
  private final long[] instants = new long[BATCH];
  private final Exclusion request = REQUEST;
  /** A request of about 700 tokens (prompt estimate plus max_tokens), none tried yet. */
  static final Exclusion REQUEST = new Exclusion() {
    @Override
    public boolean excludes(Slot slot) {
      return false;
    }

    @Override
    public long tokens() {
      return 700;
    }

    @Override
    public long promptTokens() {
      return 500;
    }

    @Override
    public long maxTokens() {
      return 200;
    }
  };

  @Setup
  public void setup() {
    now = TimeUnit.HOURS.toNanos(1);
    router = router(quota, providers, strategy, now, request);
    for (int k = 0; k < BATCH; k++) {
      instants[k] = now + k;
    }
  }

  /**
   * The seeded fleet of {@code providers} in one tier with the state of mode {@code quota} (see the
   * class comment), picking by {@code strategy}; checked to pick {@code request} at {@code now}.
   */
  static Router router(String quota, int providers, Strategy strategy, long now, Exclusion request) {
    Fleet fleet = new Fleet(providers);
    ProviderState[] states = fleet.states(now);
    List<Slot> tier = new ArrayList<>();
    for (int i = 0; i < providers; i++) {
      ProviderState s = states[i];
      switch (quota) {
        case "headers" -> s.observeRateLimits(
            new RateWindow(10_000, 9_000, true, now + TimeUnit.SECONDS.toNanos(6), now - 1_000_000),
            new RateWindow(2_000_000, 1_500_000, true, now + TimeUnit.SECONDS.toNanos(15), now - 1_000_000), 0, now);
        case "configured" -> s.headroom(new Headroom(null, 10_000, 2_000_000, now - TimeUnit.SECONDS.toNanos(1)));
        case "off", "unknown", "budget" -> { }
        default -> throw new IllegalArgumentException("quota mode: " + quota);
      }
      io.github.llmpool.internal.health.BudgetGate[] gates = null;
      if (quota.equals("budget")) {
        io.github.llmpool.Budget b = io.github.llmpool.Budget.builder("b" + i).amount("1000", "USD")
            .window(io.github.llmpool.Budget.Window.DAY).provider(s.name()).build();
        gates = new io.github.llmpool.internal.health.BudgetGate[] {new io.github.llmpool.internal.health.BudgetGate(
            new io.github.llmpool.internal.health.BudgetState(b, 1_790_000_000_000L), PRICE)};
      }
      tier.add(new Slot(Fleet.endpoint(s.name()), s, 0, fleet.weight[i], 0, gates));
    }
    boolean quotaRouting = !quota.equals("off") && !quota.equals("budget");
    Router router = new Router(strategy, List.of(tier), RandomSource.threadLocal(), Fleet.MODEL, quotaRouting);
    if (router.pick(now, request) == null) {
      throw new IllegalStateException("setup: nothing eligible");
    }
    return router;
  }

  /** Picks per invocation of {@link #picksCpu}. */
  public static final int CPU_BATCH = 1 << 14;
  private static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();

  /**
   * {@link #picksCpu}'s reading: the benchmark thread's CPU time per pick over one iteration
   * ({@code cpuNsPerPick}, a secondary metric with JMH's error over iterations and forks). Time the
   * thread spends descheduled (other processes on a shared machine) does not count, unlike the wall
   * clock of the primary score.
   */
  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(Scope.Thread)
  public static class CpuTime {
    long cpuNanos;
    long cpuPicks;

    @Setup(Level.Iteration)
    public void reset() {
      cpuNanos = 0;
      cpuPicks = 0;
    }

    /** CPU nanoseconds per pick in this iteration. */
    public double cpuNsPerPick() {
      return cpuPicks == 0 ? Double.NaN : cpuNanos / (double) cpuPicks;
    }
  }

  /**
   * {@value #CPU_BATCH} picks between two reads of the thread's CPU time (about 0.2 ms: the reads'
   * cost, under a microsecond, is under 0.1 ns per pick and the same in every mode), as
   * {@link #picks} makes them (instants from the same 64-entry array, a real call each); read
   * {@code picksCpu:cpuNsPerPick}.
   */
  @Benchmark
  @OperationsPerInvocation(CPU_BATCH)
  public int picksCpu(CpuTime cpu) {
    long[] at = instants;
    Router r = router;
    Exclusion x = request;
    int sum = 0;
    long t0 = MX.getCurrentThreadCpuTime();
    for (int k = 0; k < CPU_BATCH; k++) {
      sum += r.pick(at[k & (BATCH - 1)], x).weight;
    }
    cpu.cpuNanos += MX.getCurrentThreadCpuTime() - t0;
    cpu.cpuPicks += CPU_BATCH;
    return sum;
  }

  /** {@value #BATCH} picks, each at its own instant; the sum of the chosen weights (consumed by JMH). */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int picks() {
    long[] at = instants;
    Router r = router;
    Exclusion x = request;
    int sum = 0;
    for (int k = 0; k < at.length; k++) {
      sum += r.pick(at[k], x).weight;
    }
    return sum;
  }

  @Benchmark
  public Slot pick() {
    return router.pick(now, request);
  }
}
