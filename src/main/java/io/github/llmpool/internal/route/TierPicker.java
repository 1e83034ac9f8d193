package io.github.llmpool.internal.route;

import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.internal.health.Headroom;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.route.Slot;

/**
 * Picks one provider of one tier. Built once per routing snapshot over an immutable array of
 * slots; {@link #pick} takes no lock and allocates nothing. Thread-safe.
 */
public abstract class TierPicker {
  protected final Slot[] slots;
  /** slots[i].state and slots[i].weight, flat: the pick reads them without going through the slot. */
  protected final ProviderState[] states;
  protected final int[] weights;
  protected final RandomSource random;
  /** Each slot's quota headroom, or null without quota routing. */
  private final Headroom[] headrooms;
  /** Each slot's budgets (null entries: none), or null when no slot of the tier has one. */
  private final io.github.llmpool.internal.health.BudgetGate[][] budgets;
  /**
   * Flat, for the pick: each slot's first budget's state (null: no budget), or null when no slot of
   * the tier has one; and {@link io.github.llmpool.internal.health.BudgetGate#ampleAt} of that
   * gate, or {@code Long.MIN_VALUE} when the slot has more than one budget (the pick then checks
   * them all). One array element and one volatile read instead of the gates' chain.
   */
  private final io.github.llmpool.internal.health.BudgetState[] budgetStates;
  private final long[] budgetAmpleAt;
  /** cumulative[i] = weight of slots 0..i. */
  protected final int[] cumulative;
  protected final int totalWeight;
  /**
   * Guide table (Chen and Asau's indexed search) over the cumulative weights: bucket {@code b} of
   * {@code [0, totalWeight)} starts at slot {@code guide[b]}, so {@link #indexOf} finds a draw's
   * slot from its bucket in one or two comparisons instead of a binary search. {@code guide[G]} is
   * the last slot.
   */
  private final int[] guide;
  /** bucket(r) = (r x bucketMul) >>> 32, a monotone map of [0, totalWeight) onto [0, G). */
  private final long bucketMul;
  /**
   * Every bucket starts at most one slot before the next one does, so a draw's slot is its
   * bucket's guide or the one after: {@link #indexOf} takes one branch-free step (the draw is
   * random, so a loop or branch on it is mispredicted about every other pick).
   */
  private final boolean oneStep;
  /** Largest guide table tried for {@link #oneStep} (ints). */
  private static final int MAX_ONE_STEP_BUCKETS = 1 << 12;

  protected TierPicker(Slot[] slots, RandomSource random) {
    this(slots, random, false);
  }

