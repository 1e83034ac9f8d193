package io.github.llmpool.internal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.route.Slot;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WeightedPickerTest {
  static final LatencyModel MODEL = new LatencyModel(10_000_000_000L, 1_000_000_000L, true);

  @Test
  void drawMapsOntoCumulativeWeights() {
    List<Slot> t = Slots.tier(0, 80, 15, 5);
    // weights 80/15/5: [0,80) -> a, [80,95) -> b, [95,100) -> c
    ScriptedRandom r = new ScriptedRandom(1, 0, 79, 80, 94, 95, 99);
    Router router = new Router(Strategy.WEIGHTED, List.of(t), r, MODEL);
    String picks = "";
    for (int i = 0; i < 6; i++) {
      picks += router.pick(0, null).name();
    }
    assertEquals("aabbcc", picks);
  }

  @Test
  void sharesFollowWeightsOverTenThousandSeededPicks() {
    List<Slot> t = Slots.tier(0, 80, 15, 5);
    Router router = new Router(Strategy.WEIGHTED, List.of(t), ScriptedRandom.seeded(42), MODEL);
    Map<String, Integer> counts = new HashMap<>();
    int n = 20_000;
    for (int i = 0; i < n; i++) {
      counts.merge(router.pick(0, null).name(), 1, Integer::sum);
    }
    // Tolerance: 1 percentage point (about 4 standard deviations of the 80% share at n = 20,000).
    assertEquals(0.80, counts.get("a") / (double) n, 0.01);
    assertEquals(0.15, counts.get("b") / (double) n, 0.01);
    assertEquals(0.05, counts.get("c") / (double) n, 0.01);
  }

  @Test
  void zeroWeightTakesNoTraffic() {
    List<Slot> t = Slots.tier(0, 0, 3, 0);
    Router router = new Router(Strategy.WEIGHTED, List.of(t), ScriptedRandom.seeded(7), MODEL);
    for (int i = 0; i < 1000; i++) {
      assertEquals("b", router.pick(0, null).name());
    }
  }

  @Test
  void excludedOrEvictedProviderIsRedrawnAmongTheOthers() {
    List<Slot> t = Slots.tier(0, 1, 1, 1);
    // first draw 0 hits a (excluded); the redraw over b,c (sum 2) with value 1 picks c
    ScriptedRandom r = new ScriptedRandom(1, 0, 1);
    Router router = new Router(Strategy.WEIGHTED, List.of(t), r, MODEL);
    Slot a = t.get(0);
    assertEquals("c", router.pick(0, s -> s == a).name());
    assertNull(router.pick(0, s -> true));
  }

  @Test
  void pickDoesNotAllocate() {
    List<Slot> t = Slots.tier(0, 5, 3, 2, 1, 1, 1, 1, 1);
    Router router = new Router(Strategy.WEIGHTED, List.of(t), io.github.llmpool.spi.RandomSource.threadLocal(), MODEL);
    long allocated = Allocation.measure(() -> router.pick(0, null));
    assertTrue(allocated == 0, "bytes allocated per pick: " + allocated);
  }
}
