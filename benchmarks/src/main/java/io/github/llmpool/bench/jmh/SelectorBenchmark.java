package io.github.llmpool.bench.jmh;

import com.netflix.loadbalancer.Server;
import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.engine.PoolCore;
import io.github.llmpool.internal.route.Slot;
import io.github.llmpool.internal.route.Router;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one pick: llmpool's {@link Router} for each strategy, a floor (a random array
 * element) and Netflix Ribbon's rules over the same fleet ({@link Fleet}, {@link RibbonFleet}).
 * Run it with {@code -t 1} and {@code -t 2}: the router (like Ribbon's balancer) is one shared
 * object, as in a real client, so two threads show contention and false sharing if there is any.
 *
 * <p>{@code now}: the router takes the time as an argument; the interceptor reads its ticker once
 * per attempt (it needs the time for the lease and the retry budget anyway) and passes it in.
 * The benchmark therefore passes a fixed, realistic {@code System.nanoTime()} value taken at setup,
 * one second after the providers' last latency sample (samples at now - 5 s ... now - 1 s), so the read-side decay in
 * {@code ProviderState.cost} is computed on every P2C pick. The cost of reading the clock itself
 * is measured separately by {@link #nanoTime()} (and paid inside Ribbon's
 * {@code BestAvailableRule}, which reads {@code System.currentTimeMillis()} on every choice).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
public class SelectorBenchmark {

  /** llmpool routers over the fleet, and the same slots as a plain array for the floor. */
  @State(Scope.Benchmark)
  public static class Pools {
    @Param({"2", "8", "64", "1024"})
    public int providers;

    Router weighted;
    Router roundRobin;
    Router p2c;
    /** P2C with the decay before bounded forgetting (hyperbolic, no exploration): today's vs main's cost in one run. */
    Router p2cLegacy;
    /** P2C read 6 s after the last samples: every estimate is older than tau / 2, so exploration is considered. */
    long nowStale;
    /** P2C, providers split over two tiers, the first one healthy: it serves every pick. */
    Router p2cTwoTiers;
    /** P2C, providers split over two tiers, the first one entirely evicted: every pick spills. */
    Router p2cSpill;
    /** A whole pool's selection step (pick + claim), as the interceptor calls it per attempt. */
    PoolCore core;
    Slot[] slots;
    long now;

    @Setup(Level.Trial)
    public void setUp() {
      Fleet fleet = new Fleet(providers);
      now = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      weighted = fleet.router(Strategy.WEIGHTED, fleet.states(now));
      roundRobin = fleet.router(Strategy.ROUND_ROBIN, fleet.states(now));
      p2c = fleet.router(Strategy.POWER_OF_TWO_CHOICES, fleet.states(now));
      p2cLegacy = fleet.router(Strategy.POWER_OF_TWO_CHOICES, fleet.states(now, Fleet.LEGACY), Fleet.LEGACY);
      nowStale = now + TimeUnit.SECONDS.toNanos(5);
      p2cTwoTiers = fleet.twoTiers(Strategy.POWER_OF_TWO_CHOICES, fleet.states(now));
      ProviderState[] spillStates = fleet.states(now);
      Fleet.evict(spillStates, 0, Math.max(1, providers / 2), now);
      p2cSpill = fleet.twoTiers(Strategy.POWER_OF_TWO_CHOICES, spillStates);
      slots = p2c.slots();
      core = Fleet.poolCore(fleet, Strategy.POWER_OF_TWO_CHOICES, now);
      check();
    }

    private void check() {
      for (Router r : new Router[] {weighted, roundRobin, p2c, p2cLegacy, p2cTwoTiers}) {
        for (int k = 0; k < 1000; k++) {
          Slot s = r.pick(now, null);
          if (s == null || s.tier != 0) {
            throw new IllegalStateException(r.strategy() + " picked " + s);
          }
        }
      }
      for (int k = 0; k < 1000; k++) {
        if (core.choose(now, null, new boolean[1]) == null) {
          throw new IllegalStateException("the pool chose nothing");
        }
        Slot s = p2cSpill.pick(now, null);
        if (s == null || s.tier != 1) {
          throw new IllegalStateException("spill picked " + s);
        }
      }
    }
  }

  /** Ribbon's balancer and rules over the same fleet. */
  @State(Scope.Benchmark)
  public static class Ribbon {
    @Param({"2", "8", "64", "1024"})
    public int providers;

    RibbonFleet fleet;

    @Setup(Level.Trial)
    public void setUp() {
      fleet = new RibbonFleet(new Fleet(providers));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      fleet.close();
    }
  }

  // ------------------------------------------------------------------ floor and clock

  /** The floor: a uniformly random element of the slot array. */
  @Benchmark
  public Slot floorRandomElement(Pools p) {
    Slot[] a = p.slots;
    return a[ThreadLocalRandom.current().nextInt(a.length)];
  }

  /** What one clock read costs on this machine (not part of a pick; see the class comment). */
  @Benchmark
  public long nanoTime() {
    return System.nanoTime();
  }

  // ------------------------------------------------------------------ llmpool

  @Benchmark
  public Slot weighted(Pools p) {
    return p.weighted.pick(p.now, null);
  }

  @Benchmark
  public Slot roundRobin(Pools p) {
    return p.roundRobin.pick(p.now, null);
  }

  @Benchmark
  public Slot p2c(Pools p) {
    return p.p2c.pick(p.now, null);
  }

  /** The same pick with the legacy decay (no exploration): the baseline of the 1.2x budget. */
  @Benchmark
  public Slot p2cLegacy(Pools p) {
    return p.p2cLegacy.pick(p.now, null);
  }

  /**
   * The pick when every estimate is stale (6 s old, tau / 2 is 5 s): the exploration check runs, and
   * draws its random number whenever the oldest provider has nothing in flight.
   */
  @Benchmark
  public Slot p2cStale(Pools p) {
    return p.p2c.pick(p.nowStale, null);
  }

  /** {@link #p2cStale} with the legacy decay. */
  @Benchmark
  public Slot p2cLegacyStale(Pools p) {
    return p.p2cLegacy.pick(p.nowStale, null);
  }

  @Benchmark
  public Slot p2cTwoTiers(Pools p) {
    return p.p2cTwoTiers.pick(p.now, null);
  }

  @Benchmark
  public Slot p2cTierSpill(Pools p) {
    return p.p2cSpill.pick(p.now, null);
  }

  /**
   * {@code PoolCore.choose}: the P2C pick plus the claim (probe handling) the interceptor does for
   * every attempt, on a pool built by {@code ProviderPool.builder()} over the same fleet.
   */
  @Benchmark
  public Slot p2cPoolChoose(Pools p, ProbeOut out) {
    return p.core.choose(p.now, null, out.probe);
  }

  /** The probe flag {@code choose} writes: one per thread, as each logical call has its own. */
  @State(Scope.Thread)
  public static class ProbeOut {
    final boolean[] probe = new boolean[1];
  }

  // ------------------------------------------------------------------ Ribbon

  @Benchmark
  public Server ribbonRoundRobin(Ribbon r) {
    return r.fleet.roundRobin.choose(null);
  }

  @Benchmark
  public Server ribbonWeightedResponseTime(Ribbon r) {
    return r.fleet.weightedResponseTime.choose(null);
  }

  @Benchmark
  public Server ribbonAvailabilityFiltering(Ribbon r) {
    return r.fleet.availabilityFiltering.choose(null);
  }

  @Benchmark
  public Server ribbonBestAvailable(Ribbon r) {
    return r.fleet.bestAvailable.choose(null);
  }
}