  /**
   * @param quotaRouting whether a provider without quota headroom for a request is not eligible for
   *     it (each slot's {@link ProviderState#headroom()} as the routing snapshot is built)
   */
  protected TierPicker(Slot[] slots, RandomSource random, boolean quotaRouting) {
    this.slots = slots;
    if (quotaRouting) {
      headrooms = new Headroom[slots.length];
      for (int i = 0; i < slots.length; i++) {
        headrooms[i] = slots[i].state.headroom();
      }
    } else {
      headrooms = null;
    }
    io.github.llmpool.internal.health.BudgetGate[][] b = null;
    for (int i = 0; i < slots.length; i++) {
      if (slots[i].budgets != null) {
        if (b == null) {
          b = new io.github.llmpool.internal.health.BudgetGate[slots.length][];
        }
        b[i] = slots[i].budgets;
      }
    }
    this.budgets = b;
    if (b == null) {
      this.budgetStates = null;
      this.budgetAmpleAt = null;
    } else {
      this.budgetStates = new io.github.llmpool.internal.health.BudgetState[slots.length];
      this.budgetAmpleAt = new long[slots.length];
      for (int i = 0; i < slots.length; i++) {
        if (b[i] != null) {
          budgetStates[i] = b[i][0].state;
          budgetAmpleAt[i] = b[i].length == 1 ? b[i][0].ampleAt() : Long.MIN_VALUE;
        }
      }
    }
    this.random = random;
    this.states = new ProviderState[slots.length];
    this.weights = new int[slots.length];
    for (int i = 0; i < slots.length; i++) {
      states[i] = slots[i].state;
      weights[i] = slots[i].weight;
    }
    this.cumulative = new int[slots.length];
    long sum = 0;
    for (int i = 0; i < slots.length; i++) {
      sum += slots[i].weight;
      if (sum > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("sum of weights in a tier must be <= " + Integer.MAX_VALUE + " but was " + sum);
      }
      cumulative[i] = (int) sum;
    }
    this.totalWeight = (int) sum;
    int n = slots.length;
    if (sum == 0 || n == 0) {
      this.guide = new int[] {0, 0};
      this.bucketMul = 0;
      this.oneStep = false;
      return;
    }
    int buckets = Integer.highestOneBit(Math.max(1, n - 1)) << 2; // 2n..4n buckets
    // Buckets no wider than the lightest slot, when that stays small: each one then covers at most
    // two slots, and a draw takes one step from its guide (checked below, not assumed).
    int lightest = Integer.MAX_VALUE;
    for (Slot s : slots) {
      if (s.weight > 0) {
        lightest = Math.min(lightest, s.weight);
      }
    }
    long fine = Long.highestOneBit(Math.max(1, (sum + lightest - 1) / lightest)) << 1;
    int[] g = null;
    long mul = 0;
    if (fine > buckets && fine <= MAX_ONE_STEP_BUCKETS) {
      mul = (fine << 32) / sum;
      g = guideTable((int) fine, mul, sum);
      if (!spansAtMostOne(g)) {
        g = null;
      }
    }
    if (g == null) {
      mul = ((long) buckets << 32) / sum;
      g = guideTable(buckets, mul, sum);
    }
    this.bucketMul = mul;
    this.guide = g;
    this.oneStep = spansAtMostOne(g);
  }

  private int[] guideTable(int buckets, long mul, long sum) {
    int n = slots.length;
    int[] g = new int[buckets + 1];
    int slot = 0;
    for (int b = 0; b < buckets; b++) {
      long first = firstOfBucket(b, sum, mul);
      if (first >= sum) {
        g[b] = n - 1;
        continue;
      }
      while (cumulative[slot] <= first) {
        slot++;
      }
      g[b] = slot;
    }
    g[buckets] = n - 1;
    return g;
  }

  private static boolean spansAtMostOne(int[] g) {
    for (int b = 0; b + 1 < g.length; b++) {
      if (g[b + 1] - g[b] > 1) {
        return false;
      }
    }
    return true;
  }

  /**
   * The smallest r in [0, total) with bucket(r) >= b (or >= total when there is none). bucketMul is
   * at least 8 here: buckets >= 4 and total < 2^31.
   */
  private static long firstOfBucket(int b, long total, long bucketMul) {
    long r = (((long) b << 32) + bucketMul - 1) / bucketMul;
    while (r > 0 && (((r - 1) * bucketMul) >>> 32) >= b) {
      r--;
    }
    while (r < total && ((r * bucketMul) >>> 32) < b) {
      r++;
    }
    return r;
  }

  /**
   * "Every provider of this tier is out (evicted with a deadline ahead, probing, or of weight 0)
   * until {@code until}", made when the restore count ({@link ProviderState#restores()}) was
   * {@code restores}. Immutable; published whole.
   */
  private static final class OutHint {
    final long restores;
    final long until;

    OutHint(long restores, long until) {
      this.restores = restores;
      this.until = until;
    }
  }

  /**
   * The latest hint (null: none yet); it may be stale, {@link #knownOut} checks. A plain field: the
   * hint is immutable (final fields, safe to read through a race), a stale read only costs a pass
   * or is refused by the restore count, and the pick then reads no volatile for a tier with no
   * hint.
   */
  private OutHint outHint;

  /** Far enough ahead that it never comes (ticker times compare by difference, within 2^62). */
  private static final long NEVER = 1L << 62;

