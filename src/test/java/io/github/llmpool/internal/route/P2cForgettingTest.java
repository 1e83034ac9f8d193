package io.github.llmpool.internal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.health.ProviderState;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Bounded forgetting and bounded exploration (issue 17 item 6), exactly: fake times, scripted
 * draws. The default model: tau 10 s, a peak's excess fades to nothing in 1 tau, an estimate not
 * refreshed fades to the tier's reference by tau / (tau + age) x (1 - age / 10 tau), to
 * nothing in 10 tau, a sample after tau / 2 of silence replaces the
 * estimate, a sample seen before the newest one counts less the older it is, and at most one pick
 * per 50 attempts (1311 / 65536 = 2%) explores the provider due first: tau / 2 after its last
 * sample, tau while its estimate is still twice the others' or more.
 */
class P2cForgettingTest {
  static final long MS = 1_000_000L;
  static final long TAU = 10_000 * MS;
  static final LatencyModel MODEL = new LatencyModel(TAU, 1_000 * MS, true);
  static final LatencyModel LEGACY = LatencyModel.legacy(TAU, 1_000 * MS, true);

  @Test
  void theDefaultModel() {
    assertEquals(TAU, MODEL.horizonNanos());
    assertEquals(10 * TAU, MODEL.staleHorizonNanos());
    assertEquals(TAU / 2, MODEL.exploreAgeNanos());
    assertEquals(TAU, MODEL.exploreAgeBadNanos());
    assertEquals(TAU / 2, MODEL.replaceAfterNanos());
    assertEquals(1311, MODEL.exploreThreshold());
    assertTrue(LEGACY.isLegacy() && !MODEL.isLegacy());
  }

  // ------------------------------------------------------------------ forgetting

  @Test
  void aPeakFadesLinearlyToTheMeanWithinOneTau() {
    ProviderState s = new ProviderState("s");
    s.sample(0, 100 * MS, MODEL);
    long t1 = TAU / 10;
    s.sample(t1, 800 * MS, MODEL); // a peak: the mean moves by max(dt / tau, 1/4) = 1/4
    assertEquals(800, s.latencyEstimate(t1, MODEL, -1) / MS, 1e-9);
    assertEquals(275 + 525 * 0.5, s.latencyEstimate(t1 + TAU / 2, MODEL, -1) / MS, 1e-9);
    assertEquals(275, s.latencyEstimate(t1 + TAU, MODEL, -1) / MS, 1e-9); // gone, not 1/2 of it
    assertEquals(275, s.latencyEstimate(t1 + 3 * TAU, MODEL, -1) / MS, 1e-9); // no reference: it stands
  }

  @Test
  void anEstimateNotRefreshedReachesTheReferenceInTenTau() {
    ProviderState s = new ProviderState("s");
    s.sample(0, 800 * MS, MODEL);
    // k = tau / (tau + age) x (1 - age / 10 tau): 1/2 x 9/10 at 1 tau, 1/5 x 6/10 at 4 tau, 0 at 10 tau
    assertEquals(200 + 600 * 0.5 * 0.9, s.latencyEstimate(TAU, MODEL, 200.0 * MS) / MS, 1e-9);
    assertEquals(200 + 600 * 0.2 * 0.6, s.latencyEstimate(4 * TAU, MODEL, 200.0 * MS) / MS, 1e-9);
    assertEquals(200, s.latencyEstimate(10 * TAU, MODEL, 200.0 * MS) / MS, 1e-9);
    assertEquals(200, s.latencyEstimate(400 * TAU, MODEL, 200.0 * MS) / MS, 1e-9);
    // the legacy decay still carries an eleventh of the excess at 10 tau and 1% of it at 99 tau
    ProviderState old = new ProviderState("old");
    old.sample(0, 800 * MS, LEGACY);
    assertEquals(200 + 600 / 11.0, old.latencyEstimate(10 * TAU, LEGACY, 200.0 * MS) / MS, 1e-9);
    assertEquals(200 + 600 / 100.0, old.latencyEstimate(99 * TAU, LEGACY, 200.0 * MS) / MS, 1e-9);
  }

  @Test
  void aProviderWithoutASampleReachesTheReferenceFromItsCreation() {
    ProviderState s = new ProviderState("new", 5 * TAU);
    assertEquals(1_000, s.latencyEstimate(5 * TAU, MODEL, 100.0 * MS) / MS, 1e-9);
    assertEquals(100 + 900 * 0.2 * 0.6, s.latencyEstimate(9 * TAU, MODEL, 100.0 * MS) / MS, 1e-9);
    assertEquals(100, s.latencyEstimate(15 * TAU, MODEL, 100.0 * MS) / MS, 1e-9);
  }

