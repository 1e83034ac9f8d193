package io.github.llmpool.internal.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The headroom model, exactly, with ticker times given by hand. */
class HeadroomTest {
  private static final long S = 1_000_000_000L;
  private static final long MS = 1_000_000L;

  private static RateWindow window(long limit, long remaining, long resetAt, long seenAt) {
    return new RateWindow(limit, remaining, resetAt >= 0, Math.max(0, resetAt), seenAt);
  }

  @Test
  void nothingKnownAdmitsEverythingAtFactorOne() {
    Headroom h = new Headroom(null, 0, 0, 0);
    assertFalse(h.tracked());
    assertTrue(h.admits(0, 1_000_000));
    assertEquals(1, h.costFactor(0));
    assertEquals(0, h.untilRoom(0, 5));
  }

  @Test
  void aBucketRefillsLinearlyTowardItsLimitUntilTheReset() {
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(window(100, 0, 10 * S, 0), null, 0, 0); // empty, full in 10 s: one per 100 ms
    assertFalse(h.admits(0, 0));
    assertEquals(100 * MS, h.untilRoom(0, 0));
    assertFalse(h.admits(99 * MS, 0));
    assertTrue(h.admits(100 * MS, 0));
    assertEquals(100 / 1.0, Headroom.roomIn(h.requestWindow(), 10 * S, false)); // the reset: the whole limit
    assertEquals(64, h.costFactor(MS), 1e-9); // almost nothing left: the factor's cap
    assertEquals(2, h.costFactor(2_500 * MS), 1e-9); // a quarter of the limit left: 0.5 / 0.25
    assertEquals(1, h.costFactor(5 * S), 1e-9); // half the limit left: no penalty yet
    assertEquals(1, h.costFactor(9 * S), 1e-9);
  }

  @Test
  void whatThisInstanceDispatchedCountsUntilANewerHeader() {
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(window(10, 2, -1, 0), null, 0, 0); // no reset named: held for a minute
    Headroom.Reservation r = new Headroom.Reservation();
    assertTrue(h.reserve(0, 0, r));
    assertTrue(h.reserve(0, 0, r));
    assertFalse(h.admits(0, 0), "both remaining requests taken");
    assertEquals(60 * S, h.untilRoom(0, 0));
    assertTrue(h.admits(60 * S, 0), "a minute after the header: the whole limit, minus what was taken");
    h.observe(window(10, 5, -1, S), null, 0, S); // a newer header: its own count, nothing taken since
    assertTrue(h.admits(S, 0));
  }

  @Test
  void otherInstancesDispatchesCountAgainstTheWindowTheyPostdateAndAWindowStoredLater() {
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(window(10, 5, -1, S), null, 0, S); // 5 left, no reset: held for a minute
    h.othersDispatched(3, 0, 500 * MS); // before the header was seen: it already counts them
    assertEquals(5, Headroom.roomIn(h.requestWindow(), S, false), 1e-9);
    h.othersDispatched(4, 0, 2 * S); // after it: they spend the same 5
    assertEquals(1, Headroom.roomIn(h.requestWindow(), 2 * S, false), 1e-9);
    Headroom.Reservation r = new Headroom.Reservation();
    h.reserve(2 * S, 0, r);
    assertFalse(h.admits(2 * S, 0), "4 by the others and 1 by this instance: the 5 announced are gone");
    h.observe(window(10, 6, -1, 3 * S), null, 0, 3 * S); // a newer header counts everything before it
    assertEquals(6, Headroom.roomIn(h.requestWindow(), 3 * S, false), 1e-9);
    h.othersDispatched(2, 0, 4 * S);
    // A header older than that batch (a slow answer, another instance's) arrives later: the batch counts there too.
    h.observe(window(10, 9, -1, 5 * S), null, 0, 5 * S);
    assertEquals(9, Headroom.roomIn(h.requestWindow(), 5 * S, false), 1e-9, "seen after the batch: it knows it");
    h.othersDispatched(1, 0, 6 * S);
    assertEquals(8, Headroom.roomIn(h.requestWindow(), 6 * S, false), 1e-9);
  }

