package io.github.llmpool.spi;

import java.util.Objects;

/**
 * Budgets shared by the instances of a pool, taken in <b>leases</b>: a budget of 20 USD a day
 * configured on every instance is 20 USD for the fleet, not 20 per instance, without a call to
 * the shared store per request. Reached from {@link SharedState#budgets()}; null there (the
 * default) keeps every budget local to the instance.
 *
 * <p>How the pool uses it, for implementations:
 * <ul>
 *   <li>For each budget the pool calls {@link #open} once, when it is built, with a {@link Holder}
 *       it implements; the {@link Line} returned is the implementation's. {@code open} must not
 *       block; an exception it throws fails the build.</li>
 *   <li>The budget counts in calendar windows ({@code Budget.windowStart}); the holder says which
 *       window it is in ({@link Holder#windowStartMillis()}). Everything below is for that window:
 *       a new window starts from nothing, on every instance and in the store.</li>
 *   <li>The pool reserves an attempt's estimate only from units it holds
 *       ({@link Holder#held()}: granted in this window, less what this instance's attempts spent
 *       and reserved) plus a <b>credit</b>: before the first grant of a window arrives, one lease
 *       ({@link Line#leaseSize()}), so that the first requests of a window are not refused while
 *       the lease is on its way; while the store is down, the fallback (below). What is spent from
 *       a credit makes {@code held} negative: a debt the next grant pays. Settling an attempt
 *       corrects {@code held} by the estimate less the cost.</li>
 *   <li>The <b>implementation</b> takes leases on a thread of its own: it asks for
 *       {@link Holder#want()} units (0: nothing is wanted) and hands what it got to
 *       {@link Holder#granted}, fewer (none included) when the window holds fewer. The pool calls
 *       {@link Line#wake()} when a reservation takes {@code held} below {@link Line#lowWater()},
 *       or a request needed more than it holds; never on the pick path; {@code wake} must not
 *       block. It also reports the window's spend of this instance ({@link Holder#settled()}, a
 *       total, so a report lost is no unit lost), and answers with the fleet's.</li>
 *   <li><b>Units move to where requests wait.</b> With each lease request the implementation
 *       reports what the holder {@link Holder#lacking() lacks} (its waiting requests' need beyond
 *       what it holds) and can {@link Holder#spare() spare}, and answers with what the other
 *       instances reported ({@link Grant#othersWanted()}, {@link Grant#othersSpare()}). A holder
 *       short of units while the others hold spare ones waits for them (the same bounded wait as for
 *       a lease on its way); an instance told that others are short takes its spare units back
 *       ({@link Holder#giveBack}) and gives them to the window, where the short instance's next
 *       lease request takes them. Units only move through the window, so the bound below is that
 *       of grants alone.</li>
 *   <li>A lease expires after a time the implementation chooses: it then takes back the units
 *       not used with {@link Holder#reclaim}, gives them back to the window, and may take a fresh
 *       one.</li>
 *   <li>When the store is unreachable the implementation calls {@link Holder#storeDown()}: the
 *       pool then reserves from what it holds plus a fallback credit of what the window had left
 *       at the last grant divided by the last {@link Grant#fleetSize() fleet size} (the whole
 *       limit when no grant ever said how large the fleet is: a pool that never reached the
 *       store behaves as a local-only one); {@link Holder#storeUp()} when it is back (the units
 *       spent meanwhile are a debt the next grant pays). A store that stalls (connected, no
 *       answers) needs no call: once a lease request has gone 60 ms without an answer, the pool
 *       reserves from that same fallback for the budget until the next {@link Holder#granted
 *       grant} (the store-down bound holds during a stall; what it reserved is then a debt).</li>
 *   <li>{@link Line#close()} when the pool no longer uses the budget: the implementation gives
 *       back what the holder holds and stops.</li>
 * </ul>
 * Implementations must be thread-safe.
 */
public interface SharedBudgets {

