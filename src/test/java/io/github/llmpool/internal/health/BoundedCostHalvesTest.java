package io.github.llmpool.internal.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Under bounded forgetting, the small halves P2C's pick inlines ({@link ProviderState#boundedCostNumerator},
 * {@link ProviderState#boundedCostDenominator}) are the general ones ({@link ProviderState#costNumerator},
 * {@link ProviderState#costDenominator}) to the bit, so P2C's factored comparison (a headroom or
 * announced-limits factor) may use either without any decision changing: samples old and new, a
 * fading peak, cold start with attempts in flight, streams waiting for their first token, failure
 * scores, references absent, fresh and stale, at instants before and after the last sample.
 */
class BoundedCostHalvesTest {
  private static final long S = 1_000_000_000L;

  @Test
  void theInlinedHalvesAreTheGeneralOnesToTheBit() {
    LatencyModel model = new LatencyModel(10 * S, S, true);
    assertFalse(model.isLegacy());
    double tau = model.tauNanos();
    long def = model.defaultEstimateNanos();
    double invH = ProviderState.inverseHorizon(model);
    double invS = ProviderState.inverseStaleHorizon(model);
    SplittableRandom r = new SplittableRandom(7);
    int checks = 0;
    int coldStart = 0;
    int waiting = 0;
    int failing = 0;
    for (int run = 0; run < 2_000; run++) {
      long now = 100 * S;
      ProviderState s = new ProviderState("p", now - r.nextLong(20 * S));
      int samples = r.nextInt(4);
      for (int k = 0; k < samples; k++) {
        now += r.nextLong(5 * S);
        s.sample(now, 1 + r.nextLong(3 * S), now - r.nextLong(2 * S), model);
      }
      for (int k = r.nextInt(4); k > 0; k--) {
        s.dispatch(now - r.nextLong(4 * S), r.nextBoolean());
      }
      if (r.nextInt(3) == 0) {
        s.noteFailureScore(now - r.nextLong(10 * S), model);
      }
      coldStart += samples == 0 && s.inFlight() > 0 ? 1 : 0;
      waiting += s.streamsWaiting() > 0 ? 1 : 0;
      for (int k = 0; k < 6; k++) {
        long at = now + (k == 0 ? 0 : r.nextLong(-S, 200 * S));
        double ref = r.nextInt(4) == 0 ? -1 : 1 + r.nextLong(3 * S);
        double inv = r.nextBoolean() ? 1 : 1 / (1 + r.nextDouble() * 4);
        assertEquals(s.costNumerator(at, tau, def, ref, inv, invH, invS),
            s.boundedCostNumerator(at, tau, def, ref, inv, invH, invS), "run " + run + " numerator");
        assertEquals(s.costDenominator(at, tau, ref, invH, invS),
            s.boundedCostDenominator(at, tau, ref, invS), "run " + run + " denominator");
        checks++;
      }
      failing += s.costDenominator(now + 1, tau, -1, invH, invS) != 1 ? 1 : 0;
    }
    assertTrue(checks > 10_000 && coldStart > 50 && waiting > 200 && failing > 200,
        checks + " checks, " + coldStart + " cold, " + waiting + " waiting, " + failing + " failing");
  }
}
