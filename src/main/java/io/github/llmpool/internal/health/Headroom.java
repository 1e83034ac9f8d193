package io.github.llmpool.internal.health;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.concurrent.atomic.LongAdder;

/**
 * What one provider, or one quota group of providers that share an account, may still take:
 * requests and tokens, from the rate-limit headers its answers carry and from limits configured
 * per minute, minus what this instance has dispatched since.
 *
 * <p><b>Header windows.</b> The latest {@link RateWindow} per dimension (replaced by
 * compare-and-set, {@link RateWindow#supersedes}). Between answers the remaining count is taken to
 * refill linearly toward the limit until the announced reset (OpenAI and Anthropic document token
 * buckets: the reset is the time to full); once a 429 arrives while the model said there was room,
 * the provider is taken to use fixed windows and its remaining count stays as announced until the
 * reset. A window without a reset (Azure OpenAI) is taken to reset a minute after it was seen, so
 * a provider is never kept out for want of a fresh header. Units dispatched after the header was
 * seen are counted against it ({@link RateWindow#used}).
 *
 * <p><b>The header's age.</b> A response's headers describe the window when the provider admitted
 * the request, which for an answer that is not streamed is a whole generation before they arrive:
 * meanwhile the bucket refilled, and this instance dispatched more that the count does not know.
 * When the reset is what a per-minute bucket (OpenAI's and Anthropic's documented limits: the
 * limit refills once a minute, the reset is the time to full) needs from the announced remaining
 * count, less at most {@link #MAX_AGE_NANOS}, the window is anchored on its reset, which is exact
 * ({@code limit - (reset - t) x limit / minute}: the refill since the admission included), and the
 * units this instance reserved since the admission (a ring of the latest {@value #RECENT}
 * reservations) count against it. Any other window refills linearly from the moment it was seen,
 * as above (a slower refill, a longer-lived limit, an older header, or more reservations since
 * than the ring holds).
 *
 * <p><b>Others' share.</b> A key's bucket is often drained by other instances too, which this
 * instance only learns from the next header: each header that announces less than the previous
 * one, refilled, minus this instance's own reservations since, said, is an observation of that
 * drain (units per nanosecond, averaged over {@link #DRAIN_TAU_NANOS}); a bucket then refills at
 * its rate less the drain (at most {@link #MAX_DRAIN_SHARE} of it) and, while a drain is known,
 * not up to the whole limit at its announced reset but as that slower refill allows. What the
 * others took since the header is a count of arrivals at that mean rate, so its uncertainty grows
 * with the time since: the level counts one standard deviation of it too
 * ({@value #DRAIN_DEVIATIONS} x {@code sqrt(drain x elapsed)}; a drain below {@value #MIN_DRAIN_SHARE} of the refill is taken for rounding); one instance alone on its key sees no drain and none of this.
 *
 * <p><b>Dated windows.</b> A window the reader dated to its request's dispatch
 * ({@link RateWindow#dated}: the provider's counts are of its admission, which the dispatch
 * precedes by half a round trip, not of the headers' arrival a generation later) counts every
 * reservation made since the dispatch (the ring), not the request's own; and when its reset is what
 * a per-minute bucket needs from the announced count, its level is read from the reset, exactly,
 * rather than from the count, which is rounded down to a whole unit.
 *
 * <p><b>Configured limits.</b> Requests and tokens per minute as generic cell rate algorithm
 * buckets (a "theoretical arrival time" per dimension, one compare-and-set per reservation): a
 * full minute's worth may go at once, then one unit per {@code 60 s / limit}. With a shared
 * state's {@code SharedLimits}, a configured dimension is a {@link LeasedBucket} instead: the
 * units this instance holds in leases of the fleet-wide window.
 *
 * <p>A request is admitted when every known dimension has room for it: one request, and its token
 * estimate (capped at the dimension's limit, so that a request larger than the whole limit still
 * goes when the window is full). {@link #admits} is the pick path's check (lock-free, allocation
 * free); {@link #reserve} takes the units atomically at dispatch and {@link #settle} corrects the
 * token count to the reported usage. Thread-safe.
 */
public final class Headroom {
  /** How long a header window without a reset holds (Azure OpenAI's windows are per minute). */
  static final long NO_RESET_HOLD_NANOS = TimeUnit.MINUTES.toNanos(1);
  private static final long MINUTE = TimeUnit.MINUTES.toNanos(1);
  /** Rounding slack of the refill arithmetic (a unit due at an instant counts as there at it). */
  private static final double EPS = 1e-6;
  /** The lowest headroom share P2C's cost counts (its factor is at most 64). */
  private static final double MIN_SHARE = 1.0 / 128;
  /** The oldest a header may be (admission to arrival) and still be anchored on its reset. */
  static final long MAX_AGE_NANOS = TimeUnit.SECONDS.toNanos(10);
  /** Reservations remembered (a power of two), to count those a header made before them does not know. */
  static final int RECENT = 256;
  /** Time constant of the drain estimate (what others take from a shared bucket). */
  static final long DRAIN_TAU_NANOS = TimeUnit.SECONDS.toNanos(30);
  /** The drain counted is at most this share of the refill (the model never stops refilling). */
  static final double MAX_DRAIN_SHARE = 0.9;
  /** A drain below this share of the refill is taken for the headers' rounding, not for other users. */
  static final double MIN_DRAIN_SHARE = 0.05;
  /** How many standard deviations of others' take since the header the level counts (see the class comment). */
  static final double DRAIN_DEVIATIONS = 0.5;

  private static final AtomicReferenceFieldUpdater<Headroom, RateWindow> REQUEST_WINDOW =
      AtomicReferenceFieldUpdater.newUpdater(Headroom.class, RateWindow.class, "requestWindow");
  private static final AtomicReferenceFieldUpdater<Headroom, RateWindow> TOKEN_WINDOW =
      AtomicReferenceFieldUpdater.newUpdater(Headroom.class, RateWindow.class, "tokenWindow");

  /** The quota group's name, or null for a provider's own. */
  private final String group;
  private volatile RateWindow requestWindow;
  private volatile RateWindow tokenWindow;
  private final LongAdder ignored = new LongAdder();
  /** Fixed windows seen (a 429 while the refill model said there was room): no refill before the reset. */
  private volatile boolean fixedWindows;
  /** Whether the last admission check found no room (for the out-of-headroom / recovered events). */
  private final AtomicBoolean out = new AtomicBoolean();

  // Configured limits: 0 when not set.
  private final int requestsPerMinute;
  private final long tokensPerMinute;
  private final double nanosPerRequest;
  private final double nanosPerToken;
  private final AtomicLong requestTat;
  private final AtomicLong tokenTat;
  // Configured limits shared by the fleet (leases): null when local (or not set).
  private final LeasedBucket requestLease;
  private final LeasedBucket tokenLease;
  /** Whether any configured dimension exists (local or leased). */
  private final boolean configured;
  /**
   * The pick's fast path over the configured buckets (see {@link #bucketsAmple}): a local bucket
   * whose arrival time is at most this far ahead of now holds half its limit or more (so its share
   * costs P2C nothing), and at least one request, or {@link #tokenAmpleTokens} tokens.
   */
  private final long requestAmpleAhead;
  private final long tokenAmpleAhead;
  private final long tokenAmpleTokens;
  /** Whether the configured dimensions are all local buckets with a usable fast path (none leased). */
  private final boolean bucketsFast;

  /**
   * The pick's word (see {@link #quick}): the largest token estimate {@link #ample} admits as far as
   * the header windows and the token bucket's ample size go ({@code Long.MIN_VALUE}: none, the
   * exact checks decide), kept current by every writer ({@link #refreshQuick}). With
   * {@link #quickFrom}, one or two volatile reads in one object replace the chain of window
   * references, their flags and each bucket's {@code AtomicLong}.
   */
  private volatile long quickTokens = Long.MIN_VALUE;
  /**
   * With local buckets ({@link #quickBuckets}): the instant from which every bucket is within its
   * ample lead ({@code max(tat - ampleAhead)} over the buckets; they only move back as time passes,
   * so it holds from then until a writer moves it).
   */
  private volatile long quickFrom;
  /** Whether the quick word's time part counts (a local bucket with a usable fast path exists). */
  private final boolean quickBuckets;
  /**
   * The pick's copy of the word's time part in every provider state pointing here
   * ({@link ProviderState#roomQuick}): {@link #quickFrom} with buckets, else an instant that every
   * ticker time of the next 146 years is after (creation minus 2^62), so the pick's check is one
   * comparison per part with no flag to read.
   */
  private final long sinceEver;
  /**
   * The provider states pointing at this headroom (several for a quota group's): every writer's
   * {@link #refreshQuick} also stores the word into each, next to the fields
   * {@link ProviderState#isAvailable} reads, so the weighted pick reads it without going through
   * this object. Copy on write, under this object's lock; read lock-free.
   */
  private volatile ProviderState[] mirrors = NO_MIRRORS;
  private static final ProviderState[] NO_MIRRORS = new ProviderState[0];

