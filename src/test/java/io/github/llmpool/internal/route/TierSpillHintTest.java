package io.github.llmpool.internal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.FakeTicker;
import io.github.llmpool.Outcome;
import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.Health;
import io.github.llmpool.internal.health.ProviderState;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The "tier is out" hint that makes a spill past a fully evicted tier O(1) ({@link
 * TierPicker#knownOut}): exact, with a {@link FakeTicker}, for every way a provider comes back (its
 * deadline, an early restore, a released probe), and free of allocation once made.
 */
class TierSpillHintTest {
  private static final long S = 1_000_000_000L;
  private final FakeTicker ticker = new FakeTicker();
  private final Health health =
      new Health(EvictionPolicy.builder().jitter(0).build(), WeightedPickerTest.MODEL, RandomSource.threadLocal());

  private Router router(Strategy strategy, List<Slot> t0, List<Slot> t1) {
    return new Router(strategy, List.of(t0, t1), ScriptedRandom.seeded(7), WeightedPickerTest.MODEL);
  }

  private void evict(Slot s, long forNanos) {
    long now = ticker.read();
    health.onFailure(s.state, Outcome.SERVER_ERROR, forNanos, now, false, true); // a 503 with a delay: probed after
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void spillsAtOnceAndComesBackAtTheEarliestDeadline(Strategy strategy) {
    List<Slot> t0 = Slots.tier(0, 1, 2, 3);
    List<Slot> t1 = Slots.tier(1, 1);
    Router r = router(strategy, t0, t1);
    evict(t0.get(0), 30 * S);
    evict(t0.get(1), 10 * S);
    evict(t0.get(2), 20 * S);
    TierPicker tier0 = tierOf(r, 0);
    assertFalse(tier0.knownOut(ticker.read()));
    assertEquals(1, r.pick(ticker.read(), null).tier); // the first spill learns that tier 0 is out...
    assertTrue(tier0.knownOut(ticker.read())); // ...and every later pick skips it in O(1)
    for (int i = 0; i < 100; i++) {
      assertEquals(1, r.pick(ticker.read(), null).tier);
    }
    ticker.advanceNanos(10 * S - 1);
    assertEquals(1, r.pick(ticker.read(), null).tier);
    assertTrue(tier0.knownOut(ticker.read()));
    ticker.advanceNanos(1); // b's deadline: it may take its probe, tier 0 serves again
    assertFalse(tier0.knownOut(ticker.read()));
    assertEquals("b", r.pick(ticker.read(), null).name());
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void anEarlyRestoreEndsTheHint(Strategy strategy) {
    List<Slot> t0 = Slots.tier(0, 1, 1);
    List<Slot> t1 = Slots.tier(1, 1);
    Router r = router(strategy, t0, t1);
    evict(t0.get(0), 60 * S);
    evict(t0.get(1), 60 * S);
    assertEquals(1, r.pick(ticker.read(), null).tier);
    assertTrue(tierOf(r, 0).knownOut(ticker.read()));
    ticker.advance(Duration.ofSeconds(1));
    // a fail-open attempt on a succeeded: restored long before its deadline
    assertTrue(health.onHealthy(t0.get(0).state, ticker.read()));
    assertFalse(tierOf(r, 0).knownOut(ticker.read()));
    assertEquals("a", r.pick(ticker.read(), null).name());
    assertEquals(0, r.pick(ticker.read(), null).tier);
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void aReleasedProbeEndsTheHint(Strategy strategy) {
    List<Slot> t0 = Slots.tier(0, 1);
    List<Slot> t1 = Slots.tier(1, 1);
    Router r = router(strategy, t0, t1);
    ProviderState a = t0.get(0).state;
    evict(t0.get(0), 5 * S);
    ticker.advance(Duration.ofSeconds(5));
    assertEquals(ProviderState.PROBE, a.claim(ticker.read())); // past the deadline, its probe in flight
    assertEquals(1, r.pick(ticker.read(), null).tier);
    assertTrue(tierOf(r, 0).knownOut(ticker.read() + 1_000 * S)); // out for as long as the probe runs
    health.onNeutral(a, true); // the probe ends without a verdict (cancelled): a may be probed again
    assertFalse(tierOf(r, 0).knownOut(ticker.read()));
    assertEquals("a", r.pick(ticker.read(), null).name());
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void exclusionsMakeNoHintAndAWeightlessTierIsOutForGood(Strategy strategy) {
    List<Slot> t0 = Slots.tier(0, 1, 1);
    List<Slot> t1 = Slots.tier(1, 1);
    Router r = router(strategy, t0, t1);
    Slot a = t0.get(0);
    Slot b = t0.get(1);
    assertEquals(1, r.pick(ticker.read(), s -> s == a || s == b).tier); // tier 0 excluded, not out
    assertFalse(tierOf(r, 0).knownOut(ticker.read()));
    assertEquals(0, r.pick(ticker.read(), null).tier);

    Router weightless = router(strategy, Slots.tier(0, 0, 0), Slots.tier(1, 1));
    assertEquals(1, weightless.pick(ticker.read(), null).tier);
    assertTrue(tierOf(weightless, 0).knownOut(ticker.read() + 1_000_000 * S));
    assertNull(router(strategy, Slots.tier(0, 0), Slots.tier(1, 0)).pick(ticker.read(), null));
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void theSpillPickAllocatesNothing(Strategy strategy) {
    List<Slot> t0 = Slots.tier(0, 1, 2, 3, 4, 5, 6, 7, 8);
    List<Slot> t1 = Slots.tier(1, 1, 2, 3, 4);
    Router r = new Router(strategy, List.of(t0, t1), RandomSource.threadLocal(), WeightedPickerTest.MODEL);
    for (Slot s : t0) {
      evict(s, 3600 * S);
    }
    long now = ticker.read();
    assertEquals(0, Allocation.measure(() -> r.pick(now, null)));
    assertTrue(tierOf(r, 0).knownOut(now));
  }

  /** The router's picker of {@code tier}, by reflection (the router keeps them private). */
  private static TierPicker tierOf(Router r, int tier) {
    try {
      java.lang.reflect.Field f = Router.class.getDeclaredField("tiers");
      f.setAccessible(true);
      return ((TierPicker[]) f.get(r))[tier];
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }
}