  @Test
  void aSampleAfterHalfATauOfSilenceReplacesTheEstimateWhateverThePeak() {
    for (long peak : new long[] {3_000, 8_100, 300_000}) { // 10x, 27x, 1000x a 300 ms provider
      ProviderState s = new ProviderState("s");
      s.sample(0, 300 * MS, MODEL);
      s.sample(TAU / 100, peak * MS, MODEL);
      s.sample(TAU / 50, peak * MS, MODEL);
      long at = TAU / 50 + TAU / 2;
      s.sample(at, 300 * MS, MODEL); // re-measured healthy after tau / 2: healthy now
      assertEquals(300, s.latencyEstimate(at, MODEL, 300.0 * MS) / MS, 1e-9, "peak " + peak);
      assertEquals(300, s.latencyEstimate(at + TAU / 10, MODEL, 300.0 * MS) / MS, 1e-9, "peak " + peak);
    }
  }

  @Test
  void aSampleSoonerMovesTheMeanByAtLeastAQuarterAndKeepsThePeak() {
    ProviderState s = new ProviderState("s");
    s.sample(0, 400 * MS, MODEL);
    s.sample(MS, 100 * MS, MODEL);
    assertEquals(325 + 75 * (1 - 1.0 / 10_000), s.latencyEstimate(MS, MODEL, -1) / MS, 1e-9);
    s.sample(TAU / 2 - 1, 100 * MS, MODEL); // just under tau / 2: weight (tau/2 - 1 ns) / tau
    double w = (TAU / 2 - 1 - MS) / (double) TAU;
    double mean = (long) ((325 + (100 - 325) * w) * MS) / (double) MS;
    assertEquals(mean + (400 - mean) * (1 - (TAU / 2 - 1) / (double) TAU),
        s.latencyEstimate(TAU / 2 - 1, MODEL, -1) / MS, 1e-6);
  }

  @Test
  void aPeakIsDatedWhenItWasSeenNotWhenTheAttemptEnded() {
    ProviderState s = new ProviderState("s");
    s.sample(0, 300 * MS, -TAU, MODEL); // seen at -0.97 tau, landed at 0
    long now = TAU / 5;
    // a stream that started at -0.7 tau, first token 3 s later (-0.4 tau, after the first sample
    // was seen), ended now: the peak is dated -0.4 tau, so 0.6 tau of its 1 tau have passed
    s.sample(now, 3_000 * MS, -7 * TAU / 10, MODEL);
    double mean = 300 + 2_700 * 0.25;
    assertEquals(mean + (3_000 - mean) * (1 - 0.6), s.latencyEstimate(now, MODEL, -1) / MS, 1e-6);
    // one that started more than a horizon before its first token was seen fades before it lands
    ProviderState t = new ProviderState("t");
    t.sample(0, 300 * MS, -3 * TAU, MODEL);
    t.sample(now, 3_000 * MS, now - 2 * TAU, MODEL);
    assertEquals(mean, t.latencyEstimate(now, MODEL, -1) / MS, 1e-6); // only the mean moved
  }

  @Test
  void aSampleSeenBeforeTheNewestOneCannotUndoIt() {
    // 5 s answers during a slow spell, then a re-measurement after the spell finds 300 ms
    ProviderState s = new ProviderState("s");
    s.sample(TAU, 5_000 * MS, TAU - 5_000 * MS, MODEL);
    long at = 3 * TAU;
    s.sample(at, 300 * MS, at - 300 * MS, MODEL); // seen at 3 tau: replaces (2 tau of silence)
    assertEquals(300, s.latencyEstimate(at, MODEL, -1) / MS, 1e-9);
    // a slow answer sent during the spell lands 1 s later; its first token was seen 0.3 tau
    // before the re-measurement: it weighs (1 - 0.3 / 0.5) = 0.4 of an ordinary sample (mean by
    // 0.4 x 1/4 = 0.1, peak scaled by 0.4), and replaces nothing although tau / 2 passed since ...
    long land = at + 1_000 * MS;
    s.sample(land, 5_000 * MS, at - 3 * TAU / 10 - 5_000 * MS, MODEL);
    double mean = 300 + 4_700 * 0.1;
    double peak = mean + (long) (0.4 * (5_000 - mean) * MS) / (double) MS;
    // ... its peak dated 0.3 tau + 1 s ago: 0.6 of it is left
    assertEquals(mean + (peak - mean) * 0.6, s.latencyEstimate(land, MODEL, -1) / MS, 1e-6);
    // one seen tau / 2 or more before the newest sample counts for nothing, not even its landing
    ProviderState t = new ProviderState("t");
    t.sample(TAU, 5_000 * MS, TAU - 5_000 * MS, MODEL);
    t.sample(at, 300 * MS, at - 300 * MS, MODEL);
    t.sample(land, 5_000 * MS, at - TAU / 2 - 5_000 * MS, MODEL);
    assertEquals(300, t.latencyEstimate(land, MODEL, -1) / MS, 1e-9);
    assertEquals(at, t.lastSampleAt());
  }