  // The latest reservations: ticker time and tokens, slot = sequence number mod RECENT.
  private final java.util.concurrent.atomic.AtomicLongArray recentAt =
      new java.util.concurrent.atomic.AtomicLongArray(RECENT);
  private final java.util.concurrent.atomic.AtomicLongArray recentTokens =
      new java.util.concurrent.atomic.AtomicLongArray(RECENT);
  private final AtomicLong recentCount = new AtomicLong();

  /**
   * What others (other instances, other clients of the key) take from a token bucket, units per
   * nanosecond, per dimension: an average, over {@link #DRAIN_TAU_NANOS}, of how much less each new
   * header announced than the previous one and this instance's own reservations explain.
   */
  private volatile double requestDrain;
  private volatile double tokenDrain;

  public Headroom(String group, int requestsPerMinute, long tokensPerMinute, long now) {
    this(group, requestsPerMinute, tokensPerMinute, now, null, null);
  }

  /**
   * As above; a configured dimension given a {@link LeasedBucket} (its limit the configured one)
   * admits from the fleet-wide leases instead of a local bucket.
   */
  public Headroom(String group, int requestsPerMinute, long tokensPerMinute, long now, LeasedBucket requestLease,
      LeasedBucket tokenLease) {
    this.group = group;
    this.requestsPerMinute = Math.max(0, requestsPerMinute);
    this.tokensPerMinute = Math.max(0, tokensPerMinute);
    this.nanosPerRequest = this.requestsPerMinute > 0 ? MINUTE / (double) this.requestsPerMinute : 0;
    this.nanosPerToken = this.tokensPerMinute > 0 ? MINUTE / (double) this.tokensPerMinute : 0;
    this.requestLease = this.requestsPerMinute > 0 ? requestLease : null;
    this.tokenLease = this.tokensPerMinute > 0 ? tokenLease : null;
    this.requestTat = this.requestsPerMinute > 0 && this.requestLease == null ? new AtomicLong(now) : null;
    this.tokenTat = this.tokensPerMinute > 0 && this.tokenLease == null ? new AtomicLong(now) : null;
    this.configured = this.requestsPerMinute > 0 || this.tokensPerMinute > 0;
    this.requestAmpleAhead = this.requestTat == null ? 0 : ampleAhead(this.requestsPerMinute, nanosPerRequest);
    this.tokenAmpleAhead = this.tokenTat == null ? 0 : ampleAhead(this.tokensPerMinute, nanosPerToken);
    long tokenUnits = this.tokenTat == null ? 0 : ampleUnits(this.tokensPerMinute, nanosPerToken, tokenAmpleAhead);
    this.tokenAmpleTokens = tokenUnits;
    this.bucketsFast = this.configured && this.requestLease == null && this.tokenLease == null
        && (this.requestTat == null || ampleUnits(this.requestsPerMinute, nanosPerRequest, requestAmpleAhead) >= 1)
        && (this.tokenTat == null || tokenUnits >= 1);
    this.quickBuckets = this.bucketsFast;
    this.sinceEver = now - (1L << 62);
    refreshQuick();
  }

  /**
   * {@code s} now points at this headroom ({@link ProviderState#headroom(Headroom)}): its copy of the
   * word is kept current from here on, starting now.
   */
  void mirror(ProviderState s) {
    synchronized (this) {
      ProviderState[] m = mirrors;
      for (ProviderState x : m) {
        if (x == s) {
          refreshQuick();
          return;
        }
      }
      ProviderState[] n = java.util.Arrays.copyOf(m, m.length + 1);
      n[m.length] = s;
      mirrors = n;
    }
    refreshQuick(); // after the registration: a writer that missed it changed the state before this reads it
  }

  /** {@code s} no longer points here: its copy is no longer written from here. */
  void unmirror(ProviderState s) {
    synchronized (this) {
      ProviderState[] m = mirrors;
      for (int i = 0; i < m.length; i++) {
        if (m[i] == s) {
          ProviderState[] n = new ProviderState[m.length - 1];
          System.arraycopy(m, 0, n, 0, i);
          System.arraycopy(m, i + 1, n, i, m.length - i - 1);
          mirrors = n;
          return;
        }
      }
    }
  }

  /** The provider states holding a copy of the word (tests). */
  ProviderState[] mirrored() {
    return mirrors.clone();
  }

  // ---------------------------------------------------------------- the pick's word

  /**
   * {@link #quickTokens} as the live state gives it: what {@link #ample} reads (the windows'
   * {@code ample} flags and {@code ampleRoom}, the buckets' usable fast path and token size),
   * everything but the time.
   */
  private long quickTokensNow() {
    if (configured && !bucketsFast) {
      return Long.MIN_VALUE;
    }
    RateWindow rw = requestWindow;
    if (rw != null && !rw.ample) {
      return Long.MIN_VALUE;
    }
    long q = Long.MAX_VALUE;
    RateWindow tw = tokenWindow;
    if (tw != null) {
      if (!tw.ample) {
        return Long.MIN_VALUE;
      }
      q = tw.ampleRoom;
    }
    return tokenTat != null ? Math.min(q, tokenAmpleTokens) : q;
  }

  /** {@link #quickFrom} as the live buckets give it (0 without buckets: unused). */
  private long quickFromNow() {
    if (!quickBuckets) {
      return 0;
    }
    AtomicLong rt = requestTat;
    AtomicLong tt = tokenTat;
    if (rt == null) {
      return tt.get() - tokenAmpleAhead;
    }
    long a = rt.get() - requestAmpleAhead;
    if (tt == null) {
      return a;
    }
    long b = tt.get() - tokenAmpleAhead;
    return b - a > 0 ? b : a; // the later (ticker times compare by difference)
  }

  /**
   * Brings the pick's word up to date with the windows and buckets; every method that changes them
   * calls it after the change. Write, then check: a writer that computed from a state another
   * writer has changed since and stored its (stale) word after that writer's sees the change when
   * it reads the state again (every part is volatile), and stores again; the last word stored is
   * therefore one computed after the last change. Writes only what differs (the pick's line stays
   * clean while nothing changes). The provider states' copies ({@link #mirror}) are written in the
   * same pass, before the check, so the same holds for each of them. Allocation-free.
   */
  void refreshQuick() {
    while (true) {
      long t = quickTokensNow();
      long f = quickFromNow();
      if (quickTokens != t) {
        quickTokens = t;
      }
      if (quickFrom != f) {
        quickFrom = f;
      }
      long from = quickBuckets ? f : sinceEver;
      for (ProviderState s : mirrors) {
        s.quickWord(this, t, from);
      }
      if (quickTokensNow() == t && quickFromNow() == f) {
        return;
      }
    }
  }

  /**
   * Whether {@link #ample} holds for a request of {@code tokens} at {@code now}, from the pick's
   * word alone (one volatile read, two with configured buckets). The same answer as {@link #ample}
   * on the live state once the writers' {@link #refreshQuick} returned.
   */
  boolean quick(long now, long tokens) {
    return tokens <= quickTokens && (!quickBuckets || now - quickFrom >= 0);
  }

  /**
   * The furthest a configured bucket's theoretical arrival time may be ahead of now while the bucket
   * still holds at least half its limit, as {@link #slowCostFactor} computes the share (so a
   * bucket within it has factor 1): checked on the arithmetic itself, not assumed. The room only
   * shrinks as the arrival time moves ahead, so every smaller lead holds at least as much.
   */
  private static long ampleAhead(long limit, double nanosPerUnit) {
    long a = (long) (limit * nanosPerUnit / 2);
    while (a > 0 && !(bucketRoom(a, nanosPerUnit, limit) / limit >= 0.5)) {
      a--;
    }
    return a;
  }

