package io.github.llmpool.internal.health;

import io.github.llmpool.Budget;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;

/**
 * The live count of one {@link Budget}: what its window has spent (settled attempts) and what
 * attempts in flight have reserved, in fixed-point units (money: 10^-9 of the currency; tokens:
 * tokens). Reservation, settlement and the window's reset take this object's monitor (a few
 * additions); the pick path reads one volatile long ({@link #admits}) without it. Thread-safe.
 *
 * <p>A reservation belongs to no window: one still in flight when the window resets stays
 * reserved in the next, and its attempt's cost counts in the window where it ends. Nothing is
 * lost at a reset.
 */
public final class BudgetState {
  /** Units per currency unit of a money budget. */
  public static final long MONEY_SCALE = 1_000_000_000L;
  /** Set in {@link #committed} while the budget is spent: no estimate then fits. */
  static final long SPENT_BIT = 1L << 62;
  /** Estimates and amounts saturate here (so sums stay far from overflow). */
  static final long MAX_UNITS = 1L << 58;

  private final Budget budget;
  private final long limit;
  /** spent + reserved (+ {@link #SPENT_BIT} while spent); written under the monitor, read by picks. */
  private volatile long committed;
  /** The end of the window in force (epoch millis); read without the monitor by {@link #due}. */
  private volatile long endMillis;
  // guarded by this
  private long spent;
  private long reserved;
  private long startMillis;
  private boolean exhausted;
  private long unpricedAttempts;
  private long attempts;
  /** The smallest estimate reserved in this window (what "too little left" is measured against). */
  private long smallest = Long.MAX_VALUE;

  public BudgetState(Budget budget, long wallMillis) {
    this.budget = budget;
    this.limit = units(budget, budget.limit());
    window(wallMillis);
    publish();
  }

  /** The budget's limit in this state's units. */
  static long units(Budget b, BigDecimal amount) {
    BigDecimal u = b.unit() == Budget.Unit.MONEY ? amount.movePointRight(9) : amount;
    u = u.setScale(0, RoundingMode.CEILING);
    return u.compareTo(BigDecimal.valueOf(MAX_UNITS)) >= 0 ? MAX_UNITS : u.longValue();
  }

  /** A priced amount in units, rounded up (money budgets). */
  public static long moneyUnits(BigDecimal amount) {
    BigDecimal u = amount.movePointRight(9).setScale(0, RoundingMode.CEILING);
    return u.signum() <= 0 ? 0 : u.compareTo(BigDecimal.valueOf(MAX_UNITS)) >= 0 ? MAX_UNITS : u.longValue();
  }

  public Budget budget() {
    return budget;
  }

  public long limitUnits() {
    return limit;
  }

  private void window(long wall) {
    Instant now = Instant.ofEpochMilli(wall);
    startMillis = budget.windowStart(now).toEpochMilli();
    endMillis = budget.windowEnd(now).toEpochMilli();
  }

  private void publish() {
    committed = Math.min(MAX_UNITS, spent + reserved) + (exhausted ? SPENT_BIT : 0);
  }

  // ---------------------------------------------------------------- the pick path

  /** Whether an attempt of {@code estimate} units fits now. One volatile read, no lock, no allocation. */
  public boolean admits(long estimate) {
    return committed + estimate <= limit;
  }

  /**
   * Whether what is spent and reserved is at most {@code units} (and the budget is not spent): the
   * pick's one volatile read against a threshold its {@link BudgetGate} computed once.
   */
  public boolean committedAtMost(long units) {
    return committed <= units;
  }

  /** Whether the budget is spent for the rest of its window. */
  public boolean exhaustedNow() {
    return committed >= SPENT_BIT;
  }

  // ---------------------------------------------------------------- reservations

  /**
   * Reserves {@code estimate} units if {@code spent + reserved + estimate <= limit}; returns
   * whether it did. A refusal changes nothing else: a request too large for what is left is passed
   * over, and a smaller one may still go (see {@link #settle} for when the budget is spent).
   */
  public synchronized boolean reserve(long estimate) {
    long e = Math.max(0, Math.min(MAX_UNITS, estimate));
    if (exhausted || spent + reserved + e > limit) {
      return false;
    }
    reserved += e;
    if (e < smallest) {
      smallest = e;
    }
    publish();
    return true;
  }

  /** Gives a reservation back unused (the attempt was never sent). */
  public synchronized void release(long estimate) {
    reserved -= Math.max(0, Math.min(MAX_UNITS, estimate));
    publish();
  }

  /**
   * Settles a reservation of {@code estimate} to {@code actual} units ({@code unpriced}: an attempt
   * of a provider without a price on a money budget, counted apart). Returns true when this
   * settlement spent the budget: what the window's settled attempts cost leaves less than the
   * smallest reservation taken in the window (or nothing at all), so it is spent until the reset.
   */
  public synchronized boolean settle(long estimate, long actual, boolean unpriced) {
    reserved -= Math.max(0, Math.min(MAX_UNITS, estimate));
    spent = Math.min(MAX_UNITS, spent + Math.max(0, Math.min(MAX_UNITS, actual)));
    attempts++;
    if (unpriced) {
      unpricedAttempts++;
    }
    boolean now = !exhausted && (spent >= limit || limit - spent < smallest);
    if (now) {
      exhausted = true;
    }
    publish();
    return now;
  }

  // ---------------------------------------------------------------- windows

  /** Whether the window in force has ended at {@code wallMillis} (one volatile read). */
  public boolean due(long wallMillis) {
    return wallMillis >= endMillis;
  }

  /** The end of the window in force, epoch millis. */
  public long endMillis() {
    return endMillis;
  }

  /**
   * Starts the window that holds {@code wallMillis} if the one in force has ended: spent 0, no
   * longer spent; reservations in flight stay. Returns true when the budget was spent (so it is
   * restored now).
   */
  public synchronized boolean roll(long wallMillis) {
    if (wallMillis < endMillis) {
      return false;
    }
    boolean was = exhausted;
    window(wallMillis);
    spent = 0;
    exhausted = false;
    unpricedAttempts = 0;
    attempts = 0;
    smallest = Long.MAX_VALUE;
    publish();
    return was;
  }

  /** A consistent view for snapshots and messages. */
  public synchronized View view() {
    return new View(spent, reserved, startMillis, endMillis, exhausted, unpricedAttempts, attempts);
  }

  /** Values of one moment, in units. */
  public record View(long spent, long reserved, long startMillis, long endMillis, boolean exhausted,
      long unpricedAttempts, long attempts) {}

  /** {@code units} as the budget's amount (money: scale 9 stripped; tokens: as is). */
  public BigDecimal amount(long units) {
    BigDecimal a = budget.unit() == Budget.Unit.MONEY ? BigDecimal.valueOf(units, 9) : BigDecimal.valueOf(units);
    a = a.stripTrailingZeros();
    return a.scale() < 0 ? a.setScale(0) : a;
  }

  @Override
  public String toString() {
    View v = view();
    return "BudgetState{" + budget.name() + ", spent=" + amount(v.spent()) + ", reserved=" + amount(v.reserved())
        + ", limit=" + budget.describeLimit() + (v.exhausted() ? ", spent out" : "") + "}";
  }
}
