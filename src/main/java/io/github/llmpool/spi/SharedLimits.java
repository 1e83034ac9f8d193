package io.github.llmpool.spi;

import java.util.Objects;

/**
 * Fleet-wide windows for configured limits ({@code requestsPerMinute}, {@code tokensPerMinute}),
 * taken in <b>leases</b>: a limit of N per minute configured on every instance of a pool admits N
 * across the fleet, not N per instance, without a call to the shared store per request. Reached
 * from {@link SharedState#limits()}; null there (the default) keeps every configured limit a local
 * bucket of this instance.
 *
 * <p>How the pool uses it, for implementations:
 * <ul>
 *   <li>For each configured dimension of a provider, or of a quota group (one window for all its
 *       members), the pool calls {@link #open} once, when it is built or reconfigured with new
 *       limits, with a {@link Holder} it implements; the {@link Line} returned is the
 *       implementation's. {@code open} must not block; an exception it throws fails the build.</li>
 *   <li>The pool admits a request only with units it holds ({@link Holder#held()}): one request,
 *       and the request's token estimate, capped at {@link Line#leaseSize()} (a request larger than
 *       a lease goes when a whole lease is held; the excess is debt, {@code held} below zero, paid
 *       from the next leases), plus a <b>start credit</b>: before the first grant arrives (of any
 *       size, zero included), one lease, so that a pool just built takes calls while its first
 *       lease is on its way. What the credit admits makes {@code held} negative: a debt the next
 *       grants pay (the implementation asks for {@code leaseSize - held} as below). A holder has
 *       the credit once, before it held anything: a holder never spends both units leased before
 *       an interval and a credit within it, so the fleet's overshoot stays one lease per holder.
 *       Dispatching takes the units; reporting usage corrects the tokens.</li>
 *   <li>The <b>implementation</b> takes leases from the shared window, on a thread of its own: when
 *       {@code held} is below {@link Line#lowWater()} (or below {@link Holder#wanted()}) it asks for
 *       {@code leaseSize - held} units and
 *       hands what it got to {@link Holder#granted} (fewer, none included, when the window holds
 *       fewer; then not again before {@link Grant#retryAfterMillis()}). The pool calls
 *       {@link Line#wake()} when a dispatch takes {@code held} below the low-water mark, so that the
 *       next lease is asked for at once; never on the pick path, and {@code wake} must not block.</li>
 *   <li>A lease expires after a time the implementation chooses: it may then take back units not
 *       used with {@link Holder#reclaim} and give them back to the window. It should keep what the
 *       holder still uses (llmpool-redis keeps up to a full lease and renews it): taking every unit
 *       while a fresh lease is on its way leaves the pool refusing calls for that round trip.</li>
 *   <li>The pool tells the line what the provider's rate-limit headers announced for the
 *       dimension ({@link Line#announced}), so that a window that thinks itself fuller than the
 *       provider is corrected down.</li>
 *   <li>When the store is unreachable the implementation calls {@link Holder#storeDown()}: the pool
 *       then admits what it holds and, beyond it, from a local bucket of the limit divided by the
 *       last {@link Grant#fleetSize() fleet size} granted (the whole limit when none was ever
 *       granted), starting empty; {@link Holder#storeUp()} when it is back. A store that
 *       stalls (connected, no answers) needs no call: once a lease request has gone 60 ms
 *       (3 lease rounds) without an answer, the pool admits from that same fallback for the line
 *       until the next {@link Holder#granted grant} (so the store-down bound holds during a
 *       stall); an implementation should answer every lease request it sends with a grant, of
 *       nothing if need be.</li>
 *   <li>{@link Line#close()} when the pool no longer uses the window (reconfigured away): the
 *       implementation gives back what the holder holds and stops.</li>
 * </ul>
 * Implementations must be thread-safe.
 */
public interface SharedLimits {

  /**
   * Opens the fleet-wide window of one configured limit for one pool.
   *
   * <p>The implementation may call the holder from within {@code open} (a store already known to be
   * down: {@link Holder#storeDown()}).
   *
   * @param limit the limit (pool, provider or group, dimension, per minute)
   * @param holder the pool's side: what it holds, where leases go
   * @return the implementation's side; never null
   */
  Line open(SharedLimit limit, Holder holder);

  /** The pool's side of one window: the units it holds. Implemented by the pool; thread-safe. */
  interface Holder {
    /** Units held now: granted, not yet used nor reclaimed; negative when in debt. */
    long held();