  @Test
  void comparingCostsAgreesWithTheCostsUnderBoundedForgetting() {
    ProviderState a = new ProviderState("a");
    ProviderState b = new ProviderState("b");
    a.sample(0, 100 * MS, MODEL);
    a.sample(TAU / 10, 900 * MS, MODEL);
    b.sample(0, 400 * MS, MODEL);
    for (long now = TAU / 10; now < 6 * TAU; now += TAU / 7) {
      double ca = a.costPerInverse(now, MODEL, 400.0 * MS, 1);
      double cb = b.costPerInverse(now, MODEL, 280.0 * MS, 1);
      assertEquals(Double.compare(ca, cb), ProviderState.compareCost(a, 400.0 * MS, 1, b, 280.0 * MS, 1, now, MODEL),
          "at " + now);
    }
  }

  // ------------------------------------------------------------------ exploration

  /** a and b sampled at 1 tau (100, 200 ms); c sampled at 0 (5 s), so at 1 tau it is tau old. */
  private static List<Slot> tier() {
    List<Slot> t = Slots.tier(0, 1, 1, 1);
    t.get(2).state.sample(0, 5_000 * MS, MODEL);
    t.get(0).state.sample(TAU, 100 * MS, MODEL);
    t.get(1).state.sample(TAU, 200 * MS, MODEL);
    return t;
  }

