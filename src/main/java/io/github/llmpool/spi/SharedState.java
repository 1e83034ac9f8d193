package io.github.llmpool.spi;

/**
 * What instances of one pool share about its providers: what one instance learns is published,
 * what the others learned is applied. That is evictions ({@link SharedEviction}): a provider
 * that answered one instance with a 429 and {@code Retry-After: 30} is kept out of rotation by
 * every instance, not just the one that was told; the quota its rate-limit headers announced
 * ({@link SharedQuota}) and what each instance dispatched against it ({@link SharedDispatch}); and
 * session-affinity entries ({@link SharedAffinity}). Quota, dispatches and
 * affinity are default methods: an implementation that shares only evictions ignores them. Set with
 * {@code ProviderPool.Builder.sharedState(...)}; the default, {@link #LOCAL_ONLY}, shares nothing.
 * Instances share by pool name ({@code ProviderPool.Builder.name(...)}), and within a pool by
 * provider name.
 *
 * <p>The contract, for implementations (a Redis or a database module, a test's in-memory one):
 * <ul>
 *   <li>{@link #join} is called once per pool, when it is built, with the pool's name and the
 *       {@link Receiver} through which evictions learned elsewhere are applied; it returns the
 *       {@link Publisher} the pool publishes its own evictions to. An exception it throws fails
 *       {@code build()}.</li>
 *   <li>A pool publishes an eviction once, when it decides it (a new eviction, or a deadline made
 *       later), never on the pick path: on the thread that got the failing answer, after the
 *       decision. {@link Publisher#publish} must return at once (queue the I/O on a thread of
 *       your own); an exception it throws is logged and ignored. Evictions a pool applies from
 *       the receiver are not published again.</li>
 *   <li>{@link Receiver#onEviction} may be called from any thread, at any time (during
 *       {@code join} too, to replay evictions in force). The pool applies an eviction with the
 *       rule it applies to its own: an eviction in force is never shortened (the later deadline
 *       wins); a deadline already past, or a provider the pool does not have, is ignored; a
 *       deadline further than the pool's longest eviction (the larger of
 *       {@code EvictionPolicy.maxDuration} and {@code quotaDuration}) is cut to it. A remote
 *       eviction counts no ejection (the instance that decided it counted one), respects
 *       {@code maxEjectionPercent}, is logged at INFO and emits no {@code PoolEvent}.</li>
 *   <li>A pool publishes a quota window when a response's headers announced one that it stored
 *       (it superseded the stored one), and an affinity entry when a key is bound to a provider
 *       it was not bound to; both on the thread that got the answer, after the decision, never on
 *       the pick path. It applies a remote window with its own merge ({@link SharedQuota}), and a
 *       remote affinity entry as if it had routed the key itself (the last entry written wins),
 *       unless it is expired, for a provider the pool does not have, or the pool has no affinity.</li>
 *   <li>A shared state that loses its store (a Redis down, stalled or restarted) says so with
 *       {@link Receiver#onSharedStateDown} and, when it is back and has resynchronised,
 *       {@link Receiver#onSharedStateUp}; the pool logs one WARN and emits
 *       {@code PoolEvent.SharedStateDown} / {@code SharedStateUp}. Meanwhile the pool decides from
 *       its own answers, as a local-only pool does.</li>
 *   <li>Deadlines travel as wall-clock epoch milliseconds; each pool converts them to its own
 *       monotonic time with its {@code Ticker} ({@code Ticker.wallMillis()}), so the instances'
 *       wall clocks should agree to well within an eviction.</li>
 * </ul>
 * Implementations must be thread-safe.
 */
public interface SharedState {

  /** Shares nothing: every pool decides alone from its own answers. The default. */
  SharedState LOCAL_ONLY = new SharedState() {
    @Override
    public Publisher join(String pool, Receiver receiver) {
      return eviction -> {};
    }

    @Override
    public String toString() {
      return "SharedState.LOCAL_ONLY";
    }
  };

  /**
   * Connects one pool: remote evictions for {@code pool} go to {@code receiver}; the pool
   * publishes its own to the publisher returned.
   *
   * @param pool the pool's name
   * @param receiver applies what other instances learned; implemented by the pool
   * @return where the pool publishes what it learns; never null
   */
  Publisher join(String pool, Receiver receiver);

