package io.github.llmpool.internal.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The pick's fast paths ({@link Headroom#admits}, {@link Headroom#costFactor} and the combined
 * {@link Headroom#pickFactor}) decide exactly as the full arithmetic ({@code slowAdmits},
 * {@code slowCostFactor}) over configured buckets, header windows and both, at every fill level
 * and time a seeded run of reservations and settlements reaches.
 */
class HeadroomFastPathTest {
  private static final long S = 1_000_000_000L;
  private static final long MINUTE = 60 * S;

  /** Every answer of the pick's paths, against the exact checks, for one request size. */
  private static void assertExact(Headroom h, long now, long tokens, String where) {
    RateWindow rw = h.requestWindow();
    RateWindow tw = h.tokenWindow();
    boolean fits = h.slowAdmits(rw, tw, now, tokens);
    double factor = h.slowCostFactor(rw, tw, now);
    assertEquals(fits, h.admits(now, tokens), where + ": admits");
    assertEquals(factor, h.costFactor(now), where + ": costFactor");
    assertEquals(fits ? factor : -1, h.pickFactor(now, tokens), where + ": pickFactor");
    assertEquals(h.ampleLive(now, tokens), h.quick(now, tokens), where + ": the pick's word against the live state");
    assertEquals(h.ampleLive(now, 0), h.quick(now, 0), where + ": the pick's word, no estimate");
    for (ProviderState s : h.mirrored()) {
      assertTrue(s.headroom() == h, where + ": a mirror points here");
      assertEquals(h.ampleLive(now, tokens), s.roomQuick(now, tokens), where + ": " + s.name() + "'s copy of the word");
      assertEquals(h.ampleLive(now, 0), s.roomQuick(now, 0), where + ": " + s.name() + "'s copy, no estimate");
      assertEquals(!s.drained() && !s.evicted() && h.ampleLive(now, tokens), s.pickQuick(now, tokens),
          where + ": " + s.name() + "'s pick word (availability and the headroom's word)");
    }
  }