  @Test
  void othersDispatchesPastTheResetAreForgottenAfterAFullRefillSoNoFleetStaysOutForGood() {
    // A bucket of 10, 1 left (rounded down: up to 2), full again at 400 ms: it refills 20 a second
    // or more, so a full refill takes at most 500 ms.
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(window(10, 1, 400 * MS, 0), null, 0, 0);
    h.othersDispatched(12, 0, 100 * MS); // the others took more than the limit; nobody learns a newer window
    assertFalse(h.admits(500 * MS, 0), "past the reset, their 12 still count within a full refill of their batch");
    assertEquals(100 * MS, h.untilRoom(500 * MS, 0), "until 100 ms + 500 ms: the earliest return, not a spin");
    assertFalse(h.admits(600 * MS - 1, 0));
    assertTrue(h.admits(600 * MS, 0), "a full refill after the batch: the bucket holds its limit whatever they took");
    assertEquals(10, Headroom.roomIn(h.requestWindow(), 600 * MS, false), 1e-9);
    assertTrue(h.admits(3_600 * S, 0), "and for good: before, their 12 counted forever");

    // A fixed window: batches that ended before the reset belong to the window that ended.
    RateWindow fixed = window(10, 8, 400 * MS, 0);
    fixed.useOthers(12, 100 * MS);
    assertEquals(-4, Headroom.roomIn(fixed, 300 * MS, true), 1e-9, "before the reset: 8 - 12");
    assertEquals(10, Headroom.roomIn(fixed, 400 * MS, true), 1e-9, "the new window owes nothing to the old one");
    fixed.useOthers(3, 500 * MS); // a batch in the new window: counts until a minute after it (no rate known)
    assertEquals(-5, Headroom.roomIn(fixed, S, true), 1e-9, "10 - 15: the whole count while it counts");
    assertEquals(10, Headroom.roomIn(fixed, 500 * MS + 60 * S, true), 1e-9);

    // No reset announced: held for a minute, then forgotten a minute after the others' latest batch.
    RateWindow held = window(10, 5, -1, 0);
    held.useOthers(20, 50 * S);
    assertEquals(-10, Headroom.roomIn(held, 61 * S, false), 1e-9, "past the hold, within a minute of the batch");
    assertEquals(10, Headroom.roomIn(held, 110 * S, false), 1e-9);
  }

  @Test
  void withOthersDispatchingABucketHoldsAtLeastItsLimitLessWhatWasTakenWithinOneFullRefill() {
    // Empty, full again at 1 s: it refills 9 a second or more (the count is rounded down), so a full
    // refill takes at most 10 / 9 s. The header is old: the fleet keeps dispatching and no newer
    // window comes (say its answers are long).
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(window(10, 0, S, 0), null, 0, 0);
    for (long t = 500 * MS; t <= 2 * S; t += 500 * MS) {
      h.othersDispatched(4, 0, t); // 16 in all, more than the limit
    }
    assertFalse(h.admits(2 * S, 0), "12 taken within the last 10/9 s: 10 - 12");
    assertEquals(-2, h.requestRoom(2 * S), 1e-9);
    assertTrue(h.admits(2_200 * MS, 0), "8 within the last 10/9 s: 2 left (the count since the header says -6)");
    assertEquals(2, h.requestRoom(2_200 * MS), 1e-9);
    assertEquals(0, h.untilRoom(2_200 * MS, 0));
  }

  @Test
  void withADrainKnownTheRoomIsTheLesserOfTheDrainedRefillAndTheWholeCount() {
    // A token bucket of 60 per minute (one a second), anchored on its reset; 30 left at 0.
    Headroom h = new Headroom(null, 0, 0, 0);
    RateWindow w = window(60, 30, 30 * S, 0);
    h.observe(w, null, 0, 0);
    double undrained = Headroom.roomIn(w, 10 * S, false, 0);
    assertEquals(40, undrained, 1e-6, "30 + 10 s of refill");
    double drain = 0.5 / S; // others take half the refill
    // the drained model: 30 + 5, less half a standard deviation of the others' take (sqrt(5) units)
    double drained = 35 - Headroom.DRAIN_DEVIATIONS * Math.sqrt(5);
    assertEquals(drained, Headroom.roomIn(w, 10 * S, false, drain), 1e-6, "the drained model");
    w.useOthers(3, 5 * S); // the others' dispatches, counted: within their share of the refill
    assertEquals(drained, Headroom.roomIn(w, 10 * S, false, drain), 1e-6, "not counted twice");
    w.useOthers(7, 9 * S); // 10 by the others: more than their 5 of the refill, the rest from the stock
    assertEquals(30, Headroom.roomIn(w, 10 * S, false, drain), 1e-6, "40 - 10: the whole count is lower");
    assertEquals(30, Headroom.roomIn(w, 10 * S, false, 0), 1e-6);
  }

