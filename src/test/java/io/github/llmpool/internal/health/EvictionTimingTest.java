package io.github.llmpool.internal.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Outcome;
import io.github.llmpool.ScriptedRandom;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class EvictionTimingTest {
  static final long S = 1_000_000_000L;
  static final LatencyModel MODEL = new LatencyModel(10 * S, S, true);

  private static Health health(EvictionPolicy p) {
    return new Health(p, MODEL, ScriptedRandom.seeded(1));
  }

  @Test
  void laterDeadlineWinsShortThenLong() {
    ProviderState s = new ProviderState("a");
    Health h = health(EvictionPolicy.defaults());
    h.onFailure(s, Outcome.RATE_LIMITED, 2 * S, 0, false, true);
    Health.Eviction e = h.onFailure(s, Outcome.RATE_LIMITED, 60 * S, S, false, true);
    assertEquals(61 * S, e.untilNanos());
    assertEquals(61 * S, s.evictedUntil());
  }

  @Test
  void laterDeadlineWinsLongThenShort() {
    ProviderState s = new ProviderState("a");
    Health h = health(EvictionPolicy.defaults());
    h.onFailure(s, Outcome.RATE_LIMITED, 60 * S, 0, false, true);
    Health.Eviction e = h.onFailure(s, Outcome.RATE_LIMITED, 2 * S, S, false, true);
    assertEquals(60 * S, e.untilNanos()); // never shortened
    assertEquals(59 * S, e.durationNanos());
  }

  @Test
  void backoffDoublesPerEjectionIsCappedAndResetBySuccess() {
    EvictionPolicy p = EvictionPolicy.builder().baseDuration(Duration.ofSeconds(5)).maxDuration(Duration.ofSeconds(30))
        .jitter(0).failureThreshold(1).build();
    Health h = health(p);
    long now;
    long[] expected = {5, 10, 20, 30, 30};
    ProviderState t = new ProviderState("b");
    now = 0;
    for (long exp : expected) {
      Health.Eviction e = h.onFailure(t, Outcome.SERVER_ERROR, -1, now, false, true);
      assertEquals(exp * S, e.durationNanos(), "ejection " + e.ejections());
      now = e.untilNanos();
    }
    assertTrue(h.onHealthy(t)); // restores and resets the ejection count
    assertEquals(5 * S, h.onFailure(t, Outcome.SERVER_ERROR, -1, now, false, true).durationNanos());
  }

  @Test
  void jitterOnlyLengthens() {
    EvictionPolicy p = EvictionPolicy.builder().baseDuration(Duration.ofSeconds(5)).jitter(0.2).failureThreshold(1).build();
    Health h = health(p);
    for (int i = 0; i < 50; i++) {
      long d = h.onFailure(new ProviderState("x" + i), Outcome.SERVER_ERROR, -1, 0, false, true).durationNanos();
      assertTrue(d >= 5 * S && d <= 6 * S, "duration " + d);
    }
  }

  @Test
  void serverErrorsEvictAfterTheThresholdRateLimitsAtOnce() {
    Health h = health(EvictionPolicy.defaults()); // 429: 1, 5xx: 2
    ProviderState s = new ProviderState("a");
    assertNull(h.onFailure(s, Outcome.SERVER_ERROR, -1, 0, false, true));
    assertFalse(s.evicted());
    assertNotNull(h.onFailure(s, Outcome.SERVER_ERROR, -1, 0, false, true));
    ProviderState r = new ProviderState("b");
    assertNotNull(h.onFailure(r, Outcome.RATE_LIMITED, -1, 0, false, true));
    ProviderState hinted = new ProviderState("c");
    assertEquals(30 * S, h.onFailure(hinted, Outcome.SERVER_ERROR, 30 * S, 0, false, true).durationNanos());
  }

  @Test
  void aSuccessResetsTheConsecutiveCount() {
    Health h = health(EvictionPolicy.defaults());
    ProviderState s = new ProviderState("a");
    assertNull(h.onFailure(s, Outcome.SERVER_ERROR, -1, 0, false, true));
    h.onHealthy(s);
    assertNull(h.onFailure(s, Outcome.SERVER_ERROR, -1, 0, false, true));
  }

  @Test
  void quotaEvictsForTheQuotaDuration() {
    Health h = health(EvictionPolicy.defaults());
    ProviderState s = new ProviderState("a");
    assertEquals(Duration.ofMinutes(10).toNanos(), h.onFailure(s, Outcome.QUOTA_EXHAUSTED, -1, 0, false, true).durationNanos());
  }

  @Test
  void serverHintIsCappedAtMaxDuration() {
    Health h = health(EvictionPolicy.defaults());
    ProviderState s = new ProviderState("a");
    assertEquals(Duration.ofMinutes(5).toNanos(),
        h.onFailure(s, Outcome.RATE_LIMITED, Duration.ofHours(2).toNanos(), 0, false, true).durationNanos());
  }

  @Test
  void aRateLimitDelayTheServerNamedEndsForEveryRequestWithoutAProbe() {
    Health h = health(EvictionPolicy.builder().jitter(0).build());
    ProviderState s = new ProviderState("a");
    h.onFailure(s, Outcome.RATE_LIMITED, 2 * S, 0, false, true); // 429 + Retry-After: 2
    assertTrue(s.namedEnd());
    assertEquals(ProviderState.REFUSED, s.claim(S));
    assertTrue(s.isAvailable(2 * S));
    assertEquals(ProviderState.RETURNED, s.claim(2 * S)); // the first claim ends the eviction
    assertFalse(s.evicted());
    assertEquals(ProviderState.NORMAL, s.claim(2 * S)); // and the next is ordinary traffic, no probe gate
    // A computed eviction (no hint) of a rate limit keeps the probe: nobody named its end.
    ProviderState t = new ProviderState("b");
    h.onFailure(t, Outcome.RATE_LIMITED, -1, 0, false, true);
    assertFalse(t.namedEnd());
    assertEquals(ProviderState.PROBE, t.claim(Duration.ofMinutes(10).toNanos()));
  }

  @Test
  void aNamedDelayExtendedByAComputedOneIsProbedAgain() {
    Health h = health(EvictionPolicy.builder().jitter(0).build());
    ProviderState s = new ProviderState("a");
    h.onFailure(s, Outcome.RATE_LIMITED, S, 0, false, true); // named: out until 1 s
    h.onFailure(s, Outcome.SERVER_ERROR, 30 * S, 0, false, true); // a later 503's hint: the deadline in force now
    assertFalse(s.namedEnd());
    assertEquals(ProviderState.PROBE, s.claim(30 * S));
  }

  @Test
  void exactlyOneProbeAfterTheDeadline() {
    Health h = health(EvictionPolicy.builder().jitter(0).build());
    ProviderState s = new ProviderState("a");
    h.onFailure(s, Outcome.SERVER_ERROR, 2 * S, 0, false, true); // a 503 asking for 2 s: its end is a probe
    assertFalse(s.isAvailable(S));
    assertEquals(ProviderState.REFUSED, s.claim(S));
    assertTrue(s.isAvailable(2 * S));
    assertEquals(ProviderState.PROBE, s.claim(2 * S));
    assertFalse(s.isAvailable(2 * S)); // the probe is in flight: nobody else
    assertEquals(ProviderState.REFUSED, s.claim(2 * S));
    // the probe fails: evicted again for the next, longer (computed) duration
    Health.Eviction e = h.onFailure(s, Outcome.SERVER_ERROR, -1, 2 * S, true, true);
    assertEquals(10 * S, e.durationNanos()); // base 5 s x 2^1
    assertEquals(ProviderState.PROBE, s.claim(12 * S));
    assertTrue(h.onHealthy(s)); // the probe succeeds: full traffic
    assertEquals(ProviderState.NORMAL, s.claim(12 * S));
    assertTrue(s.isAvailable(12 * S));
  }

  @Test
  void maxEjectionShareIsRespectedExceptForProbes() {
    Health h = health(EvictionPolicy.defaults());
    ProviderState s = new ProviderState("a");
    assertNull(h.onFailure(s, Outcome.RATE_LIMITED, -1, 0, false, false));
    assertFalse(s.evicted());
  }

  @Test
  void retryBudgetAllowsRatioOfRequestsPlusFloor() {
    RetryBudget b = new RetryBudget(0.2, 0, 10 * S);
    int granted = 0;
    for (int i = 0; i < 100; i++) {
      b.onRequest(0);
      while (b.tryRetry(0)) {
        granted++;
      }
    }
    assertEquals(20, granted);
    RetryBudget floor = new RetryBudget(0, 1, 10 * S);
    int f = 0;
    while (floor.tryRetry(0)) {
      f++;
    }
    assertEquals(10, f); // 1 per second over a 10 s window
    // the window slides: 11 s later the old retries no longer count
    assertTrue(floor.tryRetry(11 * S));
  }

  @Test
  void attemptsDispatchedBeforeTheEvictionNeitherEscalateNorEndIt() {
    Health h = health(EvictionPolicy.builder().jitter(0).failureThreshold(1).build());
    ProviderState s = new ProviderState("a");
    // five requests in flight at t=0..4 ms; the first failure (t=10 ms) evicts for 5 s
    Health.Eviction first = h.onFailure(s, Outcome.CONNECTION_FAILURE, -1, 10_000_000L, 0, false, true);
    assertEquals(5 * S, first.durationNanos());
    for (int i = 1; i < 5; i++) { // the other four fail late: the same outage, no escalation
      assertNull(h.onFailure(s, Outcome.CONNECTION_FAILURE, -1, 20_000_000L, i * 1_000_000L, false, true));
    }
    assertEquals(1, s.ejections());
    assertEquals(10_000_000L + 5 * S, s.evictedUntil());
    // a late success of a request sent before the eviction does not restore it
    assertFalse(h.onHealthy(s, 3_000_000L));
    assertTrue(s.evicted());
    // the probe after the deadline counts: its failure escalates to 10 s
    long deadline = s.evictedUntil();
    assertEquals(ProviderState.PROBE, s.claim(deadline));
    assertEquals(10 * S, h.onFailure(s, Outcome.CONNECTION_FAILURE, -1, deadline, deadline, true, true).durationNanos());
    // a request sent during that eviction (fail-open) that succeeds does restore it
    assertTrue(h.onHealthy(s, deadline + S));
  }
}