  /**
   * The pick's word ({@code quickTokens}, {@code quickFrom}) is kept current by every writer:
   * headers (both dimensions, replaced and superseded), a 429's fixed-window spend, other
   * instances' dispatches, reservations, conditional reservations, releases and settlements, in a
   * seeded random order over buckets and windows together; after each, the fast answers equal the
   * live state's and the exact arithmetic's, now and around the instants the buckets' answers change.
   */
  @Test
  void everyWriterKeepsThePicksWordCurrent() {
    SplittableRandom r = new SplittableRandom(29);
    int checks = 0;
    for (int run = 0; run < 300; run++) {
      long now = MINUTE;
      int rpm = r.nextBoolean() ? 0 : 1 + r.nextInt(600);
      long tpm = r.nextBoolean() ? 0 : 1 + r.nextLong(200_000);
      Headroom h = new Headroom(null, rpm, tpm, now);
      // provider states pointing here (a quota group's two members), and one that moves between
      // this headroom and another (a reconfiguration): each holds the pick's copy of the word
      ProviderState a = new ProviderState("a", now);
      ProviderState b = new ProviderState("b", now);
      ProviderState moving = new ProviderState("moving", now);
      Headroom other = new Headroom(null, 1 + r.nextInt(600), r.nextLong(200_000), now);
      a.headroom(h);
      b.headroom(h);
      java.util.ArrayDeque<Headroom.Reservation> held = new java.util.ArrayDeque<>();
      for (int step = 0; step < 80; step++) {
        long tokens = r.nextLong(Math.max(2, tpm / 3 + 2));
        if (r.nextInt(5) == 0) {
          moving.headroom(moving.headroom() == h ? other : h);
          assertEquals(moving.headroom().ampleLive(now, tokens), moving.roomQuick(now, tokens), "moved: its copy is the new headroom's");
        }
        switch (r.nextInt(8)) {
          case 0 -> {
            long rl = 1 + r.nextInt(1_000);
            long tl = 1 + r.nextLong(100_000);
            boolean reset = r.nextBoolean();
            long resetAt = now + r.nextLong(MINUTE);
            h.observe(r.nextInt(3) == 0 ? null : new RateWindow(rl, r.nextLong(rl + 1), reset, resetAt, now),
                r.nextInt(3) == 0 ? null : new RateWindow(tl, r.nextLong(tl + 1), reset, resetAt, now, r.nextBoolean()),
                0, now);
          }
          case 1 -> {
            long resetAt = now + 1 + r.nextLong(MINUTE);
            h.rateLimited(now, resetAt - now, new RateWindow(100, 0, true, resetAt, now),
                new RateWindow(10_000, 0, true, resetAt, now));
          }
          case 2 -> h.othersDispatched(r.nextInt(40), r.nextLong(20_000) - 2_000, now);
          case 3 -> {
            Headroom.Reservation res = new Headroom.Reservation();
            if (h.tryReserve(now, tokens, res)) {
              held.add(res);
            }
          }
          case 4 -> {
            if (!held.isEmpty()) {
              h.release(held.poll());
            }
          }
          case 5 -> {
            if (!held.isEmpty()) {
              Headroom.Reservation res = held.poll();
              h.settle(res, r.nextLong(2 * res.tokens() + 2));
            }
          }
          default -> {
            Headroom.Reservation res = new Headroom.Reservation();
            h.reserve(now, tokens, res);
            held.add(res);
          }
        }
        for (long t : new long[] {0, 1, tokens, tpm / 2, tpm + 1}) {
          for (long at : new long[] {now, now + 1, now + MINUTE / Math.max(1, rpm), now + r.nextLong(MINUTE)}) {
            assertExact(h, at, t, "run " + run + " step " + step + " tokens " + t + " at +" + (at - now));
            checks++;
          }
        }
        for (long t : new long[] {0, tokens}) {
          assertEquals(other.ampleLive(now, t), other.quick(now, t), "the other headroom's word");
          for (ProviderState s : other.mirrored()) {
            assertEquals(other.ampleLive(now, t), s.roomQuick(now, t), "run " + run + " step " + step + ": the other's copy");
          }
        }
        now += r.nextInt(4) == 0 ? 0 : r.nextLong(2 * S);
      }
      assertEquals(moving.headroom() == h ? 3 : 2, h.mirrored().length, "run " + run + ": who holds h's word");
      // a dropped provider's copy sends the pick to the exact checks, whatever the writers do after
      b.retire();
      assertEquals(1 + (moving.headroom() == h ? 1 : 0), h.mirrored().length, "retired: no longer written");
      h.observe(new RateWindow(1_000, 1_000, true, now + MINUTE, now), null, 0, now);
      assertFalse(b.roomQuick(now, 0), "run " + run + ": a retired state's copy never admits");
      assertFalse(b.pickQuick(now, 0), "run " + run + ": nor its pick word");
    }
    assertTrue(checks > 100_000);
  }

  @Test
  void configuredBucketsFastPathMatchesTheArithmeticAtEveryFillLevel() {
    SplittableRandom r = new SplittableRandom(17);
    int[] rpms = {1, 2, 3, 7, 60, 500, 10_000};
    long[] tpms = {0, 1, 2, 999, 40_000, 2_000_000};
    int checks = 0;
    for (int rpm : rpms) {
      for (long tpm : tpms) {
        long now = 5 * MINUTE;
        Headroom h = new Headroom(null, rpm, tpm, now);
        Headroom.Reservation res = new Headroom.Reservation();
        for (int step = 0; step < 400; step++) {
          long tokens = r.nextInt(4) == 0 ? r.nextLong(Math.max(2, 2 * tpm + 2)) : r.nextLong(Math.max(2, tpm / 4 + 2));
          for (long t : new long[] {0, 1, tokens, tpm / 2, tpm / 2 + 1, tpm, tpm + 1}) {
            assertExact(h, now, t, "rpm " + rpm + " tpm " + tpm + " step " + step + " tokens " + t);
            checks++;
          }
          if (r.nextInt(3) != 0) {
            h.reserve(now, tokens, res);
            if (r.nextBoolean()) {
              h.settle(res, r.nextLong(tokens + 1));
            }
          }
          now += r.nextInt(5) == 0 ? r.nextLong(MINUTE / 2) : r.nextLong(MINUTE / Math.max(1, rpm) + 1);
        }
      }
    }
    assertTrue(checks > 100_000);
  }

