package io.github.llmpool.internal.route;

import io.github.llmpool.internal.health.ProviderState;

import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.route.Slot;

/**
 * Power of two choices: two distinct providers drawn with probability proportional to weight (the
 * second draw excludes the first's weight range), the lower {@linkplain
 * io.github.llmpool.internal.health.ProviderState#cost cost} wins, a tie is broken by one more random bit.
 * When a drawn provider is evicted or excluded, both draws are redone over the eligible providers
 * only. Thread-safe, lock-free, allocation-free.
 *
 * <p>Requests in flight count relative to what the provider is meant to carry: each slot's capacity
 * is its {@code concurrency} x its weight / the tier's mean weight, and the cost grows by one
 * latency per capacity's worth of requests in flight. With equal weights and concurrency 1 that is
 * the classic {@code estimate x (in-flight + 1)}; with weights, a provider of twice the mean weight
 * is expected to hold twice the requests (as Envoy's weighted least-request normalises by weight),
 * so the comparison no longer pulls traffic away from the providers the weights favour.
 *
 * <p>Costs use a <em>reference</em> estimate toward which every estimate decays: the
 * weight-averaged raw estimate of the tier's other sampled, non-evicted providers. The tier's
 * estimates are read again (one pass, one small array) when a pick finds them older than
 * {@code tau / 64}, so the pick stays O(1) amortised; concurrent refreshes are benign (each
 * publishes a complete, immutable {@link Reference}).
 */
public final class P2cPicker extends TierPicker {
  private final LatencyModel model;
  private final double tau;
  private final long defaultEstimate;
  private final long refreshNanos;
  /** Per slot: 1 / the requests in flight that count as one more latency (multiplied on the pick path). */
  private final double[] inverseCapacity;
  private volatile Reference cached;

  public P2cPicker(Slot[] slots, RandomSource random, LatencyModel model) {
    this(slots, random, model, false);
  }

  /**
   * As above; {@code quotaRouting}: a provider without headroom for the request is not eligible,
   * and a provider's cost rises as its headroom shrinks ({@link
   * io.github.llmpool.internal.health.Headroom#costFactor}).
   */
  public P2cPicker(Slot[] slots, RandomSource random, LatencyModel model, boolean quotaRouting) {
    super(slots, random, quotaRouting);
    this.model = model;
    this.tau = model.tauNanos();
    this.defaultEstimate = model.defaultEstimateNanos();
    this.refreshNanos = Math.max(1, model.tauNanos() >> 6);
    this.inverseCapacity = new double[slots.length];
    int positive = 0;
    for (Slot s : slots) {
      positive += s.weight > 0 ? 1 : 0;
    }
    double meanWeight = positive == 0 ? 1 : totalWeight / (double) positive;
    for (int i = 0; i < slots.length; i++) {
      double c = slots[i].endpoint.concurrency * (slots[i].weight / meanWeight);
      inverseCapacity[i] = slots[i].weight == 0 || Math.abs(c - 1) < 1e-12 ? 1 : 1 / c;
    }
  }

  /** Requests in flight that count as one more latency for the slot at {@code index}. */
  public double capacity(int index) {
    return 1 / inverseCapacity[index];
  }

  /**
   * The reference estimate for the slot at {@code index} at {@code now} (the tier's sums are cached
   * for {@code tau / 64}), or -1 when no other provider of the tier has a sample.
   */
  public double reference(int index, long now) {
    return tierReference(now).forSlot(index);
  }

  private Reference tierReference(long now) {
    Reference r = cached;
    if (r != null && now - r.at < refreshNanos && now - r.at >= 0) {
      return r;
    }
    r = reference(slots, now);
    cached = r;
    return r;
  }

  /**
   * Each slot's reference at {@code now}: the weighted mean of the raw estimates of the tier's
   * other sampled, non-evicted providers (weight above 0). Two passes; one small array.
   */
  public static Reference reference(Slot[] slots, long now) {
    // Pass 1 reads each estimate once (into perSlot, NaN when the slot does not count), so pass 2
    // works on the same values even if samples or evictions land in between.
    double[] perSlot = new double[slots.length];
    double sum = 0;
    long weights = 0;
    for (int i = 0; i < slots.length; i++) {
      Slot s = slots[i];
      long raw = s.state.rawEstimate();
      if (raw >= 0 && s.weight > 0 && !s.state.evicted()) {
        perSlot[i] = raw;
        sum += raw * (double) s.weight;
        weights += s.weight;
      } else {
        perSlot[i] = Double.NaN;
      }
    }
    double all = weights == 0 ? -1 : sum / weights;
    for (int i = 0; i < slots.length; i++) {
      double raw = perSlot[i];
      if (Double.isNaN(raw)) {
        perSlot[i] = all;
      } else {
        long rest = weights - slots[i].weight;
        perSlot[i] = rest <= 0 ? -1 : Math.max(0, (sum - raw * slots[i].weight) / rest);
      }
    }
    return new Reference(now, perSlot);
  }

