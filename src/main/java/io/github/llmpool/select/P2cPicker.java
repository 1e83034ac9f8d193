package io.github.llmpool.select;

import io.github.llmpool.RandomSource;
import io.github.llmpool.health.LatencyModel;
import io.github.llmpool.internal.Slot;

/**
 * Power of two choices: two distinct providers drawn with probability proportional to weight (the
 * second draw excludes the first's weight range), the lower {@linkplain
 * io.github.llmpool.health.ProviderState#cost cost} wins, a tie is broken by one more random bit.
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
 * <p>Costs use the tier's <em>reference</em> estimate: the weight-averaged raw estimate of the
 * tier's sampled, non-evicted providers, toward which every estimate decays. It is recomputed (one
 * pass over the tier) when a pick finds it older than {@code tau / 64}, so the pick stays O(1)
 * amortised; concurrent refreshes are benign (each writes a valid value).
 */
public final class P2cPicker extends TierPicker {
  private final LatencyModel model;
  private final long refreshNanos;
  /** Per slot: requests in flight that count as one more latency. */
  private final double[] capacity;
  private volatile double reference = -1;
  private volatile long referenceAt;
  private volatile boolean referenceSet;

  public P2cPicker(Slot[] slots, RandomSource random, LatencyModel model) {
    super(slots, random);
    this.model = model;
    this.refreshNanos = Math.max(1, model.tauNanos() >> 6);
    this.capacity = new double[slots.length];
    int positive = 0;
    for (Slot s : slots) {
      positive += s.weight > 0 ? 1 : 0;
    }
    double meanWeight = positive == 0 ? 1 : totalWeight / (double) positive;
    for (int i = 0; i < slots.length; i++) {
      double c = slots[i].endpoint.concurrency * (slots[i].weight / meanWeight);
      capacity[i] = slots[i].weight == 0 ? 1 : (Math.abs(c - 1) < 1e-12 ? 1 : c);
    }
  }

  /** Requests in flight that count as one more latency for the slot at {@code index}. */
  public double capacity(int index) {
    return capacity[index];
  }

  /** The tier's reference estimate at {@code now} (cached for {@code tau / 64}), or -1 without samples. */
  public double reference(long now) {
    if (referenceSet && now - referenceAt < refreshNanos && now - referenceAt >= 0) {
      return reference;
    }
    double r = reference(slots);
    reference = r;
    referenceAt = now;
    referenceSet = true;
    return r;
  }

  /**
   * The weight-averaged raw estimate of the sampled, non-evicted providers among {@code slots}
   * (weight above 0), or -1 when none has a sample. One pass, no allocation.
   */
  public static double reference(Slot[] slots) {
    double sum = 0;
    long weights = 0;
    for (Slot s : slots) {
      long raw = s.state.rawEstimate();
      if (raw >= 0 && s.weight > 0 && !s.state.evicted()) {
        sum += raw * (double) s.weight;
        weights += s.weight;
      }
    }
    return weights == 0 ? -1 : sum / weights;
  }

  /** The cost P2C compares for the slot at {@code index} (see {@code ProviderState.cost}). */
  public double cost(int index, long now) {
    return slots[index].state.cost(now, model, reference(now), capacity[index]);
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
    int wa = slots[a].weight;
    if (wa < totalWeight) {
      int start = a == 0 ? 0 : cumulative[a - 1];
      int r = random.nextInt(totalWeight - wa);
      int b = indexOf(r >= start ? r + wa : r);
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
    long rest = sum - slots[a].weight;
    if (rest <= 0) {
      return a;
    }
    int b = drawEligible(now, exclusion, a, rest);
    return b < 0 ? a : better(a, b, now);
  }

  private int better(int a, int b, long now) {
    double ref = reference(now);
    double ca = slots[a].state.cost(now, model, ref, capacity[a]);
    double cb = slots[b].state.cost(now, model, ref, capacity[b]);
    if (ca < cb) {
      return a;
    }
    if (cb < ca) {
      return b;
    }
    return random.nextInt(2) == 0 ? a : b;
  }
}