  @Test
  void tokensAreReservedAndSettledToTheReportedUsageOnTheCurrentWindowOnly() {
    Headroom h = new Headroom(null, 0, 0, 0);
    RateWindow w = window(1_000, 1_000, 60 * S, 0);
    h.observe(null, w, 0, 0);
    Headroom.Reservation r = new Headroom.Reservation();
    h.reserve(0, 600, r);
    assertFalse(h.admits(0, 600));
    h.settle(r, 80); // the answer used 80
    assertTrue(h.admits(0, 600));
    assertEquals(920, h.tokenRoom(0), 1e-9);
    h.settle(r, 10); // settled once: nothing more
    assertEquals(920, h.tokenRoom(0), 1e-9);

    Headroom.Reservation old = new Headroom.Reservation();
    h.reserve(0, 500, old);
    h.observe(null, window(1_000, 300, 60 * S, S), 0, S); // a newer header already counts it
    h.settle(old, 0);
    assertEquals(300, h.tokenRoom(S), 1e-9);
  }

  @Test
  void aRequestLargerThanTheWholeLimitGoesWhenTheWindowIsFull() {
    Headroom h = new Headroom(null, 0, 1_000, 0);
    assertTrue(h.admits(0, 5_000));
    Headroom.Reservation r = new Headroom.Reservation();
    assertTrue(h.reserve(0, 5_000, r), "a full bucket takes a request of any size");
    assertFalse(h.admits(0, 1));
    assertTrue(h.untilRoom(0, 1) > 60 * S, "in debt for the whole request: four more minutes to refill");
  }

  @Test
  void configuredBucketsRefillOneUnitPerMinuteOverTheLimit() {
    Headroom h = new Headroom(null, 60, 0, 0);
    Headroom.Reservation r = new Headroom.Reservation();
    for (int i = 0; i < 60; i++) {
      assertTrue(h.reserve(0, 0, r), "request " + i);
    }
    assertFalse(h.admits(0, 0));
    assertEquals(S, h.untilRoom(0, 0));
    assertTrue(h.admits(S, 0));
    assertEquals(1, h.requestRoom(S), 1e-9);
    assertTrue(h.sameLimits(60, -1));
    assertFalse(h.sameLimits(61, -1));
  }

  @Test
  void aRetryAfterAsLongAsTheResetMeansFixedWindowsAndStopsTheRefill() {
    Headroom bucket = new Headroom(null, 0, 0, 0);
    bucket.observe(window(500, 0, 360 * S, 0), null, 0, 0);
    bucket.rateLimited(0, 2 * S); // OpenAI: Retry-After 2 s, full in 6 min: a bucket
    assertFalse(bucket.fixedWindows());

    Headroom fixed = new Headroom(null, 0, 0, 0);
    fixed.observe(window(500, 0, 20 * S, 0), null, 0, 0);
    fixed.rateLimited(0, 20 * S); // wait until the window resets
    assertTrue(fixed.fixedWindows());
    assertFalse(fixed.admits(19 * S, 0), "no refill inside a fixed window");
    assertEquals(S, fixed.untilRoom(19 * S, 0));
    assertTrue(fixed.admits(20 * S, 0));
  }

  @Test
  void aWindowIsAmpleWhileHalfOfItIsLeftWithoutRefill() {
    RateWindow w = window(100, 60, 10 * S, 0);
    assertTrue(w.ample);
    w.use(10);
    assertTrue(w.ample, "50 left of 100");
    w.use(1);
    assertFalse(w.ample, "49 left: the pick does the arithmetic from now on");
    w.use(-5);
    assertFalse(w.ample, "once");
    assertFalse(window(100, 40, 10 * S, 0).ample);
    assertTrue(window(-1, 4, -1, 0).ample, "no limit announced: half of the remaining count");
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(window(100, 60, 10 * S, 0), window(1_000, 1_000, 10 * S, 0), 0, 0);
    assertTrue(h.admits(0, 500));
    assertTrue(h.admits(0, 900), "past the ample half: the exact check");
    assertTrue(h.admits(0, 1_000), "1,000 fit exactly");
    h.reserve(0, 600, new Headroom.Reservation());
    assertTrue(h.admits(0, 400));
    assertFalse(h.admits(0, 401));
  }