  /**
   * The most units a request may take and still fit ({@link #slowAdmits}'s comparison) in a bucket
   * whose arrival time is {@code ahead} or less ahead of now; 0 when not even one does.
   */
  private static long ampleUnits(long limit, double nanosPerUnit, long ahead) {
    double room = bucketRoom(ahead, nanosPerUnit, limit);
    long u = (long) Math.floor(room + EPS);
    while (u > 0 && !(room >= u - EPS)) {
      u--;
    }
    return Math.max(0, u);
  }

  /** The fleet-wide request window's leases, or null (local bucket, or no limit). */
  public LeasedBucket requestLease() {
    return requestLease;
  }

  /** The fleet-wide token window's leases, or null. */
  public LeasedBucket tokenLease() {
    return tokenLease;
  }

  /** Whether configured dimensions take leases of fleet-wide windows. */
  public boolean leased() {
    return requestLease != null || tokenLease != null;
  }

  /** Closes the lease lines (the pool no longer routes on this headroom): unused units go back. */
  public void close() {
    if (requestLease != null) {
      requestLease.close();
    }
    if (tokenLease != null) {
      tokenLease.close();
    }
  }

  /** The quota group's name, or null. */
  public String group() {
    return group;
  }

  public int requestsPerMinute() {
    return requestsPerMinute;
  }

  public long tokensPerMinute() {
    return tokensPerMinute;
  }

  /** Whether the configured limits are these (a reconfiguration keeps the buckets then). */
  public boolean sameLimits(int rpm, long tpm) {
    return requestsPerMinute == Math.max(0, rpm) && tokensPerMinute == Math.max(0, tpm);
  }

  // ---------------------------------------------------------------- header windows

  /**
   * Records what one response's rate-limit headers said: either window may be null (not
   * announced); {@code ignoredValues} were malformed.
   */
  public void observe(RateWindow requests, RateWindow tokens, int ignoredValues, long now) {
    if (requests != null) {
      store(REQUEST_WINDOW, requests, now, false);
    }
    if (tokens != null) {
      store(TOKEN_WINDOW, tokens, now, true);
    }
    if (ignoredValues > 0) {
      ignored.add(ignoredValues);
    }
    if (requests != null || tokens != null) {
      refreshQuick();
    }
  }

  private void store(AtomicReferenceFieldUpdater<Headroom, RateWindow> field, RateWindow next, long now,
      boolean tokens) {
    RateWindow old = field.get(this);
    if (!RateWindow.supersedes(next, old, now) || olderCountOfTheSameWindow(next, old, now)) {
      return;
    }
    // What was reserved since the state the window describes counts against it: since the inferred
    // admission when anchored, else since the window's time (the request's dispatch when the reader
    // dated it so; the arrival, now, otherwise, when nothing is counted).
    long since = reservedSince(anchorFrom(next), now, tokens, next.limit);
    if (since != 0) {
      next.use(since);
    }
    long others = othersSince(anchorFrom(next), tokens); // other instances' dispatches the header does not know
    if (others != 0) {
      next.useOthers(others, othersLatestAt());
    }
    observeDrain(old, next, tokens);
    while (!field.compareAndSet(this, old, next)) {
      old = field.get(this);
      if (!RateWindow.supersedes(next, old, now) || olderCountOfTheSameWindow(next, old, now)) {
        return;
      }
    }
    LeasedBucket lease = tokens ? tokenLease : requestLease;
    if (lease != null && next.remaining >= 0 && next.limit > 0) { // the fleet window is no fuller than the provider's
      lease.announced(next.remaining, Math.max(0, now - anchorFrom(next)));
    }
  }

  /**
   * The drain {@code next} shows against {@code old}: what {@code old} (refilled, minus this
   * instance's reservations since) said would be left when {@code next} arrived, minus what
   * {@code next} says, over the time between them; averaged into the dimension's estimate.
   * Buckets only (not fixed windows), the same limit, a reset on both, and only while {@code old}
   * cannot have refilled to full before {@code next} arrived (a full bucket wastes its refill, so
   * the decrease would not measure what others took).
   */
  private void observeDrain(RateWindow old, RateWindow next, boolean tokens) {
    if (old == null || fixedWindows || !old.hasReset || !next.hasReset || old.limit <= 0 || old.limit != next.limit) {
      return;
    }
    long dt = next.seenAt - old.seenAt;
    if (dt <= 0 || dt > 5 * MINUTE) {
      return;
    }
    // Own dispatches only: the drain measures what the others take, counted or not.
    double predicted = roomIn(old, next.seenAt, false, 0) + old.othersUsed.get();
    if (predicted + old.used.get() >= old.limit - EPS) {
      return; // the bucket may have been full in between (refill lost): the decrease says nothing of a drain
    }
    double announced = roomIn(next, next.seenAt, false, 0) + next.othersUsed.get();
    double sample = (predicted - announced) / dt;
    double d = tokens ? tokenDrain : requestDrain;
    d += dt / (double) (DRAIN_TAU_NANOS + dt) * (sample - d);
    double rate = refillRate(next);
    d = Math.max(-rate, Math.min(rate, d)); // bounded: one odd header does not dominate
    if (tokens) {
      tokenDrain = d;
    } else {
      requestDrain = d;
    }
  }

  /** A bucket window's refill, units per nanosecond: per minute when anchored, else to full by the reset; 0 if unknown. */
  static double refillRate(RateWindow w) {
    if (!w.hasReset || w.limit <= 0) {
      return 0;
    }
    if (anchored(w)) {
      return w.limit / (double) MINUTE;
    }
    long span = w.resetAt - w.seenAt;
    double r = Math.max(0, w.remaining);
    return span > 0 && w.limit > r ? (w.limit - r) / span : 0;
  }

  /** The drain to count against {@code w} (0 unless positive; at most {@link #MAX_DRAIN_SHARE} of its refill). */
  private static double effectiveDrain(RateWindow w, double drain) {
    if (drain <= 0) {
      return 0;
    }
    double rate = refillRate(w);
    return drain < MIN_DRAIN_SHARE * rate ? 0 : Math.min(drain, MAX_DRAIN_SHARE * rate);
  }

  /**
   * When the provider admitted the request whose answer carried {@code w} (see the class comment,
   * "the header's age"): for a window anchored on its reset, the instance a per-minute bucket holding
   * the announced remaining count plus half a unit (the count is rounded down) is that far from
   * full; otherwise the window's arrival ({@link RateWindow#seenAt}).
   */
  static long admittedAt(RateWindow w) {
    if (!w.hasReset || w.limit <= 0 || w.remaining < 0 || w.remaining >= w.limit) {
      return w.seenAt;
    }
    double toFull = (w.limit - w.remaining - 0.5) * (MINUTE / (double) w.limit);
    long admitted = w.resetAt - (long) toFull;
    long age = w.seenAt - admitted;
    return !w.dated && age > 0 && age <= MAX_AGE_NANOS ? admitted : w.seenAt;
  }

  /**
   * Whether {@code w}'s level is read from its reset as a per-minute bucket's
   * ({@code limit - (reset - t) x limit / minute}, fractional: the announced count is rounded
   * down, the reset is not): a window with an inferred admission ({@link #admittedAt}), or a
   * window dated to its request's dispatch ({@link RateWindow#dated}) whose reset is what a
   * per-minute bucket needs from a level between the announced count and one unit more (within
   * {@link #PER_MINUTE_SLACK_NANOS} or 5% of a unit's refill).
   */
  static boolean anchored(RateWindow w) {
    if (!w.dated) {
      return admittedAt(w) != w.seenAt;
    }
    if (!w.hasReset || w.limit <= 0 || w.remaining < 0 || w.remaining >= w.limit) {
      return false;
    }
    double unit = MINUTE / (double) w.limit;
    double slack = Math.max(0.05 * unit, PER_MINUTE_SLACK_NANOS);
    double toFull = w.resetAt - w.seenAt;
    return toFull >= (w.limit - w.remaining - 1) * unit - slack && toFull <= (w.limit - w.remaining) * unit + slack;
  }

