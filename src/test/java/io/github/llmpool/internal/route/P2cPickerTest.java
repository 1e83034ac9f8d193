package io.github.llmpool.internal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.route.Slot;
import java.util.List;
import org.junit.jupiter.api.Test;

class P2cPickerTest {
  static final long MS = 1_000_000L;
  // The legacy decay (kept for side-by-side benchmarks): its arithmetic, exactly. Bounded forgetting: P2cForgettingTest.
  static final LatencyModel MODEL = LatencyModel.legacy(10_000 * MS, 1_000 * MS, true);

  @Test
  void lowerCostWinsAndSecondDrawSkipsTheFirst() {
    List<Slot> t = Slots.tier(0, 1, 1, 1);
    t.get(0).state.sample(0, 100 * MS, MODEL);
    t.get(1).state.sample(0, 300 * MS, MODEL);
    t.get(2).state.sample(0, 200 * MS, MODEL);
    // draw a (0 of 3); second draw 0 of the remaining 2 maps to b (a's range skipped): a (100) beats b (300)
    // then draw b (1), second 1 of 2 -> c: c (200) beats b (300)
    ScriptedRandom r = new ScriptedRandom(1, 0, 0, 1, 1);
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), r, MODEL);
    assertEquals("a", router.pick(0, null).name());
    assertEquals("c", router.pick(0, null).name());
    assertEquals(0, r.remaining());
  }

  @Test
  void costIsEstimateTimesInFlightPlusOne() {
    List<Slot> t = Slots.tier(0, 1, 1);
    Slot a = t.get(0);
    Slot b = t.get(1);
    a.state.sample(0, 100 * MS, MODEL);
    b.state.sample(0, 250 * MS, MODEL);
    assertEquals(100.0 * MS, a.state.cost(0, MODEL), 1);
    a.state.dispatch(0);
    a.state.dispatch(0);
    assertEquals(300.0 * MS, a.state.cost(0, MODEL), 1); // 100 ms x (2 + 1)
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), new ScriptedRandom(1, 0, 0), MODEL);
    assertEquals("b", router.pick(0, null).name()); // 250 < 300
  }

  @Test
  void newProviderGetsTheDefaultEstimateNotZero() {
    Slot fresh = Slots.slot("fresh", 0, 1);
    assertEquals(1_000.0 * MS, fresh.state.cost(0, MODEL), 1);
    assertEquals(1_000 * MS, fresh.state.latencyEstimate(0, MODEL));
  }

  @Test
  void peakEwmaTakesPeaksAtOnceAndDecaysOtherwise() {
    Slot s = Slots.slot("s", 0, 1);
    s.state.sample(0, 100 * MS, MODEL);
    s.state.sample(1 * MS, 400 * MS, MODEL);
    assertEquals(400 * MS, s.state.latencyEstimate(1 * MS, MODEL)); // a peak replaces the estimate
    // a lower sample 10 s (one tau) later: w = exp(-1); est = 400 w + 100 (1 - w)
    long t = 1 * MS + 10_000 * MS;
    s.state.sample(t, 100 * MS, MODEL);
    double w = Math.exp(-1);
    assertEquals(400 * w + 100 * (1 - w), s.state.latencyEstimate(t, MODEL) / (double) MS, 0.01);
  }

  @Test
  void estimateDecaysAtReadTimeSoAnIdleProviderIsRetried() {
    Slot s = Slots.slot("s", 0, 1);
    s.state.sample(0, 800 * MS, MODEL);
    assertEquals(800 * MS, s.state.latencyEstimate(0, MODEL));
    assertEquals(400 * MS, s.state.latencyEstimate(10_000 * MS, MODEL)); // tau / (tau + dt) = 1/2
  }

  @Test
  void recentFailuresRaiseTheCost() {
    Slot s = Slots.slot("s", 0, 1);
    s.state.sample(0, 100 * MS, MODEL);
    io.github.llmpool.internal.health.Health h = new io.github.llmpool.internal.health.Health(
        io.github.llmpool.EvictionPolicy.builder().failureThreshold(10).build(), MODEL, RandomSource.threadLocal());
    h.onFailure(s.state, io.github.llmpool.Outcome.SERVER_ERROR, -1, 0, false, true);
    assertEquals(200.0 * MS, s.state.cost(0, MODEL), 1); // x (1 + 1)
    // one tau later both halve (tau / (tau + dt)): 100 ms x 0.5 x (1 + 0.5) = 75 ms
    assertEquals(75.0 * MS, s.state.cost(10_000 * MS, MODEL), 1);
  }

  @Test
  void tieIsBrokenByARandomBit() {
    List<Slot> t = Slots.tier(0, 1, 1);
    ScriptedRandom r = new ScriptedRandom(1, 0, 0, 1, 0, 0, 0);
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), r, MODEL);
    assertEquals("b", router.pick(0, null).name()); // a vs b, equal default cost, bit 1 -> b
    assertEquals("a", router.pick(0, null).name()); // bit 0 -> a
  }

  @Test
  void candidatesAreDrawnInProportionToWeight() {
    List<Slot> t = Slots.tier(0, 6, 3, 1);
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), ScriptedRandom.seeded(3), MODEL);
    int[] counts = new int[3];
    int n = 30_000;
    for (int i = 0; i < n; i++) {
      counts[router.pick(0, null).name().charAt(0) - 'a']++;
    }
    // All costs equal: the winner is the first or second candidate at random, so the share of a
    // provider is P(drawn as one of two). For weights 6/3/1: a 0.825, b 0.6, c 0.22 over two picks
    // each, i.e. shares half of that. Tolerance 1.5 points.
    double a = 0.6 + 0.3 * 6 / 7.0 + 0.1 * 6 / 9.0;
    double b = 0.3 + 0.6 * 3 / 4.0 + 0.1 * 3 / 9.0;
    assertEquals(a / 2, counts[0] / (double) n, 0.015);
    assertEquals(b / 2, counts[1] / (double) n, 0.015);
  }

  @Test
  void evictedCandidateIsRedrawnFromTheEligible() {
    List<Slot> t = Slots.tier(0, 1, 1, 1);
    Slot a = t.get(0);
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), ScriptedRandom.seeded(5), MODEL);
    for (int i = 0; i < 100; i++) {
      assertTrue(router.pick(0, s -> s == a) != a);
    }
  }

  @Test
  void pickDoesNotAllocate() {
    List<Slot> t = Slots.tier(0, 5, 3, 2, 1, 1, 1, 1, 1);
    for (int i = 0; i < t.size(); i++) {
      t.get(i).state.sample(0, (50 + i * 10) * MS, MODEL);
    }
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), RandomSource.threadLocal(), MODEL);
    assertEquals(0, Allocation.measure(() -> router.pick(5 * MS, null)));
  }
}