  @Test
  void theRoomEventsFireOncePerSpell() {
    Headroom h = new Headroom(null, 0, 0, 0);
    assertEquals(0, h.noteRoom(true));
    assertEquals(1, h.noteRoom(false));
    assertEquals(0, h.noteRoom(false));
    assertTrue(h.outOfRoom());
    assertEquals(-1, h.noteRoom(true));
    assertEquals(0, h.noteRoom(true));
  }

  @Test
  void aPerMinuteBucketsHeaderIsAnchoredOnItsResetAndCountsWhatWasSentSinceItsAdmission() {
    long t0 = 10 * S; // the provider admitted the request at t0 holding 0.5 of 100 (the header says 0)
    Headroom h = new Headroom(null, 0, 0, 0);
    Headroom.Reservation r = new Headroom.Reservation();
    h.reserve(t0 - 100 * MS, 0, r); // the request itself: counted by the provider already
    h.reserve(t0 + S, 0, r); // sent after its admission: the header does not know it
    long resetAt = t0 + 59_700 * MS; // 99.5 requests to full at 100 per minute
    RateWindow w = window(100, 0, resetAt, t0 + 2 * S); // a non-streamed answer: 2 s after the admission
    assertEquals(t0, Headroom.admittedAt(w));
    h.observe(w, null, 0, t0 + 2 * S);
    // 0.5 + 2 s of refill (3.33) - the one sent since = 2.83; refilled from the arrival, it would be 0
    assertEquals(0.5 + 2 * 100 / 60.0 - 1, h.requestRoom(t0 + 2 * S), 1e-9);
    assertTrue(h.admits(t0 + 2 * S, 0));
    h.reserve(t0 + 2 * S, 0, r);
    h.reserve(t0 + 2 * S, 0, r);
    assertFalse(h.admits(t0 + 2 * S, 0));
    assertEquals(100 * MS, h.untilRoom(t0 + 2 * S, 0), "one more request refilled in 100 ms");
    assertEquals(100 - 3, h.requestRoom(resetAt), 1e-9);
  }

  @Test
  void aHeaderOlderThanTheAgeBoundOrASlowerRefillIsRefilledFromItsArrival() {
    long t0 = 10 * S;
    RateWindow old = window(100, 0, t0 + 59_700 * MS, t0 + 11 * S); // 11 s from admission to arrival
    assertEquals(old.seenAt, Headroom.admittedAt(old));
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(old, null, 0, old.seenAt);
    assertEquals(0, h.requestRoom(old.seenAt), 1e-9);
    RateWindow daily = window(14_400, 14_370, t0 + 180 * S, t0); // requests per day: 3 min to refill 30
    assertEquals(daily.seenAt, Headroom.admittedAt(daily));
  }

  @Test
  void reservationsBeyondTheRingCountTheRefillTheyNoLongerCover() {
    long t0 = 10 * S;
    Headroom h = new Headroom(null, 0, 0, 0);
    Headroom.Reservation r = new Headroom.Reservation();
    for (int i = 0; i <= Headroom.RECENT; i++) { // one more than the ring holds, one per ms from 1 s after the admission
      h.reserve(t0 + S + i * MS, 0, r);
    }
    RateWindow w = window(100, 0, t0 + 59_700 * MS, t0 + 2 * S);
    h.observe(w, null, 0, t0 + 2 * S);
    // the ring holds the latest 256, the oldest 1.001 s after the admission: that refill (1.67, rounded up) counts as used
    assertEquals(0.5 + 2 * 100 / 60.0 - Headroom.RECENT - 2, h.requestRoom(t0 + 2 * S), 1e-9);
  }