  @Test
  void theFirstPickAfterTheCandidateIsDueExploresItWithoutADraw() {
    List<Slot> t = tier();
    ScriptedRandom r = new ScriptedRandom(1, 0, 0);
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), r, MODEL);
    // c (5 s, 25x the others: still bad) is due tau after its last sample: explore it, no draw,
    // although it costs 25x the others
    assertSame(t.get(2), router.pick(TAU, null));
    assertEquals(2, r.remaining());
    // the budget is spent (no attempt dispatched since): the two ordinary draws (a, then b), a wins
    assertSame(t.get(0), router.pick(TAU, null));
    assertEquals(0, r.remaining());
  }

  @Test
  void aProviderStillBadIsDueAfterTauAHealthyOneAfterHalfATau() {
    List<Slot> t = Slots.tier(0, 1, 1, 1);
    t.get(2).state.sample(0, 5_000 * MS, MODEL); // c: 50x the others, still bad
    t.get(0).state.sample(TAU / 10, 100 * MS, MODEL);
    t.get(1).state.sample(TAU * 6 / 10, 100 * MS, MODEL);
    P2cPicker p = new P2cPicker(t.toArray(new Slot[0]), ScriptedRandom.seeded(1), MODEL);
    // a (healthy) is due at 0.1 + 0.5 tau, before c (bad) at 1 tau
    P2cPicker.Reference ref = p.tierReference(TAU / 2);
    assertEquals(0, ref.candidate());
    assertEquals(TAU * 6 / 10, ref.staleAt);
    t.get(0).state.sample(TAU * 7 / 10, 100 * MS, MODEL); // a measured again: due at 1.2 tau
    ref = p.tierReference(TAU * 7 / 10);
    assertEquals(2, ref.candidate()); // c, due at 1 tau (b at 1.1 tau)
    assertEquals(TAU, ref.staleAt);
    // re-measured healthy: due tau / 2 after that
    t.get(2).state.sample(TAU * 8 / 10, 100 * MS, MODEL);
    ref = p.tierReference(TAU * 8 / 10);
    assertEquals(1, ref.candidate()); // b due at 1.1 tau, a at 1.2, c at 1.3
    assertEquals(TAU * 11 / 10, ref.staleAt);
  }

  @Test
  void noDrawIsSpentWhileTheCandidateHasAnAttemptInFlightOrEveryoneIsFresh() {
    List<Slot> t = tier();
    ScriptedRandom r = new ScriptedRandom(1, 1, 0);
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), r, MODEL);
    t.get(2).state.dispatch(TAU);
    // c is measuring: the two draws are P2C's (b, then a), a wins
    assertSame(t.get(0), router.pick(TAU, null));
    assertEquals(0, r.remaining());
    t.get(2).state.release();
    t.get(2).state.sample(TAU + 1, 300 * MS, MODEL); // c measured again: everybody is fresh
    r.then(2, 0);
    assertSame(t.get(0), router.pick(TAU + TAU / 32, null)); // c vs a: a (c's peak, 300 ms)
    assertEquals(0, r.remaining());
  }

  @Test
  void aStreamPastItsFirstTokenDoesNotHoldBackExploration() {
    List<Slot> t = tier();
    ProviderState c = t.get(2).state;
    ScriptedRandom r = new ScriptedRandom(1, 1, 0);
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), r, MODEL);
    c.dispatch(0); // a slow stream of c's: sampled at its first token, still writing its answer
    c.sampledInFlight();
    assertEquals(1, c.inFlight());
    assertEquals(0, c.awaitingSample());
    // nothing of c's awaits a sample: due at 1 tau, explored although an answer is in flight
    assertSame(t.get(2), router.pick(TAU, null));
    assertEquals(2, r.remaining());
    c.dispatch(TAU); // the exploring attempt, awaiting its sample: no second one (and no budget)
    assertEquals(1, c.awaitingSample());
    c.release(true);
    c.release(false);
    assertEquals(0, c.inFlight());
    assertEquals(0, c.awaitingSample());
  }

  @Test
  void aProviderSampledLessThanHalfATauAgoIsNotExplored() {
    List<Slot> t = tier();
    ScriptedRandom r = new ScriptedRandom(1, 0, 1);
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), r, MODEL);
    // at 0.4 tau, c (sampled at 0) is not old enough: the two draws are P2C's (a, then b)
    assertSame(t.get(0), router.pick(TAU * 4 / 10, null));
    assertEquals(0, r.remaining());
  }

  @Test
  void explorationOffSpendsNoDraw() {
    LatencyModel off = new LatencyModel(TAU, 1_000 * MS, true, 0.0);
    List<Slot> t = tier();
    ScriptedRandom r = new ScriptedRandom(1, 0, 1);
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), r, off);
    assertSame(t.get(0), router.pick(TAU, null));
    assertEquals(0, r.remaining());
  }

  @Test
  void anExcludedOrEvictedCandidateIsNotExplored() {
    List<Slot> t = tier();
    Slot c = t.get(2);
    ScriptedRandom r = new ScriptedRandom(1, 0, 0, 0);
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), r, MODEL);
    // the draw says explore, but this request already tried c: P2C over a and b instead
    assertSame(t.get(0), router.pick(TAU, s -> s == c));
  }

  @Test
  void explorationSettingIsCheckedAndReachesThePool() {
    assertEquals(0.02, io.github.llmpool.P2cSettings.defaults().exploration());
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> io.github.llmpool.P2cSettings.builder().exploration(0.06));
    assertEquals("exploration must be in [0, 0.05] but was 0.06", e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> io.github.llmpool.P2cSettings.builder().exploration(Double.NaN));
    assertEquals("exploration must be in [0, 0.05] but was NaN", e.getMessage());
    io.github.llmpool.P2cSettings p = io.github.llmpool.P2cSettings.builder().exploration(0).build();
    assertEquals(p, p.toBuilder().build());
    assertTrue(p.toString().contains("exploration=0.0"));
    assertTrue(new LatencyModel(TAU, MS, true, p.exploration()).exploreThreshold() == 0);
  }

  @Test
  void theExploringShareIsTheBudget() {
    List<Slot> t = tier();
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(t), ScriptedRandom.seeded(7), MODEL);
    int n = 400;
    int toC = 0;
    for (int i = 0; i < n; i++) {
      long now = TAU + i * (TAU / 64); // every pick reads a fresh reference
      t.get(0).state.sample(now, 100 * MS, MODEL); // a and b fresh: c stays the candidate
      t.get(1).state.sample(now, 200 * MS, MODEL);
      Slot s = router.pick(now, null);
      s.state.dispatch(now); // dispatched and ended without a sample: c stays stale and bad
      s.state.release();
      if (s == t.get(2)) {
        toC++;
      }
    }
    // one exploring pick per ceil(65536 / 1311) = 50 attempts: picks 0, 50, ..., 350; P2C alone
    // never picks c within these 6.25 tau (5 s against 100-200 ms: at 7.25 tau old it still
    // costs 150 + 4850 / 8.25 x 0.275 = 311 ms)
    assertEquals(50, (65536 + 1311 - 1) / 1311);
    assertEquals(n / 50, toC);
  }
}
