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
 */
public final class P2cPicker extends TierPicker {
  private final LatencyModel model;

  public P2cPicker(Slot[] slots, RandomSource random, LatencyModel model) {
    super(slots, random);
    this.model = model;
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
    double ca = slots[a].state.cost(now, model);
    double cb = slots[b].state.cost(now, model);
    if (ca < cb) {
      return a;
    }
    if (cb < ca) {
      return b;
    }
    return random.nextInt(2) == 0 ? a : b;
  }
}