    /**
     * A lease arrived: adds {@link Grant#units()} (zero included: the answer still says when to
     * ask again and how large the fleet is).
     *
     * @param grant the answer
     */
    void granted(Grant grant);

    /**
     * A lease expired: takes back and returns the units held above {@code keep} (the units of the
     * leases still in force), at least zero.
     *
     * @param keep units to keep
     * @return the units taken back, to give back to the window
     */
    long reclaim(long keep);

    /**
     * The units the pool could not admit a request for lately (its token estimate, capped at a
     * lease), while holding fewer but not below the low-water mark: the implementation tops the
     * holder up to a full lease at its next round (within its publish interval), as if it were
     * below the mark. 0 when nothing is wanted. The default says 0.
     *
     * @return the units wanted, or 0
     */
    default long wanted() {
      return 0;
    }

    /** The store is unreachable: admit from the local fallback bucket beyond what is held. */
    void storeDown();

    /** The store is back. */
    void storeUp();
  }

  /** The implementation's side of one window. */
  interface Line {
    /** The units of a full lease ({@code >= 1}); also the holder's start credit before its first grant. */
    long leaseSize();

    /** The holder wants a new lease when {@code held()} is below this ({@code >= 1}). */
    long lowWater();

    /** {@code held()} fell below the low-water mark: ask soon. Must not block. */
    void wake();

    /**
     * The provider's rate-limit headers announced {@code remaining} units of this dimension left,
     * {@code ageNanos} ago (when the provider admitted the request they answered): the window should
     * hold no more than that at that instant, less what was taken from it since. A fleet window
     * starts full and only counts the fleet's own dispatches, while the provider's real window may
     * hold less (others use the key, or it was not full when the fleet started): this corrects it
     * downwards, never upwards. Called off the pick path, after a response; must not block. The
     * default ignores it.
     *
     * @param remaining units the provider said were left, {@code >= 0}
     * @param ageNanos how long ago that was, {@code >= 0}
     */
    default void announced(long remaining, long ageNanos) {}

    /** The pool no longer uses this window: give back what is held and stop. Must not block. */
    void close();
  }

  /** One answer of the shared window to a lease request. Immutable. */
  final class Grant {
    private final long units;
    private final long windowLeft;
    private final long retryAfterMillis;
    private final int fleetSize;

    private Grant(long units, long windowLeft, long retryAfterMillis, int fleetSize) {
      this.units = units;
      this.windowLeft = windowLeft;
      this.retryAfterMillis = retryAfterMillis;
      this.fleetSize = fleetSize;
    }

    /**
     * An answer.
     *
     * @param units units granted, {@code >= 0}
     * @param windowLeft units the fleet window still held after this grant, {@code >= 0}
     * @param retryAfterMillis when the window will hold the rest of what was asked (0: it holds it
     *     now or nothing more was asked), {@code >= 0}
     * @param fleetSize instances sharing the window lately (this one included), {@code >= 1}
     * @return the value
     * @throws IllegalArgumentException if a value is out of range ({@code units must be >= 0 but was -1})
     */
    public static Grant of(long units, long windowLeft, long retryAfterMillis, int fleetSize) {
      check("units", units, 0);
      check("windowLeft", windowLeft, 0);
      check("retryAfterMillis", retryAfterMillis, 0);
      check("fleetSize", fleetSize, 1);
      return new Grant(units, windowLeft, retryAfterMillis, fleetSize);
    }

    private static void check(String name, long v, long min) {
      if (v < min) {
        throw new IllegalArgumentException(name + " must be >= " + min + " but was " + v);
      }
    }

    /** Units granted. */
    public long units() {
      return units;
    }

    /** Units the fleet window still held after this grant. */
    public long windowLeft() {
      return windowLeft;
    }

    /** Milliseconds until the window holds the rest of what was asked; 0 when nothing is missing. */
    public long retryAfterMillis() {
      return retryAfterMillis;
    }

    /** Instances sharing the window lately, this one included. */
    public int fleetSize() {
      return fleetSize;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Grant g && units == g.units && windowLeft == g.windowLeft
          && retryAfterMillis == g.retryAfterMillis && fleetSize == g.fleetSize;
    }

    @Override
    public int hashCode() {
      return Objects.hash(units, windowLeft, retryAfterMillis, fleetSize);
    }

    @Override
    public String toString() {
      return "Grant{units=" + units + ", windowLeft=" + windowLeft + ", retryAfterMillis=" + retryAfterMillis
          + ", fleetSize=" + fleetSize + "}";
    }
  }
}
