package io.github.llmpool.internal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Outcome;
import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.Health;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.route.Endpoint;
import io.github.llmpool.internal.route.Slot;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The three parts of P2C's cost that QUALITY.md's experiment asked for: estimates decay toward
 * the tier's reference (R4), a provider without a sample is at least as slow as the attempt it
 * has kept waiting longest (R2), and in-flight requests count per unit of concurrency (R3).
 * Exact: fake times, scripted draws.
 */
class P2cReferenceTest {
  static final long MS = 1_000_000L;
  static final long TAU = 10_000 * MS;
  // The legacy decay (kept for side-by-side benchmarks): its arithmetic, exactly. Bounded forgetting: P2cForgettingTest.
  static final LatencyModel MODEL = LatencyModel.legacy(TAU, 1_000 * MS, true);

  static Slot slot(String name, int weight, int concurrency) {
    return new Slot(new Endpoint(name, "http", "127.0.0.1", 9, "/v1", null, null, null, List.of(), true, concurrency),
        new ProviderState(name), 0, weight);
  }

  // ------------------------------------------------------------------ R4: decay toward the reference

  @Test
  void aSlowEstimateDecaysTowardTheReferenceNotTowardZero() {
    ProviderState s = new ProviderState("s");
    s.sample(0, 800 * MS, MODEL);
    // one tau later k = tau / (tau + tau) = 1/2
    assertEquals(200 + 600 * 0.5, s.latencyEstimate(TAU, MODEL, 200.0 * MS) / MS, 1e-6);
    assertEquals(800 * 0.5, s.latencyEstimate(TAU, MODEL, -1) / MS, 1e-6); // no reference: toward zero
    // long after, it is the reference, never below it
    assertEquals(200, s.latencyEstimate(1_000 * TAU, MODEL, 200.0 * MS) / MS, 1.0);
  }

  @Test
  void aFastEstimateDriftsUpTowardTheReference() {
    ProviderState s = new ProviderState("s");
    s.sample(0, 100 * MS, MODEL);
    assertEquals(300 - 200 * (10.0 / 13), s.latencyEstimate(3 * TAU / 10, MODEL, 300.0 * MS) / MS, 1e-6);
  }

  @Test
  void referenceIsTheWeightedMeanOfTheOtherSampledAvailableProviders() {
    Slot a = slot("a", 1, 1);
    Slot b = slot("b", 3, 1);
    Slot unsampled = slot("c", 5, 1);
    Slot evicted = slot("d", 1, 1);
    Slot weightless = slot("e", 0, 1);
    a.state.sample(0, 100 * MS, MODEL);
    b.state.sample(0, 300 * MS, MODEL);
    evicted.state.sample(0, 5_000 * MS, MODEL);
    weightless.state.sample(0, 9_000 * MS, MODEL);
    Slot[] tier = {a, b, unsampled, evicted, weightless};
    P2cPicker.Reference ref = P2cPicker.reference(tier, 0);
    assertEquals((3 * 300 + 5_000) / 4.0, ref.forSlot(0) / MS, 1e-6); // a: the others
    assertEquals((100 + 5_000) / 2.0, ref.forSlot(1) / MS, 1e-6); // b: the others
    assertEquals((100 + 3 * 300 + 5_000) / 5.0, ref.forSlot(2) / MS, 1e-6); // unsampled: all of them
    Health health = new Health(EvictionPolicy.defaults(), MODEL, new ScriptedRandom(1));
    assertNotNull(health.onFailure(evicted.state, Outcome.RATE_LIMITED, -1, 0, false, true));
    ref = P2cPicker.reference(tier, 0);
    assertEquals((100 + 3 * 300) / 4.0, ref.forSlot(2) / MS, 1e-6);
    assertEquals((100 + 3 * 300) / 4.0, ref.forSlot(3) / MS, 1e-6); // the evicted one is not counted
    assertEquals(-1, P2cPicker.reference(new Slot[] {unsampled, weightless}, 0).forSlot(0));
    assertEquals(-1, P2cPicker.reference(new Slot[] {a, unsampled}, 0).forSlot(0)); // nobody else
  }

  @Test
  void theCachedEstimatesAreReadAgainAfterTauOver64() {
    Slot a = slot("a", 1, 1);
    Slot b = slot("b", 1, 1);
    Slot c = slot("c", 1, 1);
    a.state.sample(0, 100 * MS, MODEL);
    b.state.sample(0, 300 * MS, MODEL);
    P2cPicker p = new P2cPicker(new Slot[] {a, b, c}, new ScriptedRandom(1), MODEL);
    assertEquals(200, p.reference(2, 0) / MS, 1e-6);
    b.state.sample(1, 700 * MS, MODEL); // a peak: b's raw estimate is 700 ms now
    long refresh = TAU / 64;
    assertEquals(200, p.reference(2, refresh - 1) / MS, 1e-6); // still the cached value
    assertEquals(400, p.reference(2, refresh) / MS, 1e-6);
  }

