package io.github.llmpool.bench.quality;

/**
 * One rate limit of a fake provider (requests or tokens per world minute), enforced the way hosted
 * APIs do: a token bucket (refilled continuously at {@code limit} per minute, starting full) or a
 * fixed window (at most {@code limit} per minute-long window aligned to world time 0). All times are
 * world nanoseconds ({@link ScaledTicker#read()}). A bucket starts {@link #INITIAL_BUCKET_FILL} full,
 * as if the key had been in use before the run: a full bucket would let a whole minute's limit
 * through at once and push the onset of any shortage at 100-120% load minutes into the run. Not thread-safe: the provider holds its lock
 * across the checks of both of its limits.
 */
final class QuotaLimit {
  /** How a limit refills. */
  enum Kind {
    /** Continuous refill; {@code reset} is the time until full again (OpenAI's documented meaning). */
    BUCKET,
    /** Everything back at the next window boundary; {@code reset} is the time to that boundary. */
    WINDOW
  }

  static final long MINUTE = 60_000_000_000L;

  final Kind kind;
  final long limit;
  private final double perNano;
  private double level; // bucket: tokens left
  private long refilledAt;
  private long used; // window: taken in the current window
  private long window; // index of the current window

  /** A bucket's level at the start, as a share of its limit: the key has been busy (see the class doc). */
  static final double INITIAL_BUCKET_FILL = 0.1;

  QuotaLimit(Kind kind, long limit) {
    this(kind, limit, INITIAL_BUCKET_FILL);
  }

  QuotaLimit(Kind kind, long limit, double initialFill) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1 but was " + limit);
    }
    this.kind = kind;
    this.limit = limit;
    this.perNano = limit / (double) MINUTE;
    this.level = limit * initialFill;
  }

  private void advance(long now) {
    if (kind == Kind.BUCKET) {
      if (now > refilledAt) {
        level = Math.min(limit, level + (now - refilledAt) * perNano);
        refilledAt = now;
      }
    } else {
      long w = Math.floorDiv(now, MINUTE);
      if (w != window) {
        window = w;
        used = 0;
      }
    }
  }

  /** Whether {@code cost} fits now (nothing taken). */
  boolean fits(long now, long cost) {
    advance(now);
    return kind == Kind.BUCKET ? level >= cost : used + cost <= limit;
  }

  /** Takes {@code cost}; call after {@link #fits}. Returns the window index it was taken in. */
  long take(long now, long cost) {
    advance(now);
    if (kind == Kind.BUCKET) {
      level -= cost;
    } else {
      used += cost;
    }
    return window;
  }

  /**
   * Gives back {@code amount} taken at admission (the answer used less than its reservation): a
   * bucket gets it back (up to full); a window only if the admission's window is still the current one.
   */
  void refund(long now, long amount, long takenInWindow) {
    if (amount <= 0) {
      return;
    }
    advance(now);
    if (kind == Kind.BUCKET) {
      level = Math.min(limit, level + amount);
    } else if (takenInWindow == window) {
      used = Math.max(0, used - amount);
    }
  }

  /** What is left now, as the headers say it (whole units, never negative). */
  long remaining(long now) {
    advance(now);
    return kind == Kind.BUCKET ? Math.max(0, (long) Math.floor(level)) : Math.max(0, limit - used);
  }

  /** World nanos until the limit is whole again: time to full (bucket) or to the window's end. */
  long resetNanos(long now) {
    advance(now);
    if (kind == Kind.BUCKET) {
      return (long) Math.ceil((limit - level) / perNano);
    }
    return (window + 1) * MINUTE - now;
  }

  /** World nanos until {@code cost} would fit (a bucket's refill or the window's end). */
  long waitNanos(long now, long cost) {
    advance(now);
    if (kind == Kind.BUCKET) {
      double missing = Math.min(cost, limit) - level;
      return missing <= 0 ? 0 : (long) Math.ceil(missing / perNano);
    }
    return (window + 1) * MINUTE - now;
  }

  /** Where {@code now} falls in its window, 0 (start) to 1 (end); for windows only. */
  static double windowPosition(long now) {
    return Math.floorMod(now, MINUTE) / (double) MINUTE;
  }
}