  /** How far a dated window's reset may stray from a per-minute bucket's and still be read as one (duration rounding). */
  static final long PER_MINUTE_SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  /**
   * The instant the window's counts describe, from which this instance's reservations count
   * against it: the request's dispatch for a dated window, the inferred admission for an anchored
   * one, else its arrival.
   */
  static long anchorFrom(RateWindow w) {
    return w.dated ? w.seenAt : admittedAt(w);
  }

  /**
   * Units reserved after {@code from} and no later than {@code to} (requests, or tokens), from the
   * ring of the latest reservations. When the ring no longer reaches back to {@code from}, the
   * refill between {@code from} and its oldest entry is counted too (taken to have been used: the
   * window is then no more optimistic than one refilled from that entry on).
   */
  private long reservedSince(long from, long to, boolean tokens, long limit) {
    long count = recentCount.get();
    long units = 0;
    long n = Math.min(count, RECENT);
    long oldest = to;
    for (long k = 1; k <= n; k++) {
      int slot = (int) ((count - k) & (RECENT - 1));
      long at = recentAt.get(slot);
      if (at - from <= 0) {
        return units;
      }
      if (at - to <= 0) {
        units += tokens ? recentTokens.get(slot) : 1;
      }
      oldest = at;
    }
    if (count > RECENT && oldest - from > 0) {
      units += (long) Math.ceil((oldest - from) * (limit / (double) MINUTE));
    }
    return units;
  }

  // ---------------------------------------------------------------- other instances' dispatches

  /** Batches of other instances' dispatches remembered (a power of two), for windows stored after them. */
  static final int OTHERS = 256;
  private final java.util.concurrent.atomic.AtomicLongArray othersAt =
      new java.util.concurrent.atomic.AtomicLongArray(OTHERS);
  private final java.util.concurrent.atomic.AtomicLongArray othersRequests =
      new java.util.concurrent.atomic.AtomicLongArray(OTHERS);
  private final java.util.concurrent.atomic.AtomicLongArray othersTokens =
      new java.util.concurrent.atomic.AtomicLongArray(OTHERS);
  private final AtomicLong othersCount = new AtomicLong();

  /**
   * Other instances of the pool dispatched {@code requests} requests and {@code tokens} tokens
   * (a correction when negative) to this provider or group, up to ticker time {@code to}: counted
   * against each header window in force that describes the provider before {@code to} (its
   * admission, or its arrival, is earlier), as this instance's own dispatches are; remembered for a
   * window stored later that describes an earlier state (a header older than them, from a slower
   * answer or another instance). What a later header announces already counts them.
   */
  public void othersDispatched(long requests, long tokens, long to) {
    int slot = (int) (othersCount.get() & (OTHERS - 1));
    othersAt.set(slot, to);
    othersRequests.set(slot, requests);
    othersTokens.set(slot, tokens);
    othersCount.incrementAndGet();
    RateWindow rw = requestWindow;
    if (rw != null && requests != 0 && to - anchorFrom(rw) >= 0) { // a tie counts (the safe side)
      rw.useOthers(requests, to);
    }
    RateWindow tw = tokenWindow;
    if (tw != null && tokens != 0 && to - anchorFrom(tw) >= 0) {
      tw.useOthers(tokens, to);
    }
    refreshQuick();
  }

  /**
   * The room in header window {@code w} at {@code now}: the refill model's ({@link #roomIn}), or,
   * when other instances share their dispatches and the model sees less than half the limit, the
   * bucket's own floor if that is higher: once the header is older than one full refill
   * ({@link #boundSpan}), so that every dispatch within that span is counted here, a token bucket
   * holds at least its limit less what was taken within the span, whatever it held before; a fixed
   * window past its reset, its limit less what was taken since the reset. The model counts
   * every dispatch since the header's state and, past the reset, refills nothing more; with many
   * instances a header describes a state seconds old (a non-streamed answer's headers come at its
   * end), and the fleet's dispatches since then can exceed the limit while the bucket has long
   * refilled for most of them. Walks only the dispatches within the span (newest first).
   */
  private double room(RateWindow w, long now, boolean fixed, double drain, boolean tokens) {
    double r = roomIn(w, now, fixed, drain);
    if (r >= w.limit / 2.0 || w.limit <= 0 || othersCount.get() == 0) {
      return r;
    }
    long from;
    if (fixed) { // past its reset a fixed window counts only what was taken since
      long resetAt = w.hasReset ? w.resetAt : w.seenAt + NO_RESET_HOLD_NANOS;
      if (now - resetAt < 0) {
        return r;
      }
      from = resetAt;
    } else {
      long span = boundSpan(w, false);
      if (span <= 0 || now - span - anchorFrom(w) < 0) {
        return r; // the header is younger than a full refill: its count and the model's refill are the better word
      }
      from = now - span;
    }
    long others = othersWithin(from, tokens);
    if (others < 0) {
      return r; // the batches remembered do not reach back a whole span
    }
    return Math.max(r, w.limit - reservedSince(from, now, tokens, w.limit) - others);
  }

  /**
   * How long window {@code w}'s bucket takes to refill from empty to its limit, taken long: a
   * minute for a per-minute window; else the limit over the slowest refill rate the window's
   * numbers allow (the count is rounded down, so one unit less than announced may be missing),
   * a minute when they allow none. -1 for a fixed window (it restarts at its reset) or an
   * unknown limit or reset.
   */
  static long boundSpan(RateWindow w, boolean fixed) {
    if (fixed || !w.hasReset || w.limit <= 0) {
      return -1;
    }
    if (anchored(w)) {
      return MINUTE;
    }
    long span = w.resetAt - w.seenAt;
    double missing = w.limit - Math.max(0, w.remaining) - 1;
    if (span <= 0 || missing <= 0) {
      return MINUTE;
    }
    return (long) Math.min(MINUTE, Math.ceil(w.limit * (span / missing)));
  }

  /** When this instance last reserved (ticker time), or {@code Long.MIN_VALUE} before its first. */
  private long latestReservation() {
    long count = recentCount.get();
    return count == 0 ? Long.MIN_VALUE : recentAt.get((int) ((count - 1) & (RECENT - 1)));
  }

  /**
   * Other instances' units (requests, or tokens) of batches that ended after {@code from}, newest
   * first; -1 when the batches remembered do not reach back to {@code from}.
   */
  private long othersWithin(long from, boolean tokens) {
    long count = othersCount.get();
    long n = Math.min(count, OTHERS);
    long units = 0;
    for (long k = 1; k <= n; k++) {
      int slot = (int) ((count - k) & (OTHERS - 1));
      if (othersAt.get(slot) - from < 0) {
        return units;
      }
      units += tokens ? othersTokens.get(slot) : othersRequests.get(slot);
    }
    return count > OTHERS ? -1 : units;
  }

  /** The end of the latest batch of other instances' dispatches (meaningful once there is one). */
  private long othersLatestAt() {
    long count = othersCount.get();
    return count == 0 ? Long.MIN_VALUE : othersAt.get((int) ((count - 1) & (OTHERS - 1)));
  }

  /** Other instances' units (requests, or tokens) of batches that ended after {@code from}. */
  private long othersSince(long from, boolean tokens) {
    long count = othersCount.get();
    if (count == 0) {
      return 0;
    }
    long units = 0;
    long n = Math.min(count, OTHERS);
    for (long k = 1; k <= n; k++) {
      int slot = (int) ((count - k) & (OTHERS - 1));
      if (othersAt.get(slot) - from >= 0) {
        units += tokens ? othersTokens.get(slot) : othersRequests.get(slot);
      }
    }
    return units;
  }

  public RateWindow requestWindow() {
    return requestWindow;
  }

  public RateWindow tokenWindow() {
    return tokenWindow;
  }

  public long ignoredValues() {
    return ignored.sum();
  }

  /** Whether this provider was seen to use fixed windows (see the class comment). */
  public boolean fixedWindows() {
    return fixedWindows;
  }

  /**
   * A 429 arrived (its headers already observed) asking for {@code retryNanos} (-1: none), judged
   * on the windows stored for the provider. See {@link #rateLimited(long, long, RateWindow, RateWindow)}.
   */
  public void rateLimited(long now, long retryNanos) {
    rateLimited(now, retryNanos, null, null);
  }

