package io.github.llmpool.internal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.health.RateWindow;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Under quota routing, P2C's comparison weighs the request limits the providers' headers announced
 * against the weights (the prior): {@code (weight / mean weight) / (limit / mean limit)} multiplies
 * each candidate's cost, once every weighted provider of the tier announced a limit. Exact: fake
 * times, scripted draws, equal latency estimates (so without the factor every comparison is a tie).
 */
class P2cLimitFactorTest {
  static final long MS = 1_000_000L;
  static final long S = 1_000 * MS;
  static final LatencyModel MODEL = LatencyModel.legacy(10 * S, S, true);

  static Slot slot(String name, int weight) {
    return new Slot(new Endpoint(name, "http", "127.0.0.1", 9, "/v1", null, null, null, List.of(), true),
        new ProviderState(name), 0, weight);
  }

  static void announce(Slot s, long limit) { // a full window: headroom factor 1, nothing marked
    s.state.observeRateLimits(new RateWindow(limit, limit, true, 60 * S, 0), null, 0, 0);
  }

  /** Picks of {@code picks} draws of the pair (0, 1) then (1, 0): how many chose slot 1. */
  static int secondChosen(P2cPicker p, int picks, ScriptedRandom random) {
    int n = 0;
    for (int i = 0; i < picks; i++) {
      n += p.pick(S, null) == 1 ? 1 : 0;
    }
    return n;
  }

  /** Providers "small" and "big" with these weights, each with one 100 ms latency sample. */
  private static Slot[] sampledPair(int smallWeight, int bigWeight) {
    Slot[] slots = {slot("small", smallWeight), slot("big", bigWeight)};
    for (Slot s : slots) {
      s.state.sample(0, 100 * MS, MODEL);
    }
    return slots;
  }

  @Test
  void equalWeightsUnequalLimits_theLargerLimitWinsEveryComparison() {
    Slot[] slots = sampledPair(1, 1);
    Slot small = slots[0];
    Slot big = slots[1];
    announce(small, 100);
    announce(big, 300);
    ScriptedRandom random = new ScriptedRandom(7);
    P2cPicker p = new P2cPicker(slots, random, MODEL, true);
    // small: (1 / 1) / (100 / 200) = 2; big: (1 / 1) / (300 / 200) = 2/3; equal costs otherwise.
    assertEquals(200, secondChosen(p, 200, random));
  }

  @Test
  void withoutEveryLimitAnnounced_orWithoutQuotaRouting_theWeightsAloneDecide() {
    Slot[] slots = sampledPair(1, 1);
    Slot small = slots[0];
    Slot big = slots[1];
    announce(big, 300); // small announced nothing: no factor, every comparison a tie
    ScriptedRandom random = new ScriptedRandom(7);
    int n = secondChosen(new P2cPicker(slots, random, MODEL, true), 400, random);
    assertTrue(n > 150 && n < 250, "ties broken by a random bit: " + n);
    announce(small, 100);
    random = new ScriptedRandom(7);
    n = secondChosen(new P2cPicker(slots, random, MODEL, false), 400, random);
    assertTrue(n > 150 && n < 250, "no quota routing: the limits are not read: " + n);
  }

  @Test
  void weightsMatchedToTheLimits_noFactor() {
    Slot[] slots = sampledPair(1, 3);
    Slot small = slots[0];
    Slot big = slots[1];
    announce(small, 100);
    announce(big, 300);
    ScriptedRandom random = new ScriptedRandom(7);
    P2cPicker p = new P2cPicker(slots, random, MODEL, true);
    // Every pick compares the two (the second draw excludes the first); equal costs: a tie each time.
    int n = secondChosen(p, 400, random);
    assertTrue(n > 150 && n < 250, "ties broken by a random bit: " + n);
  }
}
