package io.github.llmpool.internal.route;

import io.github.llmpool.internal.health.ProviderState;

import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.route.Slot;

/**
 * Power of two choices: two distinct providers drawn with probability proportional to weight (the
 * second draw excludes the first's weight range), the lower {@linkplain
 * io.github.llmpool.internal.health.ProviderState#cost cost} wins, a tie is broken by one more random bit.
 * When a drawn provider is evicted or excluded, both draws are redone over the eligible providers
 * only. Thread-safe, lock-free, allocation-free.
 *
 * <p>Requests in flight count relative to what the provider is meant to carry: each slot's capacity
 * is its {@code concurrency} x its weight / the tier's mean weight, and the cost grows by one
 * latency per capacity's worth of requests in flight. With equal weights and concurrency 1 that is
 * the classic {@code estimate x (in-flight + 1)}; with weights, a provider of twice the mean weight
 * is expected to hold twice the requests (as Envoy's weighted least-request normalises by weight),
 * so the comparison no longer pulls traffic away from the providers the weights favour.
 *
 * <p>Costs use a <em>reference</em> estimate toward which every estimate decays: the
 * weight-averaged raw estimate of the tier's other sampled, non-evicted providers. The tier's
 * estimates are read again (one pass, one small array) when a pick finds them older than
 * {@code tau / 64}, so the pick stays O(1) amortised; concurrent refreshes are benign (each
 * publishes a complete, immutable {@link Reference}).
 *
 * <p>Exploration (bounded forgetting, see {@link LatencyModel}): the same refresh aims at the
 * counted provider that is due first: the one whose last sample plus its exploration age is the
 * earliest. The age is the model's {@linkplain LatencyModel#exploreAgeNanos exploration age}, and
 * {@linkplain LatencyModel#exploreAgeBadNanos twice that} for a provider whose own estimate is
 * still {@link LatencyModel#EXPLORE_BAD_RATIO} times its reference or more (its latest sample was
 * bad: it is re-measured half as often while that lasts). The budget is counted, not drawn: the
 * first pick after the candidate is due explores it, provided the tier dispatched at least
 * {@code 65536 / exploreThreshold} attempts (50 at 2%) since the last exploring pick; a compare-and-set
 * lets one pick of each refresh spend it. So at most that share of the attempts explore, at most
 * one per stale provider at a time (an exploring attempt in flight stops further ones until its
 * sample lands), and a provider that recovered is re-measured at a known time rather than after a
 * random wait. A tier whose providers are all fresh pays one comparison; exploration spends no
 * random bits.
 *
 * <p>Probes ({@link LatencyModel#probes}): a provider whose estimate is still bad is no exploration
 * candidate; once its last sample is {@link LatencyModel#probeAgeNanos} (0.75 tau) old, the next pick hands it to the
 * {@link ProbeSink} (at most once per {@link LatencyModel#PROBE_EVERY} attempts of the tier, one
 * compare-and-set) and goes on as an ordinary pick: the pool's own one-token request re-measures
 * it, not the caller's. A provider the sink cannot probe (no request known to probe it with) stays
 * an exploration candidate.
 */
public final class P2cPicker extends TierPicker {
  private final LatencyModel model;
  private final double tau;
  private final long defaultEstimate;
  private final long refreshNanos;
  /** {@code 1 / horizon}, 0 for the legacy decay (see {@link LatencyModel}). */
  private final double invH;
  /** {@code 1 / stale horizon}, 0 for the legacy decay. */
  private final double invS;
  /** Exploring picks: probability out of {@link LatencyModel#EXPLORE_ONE}, and the age that qualifies. */
  private final int exploreThreshold;
  private final long exploreAge;
  /** The exploration age of a provider whose estimate is still bad ({@link LatencyModel#exploreAgeBadNanos}). */
  private final long exploreAgeBad;
  /** Attempts the tier dispatches per exploring pick ({@code ceil(65536 / exploreThreshold)}), 0 when off. */
  private final long exploreEvery;
  /** The tier's dispatched-attempt count at the last exploring pick (compare-and-set: one pick spends the budget). */
  private volatile long exploredAt;
  private static final java.lang.invoke.VarHandle EXPLORED_AT;

