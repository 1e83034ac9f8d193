package io.github.llmpool.internal.health;

import io.github.llmpool.internal.health.PaddedLong;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The live state of one provider: in-flight count, peak-EWMA latency estimate, recent-failure
 * score, eviction deadline and probe flag, cumulative counters. It outlives routing snapshots: a
 * reconfiguration that keeps a provider's name keeps its state.
 *
 * <p>Thread-safe. The read side used by selection ({@link #isAvailable}, {@link #cost}) takes no
 * lock and allocates nothing; writers of the estimate and of the eviction synchronise on this
 * object (they run once per attempt, off the pick path). Knows nothing of HTTP.
 */
public final class ProviderState {

  /** {@link #claim} result: the provider may not take this request. */
  public static final int REFUSED = 0;
  /** {@link #claim} result: ordinary traffic. */
  public static final int NORMAL = 1;
  /** {@link #claim} result: this request is the single probe after an eviction. */
  public static final int PROBE = 2;
  /**
   * {@link #claim} result: ordinary traffic, and this claim ended an eviction whose end the server
   * named (a rate limit's {@code Retry-After}): the provider is back without a probe.
   */
  public static final int RETURNED = 3;

  /**
   * Restores: bumped after every change that may make a provider available before its eviction
   * deadline (an evicted provider restored, a probe flag cleared). A routing hint "every provider
   * of this tier is out until T" holds while this count is what it was when the hint was made
   * ({@code TierPicker}); nothing else makes an evicted provider available early (evictions only
   * start or extend). One count for the JVM: rarely written (restores are rare), so reading it on
   * the pick path costs a load of a cache line that stays shared.
   */
  private static final PaddedLong RESTORES = new PaddedLong();

  // The pick's word (pickQuick): availability and headroom folded into two adjacent longs, the
  // first fields of the object (offsets 16-31 on a 64-bit JVM with compressed class pointers: one
  // cache line for 7 of the 8 object alignments). pickTokens is roomTokens while the provider is
  // simply available (not drained, not evicted, not retired), else Long.MIN_VALUE (the exact checks
  // decide); pickFrom is roomFrom. Every writer of an input calls refreshPick after its change.
  private volatile long pickTokens = Long.MIN_VALUE;
  private volatile long pickFrom;

  private final String name;
  private final long createdAt;
  private final PaddedLong inFlight = new PaddedLong();
  // Of those, attempts whose latency sample was already taken (streams past their first token).
  private final PaddedLong sampledInFlight = new PaddedLong();

  // Latency estimate (peak EWMA) and failure score; written under the lock, read lock-free.
  // Legacy model: estimateNanos is the peak EWMA. Bounded model: estimateNanos is the mean of the
  // samples, peakNanos the latest peak (a sample above the estimate) and peakAt its time; the
  // peak's excess over the mean fades to nothing one horizon after peakAt.
  private volatile long estimateNanos = -1;
  private volatile long peakNanos = -1;
  private volatile long peakAt;
  private volatile long lastSampleAt;
  // When the newest sample the estimate holds was seen (bounded forgetting; written under the lock).
  private long seenAt;
  private volatile double failScore;
  private volatile long failScoreAt;
  // Cold start: dispatch time of the oldest attempt that may still be in flight while the provider
  // has no sample yet (NO_PENDING otherwise). A heuristic: see cost().
  private static final long NO_PENDING = Long.MIN_VALUE;
  private final AtomicLong unsampledSince = new AtomicLong(NO_PENDING);
  // Streams in flight that have not produced their first token, and a time no earlier than the
  // dispatch of the oldest of them (NO_PENDING when none): under bounded forgetting the estimate is
  // at least that age, so a stream stuck before its first token counts before its sample lands.
  private final PaddedLong streamsWaiting = new PaddedLong();
  private volatile long waitingSince = NO_PENDING;

  // Eviction.
  private volatile boolean evicted;
  private volatile long evictedUntil;
  private volatile long evictedAt; // when the eviction in force began (or was renewed by a probe)
  // Whether the deadline in force is one the server named for a rate limit (Retry-After and the
  // like): it ends at that time for every request, without the single-probe gate.
  private volatile boolean namedEnd;
  private final AtomicBoolean probeInFlight = new AtomicBoolean();
  private int consecutiveRateLimits; // guarded by this
  private int consecutiveFailures; // guarded by this
  private volatile int ejections; // written under this

  // Drain: an operator took the provider out of rotation (no new attempt, not even a probe).
  private volatile boolean drained;

  // The copy of its headroom's word (Headroom.quickTokens and the time part), kept current by the
  // headroom's writers (Headroom.mirror): roomQuick reads it.
  private volatile long roomTokens = Long.MIN_VALUE;
  private volatile long roomFrom;
  private volatile boolean retired;

  // What the provider may still take (headers, configured limits): its own, or its quota group's.
  // Written by the pool under its reconfiguration lock before the routing snapshot that uses it is
  // published (volatile: the interceptor also reads it outside a snapshot).
  private volatile Headroom headroom;

  // Counters.
  final LongAdder requests = new LongAdder();
  /** Probes sent ({@code P2cSettings.probes}): counted in {@link #requests} too. */
  private final LongAdder probes = new LongAdder();
  final LongAdder successes = new LongAdder();
  final LongAdder clientErrors = new LongAdder();
  final LongAdder failures = new LongAdder();
  final LongAdder promptTokens = new LongAdder();
  final LongAdder completionTokens = new LongAdder();
  final LongAdder totalTokens = new LongAdder();
  final LongAdder cachedTokens = new LongAdder();
  final LongAdder reasoningTokens = new LongAdder();
  /** Money spent and unpriced tokens (issue #19); updated where usage is reported. */
  public final Spend spend = new Spend();

  public ProviderState(String name) {
    this(name, 0);
  }

  /**
   * @param createdAt ticker time of creation: a provider without samples starts from the default
   *     estimate at this time and decays like any other estimate, so it is tried soon
   */
  public ProviderState(String name, long createdAt) {
    this.name = name;
    this.createdAt = createdAt;
    this.lastSampleAt = createdAt;
    this.peakAt = createdAt;
    Headroom h = new Headroom(null, 0, 0, createdAt);
    this.headroom = h;
    h.mirror(this);
  }

  public String name() {
    return name;
  }

  // ---------------------------------------------------------------- rate limits (lock-free)

  /**
   * Records what one response's rate-limit headers said (into the provider's {@link Headroom}):
   * either window may be null (not announced); {@code ignored} values were malformed.
   */
  public void observeRateLimits(RateWindow requests, RateWindow tokens, int ignored, long now) {
    headroom.observe(requests, tokens, ignored, now);
  }

  /** What the provider may still take: its own headroom, or its quota group's. */
  public Headroom headroom() {
    return headroom;
  }

  /** Points the provider at {@code h} (its quota group's, or new configured limits); the pool's reconfiguration only. */
  public void headroom(Headroom h) {
    java.util.Objects.requireNonNull(h, "headroom");
    Headroom old = this.headroom;
    if (old == h) {
      return;
    }
    this.headroom = h;
    old.unmirror(this);
    h.mirror(this); // registers, then writes h's word here
  }

  /**
   * The pool no longer routes to this provider (a reconfiguration dropped it): its headroom stops
   * writing this state's copy of the word, and the copy sends every pick that still reads it (a
   * snapshot already in use) to the exact checks.
   */
  public void retire() {
    retired = true;
    headroom.unmirror(this);
    roomTokens = Long.MIN_VALUE;
    refreshPick();
  }

  /**
   * Whether the headroom this state points at admits a request of {@code tokens} at {@code now} by
   * its word alone ({@link Headroom#admits}'s fast path), from this state's copy: two volatile loads
   * and two comparisons. False only means "check exactly" ({@code headroom().admits}).
   */
  public boolean roomQuick(long now, long tokens) {
    return tokens <= roomTokens && now - roomFrom >= 0;
  }

  /**
   * The pick's common case under quota routing, from one word: the provider is simply available
   * (not drained, not evicted: {@link #isAvailable} holds at any time) and its headroom admits a
   * request of {@code tokens} at {@code now} by its word alone ({@link #roomQuick}). Two adjacent
   * volatile loads and two comparisons. False only means "check exactly" ({@link #isAvailable},
   * then {@code headroom().admits}): an evicted provider past its deadline, a drained or retired
   * one, a headroom whose word says nothing.
   */
  public boolean pickQuick(long now, long tokens) {
    return tokens <= pickTokens && now - pickFrom >= 0;
  }

  /** {@link #pickTokens} as the live inputs give it. */
  private long pickTokensNow() {
    return drained || evicted || retired ? Long.MIN_VALUE : roomTokens;
  }

  /**
   * Brings the pick's word up to date with its inputs (drained, evicted, retired, the headroom's
   * copy); every writer of one calls it after the change. Write, then check (as
   * {@link Headroom#refreshQuick}): the last word stored is computed after the last change. The
   * time part is written before the tokens part, so a pick that reads the tokens a writer stored
   * reads that writer's time part or a later one. Writes only what differs. Allocation-free.
   */
  private void refreshPick() {
    while (true) {
      long t = pickTokensNow();
      long f = roomFrom;
      if (pickFrom != f) {
        pickFrom = f;
      }
      if (pickTokens != t) {
        pickTokens = t;
      }
      if (pickTokensNow() == t && roomFrom == f) {
        return;
      }
    }
  }

  /**
   * The headroom {@code from}'s writer stores its word here. Write, then check: if this state was
   * pointed at another headroom meanwhile, that one's word is written again (it may have been
   * overwritten by this stale one), so the last word stored is the current headroom's.
   */
  void quickWord(Headroom from, long tokens, long since) {
    if (roomTokens != tokens) {
      roomTokens = tokens;
    }
    if (roomFrom != since) {
      roomFrom = since;
    }
    if (retired) {
      roomTokens = Long.MIN_VALUE; // a writer that read the mirrors before retire(): never a stale word
      refreshPick();
      return;
    }
    refreshPick();
    Headroom now = headroom;
    if (now != from) {
      now.refreshQuick();
    }
  }

  /** The request window the headers last announced, or null. */
  public RateWindow requestWindow() {
    return headroom.requestWindow();
  }

  /** The token window the headers last announced, or null. */
  public RateWindow tokenWindow() {
    return headroom.tokenWindow();
  }

  /** Rate-limit header values ignored as malformed, negative or absurd. */
  public long ignoredRateLimitValues() {
    return headroom.ignoredValues();
  }

  // ---------------------------------------------------------------- selection (lock-free reads)

  /**
   * Whether the provider may be picked now: not drained, and not evicted or past its deadline with
   * no probe in flight.
   */
  public boolean isAvailable(long now) {
    return !drained && (!evicted || (now - evictedUntil >= 0 && (namedEnd || !probeInFlight.get())));
  }

  /**
   * The P2C cost without a tier reference (legacy decay: toward zero; bounded forgetting: the own
   * estimate stands) and with every request in flight counting as one more latency. See {@link #cost(long, LatencyModel, double, double)}.
   */
  public double cost(long now, LatencyModel model) {
    return cost(now, model, -1, 1);
  }

  /**
   * The P2C cost: {@linkplain #latencyEstimate(long, LatencyModel, double) latency estimate} x
   * (1 + in-flight / capacity) x (1 + decayed failure score). Decays use {@code tau / (tau + dt)}
   * (no {@code exp} on the pick path).
   *
   * @param reference the reference estimate in nanoseconds (the weighted mean of the estimates of
   *     the tier's other sampled providers), or a negative value when there is none
   * @param capacity how many requests in flight make one more latency to wait for ({@code > 0}):
   *     the provider's concurrency x its weight / the tier's mean weight (see {@code P2cPicker})
   */
  public double cost(long now, LatencyModel model, double reference, double capacity) {
    return costPerInverse(now, model, reference, 1 / capacity);
  }

  /**
   * {@link #cost(long, LatencyModel, double, double)} with the capacity given as its reciprocal, so
   * the pick path multiplies instead of dividing (P2C precomputes {@code 1 / capacity} per slot).
   */
  public double costPerInverse(long now, LatencyModel model, double reference, double inverseCapacity) {
    double latency = latencyEstimate(now, model, reference);
    double fail = failScore;
    if (fail > 0) {
      long since = now - failScoreAt;
      if (since > 0) {
        fail *= model.tauNanos() / (double) (model.tauNanos() + since);
      }
    }
    return latency * (1 + inFlight.get() * inverseCapacity) * (1 + fail);
  }

  /**
   * The latency estimate P2C compares, in nanoseconds (not rounded):
   * <ul>
   *   <li>the peak-EWMA estimate, or the model's default for a provider without a sample (from the
   *       provider's creation);</li>
   *   <li>decayed by {@code k = tau / (tau + dt)} since its last sample toward {@code reference}
   *       (the other providers' average): {@code reference + (estimate - reference) x k}; toward
   *       zero when there is no reference. A provider that stopped getting samples drifts back into
   *       consideration, but no further than the others' average: a rarely picked provider (small
   *       weight) does not look faster than the rest just because its estimate is old;</li>
   *   <li>for a provider without a sample that has attempts in flight: at least the age of the
   *       oldest of them (cold start). A provider that has not answered yet is at least as slow as
   *       the request it has kept waiting the longest, so a slow newcomer prices itself out after
   *       one healthy latency, not after its own.</li>
   *   <li>under bounded forgetting, while a stream in flight has not produced its first token: at
   *       least the age of the oldest such stream (a lower bound of it), so a provider that turned
   *       slow prices itself out while its first slow answer is still on its way, not only when
   *       that answer's sample lands.</li>
   * </ul>
   */
  public double latencyEstimate(long now, LatencyModel model, double reference) {
    long est = estimateNanos;
    boolean sampled = est >= 0;
    double latency;
    if (model.isLegacy()) {
      if (!sampled) {
        est = model.defaultEstimateNanos(); // decays from the provider's creation
      }
      long dt = now - lastSampleAt;
      if (dt <= 0) {
        latency = est;
      } else {
        double k = model.tauNanos() / (double) (model.tauNanos() + dt);
        latency = reference < 0 ? est * k : reference + (est - reference) * k;
      }
    } else {
      latency = boundedLatency(now, sampled ? est : model.defaultEstimateNanos(), sampled, reference,
          inverseHorizon(model), inverseStaleHorizon(model), model.tauNanos());
      latency = waitingFloor(now, latency, 1);
    }
    if (!sampled) {
      long since = unsampledSince.get();
      if (since != NO_PENDING && inFlight.get() > 0 && now - since > latency) {
        latency = now - since;
      }
    }
    return latency;
  }

  /** {@code 1 / peak horizon} of a bounded model, 0 for the legacy one (the pick path passes it around). */
  public static double inverseHorizon(LatencyModel model) {
    return model.isLegacy() ? 0 : 1.0 / model.horizonNanos();
  }

  /** {@code 1 / stale horizon} of a bounded model, 0 for the legacy one. */
  public static double inverseStaleHorizon(LatencyModel model) {
    return model.isLegacy() ? 0 : 1.0 / model.staleHorizonNanos();
  }

  /**
   * The provider's own estimate under bounded forgetting, without a reference: the mean plus the
   * latest peak's excess over it, faded linearly to nothing one horizon after the peak.
   */
  private double own(long now, long mean, double invH) {
    double excess = peakNanos - (double) mean;
    if (excess > 0) {
      double f = 1 - (now - peakAt) * invH;
      if (f > 0) {
        return mean + excess * (f < 1 ? f : 1);
      }
    }
    return mean;
  }

  /**
   * Bounded forgetting at pick time: the own estimate ({@link #own}; {@code est} itself for a
   * provider without a sample), then its difference to {@code reference} faded to nothing one
   * stale horizon {@code S} after the last sample (or the provider's creation), {@code age} ago:
   * {@code reference + (own - reference) x k}, {@code k = tau / (tau + age) x (1 - age / S)} for
   * {@code age < S}, 0 after: the earlier hyperbolic decay (which forgets a small deviation fast
   * and a large one slowly), tapered so that it ends. Without a reference the own estimate
   * stands. Returned as a numerator over {@link #boundedDenominator} ({@code tau + age} while
   * fading, else 1), so the pick compares costs without a division.
   */
  private double boundedNumerator(long now, long est, boolean sampled, double reference, double invH, double invS,
      double tau) {
    double own = sampled ? own(now, est, invH) : est;
    if (reference < 0) {
      return own;
    }
    long age = now - lastSampleAt;
    if (age <= 0) {
      return own;
    }
    double f = 1 - age * invS;
    if (f <= 0) {
      return reference;
    }
    return reference * (tau + age) + (own - reference) * tau * f;
  }

  /** The denominator of {@link #boundedNumerator}: {@code tau + age} while the estimate fades, else 1. */
  private double boundedDenominator(long now, double reference, double invS, double tau) {
    if (reference < 0) {
      return 1;
    }
    long age = now - lastSampleAt;
    return age > 0 && age * invS < 1 ? tau + age : 1;
  }

  private double boundedLatency(long now, long est, boolean sampled, double reference, double invH, double invS,
      double tau) {
    return boundedNumerator(now, est, sampled, reference, invH, invS, tau)
        / boundedDenominator(now, reference, invS, tau);
  }

  /**
   * The sign of {@code a.costPerInverse(now, model, refA, invA) - b.costPerInverse(now, model,
   * refB, invB)}, computed without a division (P2C's comparison, on every pick): each cost is the
   * fraction {@link #costNumerator} / {@link #costDenominator}, and the two fractions are compared
   * by cross-multiplying their positive denominators. Equal to the sign of the difference of the
   * two costs up to rounding: only costs within a few units in the last place of each other may
   * compare differently. (Under a concurrent sample or failure the two halves of one provider's
   * fraction may see different moments: the comparison is then as approximate as the costs it
   * stands for, never unsafe.)
   */
  public static int compareCost(ProviderState a, double refA, double invA, ProviderState b, double refB,
      double invB, long now, LatencyModel model) {
    double d = costDelta(a, refA, invA, b, refB, invB, now, model);
    return d > 0 ? 1 : d < 0 ? -1 : 0;
  }

  /**
   * A value whose sign is {@link #compareCost}'s: {@code N(a) x D(b) - N(b) x D(a)}; 0 (or NaN, for
   * two infinite costs) on a tie. For a caller that selects on its sign bit without a branch.
   * Small, so that the JIT inlines it and the two halves into the pick.
   */
  public static double costDelta(ProviderState a, double refA, double invA, ProviderState b, double refB,
      double invB, long now, LatencyModel model) {
    return costDelta(a, refA, invA, b, refB, invB, now, model.tauNanos(), model.defaultEstimateNanos(),
        inverseHorizon(model), inverseStaleHorizon(model));
  }

  /**
   * As above, with the model's {@code tau}, default estimate and {@link #inverseHorizon} already
   * read (P2C keeps them per picker); {@code invH} 0 is the legacy decay.
   */
  public static double costDelta(ProviderState a, double refA, double invA, ProviderState b, double refB,
      double invB, long now, double tau, long def, double invH, double invS) {
    return a.costNumerator(now, tau, def, refA, invA, invH, invS) * b.costDenominator(now, tau, refB, invH, invS)
        - b.costNumerator(now, tau, def, refB, invB, invH, invS) * a.costDenominator(now, tau, refA, invH, invS);
  }

  /**
   * The numerator of {@link #costPerInverse} over {@link #costDenominator}. Legacy decay
   * ({@code invH == 0}): the decayed latency {@code (ref x dt + est x tau)} (or {@code est x tau}
   * without a reference; {@code est} when no time passed) over {@code tau + dt}, the cold-start
   * floor brought to the same denominator. Bounded forgetting: the latency itself
   * ({@link #latencyEstimate}: multiplications only, its denominator is 1). Then times
   * {@code 1 + in-flight x inverse capacity}, times the failure factor's numerator
   * {@code tau + dtf + fail x tau} over {@code tau + dtf}.
   */
  public double costNumerator(long now, double tau, long defaultEstimate, double reference, double inverseCapacity,
      double invH, double invS) {
    long est = estimateNanos;
    boolean sampled = est >= 0;
    if (!sampled) {
      est = defaultEstimate;
    }
    double nl;
    double dl;
    if (invH != 0) {
      nl = boundedNumerator(now, est, sampled, reference, invH, invS, tau);
      dl = boundedDenominator(now, reference, invS, tau);
      nl = waitingFloor(now, nl, dl);
    } else {
      long dt = now - lastSampleAt;
      if (dt <= 0) {
        nl = est;
        dl = 1;
      } else {
        nl = reference < 0 ? est * tau : reference * dt + est * tau;
        dl = tau + dt;
      }
    }
    long flight = inFlight.get();
    if (!sampled && flight > 0) {
      long since = unsampledSince.get();
      if (since != NO_PENDING && (now - since) * dl > nl) {
        nl = (now - since) * dl;
      }
    }
    double fail = failScore;
    double nf = 1;
    if (fail > 0) {
      long sf = now - failScoreAt;
      nf = sf > 0 ? tau + sf + fail * tau : 1 + fail;
    }
    return nl * (1 + flight * inverseCapacity) * nf;
  }

  /**
   * The (positive) denominator of the P2C cost: the latency's ({@code tau + dt} under the legacy
   * decay, 1 when no time passed or under bounded forgetting) x the failure factor's
   * ({@code tau + dtf}, 1 without a failure score).
   */
  public double costDenominator(long now, double tau, double reference, double invH, double invS) {
    double dl;
    if (invH == 0) {
      long dt = now - lastSampleAt;
      dl = dt <= 0 ? 1 : tau + dt;
    } else {
      dl = boundedDenominator(now, reference, invS, tau);
    }
    if (failScore > 0) {
      long sf = now - failScoreAt;
      if (sf > 0) {
        return dl * (tau + sf);
      }
    }
    return dl;
  }

  /**
   * {@link #costDelta} under bounded forgetting, for P2C's pick: the same sign, from
   * {@link #boundedCostNumerator} and {@link #boundedCostDenominator}, which are kept small so that
   * the JIT inlines them into the pick.
   */
  public static double boundedCostDelta(ProviderState a, double refA, double invA, ProviderState b, double refB,
      double invB, long now, double tau, long def, double invH, double invS) {
    return a.boundedCostNumerator(now, tau, def, refA, invA, invH, invS) * b.boundedCostDenominator(now, tau, refB, invS)
        - b.boundedCostNumerator(now, tau, def, refB, invB, invH, invS) * a.boundedCostDenominator(now, tau, refA, invS);
  }

  /** {@link #costNumerator} under bounded forgetting ({@code invH != 0}). */
  public double boundedCostNumerator(long now, double tau, long def, double reference, double inverseCapacity,
      double invH, double invS) {
    long est = estimateNanos;
    double own;
    if (est >= 0) {
      own = est;
      double excess = peakNanos - own;
      if (excess > 0) {
        double f = 1 - (now - peakAt) * invH;
        if (f > 0) {
          own += f < 1 ? excess * f : excess;
        }
      }
    } else {
      own = def;
    }
    double nl = own;
    long age = now - lastSampleAt;
    if (reference >= 0 && age > 0) {
      double f = 1 - age * invS;
      nl = f <= 0 ? reference : reference * (tau + age) + (own - reference) * tau * f;
    }
    long flight = inFlight.get();
    if (est < 0 && flight > 0) {
      nl = coldStartFloor(now, nl, boundedDenominator(now, reference, invS, tau));
    }
    if (waitingSince != NO_PENDING) { // a stream waits for its first token: at least its age
      nl = waitingFloor(now, nl, boundedDenominator(now, reference, invS, tau));
    }
    double fail = failScore;
    return nl * (1 + flight * inverseCapacity) * (fail > 0 ? failNumerator(now, tau, fail) : 1);
  }

  /** {@link #costDenominator} under bounded forgetting. */
  public double boundedCostDenominator(long now, double tau, double reference, double invS) {
    long age = now - lastSampleAt;
    double dl = reference >= 0 && age > 0 && age * invS < 1 ? tau + age : 1;
    return failScore > 0 ? dl * failDenominator(now, tau) : dl;
  }

  private double coldStartFloor(long now, double nl, double dl) {
    long since = unsampledSince.get();
    return since != NO_PENDING && (now - since) * dl > nl ? (now - since) * dl : nl;
  }

  private double failNumerator(long now, double tau, double fail) {
    long sf = now - failScoreAt;
    return sf > 0 ? tau + sf + fail * tau : 1 + fail;
  }

  private double failDenominator(long now, double tau) {
    long sf = now - failScoreAt;
    return sf > 0 ? tau + sf : 1;
  }

  /**
   * The raw estimate in nanoseconds, or -1 without a sample: the peak EWMA (legacy decay) or the
   * mean of the samples (bounded forgetting; {@link #ownEstimate} adds the fading peak).
   */
  public long rawEstimate() {
    return estimateNanos;
  }

  /**
   * The estimate that stands for this provider in its tier's reference, or -1 without a sample:
   * the raw peak EWMA (legacy), or the mean plus the fading peak at {@code now} (bounded).
   */
  public double ownEstimate(long now, double invH) {
    long est = estimateNanos;
    if (est < 0 || invH == 0) {
      return est;
    }
    return own(now, est, invH);
  }

  /** When the last latency sample arrived (the provider's creation before the first). */
  public long lastSampleAt() {
    return lastSampleAt;
  }

  /**
   * Claims the provider for one attempt. Past an eviction deadline exactly one caller wins the
   * probe; the others are refused until the probe ends. A drained provider is always refused (a
   * drain that lands between a pick and its claim wins).
   */
  public int claim(long now) {
    if (drained) {
      return REFUSED;
    }
    if (!evicted) {
      return NORMAL;
    }
    if (now - evictedUntil < 0) {
      return REFUSED;
    }
    if (namedEnd) {
      return endNamed(now) ? RETURNED : NORMAL;
    }
    return probeInFlight.compareAndSet(false, true) ? PROBE : REFUSED;
  }

  /** Ends an eviction whose server-named deadline passed; true if this call ended it. */
  private synchronized boolean endNamed(long now) {
    if (!evicted || !namedEnd || now - evictedUntil < 0) {
      return false;
    }
    evicted = false;
    namedEnd = false;
    consecutiveFailures = 0;
    consecutiveRateLimits = 0;
    refreshPick();
    RESTORES.incrementAndGet();
    return true;
  }

  /** Whether the eviction in force ends at a deadline the server named (no probe). */
  public boolean namedEnd() {
    return namedEnd;
  }

  // ---------------------------------------------------------------- attempts

  /** +1 in flight and +1 request, at dispatch ({@code now}). Pair with exactly one {@link #release}. */
  public void dispatch(long now) {
    inFlight.incrementAndGet();
    requests.increment();
    if (estimateNanos < 0 && unsampledSince.get() == NO_PENDING) {
      unsampledSince.compareAndSet(NO_PENDING, now);
    }
  }

  /**
   * {@link #dispatch(long)}; a {@code stream} also waits for its first token from now on: pair it
   * with exactly one {@link #firstToken(long, long)} (at its first token, or at its end without one).
   */
  public void dispatch(long now, boolean stream) {
    dispatch(now);
    if (stream && streamsWaiting.incrementAndGet() == 1) {
      waitingSince = now; // the only one waiting: the oldest
    }
  }

  /**
   * A stream dispatched at {@code startedAt} stopped waiting for its first token at {@code now}
   * (it arrived, or the attempt ended without one). The oldest waiting stream's dispatch is not
   * kept exactly: when this one may have been it, the bound moves to {@code now}, no earlier than
   * any stream still waiting (an underestimate of their age, never an overestimate).
   */
  public void firstToken(long startedAt, long now) {
    long left = streamsWaiting.decrementAndGet();
    if (left <= 0) {
      waitingSince = NO_PENDING;
    } else if (startedAt - waitingSince <= 0) {
      waitingSince = now;
    }
  }

  /** Streams in flight that have not produced their first token yet. */
  public long streamsWaiting() {
    return Math.max(0, streamsWaiting.get());
  }

  /**
   * The floor under bounded forgetting, over {@code d} (the latency's denominator): {@code nl}, or
   * the age of the oldest stream still waiting for its first token x {@code d} when that is more.
   * A provider that has kept a stream waiting longer than its estimate is at least that slow now.
   */
  private double waitingFloor(long now, double nl, double d) {
    long since = waitingSince;
    if (since == NO_PENDING || streamsWaiting.get() <= 0) {
      return nl;
    }
    double age = (now - since) * d;
    return age > nl ? age : nl;
  }

  /** -1 in flight; never below zero (a double release is a bug and is refused). */
  public void release() {
    long v;
    do {
      v = inFlight.get();
      if (v <= 0) {
        throw new IllegalStateException("in-flight of " + name + " would go negative");
      }
    } while (!inFlight.compareAndSet(v, v - 1));
    if (v == 1 && estimateNanos < 0) {
      // Nothing of this provider in flight and still no sample (its attempts failed): the next
      // dispatch starts the cold-start clock again. A dispatch racing this reset only loses the floor.
      unsampledSince.set(NO_PENDING);
    }
  }

  /**
   * -1 in flight for an attempt whose latency sample was {@code sampled} already, while it was in
   * flight ({@link #sampledInFlight()}: a stream past its first token).
   */
  public void release(boolean sampled) {
    if (sampled) {
      sampledInFlight.decrementAndGet();
    }
    release();
  }

  /**
   * An attempt in flight gave its latency sample before its end (a stream, at its first token): it
   * no longer awaits one ({@link #awaitingSample}). Pair with {@link #release(boolean) release(true)}.
   */
  public void sampledInFlight() {
    sampledInFlight.incrementAndGet();
  }

  /**
   * Attempts in flight whose latency sample has not been taken yet: the in-flight count less the
   * streams past their first token. Exploration waits for these (an answer on its way measures the
   * provider anyway), not for a slow stream still writing the answer it was measured by.
   */
  public long awaitingSample() {
    long n = inFlight.get() - sampledInFlight.get();
    return n > 0 ? n : 0;
  }

  /** Counts the end of an attempt: success, client error or failure. */
  public void count(boolean success, boolean clientError) {
    if (success) {
      successes.increment();
    } else if (clientError) {
      clientErrors.increment();
    } else {
      failures.increment();
    }
  }

  /** Adds reported tokens to the cumulative counters. */
  public void addTokens(long prompt, long completion, long total, long cached, long reasoning) {
    promptTokens.add(prompt);
    completionTokens.add(completion);
    totalTokens.add(total);
    cachedTokens.add(cached);
    reasoningTokens.add(reasoning);
  }

  /** A latency sample observed at {@code now} (see {@link #sample(long, long, long, LatencyModel)}). */
  public void sample(long now, long signalNanos, LatencyModel model) {
    sample(now, signalNanos, now, model);
  }

  /**
   * A latency sample of an attempt dispatched at {@code startedAt} and ended at {@code now}.
   *
   * <p>Legacy decay (peak EWMA): above the estimate it replaces it; otherwise the estimate moves
   * toward it with weight {@code 1 - exp(-dt/tau)}.
   *
   * <p>Bounded forgetting: an estimate whose last sample is {@link LatencyModel#replaceAfterNanos}
   * old or more is replaced (a provider re-measured after a silence is what it measures now);
   * otherwise the mean moves toward the sample with weight {@code max(dt / tau, }{@value
   * LatencyModel#MIN_SAMPLE_WEIGHT}{@code )}, and a sample above the mean becomes the peak if it
   * weighs more now than the peak in force. A sample is dated when it was observed, {@code seen =
   * startedAt + signal} (a stream's first token), not when the attempt ended: a peak fades from
   * then. A sample seen <em>before</em> the newest one the estimate holds (an answer that began
   * earlier and lands later: typically a slow answer sent during a slow spell, ending after a
   * re-measurement found the provider healthy) replaces nothing, and its weight and peak are
   * scaled by {@code 1 - (newest seen - seen) / replaceAfter}: nothing once it is that much older,
   * so it cannot undo a newer re-measurement.
   */
  public synchronized void sample(long now, long signalNanos, long startedAt, LatencyModel model) {
    long est = estimateNanos;
    if (model.isLegacy()) {
      long dt = Math.max(0, now - lastSampleAt);
      if (est < 0 || signalNanos > est) {
        estimateNanos = signalNanos;
      } else {
        double w = Math.exp(-(double) dt / model.tauNanos());
        estimateNanos = (long) (est * w + signalNanos * (1 - w));
      }
      peakNanos = estimateNanos;
      peakAt = now;
      lastSampleAt = now;
      return;
    }
    // Bounded forgetting. A sample is dated when it was seen (a stream's first token); one seen
    // before the newest sample the estimate holds was seen (an answer that began earlier and
    // lands later) weighs less the older it is, and nothing once it is replaceAfter older.
    long seen = startedAt + signalNanos;
    if (seen - now > 0 || seen - startedAt < 0) {
      seen = now; // a clock that went backwards, or an overflow: date it now
    }
    long replace = model.replaceAfterNanos();
    long older = seenAt - seen;
    double stale = est < 0 || older <= 0 ? 1 : Math.max(0, 1 - older / (double) replace);
    if (stale == 0) {
      return; // older than what the estimate holds by replaceAfter or more: it tells nothing now
    }
    long dt = Math.max(0, now - lastSampleAt);
    if (est < 0 || (stale == 1 && dt >= replace)) {
      estimateNanos = signalNanos;
      peakNanos = signalNanos;
      peakAt = seen;
    } else {
      double invH = 1.0 / model.horizonNanos();
      double w = stale * Math.max((double) dt / model.tauNanos(), LatencyModel.MIN_SAMPLE_WEIGHT);
      long mean = (long) (est + (signalNanos - est) * Math.min(w, 1));
      double excess = stale * (signalNanos - (double) mean); // an older sample's peak counts scaled
      double fresh = excess * Math.min(1, 1 - (now - seen) * invH);
      double held = (peakNanos - (double) mean) * Math.min(1, 1 - (now - peakAt) * invH);
      estimateNanos = mean;
      if (fresh > 0 && fresh >= held) {
        peakNanos = stale == 1 ? signalNanos : mean + (long) excess;
        peakAt = seen;
      }
    }
    if (older < 0 || est < 0) {
      seenAt = seen;
    }
    lastSampleAt = now;
  }

  /** The current estimate in nanoseconds without a tier reference (legacy decay: toward zero; bounded forgetting: the own estimate). */
  public long latencyEstimate(long now, LatencyModel model) {
    return (long) latencyEstimate(now, model, -1);
  }

  // ---------------------------------------------------------------- health (called by Health)

  synchronized void noteFailureScore(long now, LatencyModel model) {
    double fail = failScore;
    long dt = now - failScoreAt;
    if (fail > 0 && dt > 0) {
      fail *= model.tauNanos() / (double) (model.tauNanos() + dt);
    }
    failScore = fail + 1;
    failScoreAt = now;
  }

  synchronized int incrementFailures(boolean rateLimit) {
    if (rateLimit) {
      consecutiveFailures = 0;
      return ++consecutiveRateLimits;
    }
    consecutiveRateLimits = 0;
    return ++consecutiveFailures;
  }

  /** Sets the deadline to the later of the current and {@code until}; returns the deadline in force. */
  synchronized long evictUntil(long now, long until, boolean countEjection) {
    return evictUntil(now, until, countEjection, false);
  }

  /**
   * As above; {@code named}: the deadline is one the server named for a rate limit, which ends the
   * eviction at that time without a probe when it becomes the deadline in force.
   */
  synchronized long evictUntil(long now, long until, boolean countEjection, boolean named) {
    if (!evicted || until - evictedUntil > 0) {
      namedEnd = named;
    }
    if (!evicted) {
      // A new eviction: no probe of it can be in flight yet. A probe flag left by an attempt of an
      // earlier eviction that was ended by another request must not keep this one out for good.
      probeInFlight.set(false);
    }
    if (!evicted || now - evictedUntil >= 0) {
      evictedAt = now; // a new eviction, or a renewal after the deadline (a failed probe)
    }
    if (!evicted || until - evictedUntil > 0) {
      evictedUntil = until; // later by the difference, which stays right across a ticker wrap
    }
    evicted = true;
    refreshPick();
    if (countEjection) {
      ejections++;
    }
    consecutiveFailures = 0;
    consecutiveRateLimits = 0;
    return evictedUntil;
  }

  /** Ends the probe (if this attempt held it) without a verdict. */
  void releaseProbe() {
    if (probeInFlight.getAndSet(false)) {
      RESTORES.incrementAndGet(); // after the change: a hint made before it is no longer trusted
    }
  }

  /** The restore count (see {@link #RESTORES}): compare two reads to learn whether any provider came back early. */
  public static long restores() {
    return RESTORES.get();
  }

  /** A healthy answer: resets the failure counts and, if evicted, restores. Returns true if it restored. */
  synchronized boolean recordHealthy() {
    consecutiveFailures = 0;
    consecutiveRateLimits = 0;
    ejections = 0;
    boolean probed = probeInFlight.getAndSet(false);
    if (evicted) {
      // evictedUntil keeps its value: a lock-free reader that still sees evicted == true must not
      // pair it with a zero deadline (it would claim a probe of a provider that is back).
      evicted = false;
      refreshPick();
      RESTORES.incrementAndGet();
      return true;
    }
    if (probed) {
      RESTORES.incrementAndGet();
    }
    return false;
  }

  /** Cheap check for the success path: is there anything to reset? */
  boolean needsHealthyReset() {
    return evicted || ejections != 0 || probeInFlight.get() || consecutiveFailuresVolatileHint();
  }

  private boolean consecutiveFailuresVolatileHint() {
    // consecutive counts are guarded by the lock; a racy read only decides whether to take it.
    return consecutiveFailures != 0 || consecutiveRateLimits != 0;
  }

  // ---------------------------------------------------------------- drain

  /**
   * Takes the provider out of rotation ({@code true}) or puts it back; attempts in flight are not
   * touched. Returns the previous value. Writers serialise on the pool's lock; readers (the pick
   * path) read the flag lock-free.
   */
  public boolean drain(boolean drain) {
    boolean was = drained;
    drained = drain;
    refreshPick();
    return was;
  }

  /** Whether an operator took the provider out of rotation. */
  public boolean drained() {
    return drained;
  }

  // ---------------------------------------------------------------- snapshot reads

  public boolean evicted() {
    return evicted;
  }

  public long evictedUntil() {
    return evictedUntil;
  }

  /** When the eviction in force began; meaningful while {@link #evicted()}. */
  public long evictedAt() {
    return evictedAt;
  }

  /**
   * Whether an attempt dispatched at {@code dispatchedAt} started before the eviction in force:
   * its outcome describes the provider before the eviction and must not change it (a late failure
   * must not escalate it, a late success must not end it).
   */
  public boolean predatesEviction(long dispatchedAt) {
    return evicted && dispatchedAt - evictedAt < 0;
  }

  public boolean probeInFlight() {
    return probeInFlight.get();
  }

  public int ejections() {
    return ejections;
  }

  public long inFlight() {
    return inFlight.get();
  }

  /** Counts a probe of the pool's own, just dispatched (it is one of {@link #requests()} too). */
  public void countProbe() {
    probes.increment();
  }

  /** Probes sent. */
  public long probes() {
    return probes.sum();
  }

  public long requests() {
    return requests.sum();
  }

  public long successes() {
    return successes.sum();
  }

  public long clientErrors() {
    return clientErrors.sum();
  }

  public long failures() {
    return failures.sum();
  }

  public long promptTokens() {
    return promptTokens.sum();
  }

  public long completionTokens() {
    return completionTokens.sum();
  }

  public long totalTokens() {
    return totalTokens.sum();
  }

  public long cachedTokens() {
    return cachedTokens.sum();
  }

  public long reasoningTokens() {
    return reasoningTokens.sum();
  }

  @Override
  public String toString() {
    return "ProviderState{" + name + ", inFlight=" + inFlight.get() + ", evicted=" + evicted
        + (drained ? ", drained" : "") + "}";
  }
}