  /**
   * Whether this tier certainly has no eligible provider at {@code now}, in O(1): a hint made by
   * {@link #noteNothingEligible} says every provider is out until a time still ahead, and no
   * provider anywhere came back early since (restore count unchanged). False when unknown.
   */
  public final boolean knownOut(long now) {
    OutHint h = outHint;
    return h != null && now - h.until < 0 && h.restores == ProviderState.restores();
  }

  /**
   * After a pick of this tier found nothing: one pass to learn whether every provider is out, and
   * until when (the earliest deadline ahead), then a hint for {@link #knownOut}. The restore count
   * is read before the pass, so a restore that the pass does not see invalidates the hint. No hint
   * when some provider is not out (the pick failed on the request's exclusions, or a provider came
   * back meanwhile). Allocates one small object per hint made, not per pick.
   */
  public final void noteNothingEligible(long now) {
    long restores = ProviderState.restores();
    long left = NEVER;
    for (Slot s : slots) {
      if (s.weight == 0) {
        continue; // never eligible
      }
      ProviderState st = s.state;
      if (!st.evicted()) {
        return;
      }
      long l = st.evictedUntil() - now;
      if (l > 0) {
        left = Math.min(left, l);
      } else if (!st.probeInFlight() || st.namedEnd()) {
        return; // past its deadline with no probe (or one the server named): eligible
      } // else probing: out until the probe ends, which counts as a restore
    }
    OutHint h = outHint;
    long until = now + left;
    if (h == null || h.restores != restores || h.until != until) {
      outHint = new OutHint(restores, until);
    }
  }

  /** The index of the chosen slot in this tier, or -1 when no slot is eligible. */
  public abstract int pick(long now, Exclusion exclusion);

  protected final boolean eligible(int i, long now, Exclusion exclusion) {
    return weights[i] > 0 && availableWithRoom(i, now, exclusion)
        && (exclusion == null || !exclusion.excludes(slots[i])) && withinBudgets(i, exclusion);
  }

  /**
   * Whether the provider is available ({@link ProviderState#isAvailable}) and has quota headroom
   * for the request (always, without quota routing). Under quota routing, the common case is the
   * provider state's one word ({@link ProviderState#pickQuick}: two adjacent volatile loads, no
   * read of the eviction fields or of the headroom); anything else takes the exact checks as
   * before (availability, the state's copy of the headroom's word, {@link Headroom#admits}).
   */
  private boolean availableWithRoom(int i, long now, Exclusion exclusion) {
    ProviderState s = states[i];
    Headroom[] h = headrooms;
    if (h == null) {
      return s.isAvailable(now);
    }
    long tokens = exclusion == null ? 0 : exclusion.tokens();
    return s.pickQuick(now, tokens)
        || (s.isAvailable(now) && (s.roomQuick(now, tokens) || h[i].admits(now, tokens)));
  }

  /**
   * {@link #eligible} and {@link #headroomFactor} in one look at the provider's headroom (P2C's
   * pick reads each candidate's once): -1 when the slot is not eligible, else its headroom factor
   * (1 without quota routing).
   */
  protected final double eligibleFactor(int i, long now, Exclusion exclusion) {
    if (weights[i] <= 0) {
      return -1;
    }
    ProviderState s = states[i];
    Headroom[] h = headrooms;
    double f;
    if (h == null) {
      if (!s.isAvailable(now)) {
        return -1;
      }
      f = 1;
    } else {
      long tokens = exclusion == null ? 0 : exclusion.tokens();
      if (s.pickQuick(now, tokens)) {
        f = 1; // available, and the headroom's word admits: every known dimension half full or more
      } else if (!s.isAvailable(now)) {
        return -1;
      } else {
        f = h[i].pickFactor(now, tokens);
      }
    }
    if (exclusion != null && exclusion.excludes(slots[i])) {
      return -1;
    }
    return f >= 0 && withinBudgets(i, exclusion) ? f : -1;
  }

