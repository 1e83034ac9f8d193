package io.github.llmpool.internal.health;

/**
 * One rate-limit dimension (requests or tokens) as one response's headers announced it: limit,
 * remaining, reset instant (ticker nanos), and when the response arrived. Immutable; published
 * whole through {@link ProviderState#observeRateLimits}.
 */
public final class RateWindow {
  /** The announced limit, or -1. */
  public final long limit;
  /** The announced remaining count, or -1. */
  public final long remaining;
  /** Whether a reset was announced ({@link #resetAt} is meaningful). */
  public final boolean hasReset;
  /** Ticker time of the announced reset, when {@link #hasReset}. */
  public final long resetAt;
  /** Ticker time the response's headers arrived. */
  public final long seenAt;
  /**
   * Units this instance dispatched after the header was seen (requests, or estimated tokens
   * corrected to the reported usage): what the announced remaining count does not know yet
   * ({@link Headroom}). The one mutable part.
   */
  final java.util.concurrent.atomic.AtomicLong used = new java.util.concurrent.atomic.AtomicLong();
  /**
   * Units other instances of the pool dispatched after the header's state (shared through a
   * {@code SharedState}): what the announced remaining count does not know either. Kept apart from
   * {@link #used} because the refill model's drain already stands for the others' share of the
   * refill ({@link Headroom}).
   */
  final java.util.concurrent.atomic.AtomicLong othersUsed = new java.util.concurrent.atomic.AtomicLong();
  /**
   * The end (ticker time) of the latest batch of others' dispatches counted in {@link #othersUsed};
   * {@code Long.MIN_VALUE} before the first. Past the window's reset, others' units are forgotten
   * once a full refill has passed since it ({@link Headroom}): nothing else would ever release
   * them when no instance dispatches (and so none learns a newer window).
   */
  volatile long othersLastAt = Long.MIN_VALUE;
  /**
   * Half the window (of its limit, or of the remaining count when no limit is announced): while
   * the units dispatched since leave at least this much of the announced remaining count, the
   * window is {@link #ample} and the pick needs no refill arithmetic.
   */
  final long ampleRoom;
  /**
   * Whether at least {@link #ampleRoom} units are left without counting any refill. Starts true
   * when the announced remaining count is at least half the limit; turns false once, when
   * dispatches use it up (a plain read on the pick path of a line that is rarely written, unlike
   * {@link #used}).
   */
  volatile boolean ample;

  /**
   * Whether {@link #seenAt} is the dispatch of the request whose answer carried the headers, not
   * their arrival (the reader dates the window to when the provider counted: see
   * {@code RateLimitHeaders.Reading.requests(long, long)}); the headroom model then counts every
   * reservation since, and reads a per-minute bucket's level from its reset.
   */
  public final boolean dated;

  public RateWindow(long limit, long remaining, boolean hasReset, long resetAt, long seenAt) {
    this(limit, remaining, hasReset, resetAt, seenAt, false);
  }

  /** As above; {@code dated}: {@code seenAt} is the request's dispatch (see {@link #dated}). */
  public RateWindow(long limit, long remaining, boolean hasReset, long resetAt, long seenAt, boolean dated) {
    this.dated = dated;
    this.limit = limit;
    this.remaining = remaining;
    this.hasReset = hasReset;
    this.resetAt = resetAt;
    this.seenAt = seenAt;
    this.ampleRoom = limit > 0 ? (limit + 1) / 2 : Math.max(1, remaining / 2);
    this.ample = remaining >= 0 && remaining >= ampleRoom && remaining - ampleRoom >= 0;
  }

  /** Counts {@code units} dispatched against this window (a reservation or its correction). */
  void use(long units) {
    long u = used.addAndGet(units);
    if (ample && remaining - u - othersUsed.get() < ampleRoom) {
      ample = false; // once: a correction that gives units back does not make it ample again
    }
  }

  /** Counts {@code units} other instances dispatched against this window (or a correction of them) in a batch that ended at {@code to}. */
  void useOthers(long units, long to) {
    long last = othersLastAt;
    if (last == Long.MIN_VALUE || to - last > 0) {
      othersLastAt = to; // racing writers: either batch's end is within a publish interval of the other
    }
    long o = othersUsed.addAndGet(units);
    if (ample && remaining - used.get() - o < ampleRoom) {
      ample = false;
    }
  }

  /**
   * Counts {@code units} against this window only if nothing else was counted since {@link #used}
   * read {@code expected} (one compare-and-set; {@link Headroom#tryReserve}).
   */
  boolean tryUse(long expected, long units) {
    if (!used.compareAndSet(expected, expected + units)) {
      return false;
    }
    if (ample && remaining - (expected + units) - othersUsed.get() < ampleRoom) {
      ample = false;
    }
    return true;
  }

  /**
   * Whether {@code next} replaces {@code old} at ticker time {@code now}. While the stored reset is
   * still ahead and both announce one, the later reset wins (a tie goes to the later arrival): a
   * response announcing an earlier reset describes an older state of the window (it was generated
   * earlier and overtaken by a concurrent attempt's, or it is from the window before), and would
   * make the provider look as if its window had already restarted. For a token bucket the time to
   * full refill never moves earlier, and for a fixed window the reset only jumps forward, so the
   * later reset is the fresher state in both. Once the stored reset has passed it protects nothing,
   * and without resets (Azure OpenAI) the later arrival wins.
   */
  public static boolean supersedes(RateWindow next, RateWindow old, long now) {
    if (old == null) {
      return true;
    }
    if (next.hasReset && old.hasReset && old.resetAt - now > 0 && next.resetAt != old.resetAt) {
      return next.resetAt - old.resetAt > 0;
    }
    return next.seenAt - old.seenAt >= 0;
  }

  @Override
  public String toString() {
    return "RateWindow{limit=" + limit + ", remaining=" + remaining + (hasReset ? ", resetAt=" + resetAt : "")
        + ", seenAt=" + seenAt + (dated ? " (dispatch)" : "") + "}";
  }
}
