package io.github.llmpool.internal.health;

import io.github.llmpool.spi.SharedLimit;
import io.github.llmpool.spi.SharedLimits;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A configured limit shared by the instances of a pool ({@link SharedLimits}): the units this
 * instance holds in leases of the fleet-wide window, and the local bucket it falls back to while
 * the store is down. Replaces a {@link Headroom}'s local GCRA bucket for one dimension.
 *
 * <p>Admits only held units (the need capped at a lease, so that a request larger than a lease
 * goes when a whole lease is held, its excess a debt the next leases pay), plus a <b>start
 * credit</b>: before the first grant (of any size) arrives, one lease, so that a pool just built
 * takes calls while its first lease is a connection and a round trip away. What the credit admits
 * makes {@code held} negative, a debt the line's next grants pay from the fleet window ({@code
 * lease - held} is asked); a holder gets the credit once, so it never spends both a lease held
 * before some interval and a credit in it (the fleet bound stays {@code I x L}). A dispatch that takes
 * {@code held} below the line's low-water mark wakes the line (once until the next grant), which
 * asks for the next lease on its own thread. While the store is down: what is held, then a local
 * GCRA bucket of {@code limit / fleet size last granted} per minute that starts empty (the fleet
 * was using the window), or of the whole limit, starting full, when no grant ever said how large
 * the fleet is (a pool that never reached the store behaves as a local-only one).
 *
 * <p><b>A stalled store</b> (connected, no answers) counts as down for this line: once the oldest
 * lease request not answered is older than {@link #STALL_NANOS} (60 ms, 3 lease rounds) on the
 * pool's clock, the request path admits from the same fallback as {@link #storeDown} until an
 * answer arrives (then as after {@link #storeUp}). Decided from this holder's own timestamp (one
 * volatile read), no store call, no thread. Lock-free on the request path; thread-safe.
 */
public final class LeasedBucket implements SharedLimits.Holder {
  private static final long MINUTE = TimeUnit.MINUTES.toNanos(1);
  /** What {@link #untilRoom} says while a lease is on its way (the answer is a round trip away). */
  static final long ASKING_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  /** A lease request unanswered for longer than this (3 lease rounds of 20 ms): the store counts as down for the line. */
  public static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(60);
  private static final long NONE = Long.MIN_VALUE;

  private final SharedLimit limit;
  private final LongSupplier clock;
  private final SharedLimits.Line line;
  private final long leaseSize;
  private final long lowWater;
  /**
   * The units admission may use: those held in leases plus the start credit while it is
   * outstanding ({@link #creditOutstanding}). One word, so that the first grant, which pays the
   * credit back and adds its units in one {@code addAndGet}, is never seen half done by a request
   * (before: a request could read the held units before the grant and the credit as already gone,
   * and be refused with a whole lease on its way in). The holder's own {@link #held()} is this
   * less the credit.
   */
  private final AtomicLong held = new AtomicLong();
  /** Whether {@link #held} includes the start credit (from the constructor to the first grant; guarded by this for writes). */
  private volatile boolean creditOutstanding;
  private final AtomicBoolean woken = new AtomicBoolean();
  /** Units the fleet window held after the last grant (for the P2C share and the snapshot). */
  private volatile long windowLeft;
  /** Pool time before which the window will not have room (from the last grant). */
  private volatile long retryAt;
  /** Instances sharing the window at the last grant; 0 before any. */
  private volatile int fleet;
  /** Whether a grant ever arrived (before: one lease of start credit). */
  private volatile boolean everGranted;
  private volatile boolean closed;
  /** The largest need refused while holding fewer units but not below the low-water mark (0: none). */
  private volatile long wanted;

  // The fallback while the store is down (null while up).
  private volatile Fallback fallback;
  /** Pool time of the oldest lease request not answered since ({@link #NONE}: none). */
  private volatile long askedAt = NONE;
  /** Whether {@link #fallback} was set by a stall (an answer ends it), not by {@link #storeDown}. */
  private boolean stallFallback; // guarded by this

  /** The local bucket used while the store is down. */
  private static final class Fallback {
    final long perMinute;
    final double nanosPerUnit;
    final AtomicLong tat;

    Fallback(long perMinute, long now, boolean full) {
      this.perMinute = perMinute;
      this.nanosPerUnit = MINUTE / (double) perMinute;
      this.tat = new AtomicLong(full ? now : now + MINUTE);
    }

    double room(long now) {
      long ahead = tat.get() - now;
      return ahead <= 0 ? perMinute : perMinute - ahead / nanosPerUnit;
    }
  }

  /**
   * Opens the window through {@code limits}.
   *
   * @param limits the shared windows
   * @param limit which window
   * @param clock the pool's monotonic time
   */
  public LeasedBucket(SharedLimits limits, SharedLimit limit, LongSupplier clock) {
    this.limit = limit;
    this.clock = clock;
    SharedLimits.Line l = limits.open(limit, this);
    if (l == null) {
      throw new NullPointerException("SharedLimits.open returned null");
    }
    this.line = l;
    this.leaseSize = Math.max(1, l.leaseSize());
    this.lowWater = Math.max(1, Math.min(leaseSize, l.lowWater()));
    synchronized (this) { // a grant may have come (on the store's thread) since open returned
      if (!everGranted) {
        held.addAndGet(leaseSize);
        creditOutstanding = true;
      }
    }
    if (!everGranted && fallback == null) {
      asked(clock.getAsLong()); // the line asks for the first lease when it opens
    }
  }

  public SharedLimit limit() {
    return limit;
  }

  public long perMinute() {
    return limit.perMinute();
  }

  public long leaseSize() {
    return leaseSize;
  }

  // ---------------------------------------------------------------- Holder (the store's thread)

  @Override
  public synchronized long held() {
    return held.get() - credit();
  }

  @Override
  public synchronized void granted(SharedLimits.Grant grant) {
    long now = clock.getAsLong();
    // The first grant pays the start credit back in the same addition that brings its units.
    long paid = creditOutstanding ? leaseSize : 0;
    creditOutstanding = false;
    long units = Math.max(0, grant.units());
    if (units != paid) {
      held.addAndGet(units - paid);
    }
    if (held.get() >= wanted) {
      wanted = 0;
    }
    windowLeft = grant.windowLeft();
    fleet = grant.fleetSize();
    everGranted = true;
    retryAt = grant.retryAfterMillis() > 0 ? now + TimeUnit.MILLISECONDS.toNanos(grant.retryAfterMillis()) : now;
    askedAt = NONE;
    woken.set(false);
    if (fallback != null) {
      endStall();
    }
  }

  /** An answer arrived: a fallback a stall set ends (as after {@link #storeUp}). */
  private synchronized void endStall() {
    if (stallFallback) {
      stallFallback = false;
      fallback = null;
    }
  }

  /** The fallback in force at {@code now}: the store's down, or it has stalled (this line's request unanswered too long). */
  private Fallback fallback(long now) {
    Fallback f = fallback;
    if (f != null) {
      return f;
    }
    long a = askedAt;
    if (a == NONE || now - a <= STALL_NANOS || closed) {
      return null;
    }
    return stall(now);
  }

  private synchronized Fallback stall(long now) {
    long a = askedAt;
    if (fallback == null && a != NONE && now - a > STALL_NANOS) {
      fallback = newFallback(now);
      stallFallback = true;
    }
    return fallback;
  }

  private Fallback newFallback(long now) {
    int f = fleet;
    return f > 0 ? new Fallback(Math.max(1, limit.perMinute() / f), now, false)
        : new Fallback(limit.perMinute(), now, true);
  }

  /** Whether the line's store has stalled (a stall's fallback is in force). */
  public synchronized boolean stalled() {
    return stallFallback;
  }

  @Override
  public long wanted() {
    return wanted;
  }

  @Override
  public synchronized long reclaim(long keep) {
    long k = Math.max(0, keep);
    long c = credit(); // fixed while this holds the lock (only a grant changes it)
    while (true) {
      long h = held.get();
      long back = h - c - k;
      if (back <= 0) {
        return 0;
      }
      if (held.compareAndSet(h, k + c)) {
        return back;
      }
    }
  }

  @Override
  public synchronized void storeDown() {
    stallFallback = false; // down until storeUp, whatever answers
    askedAt = NONE;
    if (fallback == null) {
      fallback = newFallback(clock.getAsLong());
    }
  }

  @Override
  public synchronized void storeUp() {
    stallFallback = false;
    askedAt = NONE;
    fallback = null;
    woken.set(false);
  }

  /** Whether the store is down (admitting from the local fallback). */
  public boolean down() {
    return fallback != null;
  }

  /** The fallback's per-minute limit while the store is down, else 0. */
  public long fallbackPerMinute() {
    Fallback f = fallback;
    return f == null ? 0 : f.perMinute;
  }

  // ---------------------------------------------------------------- the pool's side

  /** The start credit {@link #held} includes now: one lease before the first grant, then none. */
  private long credit() {
    return creditOutstanding ? leaseSize : 0;
  }

  /** Whether no grant arrived yet (the start credit applies). */
  public boolean beforeFirstGrant() {
    return !everGranted;
  }

  /** Whether {@code need} units fit now (lock-free, allocation-free). */
  boolean admits(long now, long need) {
    long n = Math.max(1, Math.min(need, leaseSize));
    long usable = held.get(); // with the start credit while it is outstanding
    long h = usable - credit(); // what the leases hold
    if (h >= n) {
      return true;
    }
    Fallback f = fallback(now);
    if (f == null) {
      if (usable >= n) {
        return true; // before the first grant: on credit, a debt the first grants pay
      }
      if (h >= lowWater && wanted < n) {
        wanted = n; // no dispatch will take held below the mark: the line tops it up at its next round
        asked(now);
      } else if (h < lowWater && now - retryAt >= 0 && askedAt == NONE) {
        asked(now); // below the mark, the grant's retry time passed: the line's next round asks
      }
      return false;
    }
    return Math.max(0, h) + f.room(now) >= Math.min(need, f.perMinute) - 1e-6;
  }

  /** {@link #take}'s answer: the units fit. */
  static final int FIT = 1;
  /** {@link #take}'s answer: the units came from the fallback bucket (settle there). */
  static final int FROM_FALLBACK = 2;

  /**
   * Takes {@code units} at dispatch whether or not they fit; returns {@link #FIT} and
   * {@link #FROM_FALLBACK} bits.
   */
  int take(long now, long units) {
    Fallback f = fallback(now);
    if (f != null && held.get() - credit() < Math.min(units, leaseSize)) {
      long cost = (long) (units * f.nanosPerUnit);
      long burst = (long) (f.perMinute * f.nanosPerUnit);
      while (true) {
        long t = f.tat.get();
        long base = t - now > 0 ? t : now;
        long next = base + cost;
        if (f.tat.compareAndSet(t, next)) {
          return FROM_FALLBACK | (next - now <= burst || base == now ? FIT : 0);
        }
      }
    }
    long before = held.getAndAdd(-units); // with the credit while it is outstanding
    int fit = before - (f == null ? 0 : credit()) >= Math.min(units, leaseSize) ? FIT : 0;
    long after = before - units - credit();
    if (after < lowWater && !closed && !woken.get() && woken.compareAndSet(false, true)) {
      asked(now);
      try {
        line.wake();
      } catch (RuntimeException e) {
        woken.set(false); // asked again by the next dispatch; the line's periodic round still runs
      }
    }
    return fit;
  }

  /** A lease request goes out at {@code now}: the oldest unanswered one's time, unless one is older. */
  private void asked(long now) {
    if (askedAt == NONE && fallback == null) {
      askedAt = now;
    }
  }

  /** Corrects a dispatch's tokens by {@code delta} (reported minus estimated). */
  void correct(long delta, boolean fromFallback) {
    if (delta == 0) {
      return;
    }
    Fallback f = fallback;
    if (fromFallback && f != null) {
      f.tat.addAndGet((long) (delta * f.nanosPerUnit));
    } else if (!fromFallback) {
      held.addAndGet(-delta);
    }
  }

  /**
   * Units this instance may use now: held plus what the fleet window had left (or the fallback's
   * room); before the first grant, held plus the start credit.
   */
  double room(long now) {
    long usable = held.get();
    Fallback f = fallback(now);
    if (f != null) {
      return Math.max(0, usable - credit()) + f.room(now);
    }
    return everGranted ? usable + windowLeft : Math.max(0, usable);
  }

  /** Nanoseconds until {@code need} units could fit (0 when they fit now). */
  long untilRoom(long now, long need) {
    if (admits(now, need)) {
      return 0;
    }
    Fallback f = fallback(now);
    if (f != null) {
      long c = Math.min(Math.max(1, need), f.perMinute);
      return Math.max(1, f.tat.get() - now - (long) ((f.perMinute - c) * f.nanosPerUnit));
    }
    long r = retryAt - now;
    return r > 0 ? r : ASKING_NANOS;
  }

  /**
   * The provider's headers said {@code remaining} units were left {@code ageNanos} ago: the line
   * corrects the fleet window down to it (see {@link SharedLimits.Line#announced}).
   */
  void announced(long remaining, long ageNanos) {
    if (closed || fallback != null) {
      return;
    }
    try {
      line.announced(remaining, ageNanos);
    } catch (RuntimeException e) {
      // the window stays as the fleet counted it
    }
  }

  /** The pool no longer uses this window: the line gives back what is held. */
  void close() {
    if (!closed) {
      closed = true;
      line.close();
    }
  }

  @Override
  public String toString() {
    return "LeasedBucket{" + limit.key() + ", perMinute=" + limit.perMinute() + ", held=" + (held.get() - credit()) + ", lease="
        + leaseSize + (everGranted ? "" : ", credit") + (fallback != null ? ", fallback=" + fallback.perMinute + "/min" : "") + "}";
  }
}
