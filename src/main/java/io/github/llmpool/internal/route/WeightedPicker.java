package io.github.llmpool.internal.route;

import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.internal.route.Slot;

/**
 * Weighted random: one draw over the cumulative weights, a binary search. If the drawn provider is
 * evicted or excluded, one more draw over the eligible providers only. Thread-safe, lock-free,
 * allocation-free.
 */
public final class WeightedPicker extends TierPicker {

  public WeightedPicker(Slot[] slots, RandomSource random) {
    this(slots, random, false);
  }

  /** As above; {@code quotaRouting}: a provider without headroom for the request is not eligible. */
  public WeightedPicker(Slot[] slots, RandomSource random, boolean quotaRouting) {
    super(slots, random, quotaRouting);
  }

  @Override
  public int pick(long now, Exclusion exclusion) {
    if (totalWeight == 0) {
      return -1;
    }
    int i = indexOf(random.nextInt(totalWeight));
    if (eligible(i, now, exclusion)) {
      return i;
    }
    long sum = eligibleWeight(now, exclusion, -1);
    return sum == 0 ? -1 : drawEligible(now, exclusion, -1, sum);
  }
}