  @Test
  void aStalePeakDoesNotHoldUpItsOwnReference() {
    // Two providers, light traffic: b was slow once (1 s) and got nothing since. Decaying toward a
    // mean that includes its own stale peak (550 ms) it would never be tried again while a holds
    // fewer than 5 requests; toward the others' mean (a's 100 ms) it is, as with decay toward zero.
    Slot a = slot("a", 1, 1);
    Slot b = slot("b", 1, 1);
    b.state.sample(0, 1_000 * MS, MODEL);
    long now = 20 * TAU;
    a.state.sample(now, 100 * MS, MODEL);
    a.state.dispatch(now);
    P2cPicker p = new P2cPicker(new Slot[] {a, b}, new ScriptedRandom(1), MODEL);
    assertEquals(100 + 900 / 21.0, p.cost(1, now) / MS, 1e-6);
    assertEquals(200, p.cost(0, now) / MS, 1e-6);
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(List.of(a, b)), new ScriptedRandom(1, 0, 0), MODEL);
    assertEquals("b", router.pick(now, null).name());
  }

  @Test
  void aRarelySampledSmallProviderNoLongerLooksFastest() {
    // The herding mechanism QUALITY.md measured: each pool samples a weight-1 provider rarely, so
    // its estimate was always the most decayed one and it won the comparison against a weight-4
    // provider that is exactly as fast.
    Slot big = slot("big", 4, 1);
    Slot small = slot("small", 1, 1);
    small.state.sample(0, 100 * MS, MODEL);
    long now = 3 * TAU;
    big.state.sample(now, 100 * MS, MODEL);
    P2cPicker p = new P2cPicker(new Slot[] {big, small}, new ScriptedRandom(1), MODEL);
    assertEquals(25, small.state.cost(now, MODEL) / MS, 1e-6); // toward zero: 100 x tau / 4 tau
    assertEquals(100, p.cost(1, now) / MS, 1e-6); // toward the reference: as fast as big
    assertEquals(100, p.cost(0, now) / MS, 1e-6);
    // So the tie-break decides (the scripted 1), where the decay toward zero always picked small.
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(List.of(big, small)),
        new ScriptedRandom(1, 0, 0, 0), MODEL);
    assertEquals("big", router.pick(now, null).name());
  }

  // ------------------------------------------------------------------ R2: cold start

  @Test
  void anUnsampledProviderIsAtLeastAsSlowAsItsOldestAttemptInFlight() {
    ProviderState s = new ProviderState("new", 0);
    double decayedDefault = 1_000 * (10.0 / 12); // default 1 s decayed from creation, 2 s later
    assertEquals(decayedDefault, s.latencyEstimate(2_000 * MS, MODEL, -1) / MS, 1e-6);
    s.dispatch(0);
    s.dispatch(1_500 * MS);
    assertEquals(2_000, s.latencyEstimate(2_000 * MS, MODEL, -1) / MS, 1e-6); // the first attempt's age
    assertEquals(2_000 * 3, s.cost(2_000 * MS, MODEL) / MS, 1e-6); // x (2 in flight + 1)
    s.release();
    s.release();
    assertEquals(decayedDefault, s.latencyEstimate(2_000 * MS, MODEL, -1) / MS, 1e-6); // nothing in flight
    s.dispatch(2_000 * MS); // the clock starts again
    assertEquals(1_000 * (10.0 / 12.5), s.latencyEstimate(2_500 * MS, MODEL, -1) / MS, 1e-6); // 500 ms < default
    assertEquals(1_000, s.latencyEstimate(3_000 * MS, MODEL, -1) / MS, 1e-6);
    s.sample(3_000 * MS, 400 * MS, MODEL); // the first answer: the floor no longer applies
    assertEquals(400, s.latencyEstimate(3_000 * MS, MODEL, -1) / MS, 1e-6);
    assertEquals(400 * 2, s.cost(3_000 * MS, MODEL) / MS, 1e-6);
  }

  @Test
  void aSlowNewcomerPricesItselfOutBeforeItsFirstAnswer() {
    Slot busy = slot("busy", 1, 1);
    Slot newcomer = new Slot(busy.endpoint, new ProviderState("newcomer", 0), 0, 1);
    busy.state.sample(0, 100 * MS, MODEL);
    for (int i = 0; i < 20; i++) {
      busy.state.dispatch(0);
    }
    newcomer.state.dispatch(0); // its first request, still without an answer 3 s later
    long now = 3_000 * MS;
    busy.state.sample(now, 100 * MS, MODEL);
    P2cPicker p = new P2cPicker(new Slot[] {busy, newcomer}, new ScriptedRandom(1), MODEL);
    assertEquals(100 * 21, p.cost(0, now) / MS, 1e-6);
    // Without the floor: default 1 s decayed toward the 100 ms reference = 792 ms, x 2 = 1,585 ms:
    // cheaper than busy. With it: 3 s x 2.
    assertEquals(3_000, newcomer.state.latencyEstimate(now, MODEL, 100.0 * MS) / MS, 1e-6);
    assertEquals(3_000 * 2, p.cost(1, now) / MS, 1e-6);
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(List.of(busy, newcomer)),
        new ScriptedRandom(1, 1, 0), MODEL);
    assertEquals("busy", router.pick(now, null).name());
  }

  // ------------------------------------------------------------------ R3: concurrency

  @Test
  void inFlightCountsPerUnitOfConcurrency() {
    ProviderState s = new ProviderState("s");
    s.sample(0, 100 * MS, MODEL);
    s.dispatch(0);
    s.dispatch(0);
    assertEquals(300, s.cost(0, MODEL, -1, 1) / MS, 1e-6); // x (1 + 2)
    assertEquals(150, s.cost(0, MODEL, -1, 4) / MS, 1e-6); // x (1 + 2/4)
    assertEquals(100 * (1 + 2 / 32.0), s.cost(0, MODEL, -1, 32) / MS, 1e-6);
  }

  @Test
  void capacityIsConcurrencyTimesWeightOverTheTierMeanWeight() {
    Slot a = slot("a", 1, 1);
    Slot b = slot("b", 3, 8);
    Slot off = slot("off", 0, 4);
    P2cPicker p = new P2cPicker(new Slot[] {a, b, off}, new ScriptedRandom(1), MODEL);
    assertEquals(0.5, p.capacity(0), 1e-12); // mean weight of the weighted slots: 2
    assertEquals(8 * 1.5, p.capacity(1), 1e-12);
    assertEquals(1, p.capacity(2), 1e-12); // weight 0 takes no traffic; its capacity is never used
    P2cPicker equal = new P2cPicker(new Slot[] {slot("x", 5, 1), slot("y", 5, 1)}, new ScriptedRandom(1), MODEL);
    assertEquals(1, equal.capacity(0), 0); // equal weights, concurrency 1: the classic in-flight + 1
  }

  @Test
  void inFlightCountsRelativeToWeightSoTheFavouredProviderKeepsItsShare() {
    // Weights 3:1 mean "send three times as much": at that split, the weight-3 provider holds three
    // times the requests. Counted per unit of weight, 2 in flight there (of 3 expected) cost less
    // than 1 in flight on the weight-1 provider; counted raw, the comparison pulled traffic away
    // from the provider the weights favour (in the simulation: the big providers idled while the
    // small ones hit their rate limits).
    Slot big = slot("big", 3, 1);
    Slot small = slot("small", 1, 1);
    big.state.sample(0, 100 * MS, MODEL);
    small.state.sample(0, 100 * MS, MODEL);
    big.state.dispatch(0);
    big.state.dispatch(0);
    small.state.dispatch(0);
    P2cPicker p = new P2cPicker(new Slot[] {big, small}, new ScriptedRandom(1), MODEL);
    assertEquals(100 * (1 + 2 / 1.5), p.cost(0, 0) / MS, 1e-6);
    assertEquals(100 * (1 + 1 / 0.5), p.cost(1, 0) / MS, 1e-6);
    assertEquals(300, big.state.cost(0, MODEL) / MS, 1e-6); // raw: 100 x (2 + 1) > small's 200
    Router router = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(List.of(big, small)),
        new ScriptedRandom(1, 3, 0), MODEL);
    assertEquals("big", router.pick(0, null).name());
  }

  @Test
  void aHostedApiWithRequestsInFlightStillBeatsASlowIdleProvider() {
    Slot hosted = slot("hosted", 1, 8);
    Slot queueing = slot("queueing", 1, 1);
    Slot slowIdle = slot("slow", 1, 1);
    for (Slot s : new Slot[] {hosted, queueing}) {
      s.state.sample(0, 100 * MS, MODEL);
      for (int i = 0; i < 4; i++) {
        s.state.dispatch(0);
      }
    }
    slowIdle.state.sample(0, 200 * MS, MODEL);
    // hosted: 100 x (1 + 4/8) = 150 < 200; queueing: 100 x 5 = 500 > 200
    Router withHosted = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(List.of(hosted, slowIdle)),
        new ScriptedRandom(1, 0, 0), MODEL);
    assertEquals("hosted", withHosted.pick(0, null).name());
    Router withQueueing = new Router(Strategy.POWER_OF_TWO_CHOICES, List.of(List.of(queueing, slowIdle)),
        new ScriptedRandom(1, 0, 0), MODEL);
    assertEquals("slow", withQueueing.pick(0, null).name());
  }
}