  /**
   * A 429 arrived (its headers already observed) asking for {@code retryNanos} (-1: none) and
   * carrying its own windows {@code requests} and {@code tokens} (null: that dimension not
   * announced; the stored window is judged instead). When an exhausted window's reset is about
   * that far away (at least half of it), the provider counts in fixed windows, not buckets, and its
   * remaining count no longer refills before the reset. (A bucket's {@code Retry-After} is the time
   * one unit takes, far shorter than its time to full.)
   *
   * <p>The 429's own windows decide, not the stored ones: the stored window is the answer with the
   * latest reset ({@link RateWindow#supersedes}), and in a fixed window a slower answer's reset is
   * later by its latency, so it may be a 200's that still counts units the 429 says are gone. And
   * under fixed windows a 429 window that says nothing is left, with its reset ahead, replaces the
   * stored window of its dimension: it is the provider's latest word, and its reset is the window's
   * (no answer's latency added), so the provider is out until then, and back at once after.
   */
  public void rateLimited(long now, long retryNanos, RateWindow requests, RateWindow tokens) {
    if (!fixedWindows && retryNanos > 0
        && (fixedReset(requests != null ? requests : requestWindow, now, retryNanos)
            || fixedReset(tokens != null ? tokens : tokenWindow, now, retryNanos))) {
      fixedWindows = true;
    }
    if (fixedWindows) {
      spend(REQUEST_WINDOW, requests, now);
      spend(TOKEN_WINDOW, tokens, now);
      refreshQuick();
    }
  }

  /** Stores a 429's exhausted window {@code w} (0 left, reset ahead) whatever the stored one's reset. */
  private void spend(AtomicReferenceFieldUpdater<Headroom, RateWindow> field, RateWindow w, long now) {
    if (w == null || w.remaining != 0 || !w.hasReset || w.resetAt - now <= 0) {
      return;
    }
    while (true) {
      RateWindow old = field.get(this);
      if (old == w || field.compareAndSet(this, old, w)) {
        return;
      }
    }
  }

  /**
   * Under fixed windows, whether {@code next} is an older count of the stored window {@code old}:
   * while the stored reset is ahead, every answer arriving was admitted in that window (or before),
   * and a reset later by no more than an answer's age ({@link #MAX_AGE_NANOS}) is the same window's
   * end with the answer's latency added; in one window the remaining count only falls, so a count
   * no lower than the stored one is older and is not kept.
   */
  private boolean olderCountOfTheSameWindow(RateWindow next, RateWindow old, long now) {
    return fixedWindows && old != null && old.hasReset && next.hasReset && old.resetAt - now > 0
        && next.resetAt - old.resetAt >= 0 && next.resetAt - old.resetAt <= MAX_AGE_NANOS
        && next.remaining >= old.remaining;
  }

  private static boolean fixedReset(RateWindow w, long now, long retryNanos) {
    if (w == null || !w.hasReset || w.remaining != 0) {
      return false;
    }
    long left = w.resetAt - now;
    return left > 0 && retryNanos * 2 >= left;
  }

  /**
   * The units a header window still has at {@code now}: the announced remaining count (refilled
   * toward the limit until the reset unless {@code fixed}) minus what was dispatched since; the
   * whole limit once the reset passed (unbounded when the limit is unknown); unbounded without a
   * window.
   */
  static double roomIn(RateWindow w, long now, boolean fixed) {
    return roomIn(w, now, fixed, 0);
  }

  /**
   * As above, for a bucket that others drain by {@code drain} units per nanosecond: it refills
   * that much slower, and not to the whole limit at its reset (see the class comment).
   */
  static double roomIn(RateWindow w, long now, boolean fixed, double drain) {
    if (w == null) {
      return Double.POSITIVE_INFINITY;
    }
    long resetAt = w.hasReset ? w.resetAt : w.seenAt + NO_RESET_HOLD_NANOS;
    long used = w.used.get();
    long others = othersCounted(w, now, resetAt, fixed);
    double d = fixed ? 0 : effectiveDrain(w, drain);
    if (d > 0 && w.limit > Math.max(0, w.remaining)) { // a drained bucket: rate - drain from the admission on
      double rate = refillRate(w);
      long from = anchorFrom(w);
      double start = anchored(w) ? w.limit - (resetAt - from) * rate : Math.max(0, w.remaining);
      // Others' take since is a count of independent arrivals: its mean and one standard deviation.
      double dt = Math.max(0, now - from);
      double level = start + (rate - d) * dt - DRAIN_DEVIATIONS * Math.sqrt(d * dt);
      double drained = Math.min(w.limit, Math.max(0, level)) - used;
      // The drain is the others' share of the refill (not counted again); what they dispatched beyond
      // it came from the stock the header announced: the room is also at most the whole count's.
      return others == 0 ? drained : Math.min(drained, undrainedLevel(w, now, fixed, resetAt) - used - others);
    }
    return undrainedLevel(w, now, fixed, resetAt) - used - others;
  }

  /**
   * What other instances dispatched against window {@code w} that still counts at {@code now}: all
   * of it until the window's reset; past the reset, nothing once it is forgotten
   * ({@link #othersForgottenAt}). Without that, a fleet whose instances all counted the others'
   * dispatches past the limit would never dispatch again, so would never learn a newer window: the
   * provider would stay out of rotation for good.
   */
  static long othersCounted(RateWindow w, long now, long resetAt, boolean fixed) {
    long others = w.othersUsed.get();
    if (others <= 0 || now - resetAt < 0) {
      return others;
    }
    return now - othersForgottenAt(w, resetAt, fixed) >= 0 ? 0 : others;
  }

  /**
   * When, past window {@code w}'s reset, the others' dispatches counted against it stop counting: a
   * fixed window's batches that ended before its reset belong to the window that ended; otherwise a
   * full refill after the latest batch ({@link #boundSpan}; a minute when it is not known), after
   * which a bucket holds its limit again whatever they took.
   */
  static long othersForgottenAt(RateWindow w, long resetAt, boolean fixed) {
    long last = w.othersLastAt;
    if (last == Long.MIN_VALUE || (fixed && last - resetAt < 0)) {
      return resetAt;
    }
    long full = boundSpan(w, fixed);
    return Math.max(resetAt, last + (full > 0 ? full : MINUTE));
  }

  /** The level of header window {@code w} at {@code now} without any drain, before what was dispatched since. */
  private static double undrainedLevel(RateWindow w, long now, boolean fixed, long resetAt) {
    if (now - resetAt >= 0) {
      return w.limit >= 0 ? w.limit : Double.POSITIVE_INFINITY;
    }
    double base = Math.max(0, w.remaining);
    if (!fixed && w.hasReset && w.limit > base) {
      if (anchored(w)) { // anchored on the reset: a per-minute refill since the admission
        return Math.max(base, w.limit - (resetAt - now) * (w.limit / (double) MINUTE));
      }
      long span = resetAt - w.seenAt;
      long since = now - w.seenAt;
      if (span > 0 && since > 0) {
        base += (w.limit - base) * (since / (double) span);
      }
    }
    return base;
  }

  /** Units a configured bucket has at {@code now} (its limit when full; negative when in debt). */
  private static double roomIn(AtomicLong tat, double nanosPerUnit, long limit, long now) {
    return bucketRoom(tat.get() - now, nanosPerUnit, limit);
  }

  /** Units a configured bucket has when its arrival time is {@code ahead} of now. */
  private static double bucketRoom(long ahead, double nanosPerUnit, long limit) {
    if (ahead <= 0) {
      return limit;
    }
    return limit - ahead / nanosPerUnit;
  }

  /** Whether anything is known: a header window or a configured limit. */
  public boolean tracked() {
    return requestWindow != null || tokenWindow != null || configured;
  }

  // ---------------------------------------------------------------- the pick path

  /**
   * Whether a request of {@code tokens} estimated tokens fits now (one request and its tokens, in
   * every known dimension). Lock-free, allocation-free: two volatile reads when nothing is known,
   * one more per configured bucket while every dimension holds half its limit or more.
   */
  public boolean admits(long now, long tokens) {
    return quick(now, tokens) || admitsPastQuick(now, tokens);
  }

