package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.internal.health.BudgetState;
import io.github.llmpool.spi.SharedBudget;
import io.github.llmpool.spi.SharedBudgets;
import io.github.llmpool.spi.SharedState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A budget shared through {@link SharedBudgets} (#19: budgets across instances), on an in-memory
 * store whose lease rounds the test runs by hand: what an instance may reserve (leases, the credit
 * before a window's first grant, the debt it leaves), settlement's corrections, when the fleet's
 * budget is spent and when units that came back restore it, a new window, the fallback while the
 * store is down, and that the snapshot says the budget is shared.
 */
class SharedBudgetStateTest {
  private static final long WALL = Instant.parse("2026-06-01T12:00:10Z").toEpochMilli();
  private static final long NEXT_MINUTE = Instant.parse("2026-06-01T12:01:00Z").toEpochMilli();
  private static final Budget TOKENS = Budget.builder("t").tokens(1000).window(Budget.Window.MINUTE).build();

  /** A fleet window per budget and window start, granting what it has; rounds are run by the test. */
  static class MemoryStore implements SharedBudgets {
    final long lease;
    final Map<String, long[]> used = new HashMap<>(); // key -> [granted net]
    final List<Object[]> lines = new ArrayList<>(); // [SharedBudget, Holder]
    final AtomicInteger wakes = new AtomicInteger();

    MemoryStore(long lease) {
      this.lease = lease;
    }

    @Override
    public Line open(SharedBudget budget, Holder holder) {
      lines.add(new Object[] {budget, holder});
      return new Line() {
        @Override
        public long leaseSize() {
          return lease;
        }

        @Override
        public long lowWater() {
          return (lease + 1) / 2;
        }

        @Override
        public void wake() {
          wakes.incrementAndGet();
        }

        @Override
        public void close() {}
      };
    }

    /** One lease round for every holder: what it wants, granted from what its window has left. */
    void round() {
      for (Object[] l : lines) {
        SharedBudget b = (SharedBudget) l[0];
        Holder h = (Holder) l[1];
        long start = h.windowStartMillis();
        long[] u = used.computeIfAbsent(b.name() + ":" + start, k -> new long[1]);
        long want = h.want();
        long grant = Math.min(want, b.limitUnits() - u[0]);
        u[0] += grant;
        long settled = 0;
        for (Object[] o : lines) {
          if (((Holder) o[1]).windowStartMillis() == start) {
            settled += ((Holder) o[1]).settled();
          }
        }
        h.granted(Grant.of(start, grant, b.limitUnits() - u[0], settled, lines.size()));
      }
    }

    /** A lease expired on every holder: everything held goes back. */
    void reclaimAll() {
      for (Object[] l : lines) {
        SharedBudget b = (SharedBudget) l[0];
        Holder h = (Holder) l[1];
        long start = h.windowStartMillis();
        used.get(b.name() + ":" + start)[0] -= h.reclaim(start, 0);
      }
    }
  }

  private static final class Events implements BudgetState.Listener {
    int spent;
    int restored;

    @Override
    public void spent(BudgetState s) {
      spent++;
    }

    @Override
    public void restored(BudgetState s) {
      restored++;
    }
  }

  private static BudgetState shared(MemoryStore store, Events events) {
    BudgetState s = new BudgetState(TOKENS, WALL);
    s.share(store, "chat", events);
    return s;
  }

  @Test
  void beforeTheFirstGrantAnInstanceMayReserveOneLeaseAndTheGrantPaysThatDebt() {
    MemoryStore store = new MemoryStore(100);
    BudgetState a = shared(store, new Events());
    assertTrue(a.shared());
    assertEquals(1, store.wakes.get(), "the first lease is asked for at once");
    assertTrue(a.reserve(60));
    assertTrue(a.reserve(40));
    assertFalse(a.reserve(1), "the credit is one lease");
    assertEquals(-100, a.held());
    assertEquals(300, a.want(), "the debt, then a lease sized to demand: twice the 100 in flight");
    store.round();
    assertEquals(200, a.held());
    assertTrue(a.admits(200));
    assertFalse(a.admits(201));
  }

  @Test
  void twoInstancesShareOneLimitAndTheFleetKnowsWhenItIsSpent() {
    MemoryStore store = new MemoryStore(100);
    Events ea = new Events();
    Events eb = new Events();
    BudgetState a = shared(store, ea);
    BudgetState b = shared(store, eb);
    store.round();
    long admitted = 0;
    for (int i = 0; i < 100; i++) { // 10-token requests, a lease round whenever one is asked for
      for (BudgetState s : List.of(a, b)) {
        if (s.reserve(10)) {
          if (s.settle(10, 10, false)) {
            (s == a ? ea : eb).spent++; // the engine's event for a settlement that spent it
          }
          admitted += 10;
        }
      }
      store.round();
    }
    assertEquals(1000, admitted, "the fleet spent the limit, exactly: not twice it");
    assertEquals(1000, a.settled() + b.settled());
    assertTrue(a.exhaustedNow() && b.exhaustedNow(), "both know the budget is spent");
    assertEquals(1, ea.spent);
    assertEquals(1, eb.spent);
    assertEquals(1000, a.view().fleetSpent());
    assertTrue(a.view().shared());
  }

  @Test
  void settlementBelowTheEstimateGivesUnitsBackAndUnitsReturnedToTheFleetRestoreASpentBudget() {
    MemoryStore store = new MemoryStore(500);
    Events ea = new Events();
    BudgetState a = shared(store, ea);
    BudgetState b = shared(store, new Events());
    store.round(); // a and b hold 500 each: the window is empty
    assertTrue(b.reserve(500));
    b.settle(500, 200, false);
    assertEquals(300, b.held(), "300 of the estimate came back to what b holds");
    for (int i = 0; i < 5; i++) {
      assertTrue(a.reserve(100));
      assertFalse(a.settle(100, 100, false), "the last grant said the window had more");
    }
    store.round();
    assertTrue(a.exhaustedNow(), "a holds nothing and the store says the window has nothing left");
    assertEquals(1, ea.spent);
    store.reclaimAll(); // b's lease expired: its 300 went back to the window
    store.round();
    assertFalse(a.exhaustedNow(), "a lease of what came back");
    assertEquals(1, ea.restored);
    assertEquals(300, a.held());
  }

  /**
   * #19, idle units move: what an instance can spare (held above its waiting requests' need) and
   * gives back when others are short (exactly what they lack; never what attempts reserved), and a
   * budget not called spent while the other instances hold spare units that would make a reservation
   * (once spent, only units in the window restore it).
   */
  @Test
  void spareUnitsGoBackWhenOthersAreShortAndTheBudgetIsNotSpentWhileOthersHoldSpare() {
    MemoryStore store = new MemoryStore(500);
    BudgetState a = shared(store, new Events());
    assertEquals(0, a.spare(), "before the window's first grant: nothing to spare");
    store.round(); // a holds 500
    assertTrue(a.reserve(30));
    assertEquals(470, a.spare());
    assertEquals(0, a.lacking(), "no request waits here");
    assertEquals(0, a.giveBack(a.windowStartMillis() + 1, 70), "another window: nothing");
    assertEquals(10, a.giveBack(a.windowStartMillis(), 10), "the 10 wanted, no more");
    assertEquals(460, a.held());
    assertEquals(460, a.giveBack(a.windowStartMillis(), 500), "at most what it can spare");
    assertEquals(0, a.held());
    assertEquals(0, a.giveBack(a.windowStartMillis(), 50));
    a.settle(30, 30, false);

    MemoryStore store2 = new MemoryStore(100);
    Events eb = new Events();
    BudgetState b = shared(store2, eb);
    store2.round(); // b holds 100
    long start = b.windowStartMillis();
    assertTrue(b.reserve(90));
    b.settle(90, 90, false);
    b.granted(SharedBudgets.Grant.of(start, 0, 0, 90, 2, 0, 80));
    assertFalse(b.exhaustedNow(), "10 held, nothing in the window, but 80 spare elsewhere make a 90-unit reservation");
    assertEquals(BudgetState.LEASE, b.shortfall(90), "short only until those units arrive: it waits for them");
    b.granted(SharedBudgets.Grant.of(start, 0, 0, 90, 2, 0, 79));
    assertTrue(b.exhaustedNow(), "79 spare elsewhere and 10 held: no 90-unit reservation");
    assertEquals(1, eb.spent);
    assertEquals(BudgetState.OUT, b.shortfall(90));
    b.granted(SharedBudgets.Grant.of(start, 0, 0, 90, 2, 0, 80));
    assertTrue(b.exhaustedNow(), "spare units elsewhere do not restore it (units moving between others would flip it)");
    b.granted(SharedBudgets.Grant.of(start, 0, 80, 90, 2, 0, 0));
    assertFalse(b.exhaustedNow(), "units in the window do");
    assertEquals(1, eb.restored);
  }

  @Test
  void aNewWindowStartsFromNothingWithWhatIsInFlightItsDebt() {
    MemoryStore store = new MemoryStore(100);
    BudgetState a = shared(store, new Events());
    store.round();
    assertTrue(a.reserve(30)); // in flight across the reset
    assertTrue(a.roll(NEXT_MINUTE) || true);
    assertEquals(NEXT_MINUTE, a.windowStartMillis());
    assertEquals(-30, a.held(), "the attempt in flight is this window's debt");
    assertTrue(a.reserve(70), "the credit of a new window: one lease");
    assertFalse(a.reserve(1));
    store.round();
    assertEquals(200, a.held(), "the debt paid, and twice the 100 in flight");
    a.settle(30, 10, false);
    assertEquals(220, a.held());
    assertEquals(10, a.settled(), "its cost counts in the window where it ended");
  }

  @Test
  void aGrantOfAnotherWindowIsIgnored() {
    MemoryStore store = new MemoryStore(100);
    BudgetState a = shared(store, new Events());
    a.granted(SharedBudgets.Grant.of(NEXT_MINUTE, 100, 0, 0, 1));
    assertEquals(0, a.held());
    assertEquals(0, a.reclaim(NEXT_MINUTE, 0));
  }

  @Test
  void storeDownFallsBackToWhatTheWindowHadLeftOverTheFleetSizeOrTheWholeLimitWhenNeverGranted() {
    MemoryStore store = new MemoryStore(100);
    BudgetState a = shared(store, new Events());
    BudgetState b = shared(store, new Events());
    store.round(); // 100 each, 800 left, fleet 2
    a.storeDown();
    assertTrue(a.storeIsDown());
    // a's last grant (before b's) said the window had 900 left: what it holds plus 900 / 2
    assertTrue(a.reserve(100 + 450));
    assertFalse(a.reserve(1));
    a.storeUp();
    assertEquals(-450, a.held(), "what it spent of the fallback is a debt the next lease pays");
    assertEquals(1000, a.want(), "the debt (450), then twice the 550 in flight capped at its share of what was left"
        + " (900 / 2, rounded up to a whole request of 550): 1000, the limit");

    BudgetState never = shared(new MemoryStore(100), new Events());
    never.storeDown();
    assertTrue(never.reserve(1000), "no fleet size ever seen: the whole limit, as a local-only pool");
    assertFalse(never.reserve(1));
  }

  @Test
  void aStoreDownWhenTheBudgetIsOpenedSaysSoFromWithinOpenAndThePoolCountsTheWholeLimit() {
    MemoryStore store = new MemoryStore(100) {
      @Override
      public Line open(SharedBudget budget, Holder holder) {
        holder.storeDown(); // as llmpool-redis does when Redis is already known to be down
        return super.open(budget, holder);
      }
    };
    BudgetState a = shared(store, new Events());
    assertTrue(a.storeIsDown());
    assertTrue(a.reserve(1000), "never reached the store: the whole limit, as a local-only pool");
    assertFalse(a.reserve(1));
  }

  @Test
  void aLeaseFollowsDemandTwiceWhatIsInFlightOrReservedPerRoundCappedAtTheInstancesShareOfWhatIsLeft() {
    BudgetState a = shared(new MemoryStore(10), new Events());
    long start = a.windowStartMillis();
    a.granted(SharedBudgets.Grant.of(start, 100, 900, 0, 1)); // alone: its share is all 900 left
    for (int i = 0; i < 9; i++) {
      assertTrue(a.reserve(10));
    }
    assertEquals(10, a.held());
    assertEquals(170, a.want(), "up to twice the 90 in flight (the smallest lease is 10)");
    for (int i = 0; i < 9; i++) {
      a.settle(10, 10, false);
    }
    assertEquals(80, a.want(), "nothing in flight now: the 90 it reserved in that round, halved, twice: 90 held");

    BudgetState b = shared(new MemoryStore(10), new Events());
    b.granted(SharedBudgets.Grant.of(start, 100, 200, 0, 4)); // 4 instances, 200 left: its share is 50
    for (int i = 0; i < 9; i++) {
      assertTrue(b.reserve(10));
    }
    assertEquals(40, b.want(), "capped at its share of what the window had left (200 / 4 = 50), held 10");
  }

  @Test
  void aRequestLargerThanALeaseMakesTheNextLeaseHoldIt() {
    MemoryStore store = new MemoryStore(10);
    BudgetState a = shared(store, new Events());
    store.round();
    assertFalse(a.reserve(300), "more than it holds");
    assertEquals(290, a.want(), "enough to hold it");
    store.round();
    assertTrue(a.reserve(300));
  }

  @Test
  void aRequestWaitingOnlyForItsInstancesNextLeaseIsRefusedForNowNotAsASpentBudget() throws Exception {
    MemoryStore store = new MemoryStore(10); // rounds by hand: the lease stays "on its way" until round()
    SharedState state = new SharedState() {
      @Override
      public Publisher join(String pool, Receiver receiver) {
        return e -> {};
      }

      @Override
      public SharedBudgets budgets() {
        return store;
      }
    };
    try (Upstreams up = new Upstreams()) {
      mockwebserver3.MockWebServer s = up.startChat();
      Budget small = Budget.builder("t").tokens(1000).window(Budget.Window.MINUTE).reservationCap(10).build();
      // A ticker whose time does not move while the request waits: the lease asked for is never 60 ms old,
      // so the store does not count as stalled (that case: SharedBudgetLeaseWaitTest).
      FakeTicker fake = new FakeTicker();
      Ticker still = new Ticker() {
        @Override
        public long read() {
          return fake.read();
        }

        @Override
        public long wallMillis() {
          return fake.wallMillis();
        }

        @Override
        public void park(long nanos) {}
      };
      ProviderPool p = ProviderPool.builder().name("chat").sharedState(state).ticker(still)
          .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(s)).build()).budget(small).build();
      okhttp3.OkHttpClient c = up.client(p);
      // The chat body's estimate is 17 prompt + 10 completion tokens; the credit before a first lease is 10.
      NoProviderAvailableException e = assertThrows(NoProviderAvailableException.class,
          () -> Upstreams.call(c, Upstreams.chat(p)));
      assertFalse(e instanceof BudgetExhaustedException, "not spent: " + e.getMessage());
      assertTrue(e.getMessage().contains("next lease is on its way"), e.getMessage());
      assertEquals(java.time.Duration.ofMillis(20), e.earliestReturn());
      assertEquals(27, ((SharedBudgets.Holder) store.lines.get(0)[1]).want(), "the next lease holds this request");
      store.round();
      assertEquals("200", Upstreams.call(c, Upstreams.chat(p))[0]);
      assertEquals(1, up.count(s));
    }
  }

  @Test
  void aPoolWithSharedBudgetsSaysSoInItsSnapshotAndAStoreThatCannotCountThemFailsTheBuild() {
    MemoryStore store = new MemoryStore(100);
    SharedState state = new SharedState() {
      @Override
      public Publisher join(String pool, Receiver receiver) {
        return e -> {};
      }

      @Override
      public SharedBudgets budgets() {
        return store;
      }
    };
    ProviderPool p = ProviderPool.builder().name("chat").sharedState(state)
        .tier(Provider.builder("a").baseUrl("http://127.0.0.1:1/v1").build()).budget(TOKENS).build();
    BudgetSnapshot s = p.snapshot().budget("t").orElseThrow();
    assertTrue(s.shared());
    assertEquals(0, s.fleetSpent().signum());
    assertTrue(s.toString().contains("shared"), s.toString());
    assertEquals(1, store.lines.size());
    assertEquals("chat", ((SharedBudget) store.lines.get(0)[0]).pool());
    assertEquals(1000, ((SharedBudget) store.lines.get(0)[0]).limitUnits());

    SharedState refusing = new SharedState() {
      @Override
      public Publisher join(String pool, Receiver receiver) {
        return e -> {};
      }

      @Override
      public SharedBudgets budgets() {
        return (budget, holder) -> {
          throw new IllegalArgumentException("budget '" + budget.name() + "' is too large to share");
        };
      }
    };
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProviderPool.builder()
        .sharedState(refusing).tier(Provider.builder("a").baseUrl("http://127.0.0.1:1/v1").build()).budget(TOKENS)
        .build());
    assertTrue(e.getMessage().contains("budget 't'"), e.getMessage());

    ProviderPool local = ProviderPool.builder().tier(Provider.builder("a").baseUrl("http://127.0.0.1:1/v1").build())
        .budget(TOKENS).build();
    assertFalse(local.snapshot().budget("t").orElseThrow().shared());
  }
}
