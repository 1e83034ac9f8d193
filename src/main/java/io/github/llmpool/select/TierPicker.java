package io.github.llmpool.select;

import io.github.llmpool.RandomSource;
import io.github.llmpool.internal.Slot;

/**
 * Picks one provider of one tier. Built once per routing snapshot over an immutable array of
 * slots; {@link #pick} takes no lock and allocates nothing. Thread-safe.
 */
public abstract class TierPicker {
  protected final Slot[] slots;
  protected final RandomSource random;
  /** cumulative[i] = weight of slots 0..i. */
  protected final int[] cumulative;
  protected final int totalWeight;

  protected TierPicker(Slot[] slots, RandomSource random) {
    this.slots = slots;
    this.random = random;
    this.cumulative = new int[slots.length];
    long sum = 0;
    for (int i = 0; i < slots.length; i++) {
      sum += slots[i].weight;
      if (sum > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("sum of weights in a tier must be <= " + Integer.MAX_VALUE + " but was " + sum);
      }
      cumulative[i] = (int) sum;
    }
    this.totalWeight = (int) sum;
  }

  /** The index of the chosen slot in this tier, or -1 when no slot is eligible. */
  public abstract int pick(long now, Exclusion exclusion);

  protected final boolean eligible(int i, long now, Exclusion exclusion) {
    Slot s = slots[i];
    return s.weight > 0 && s.state.isAvailable(now) && (exclusion == null || !exclusion.excludes(s));
  }

  /** The slot index whose cumulative range holds {@code r} in {@code [0, totalWeight)}. */
  protected final int indexOf(int r) {
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

  /** Sum of the weights of eligible slots, skipping {@code skip} (or -1). */
  protected final long eligibleWeight(long now, Exclusion exclusion, int skip) {
    long sum = 0;
    for (int i = 0; i < slots.length; i++) {
      if (i != skip && eligible(i, now, exclusion)) {
        sum += slots[i].weight;
      }
    }
    return sum;
  }

  /** A weighted draw among eligible slots (skipping {@code skip}) whose weights sum to {@code sum > 0}. */
  protected final int drawEligible(long now, Exclusion exclusion, int skip, long sum) {
    int r = random.nextInt((int) sum);
    int last = -1;
    for (int i = 0; i < slots.length; i++) {
      if (i != skip && eligible(i, now, exclusion)) {
        r -= slots[i].weight;
        last = i;
        if (r < 0) {
          return i;
        }
      }
    }
    return last; // only if eligibility changed during the scan
  }

  public Slot slot(int index) {
    return slots[index];
  }

  public int size() {
    return slots.length;
  }
}
