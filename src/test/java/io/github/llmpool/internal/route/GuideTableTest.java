package io.github.llmpool.internal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.internal.route.Slot;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The guide table behind {@link TierPicker#indexOf} maps every draw to exactly the slot the
 * cumulative-weight definition gives (the first slot whose cumulative weight exceeds the draw):
 * checked at every range boundary and on random draws, for even, uneven, zero and extreme weights.
 */
class GuideTableTest {

  /** The definition: the first slot whose cumulative weight exceeds r. */
  static int reference(int[] weights, long r) {
    long c = 0;
    for (int i = 0; i < weights.length; i++) {
      c += weights[i];
      if (c > r) {
        return i;
      }
    }
    throw new AssertionError("r " + r + " is past the total");
  }

  static TierPicker picker(int[] weights) {
    Slot[] slots = new Slot[weights.length];
    for (int i = 0; i < weights.length; i++) {
      slots[i] = Slots.slot("s" + i, 0, weights[i]);
    }
    return new WeightedPicker(slots, new ScriptedRandom(1));
  }

  static void check(int[] weights, Random random) {
    TierPicker p = picker(weights);
    long total = 0;
    List<Long> probes = new ArrayList<>();
    for (int w : weights) {
      if (w > 0) {
        probes.add(total); // first value of each range
        probes.add(total + w - 1); // last value of each range
      }
      total += w;
    }
    for (int k = 0; k < 2_000; k++) {
      probes.add((long) random.nextInt((int) total));
    }
    for (long r : probes) {
      assertEquals(reference(weights, r), p.indexOf((int) r), "draw " + r + " over " + weights.length + " slots");
    }
  }

  @Test
  void everyDrawMapsToItsCumulativeRange() {
    Random random = new Random(42);
    check(new int[] {1}, random);
    check(new int[] {1, 1}, random);
    check(new int[] {80, 15, 5}, random);
    check(new int[] {0, 3, 0, 0, 7, 0}, random); // weight 0 is never drawn
    check(new int[] {1_000_000, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, random); // crowded bucket
    check(new int[] {Integer.MAX_VALUE - 10, 10}, random);
    check(new int[] {1, Integer.MAX_VALUE - 1}, random);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + random.nextInt(trial < 100 ? 12 : 1_100);
      int[] w = new int[n];
      int max = trial % 3 == 0 ? 3 : trial % 3 == 1 ? 1_000 : 1_000_000;
      for (int i = 0; i < n; i++) {
        w[i] = random.nextInt(4) == 0 ? 0 : random.nextInt(max) + 1;
      }
      if (java.util.Arrays.stream(w).asLongStream().sum() == 0) {
        w[0] = 1;
      }
      check(w, random);
    }
  }
}