  @Test
  void aBucketOthersDrainRefillsSlowerAndNotToFullAtItsReset() {
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(window(100, 0, 10 * S, 0), null, 0, 0); // empty, full in 10 s: 10 per second
    // 5 s later the provider says 20, not the 50 its refill would give: others took 30 in 5 s
    h.observe(window(100, 20, 13 * S, 5 * S), null, 0, 5 * S); // (80 to full in 8 s: 10 per second still)
    double drain = 6 * 5 / 35.0; // per second: the 6 per second seen, averaged over 30 s (5 s of 35)
    // 1 s on: the refill less the drain, less half a standard deviation of what the others took
    assertEquals(20 + (10 - drain) - 0.5 * Math.sqrt(drain), h.requestRoom(6 * S), 1e-6);
    assertEquals(20 + (10 - drain) * 8 - 0.5 * Math.sqrt(drain * 8), h.requestRoom(13 * S), 1e-6,
        "not full at the announced reset");
    Headroom.Reservation r = new Headroom.Reservation();
    for (int i = 0; i < 29; i++) {
      h.reserve(6 * S, 0, r);
    }
    assertFalse(h.admits(6 * S, 0));
    long wait = h.untilRoom(6 * S, 0);
    assertTrue(h.admits(6 * S + wait, 0), "room for one when the wait is over");
    assertFalse(h.admits(6 * S + wait - MS, 0), "and not a millisecond before");
  }

  @Test
  void aDrainOfLessThanAShareOfTheRefillIsTakenForRounding() {
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(window(100, 0, 10 * S, 0), null, 0, 0);
    h.observe(window(100, 9, 10_100 * MS, S), null, 0, S); // 1 less than the refill: 1 per second, 1/31 of it counted
    assertEquals(9 + 10, h.requestRoom(2 * S), 1e-6, "0.03 per second is under 5% of 10: no drain");
  }

  @Test
  void aWindowDatedToItsDispatchCountsEverythingSentSinceAndReadsItsLevelFromTheReset() {
    long sent = 10 * S;
    Headroom h = new Headroom(null, 0, 0, 0);
    Headroom.Reservation r = new Headroom.Reservation();
    h.reserve(sent, 0, r); // the request itself: counted by the provider
    h.reserve(sent + 500 * MS, 0, r); // sent after it, before its answer came back: the header does not know it
    // Admitted holding 3.7 after taking its unit (the header says 3): 96.3 to full at 100 per minute, 57.78 s
    RateWindow w = new RateWindow(100, 3, true, sent + 57_780 * MS, sent, true);
    assertTrue(Headroom.anchored(w));
    h.observe(w, null, 0, sent + 2 * S); // the headers arrive 2 s after the dispatch
    assertEquals(3.7 + 2 * 100 / 60.0 - 1, h.requestRoom(sent + 2 * S), 1e-6);
    h.reserve(sent + 2 * S, 0, r);
    assertEquals(3.7 + 3 * 100 / 60.0 - 2, h.requestRoom(sent + 3 * S), 1e-6);
    // A reset that no per-minute bucket holding 3..4 has (a daily limit): the count, refilled linearly from the dispatch
    RateWindow daily = new RateWindow(100, 3, true, sent + 3_600 * S, sent, true);
    assertFalse(Headroom.anchored(daily));
    Headroom d = new Headroom(null, 0, 0, 0);
    d.reserve(sent, 0, r);
    d.reserve(sent + 500 * MS, 0, r);
    d.observe(daily, null, 0, sent + 2 * S);
    assertEquals(3 + 97 * (2 / 3_600.0) - 1, d.requestRoom(sent + 2 * S), 1e-6);
    // the bounds of "what a per-minute bucket needs": a level between the count and one more
    assertTrue(Headroom.anchored(new RateWindow(100, 3, true, sent + 58_200 * MS, sent, true)), "3.0 left");
    assertTrue(Headroom.anchored(new RateWindow(100, 3, true, sent + 57_600 * MS, sent, true)), "4.0 left");
    assertFalse(Headroom.anchored(new RateWindow(100, 3, true, sent + 58_300 * MS, sent, true)), "2.83: not 3");
    assertFalse(Headroom.anchored(new RateWindow(100, 3, true, sent + 57_500 * MS, sent, true)), "4.17: not 3");
  }

