package io.github.llmpool.internal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.Strategy;
import io.github.llmpool.internal.route.Slot;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoundRobinPickerTest {

  @Test
  void scheduleIsSmoothAndWeighted() {
    int[] s = RoundRobinPicker.buildSchedule(Slots.tier(0, 5, 1, 1).toArray(new Slot[0]));
    StringBuilder sb = new StringBuilder();
    for (int i : s) {
      sb.append((char) ('a' + i));
    }
    assertEquals("aabacaa", sb.toString()); // nginx's smooth weighted round robin
  }

  @Test
  void weightsAreReducedByTheirGcd() {
    assertEquals(20, RoundRobinPicker.buildSchedule(Slots.tier(0, 80, 15, 5).toArray(new Slot[0])).length);
  }

  @Test
  void oneThreadWalksTheScheduleInOrder() {
    List<Slot> t = Slots.tier(0, 5, 1, 1);
    Router router = new Router(Strategy.ROUND_ROBIN, List.of(t), ScriptedRandom.seeded(1), WeightedPickerTest.MODEL);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 14; i++) {
      sb.append(router.pick(0, null).name());
    }
    String seq = sb.toString();
    // The thread's stripe starts somewhere in the cycle; the sequence is the cycle, rotated, twice.
    assertEquals(seq.substring(0, 7), seq.substring(7));
    assertTrue(("aabacaa" + "aabacaa").contains(seq.substring(0, 7)), seq);
  }

  @Test
  void evictedProviderIsSkipped() {
    List<Slot> t = Slots.tier(0, 1, 1, 1);
    Router router = new Router(Strategy.ROUND_ROBIN, List.of(t), ScriptedRandom.seeded(1), WeightedPickerTest.MODEL);
    Slot b = t.get(1);
    for (int i = 0; i < 30; i++) {
      assertTrue(!router.pick(0, s -> s == b).name().equals("b"));
    }
  }

  @Test
  void largeWeightSumsAreScaledDown() {
    int[] s = RoundRobinPicker.buildSchedule(Slots.tier(0, 1_000_000, 999_999, 1).toArray(new Slot[0]));
    assertTrue(s.length <= RoundRobinPicker.MAX_SCHEDULE + 3, "schedule length " + s.length);
    long c = java.util.Arrays.stream(s).filter(i -> i == 2).count();
    assertEquals(1, c); // a positive weight keeps at least one turn
  }

  @Test
  void pickDoesNotAllocate() {
    List<Slot> t = Slots.tier(0, 5, 3, 2, 1, 1, 1, 1, 1);
    Router router = new Router(Strategy.ROUND_ROBIN, List.of(t), ScriptedRandom.seeded(1), WeightedPickerTest.MODEL);
    assertEquals(0, Allocation.measure(() -> router.pick(0, null)));
  }
}