  /** {@link #admits} when the pick's word says nothing: today's checks on the live state. */
  private boolean admitsPastQuick(long now, long tokens) {
    RateWindow rw = requestWindow;
    RateWindow tw = tokenWindow;
    return ample(rw, tw, now, tokens) || slowAdmits(rw, tw, now, tokens);
  }

  /**
   * The pick's one look at this headroom, for P2C: -1 when a request of {@code tokens} estimated
   * tokens does not fit now (as {@link #admits}), else {@link #costFactor} (each window read once
   * for both answers). Lock-free, allocation-free; while every known dimension holds half its limit
   * or more: the window references, their {@code ample} flags and one volatile read per configured
   * bucket, no arithmetic.
   */
  public double pickFactor(long now, long tokens) {
    if (quick(now, tokens)) {
      return 1;
    }
    RateWindow rw = requestWindow;
    RateWindow tw = tokenWindow;
    if (ample(rw, tw, now, tokens)) {
      return 1;
    }
    return slowAdmits(rw, tw, now, tokens) ? costFactor(rw, tw, now) : -1;
  }

  /**
   * Whether every known dimension holds half its limit or more and room for the request without
   * any arithmetic: each header window {@linkplain RateWindow#ample ample} (and the tokens within
   * its half), each configured bucket within its ample lead. Then the request fits and its cost
   * factor is 1. False says nothing (the exact checks decide).
   */
  private boolean ample(RateWindow rw, RateWindow tw, long now, long tokens) {
    return (rw == null || rw.ample) && (tw == null || (tw.ample && tokens <= tw.ampleRoom))
        && (!configured || bucketsAmple(now, tokens));
  }

  /**
   * The configured buckets' part of {@link #ample}: one volatile read of each bucket's arrival time
   * (no compare-and-set: that is the reservation's, at dispatch) and a comparison with a lead
   * computed once ({@link #ampleAhead}).
   */
  private boolean bucketsAmple(long now, long tokens) {
    if (!bucketsFast) {
      return false;
    }
    AtomicLong rt = requestTat;
    AtomicLong tt = tokenTat;
    return (rt == null || rt.get() - now <= requestAmpleAhead)
        && (tt == null || (tokens <= tokenAmpleTokens && tt.get() - now <= tokenAmpleAhead));
  }

  /** {@link #ample} on the live state (for tests of the pick's word, {@link #quick}). */
  boolean ampleLive(long now, long tokens) {
    return ample(requestWindow, tokenWindow, now, tokens);
  }

  /** {@link #admits} past {@link #ample}: every known dimension's exact room. */
  boolean slowAdmits(RateWindow rw, RateWindow tw, long now, long tokens) {
    boolean fixed = fixedWindows;
    if (rw != null && room(rw, now, fixed, requestDrain, false) < 1 - EPS) {
      return false;
    }
    if (tw != null && room(tw, now, fixed, tokenDrain, true) < capped(tokens, tw.limit) - EPS) {
      return false;
    }
    if (requestTat != null && roomIn(requestTat, nanosPerRequest, requestsPerMinute, now) < 1 - EPS) {
      return false;
    }
    if (requestLease != null && !requestLease.admits(now, 1)) {
      return false;
    }
    if (tokenLease != null && !tokenLease.admits(now, capped(tokens, tokensPerMinute))) {
      return false;
    }
    return tokenTat == null
        || roomIn(tokenTat, nanosPerToken, tokensPerMinute, now) >= capped(tokens, tokensPerMinute) - EPS;
  }

  /** At least 1, at most the limit when it is known. */
  private static long capped(long tokens, long limit) {
    long t = Math.max(1, tokens);
    return limit > 0 ? Math.min(t, limit) : t;
  }

  /**
   * The factor P2C multiplies a provider's cost by: 1 while at least half of its limit is left in
   * every known dimension, then {@code 0.5 / share} for the smallest share left (so 2 at a quarter,
   * 5 at a tenth; at most 64), so that load moves away before the limit is hit. 1 when nothing is
   * known.
   */
  public double costFactor(long now) {
    if (quick(now, 0)) {
      return 1;
    }
    RateWindow rw = requestWindow;
    RateWindow tw = tokenWindow;
    return costFactor(rw, tw, now);
  }

  private double costFactor(RateWindow rw, RateWindow tw, long now) {
    if ((rw == null || rw.ample) && (tw == null || tw.ample) && (!configured || bucketsAmple(now, 0))) {
      return 1; // half a window or more left without any refill, every bucket half full or more
    }
    return slowCostFactor(rw, tw, now);
  }

  double slowCostFactor(RateWindow rw, RateWindow tw, long now) {
    boolean fixed = fixedWindows;
    double share = 1;
    if (rw != null && rw.limit > 0) {
      share = Math.min(share, room(rw, now, fixed, requestDrain, false) / rw.limit);
    }
    if (tw != null && tw.limit > 0) {
      share = Math.min(share, room(tw, now, fixed, tokenDrain, true) / tw.limit);
    }
    if (requestTat != null) {
      share = Math.min(share, roomIn(requestTat, nanosPerRequest, requestsPerMinute, now) / requestsPerMinute);
    }
    if (tokenTat != null) {
      share = Math.min(share, roomIn(tokenTat, nanosPerToken, tokensPerMinute, now) / tokensPerMinute);
    }
    if (requestLease != null) {
      share = Math.min(share, requestLease.room(now) / requestsPerMinute);
    }
    if (tokenLease != null) {
      share = Math.min(share, tokenLease.room(now) / tokensPerMinute);
    }
    return share >= 0.5 ? 1 : 0.5 / Math.max(MIN_SHARE, share);
  }

  // ---------------------------------------------------------------- reservations

  /**
   * Takes one request and {@code tokens} tokens at dispatch, in every known dimension, whether or
   * not they fit (the pick already checked; a concurrent dispatch may have taken the last unit
   * meanwhile, and the provider will count this request anyway). Fills {@code into} with what to
   * settle later. Returns whether it fit.
   */
  public boolean reserve(long now, long tokens, Reservation into) {
    boolean fit = reserveUnits(now, tokens, into);
    refreshQuick();
    return fit;
  }

  private boolean reserveUnits(long now, long tokens, Reservation into) {
    into.clear();
    into.headroom = this;
    boolean fixed = fixedWindows;
    RateWindow rw = requestWindow;
    RateWindow tw = tokenWindow;
    long t = Math.max(0, tokens);
    boolean fit = true;
    into.tokens = t;
    int slot = (int) (recentCount.getAndIncrement() & (RECENT - 1));
    recentTokens.set(slot, t);
    recentAt.set(slot, now);
    if (rw != null) {
      rw.use(1);
      into.requestWindow = rw;
      fit = room(rw, now, fixed, requestDrain, false) >= 0;
    }
    if (tw != null) {
      tw.use(t);
      into.tokenWindow = tw;
      fit &= room(tw, now, fixed, tokenDrain, true) >= 0 || t > tw.limit;
    }
    if (requestTat != null) {
      fit &= take(requestTat, nanosPerRequest, requestsPerMinute, 1, now);
      into.requestBucket = true;
    }
    if (tokenTat != null) {
      fit &= take(tokenTat, nanosPerToken, tokensPerMinute, t, now);
      into.tokenBucket = true;
      into.bucketTokens = t;
    }
    if (requestLease != null) {
      fit &= (requestLease.take(now, 1) & LeasedBucket.FIT) != 0;
    }
    if (tokenLease != null) {
      int took = tokenLease.take(now, t);
      fit &= (took & LeasedBucket.FIT) != 0;
      into.tokenLease = true;
      into.tokenFromFallback = (took & LeasedBucket.FROM_FALLBACK) != 0;
      into.bucketTokens = t;
    }
    return fit;
  }

  /**
   * Takes one request and {@code tokens} tokens only if they fit now, in every known dimension
   * (the same check as {@link #admits}): each header window and configured bucket checks and takes
   * its units under one compare-and-set, and what was taken is given back when a later dimension
   * has no room. Returns true with {@code into} holding the units (settle or {@link #release} it),
   * or false holding nothing. For requests that waited for room together ({@code quotaWait}): of
   * several woken at once, only as many go as the room holds. (Leased dimensions are checked, then
   * taken: their leases are this instance's own units.)
   */
  public boolean tryReserve(long now, long tokens, Reservation into) {
    boolean took = tryReserveUnits(now, tokens, into);
    refreshQuick();
    return took;
  }

