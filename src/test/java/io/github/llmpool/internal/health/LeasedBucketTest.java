package io.github.llmpool.internal.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.spi.SharedLimit;
import io.github.llmpool.spi.SharedLimits;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The lease logic of one configured dimension, against a line that records what the bucket asks of it. */
class LeasedBucketTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final AtomicInteger wakes = new AtomicInteger();
  private final AtomicInteger closes = new AtomicInteger();

  private LeasedBucket bucket(long perMinute, long lease, long lowWater) {
    SharedLimits limits = (limit, holder) -> new SharedLimits.Line() {
      @Override
      public long leaseSize() {
        return lease;
      }

      @Override
      public long lowWater() {
        return lowWater;
      }

      @Override
      public void wake() {
        wakes.incrementAndGet();
      }

      @Override
      public void close() {
        closes.incrementAndGet();
      }
    };
    return new LeasedBucket(limits, SharedLimit.of("chat", "a", false, SharedLimit.Dimension.REQUESTS, perMinute),
        now::get);
  }

  private static SharedLimits.Grant grant(long units, long left, long retryMillis, int fleet) {
    return SharedLimits.Grant.of(units, left, retryMillis, fleet);
  }

  @Test
  void admitsOnlyUnitsHeldInLeasesAndWakesTheLineOnceBelowTheLowWaterMark() {
    LeasedBucket b = bucket(100, 4, 2);
    b.granted(grant(4, 90, 0, 3));
    for (int i = 0; i < 4; i++) {
      assertTrue(b.admits(now.get(), 1));
      assertEquals(LeasedBucket.FIT, b.take(now.get(), 1));
    }
    assertFalse(b.admits(now.get(), 1), "the lease is used up");
    assertEquals(1, wakes.get(), "woken once, when held fell below 2; not again until a grant");
    assertEquals(0, b.take(now.get(), 1), "a dispatch past the lease (a race) is debt, and does not fit");
    assertEquals(-1, b.held());
    b.granted(grant(5, 85, 0, 3)); // lease - held: 4 - (-1)
    assertEquals(4, b.held(), "the debt was paid from the next lease");
    assertEquals(89, b.room(now.get()), 1e-9, "held + what the fleet window has left");
  }

  @Test
  void beforeTheFirstGrantOneLeaseIsAdmittedOnCreditADebtTheNextGrantPays() {
    LeasedBucket b = bucket(100, 4, 2);
    assertTrue(b.beforeFirstGrant());
    assertEquals(4, b.room(now.get()), 1e-9, "the credit, for the P2C share and the snapshot");
    for (int i = 0; i < 4; i++) {
      assertTrue(b.admits(now.get(), 1), "call " + (i + 1) + " of the credit");
      assertEquals(LeasedBucket.FIT, b.take(now.get(), 1));
    }
    assertFalse(b.admits(now.get(), 1), "one lease of credit, exactly");
    assertEquals(-4, b.held(), "a debt");
    assertEquals(0, b.room(now.get()), 1e-9);
    assertEquals(1, wakes.get(), "the dispatch that took held below 2 asked for the lease");
    assertEquals(LeasedBucket.ASKING_NANOS, b.untilRoom(now.get(), 1));
    assertEquals(0, b.take(now.get(), 1), "a dispatch past the credit (a race) does not fit");
    assertEquals(-5, b.held());
    assertEquals(0, b.reclaim(0), "nothing to give back while in debt");
    b.granted(grant(9, 80, 0, 3)); // lease - held: 4 - (-5)
    assertFalse(b.beforeFirstGrant());
    assertEquals(4, b.held(), "the debt was paid from the first grant; a full lease is held");
    for (int i = 0; i < 4; i++) {
      assertEquals(LeasedBucket.FIT, b.take(now.get(), 1));
    }
    assertFalse(b.admits(now.get(), 1), "no credit after the first grant: only what is held");
  }

  @Test
  void aFirstGrantOfNothingEndsTheCreditItsDebtStaysUntilPaid() {
    LeasedBucket b = bucket(100, 4, 2);
    b.take(now.get(), 1);
    b.take(now.get(), 1);
    b.granted(grant(0, 0, 600, 3)); // the window is empty: the fleet uses it
    assertEquals(-2, b.held());
    assertFalse(b.admits(now.get(), 1), "the credit is spent once, before the first grant only");
    assertEquals(TimeUnit.MILLISECONDS.toNanos(600), b.untilRoom(now.get(), 1));
    b.granted(grant(3, 0, 0, 3));
    assertEquals(1, b.held(), "3 units: 2 paid the debt");
    assertTrue(b.admits(now.get(), 1));
    assertFalse(b.admits(now.get(), 2));
  }

  @Test
  void theCreditAdmitsARequestUpToALeaseOfTokensALargerOneAtZeroHeld() {
    LeasedBucket b = bucket(100_000, 500, 250);
    assertTrue(b.admits(now.get(), 2_000), "capped at a lease: the credit covers it");
    b.take(now.get(), 2_000);
    assertEquals(-2_000, b.held(), "the excess over the lease is a debt too");
    assertFalse(b.admits(now.get(), 1));
    b.correct(-1_900, false); // the answer used 100 tokens
    assertEquals(-100, b.held());
    assertTrue(b.admits(now.get(), 400), "-100 + 500 of credit >= 400");
    assertFalse(b.admits(now.get(), 401));
  }

  @Test
  void aRequestLargerThanALeaseGoesWhenAWholeLeaseIsHeldItsExcessADebt() {
    LeasedBucket b = bucket(10_000, 500, 250);
    b.granted(grant(300, 0, 0, 2));
    assertFalse(b.admits(now.get(), 2_000), "not before a whole lease is held");
    b.granted(grant(200, 0, 0, 2));
    assertTrue(b.admits(now.get(), 2_000));
    b.take(now.get(), 2_000);
    assertEquals(-1_500, b.held());
    b.correct(-1_000, false); // the answer reported 1,000 tokens: 1,000 come back
    assertEquals(-500, b.held());
    b.correct(200, false); // one that reported more than estimated
    assertEquals(-700, b.held());
  }

  @Test
  void aNeedAboveWhatIsHeldButNotBelowTheLowWaterMarkIsWantedUntilAGrantCoversIt() {
    // Tokens: lease 500, low water 250. 300 held (an answer used fewer than estimated): a request of
    // 400 does not fit, and no dispatch will take held below the mark, so the line must hear it.
    LeasedBucket b = bucket(100_000, 500, 250);
    b.granted(grant(300, 10_000, 0, 2));
    assertEquals(0, b.wanted(), "nothing refused yet");
    assertTrue(b.admits(now.get(), 200));
    assertFalse(b.admits(now.get(), 400), "400 > 300 held");
    assertEquals(400, b.wanted(), "the line tops up at its next round");
    assertFalse(b.admits(now.get(), 2_000));
    assertEquals(500, b.wanted(), "capped at a lease");
    b.granted(grant(100, 10_000, 0, 2));
    assertEquals(500, b.wanted(), "still short of it: wanted until a grant covers it");
    b.granted(grant(100, 10_000, 0, 2));
    assertEquals(0, b.wanted());
    assertTrue(b.admits(now.get(), 2_000));
    b.take(now.get(), 100);
    assertFalse(b.admits(now.get(), 1_000));
    assertEquals(500, b.wanted());
    LeasedBucket low = bucket(100_000, 500, 250);
    low.granted(grant(100, 0, 0, 2));
    assertFalse(low.admits(now.get(), 400));
    assertEquals(0, low.wanted(), "below the mark the dispatch's wake already asks");
  }

  @Test
  void reclaimTakesBackWhatIsHeldAboveTheLiveLeases() {
    LeasedBucket b = bucket(100, 4, 2);
    b.granted(grant(4, 0, 0, 1));
    b.take(now.get(), 1);
    b.granted(grant(4, 0, 0, 1)); // two leases: 3 left of the first, 4 of the second
    assertEquals(3, b.reclaim(4), "the first expired: its 3 unused units go back, the second's 4 stay");
    assertEquals(4, b.held());
    assertEquals(0, b.reclaim(10));
    b.take(now.get(), 6);
    assertEquals(0, b.reclaim(0), "nothing to give back while in debt");
    assertEquals(-2, b.held());
  }

  @Test
  void untilRoomIsTheGrantsRetryTimeElseARoundTrip() {
    LeasedBucket b = bucket(60, 1, 1);
    assertEquals(0, b.untilRoom(now.get(), 1), "the credit");
    b.take(now.get(), 1);
    assertEquals(LeasedBucket.ASKING_NANOS, b.untilRoom(now.get(), 1));
    b.granted(grant(1, 0, 0, 4)); // pays the debt
    b.granted(grant(0, 0, 700, 4));
    assertEquals(TimeUnit.MILLISECONDS.toNanos(700), b.untilRoom(now.get(), 1));
    b.granted(grant(1, 0, 0, 4));
    assertEquals(0, b.untilRoom(now.get(), 1));
  }

  @Test
  void downWithAKnownFleetFallsBackToTheLimitOverTheFleetStartingEmpty() {
    LeasedBucket b = bucket(120, 3, 2);
    b.granted(grant(3, 100, 0, 4));
    b.storeDown();
    assertTrue(b.down());
    assertEquals(30, b.fallbackPerMinute());
    for (int i = 0; i < 3; i++) {
      assertEquals(LeasedBucket.FIT, b.take(now.get(), 1) & LeasedBucket.FIT, "held units first");
    }
    assertFalse(b.admits(now.get(), 1), "the fallback starts empty");
    now.addAndGet(TimeUnit.SECONDS.toNanos(2)); // 30 per minute: one per 2 s
    assertTrue(b.admits(now.get(), 1));
    assertEquals(LeasedBucket.FIT | LeasedBucket.FROM_FALLBACK, b.take(now.get(), 1));
    assertFalse(b.admits(now.get(), 1));
    assertEquals(TimeUnit.SECONDS.toNanos(2), b.untilRoom(now.get(), 1));
    b.storeUp();
    assertFalse(b.down());
    assertFalse(b.admits(now.get(), 1), "back on leases: nothing held");
  }

  @Test
  void aStoreThatStopsAnsweringCountsAsDownForTheLineAfterTheStallBoundUntilAnAnswer() {
    LeasedBucket b = bucket(120, 3, 2);
    b.granted(grant(3, 100, 0, 4));
    for (int i = 0; i < 3; i++) {
      assertEquals(LeasedBucket.FIT, b.take(now.get(), 1), "held units");
    }
    assertEquals(1, wakes.get(), "the line was asked for a lease; the store never answers");
    assertFalse(b.admits(now.get(), 1), "within the stall bound: waiting for the lease");
    now.addAndGet(LeasedBucket.STALL_NANOS);
    assertFalse(b.admits(now.get(), 1), "exactly at the bound: still waiting");
    assertFalse(b.down());
    now.addAndGet(1);
    assertFalse(b.admits(now.get(), 1), "past the bound: the fallback (limit / fleet, 30 a minute), starting empty");
    assertTrue(b.down(), "down for this line");
    assertTrue(b.stalled());
    assertEquals(30, b.fallbackPerMinute());
    now.addAndGet(TimeUnit.SECONDS.toNanos(2));
    assertTrue(b.admits(now.get(), 1), "one per 2 s, as after storeDown");
    assertEquals(LeasedBucket.FIT | LeasedBucket.FROM_FALLBACK, b.take(now.get(), 1));
    assertFalse(b.admits(now.get(), 1));
    assertEquals(TimeUnit.SECONDS.toNanos(2), b.untilRoom(now.get(), 1));
    assertEquals(1, wakes.get(), "no call to the store while stalled");
    b.granted(grant(3, 90, 0, 4)); // the answer arrives
    assertFalse(b.down(), "an answer ends the stall");
    assertFalse(b.stalled());
    assertEquals(3, b.held());
    assertTrue(b.admits(now.get(), 1), "back on leases");
  }

  @Test
  void aStalledLineThatTheStoreCallsDownStaysDownUntilStoreUpNotTheNextAnswer() {
    LeasedBucket b = bucket(120, 3, 2);
    b.granted(grant(3, 100, 0, 4));
    for (int i = 0; i < 3; i++) {
      b.take(now.get(), 1);
    }
    now.addAndGet(LeasedBucket.STALL_NANOS + 1);
    assertFalse(b.admits(now.get(), 1));
    assertTrue(b.stalled());
    b.storeDown(); // the command timeout calls it down
    assertFalse(b.stalled());
    b.granted(grant(0, 90, 0, 4));
    assertTrue(b.down(), "down until storeUp");
    b.storeUp();
    assertFalse(b.down());
  }

  @Test
  void aStoreThatNeverAnswersTheFirstLeaseFallsBackToTheWholeLimitAfterTheCredit() {
    LeasedBucket b = bucket(120, 3, 2);
    for (int i = 0; i < 3; i++) {
      assertEquals(LeasedBucket.FIT, b.take(now.get(), 1), "the start credit");
    }
    assertFalse(b.admits(now.get(), 1));
    now.addAndGet(LeasedBucket.STALL_NANOS + 1);
    assertTrue(b.admits(now.get(), 1), "no fleet size known: the whole limit, starting full (as storeDown)");
    assertEquals(120, b.fallbackPerMinute());
  }

  @Test
  void aRefusalBelowTheLowWaterMarkPastTheGrantsRetryTimeCountsAsAskedTheLinesRoundAsksThen() {
    LeasedBucket b = bucket(120, 3, 2);
    b.granted(grant(0, 0, 1000, 4)); // the window used up: its next room in 1 s; the line waits until then
    assertFalse(b.admits(now.get(), 1));
    now.addAndGet(LeasedBucket.STALL_NANOS + 1);
    assertFalse(b.admits(now.get(), 1));
    assertFalse(b.down(), "nothing is asked before the retry time: no answer is due, no stall");
    now.addAndGet(TimeUnit.SECONDS.toNanos(1));
    assertFalse(b.admits(now.get(), 1), "the retry time passed: the line's next round asks");
    assertFalse(b.down());
    now.addAndGet(LeasedBucket.STALL_NANOS + 1);
    assertFalse(b.admits(now.get(), 1), "unanswered past the bound: the fallback, starting empty");
    assertTrue(b.stalled());
    b.granted(grant(0, 0, 1000, 4));
    assertFalse(b.down(), "an answer (even of nothing) ends the stall");
  }

  @Test
  void aLineWithoutAnUnansweredRequestNeverStalls() {
    LeasedBucket b = bucket(120, 10, 2);
    b.granted(grant(10, 100, 0, 4));
    now.addAndGet(TimeUnit.SECONDS.toNanos(5));
    assertEquals(LeasedBucket.FIT, b.take(now.get(), 1));
    assertFalse(b.down(), "held units, nothing asked: no stall however much time passed");
  }

  @Test
  void downBeforeAnyGrantFallsBackToTheWholeLimitStartingFull() {
    LeasedBucket b = bucket(120, 3, 2);
    b.storeDown();
    assertEquals(120, b.fallbackPerMinute());
    int admitted = 0;
    while (b.admits(now.get(), 1)) {
      b.take(now.get(), 1);
      admitted++;
    }
    assertEquals(120, admitted);
  }

  @Test
  void aHeadroomWithLeasesRoutesOnThemReservesAndSettlesTokens() {
    LeasedBucket r = bucket(100, 5, 3);
    SharedLimits limits = (limit, holder) -> new SharedLimits.Line() {
      @Override
      public long leaseSize() {
        return 1_000;
      }

      @Override
      public long lowWater() {
        return 500;
      }

      @Override
      public void wake() {}

      @Override
      public void close() {
        closes.incrementAndGet();
      }
    };
    LeasedBucket t = new LeasedBucket(limits, SharedLimit.of("chat", "g", true, SharedLimit.Dimension.TOKENS, 50_000),
        now::get);
    Headroom h = new Headroom("g", 100, 50_000, now.get(), r, t);
    assertTrue(h.leased());
    assertTrue(h.tracked());
    assertTrue(h.admits(now.get(), 10), "on credit before the first grants");
    r.granted(grant(0, 0, 0, 2));
    t.granted(grant(0, 0, 0, 2));
    assertFalse(h.admits(now.get(), 10), "nothing granted: the credit ended");
    r.granted(grant(5, 0, 0, 2));
    assertFalse(h.admits(now.get(), 10), "requests held, tokens not");
    t.granted(grant(1_000, 10_000, 0, 2));
    assertTrue(h.admits(now.get(), 400));
    Headroom.Reservation res = new Headroom.Reservation();
    assertTrue(h.reserve(now.get(), 400, res));
    assertEquals(4, r.held());
    assertEquals(600, t.held());
    h.settle(res, 100);
    assertEquals(900, t.held(), "the answer's usage: 300 of the estimate come back to the lease");
    assertEquals(4, h.requestRoom(now.get()), 1e-9);
    assertEquals(10_900, h.tokenRoom(now.get()), 1e-9);
    h.close();
    assertEquals(2, closes.get(), "both lines closed");
  }

  @Test
  void aLineThatIsNullIsRefusedAndGrantsAreChecked() {
    SharedLimits none = (limit, holder) -> null;
    assertThrows(NullPointerException.class, () -> new LeasedBucket(none,
        SharedLimit.of("chat", "a", false, SharedLimit.Dimension.REQUESTS, 1), now::get));
    assertEquals("units must be >= 0 but was -1",
        assertThrows(IllegalArgumentException.class, () -> SharedLimits.Grant.of(-1, 0, 0, 1)).getMessage());
    assertEquals("fleetSize must be >= 1 but was 0",
        assertThrows(IllegalArgumentException.class, () -> SharedLimits.Grant.of(0, 0, 0, 0)).getMessage());
    assertEquals("perMinute must be >= 1 but was 0", assertThrows(IllegalArgumentException.class,
        () -> SharedLimit.of("chat", "a", false, SharedLimit.Dimension.TOKENS, 0)).getMessage());
    assertEquals("t:g:acct", SharedLimit.of("chat", "acct", true, SharedLimit.Dimension.TOKENS, 5).key());
  }
}
