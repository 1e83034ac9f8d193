package io.github.llmpool.internal.route;

import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.internal.route.Slot;

/**
 * Smooth weighted round robin (nginx's sequence, weights 5/1/1 give a a b a c a a) over a schedule
 * precomputed when the snapshot is built. Each thread advances one of {@value #STRIPES} padded
 * positions chosen by its thread id, each stripe starting at its own offset in the schedule, so
 * picks on different threads do not write one shared counter (Ribbon's round robin slows down 12x
 * on two threads for that reason). A position is advanced with a plain write: two threads that
 * share a stripe may occasionally pick the same step, which only perturbs the order, never the
 * safety. When the scheduled provider is evicted or excluded, its turn goes to an eligible provider
 * drawn by weight, so an eviction spreads its share proportionally.
 * Thread-safe, lock-free, allocation-free.
 */
public final class RoundRobinPicker extends TierPicker {
  static final int STRIPES = 8;
  private static final int PAD = 16; // longs between two positions: 128 bytes
  /** Longest schedule kept; larger weight sums are scaled down proportionally. */
  static final int MAX_SCHEDULE = 8192;

  private final int[] schedule;
  private final long[] positions = new long[(STRIPES + 1) * PAD];

  public RoundRobinPicker(Slot[] slots, RandomSource random) {
    this(slots, random, false);
  }

  /** As above; {@code quotaRouting}: a provider without headroom for the request is not eligible. */
  public RoundRobinPicker(Slot[] slots, RandomSource random, boolean quotaRouting) {
    super(slots, random, quotaRouting);
    this.schedule = buildSchedule(slots);
    for (int s = 0; s < STRIPES; s++) {
      positions[(s + 1) * PAD] = schedule.length == 0 ? 0 : (long) s * schedule.length / STRIPES;
    }
  }

  static int[] buildSchedule(Slot[] slots) {
    int n = slots.length;
    long[] w = new long[n];
    long total = 0;
    long g = 0;
    for (int i = 0; i < n; i++) {
      w[i] = slots[i].weight;
      total += w[i];
      g = gcd(g, w[i]);
    }
    if (total == 0) {
      return new int[0];
    }
    for (int i = 0; i < n; i++) {
      w[i] /= g;
    }
    total /= g;
    if (total > MAX_SCHEDULE) {
      long scaled = 0;
      for (int i = 0; i < n; i++) {
        if (w[i] > 0) {
          w[i] = Math.max(1, Math.round(w[i] * (double) MAX_SCHEDULE / total));
        }
        scaled += w[i];
      }
      total = scaled;
    }
    int[] schedule = new int[(int) total];
    long[] current = new long[n];
    for (int step = 0; step < total; step++) {
      int best = -1;
      for (int i = 0; i < n; i++) {
        if (w[i] == 0) {
          continue;
        }
        current[i] += w[i];
        if (best < 0 || current[i] > current[best]) {
          best = i;
        }
      }
      current[best] -= total;
      schedule[step] = best;
    }
    return schedule;
  }

  private static long gcd(long a, long b) {
    while (b != 0) {
      long t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  @Override
  @SuppressWarnings("deprecation") // Thread.getId(): threadId() needs Java 19
  public int pick(long now, Exclusion exclusion) {
    int len = schedule.length;
    if (len == 0) {
      return -1;
    }
    int stripe = (int) ((Thread.currentThread().getId() * 0x9E3779B97F4A7C15L) >>> 61); // 0..7
    int at = (stripe + 1) * PAD;
    long pos = positions[at];
    if (pos >= len || pos < 0) {
      pos = 0;
    }
    positions[at] = pos + 1 == len ? 0 : pos + 1;
    int i = schedule[(int) pos];
    if (eligible(i, now, exclusion)) {
      return i;
    }
    // The scheduled provider is out: spread its turn over the eligible ones by weight (walking to
    // the next scheduled provider instead would hand its whole share to its successor).
    long sum = eligibleWeight(now, exclusion, -1);
    return sum == 0 ? -1 : drawEligible(now, exclusion, -1, sum);
  }

  /** The precomputed schedule (slot indices), for tests. */
  int[] schedule() {
    return schedule.clone();
  }
}