  private boolean tryReserveUnits(long now, long tokens, Reservation into) {
    into.clear();
    boolean fixed = fixedWindows;
    RateWindow rw = requestWindow;
    RateWindow tw = tokenWindow;
    long t = Math.max(0, tokens);
    if (rw != null && !tryUse(rw, now, fixed, requestDrain, 1, 1, false)) {
      return false;
    }
    if (tw != null && !tryUse(tw, now, fixed, tokenDrain, capped(t, tw.limit), t, true)) {
      undoWindows(rw, null, t);
      return false;
    }
    long requestCost = (long) nanosPerRequest;
    long tokenCost = (long) (t * nanosPerToken);
    if (requestTat != null && !tryTake(requestTat, nanosPerRequest, requestsPerMinute, 1, requestCost, now)) {
      undoWindows(rw, tw, t);
      return false;
    }
    if (tokenTat != null
        && !tryTake(tokenTat, nanosPerToken, tokensPerMinute, capped(t, tokensPerMinute), tokenCost, now)) {
      undoWindows(rw, tw, t);
      if (requestTat != null) {
        requestTat.addAndGet(-requestCost);
      }
      return false;
    }
    if ((requestLease != null && !requestLease.admits(now, 1))
        || (tokenLease != null && !tokenLease.admits(now, capped(t, tokensPerMinute)))) {
      undoWindows(rw, tw, t);
      if (requestTat != null) {
        requestTat.addAndGet(-requestCost);
      }
      if (tokenTat != null) {
        tokenTat.addAndGet(-tokenCost);
      }
      return false;
    }
    // Taken: the rest is what reserve() records.
    into.headroom = this;
    into.tokens = t;
    int slot = (int) (recentCount.getAndIncrement() & (RECENT - 1));
    recentTokens.set(slot, t);
    recentAt.set(slot, now);
    into.requestWindow = rw;
    into.tokenWindow = tw;
    if (requestTat != null) {
      into.requestBucket = true;
    }
    if (tokenTat != null) {
      into.tokenBucket = true;
      into.bucketTokens = t;
    }
    if (requestLease != null) {
      into.requestLease = true;
      into.requestFromFallback = (requestLease.take(now, 1) & LeasedBucket.FROM_FALLBACK) != 0;
    }
    if (tokenLease != null) {
      into.tokenLease = true;
      into.tokenFromFallback = (tokenLease.take(now, t) & LeasedBucket.FROM_FALLBACK) != 0;
      into.bucketTokens = t;
    }
    return true;
  }

  /** Takes {@code units} from header window {@code w} if it holds {@code need} now (one compare-and-set). */
  private boolean tryUse(RateWindow w, long now, boolean fixed, double drain, long need, long units, boolean tokens) {
    while (true) {
      long u = w.used.get();
      if (room(w, now, fixed, drain, tokens) < need - EPS) { // reads used again: a change since fails the CAS below
        return false;
      }
      if (w.tryUse(u, units)) {
        return true;
      }
    }
  }

  private static void undoWindows(RateWindow rw, RateWindow tw, long tokens) {
    if (rw != null) {
      rw.use(-1);
    }
    if (tw != null) {
      tw.use(-tokens);
    }
  }

  /**
   * GCRA, conditional: takes {@code cost} nanoseconds of a bucket only if it holds {@code need}
   * units now ({@link #admits}' check), under one compare-and-set.
   */
  private static boolean tryTake(AtomicLong tat, double nanosPerUnit, long limit, long need, long cost, long now) {
    while (true) {
      long t = tat.get();
      long ahead = t - now;
      double room = ahead <= 0 ? limit : limit - ahead / nanosPerUnit;
      if (room < need - EPS) {
        return false;
      }
      if (tat.compareAndSet(t, (ahead > 0 ? t : now) + cost)) {
        return true;
      }
    }
  }

  /**
   * Gives back a reservation whose attempt was never dispatched (a waited request that then went
   * nowhere): its request and tokens return to every dimension they were taken from. Nothing when
   * it is not this headroom's.
   */
  public void release(Reservation r) {
    if (r.headroom != this) {
      return;
    }
    releaseUnits(r);
    refreshQuick();
  }

  private void releaseUnits(Reservation r) {
    undoWindows(r.requestWindow, r.tokenWindow, r.tokens);
    if (r.requestBucket && requestTat != null) {
      requestTat.addAndGet(-(long) nanosPerRequest);
    }
    if (r.tokenBucket && tokenTat != null) {
      tokenTat.addAndGet(-(long) (r.bucketTokens * nanosPerToken));
    }
    if (r.requestLease && requestLease != null) {
      requestLease.correct(-1, r.requestFromFallback);
    }
    if (r.tokenLease && tokenLease != null) {
      tokenLease.correct(-r.bucketTokens, r.tokenFromFallback);
    }
    r.clear();
  }

  /**
   * Nanoseconds one more request of {@code tokens} takes to refill in this headroom's slowest
   * refilling dimension (header buckets at their refill less the drain, configured buckets at their
   * rate); 0 when no dimension refills gradually (fixed windows, windows without a reset, leases).
   * The spread of the wake-ups of requests that wait for room together.
   */
  public long refillNanos(long tokens) {
    boolean fixed = fixedWindows;
    double n = 0;
    RateWindow rw = requestWindow;
    RateWindow tw = tokenWindow;
    if (!fixed && rw != null) {
      double rate = refillRate(rw) - effectiveDrain(rw, requestDrain);
      n = rate > 0 ? Math.max(n, 1 / rate) : n;
    }
    if (!fixed && tw != null) {
      double rate = refillRate(tw) - effectiveDrain(tw, tokenDrain);
      n = rate > 0 ? Math.max(n, capped(tokens, tw.limit) / rate) : n;
    }
    if (requestTat != null) {
      n = Math.max(n, nanosPerRequest);
    }
    if (tokenTat != null) {
      n = Math.max(n, capped(tokens, tokensPerMinute) * nanosPerToken);
    }
    return (long) Math.min(n, (double) MINUTE);
  }

  /**
   * GCRA: takes {@code units} from a bucket, whether or not they fit (a bucket in debt refills
   * before it admits again); returns whether they fit (a full bucket takes a request of any size).
   */
  private static boolean take(AtomicLong tat, double nanosPerUnit, long limit, long units, long now) {
    long cost = (long) (units * nanosPerUnit);
    long burst = (long) (limit * nanosPerUnit);
    while (true) {
      long t = tat.get();
      long base = t - now > 0 ? t : now;
      long next = base + cost;
      if (tat.compareAndSet(t, next)) {
        return next - now <= burst || base == now;
      }
    }
  }

  /**
   * Corrects a reservation to the tokens the answer reported ({@code actual < 0}: unknown, the
   * estimate stands). A header window corrected only while it is still the current one (a newer
   * header already counts the answer as the provider did).
   */
  public void settle(Reservation r, long actual) {
    if (r.headroom != this || actual < 0) {
      return;
    }
    settleUnits(r, actual);
    refreshQuick();
  }

  private void settleUnits(Reservation r, long actual) {
    if (r.tokenWindow != null && r.tokenWindow == tokenWindow) {
      r.tokenWindow.use(actual - r.tokens);
    }
    r.tokenWindow = null; // settled once
    if (r.tokenBucket) {
      long delta = (long) ((actual - r.bucketTokens) * nanosPerToken);
      tokenTat.addAndGet(delta);
      r.tokenBucket = false;
    }
    if (r.tokenLease && tokenLease != null) {
      tokenLease.correct(actual - r.bucketTokens, r.tokenFromFallback);
      r.tokenLease = false;
    }
  }