  @Test
  void whatThisInstanceSentExplainsADecreaseWithoutADrain() {
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(window(100, 0, 10 * S, 0), null, 0, 0);
    Headroom.Reservation r = new Headroom.Reservation();
    for (int i = 0; i < 6; i++) {
      h.reserve(500 * MS, 0, r); // this instance took the 6
    }
    h.observe(window(100, 4, 10_600 * MS, S), null, 0, S);
    assertEquals(14, h.requestRoom(2 * S), 1e-9, "refilled at the whole rate");
    assertEquals(100, h.requestRoom(10_600 * MS), 1e-9);
  }

  @Test
  void aHeaderAfterTheBucketCouldHaveBeenFullSaysNothingOfADrain() {
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(window(100, 0, 10 * S, 0), null, 0, 0); // full in 10 s
    h.observe(window(100, 4, 21 * S, 11 * S), null, 0, 11 * S); // 11 s later: it may have been full
    assertEquals(4 + 96 / 10.0, h.requestRoom(12 * S), 1e-9, "the whole refill, no drain");
  }

  @Test
  void reservationsCountedAgainstAnAnchoredHeaderEndItsAmpleShortcut() {
    long t0 = 10 * S;
    Headroom h = new Headroom(null, 0, 0, 0);
    Headroom.Reservation r = new Headroom.Reservation();
    for (int i = 0; i < 64; i++) {
      h.reserve(t0 + S, 0, r); // sent after the admission the header describes
    }
    RateWindow w = window(100, 60, t0 + 23_700 * MS, t0 + 2 * S); // 60 left (more than half) at t0
    h.observe(w, null, 0, t0 + 2 * S);
    assertEquals(60.5 + 2 * 100 / 60.0 - 64, h.requestRoom(t0 + 2 * S), 1e-9);
    assertFalse(h.admits(t0 + 2 * S, 0), "60 announced, 64 sent since: not ample, and no room");
  }

  @Test
  void tryReserveTakesTheLastUnitOnceAndHoldsNothingWhenItDoesNotFit() {
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(window(100, 1, -1, 0), window(1_000, 700, -1, 0), 0, 0); // one request and 700 tokens left
    Headroom.Reservation first = new Headroom.Reservation();
    Headroom.Reservation second = new Headroom.Reservation();
    assertTrue(h.tryReserve(0, 600, first));
    assertTrue(first.held());
    assertEquals(0, h.requestRoom(0), 1e-9);
    assertEquals(100, h.tokenRoom(0), 1e-9);
    assertFalse(h.tryReserve(0, 50, second), "the request is gone");
    assertFalse(second.held());
    assertEquals(0, h.requestRoom(0), 1e-9, "nothing taken by the refusal");
    assertEquals(100, h.tokenRoom(0), 1e-9);
    h.release(first); // never dispatched
    assertFalse(first.held());
    assertEquals(1, h.requestRoom(0), 1e-9);
    assertEquals(700, h.tokenRoom(0), 1e-9);
    assertFalse(h.tryReserve(0, 701, second), "the tokens do not fit: the request unit taken first is given back");
    assertEquals(1, h.requestRoom(0), 1e-9);
    assertEquals(700, h.tokenRoom(0), 1e-9);
  }

  @Test
  void tryReserveOnConfiguredBucketsTakesOnlyWhatFitsAndReleaseGivesItBack() {
    Headroom h = new Headroom(null, 2, 1_000, 0);
    Headroom.Reservation a = new Headroom.Reservation();
    Headroom.Reservation b = new Headroom.Reservation();
    assertTrue(h.tryReserve(0, 600, a));
    assertFalse(h.tryReserve(0, 600, b), "one request left but 400 tokens: nothing taken");
    assertEquals(1, h.requestRoom(0), 1e-9);
    assertEquals(400, h.tokenRoom(0), 1e-9);
    assertTrue(h.tryReserve(0, 400, b));
    assertFalse(h.tryReserve(0, 0, new Headroom.Reservation()), "both requests taken");
    h.release(b);
    assertEquals(1, h.requestRoom(0), 1e-9);
    assertEquals(400, h.tokenRoom(0), 1e-9);
    h.settle(a, 100); // the dispatched one reports 100
    assertEquals(900, h.tokenRoom(0), 1e-9);
  }

