package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.internal.health.BudgetState;
import io.github.llmpool.spi.SharedBudgets;
import io.github.llmpool.spi.SharedState;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A request short of a shared budget only until its instance's next lease (#19 with #18: the
 * fleet's budget has room) waits for that lease on the pool's ticker instead of being refused:
 * briefly (the lease lands within the wait: served, the ticker parked until then), bounded (a
 * store that never answers: refused "for now" after 60 ms of ticker time, and a request that
 * comes later waits no longer, since the bound runs from the oldest unanswered lease request),
 * not at all when no lease can help (the window leased out) or the store is down (the fallback).
 * An in-memory store whose lease rounds run when the test's ticker says so.
 */
class SharedBudgetLeaseWaitTest {
  /** The chat body's estimate: 17 prompt tokens + the reservation cap of 10. */
  private static final long ESTIMATE = 27;
  private static final Budget BUDGET = Budget.builder("t").tokens(1000).window(Budget.Window.HOUR).reservationCap(10)
      .build();

  /** A fake ticker whose parks move it, and that runs the store's lease round once parks reach {@code answerAfter}. */
  private static final class StoreTicker {
    final FakeTicker fake = new FakeTicker();
    final AtomicBoolean answered = new AtomicBoolean();

    StoreTicker(SharedBudgetStateTest.MemoryStore store, Duration answerAfter) {
      long answerAfterNanos = answerAfter == null ? -1 : answerAfter.toNanos(); // < 0: the store never answers
      fake.onPark(() -> {
        if (answerAfterNanos >= 0 && fake.parkedNanos() >= answerAfterNanos && answered.compareAndSet(false, true)) {
          store.round(); // the lease lands while the request waits
        }
      });
    }
  }

  private static SharedState state(SharedBudgets store) {
    return new SharedState() {
      @Override
      public Publisher join(String pool, Receiver receiver) {
        return e -> {};
      }

      @Override
      public SharedBudgets budgets() {
        return store;
      }
    };
  }

