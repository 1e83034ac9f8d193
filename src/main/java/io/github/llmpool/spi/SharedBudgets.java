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

    private Grant(long windowStartMillis, long units, long windowLeft, long fleetSettled, int fleetSize) {
      this.windowStartMillis = windowStartMillis;
      this.units = units;
      this.windowLeft = windowLeft;
      this.fleetSettled = fleetSettled;
      this.fleetSize = fleetSize;
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
      return new Grant(windowStartMillis, units, windowLeft, fleetSettled, fleetSize);
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

    @Override
    public boolean equals(Object o) {
      return o instanceof Grant g && windowStartMillis == g.windowStartMillis && units == g.units
          && windowLeft == g.windowLeft && fleetSettled == g.fleetSettled && fleetSize == g.fleetSize;
    }

    @Override
    public int hashCode() {
      return Objects.hash(windowStartMillis, units, windowLeft, fleetSettled, fleetSize);
    }

    @Override
    public String toString() {
      return "Grant{window=" + windowStartMillis + ", units=" + units + ", windowLeft=" + windowLeft
          + ", fleetSettled=" + fleetSettled + ", fleetSize=" + fleetSize + "}";
    }
  }
}
