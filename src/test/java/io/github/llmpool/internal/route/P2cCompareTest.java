package io.github.llmpool.internal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.health.ProviderState;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * P2C's division-free comparison ({@link ProviderState#compareCost}) against the costs it stands
 * for ({@link ProviderState#costPerInverse}): the same sign whenever the two costs differ by more
 * than rounding, over random states (sampled or not, decayed or not, failures, in flight, cold
 * start, with and without a reference).
 */
class P2cCompareTest {
  private static final long MS = 1_000_000L;
  private static final io.github.llmpool.internal.health.Health HEALTH = new io.github.llmpool.internal.health.Health(
      io.github.llmpool.EvictionPolicy.defaults(), new LatencyModel(10_000 * MS, 1_000 * MS, true),
      io.github.llmpool.spi.RandomSource.threadLocal());

  @Test
  void signMatchesTheCosts() {
    Random r = new Random(42);
    LatencyModel model = new LatencyModel(10_000 * MS, 1_000 * MS, true);
    int compared = 0;
    for (int k = 0; k < 20_000; k++) {
      long now = 1_000_000 * MS + r.nextInt(100_000) * MS;
      ProviderState a = state(r, now, model);
      ProviderState b = state(r, now, model);
      double refA = r.nextInt(3) == 0 ? -1 : r.nextInt(3_000) * (double) MS;
      double refB = r.nextInt(3) == 0 ? -1 : r.nextInt(3_000) * (double) MS;
      double invA = r.nextBoolean() ? 1 : 1 / (1 + r.nextInt(8) * 0.5);
      double invB = r.nextBoolean() ? 1 : 1 / (1 + r.nextInt(8) * 0.5);
      double ca = a.costPerInverse(now, model, refA, invA);
      double cb = b.costPerInverse(now, model, refB, invB);
      int c = ProviderState.compareCost(a, refA, invA, b, refB, invB, now, model);
      assertEquals(-c, ProviderState.compareCost(b, refB, invB, a, refA, invA, now, model));
      if (Math.abs(ca - cb) > 1e-9 * Math.max(ca, cb)) {
        assertEquals(Double.compare(ca, cb), c, () -> ca + " vs " + cb);
        compared++;
      }
      assertEquals(0, ProviderState.compareCost(a, refA, invA, a, refA, invA, now, model));
    }
    assertEquals(true, compared > 15_000, "compared " + compared);
  }

  private static ProviderState state(Random r, long now, LatencyModel model) {
    ProviderState s = new ProviderState("p", now - r.nextInt(60_000) * MS);
    int samples = r.nextInt(4);
    long t = now - 60_000 * MS;
    for (int i = 0; i < samples; i++) {
      t += r.nextInt(20_000) * MS;
      s.sample(Math.min(t, now), (50 + r.nextInt(3_000)) * MS, model);
    }
    int failures = r.nextInt(3);
    for (int i = 0; i < failures; i++) { // raises the failure score; the tier's share forbids evicting
      HEALTH.onFailure(s, io.github.llmpool.Outcome.SERVER_ERROR, -1, now - r.nextInt(30_000) * MS, false, false);
    }
    int flight = r.nextInt(4);
    for (int i = 0; i < flight; i++) {
      s.dispatch(now - r.nextInt(5_000) * MS);
    }
    return s;
  }
}
