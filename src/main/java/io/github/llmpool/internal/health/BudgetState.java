package io.github.llmpool.internal.health;

import io.github.llmpool.Budget;
import io.github.llmpool.spi.SharedBudget;
import io.github.llmpool.spi.SharedBudgets;
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
 *
 * <p><b>Shared</b> ({@link #share}): the budget is counted for the fleet by a
 * {@link SharedBudgets} store, and this state admits only what it holds in leases of the fleet's
 * window, plus a credit (one lease before a window's first grant; the fallback while the store is
 * down). It keeps {@code granted} (units granted in this window, net of those given back); what it
 * holds is {@code granted - spent - reserved}, and the pick path's test stays
 * {@code committed + estimate <= limit} because {@link #committed} is then published as
 * {@code spent + reserved + (limit - min(limit, granted + credit))}. Spent, for a shared budget:
 * the store's last answer left less than the smallest reservation of the window, and what this
 * instance holds too (while the store is down: the local rule on its fallback).
 */
public final class BudgetState implements SharedBudgets.Holder {
  /** What a shared state tells the engine (events, log lines); called outside the monitor. */
  public interface Listener {
    /** The budget became spent for its window. */
    void spent(BudgetState state);

    /** A spent budget has room again within its window (units came back to the fleet). */
    void restored(BudgetState state);
  }

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

  // Shared (all guarded by this; line null: local).
  private volatile SharedBudgets.Line line;
  /** Set before the line is opened: the store may call the holder from within {@code open}. */
  private boolean sharing;
  private Listener listener;
  private long lease;
  private long lowWater;
  /** Units granted in this window, net of those given back. */
  private long granted;
  /** Whether a grant of this window arrived (else the credit is one lease). */
  private boolean grantedThisWindow;
  private boolean down;
  /** The fallback credit while down. */
  private long fallback;
  /** From the last grant of this window: what the fleet window had left to lease; -1: none yet. */
  private long windowLeft = -1;
  /** The fleet's settled spend in this window, as the store last said. */
  private long fleetSettled;
  /** Instances sharing the budget at the last grant; 0: none ever. */
  private int fleet;
  /** The largest estimate a request needed and this instance could not hold (asked for by the next lease). */
  private long need;
  private boolean woken;

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

  /**
   * Makes this budget one of the fleet's, through {@code shared}: opens its line (the first lease
   * is asked for at once). Called once, before any reservation.
   *
   * @throws NullPointerException if the store returned no line
   */
  public void share(SharedBudgets shared, String pool, Listener listener) {
    synchronized (this) {
      this.sharing = true; // a store already known to be down says so from within open
    }
    SharedBudgets.Line l = shared.open(SharedBudget.of(pool, budget, limit), this);
    if (l == null) {
      throw new NullPointerException("SharedBudgets.open returned null");
    }
    synchronized (this) {
      this.listener = listener;
      this.lease = Math.max(1, l.leaseSize());
      this.lowWater = Math.max(1, Math.min(lease, l.lowWater()));
      this.line = l;
      publish();
    }
    l.wake();
  }

  /** Whether the budget is counted for the fleet by a shared store. */
  public boolean shared() {
    return line != null;
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
    long used = Math.min(MAX_UNITS, spent + reserved);
    if (line != null) {
      used = Math.min(MAX_UNITS, used + (limit - effective()));
    }
    committed = used + (exhausted ? SPENT_BIT : 0);
  }

  /** What this instance may have spent and reserved in the window: its limit, or (shared) granted + credit. */
  private long effective() {
    if (line == null) {
      return limit;
    }
    long credit = down ? fallback : grantedThisWindow ? 0 : lease;
    return Math.max(0, Math.min(limit, granted + credit));
  }

  // ---------------------------------------------------------------- the pick path

  /** Whether an attempt of {@code estimate} units fits now. One volatile read, no lock, no allocation. */
  public boolean admits(long estimate) {
    return committed + estimate <= limit;
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
  public boolean reserve(long estimate) {
    long e = Math.max(0, Math.min(MAX_UNITS, estimate));
    SharedBudgets.Line wake = null;
    boolean ok;
    synchronized (this) {
      if (exhausted || spent + reserved + e > effective()) {
        ok = false;
        if (!exhausted && line != null) {
          wake = needs(e); // too little held: the next lease holds it
        }
      } else {
        ok = true;
        reserved += e;
        if (e < smallest) {
          smallest = e;
        }
        publish();
        if (line != null && granted - spent - reserved < lowWater) {
          wake = wakeOnce();
        }
      }
    }
    wake(wake);
    return ok;
  }

  /**
   * A request needed {@code estimate} units this instance does not hold (the pick or the
   * reservation found too little): the next lease asks for enough to hold it. Not on the pick
   * path (called where a request is refused or passed over). No-op for a local budget.
   */
  public void wanted(long estimate) {
    SharedBudgets.Line wake;
    synchronized (this) {
      if (line == null || exhausted) {
        return;
      }
      wake = needs(Math.max(0, Math.min(MAX_UNITS, estimate)));
    }
    wake(wake);
  }

  // guarded by this
  private SharedBudgets.Line needs(long e) {
    if (e > need) {
      need = Math.min(e, limit);
      woken = false;
    }
    return wakeOnce();
  }

  // guarded by this: the line to wake, once until the next grant
  private SharedBudgets.Line wakeOnce() {
    if (line == null || woken) {
      return null;
    }
    woken = true;
    return line;
  }

  private static void wake(SharedBudgets.Line l) {
    if (l != null) {
      try {
        l.wake();
      } catch (RuntimeException e) {
        // asked again by the store's own rounds
      }
    }
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
    boolean now = !exhausted && spentOut();
    if (now) {
      exhausted = true;
    }
    publish();
    return now;
  }

  /**
   * Whether the window is spent (guarded by this): locally, what is settled leaves less than the
   * smallest reservation; shared, the same of what this instance may spend, and the store's last
   * answer left the fleet less than that too (while the store is down: the local rule alone).
   */
  private boolean spentOut() {
    long eff = effective();
    boolean here = spent >= eff || eff - spent < smallest;
    if (line == null || down) {
      return here;
    }
    return here && grantedThisWindow && windowLeft < smallest;
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
    SharedBudgets.Line wake = null;
    if (line != null) {
      // A new window starts from nothing: what is in flight is a debt of this one (held = -reserved).
      granted = 0;
      grantedThisWindow = false;
      windowLeft = -1;
      fleetSettled = 0;
      need = 0;
      woken = false;
      if (down) {
        fallback = fleet > 0 ? limit / fleet : limit;
      }
      wake = wakeOnce();
    }
    publish();
    if (wake != null) {
      wake(wake); // under the monitor: Line.wake only queues
    }
    return was;
  }

  /** A consistent view for snapshots and messages. */
  public synchronized View view() {
    return new View(spent, reserved, startMillis, endMillis, exhausted, unpricedAttempts, attempts, line != null,
        line == null ? spent : Math.max(fleetSettled, spent));
  }

  /**
   * Values of one moment, in units; {@code fleetSpent} is what the fleet's settled attempts spent
   * in the window as the store last said (at least this instance's own), {@code spent} when local.
   */
  public record View(long spent, long reserved, long startMillis, long endMillis, boolean exhausted,
      long unpricedAttempts, long attempts, boolean shared, long fleetSpent) {}

  // ---------------------------------------------------------------- SharedBudgets.Holder (the store's thread)

  @Override
  public synchronized long windowStartMillis() {
    return startMillis;
  }

  @Override
  public synchronized long held() {
    return granted - spent - reserved;
  }

  @Override
  public synchronized long want() {
    long held = granted - spent - reserved;
    long target = Math.max(lease, need);
    if (held >= lowWater && held >= need) {
      return 0;
    }
    return Math.max(0, Math.min(limit, target - held));
  }

  @Override
  public synchronized long settled() {
    return spent;
  }

  @Override
  public void granted(SharedBudgets.Grant g) {
    int change;
    synchronized (this) {
      if (line == null || g.windowStartMillis() != startMillis) {
        return; // a lease of a window this state has left (or not reached): its units die with it
      }
      granted += g.units();
      grantedThisWindow = true;
      windowLeft = g.windowLeft();
      fleetSettled = g.fleetSettled();
      fleet = g.fleetSize();
      if (granted - spent - reserved >= need) {
        need = 0;
      }
      woken = false;
      change = recheck();
    }
    tell(change);
  }

  @Override
  public synchronized long reclaim(long windowStartMillis, long keep) {
    if (line == null || windowStartMillis != startMillis) {
      return 0;
    }
    long back = granted - spent - reserved - Math.max(0, keep);
    if (back <= 0) {
      return 0;
    }
    granted -= back;
    publish();
    return back;
  }

  @Override
  public void storeDown() {
    int change;
    synchronized (this) {
      if (!sharing || down) {
        return;
      }
      down = true;
      // The fleet's share of what was left; no fleet ever seen: the whole limit (as a local-only pool).
      long left = grantedThisWindow ? windowLeft : limit;
      fallback = fleet > 0 ? Math.max(0, left) / fleet : Math.max(0, limit - granted);
      change = recheck();
    }
    tell(change);
  }

  @Override
  public void storeUp() {
    int change;
    synchronized (this) {
      if (!sharing || !down) {
        return;
      }
      down = false;
      fallback = 0;
      woken = false;
      change = recheck();
    }
    tell(change);
  }

  /**
   * Whether this shared budget, not spent and with its store up, is short only until its next
   * lease lands (a refusal then says "for now"). False for a local budget. Not for the pick path.
   */
  public synchronized boolean awaitingLease() {
    return line != null && !down && !exhausted;
  }

  /** Whether the store is down (reserving from the fallback). */
  public synchronized boolean storeIsDown() {
    return down;
  }

  /** Re-evaluates "spent" after the shared inputs changed (guarded by this): +1 spent now, -1 restored, 0 none. */
  private int recheck() {
    int change = 0;
    if (smallest != Long.MAX_VALUE) {
      boolean out = spentOut();
      if (out && !exhausted) {
        exhausted = true;
        change = 1;
      } else if (!out && exhausted) {
        exhausted = false;
        change = -1;
      }
    }
    publish();
    return change;
  }

  private void tell(int change) {
    Listener l = listener;
    if (change == 0 || l == null) {
      return;
    }
    try {
      if (change > 0) {
        l.spent(this);
      } else {
        l.restored(this);
      }
    } catch (RuntimeException e) {
      // the engine's events never fail a lease
    }
  }

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