  /**
   * Fleet-wide windows for the pools' configured limits ({@code requestsPerMinute},
   * {@code tokensPerMinute}), taken in leases; see {@link SharedLimits}. The default, null, keeps
   * every configured limit a bucket local to the instance (a limit of N configured on 4 instances
   * then admits 4N). Asked once per pool build and reconfiguration, before {@link #join}.
   *
   * @return the shared windows, or null for local buckets
   */
  default SharedLimits limits() {
    return null;
  }

  /**
   * Budgets shared by the instances of a pool ({@code ProviderPool.Builder.budget}), taken in
   * leases; see {@link SharedBudgets}. The default, null, keeps every budget local to the
   * instance (a budget of 20 USD configured on 4 instances then allows 80). Asked once per pool
   * build, before {@link #join}.
   *
   * @return the shared budgets, or null for local ones
   */
  default SharedBudgets budgets() {
    return null;
  }

  /** Where a pool publishes what it learned. Implemented by the shared state. */
  @FunctionalInterface
  interface Publisher {
    /**
     * The pool evicted a provider (or made its eviction longer). Must not block: queue the I/O.
     * Never called on the pick path.
     */
    void publish(SharedEviction eviction);

    /**
     * The pool stored a quota window a response announced. Must not block. The default ignores it.
     *
     * @param quota the window(s), as wall-clock times
     */
    default void publishQuota(SharedQuota quota) {}

    /**
     * The pool bound an affinity key to a provider. Must not block. The default ignores it.
     *
     * @param affinity the entry
     */
    default void publishAffinity(SharedAffinity affinity) {}

    /**
     * The pool dispatched to a provider (or a quota group's member) whose rate-limit headers it
     * tracks: {@code requests} requests and {@code tokens} estimated tokens, or (a settlement) a
     * token correction, negative when the answer used fewer than estimated. Called on the
     * dispatching thread for every attempt, never on the pick path: must return at once and should
     * only add to counters that a background thread sends in batches ({@link SharedDispatch}).
     * The default ignores it.
     *
     * @param scope the provider's name, or the quota group's when {@code group}
     * @param group whether {@code scope} names a quota group
     * @param requests requests dispatched (0 for a correction)
     * @param tokens estimated tokens dispatched, or the correction
     */
    default void publishDispatched(String scope, boolean group, long requests, long tokens) {}
  }

  /** How the shared state hands a pool what other instances learned. Implemented by the pool. */
  interface Receiver {
    /**
     * Applies an eviction decided by another instance (never shortening one in force).
     *
     * @throws NullPointerException if {@code eviction} is null
     * @throws IllegalArgumentException if it is for another pool than the one that joined
     *     ({@code pool must be 'chat' but was 'embed'})
     */
    void onEviction(SharedEviction eviction);

    /**
     * Applies a quota window another instance learned, with the merge of the pool's own windows.
     * The default ignores it.
     *
     * @param quota the window(s)
     * @throws NullPointerException if {@code quota} is null
     * @throws IllegalArgumentException if it is for another pool than the one that joined
     */
    default void onQuota(SharedQuota quota) {}

    /**
     * Remembers an affinity entry another instance wrote. The default ignores it.
     *
     * @param affinity the entry
     * @throws NullPointerException if {@code affinity} is null
     * @throws IllegalArgumentException if it is for another pool than the one that joined
     */
    default void onAffinity(SharedAffinity affinity) {}

    /**
     * Counts what another instance dispatched to a provider or quota group against the quota
     * window its rate-limit headers announced (the window in force, when it describes a state
     * before the dispatches; see {@link SharedDispatch}). The default ignores it.
     *
     * @param dispatch the other instance's dispatches of one interval
     * @throws NullPointerException if {@code dispatch} is null
     * @throws IllegalArgumentException if it is for another pool than the one that joined
     */
    default void onDispatched(SharedDispatch dispatch) {}

    /**
     * The shared store is unreachable (down, stalled, restarting): the pool goes on deciding alone.
     * Called once per outage. The default ignores it.
     *
     * @param reason what failed, without credentials (e.g. {@code connection refused to 127.0.0.1:6379})
     */
    default void onSharedStateDown(String reason) {}

    /**
     * The shared store is back and resynchronised. Called once per outage, after
     * {@link #onSharedStateDown}. The default ignores it.
     */
    default void onSharedStateUp() {}
  }
}