  /**
   * Opens the shared count of one budget for one pool. The implementation may call the holder
   * from within {@code open} (a store already known to be down: {@link Holder#storeDown()}).
   *
   * @param budget the budget and its limit in units
   * @param holder the pool's side: what it holds, where leases go
   * @return the implementation's side; never null
   * @throws IllegalArgumentException if the implementation cannot count this budget exactly (the
   *     message names the budget)
   */
  Line open(SharedBudget budget, Holder holder);

  /** The pool's side of one budget. Implemented by the pool; thread-safe. */
  interface Holder {
    /** The start (epoch millis) of the window the holder counts in now. */
    long windowStartMillis();

    /** Units held in that window: granted, less spent and reserved; negative when in debt. */
    long held();

    /**
     * Units to ask for now (0: none): up to a lease above what is held, more when requests need
     * more. The lease follows the instance's demand (at least {@link Line#leaseSize()}); the
     * implementation calls this once per lease request, so that the holder can tell what it
     * reserves per round.
     */
    long want();

    /** Units this instance's settled attempts spent in that window (a running total). */
    long settled();

    /**
     * A lease arrived (zero units included: the answer still says what the window and the fleet
     * have). Ignored when {@link Grant#windowStartMillis()} is not the holder's window.
     *
     * @param grant the answer
     */
    void granted(Grant grant);

    /**
     * A lease expired: takes back and returns the units held above {@code keep} (the units of the
     * leases still in force), at least zero; zero when the holder is in another window.
     *
     * @param windowStartMillis the window the lease was for
     * @param keep units to keep
     * @return the units taken back, to give back to the window
     */
    long reclaim(long windowStartMillis, long keep);

    /**
     * Units held above what this instance's requests waiting for a lease need: what it can give to
     * another instance that is short ({@link Grant#othersWanted()}); 0 while the store is down or
     * before the window's first grant. The implementation reports it with each lease request, so
     * that an instance short of units knows whether waiting for them can help. Default 0 (a holder
     * that never gives units away).
     *
     * @return the units, {@code >= 0}
     */
    default long spare() {
      return 0;
    }

    /**
     * Units this instance's requests waiting for a lease need beyond what it holds: its demand on the
     * fleet, which the implementation records so that instances holding {@link #spare()} units give
     * them back. 0 while the store is down or before the window's first grant. Default 0.
     *
     * @return the units, {@code >= 0}
     */
    default long lacking() {
      return 0;
    }

    /**
     * Other instances are short of {@code wanted} units: takes back {@link #spare()} units for them, to
     * give back to the window (never units that attempts reserved or that requests waiting here need;
     * the holder chooses how many, at most its spare units); zero when the holder is in another
     * window. Default 0.
     *
     * @param windowStartMillis the window the units are wanted in
     * @param wanted what the others lack, {@code >= 0}
     * @return the units taken back
     */
    default long giveBack(long windowStartMillis, long wanted) {
      return 0;
    }

    /** The store is unreachable: reserve from what is held plus the fallback credit. */
    void storeDown();

    /** The store is back. */
    void storeUp();
  }

  /** The implementation's side of one budget. */
  interface Line {
    /** The units of a full lease ({@code >= 1}); also the credit of a window before its first grant. */
    long leaseSize();

    /** The holder wants a new lease when {@code held()} is below this ({@code >= 1}). */
    long lowWater();

    /** The holder wants units: ask soon. Must not block. */
    void wake();

    /** The pool no longer uses this budget: give back what is held and stop. Must not block. */
    void close();
  }

  /** One answer of the shared window to a lease request. Immutable. */
  final class Grant {
    private final long windowStartMillis;
    private final long units;
    private final long windowLeft;
    private final long fleetSettled;
    private final int fleetSize;
    private final long othersWanted;
    private final long othersSpare;

    private Grant(long windowStartMillis, long units, long windowLeft, long fleetSettled, int fleetSize,
        long othersWanted, long othersSpare) {
      this.windowStartMillis = windowStartMillis;
      this.units = units;
      this.windowLeft = windowLeft;
      this.fleetSettled = fleetSettled;
      this.fleetSize = fleetSize;
      this.othersWanted = othersWanted;
      this.othersSpare = othersSpare;
    }