  /**
   * Whether the request fits every budget whose scope holds the provider: nothing to check for a
   * tier without budgets (one field read) or a provider without one; else, while each budget has
   * room for any request the pool reads ({@link io.github.llmpool.internal.health.BudgetGate#ample}),
   * one volatile read per budget compared with a threshold; the estimate is priced only for a
   * budget nearly spent. No allocation.
   */
  private boolean withinBudgets(int i, Exclusion exclusion) {
    io.github.llmpool.internal.health.BudgetState[] s = budgetStates;
    if (s == null) {
      return true;
    }
    io.github.llmpool.internal.health.BudgetState one = s[i];
    if (one == null) {
      return true;
    }
    long prompt = exclusion == null ? 0 : exclusion.promptTokens();
    // one budget with room for any request the pool reads: BudgetGate.ample, from the flat arrays
    return (prompt <= io.github.llmpool.internal.health.BudgetGate.PROMPT_BOUND && one.committedAtMost(budgetAmpleAt[i]))
        || gatesAdmit(budgets[i], prompt, exclusion);
  }

  /** {@link #withinBudgets} past the flat check: every gate of the slot, as before. */
  private static boolean gatesAdmit(io.github.llmpool.internal.health.BudgetGate[] g, long prompt, Exclusion exclusion) {
    if (prompt <= io.github.llmpool.internal.health.BudgetGate.PROMPT_BOUND) {
      int k = 0;
      while (k < g.length && g[k].ample()) {
        k++;
      }
      if (k == g.length) {
        return true; // every budget has room for any request the pool reads
      }
    }
    return io.github.llmpool.internal.health.BudgetGate.admitsAll(g, prompt, exclusion == null ? -1 : exclusion.maxTokens());
  }

  /** Whether this tier routes on quota headroom. */
  public final boolean quotaRouting() {
    return headrooms != null;
  }

  /** P2C's headroom factor for the slot at {@code index} (1 without quota routing). */
  protected final double headroomFactor(int index, long now) {
    Headroom[] h = headrooms;
    return h == null ? 1 : h[index].costFactor(now);
  }

  /** The slot index whose cumulative range holds {@code r} in {@code [0, totalWeight)}. */
  protected final int indexOf(int r) {
    int b = (int) ((r * bucketMul) >>> 32);
    int lo = guide[b];
    if (oneStep) {
      // +1 when cumulative[lo] <= r, without a branch (both are in [0, 2^31))
      return lo + ((cumulative[lo] - 1 - r) >>> 31);
    }
    int hi = guide[b + 1];
    if (hi - lo > 8) {
      // many slots share this bucket (very uneven weights): binary search between the guides
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (cumulative[mid] > r) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      return lo;
    }
    while (cumulative[lo] <= r) {
      lo++;
    }
    return lo;
  }

  /** Sum of the weights of eligible slots, skipping {@code skip} (or -1). */
  protected final long eligibleWeight(long now, Exclusion exclusion, int skip) {
    long sum = 0;
    for (int i = 0; i < slots.length; i++) {
      if (i != skip && eligible(i, now, exclusion)) {
        sum += slots[i].weight;
      }
    }
    return sum;
  }

  /**
   * A weighted draw among eligible slots (skipping {@code skip}) whose weights summed to {@code sum
   * > 0} when they were counted. Total under concurrency: eligibility may change between the count
   * and this scan (another thread evicts a provider or claims its probe), so the draw lands on the
   * last slot still eligible, or returns -1 ("nothing eligible") when none is left; never an index
   * outside the tier.
   */
  protected final int drawEligible(long now, Exclusion exclusion, int skip, long sum) {
    int r = random.nextInt((int) Math.min(sum, Integer.MAX_VALUE));
    int last = -1;
    for (int i = 0; i < slots.length; i++) {
      if (i != skip && eligible(i, now, exclusion)) {
        r -= slots[i].weight;
        last = i;
        if (r < 0) {
          return i;
        }
      }
    }
    return last; // only if eligibility changed since the count: the last eligible slot, or -1
  }

  public Slot slot(int index) {
    return slots[index];
  }

  public int size() {
    return slots.length;
  }
}