  /** Each slot's reference estimate at one moment. Immutable. */
  public static final class Reference {
    final long at;
    private final double[] perSlot;

    Reference(long at, double[] perSlot) {
      this.at = at;
      this.perSlot = perSlot;
    }

    /**
     * The weighted mean of the <em>other</em> sampled providers' estimates (leave one out), or -1
     * when no other provider has a sample: a provider whose own estimate is a stale peak does not
     * hold up the reference it decays toward, so in a pool of two it is still explored again.
     */
    public double forSlot(int index) {
      return perSlot[index];
    }
  }

  /** The cost P2C compares for the slot at {@code index} (see {@code ProviderState.cost}). */
  public double cost(int index, long now) {
    return slots[index].state.costPerInverse(now, model, reference(index, now), inverseCapacity[index]);
  }

  /** One more random bit decides a tie (rare: kept out of the pick's hot code). */
  private int tie(int a, int b) {
    return random.nextInt(2) == 0 ? a : b;
  }

  /**
   * The cost comparison with each provider's cost multiplied by its headroom factor (1 while its
   * quota windows are full; up to 64 as they empty), so that load leaves a provider
   * before it hits its limit. Weights stay the prior: they decide which two are compared.
   */
  private double headroomDelta(int a, int b, Reference ref, long now) {
    double fa = headroomFactor(a, now);
    double fb = headroomFactor(b, now);
    ProviderState sa = states[a];
    ProviderState sb = states[b];
    if (fa == 1 && fb == 1) {
      return ProviderState.costDelta(sa, ref.forSlot(a), inverseCapacity[a], sb, ref.forSlot(b), inverseCapacity[b],
          now, tau, defaultEstimate);
    }
    return fa * sa.costNumerator(now, tau, defaultEstimate, ref.forSlot(a), inverseCapacity[a])
        * sb.costDenominator(now, tau)
        - fb * sb.costNumerator(now, tau, defaultEstimate, ref.forSlot(b), inverseCapacity[b])
        * sa.costDenominator(now, tau);
  }

  @Override
  public int pick(long now, Exclusion exclusion) {
    int n = slots.length;
    if (totalWeight == 0) {
      return -1;
    }
    if (n == 1) {
      return eligible(0, now, exclusion) ? 0 : -1;
    }
    int a = indexOf(random.nextInt(totalWeight));
    int wa = weights[a];
    if (wa < totalWeight) {
      int start = cumulative[a] - wa; // where a's range starts
      int r = random.nextInt(totalWeight - wa);
      int b = indexOf(r + (wa & ((start - 1 - r) >> 31))); // r >= start ? r + wa : r, branch-free
      if (eligible(a, now, exclusion) && eligible(b, now, exclusion)) {
        return better(a, b, now);
      }
    }
    return slowPick(now, exclusion);
  }

  private int slowPick(long now, Exclusion exclusion) {
    long sum = eligibleWeight(now, exclusion, -1);
    if (sum == 0) {
      return -1;
    }
    int a = drawEligible(now, exclusion, -1, sum);
    if (a < 0) {
      return -1; // the last eligible provider went out between the count and the draw
    }
    long rest = sum - slots[a].weight;
    if (rest <= 0) {
      return a;
    }
    int b = drawEligible(now, exclusion, a, rest);
    return b < 0 ? a : better(a, b, now);
  }

  /**
   * The candidate of lower {@linkplain #cost cost}, a random bit on a tie: the tier's reference is
   * read once for both, and the costs are compared without a division
   * ({@link io.github.llmpool.internal.health.ProviderState#compareCost}).
   */
  private int better(int a, int b, long now) {
    Reference ref = tierReference(now);
    double d;
    if (quotaRouting()) {
      d = headroomDelta(a, b, ref, now);
    } else {
      d = io.github.llmpool.internal.health.ProviderState.costDelta(states[a], ref.forSlot(a),
          inverseCapacity[a], states[b], ref.forSlot(b), inverseCapacity[b], now, tau, defaultEstimate);
    }
    if (d == 0 || d != d) { // a tie (NaN: both infinite)
      return tie(a, b);
    }
    // -1 when a costs less (d < 0): the winner is random, so select on the sign bit, no branch
    int m = (int) (Double.doubleToRawLongBits(d) >> 63);
    return (a & m) | (b & ~m);
  }
}