    /**
     * An answer.
     *
     * @param windowStartMillis the window it is for (epoch millis of its start)
     * @param units units granted, {@code >= 0}
     * @param windowLeft units the fleet window still had to lease after this grant, {@code >= 0}
     * @param fleetSettled units the fleet's settled attempts spent in the window, as reported, {@code >= 0}
     * @param fleetSize instances sharing the window lately (this one included), {@code >= 1}
     * @return the value
     * @throws IllegalArgumentException if a value is out of range ({@code units must be >= 0 but was -1})
     */
    public static Grant of(long windowStartMillis, long units, long windowLeft, long fleetSettled, int fleetSize) {
      check("units", units, 0);
      check("windowLeft", windowLeft, 0);
      check("fleetSettled", fleetSettled, 0);
      check("fleetSize", fleetSize, 1);
      return new Grant(windowStartMillis, units, windowLeft, fleetSettled, fleetSize, 0, 0);
    }

    /**
     * An answer that also says what the other instances sharing the window lack and hold spare, as
     * they last reported ({@link Holder#lacking()}, {@link Holder#spare()}).
     *
     * @param windowStartMillis the window it is for (epoch millis of its start)
     * @param units units granted, {@code >= 0}
     * @param windowLeft units the fleet window still had to lease after this grant, {@code >= 0}
     * @param fleetSettled units the fleet's settled attempts spent in the window, as reported, {@code >= 0}
     * @param fleetSize instances sharing the window lately (this one included), {@code >= 1}
     * @param othersWanted units the other instances' waiting requests lack, {@code >= 0}
     * @param othersSpare units the other instances hold above what their waiting requests need, {@code >= 0}
     * @return the value
     * @throws IllegalArgumentException if a value is out of range ({@code othersSpare must be >= 0 but was -1})
     */
    public static Grant of(long windowStartMillis, long units, long windowLeft, long fleetSettled, int fleetSize,
        long othersWanted, long othersSpare) {
      check("units", units, 0);
      check("windowLeft", windowLeft, 0);
      check("fleetSettled", fleetSettled, 0);
      check("fleetSize", fleetSize, 1);
      check("othersWanted", othersWanted, 0);
      check("othersSpare", othersSpare, 0);
      return new Grant(windowStartMillis, units, windowLeft, fleetSettled, fleetSize, othersWanted, othersSpare);
    }

    private static void check(String name, long v, long min) {
      if (v < min) {
        throw new IllegalArgumentException(name + " must be >= " + min + " but was " + v);
      }
    }

    /** The window the answer is for: epoch millis of its start. */
    public long windowStartMillis() {
      return windowStartMillis;
    }

    /** Units granted. */
    public long units() {
      return units;
    }

    /** Units the fleet window still had to lease after this grant. */
    public long windowLeft() {
      return windowLeft;
    }

    /** Units the fleet's settled attempts spent in the window, as the instances reported it. */
    public long fleetSettled() {
      return fleetSettled;
    }

    /** Instances sharing the window lately, this one included. */
    public int fleetSize() {
      return fleetSize;
    }

    /** Units the other instances' waiting requests lack, as they last reported (0: none is short). */
    public long othersWanted() {
      return othersWanted;
    }

    /** Units the other instances hold above what their waiting requests need, as they last reported. */
    public long othersSpare() {
      return othersSpare;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Grant g && windowStartMillis == g.windowStartMillis && units == g.units
          && windowLeft == g.windowLeft && fleetSettled == g.fleetSettled && fleetSize == g.fleetSize
          && othersWanted == g.othersWanted && othersSpare == g.othersSpare;
    }

    @Override
    public int hashCode() {
      return Objects.hash(windowStartMillis, units, windowLeft, fleetSettled, fleetSize, othersWanted, othersSpare);
    }

    @Override
    public String toString() {
      return "Grant{window=" + windowStartMillis + ", units=" + units + ", windowLeft=" + windowLeft
          + ", fleetSettled=" + fleetSettled + ", fleetSize=" + fleetSize + ", othersWanted=" + othersWanted
          + ", othersSpare=" + othersSpare + "}";
    }
  }
}