  /**
   * The instants the exact answers change as a drained bucket refills (found by bisection on the
   * arithmetic), and a few nanoseconds either side of each: where a fast path's lead that were one
   * nanosecond too long would answer differently.
   */
  @Test
  void atTheInstantsTheExactAnswersChangeTheFastPathsAgree() {
    int[] rpms = {2, 3, 7, 60, 500, 10_000, 1_000_000};
    long[] tpms = {0, 2, 999, 40_000, 2_000_000, 1L << 40};
    int boundaries = 0;
    for (int rpm : rpms) {
      for (long tpm : tpms) {
        long start = 5 * MINUTE;
        Headroom h = new Headroom(null, rpm, tpm, start);
        Headroom.Reservation res = new Headroom.Reservation();
        for (int i = 0; i < rpm && i < 2_000; i++) { // drain the request bucket (and tokens with it)
          h.reserve(start, tpm / Math.min(rpm, 2_000), res);
        }
        long end = start + 3 * MINUTE;
        for (long t : new long[] {0, 1, tpm / 3, tpm / 2}) {
          long factorOne = firstTrue(start, end, now -> h.slowCostFactor(null, null, now) == 1);
          long fits = firstTrue(start, end, now -> h.slowAdmits(null, null, now, t));
          for (long at : new long[] {factorOne, fits}) {
            for (long d = -3; d <= 3; d++) {
              assertExact(h, at + d, t, "rpm " + rpm + " tpm " + tpm + " tokens " + t + " at boundary " + d);
            }
            boundaries++;
          }
        }
      }
    }
    assertTrue(boundaries > 300);
  }

  /** The first instant in {@code (lo, hi]} where a monotone condition holds (false at lo, true at hi). */
  private static long firstTrue(long lo, long hi, java.util.function.LongPredicate p) {
    if (p.test(lo)) {
      return lo;
    }
    assertTrue(p.test(hi), "the condition holds by the end");
    while (hi - lo > 1) {
      long mid = lo + (hi - lo) / 2;
      if (p.test(mid)) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    return hi;
  }

  @Test
  void headerWindowsAndBucketsTogetherMatchTheArithmetic() {
    SplittableRandom r = new SplittableRandom(19);
    for (int run = 0; run < 200; run++) {
      long now = MINUTE;
      Headroom h = new Headroom(null, r.nextBoolean() ? 0 : 1 + r.nextInt(1_000), r.nextBoolean() ? 0 : 1 + r.nextLong(100_000), now);
      Headroom.Reservation res = new Headroom.Reservation();
      for (int step = 0; step < 100; step++) {
        if (r.nextInt(8) == 0) {
          long rl = 1 + r.nextInt(1_000);
          long tl = 1 + r.nextLong(100_000);
          boolean reset = r.nextBoolean();
          long resetAt = now + r.nextLong(MINUTE);
          h.observe(new RateWindow(rl, r.nextLong(rl + 1), reset, resetAt, now),
              new RateWindow(tl, r.nextLong(tl + 1), reset, resetAt, now), 0, now);
        }
        long tokens = r.nextLong(50_000);
        for (long t : new long[] {0, 1, tokens}) {
          assertExact(h, now, t, "run " + run + " step " + step + " tokens " + t);
        }
        if (r.nextBoolean()) {
          h.reserve(now, tokens, res);
        }
        now += r.nextLong(2 * S);
      }
    }
  }

  @Test
  void aHalfFullBucketStillCostsNothingAndAnEmptyOneIsRefused() {
    long now = MINUTE;
    Headroom h = new Headroom(null, 100, 0, now);
    Headroom.Reservation res = new Headroom.Reservation();
    for (int i = 0; i < 50; i++) {
      h.reserve(now, 0, res);
    }
    assertEquals(1, h.pickFactor(now, 0), "half of the minute's requests left");
    h.reserve(now, 0, res);
    assertEquals(0.5 / (49 / 100.0), h.pickFactor(now, 0), 1e-9, "less than half left: the factor rises");
    for (int i = 0; i < 49; i++) {
      h.reserve(now, 0, res);
    }
    assertFalse(h.admits(now, 0));
    assertEquals(-1, h.pickFactor(now, 0));
    assertTrue(h.admits(now + MINUTE / 100, 0), "one request's worth refilled");
  }
}