  private static ProviderPool pool(Upstreams up, mockwebserver3.MockWebServer s, SharedBudgets store, Ticker t) {
    return ProviderPool.builder().name("chat").sharedState(state(store)).ticker(t)
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).build()).budget(BUDGET).build();
  }

  private static SharedBudgets.Holder holder(SharedBudgetStateTest.MemoryStore store) {
    return (SharedBudgets.Holder) store.lines.get(0)[1];
  }

  @Test
  void aRequestShortOnlyUntilALeaseOnItsWayWaitsForItAndIsServed() throws Exception {
    SharedBudgetStateTest.MemoryStore store = new SharedBudgetStateTest.MemoryStore(10); // credit 10 < 27
    StoreTicker t = new StoreTicker(store, Duration.ofMillis(30));
    try (Upstreams up = new Upstreams()) {
      mockwebserver3.MockWebServer s = up.startChat();
      ProviderPool p = pool(up, s, store, t.fake);
      okhttp3.OkHttpClient c = up.client(p);
      assertEquals("200", Upstreams.call(c, Upstreams.chat(p))[0], "served once the lease landed, not refused");
      assertEquals(1, up.count(s));
      assertTrue(t.answered.get());
      assertEquals(Duration.ofMillis(30).toNanos(), t.fake.parkedNanos(), "it waited until the lease landed, no longer");
      assertTrue(store.used.values().iterator().next()[0] >= ESTIMATE, "the lease was sized to hold the waiting request");
    }
  }

  @Test
  void aStoreThatNeverAnswersCountsAsDownAfter60msTheRequestIsServedFromTheFallbackAndLaterOnesDoNotWait()
      throws Exception {
    SharedBudgetStateTest.MemoryStore store = new SharedBudgetStateTest.MemoryStore(10);
    StoreTicker t = new StoreTicker(store, null);
    try (Upstreams up = new Upstreams()) {
      mockwebserver3.MockWebServer s = up.startChat();
      ProviderPool p = pool(up, s, store, t.fake);
      okhttp3.OkHttpClient c = up.client(p);
      assertEquals("200", Upstreams.call(c, Upstreams.chat(p))[0],
          "the first lease unanswered for 60 ms: the store counts as down for the line (no fleet known: the limit)");
      assertEquals(Duration.ofMillis(60).toNanos(), t.fake.parkedNanos(), "the bound: 60 ms of the pool's ticker");
      io.github.llmpool.internal.health.BudgetState b =
          (io.github.llmpool.internal.health.BudgetState) holder(store);
      assertTrue(b.stalled());
      assertTrue(b.storeIsDown());
      // Still stalled: the next requests are served at once, no wait.
      for (int i = 0; i < 3; i++) {
        assertEquals("200", Upstreams.call(c, Upstreams.chat(p))[0]);
      }
      assertEquals(Duration.ofMillis(60).toNanos(), t.fake.parkedNanos(), "no second wait");
      assertEquals(4, up.count(s));
      // The store answers at last: back on leases; what the stall spent is a debt the lease pays.
      store.round();
      assertFalse(b.stalled());
      assertFalse(b.storeIsDown());
      assertTrue(b.held() >= 0, "the grant covered the debt: held " + b.held());
      assertTrue(store.used.values().iterator().next()[0] >= 4 * ESTIMATE, "the lease paid what the stall reserved");
      assertEquals("200", Upstreams.call(c, Upstreams.chat(p))[0]);
      assertEquals(5, up.count(s));
    }
  }

  @Test
  void aStallAfterAGrantFallsBackToWhatTheWindowHadLeftOverTheFleet() {
    SharedBudgetStateTest.MemoryStore store = new SharedBudgetStateTest.MemoryStore(10);
    StoreTicker t = new StoreTicker(store, null);
    io.github.llmpool.internal.health.BudgetState s = new io.github.llmpool.internal.health.BudgetState(BUDGET,
        t.fake.wallMillis());
    s.share(store, "chat", null, t.fake);
    store.round(); // 10 held, the window had 990 left, one instance
    assertTrue(s.reserve(10)); // below low water: a lease is asked for; the store never answers
    assertEquals(io.github.llmpool.internal.health.BudgetState.LEASE, s.shortfall(25), "waiting for the lease");
    t.fake.advance(Duration.ofMillis(59));
    assertEquals(io.github.llmpool.internal.health.BudgetState.LEASE, s.shortfall(25), "59 ms: still waiting");
    assertFalse(s.stalled());
    t.fake.advance(Duration.ofMillis(1));
    assertEquals(io.github.llmpool.internal.health.BudgetState.FITS, s.shortfall(25), "60 ms: the fallback");
    assertTrue(s.stalled());
    assertTrue(s.admits(25), "the pick path sees the fallback too (one volatile read)");
    assertTrue(s.reserve(25));
    s.settle(25, 25, false);
    s.settle(10, 10, false);
    assertEquals(10 - 35, s.held(), "a debt of what the stall spent");
  }

  @Test
  void aLeaseRequestTheStoreFoundNothingToAskForDoesNotCutALaterWaitShort() {
    SharedBudgetStateTest.MemoryStore store = new SharedBudgetStateTest.MemoryStore(10);
    StoreTicker t = new StoreTicker(store, Duration.ofMillis(10));
    io.github.llmpool.internal.health.BudgetState s = new io.github.llmpool.internal.health.BudgetState(BUDGET,
        t.fake.wallMillis());
    s.share(store, "chat", null, t.fake);
    store.round(); // 10 held
    assertTrue(s.reserve(10)); // below low water: a lease is asked for...
    s.settle(10, 0, false); // ...but the attempt cost nothing: 10 held again
    assertEquals(0, s.want(), "the store asks what it wants: nothing, so it sends nothing and no answer comes");
    t.fake.advance(Duration.ofSeconds(1));
    io.github.llmpool.internal.health.BudgetState.LeaseWait w =
        new io.github.llmpool.internal.health.BudgetState.LeaseWait(t.fake.read());
    assertTrue(s.awaitLease(25, w), "the request waited for its own lease, not cut short by the old one");
    assertEquals(Duration.ofMillis(10).toNanos(), t.fake.parkedNanos());
    assertTrue(s.reserve(25));
  }

  /**
   * The window is leased out but another instance holds units spare (#19: idle units move): the
   * request waits for them as for a lease on its way, says what it lacks while it waits (the store
   * records that demand so the other instance gives units back), and is served when they arrive.
   */
  @Test
  void aRequestShortWhileAnotherInstanceHoldsSpareUnitsWaitsForThemAndIsServed() throws Exception {
    SharedBudgetStateTest.MemoryStore store = new SharedBudgetStateTest.MemoryStore(10);
    long[] lackingSeen = {-1};
    SharedBudgets.Holder[] h = new SharedBudgets.Holder[1];
    FakeTicker fake = new FakeTicker().onPark(() -> {
      if (lackingSeen[0] < 0) {
        lackingSeen[0] = h[0].lacking(); // what the store would record as this instance's demand
        h[0].granted(SharedBudgets.Grant.of(h[0].windowStartMillis(), lackingSeen[0], 0, 0, 2, 0, 30));
      }
    });
    try (Upstreams up = new Upstreams()) {
      mockwebserver3.MockWebServer s = up.startChat();
      ProviderPool p = pool(up, s, store, fake);
      okhttp3.OkHttpClient c = up.client(p);
      h[0] = holder(store);
      // 20 units held, nothing left in the window, the other instance holds 37 spare.
      h[0].granted(SharedBudgets.Grant.of(h[0].windowStartMillis(), 20, 0, 0, 2, 0, 37));
      assertEquals(20, h[0].spare(), "nothing waits here: all 20 are spare");
      assertEquals("200", Upstreams.call(c, Upstreams.chat(p))[0], "served from the units that came back");
      assertEquals(ESTIMATE - 20, lackingSeen[0], "while it waited it lacked 27 - 20 units");
      assertEquals(BudgetState.LEASE_WAIT_SLICE_NANOS, fake.parkedNanos(), "it waited one park, until they arrived");
      assertEquals(0, h[0].lacking(), "nothing waits any more");
      assertEquals(1, up.count(s));
    }
  }

  @Test
  void noWaitWhenTheFleetsWindowIsLeasedOutNorWhileTheStoreIsDown() throws Exception {
    SharedBudgetStateTest.MemoryStore store = new SharedBudgetStateTest.MemoryStore(10);
    StoreTicker t = new StoreTicker(store, Duration.ZERO);
    try (Upstreams up = new Upstreams()) {
      mockwebserver3.MockWebServer s = up.startChat();
      ProviderPool p = pool(up, s, store, t.fake);
      okhttp3.OkHttpClient c = up.client(p);
      SharedBudgets.Holder h = holder(store);
      // The store's answer: 20 units, nothing left in the window (the others hold the rest).
      h.granted(SharedBudgets.Grant.of(h.windowStartMillis(), 20, 0, 0, 4));
      NoProviderAvailableException e = assertThrows(NoProviderAvailableException.class,
          () -> Upstreams.call(c, Upstreams.chat(p)));
      assertFalse(e instanceof BudgetExhaustedException, e.getMessage());
      assertTrue(e.getMessage().contains("leased out for now"), e.getMessage());
      assertEquals(0, t.fake.parkedNanos(), "no lease can bring it: refused at once");
      assertEquals(0, up.count(s));

      h.storeDown(); // the fallback: 0 left / 4 instances, plus what it holds: still short, and no wait
      assertThrows(NoProviderAvailableException.class, () -> Upstreams.call(c, Upstreams.chat(p)));
      assertEquals(0, t.fake.parkedNanos());
    }
    SharedBudgetStateTest.MemoryStore never = new SharedBudgetStateTest.MemoryStore(10);
    StoreTicker t2 = new StoreTicker(never, null);
    try (Upstreams up = new Upstreams()) {
      mockwebserver3.MockWebServer s = up.startChat();
      ProviderPool p = pool(up, s, never, t2.fake);
      okhttp3.OkHttpClient c = up.client(p);
      holder(never).storeDown(); // never reached the store: the whole limit, served without a wait
      assertEquals("200", Upstreams.call(c, Upstreams.chat(p))[0]);
      assertEquals(0, t2.fake.parkedNanos());
    }
  }
}
