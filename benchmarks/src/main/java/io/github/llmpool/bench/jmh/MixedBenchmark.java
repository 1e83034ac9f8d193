package io.github.llmpool.bench.jmh;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Outcome;
import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.Health;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.route.Slot;
import io.github.llmpool.internal.route.Router;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Picks while another thread records outcomes into the same provider states, flat out: the worst
 * case for the read side, whose fields (estimate, sample time, failure score, eviction flag and
 * deadline) are written under the state's lock by every finishing attempt.
 *
 * <ul>
 *   <li>{@code busy}: one thread picks, one thread records: a latency sample
 *       ({@code ProviderState.sample}) for a random provider on every call, and every 64th call
 *       a health event: the provider evicted last time is restored ({@code Health.onHealthy})
 *       and another one fails twice in a row ({@code Health.onFailure}, 5xx; the default policy
 *       evicts on the second), so about one provider is evicted at any time.</li>
 *   <li>{@code quiet}: the same pick, next to a thread that burns CPU without touching the pool
 *       (so both groups keep both cores busy); the reference for {@code busy}.</li>
 * </ul>
 *
 * Both pick with {@code System.nanoTime()} read on every call (time must move for evictions and
 * samples), so compare {@code busy:pick} with {@code quiet:pick}, and {@code quiet:pick} with
 * {@code SelectorBenchmark} plus its {@code nanoTime} line. Allocation figures of a group include
 * the recorder (whose eviction records are off the pick path); the pick's own allocation is shown
 * by {@code SelectorBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
@State(Scope.Group)
public class MixedBenchmark {

  @Param({"POWER_OF_TWO_CHOICES", "WEIGHTED", "ROUND_ROBIN"})
  public Strategy strategy;

  @Param({"8", "1024"})
  public int providers;

  private Router router;
  private ProviderState[] states;
  private Fleet fleet;
  private Health health;
  // recorder-only state (one recorder thread per group)
  private long calls;
  private int evicted = -1;
  private long seed = 0x9E3779B97F4A7C15L;

  @Setup(Level.Trial)
  public void setUp() {
    fleet = new Fleet(providers);
    states = fleet.states(System.nanoTime());
    router = fleet.router(strategy, states);
    health = new Health(EvictionPolicy.defaults(), Fleet.MODEL, RandomSource.threadLocal());
  }

  private int nextProvider() {
    seed ^= seed << 13; // xorshift: no shared ThreadLocalRandom state, no allocation
    seed ^= seed >>> 7;
    seed ^= seed << 17;
    return (int) ((seed >>> 1) % providers);
  }

  @Benchmark
  @Group("busy")
  @GroupThreads(1)
  public Slot pick() {
    return router.pick(System.nanoTime(), null);
  }

  @Benchmark
  @Group("busy")
  @GroupThreads(1)
  public Object record() {
    long now = System.nanoTime();
    int i = nextProvider();
    states[i].sample(now, fleet.sampleNanos[i][(int) (calls % Fleet.SAMPLES)], Fleet.MODEL);
    if ((++calls & 63) != 0) {
      return null;
    }
    if (evicted >= 0) {
      health.onHealthy(states[evicted]);
    }
    evicted = nextProvider();
    health.onFailure(states[evicted], Outcome.SERVER_ERROR, -1, now, false, true);
    return health.onFailure(states[evicted], Outcome.SERVER_ERROR, -1, now, false, true);
  }

  @Benchmark
  @Group("quiet")
  @GroupThreads(1)
  public Slot pickQuiet() {
    return router.pick(System.nanoTime(), null);
  }

  @Benchmark
  @Group("quiet")
  @GroupThreads(1)
  public void idle() {
    Blackhole.consumeCPU(64);
  }
}
