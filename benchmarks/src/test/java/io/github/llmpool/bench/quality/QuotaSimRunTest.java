package io.github.llmpool.bench.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The 100-instance quota simulation's shared contender, short: instances that share their windows
 * and dispatches through the simulated shared state serve every request and provoke far fewer 429s
 * than 429-driven eviction. (Before the shared windows kept their dating and the others'
 * dispatches expired, the same run refused every request after its first 3 s, then 13-15%.)
 */
class QuotaSimRunTest {
  private static SimFleet fleet(String name) {
    return SimFleet.all().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
  }

  private static Map<String, Object> run(String fleet, QuotaContender c, boolean shared) {
    return new QuotaSimRun(fleet(fleet), c, 0.9, 100, 150, 30, 11, shared).run();
  }

  @Test
  void aSharingFleetServesEveryRequestWithFarFewer429sThanReactive() {
    for (String fleet : new String[] {"mixed-weighted", "mixed-equal"}) {
      Map<String, Object> reactive = run(fleet, QuotaContender.REACTIVE, false);
      Map<String, Object> shared = run(fleet, QuotaContender.HEADER_AWARE, true);
      assertEquals("header-aware+shared", shared.get("contender"));
      assertEquals(0L, shared.get("failed"), fleet + ": no request refused");
      assertEquals(1.0, (Double) shared.get("successRate"), 1e-9, fleet);
      double r = (Double) reactive.get("rateLimitedPer1000");
      double s = (Double) shared.get("rateLimitedPer1000");
      assertTrue(r > 0, fleet + ": reactive provokes 429s (" + r + ")");
      assertTrue(s * 3 < r, fleet + ": shared " + s + " per 1,000 against reactive's " + r);
      assertTrue((Long) shared.get("sharedMessages") > 0, fleet + ": the instances did share");
    }
  }
}