  /**
   * Nanoseconds from {@code now} until a request of {@code tokens} would fit, as far as the
   * windows tell (0 when it fits now): the latest of the refills and resets it waits for.
   */
  public long untilRoom(long now, long tokens) {
    if (admits(now, tokens)) {
      return 0;
    }
    long wait = 0;
    boolean fixed = fixedWindows;
    RateWindow rw = requestWindow;
    RateWindow tw = tokenWindow;
    if (rw != null) {
      wait = Math.max(wait, untilRoomIn(rw, now, fixed, 1, requestDrain, false));
    }
    if (tw != null) {
      wait = Math.max(wait, untilRoomIn(tw, now, fixed, capped(tokens, tw.limit), tokenDrain, true));
    }
    if (requestTat != null) {
      wait = Math.max(wait, requestTat.get() - now - (long) ((requestsPerMinute - 1) * nanosPerRequest));
    }
    if (tokenTat != null) {
      long c = capped(tokens, tokensPerMinute);
      wait = Math.max(wait, tokenTat.get() - now - (long) ((tokensPerMinute - c) * nanosPerToken));
    }
    if (requestLease != null) {
      wait = Math.max(wait, requestLease.untilRoom(now, 1));
    }
    if (tokenLease != null) {
      wait = Math.max(wait, tokenLease.untilRoom(now, capped(tokens, tokensPerMinute)));
    }
    return Math.max(1, wait);
  }

  /** Nanoseconds until header window {@code w} holds {@code need} units: its refill, else its reset. */
  private long untilRoomIn(RateWindow w, long now, boolean fixed, long need, double drain, boolean tokens) {
    if (room(w, now, fixed, drain, tokens) >= need - EPS) {
      return 0;
    }
    long full = othersCount.get() == 0 ? -1 : boundSpan(w, fixed); // as room(): with others' dispatches only
    long latest = full > 0 ? Math.max(anchorFrom(w), Math.max(latestReservation(), othersLatestAt())) : Long.MIN_VALUE;
    long byBound = latest == Long.MIN_VALUE ? Long.MAX_VALUE : Math.max(1, latest + full - now);
    return Math.min(byBound, modelWait(w, now, fixed, need, drain));
  }

  /** {@link #untilRoomIn} by the refill model alone. */
  private static long modelWait(RateWindow w, long now, boolean fixed, long need, double drain) {
    double d = fixed ? 0 : effectiveDrain(w, drain);
    if (d > 0 && w.limit > Math.max(0, w.remaining)) {
      double rate = refillRate(w);
      long from = anchorFrom(w);
      double start = anchored(w) ? w.limit - (w.resetAt - from) * rate : Math.max(0, w.remaining);
      // start + (rate - d) x (t - from) - sqrt(d x (t - from)) - used >= need, with x = sqrt(t - from):
      // (rate - d) x^2 - sqrt(d) x - c >= 0 (when that is more than the limit holds: the time to full)
      double a = rate - d;
      double b = DRAIN_DEVIATIONS * Math.sqrt(d);
      double c = Math.min(need + w.used.get(), w.limit) - start;
      double disc = b * b + 4 * a * c;
      double x = disc <= 0 ? 0 : (b + Math.sqrt(disc)) / (2 * a);
      long at = from + (long) Math.ceil(x * x);
      return w.othersUsed.get() == 0 ? Math.max(1, at - now)
          : Math.max(1, Math.max(at - now, undrainedWait(w, now, fixed, need)));
    }
    return undrainedWait(w, now, fixed, need);
  }

  /** {@link #untilRoomIn} without a drain, counting what this instance and the others dispatched since. */
  private static long undrainedWait(RateWindow w, long now, boolean fixed, long need) {
    long resetAt = w.hasReset ? w.resetAt : w.seenAt + NO_RESET_HOLD_NANOS;
    long toReset = Math.max(0, resetAt - now);
    if (toReset == 0 && othersCounted(w, now, resetAt, fixed) > 0) { // past the reset: until the others' units are forgotten
      return Math.max(1, othersForgottenAt(w, resetAt, fixed) - now);
    }
    long usedAll = w.used.get() + w.othersUsed.get();
    double remaining = Math.max(0, w.remaining);
    if (fixed || !w.hasReset || w.limit <= remaining) {
      return toReset;
    }
    if (anchored(w)) {
      // limit - (reset - t) x limit / minute - used >= need
      double before = (w.limit - usedAll - need) * (MINUTE / (double) w.limit);
      return before < 0 ? toReset : Math.min(toReset, Math.max(0, (long) Math.ceil(toReset - before)));
    }
    long span = resetAt - w.seenAt;
    if (span <= 0) {
      return toReset;
    }
    // remaining + (limit - remaining) x (t - seen) / span - used >= need
    double t = (need + usedAll - remaining) * span / (w.limit - remaining);
    long at = w.seenAt + (long) Math.ceil(t);
    return Math.min(toReset, Math.max(0, at - now));
  }

  /**
   * Records whether the last admission found room; returns +1 when the provider just ran out, -1
   * when it just recovered, 0 when nothing changed (for the events).
   */
  public int noteRoom(boolean room) {
    if (room) {
      return out.get() && out.compareAndSet(true, false) ? -1 : 0;
    }
    return !out.get() && out.compareAndSet(false, true) ? 1 : 0;
  }

  /** Whether the last admission check found no room. */
  public boolean outOfRoom() {
    return out.get();
  }

  /** Request units left now in the tightest view (header or configured), or -1 when unknown. */
  public double requestRoom(long now) {
    double r = Math.min(requestWindow == null ? Double.POSITIVE_INFINITY : room(requestWindow, now, fixedWindows, requestDrain, false),
        requestTat == null ? Double.POSITIVE_INFINITY : roomIn(requestTat, nanosPerRequest, requestsPerMinute, now));
    if (requestLease != null) {
      r = Math.min(r, requestLease.room(now));
    }
    return r == Double.POSITIVE_INFINITY ? -1 : r;
  }

  /** Token units left now in the tightest view, or -1 when unknown. */
  public double tokenRoom(long now) {
    double r = Math.min(tokenWindow == null ? Double.POSITIVE_INFINITY : room(tokenWindow, now, fixedWindows, tokenDrain, true),
        tokenTat == null ? Double.POSITIVE_INFINITY : roomIn(tokenTat, nanosPerToken, tokensPerMinute, now));
    if (tokenLease != null) {
      r = Math.min(r, tokenLease.room(now));
    }
    return r == Double.POSITIVE_INFINITY ? -1 : r;
  }

  /**
   * What one attempt took from a {@link Headroom}, to settle when it ends. Mutable; owned by one
   * attempt (the pool's attempt lease is one, so a reservation allocates nothing of its own).
   */
  public static class Reservation {
    Headroom headroom;
    RateWindow requestWindow;
    RateWindow tokenWindow;
    long tokens;
    boolean requestBucket;
    boolean tokenBucket;
    long bucketTokens;
    boolean tokenLease;
    boolean tokenFromFallback;
    boolean requestLease;
    boolean requestFromFallback;

    /** Whether this holds a reservation. */
    public boolean held() {
      return headroom != null;
    }

    /** The headroom it was taken from, or null. */
    public Headroom headroom() {
      return headroom;
    }

    /** Holds nothing. */
    public void clear() {
      headroom = null;
      requestWindow = null;
      tokenWindow = null;
      tokens = 0;
      requestBucket = false;
      tokenBucket = false;
      bucketTokens = 0;
      tokenLease = false;
      tokenFromFallback = false;
      requestLease = false;
      requestFromFallback = false;
    }

    /** Hands what this holds to {@code to} (which then holds it) and holds nothing. */
    public void moveTo(Reservation to) {
      to.headroom = headroom;
      to.requestWindow = requestWindow;
      to.tokenWindow = tokenWindow;
      to.tokens = tokens;
      to.requestBucket = requestBucket;
      to.tokenBucket = tokenBucket;
      to.bucketTokens = bucketTokens;
      to.tokenLease = tokenLease;
      to.tokenFromFallback = tokenFromFallback;
      to.requestLease = requestLease;
      to.requestFromFallback = requestFromFallback;
      clear();
    }

    /** The tokens reserved (the estimate, capped), for reports. */
    public long tokens() {
      return tokens;
    }
  }

  @Override
  public String toString() {
    return "Headroom{" + (group == null ? "" : "group=" + group + ", ") + "requests=" + requestWindow + ", tokens="
        + tokenWindow + (requestsPerMinute > 0 ? ", rpm=" + requestsPerMinute : "")
        + (tokensPerMinute > 0 ? ", tpm=" + tokensPerMinute : "") + (leased() ? ", leased" : "") + "}";
  }
}