  static {
    try {
      EXPLORED_AT = java.lang.invoke.MethodHandles.lookup().findVarHandle(P2cPicker.class, "exploredAt", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
  /** Per slot: 1 / the requests in flight that count as one more latency (multiplied on the pick path). */
  private final double[] inverseCapacity;
  private volatile Reference cached;
  /** Where a provider due a probe goes ({@link LatencyModel#probes}), or null: no probes. */
  private final ProbeSink probes;
  /** How old a still-bad provider's last sample must be for it to be probed ({@link LatencyModel#probeAgeNanos}). */
  private final long probeAge;
  /** The tier's dispatched-attempt count at the last probe (compare-and-set, like {@link #exploredAt}). */
  private volatile long probedAt;
  private static final java.lang.invoke.VarHandle PROBED_AT;

  static {
    try {
      PROBED_AT = java.lang.invoke.MethodHandles.lookup().findVarHandle(P2cPicker.class, "probedAt", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  public P2cPicker(Slot[] slots, RandomSource random, LatencyModel model) {
    this(slots, random, model, false);
  }

  /**
   * As above; {@code quotaRouting}: a provider without headroom for the request is not eligible,
   * and a provider's cost rises as its headroom shrinks ({@link
   * io.github.llmpool.internal.health.Headroom#costFactor}).
   */
  public P2cPicker(Slot[] slots, RandomSource random, LatencyModel model, boolean quotaRouting) {
    this(slots, random, model, quotaRouting, null);
  }

  /**
   * As above; {@code probes} (used when the model {@linkplain LatencyModel#probes probes} and
   * explores, else ignored): a provider whose estimate is still bad is re-measured by a probe
   * handed to it instead of by a caller's pick.
   */
  public P2cPicker(Slot[] slots, RandomSource random, LatencyModel model, boolean quotaRouting, ProbeSink probes) {
    super(slots, random, quotaRouting);
    this.model = model;
    this.tau = model.tauNanos();
    this.defaultEstimate = model.defaultEstimateNanos();
    this.refreshNanos = Math.max(1, model.tauNanos() >> 6);
    this.invH = io.github.llmpool.internal.health.ProviderState.inverseHorizon(model);
    this.invS = io.github.llmpool.internal.health.ProviderState.inverseStaleHorizon(model);
    this.exploreThreshold = model.exploreThreshold();
    this.exploreAge = model.exploreAgeNanos();
    this.exploreAgeBad = model.exploreAgeBadNanos();
    this.exploreEvery = exploreThreshold == 0 ? 0
        : (LatencyModel.EXPLORE_ONE + exploreThreshold - 1) / exploreThreshold;
    this.exploredAt = dispatched() - exploreEvery; // the first exploration needs no prior attempts
    this.probes = model.probes() && exploreEvery > 0 ? probes : null;
    this.probeAge = model.probeAgeNanos();
    this.probedAt = dispatched() - LatencyModel.PROBE_EVERY;
    this.inverseCapacity = new double[slots.length];
    int positive = 0;
    for (Slot s : slots) {
      positive += s.weight > 0 ? 1 : 0;
    }
    double meanWeight = positive == 0 ? 1 : totalWeight / (double) positive;
    for (int i = 0; i < slots.length; i++) {
      double c = slots[i].endpoint.concurrency * (slots[i].weight / meanWeight);
      inverseCapacity[i] = slots[i].weight == 0 || Math.abs(c - 1) < 1e-12 ? 1 : 1 / c;
    }
  }

  /** Requests in flight that count as one more latency for the slot at {@code index}. */
  public double capacity(int index) {
    return 1 / inverseCapacity[index];
  }

  /**
   * The reference estimate for the slot at {@code index} at {@code now} (the tier's sums are cached
   * for {@code tau / 64}), or -1 when no other provider of the tier has a sample.
   */
  public double reference(int index, long now) {
    return tierReference(now).forSlot(index);
  }

  /** The tier's reference at {@code now} (cached for {@code tau / 64}), with the exploration candidate. */
  Reference tierReference(long now) {
    Reference r = cached;
    if (r != null && now - r.at < refreshNanos && now - r.at >= 0) {
      return r;
    }
    r = reference(slots, now, invH);
    if (quotaRouting()) {
      r.limitFactor = limitFactors();
    }
    if (exploreEvery > 0) {
      aim(r);
    }
    cached = r;
    return r;
  }

  /**
   * Under quota routing, the limits the providers' headers announced as evidence against the
   * weights' prior: per slot {@code (weight / mean weight) / (limit / mean limit)}, the request
   * limits of the tier's weighted slots, which multiplies the slot's cost in the comparison (the
   * draw stays by weight: weights decide which two are compared). A provider whose limit is a
   * smaller share of the tier's than its weight costs more, one with a larger share less; with
   * weights matched to the limits every factor is 1. Null (no factor) unless every weighted slot
   * has announced a request limit. Computed with the reference, every {@code tau / 64}.
   */
  private double[] limitFactors() {
    long sum = 0;
    int positive = 0;
    for (int i = 0; i < slots.length; i++) {
      if (slots[i].weight == 0) {
        continue;
      }
      io.github.llmpool.internal.health.RateWindow w = states[i].headroom().requestWindow();
      if (w == null || w.limit <= 0) {
        return null;
      }
      sum += w.limit;
      positive++;
    }
    if (positive == 0) {
      return null;
    }
    double meanL = sum / (double) positive;
    double meanW = totalWeight / (double) positive;
    double[] f = new double[slots.length];
    for (int i = 0; i < slots.length; i++) {
      if (slots[i].weight == 0) {
        f[i] = 1;
        continue;
      }
      double ratio = (slots[i].weight / meanW) / (states[i].headroom().requestWindow().limit / meanL);
      f[i] = Math.abs(ratio - 1) < 1e-9 ? 1 : ratio;
    }
    return f;
  }

  /** Attempts dispatched to the tier's providers so far (the exploration budget counts them). */
  private long dispatched() {
    long n = 0;
    for (ProviderState s : states) {
      n += s.requests();
    }
    return n;
  }

  /**
   * Sets {@code r}'s exploration candidate (the counted provider due first: last sample + its
   * exploration age, twice the age while its own estimate is {@link LatencyModel#EXPLORE_BAD_RATIO}
   * times its reference or more) and from when it may be explored: its due time, or never while
   * the tier has not dispatched {@link #exploreEvery} attempts since the last exploring pick.
   */
  private void aim(Reference r) {
    int best = -1;
    long bestDue = 0;
    long bestAge = 0;
    int probeBest = -1;
    long probeDue = 0;
    for (int i = 0; i < slots.length; i++) {
      ProviderState s = states[i];
      if (slots[i].weight == 0 || s.evicted()) {
        continue;
      }
      double ref = r.forSlot(i);
      double own = s.ownEstimate(r.at, invH);
      long age = ref > 0 && own >= LatencyModel.EXPLORE_BAD_RATIO * ref ? exploreAgeBad : exploreAge;
      long due = s.lastSampleAt() + age;
      if (age == exploreAgeBad && probes != null && probes.canProbe(slots[i], r.at)) {
        long probeAt = s.lastSampleAt() + probeAge; // still bad: a probe re-measures it, no caller's pick
        if (probeBest < 0 || probeAt - probeDue < 0) {
          probeBest = i;
          probeDue = probeAt;
        }
        continue;
      }
      if (best < 0 || due - bestDue < 0) {
        best = i;
        bestDue = due;
        bestAge = age;
      }
    }
    long count = dispatched();
    r.candidate = best;
    r.candidateAge = bestAge;
    r.count = count;
    r.staleAt = best < 0 || count - exploredAt < exploreEvery ? Long.MAX_VALUE : bestDue;
    r.probeCandidate = probeBest;
    r.probeAt = probeBest < 0 || count - probedAt < LatencyModel.PROBE_EVERY ? Long.MAX_VALUE : probeDue;
  }

  /** {@link #reference(Slot[], long, double)} under the legacy decay (raw estimates). */
  public static Reference reference(Slot[] slots, long now) {
    return reference(slots, now, 0);
  }

  /**
   * Each slot's reference at {@code now}: the weighted mean of the {@linkplain
   * io.github.llmpool.internal.health.ProviderState#ownEstimate own estimates} of the tier's other
   * sampled, non-evicted providers (weight above 0); and the tier's counted provider whose last
   * sample is the oldest (the candidate for exploration). Two passes; one small array.
   */
  public static Reference reference(Slot[] slots, long now, double invH) {
    // Pass 1 reads each estimate once (into perSlot, NaN when the slot does not count), so pass 2
    // works on the same values even if samples or evictions land in between.
    double[] perSlot = new double[slots.length];
    double sum = 0;
    long weights = 0;
    int oldest = -1;
    long oldestAt = 0;
    for (int i = 0; i < slots.length; i++) {
      Slot s = slots[i];
      boolean counts = s.weight > 0 && !s.state.evicted();
      double raw = s.state.ownEstimate(now, invH);
      if (counts) {
        long at = s.state.lastSampleAt();
        if (oldest < 0 || at - oldestAt < 0) {
          oldest = i;
          oldestAt = at;
        }
      }
      if (raw >= 0 && counts) {
        perSlot[i] = raw;
        sum += raw * (double) s.weight;
        weights += s.weight;
      } else {
        perSlot[i] = Double.NaN;
      }
    }
    double all = weights == 0 ? -1 : sum / weights;
    for (int i = 0; i < slots.length; i++) {
      double raw = perSlot[i];
      if (Double.isNaN(raw)) {
        perSlot[i] = all;
      } else {
        long rest = weights - slots[i].weight;
        perSlot[i] = rest <= 0 ? -1 : Math.max(0, (sum - raw * slots[i].weight) / rest);
      }
    }
    Reference r = new Reference(now, perSlot, oldest);
    r.oldestAt = oldestAt;
    return r;
  }

  /** Each slot's reference estimate at one moment, and the exploration candidate. Immutable. */
  public static final class Reference {
    final long at;
    private final double[] perSlot;
    /** The counted slot whose last sample was the oldest when this was made, or -1. */
    final int oldest;
    /** Its last sample's time. */
    long oldestAt;
    /**
     * From when {@link #candidate} may be explored (its last sample + its exploration age, once the
     * budget allows), or {@code Long.MAX_VALUE}; set, with the two fields below, before the
     * reference is published (the volatile write of the picker's cache publishes it).
     */
    long staleAt = Long.MAX_VALUE;
    /** The exploration candidate (the counted slot due first), or -1. */
    int candidate = -1;
    /** The exploration age that applies to it. */
    long candidateAge;
    /** The probe candidate (the still-bad slot due first, when probes are on), or -1. */
    int probeCandidate = -1;
    /** From when it may be probed, or {@code Long.MAX_VALUE}. */
    long probeAt = Long.MAX_VALUE;
    /** The tier's dispatched attempts when this was made. */
    long count;
    /** Per slot, the announced limits' factor ({@link P2cPicker#limitFactors}), or null. */
    double[] limitFactor;

    Reference(long at, double[] perSlot, int oldest) {
      this.at = at;
      this.perSlot = perSlot;
      this.oldest = oldest;
    }

    /**
     * The weighted mean of the <em>other</em> sampled providers' estimates (leave one out), or -1
     * when no other provider has a sample: a provider whose own estimate is a stale peak does not
     * hold up the reference it decays toward, so in a pool of two it is still explored again.
     */
    public double forSlot(int index) {
      return perSlot[index];
    }

    /** The slot whose last sample was the oldest among the counted ones, or -1. */
    public int oldest() {
      return oldest;
    }

    /** The exploration candidate (see {@link P2cPicker}), or -1 (exploration off, or no counted slot). */
    public int candidate() {
      return candidate;
    }
  }

  /** The cost P2C compares for the slot at {@code index} (see {@code ProviderState.cost}). */
  public double cost(int index, long now) {
    return slots[index].state.costPerInverse(now, model, reference(index, now), inverseCapacity[index]);
  }

  /** One more random bit decides a tie (rare: kept out of the pick's hot code). */
  private int tie(int a, int b) {
    return random.nextInt(2) == 0 ? a : b;
  }

  /**
   * The cost comparison of a and b (negative when a costs less) with each provider's cost multiplied
   * by its factor: its headroom factor (1 while its quota windows are half full or more; up to 64 as
   * they empty), so that load leaves a provider before it hits its limit, times its announced
   * limits' factor. Weights stay the prior: they decide which two are compared.
   */
  private double withHeadroom(int a, int b, Reference ref, long now, double fa, double fb) {
    ProviderState sa = states[a];
    ProviderState sb = states[b];
    double ra = ref.forSlot(a);
    double rb = ref.forSlot(b);
    if (invH != 0) {
      // bounded forgetting: the same halves as the plain comparison's (boundedCostDelta), which are
      // costNumerator's and costDenominator's values for invH != 0, small enough to be inlined
      return fa * sa.boundedCostNumerator(now, tau, defaultEstimate, ra, inverseCapacity[a], invH, invS)
          * sb.boundedCostDenominator(now, tau, rb, invS)
          - fb * sb.boundedCostNumerator(now, tau, defaultEstimate, rb, inverseCapacity[b], invH, invS)
          * sa.boundedCostDenominator(now, tau, ra, invS);
    }
    return fa * sa.costNumerator(now, tau, defaultEstimate, ra, inverseCapacity[a], invH, invS)
        * sb.costDenominator(now, tau, rb, invH, invS)
        - fb * sb.costNumerator(now, tau, defaultEstimate, rb, inverseCapacity[b], invH, invS)
        * sa.costDenominator(now, tau, ra, invH, invS);
  }

  @Override
  public int pick(long now, Exclusion exclusion) {
    int n = slots.length;
    if (totalWeight == 0) {
      return -1;
    }
    if (n == 1) {
      return eligible(0, now, exclusion) ? 0 : -1;
    }
    Reference ref = tierReference(now);
    // Exploration: the provider due first, once due, with no answer on its way (which measures it
    // anyway) and the tier's budget allows, gets this pick. The common case costs one comparison
    // with a time the reference already holds.
    if (now - ref.probeAt >= 0) {
      probe(now, exclusion, ref); // a probe of the pool's own re-measures it; this pick goes on as usual
    }
    if (now - ref.staleAt >= 0 && explore(now, exclusion, ref)) {
      return ref.candidate;
    }
    int a = indexOf(random.nextInt(totalWeight));
    int wa = weights[a];
    if (wa < totalWeight) {
      int start = cumulative[a] - wa; // where a's range starts
      int r = random.nextInt(totalWeight - wa);
      int b = indexOf(r + (wa & ((start - 1 - r) >> 31))); // r >= start ? r + wa : r, branch-free
      if (!quotaRouting()) {
        if (eligible(a, now, exclusion) && eligible(b, now, exclusion)) {
          return better(a, b, now, ref, 1, 1);
        }
      } else {
        double fa = eligibleFactor(a, now, exclusion); // each candidate's headroom read once
        if (fa >= 0) {
          double fb = eligibleFactor(b, now, exclusion);
          if (fb >= 0) {
            double[] lf = ref.limitFactor;
            if (lf != null) {
              fa *= lf[a];
              fb *= lf[b];
            }
            return better(a, b, now, ref, fa, fb);
          }
        }
      }
    }
    return slowPick(now, exclusion);
  }

  /**
   * Hands {@code ref}'s probe candidate to the sink when it is still due (read live), awaits no
   * sample, is eligible, and this pick spends the probe budget {@code ref} saw (compare-and-set).
   */
  private void probe(long now, Exclusion exclusion, Reference ref) {
    int o = ref.probeCandidate;
    if (o < 0 || now - states[o].lastSampleAt() - probeAge < 0 || states[o].awaitingSample() != 0
        || !eligible(o, now, exclusion)) {
      return;
    }
    long seen = probedAt;
    if (ref.count - seen >= LatencyModel.PROBE_EVERY && PROBED_AT.compareAndSet(this, seen, ref.count)) {
      probes.probeDue(slots[o], now);
    }
  }

  /**
   * Whether this pick explores {@code ref}'s candidate: still due (read live), with no attempt
   * awaiting its latency sample (a stream past its first token was measured already), eligible, and
   * this pick is the one that spends the budget {@code ref} saw (compare-and-set on the count).
   */
  private boolean explore(long now, Exclusion exclusion, Reference ref) {
    int o = ref.candidate;
    if (o < 0 || now - states[o].lastSampleAt() - ref.candidateAge < 0 || states[o].awaitingSample() != 0
        || !eligible(o, now, exclusion)) {
      return false;
    }
    long seen = exploredAt;
    return ref.count - seen >= exploreEvery && EXPLORED_AT.compareAndSet(this, seen, ref.count);
  }

  private int slowPick(long now, Exclusion exclusion) {
    long sum = eligibleWeight(now, exclusion, -1);
    if (sum == 0) {
      return -1;
    }
    int a = drawEligible(now, exclusion, -1, sum);
    if (a < 0) {
      return -1; // the last eligible provider went out between the count and the draw
    }
    long rest = sum - slots[a].weight;
    if (rest <= 0) {
      return a;
    }
    int b = drawEligible(now, exclusion, a, rest);
    if (b < 0) {
      return a;
    }
    Reference ref = tierReference(now);
    double fa = headroomFactor(a, now);
    double fb = headroomFactor(b, now);
    double[] lf = ref.limitFactor;
    if (lf != null) {
      fa *= lf[a];
      fb *= lf[b];
    }
    return better(a, b, now, ref, fa, fb);
  }

  /**
   * The candidate of lower {@linkplain #cost cost}, a random bit on a tie: the tier's reference is
   * read once for both, and the costs are compared without a division
   * ({@link io.github.llmpool.internal.health.ProviderState#compareCost}); {@code fa} and {@code fb}
   * are the candidates' headroom factors as their eligibility found them (1 without quota routing).
   */
  private int better(int a, int b, long now, Reference ref, double fa, double fb) {
    // With a factor (a candidate with less than half a limit left, or announced limits against the
    // weights) the factored comparison is the whole answer: the plain one is not computed first.
    double d = fa != 1 || fb != 1 ? withHeadroom(a, b, ref, now, fa, fb)
        : invH != 0
        ? io.github.llmpool.internal.health.ProviderState.boundedCostDelta(states[a], ref.forSlot(a),
            inverseCapacity[a], states[b], ref.forSlot(b), inverseCapacity[b], now, tau, defaultEstimate, invH, invS)
        : io.github.llmpool.internal.health.ProviderState.costDelta(states[a], ref.forSlot(a),
            inverseCapacity[a], states[b], ref.forSlot(b), inverseCapacity[b], now, tau, defaultEstimate, invH, invS);
    if (d == 0 || d != d) { // a tie (NaN: both infinite)
      return tie(a, b);
    }
    // -1 when a costs less (d < 0): the winner is random, so select on the sign bit, no branch
    int m = (int) (Double.doubleToRawLongBits(d) >> 63);
    return (a & m) | (b & ~m);
  }
}
