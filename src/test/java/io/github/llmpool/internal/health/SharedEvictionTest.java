package io.github.llmpool.internal.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Outcome;
import io.github.llmpool.ScriptedRandom;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link Health#applyShared}: a remote eviction merges like a local one. */
class SharedEvictionTest {
  static final long S = 1_000_000_000L;
  static final LatencyModel MODEL = new LatencyModel(10 * S, S, true);

  private static Health health(EvictionPolicy p) {
    return new Health(p, MODEL, ScriptedRandom.seeded(1));
  }

  @Test
  void aRemoteEvictionNeverShortensOneInForceAndCountsNoEjection() {
    ProviderState s = new ProviderState("a");
    Health h = health(EvictionPolicy.defaults());
    h.onFailure(s, Outcome.RATE_LIMITED, 30 * S, 0, false, true);
    assertEquals(Long.MIN_VALUE, h.applyShared(s, 5 * S, S, true), "shorter: nothing changes");
    assertEquals(30 * S, s.evictedUntil());
    assertEquals(61 * S, h.applyShared(s, 60 * S, S, true), "longer: extended");
    assertEquals(61 * S, s.evictedUntil());
    assertEquals(1, s.ejections());
  }

  @Test
  void aRemoteEvictionIsCutToThePolicysLongest() {
    ProviderState s = new ProviderState("a");
    Health h = health(EvictionPolicy.builder().maxDuration(Duration.ofMinutes(1)).quotaDuration(Duration.ofMinutes(2))
        .build());
    assertEquals(120 * S, h.applyShared(s, 86_400 * S, 0, true));
    assertEquals(Long.MIN_VALUE, h.applyShared(new ProviderState("b"), 0, 0, true), "nothing left: ignored");
    assertEquals(0, s.ejections());
  }

  @Test
  void theMaxEjectionShareHoldsForRemoteEvictionsToo() {
    ProviderState s = new ProviderState("a");
    Health h = health(EvictionPolicy.defaults());
    assertEquals(Long.MIN_VALUE, h.applyShared(s, 5 * S, 0, false));
    assertFalse(s.evicted());
    h.onFailure(s, Outcome.RATE_LIMITED, 5 * S, 0, false, true);
    assertEquals(10 * S, h.applyShared(s, 10 * S, 0, false), "an evicted provider is extended regardless");
  }

  @Test
  void aProbeInFlightWhenARemoteEvictionLandsCannotHoldTheProviderOutForGood() {
    ProviderState s = new ProviderState("a");
    Health h = health(EvictionPolicy.defaults());
    h.onFailure(s, Outcome.SERVER_ERROR, S, 0, false, true); // a 503 asking for 1 s: out until 1 s, then a probe
    assertEquals(ProviderState.PROBE, s.claim(2 * S)); // the probe leaves at 2 s
    assertEquals(12 * S + 1, h.applyShared(s, 10 * S, 2 * S + 1, true)); // another instance: out for 10 s
    assertFalse(h.onHealthy(s, 2 * S), "the probe predates the remote eviction: no restore");
    assertTrue(s.evicted());
    assertFalse(s.isAvailable(12 * S));
    assertTrue(s.isAvailable(12 * S + 1), "after the remote deadline the provider is probed again");
    assertEquals(ProviderState.PROBE, s.claim(12 * S + 1));
  }
}