  @Test
  void manyThreadsTryingForFiveUnitsTakeExactlyFive() throws Exception {
    Headroom h = new Headroom(null, 0, 0, 0);
    h.observe(window(100, 5, -1, 0), null, 0, 0);
    int threads = 8;
    java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
    java.util.concurrent.atomic.AtomicInteger took = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(pool.submit(() -> {
          start.await(10, java.util.concurrent.TimeUnit.SECONDS);
          for (int i = 0; i < 100; i++) {
            if (h.tryReserve(0, 0, new Headroom.Reservation())) {
              took.incrementAndGet();
            }
          }
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> f : done) {
        f.get(10, java.util.concurrent.TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(5, took.get());
    assertEquals(0, h.requestRoom(0), 1e-9);
  }

  @Test
  void theRefillOfOneMoreRequestSpreadsTheWakeUps() {
    Headroom h = new Headroom(null, 0, 0, 0);
    assertEquals(0, h.refillNanos(0), "nothing known: no gradual refill");
    h.observe(window(100, 0, 10 * S, 0), window(10_000, 0, 10 * S, 0), 0, 0); // 10 requests and 1,000 tokens per second
    assertEquals(100 * MS, h.refillNanos(0));
    assertEquals(500 * MS, h.refillNanos(500), "500 tokens take longer than one request");
    Headroom configured = new Headroom(null, 60, 0, 0);
    assertEquals(S, configured.refillNanos(0));
    Headroom fixed = new Headroom(null, 0, 0, 0);
    fixed.observe(window(500, 0, 20 * S, 0), null, 0, 0);
    fixed.rateLimited(0, 20 * S);
    assertEquals(0, fixed.refillNanos(0), "a fixed window refills at its reset, all at once");
  }

  @Test
  void aFixedWindowIsDetectedOnThe429sOwnWindowAndTheSlowerAnswersCountIsDropped() {
    // Fixed one-minute windows ending at 60 s. A slow 200 admitted at 45 s (5 left) arrives at 50 s:
    // its reset (a duration from the admission) lands 5 s late, at 65 s, and it is the stored window.
    Headroom h = new Headroom(null, 0, 0, 0);
    RateWindow slow = window(100, 5, 65 * S, 50 * S);
    h.observe(slow, null, 0, 50 * S);
    // A 429 at 51 s: 0 left, reset at 60 s, Retry-After 9 s. Its own window loses to the later reset...
    RateWindow limited = window(100, 0, 60 * S, 51 * S);
    h.observe(limited, null, 0, 51 * S);
    assertEquals(slow, h.requestWindow(), "the later reset wins the ordinary merge");
    h.rateLimited(51 * S, 9 * S); // judged on the stored window (5 left): no fixed window seen
    assertFalse(h.fixedWindows());
    h.rateLimited(51 * S, 9 * S, limited, null); // judged on the 429's own: 0 left, 9 s to its reset
    assertTrue(h.fixedWindows());
    assertEquals(limited, h.requestWindow(), "the 429's exhausted window is the provider's latest word");
    assertFalse(h.admits(59 * S, 0), "no refill inside the window");
    assertEquals(9 * S, h.untilRoom(51 * S, 0), "back at the window's real end, not 5 s later");
    // Another slow 200 of the same window (reset late by its latency, 3 left) does not bring the units back.
    h.observe(window(100, 3, 62 * S, 52 * S), null, 0, 52 * S);
    assertEquals(limited, h.requestWindow());
    assertTrue(h.admits(60 * S, 0));
    // The next window's answers are stored as usual.
    RateWindow next = window(100, 90, 120 * S, 61 * S);
    h.observe(next, null, 0, 61 * S);
    assertEquals(next, h.requestWindow());
  }

  @Test
  void aBucketsExhausted429IsNotMistakenForAFixedWindow() {
    Headroom h = new Headroom(null, 0, 0, 0);
    RateWindow limited = window(42, 0, 60 * S, 0); // empty: 60 s to full at 42 per minute
    h.observe(limited, null, 0, 0);
    h.rateLimited(0, 2 * S, limited, null); // Retry-After 2 s: one unit's refill, rounded up
    assertFalse(h.fixedWindows());
    assertTrue(h.admits(1_500 * MS, 0), "the bucket refills between answers");
  }
}
