package io.github.llmpool.internal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Outcome;
import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.Health;
import io.github.llmpool.internal.route.Slot;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TierTest {
  static final long S = 1_000_000_000L;

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void trafficSpillsWhenATierIsOutAndReturnsWhenItComesBack(Strategy strategy) {
    List<Slot> t0 = Slots.tier(0, 1, 1);
    List<Slot> t1 = Slots.tier(1, 1);
    Router router = new Router(strategy, List.of(t0, t1), ScriptedRandom.seeded(1), WeightedPickerTest.MODEL);
    Health h = new Health(EvictionPolicy.builder().jitter(0).build(), WeightedPickerTest.MODEL, RandomSource.threadLocal());
    assertEquals(0, router.pick(0, null).tier);
    h.onFailure(t0.get(0).state, Outcome.RATE_LIMITED, 5 * S, 0, false, true);
    assertEquals("b", router.pick(0, null).name()); // the other provider of tier 0 still serves
    h.onFailure(t0.get(1).state, Outcome.RATE_LIMITED, 10 * S, 0, false, true);
    for (int i = 0; i < 10; i++) {
      assertEquals(1, router.pick(1 * S, null).tier); // tier 0 is out: spill at once
    }
    // a's deadline passes: it is eligible again (for its probe) and tier 0 serves again
    assertEquals("a", router.pick(5 * S, null).name());
  }

  @Test
  void nothingEligibleGivesNullAndFailOpenPicksTheEarliestReturn() {
    List<Slot> t0 = Slots.tier(0, 1, 1);
    List<Slot> t1 = Slots.tier(1, 1);
    Router router = new Router(Strategy.WEIGHTED, List.of(t0, t1), ScriptedRandom.seeded(1), WeightedPickerTest.MODEL);
    Health h = new Health(EvictionPolicy.builder().jitter(0).build(), WeightedPickerTest.MODEL, RandomSource.threadLocal());
    h.onFailure(t0.get(0).state, Outcome.RATE_LIMITED, 30 * S, 0, false, true);
    h.onFailure(t0.get(1).state, Outcome.RATE_LIMITED, 7 * S, 0, false, true);
    h.onFailure(t1.get(0).state, Outcome.RATE_LIMITED, 20 * S, 0, false, true);
    assertNull(router.pick(1 * S, null));
    assertEquals(t0.get(1), router.pickLeastEvicted(1 * S, null));
    Slot b = t0.get(1);
    assertEquals(t1.get(0), router.pickLeastEvicted(1 * S, s -> s == b));
  }
}
