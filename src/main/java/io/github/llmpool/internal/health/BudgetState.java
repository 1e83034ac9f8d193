package io.github.llmpool.internal.health;

import io.github.llmpool.Budget;
import io.github.llmpool.Ticker;
import io.github.llmpool.spi.SharedBudget;
import io.github.llmpool.spi.SharedBudgets;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

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
 *
 * <p><b>Leases follow demand</b> ({@link #want}): the next lease tops the holding up to
 * {@code max(L, min(cap, 2 x max(in flight, per round)))} and a reservation that takes the holding
 * below half of that asks for it, L being the store's {@link SharedBudgets.Line#leaseSize lease},
 * "in flight" what this instance's attempts reserve now plus what requests waiting for a lease
 * need, "per round" what it reserved between the store's last two lease requests (decaying by half
 * a round), and {@code cap = max(L, left / F)} this instance's share of what the window had left at
 * the last grant ({@code left}; the limit before one) over the fleet size F, rounded up to a multiple
 * of the window's smallest reservation (so that equal requests leave no fragment on each instance). The credit before a
 * window's first grant stays one L, so the overshoot bound does not grow with demand.
 *
 * <p><b>A request short only until a lease</b> ({@link #awaitLease}): the store is up, the budget is
 * not spent, and the window's last answer had room for what the request lacks. It waits on the
 * pool's ticker for that lease, at most {@link #LEASE_WAIT_BOUND_NANOS} (60 ms) from the oldest
 * unanswered lease request and from its own start, in parks of {@link #LEASE_WAIT_SLICE_NANOS} (a
 * grant wakes it at once); a store that stalls or is down never makes it wait longer.
 *
 * <p><b>Units move to where requests wait</b> ({@link #spare}, {@link #lacking}, {@link #giveBack}): each
 * lease request reports what this instance's waiting requests lack and what it holds above their need;
 * the answer says the same of the other instances. A request short while the window is leased out but
 * others hold spare units waits for them as for a lease ({@link #LEASE}); told that others are short, the
 * store takes this instance's spare units back and gives them to the window. The budget is not called
 * spent while the window, the others' spare units and what this instance holds could still make a
 * reservation.
 *
 * <p><b>A stalled store</b> (connected, no answers): once the oldest lease request not answered is
 * {@link #LEASE_WAIT_BOUND_NANOS} old on the pool's ticker, the store counts as down for this line
 * ({@link #shortfall}, {@link #reserve}, {@link #awaitLease} decide it from that timestamp, no store
 * call, no thread): reservations come from the same fallback as {@link #storeDown} (the window's
 * last answer left / fleet size) until an answer arrives; what was reserved meanwhile is then a
 * debt the next grants pay (held = granted - spent - reserved, negative).
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
  /** The longest a request waits for a lease already asked for: 60 ms (3 of the 20 ms lease rounds). */
  public static final long LEASE_WAIT_BOUND_NANOS = 60_000_000L;
  /** One park of such a wait (a grant ends it early): 5 ms. */
  public static final long LEASE_WAIT_SLICE_NANOS = 5_000_000L;
  /** Parks per wait, so that a ticker whose time does not move still ends it: bound / slice. */
  public static final int LEASE_WAIT_PARKS = (int) (LEASE_WAIT_BOUND_NANOS / LEASE_WAIT_SLICE_NANOS);

  /** {@link #shortfall}: the estimate fits now. */
  public static final int FITS = 0;
  /** {@link #shortfall}: short only until a lease (store up, not spent, the window had room for it). */
  public static final int LEASE = 1;
  /** {@link #shortfall}: short, and no lease is known to bring it (spent, window leased out, down, local). */
  public static final int OUT = 2;

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
  /** Whether {@link #down} was set by a stall (the next answer ends it), not by {@link #storeDown}. */
  private boolean stalled;
  /** The fallback credit while down. */
  private long fallback;
  /** From the last grant of this window: what the fleet window had left to lease; -1: none yet. */
  private long windowLeft = -1;
  /** The fleet's settled spend in this window, as the store last said. */
  private long fleetSettled;
  /** Instances sharing the budget at the last grant; 0: none ever. */
  private int fleet;
  /** From the last grant of this window: units the other instances hold spare, as they reported. */
  private long othersSpare;
  /** The largest estimate a request needed and this instance could not hold (asked for by the next lease). */
  private long need;
  private boolean woken;
  /** The pool's ticker (lease waits and their bound). */
  private Ticker ticker = Ticker.system();
  /** Ticker nanos of the oldest lease request not answered since (valid while {@link #asked}). */
  private long askedAt;
  private boolean asked;
  /** What requests waiting for a lease need in all. */
  private long waitingUnits;
  /** Units reserved in this state's life (for what one lease round reserves). */
  private long reservedTotal;
  private long reservedAtLastWant;
  /** What this instance reserved per lease round lately (max of the last sample and half the previous). */
  private long perRound;
  /** Orders the spent / restored events ({@link #tell}). */
  private final Object tellLock = new Object();
  /** Threads parked in {@link #awaitLease} (a grant unparks them). */
  private final Set<Thread> parked = ConcurrentHashMap.newKeySet();

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
    share(shared, pool, listener, Ticker.system());
  }

  /** As {@link #share(SharedBudgets, String, Listener)}, waiting for leases on the pool's {@code ticker}. */
  public void share(SharedBudgets shared, String pool, Listener listener, Ticker ticker) {
    synchronized (this) {
      this.sharing = true; // a store already known to be down says so from within open
      this.ticker = ticker;
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
  public boolean reserve(long estimate) {
    long e = Math.max(0, Math.min(MAX_UNITS, estimate));
    SharedBudgets.Line wake = null;
    boolean ok;
    synchronized (this) {
      if (line != null && !exhausted && spent + reserved + e > effective()) {
        checkStall();
      }
      if (exhausted || spent + reserved + e > effective()) {
        ok = false;
        if (!exhausted && line != null) {
          wake = needs(e); // too little held: the next lease holds it
        }
      } else {
        ok = true;
        reserved += e;
        reservedTotal += e;
        if (e < smallest) {
          smallest = e;
        }
        publish();
        if (line != null && granted - spent - reserved < Math.max(lowWater, target() / 2)) {
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
    if (!asked) {
      asked = true;
      askedAt = ticker.read();
    }
    return line;
  }

  /** The lease's demand-sized target (guarded by this): see the class comment. */
  private long target() {
    long inFlight = Math.max(0, reserved) + waitingUnits;
    long demand = Math.min(MAX_UNITS / 4, Math.max(inFlight, perRound));
    long left = grantedThisWindow ? windowLeft : limit;
    long cap = Math.max(lease, Math.max(0, left) / Math.max(1, fleet));
    if (smallest != Long.MAX_VALUE && smallest > 1 && cap % smallest != 0) {
      cap = Math.min(limit, (cap / smallest + 1) * smallest); // whole requests: no fragment stranded on each instance
    }
    return Math.max(lease, Math.min(cap, 2 * demand));
  }

  /**
   * How {@code estimate} units stand now (not for the pick path): {@link #FITS}, {@link #LEASE}
   * (shared, store up, not spent, short, and the window's last answer had room for what is
   * lacking, or no answer came yet in this window), or {@link #OUT}.
   */
  public synchronized int shortfall(long estimate) {
    checkStall();
    long e = Math.max(0, Math.min(MAX_UNITS, estimate));
    if (!exhausted && spent + reserved + e <= effective()) {
      return FITS;
    }
    return leaseMayHold(e) ? LEASE : OUT;
  }

  /**
   * Guarded by this: the oldest unanswered lease request is {@link #LEASE_WAIT_BOUND_NANOS} old, so
   * the store counts as down for this line (the same fallback as {@link #storeDown}) until an answer.
   */
  private void checkStall() {
    if (line == null || down || !asked || ticker.read() - askedAt < LEASE_WAIT_BOUND_NANOS) {
      return;
    }
    down = true;
    stalled = true;
    asked = false;
    long left = grantedThisWindow ? windowLeft : limit;
    fallback = fleet > 0 ? Math.max(0, left) / fleet : Math.max(0, limit - granted);
    publish();
  }

  /** Whether the store counts as down for this line because it stalled (no answer for the bound). */
  public synchronized boolean stalled() {
    return stalled;
  }

  // guarded by this
  private boolean leaseMayHold(long e) {
    if (line == null || down || exhausted) {
      return false;
    }
    long lacking = e - (effective() - spent - reserved);
    // Units the window has, or that other instances hold spare and give back when told this one is short.
    return !grantedThisWindow || windowLeft + othersSpare >= lacking;
  }

  /**
   * Waits for a lease to hold {@code estimate} units while it is short only until one
   * ({@link #LEASE}): asks for it, parks on the pool's ticker (a grant wakes it), and returns
   * true once the estimate fits (the caller then picks or reserves; another request may still take
   * the units first), false when it does not and no lease is known to bring it, or the wait's
   * bound passed: {@code wait}'s deadline or parks, or {@link #LEASE_WAIT_BOUND_NANOS} after the
   * oldest lease request not answered. Never on the pick path; reserves nothing.
   */
  public boolean awaitLease(long estimate, LeaseWait wait) {
    long e = Math.max(0, Math.min(MAX_UNITS, estimate));
    Thread me = Thread.currentThread();
    SharedBudgets.Line wake;
    synchronized (this) {
      int k = shortfall(e);
      if (k != LEASE || wait.parksLeft <= 0) {
        return k == FITS;
      }
      waitingUnits += e;
      parked.add(me);
      // A new wait is new demand (lacking() grows): ask even if a wake since the last answer found
      // nothing to ask for then (the store skips a line whose retry time has not come unless it lacks).
      woken = false;
      wake = needs(e);
    }
    boolean fits = false;
    try {
      wake(wake);
      while (wait.parksLeft > 0) {
        long now = ticker.read();
        long end;
        synchronized (this) {
          end = asked && askedAt + LEASE_WAIT_BOUND_NANOS - wait.deadline < 0 ? askedAt + LEASE_WAIT_BOUND_NANOS
              : wait.deadline;
        }
        long left = end - now;
        if (left <= 0) {
          break;
        }
        wait.parksLeft--;
        ticker.park(Math.min(left, LEASE_WAIT_SLICE_NANOS));
        synchronized (this) {
          int k = shortfall(e);
          if (k != LEASE) {
            fits = k == FITS;
            return fits;
          }
          wake = needs(e); // a grant came short (or none yet): ask again, for all that waits
        }
        wake(wake);
      }
      fits = shortfall(e) == FITS;
      return fits;
    } finally {
      boolean spareNow;
      synchronized (this) {
        waitingUnits -= e;
        spareNow = !fits && spare() > 0;
      }
      parked.remove(me);
      if (spareNow) {
        wake(line); // the wait gave up: what it waited for is spare here now, which the next round reports
      }
    }
  }

  /** One request's budget for lease waits: a deadline on the pool's ticker and a number of parks. Not thread-safe. */
  public static final class LeaseWait {
    final long deadline;
    int parksLeft;

    /** A wait from {@code nowNanos}: {@link #LEASE_WAIT_BOUND_NANOS} and {@link #LEASE_WAIT_PARKS} parks. */
    public LeaseWait(long nowNanos) {
      this.deadline = nowNanos + LEASE_WAIT_BOUND_NANOS;
      this.parksLeft = LEASE_WAIT_PARKS;
    }

    /** Whether the wait may go on (parks left, deadline not passed at {@code nowNanos}). */
    public boolean open(long nowNanos) {
      return parksLeft > 0 && nowNanos - deadline < 0;
    }
  }

  private void unparkWaiters() {
    if (!parked.isEmpty()) {
      for (Thread t : parked) {
        LockSupport.unpark(t);
      }
    }
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
    unparkWaiters();
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
    boolean now = !exhausted && spentOut(true);
    if (now) {
      exhausted = true;
    }
    publish();
    unparkWaiters(); // what the estimate did not use may hold a waiting request
    return now;
  }

  /**
   * Whether the window is spent (guarded by this): locally, what is settled leaves less than the
   * smallest reservation; shared, the same of what this instance may spend, and the store's last
   * answer left the fleet less than that too (while the store is down: the local rule alone).
   */
  private boolean spentOut(boolean countSpare) {
    long eff = effective();
    boolean here = spent >= eff || eff - spent < smallest;
    if (line == null || down) {
      return here;
    }
    // Not while the window, the other instances' spare units and what this one holds could still make a
    // reservation: those units move here when its requests wait for them.
    return here && grantedThisWindow
        && windowLeft + (countSpare ? othersSpare : 0) + Math.max(0, granted - spent - reserved) < smallest;
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
      othersSpare = 0;
      need = 0;
      woken = false;
      asked = false;
      if (down) {
        fallback = fleet > 0 ? limit / fleet : limit;
      }
      wake = wakeOnce();
    }
    publish();
    if (wake != null) {
      wake(wake); // under the monitor: Line.wake only queues
    }
    unparkWaiters();
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

  /**
   * Units to ask for now: up to the demand-sized target (class comment) above what is held, more
   * when requests need more; 0 while the holding is at least half the target and holds what
   * requests need. The store calls it once per lease request: each call also samples what this
   * instance reserved since the previous one (its per-round demand).
   */
  @Override
  public synchronized long want() {
    long sample = reservedTotal - reservedAtLastWant;
    reservedAtLastWant = reservedTotal;
    perRound = Math.max(sample, perRound / 2);
    long held = granted - spent - reserved;
    long must = Math.max(need, waitingUnits);
    long target = Math.max(target(), must);
    if (held >= Math.max(lowWater, target / 2) && held >= must) {
      woken = false; // nothing to ask for: no answer will come, so the next shortfall wakes the store
      asked = false; // and a later wait is not cut short by this old request
      return 0;
    }
    return Math.max(0, Math.min(limit, target - held));
  }

  @Override
  public synchronized long settled() {
    return spent;
  }

  /**
   * Units held above what this instance's requests waiting for a lease need (they may go to another
   * instance that is short); 0 while the store is down or stalled, or before the window's first grant.
   */
  @Override
  public synchronized long spare() {
    if (line == null || down || !grantedThisWindow) {
      return 0;
    }
    return Math.max(0, granted - spent - reserved - waitingUnits);
  }

  /**
   * Units this instance's waiting requests need beyond what it holds (its demand on the fleet; a debt
   * counts in it while requests wait, since a grant pays the debt first); 0 when none waits.
   */
  @Override
  public synchronized long lacking() {
    if (line == null || down || exhausted || !grantedThisWindow || waitingUnits <= 0) {
      return 0;
    }
    return Math.max(0, waitingUnits - (granted - spent - reserved));
  }

  /**
   * Other instances are short of {@code wanted} units: takes back that many of the spare ones (at
   * most all of them), to give back to the window, which hands them to the short instances. Exactly
   * what they lack: more would sit in the window, where others could not know of it at once.
   */
  @Override
  public synchronized long giveBack(long windowStartMillis, long wanted) {
    if (line == null || windowStartMillis != startMillis) {
      return 0;
    }
    long back = Math.min(spare(), Math.max(0, wanted));
    if (back <= 0) {
      return 0;
    }
    granted -= back;
    publish();
    return back;
  }

  @Override
  public void granted(SharedBudgets.Grant g) {
    int change;
    boolean news;
    synchronized (this) {
      if (line == null || g.windowStartMillis() != startMillis) {
        return; // a lease of a window this state has left (or not reached): its units die with it
      }
      if (stalled) {
        stalled = false; // an answer: the stall is over (as after storeUp); what it reserved is a debt
        down = false;
        fallback = 0;
      }
      // Waiters wake for news only: each wake takes one of a wait's parks, and a view that changed nothing
      // (the store's notices repeat it) must not use them up before the units arrive.
      news = g.units() > 0 || !grantedThisWindow || g.windowLeft() != windowLeft || g.othersSpare() != othersSpare;
      granted += g.units();
      grantedThisWindow = true;
      windowLeft = g.windowLeft();
      fleetSettled = g.fleetSettled();
      fleet = g.fleetSize();
      othersSpare = g.othersSpare();
      if (granted - spent - reserved >= need) {
        need = 0;
      }
      woken = false;
      asked = false;
      change = recheck();
    }
    if (news || change != 0) {
      unparkWaiters();
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
        stalled = false; // down by a stall, now called down: until storeUp
        return;
      }
      down = true;
      asked = false;
      // The fleet's share of what was left; no fleet ever seen: the whole limit (as a local-only pool).
      long left = grantedThisWindow ? windowLeft : limit;
      fallback = fleet > 0 ? Math.max(0, left) / fleet : Math.max(0, limit - granted);
      change = recheck();
    }
    unparkWaiters();
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
      stalled = false;
      fallback = 0;
      woken = false;
      asked = false;
      change = recheck();
    }
    unparkWaiters();
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
      // Hysteresis: the others' spare units keep a budget from being called spent, but only units in the
      // window (or earmarked for this instance) restore one, so that views of units moving between the
      // other instances do not flip it (and its events) back and forth.
      if (!exhausted && spentOut(true)) {
        exhausted = true;
        change = 1;
      } else if (exhausted && !spentOut(false)) {
        exhausted = false;
        change = -1;
      }
    }
    publish();
    return change;
  }

  /**
   * Runs {@code event} (the engine's "spent" event for a settlement that spent the budget) in the order
   * of the state, as {@link #tell}: not when a later change restored the budget meanwhile.
   */
  public void tellSpent(Runnable event) {
    synchronized (tellLock) {
      if (exhaustedNow()) {
        event.run();
      }
    }
  }

  private void tell(int change) {
    Listener l = listener;
    if (change == 0 || l == null) {
      return;
    }
    // In the order of the state: changes are made under this monitor and told outside it, by the threads
    // that made them; one told late (after a later, opposite change) is dropped, so the last event a
    // listener hears is the state in force.
    synchronized (tellLock) {
      if ((change > 0) != exhaustedNow()) {
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
