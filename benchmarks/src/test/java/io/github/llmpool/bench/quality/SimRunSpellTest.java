package io.github.llmpool.bench.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The scale simulation's spell summary says when the slow provider's queue drained (QUALITY.md
 * R13): weighted random keeps sending p0 a tenth of the traffic through a 3x spell at 50% load
 * (1.5x what p0 can then serve), so p0's slots fill with slow answers and its queue grows; it has
 * not drained the second the spell ends but does within the run, and the recovery counted from the drain is the recovery from the spell's end less
 * the drain, never below zero.
 */
class SimRunSpellTest {
  private static SimFleet fleet(String name) {
    return SimFleet.all().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aProviderThatQueuedThroughItsSpellDrainsAfterItAndRecoveryIsAlsoCountedFromThen() {
    Map<String, Object> r = new SimRun(fleet("uniform-spell"), Contender.WEIGHTED, 0.5, 10, 300, 40, 11).run();
    @SuppressWarnings("unchecked")
    Map<String, Object> spell = (Map<String, Object>) r.get("spell");
    Double drained = (Double) spell.get("p0QueueDrainedSec");
    Double back = (Double) spell.get("halfShareBackSec");
    assertNotNull(drained, "p0's queue drained within the run: " + spell);
    assertTrue(drained > 0, "p0 was still queueing when its spell ended: " + spell);
    assertNotNull(back, spell.toString());
    assertEquals(Math.max(0, back - drained), (Double) spell.get("halfShareBackAfterDrainSec"), 1e-9, spell.toString());
  }
}
