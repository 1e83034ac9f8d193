package io.github.llmpool.internal.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The pick's one word per provider ({@link ProviderState#pickQuick}: availability folded with the
 * headroom's word) is kept current by every writer of any of its inputs: evictions (named and not,
 * renewed, ended by a healthy answer or by the named deadline's claim), probes claimed and
 * released, drains, the headroom's writers, the provider moved to another headroom, and retirement.
 * After each step, in a seeded random order, the word says exactly "simply available (not drained,
 * not evicted, not retired) and the headroom's word admits", and it never admits a provider
 * {@link ProviderState#isAvailable} refuses. A writer that forgets to refresh the word fails here.
 */
class PickWordAvailabilityTest {
  private static final long S = 1_000_000_000L;
  private static final long MINUTE = 60 * S;

  @Test
  void everyWriterOfAnInputKeepsThePickWordCurrent() {
    SplittableRandom r = new SplittableRandom(41);
    int checks = 0;
    int admitted = 0;
    int refused = 0;
    boolean[] seen = new boolean[12];
    for (int run = 0; run < 200; run++) {
      long now = MINUTE;
      int rpm = r.nextBoolean() ? 0 : 1 + r.nextInt(600);
      long tpm = r.nextBoolean() ? 0 : 1 + r.nextLong(200_000);
      Headroom h = new Headroom(null, rpm, tpm, now);
      Headroom other = new Headroom(null, 0, 0, now);
      ProviderState s = new ProviderState("p", now);
      ProviderState peer = new ProviderState("peer", now); // a quota group's other member
      s.headroom(h);
      peer.headroom(h);
      java.util.ArrayDeque<Headroom.Reservation> held = new java.util.ArrayDeque<>();
      boolean retired = false;
      for (int step = 0; step < 120; step++) {
        long tokens = r.nextLong(Math.max(2, tpm / 3 + 2));
        int op = r.nextInt(retired ? 4 : 12);
        seen[op] = true;
        switch (op) {
          case 0 -> h.observe(new RateWindow(1_000, r.nextLong(1_001), true, now + r.nextLong(MINUTE), now),
              new RateWindow(100_000, r.nextLong(100_001), true, now + r.nextLong(MINUTE), now), 0, now);
          case 1 -> {
            Headroom.Reservation res = new Headroom.Reservation();
            h.reserve(now, tokens, res);
            held.add(res);
          }
          case 2 -> {
            if (!held.isEmpty()) {
              h.release(held.poll());
            }
          }
          case 3 -> h.rateLimited(now, 1 + r.nextLong(MINUTE));
          case 4 -> s.evictUntil(now, now + r.nextLong(10 * S), r.nextBoolean(), r.nextBoolean());
          case 5 -> s.claim(now); // a probe claimed, a named eviction ended, or ordinary traffic
          case 6 -> s.releaseProbe();
          case 7 -> s.recordHealthy();
          case 8 -> s.drain(true);
          case 9 -> s.drain(false);
          case 10 -> s.headroom(s.headroom() == h ? other : h);
          default -> {
            if (r.nextInt(4) == 0) {
              s.retire();
              retired = true;
            } else {
              s.evictUntil(now, now + r.nextLong(S), false, true); // named, short: ends by a claim
            }
          }
        }
        for (long t : new long[] {0, 1, tokens, tpm / 2 + 1}) {
          for (long at : new long[] {now, now + 1, now + r.nextLong(20 * S), now + MINUTE / Math.max(1, rpm)}) {
            boolean expected = !retired && !s.drained() && !s.evicted() && s.headroom().ampleLive(at, t);
            boolean quick = s.pickQuick(at, t);
            assertEquals(expected, quick, "run " + run + " step " + step + " op " + op + " tokens " + t
                + " at +" + (at - now) + ": drained " + s.drained() + ", evicted " + s.evicted());
            if (quick) {
              assertTrue(s.isAvailable(at), "the word admits only an available provider");
              admitted++;
            } else {
              refused++;
            }
            assertEquals(!peer.drained() && !peer.evicted() && h.ampleLive(at, t), peer.pickQuick(at, t),
                "run " + run + " step " + step + ": the group's other member");
            checks++;
          }
        }
        now += r.nextInt(3) == 0 ? 0 : r.nextLong(3 * S);
      }
    }
    for (int op = 0; op < seen.length; op++) {
      assertTrue(seen[op], "writer " + op + " exercised");
    }
    assertTrue(checks > 50_000 && admitted > 10_000 && refused > 10_000,
        checks + " checks, " + admitted + " admitted, " + refused + " refused");
  }

  @Test
  void aDrainedEvictedOrRetiredProviderNeverTakesTheFastPath() {
    long now = MINUTE;
    ProviderState s = new ProviderState("p", now);
    assertTrue(s.pickQuick(now, 1_000), "nothing known, available: the word admits");
    s.drain(true);
    assertFalse(s.pickQuick(now, 0), "drained");
    s.drain(false);
    assertTrue(s.pickQuick(now, 0), "back from the drain");
    s.evictUntil(now, now + S, true, false);
    assertFalse(s.pickQuick(now + 2 * S, 0), "evicted, even past its deadline (the probe gate decides)");
    assertTrue(s.isAvailable(now + 2 * S), "past the deadline with no probe: the exact check admits");
    assertEquals(ProviderState.PROBE, s.claim(now + 2 * S));
    assertFalse(s.pickQuick(now + 2 * S, 0), "probing");
    s.recordHealthy();
    assertTrue(s.pickQuick(now + 2 * S, 0), "restored by a healthy answer");
    s.evictUntil(now, now + S, false, true);
    assertFalse(s.pickQuick(now + 2 * S, 0), "a named eviction");
    assertEquals(ProviderState.RETURNED, s.claim(now + 2 * S));
    assertTrue(s.pickQuick(now + 2 * S, 0), "the named deadline's claim ended it");
    s.retire();
    assertFalse(s.pickQuick(now + 2 * S, 0), "retired");
  }
}
