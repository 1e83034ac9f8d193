package io.github.llmpool.bench.jmh;

import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.health.PaddedLong;
import io.github.llmpool.internal.route.Slot;
import io.github.llmpool.internal.route.Router;
import java.util.ArrayDeque;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Where the time of a weighted / P2C pick goes, part by part, and what a pick built from cheaper
 * parts costs. This machine's virtual CPU exposes no performance counters ({@code perf stat}
 * reports branch-misses "not supported"), so the parts are timed one by one instead, over the
 * same fleet as {@link SelectorBenchmark}:
 *
 * <ul>
 *   <li>{@code randomPow2}, {@code randomWeightTotal}, {@code randomMultiplyShift}: one bounded
 *       random int from {@code ThreadLocalRandom} with a power-of-two bound (what the floor
 *       draws), with the tier's total weight as bound (what the pickers draw: a non-power-of-two
 *       bound costs an integer division), and with Lemire's multiply-shift instead of the
 *       division.</li>
 *   <li>{@code cumulativeSearch}: a binary search over cumulative weights for a random point (what
 *       {@code TierPicker.indexOf} did before its guide table, after {@code randomWeightTotal});
 *       {@code aliasDraw}: an O(1) Walker/Vose alias-table draw from one 64-bit random.</li>
 *   <li>{@code costPair}: {@code ProviderState.cost} of two providers and the comparison, for
 *       pre-drawn random pairs (no random number generated in the timed code).</li>
 *   <li>{@code p2cSketch}: a P2C pick assembled from the cheap parts: two alias draws (the
 *       second redrawn until it differs from the first: the same distribution as the library's
 *       "exclude the first's weight range"), the same eligibility reads, and a division-free
 *       comparison of the same cost formula ({@link SketchState}: the library's fields and
 *       update rule, with the two costs compared by cross-multiplying the decay denominators).
 *       A proposal, not the library's code.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class PickAnatomyBenchmark {

  @Param({"8", "1024"})
  public int providers;

  private int[] cumulative;
  private int total;
  private int pow2;
  private int[] aliasProb; // threshold in [0, 2^31]
  private int[] alias;
  private Slot[] slots;
  private SketchState[] sketch;
  private int[] weights;
  private long now;
  private int[] pairs; // pre-drawn random index pairs
  private int cursor;

  @Setup(Level.Trial)
  public void setUp() {
    Fleet fleet = new Fleet(providers);
    now = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    Router router = fleet.router(Strategy.POWER_OF_TWO_CHOICES, fleet.states(now));
    slots = router.slots();
    weights = fleet.weight.clone();
    cumulative = new int[providers];
    int sum = 0;
    for (int i = 0; i < providers; i++) {
      sum += weights[i];
      cumulative[i] = sum;
    }
    total = sum;
    pow2 = Integer.highestOneBit(providers);
    buildAlias();
    sketch = new SketchState[providers];
    for (int i = 0; i < providers; i++) {
      SketchState s = new SketchState();
      for (int k = 0; k < Fleet.SAMPLES; k++) {
        s.sample(now - TimeUnit.SECONDS.toNanos(Fleet.SAMPLES - k), fleet.sampleNanos[i][k], Fleet.MODEL);
      }
      for (int f = 0; f < fleet.inFlight[i]; f++) {
        s.inFlight.incrementAndGet();
      }
      sketch[i] = s;
    }
    pairs = new int[2 * 4096];
    for (int k = 0; k < 4096; k++) {
      int a = ThreadLocalRandom.current().nextInt(providers);
      int b;
      do {
        b = ThreadLocalRandom.current().nextInt(providers);
      } while (b == a);
      pairs[2 * k] = a;
      pairs[2 * k + 1] = b;
    }
    checkSketch(router);
  }

  /** Vose's alias method over the weights. */
  private void buildAlias() {
    int n = providers;
    double[] scaled = new double[n];
    aliasProb = new int[n];
    alias = new int[n];
    ArrayDeque<Integer> small = new ArrayDeque<>();
    ArrayDeque<Integer> large = new ArrayDeque<>();
    for (int i = 0; i < n; i++) {
      scaled[i] = weights[i] * (double) n / total;
      (scaled[i] < 1 ? small : large).add(i);
    }
    while (!small.isEmpty() && !large.isEmpty()) {
      int s = small.poll();
      int l = large.poll();
      aliasProb[s] = (int) Math.min(Integer.MAX_VALUE, Math.round(scaled[s] * (1L << 31)));
      alias[s] = l;
      scaled[l] = scaled[l] + scaled[s] - 1;
      (scaled[l] < 1 ? small : large).add(l);
    }
    for (Integer i : large) {
      aliasProb[i] = Integer.MAX_VALUE;
      alias[i] = i;
    }
    for (Integer i : small) {
      aliasProb[i] = Integer.MAX_VALUE;
      alias[i] = i;
    }
  }

  /** The sketch must draw in proportion to weight and prefer the cheaper candidate like the library. */
  private void checkSketch(Router router) {
    int draws = 400_000;
    long[] hits = new long[providers];
    for (int k = 0; k < draws; k++) {
      hits[aliasDraw()]++;
    }
    for (int i = 0; i < Math.min(providers, 8); i++) {
      double want = draws * (double) weights[i] / total;
      if (Math.abs(hits[i] - want) > 6 * Math.sqrt(want) + 1) {
        throw new IllegalStateException("alias draw off for " + i + ": " + hits[i] + " vs " + want);
      }
    }
    for (int k = 0; k < 4096; k++) {
      int a = pairs[2 * k];
      int b = pairs[2 * k + 1];
      double ca = slots[a].state.cost(now, Fleet.MODEL);
      double cb = slots[b].state.cost(now, Fleet.MODEL);
      int lib = ca < cb ? a : cb < ca ? b : -1;
      int mine = SketchState.better(sketch[a], sketch[b], a, b, now, Fleet.MODEL);
      if (lib >= 0 && mine != lib && Math.abs(ca - cb) > 1e-9 * Math.max(ca, cb)) {
        throw new IllegalStateException("sketch disagrees with ProviderState.cost on " + a + "/" + b);
      }
    }
  }

  private int aliasDraw() {
    long r = ThreadLocalRandom.current().nextLong();
    int i = (int) (((r >>> 32) * providers) >>> 32);
    return ((int) r & Integer.MAX_VALUE) < aliasProb[i] ? i : alias[i];
  }

  private int indexOf(int r) { // TierPicker.indexOf
    int lo = 0;
    int hi = cumulative.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (cumulative[mid] > r) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  @Benchmark
  public int randomPow2() {
    return ThreadLocalRandom.current().nextInt(pow2);
  }

  @Benchmark
  public int randomWeightTotal() {
    return ThreadLocalRandom.current().nextInt(total);
  }

  @Benchmark
  public int randomMultiplyShift() {
    return (int) (((ThreadLocalRandom.current().nextInt() & 0xFFFFFFFFL) * total) >>> 32);
  }

  @Benchmark
  public int cumulativeSearch() {
    return indexOf(ThreadLocalRandom.current().nextInt(total));
  }

  @Benchmark
  public int aliasDrawBench() {
    return aliasDraw();
  }

  @Benchmark
  public Slot costPair() {
    int k = cursor = (cursor + 2) & (pairs.length - 1);
    Slot a = slots[pairs[k]];
    Slot b = slots[pairs[k + 1]];
    return a.state.cost(now, Fleet.MODEL) <= b.state.cost(now, Fleet.MODEL) ? a : b;
  }

  @Benchmark
  public Slot p2cSketch() {
    int a = aliasDraw();
    int b = aliasDraw();
    while (b == a) {
      b = aliasDraw();
    }
    SketchState sa = sketch[a];
    SketchState sb = sketch[b];
    if (!sa.available(now) || !sb.available(now)) {
      return null; // the library's slow path would run here; no provider is evicted in this fleet
    }
    return slots[SketchState.better(sa, sb, a, b, now, Fleet.MODEL)];
  }

  /**
   * {@code ProviderState}'s selection fields and its peak-EWMA update, with a division-free
   * comparison of two costs. cost = est x tau/(tau+dt) x (inFlight+1) x (1 + failScore x
   * tau/(tau+dtf)); with no failure score on either side (the common case), cost_a < cost_b iff
   * est_a (in_a+1) (tau+dt_b) < est_b (in_b+1) (tau+dt_a): two multiplications a side instead of
   * a division. With a failure score it falls back to the exact formula.
   */
  static final class SketchState {
    final PaddedLong inFlight = new PaddedLong();
    volatile long estimateNanos = -1;
    volatile long lastSampleAt;
    volatile double failScore;
    volatile long failScoreAt;
    volatile boolean evicted;

    synchronized void sample(long now, long signal, LatencyModel model) {
      long est = estimateNanos;
      if (est < 0 || signal > est) {
        estimateNanos = signal;
      } else {
        double w = Math.exp(-(double) Math.max(0, now - lastSampleAt) / model.tauNanos());
        estimateNanos = (long) (est * w + signal * (1 - w));
      }
      lastSampleAt = now;
    }

    boolean available(long now) {
      return !evicted;
    }

    double exactCost(long now, LatencyModel model) {
      long est = estimateNanos;
      double latency;
      if (est < 0) {
        latency = model.defaultEstimateNanos();
      } else {
        long dt = now - lastSampleAt;
        latency = dt <= 0 ? est : est * (model.tauNanos() / (double) (model.tauNanos() + dt));
      }
      double fail = failScore;
      if (fail > 0) {
        long dt = now - failScoreAt;
        if (dt > 0) {
          fail *= model.tauNanos() / (double) (model.tauNanos() + dt);
        }
      }
      return latency * (inFlight.get() + 1) * (1 + fail);
    }

    static int better(SketchState a, SketchState b, int ia, int ib, long now, LatencyModel model) {
      long ea = a.estimateNanos;
      long eb = b.estimateNanos;
      if (a.failScore > 0 || b.failScore > 0 || ea < 0 || eb < 0) {
        double ca = a.exactCost(now, model);
        double cb = b.exactCost(now, model);
        return ca < cb ? ia : cb < ca ? ib : (ThreadLocalRandom.current().nextBoolean() ? ia : ib);
      }
      long tau = model.tauNanos();
      double da = tau + Math.max(0, now - a.lastSampleAt);
      double db = tau + Math.max(0, now - b.lastSampleAt);
      double lhs = ea * (double) (a.inFlight.get() + 1) * db;
      double rhs = eb * (double) (b.inFlight.get() + 1) * da;
      return lhs < rhs ? ia : rhs < lhs ? ib : (ThreadLocalRandom.current().nextBoolean() ? ia : ib);
    }
  }
}
