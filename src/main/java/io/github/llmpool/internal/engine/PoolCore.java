package io.github.llmpool.internal.engine;

import io.github.llmpool.internal.route.Endpoint;
import io.github.llmpool.internal.route.Slot;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.Attempt;
import io.github.llmpool.NoProviderAvailableException;
import io.github.llmpool.Outcome;
import io.github.llmpool.OutcomeClassifier;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.PoolListener;
import io.github.llmpool.PoolSnapshot;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.Quota;
import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.Strategy;
import io.github.llmpool.Ticker;
import io.github.llmpool.TokenCounts;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.UsageListener;
import io.github.llmpool.internal.health.Headroom;
import io.github.llmpool.internal.health.Health;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.health.ProviderState;
import io.github.llmpool.internal.health.RateWindow;
import io.github.llmpool.internal.health.RetryBudget;
import io.github.llmpool.internal.route.Exclusion;
import io.github.llmpool.internal.route.P2cPicker;
import io.github.llmpool.internal.route.Router;
import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptListener;
import io.github.llmpool.spi.AttemptStart;
import io.github.llmpool.spi.RequestEnd;
import io.github.llmpool.spi.RequestListener;
import io.github.llmpool.spi.RequestStart;
import io.github.llmpool.spi.SharedAffinity;
import io.github.llmpool.spi.SharedEviction;
import io.github.llmpool.spi.SharedDispatch;
import io.github.llmpool.spi.SharedQuota;
import io.github.llmpool.spi.SharedState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine behind a {@code ProviderPool}: the current routing snapshot, the live provider states
 * (kept by name across snapshots), health decisions, the retry budget, events, logs and usage
 * records. Used by the OkHttp interceptor; never by users. Thread-safe: the snapshot is published
 * through a volatile field and replaced whole under a lock that only reconfiguration takes.
 */
public final class PoolCore {
  private static final Logger log = LoggerFactory.getLogger("io.github.llmpool");

  /**
   * Everything fixed at build time.
   *
   * @param name the pool's name (metric tags, log lines, and what events and usage records carry)
   * @param usageListeners every usage listener, in registration order (copied)
   * @param poolListeners every event listener, in registration order (copied)
   * @param attemptListeners every attempt hook, in registration order (copied)
   * @param requestListeners every request hook, in registration order (copied)
   * @param sharedState what the pool shares with other instances of it ({@link SharedState#LOCAL_ONLY}: nothing)
   */
  public record Settings(
      String name,
      Ticker ticker,
      RandomSource random,
      Health health,
      RetryPolicy retry,
      OutcomeClassifier classifier,
      AllEvictedPolicy allEvictedPolicy,
      LatencyModel latency,
      List<UsageListener> usageListeners,
      List<PoolListener> poolListeners,
      List<AttemptListener> attemptListeners,
      SharedState sharedState,
      boolean failOnTruncatedStream,
      String virtualHost,
      String virtualPrefix,
      List<RequestListener> requestListeners,
      boolean quotaRouting,
      long quotaWaitNanos) {
    public Settings {
      Objects.requireNonNull(name, "name");
      requestListeners = List.copyOf(requestListeners);
      usageListeners = List.copyOf(usageListeners);
      poolListeners = List.copyOf(poolListeners);
      attemptListeners = List.copyOf(attemptListeners);
      Objects.requireNonNull(sharedState, "sharedState");
    }

    /** As below, with request hooks; routing on quota headroom (the default), never waiting for it. */
    public Settings(String name, Ticker ticker, RandomSource random, Health health, RetryPolicy retry,
        OutcomeClassifier classifier, AllEvictedPolicy allEvictedPolicy, LatencyModel latency,
        List<UsageListener> usageListeners, List<PoolListener> poolListeners, List<AttemptListener> attemptListeners,
        SharedState sharedState, boolean failOnTruncatedStream, String virtualHost, String virtualPrefix,
        List<RequestListener> requestListeners) {
      this(name, ticker, random, health, retry, classifier, allEvictedPolicy, latency, usageListeners, poolListeners,
          attemptListeners, sharedState, failOnTruncatedStream, virtualHost, virtualPrefix, requestListeners, true, 0);
    }

    /** As above, without request hooks. */
    public Settings(String name, Ticker ticker, RandomSource random, Health health, RetryPolicy retry,
        OutcomeClassifier classifier, AllEvictedPolicy allEvictedPolicy, LatencyModel latency,
        List<UsageListener> usageListeners, List<PoolListener> poolListeners, List<AttemptListener> attemptListeners,
        SharedState sharedState, boolean failOnTruncatedStream, String virtualHost, String virtualPrefix) {
      this(name, ticker, random, health, retry, classifier, allEvictedPolicy, latency, usageListeners, poolListeners,
          attemptListeners, sharedState, failOnTruncatedStream, virtualHost, virtualPrefix, List.of());
    }
  }

  private final Settings settings;
  private final String name;
  /** Arrays, not lists: delivery walks them by index (no iterator) on every attempt. */
  private final UsageListener[] usageListeners;
  private final PoolListener[] poolListeners;
  private final AttemptListener[] attemptListeners;
  private final RequestListener[] requestListeners;
  /** Whether any attempt or request hook is registered (else no request gets an id or hook). */
  private final boolean hooked;
  private final java.util.concurrent.atomic.AtomicLong requestIds = new java.util.concurrent.atomic.AtomicLong();
  private final RetryBudget budget;
  /** Spend limits (empty: none, and nothing on any path checks them). */
  private final Budgets budgets;
  private final boolean hasBudgets;
  private final Object reconfigureLock = new Object();
  private final AffinityTable affinity; // null without session affinity
  private volatile Router router;
  private Map<String, ProviderState> states = Map.of(); // guarded by reconfigureLock
  private Map<String, Headroom> groups = Map.of(); // quota groups by name; guarded by reconfigureLock
  /** The pool's probes, or null (see {@link #probes()}). */
  private final Probes probes;
  /** The whole pool is drained (written under reconfigureLock, read lock-free by the pick path). */
  private volatile boolean drainedAll;
  /** Where evictions are published; null when the pool shares nothing (local only). */
  private final SharedState.Publisher publisher;
  /** Every credential value configured so far, current and replaced; written under reconfigureLock. */
  private volatile Secrets secrets = Secrets.NONE;

  public PoolCore(Settings settings, Strategy strategy, List<List<Endpoint>> tiers, List<List<Integer>> weights) {
    this(settings, strategy, tiers, weights, null);
  }

  /** As above, with session affinity ({@code affinity} may be null: none). */
  public PoolCore(Settings settings, Strategy strategy, List<List<Endpoint>> tiers, List<List<Integer>> weights,
      AffinityTable affinity) {
    this(settings, strategy, tiers, weights, affinity, List.of());
  }

  /** As above, with spend limits ({@code budgets}, fixed for the pool's life; empty: none). */
  public PoolCore(Settings settings, Strategy strategy, List<List<Endpoint>> tiers, List<List<Integer>> weights,
      AffinityTable affinity, List<io.github.llmpool.Budget> budgets) {
    this.settings = settings;
    this.probes = settings.latency().probes() ? new Probes(settings.latency().probeAgeNanos()) : null;
    this.budgets = new Budgets(this, List.copyOf(budgets), settings.ticker().wallMillis());
    this.hasBudgets = !budgets.isEmpty();
    this.name = settings.name();
    this.usageListeners = settings.usageListeners().toArray(new UsageListener[0]);
    this.poolListeners = settings.poolListeners().toArray(new PoolListener[0]);
    this.attemptListeners = settings.attemptListeners().toArray(new AttemptListener[0]);
    this.requestListeners = settings.requestListeners().toArray(new RequestListener[0]);
    this.hooked = attemptListeners.length > 0 || requestListeners.length > 0;
    this.affinity = affinity;
    RetryPolicy r = settings.retry();
    this.budget = new RetryBudget(r.budgetRatio(), r.minRetriesPerSecond(), r.budgetWindow().toNanos());
    reconfigure(strategy, tiers, weights);
    // Last: the receiver may be called at once (a shared state replaying the evictions in force).
    SharedState shared = settings.sharedState();
    this.publisher = shared == SharedState.LOCAL_ONLY ? null
        : Objects.requireNonNull(shared.join(name, new SharedReceiver()), "SharedState.join returned null");
  }

  /** The pool's probes ({@code P2cSettings.probes}), or null when it sends none. */
  public Probes probes() {
    return probes;
  }

  public Settings settings() {
    return settings;
  }

  /** The pool's name: what its log lines, events and usage records name it by. */
  public String name() {
    return name;
  }

  public Router router() {
    return router;
  }

  /** The sticky table, or null when the pool has no session affinity. */
  public AffinityTable affinity() {
    return affinity;
  }

  public RetryBudget budget() {
    return budget;
  }

  /**
   * The credential values of every provider this pool has had, those replaced or removed by a
   * reconfiguration included (an upstream may still echo an old key), as fingerprints: for
   * redacting text the pool did not write (OkHttp's exception messages, an upstream's reason
   * phrase or headers) before a caller sees it.
   */
  public Secrets secrets() {
    return secrets;
  }

  public long now() {
    return settings.ticker().read();
  }

  /**
   * Replaces the routing snapshot atomically. Providers whose name survives keep their state
   * (health, estimates, counters, in-flight); requests in flight finish on the provider they
   * started on.
   */
  public void reconfigure(Strategy strategy, List<List<Endpoint>> tiers, List<List<Integer>> weights) {
    synchronized (reconfigureLock) {
      long configuredAt = settings.ticker().read();
      List<Headroom> headroomsBefore = new ArrayList<>(groups.values());
      states.values().forEach(st -> headroomsBefore.add(st.headroom()));
      Map<String, ProviderState> next = new HashMap<>();
      Map<String, Headroom> nextGroups = new HashMap<>();
      List<List<Slot>> slotTiers = new ArrayList<>();
      for (int t = 0; t < tiers.size(); t++) {
        List<Slot> slots = new ArrayList<>();
        for (int i = 0; i < tiers.get(t).size(); i++) {
          Endpoint e = tiers.get(t).get(i);
          ProviderState state = states.get(e.name);
          if (state == null) {
            state = new ProviderState(e.name, settings.ticker().read());
          }
          state.headroom(headroomFor(e, state, groupLimits(tiers), nextGroups, configuredAt));
          next.put(e.name, state);
          slots.add(new Slot(e, state, t, weights.get(t).get(i), configuredAt, budgets.gatesFor(e)));
        }
        slotTiers.add(slots);
      }
      boolean first = router == null;
      List<Endpoint> all = new ArrayList<>();
      tiers.forEach(all::addAll);
      secrets = secrets.plus(Secrets.of(all)); // before the router: no request reaches a provider unredacted
      for (ProviderState st : states.values()) {
        if (next.get(st.name()) != st) {
          st.retire(); // dropped: its headroom stops writing the pick's copy of its word
        }
      }
      states = next;
      groups = nextGroups;
      router = new Router(strategy, slotTiers, settings.random(), settings.latency(), settings.quotaRouting(), probes);
      closeUnused(headroomsBefore, next, nextGroups);
      if (!first) {
        log.info("llmpool[{}] reconfigured: {} providers in {} tiers, strategy {}", name, next.size(), tiers.size(),
            strategy);
      }
    }
  }

  /**
   * The headroom a provider routes on after a reconfiguration: its quota group's (shared by every
   * member; kept across reconfigurations while the group's limits stay), or its own (kept, with
   * what its headers said, while its configured limits stay).
   */
  private Headroom headroomFor(Endpoint e, ProviderState state, Map<String, long[]> limits,
      Map<String, Headroom> nextGroups, long now) {
    if (e.quotaGroup != null) {
      Headroom h = nextGroups.get(e.quotaGroup);
      if (h != null) {
        return h;
      }
      long[] l = limits.get(e.quotaGroup);
      h = groups.get(e.quotaGroup);
      if (h == null || !h.sameLimits((int) l[0], l[1])) {
        h = newHeadroom(e.quotaGroup, true, (int) l[0], l[1], now);
      }
      nextGroups.put(e.quotaGroup, h);
      return h;
    }
    Headroom own = state.headroom();
    if (own.group() == null && own.sameLimits(e.requestsPerMinute, e.tokensPerMinute)) {
      return own;
    }
    return newHeadroom(e.name, false, e.requestsPerMinute, e.tokensPerMinute, now);
  }

  /**
   * A headroom for configured limits {@code rpm} / {@code tpm} (0: none) of a provider or a quota
   * group: with the shared state's {@link io.github.llmpool.spi.SharedLimits}, each configured
   * dimension takes leases of the fleet-wide window keyed by pool, provider or group, dimension;
   * without, local buckets.
   */
  private Headroom newHeadroom(String scope, boolean group, int rpm, long tpm, long now) {
    io.github.llmpool.spi.SharedLimits shared = settings.sharedState().limits();
    if (shared == null || (rpm <= 0 && tpm <= 0)) {
      return new Headroom(group ? scope : null, rpm, tpm, now);
    }
    java.util.function.LongSupplier clock = settings.ticker()::read;
    io.github.llmpool.internal.health.LeasedBucket r = rpm <= 0 ? null
        : new io.github.llmpool.internal.health.LeasedBucket(shared, io.github.llmpool.spi.SharedLimit.of(name, scope,
            group, io.github.llmpool.spi.SharedLimit.Dimension.REQUESTS, rpm), clock);
    io.github.llmpool.internal.health.LeasedBucket t = tpm <= 0 ? null
        : new io.github.llmpool.internal.health.LeasedBucket(shared, io.github.llmpool.spi.SharedLimit.of(name, scope,
            group, io.github.llmpool.spi.SharedLimit.Dimension.TOKENS, tpm), clock);
    return new Headroom(group ? scope : null, rpm, tpm, now, r, t);
  }

  /** Closes the lease lines of headrooms a reconfiguration left unused (their unused units go back). */
  private static void closeUnused(List<Headroom> before, Map<String, ProviderState> next,
      Map<String, Headroom> nextGroups) {
    java.util.Set<Headroom> used = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    next.values().forEach(st -> used.add(st.headroom()));
    used.addAll(nextGroups.values());
    for (Headroom h : before) {
      if (h.leased() && used.add(h)) {
        h.close(); // once, even when several providers pointed at it
      }
    }
  }

  /** Each quota group's configured limits: those of its first member that sets any ({@code [rpm, tpm]}, 0: none). */
  private static Map<String, long[]> groupLimits(List<List<Endpoint>> tiers) {
    Map<String, long[]> out = new HashMap<>();
    for (List<Endpoint> tier : tiers) {
      for (Endpoint e : tier) {
        if (e.quotaGroup == null) {
          continue;
        }
        long[] l = out.computeIfAbsent(e.quotaGroup, g -> new long[2]);
        if (l[0] == 0 && l[1] == 0 && (e.requestsPerMinute > 0 || e.tokensPerMinute > 0)) {
          l[0] = Math.max(0, e.requestsPerMinute);
          l[1] = Math.max(0, e.tokensPerMinute);
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ selection

  /**
   * Picks a provider for the next attempt and claims it (a provider past its eviction deadline is
   * claimed by exactly one request, its probe). Returns null when no provider is eligible.
   */
  public Slot choose(long now, Exclusion exclusion, boolean[] probeOut) {
    if (drainedAll) {
      return null;
    }
    Router r = router;
    // Each refused claim means another request holds that provider's probe, which makes it
    // ineligible for the next pick, so this loop ends within (providers + 1) rounds.
    for (int round = 0; round <= r.size(); round++) {
      Slot s = r.pick(now, exclusion);
      if (s == null) {
        return null;
      }
      int claim = s.state.claim(now);
      if (claim != ProviderState.REFUSED) {
        claimed(s, claim, probeOut);
        return s;
      }
    }
    return null;
  }

  /**
   * The provider named {@code provider} (a session's sticky provider), claimed, if it may take this
   * attempt: weight above 0, available, not excluded, claimable (past an eviction: the single
   * probe), and in the tier that serves now (no earlier tier has an eligible provider). Null
   * otherwise; the caller then chooses as usual.
   */
  public Slot chooseSticky(long now, String provider, Exclusion exclusion, boolean[] probeOut) {
    if (drainedAll) {
      return null;
    }
    Router r = router;
    Slot s = r.slot(provider);
    if (s == null || s.weight == 0 || !s.state.isAvailable(now) || (exclusion != null && exclusion.excludes(s))
        || r.eligibleBefore(s.tier, now, exclusion)) {
      return null;
    }
    if (r.quotaRouting() && !s.state.headroom().admits(now, exclusion == null ? 0 : exclusion.tokens())) {
      return null;
    }
    if (!Router.withinBudgets(s, exclusion)) {
      return null;
    }
    int claim = s.state.claim(now);
    if (claim == ProviderState.REFUSED) {
      return null;
    }
    claimed(s, claim, probeOut);
    return s;
  }

  /** A claim that was not refused: the probe flag, and the events of a probe or of a server-named eviction's end. */
  private void claimed(Slot s, int claim, boolean[] probeOut) {
    probeOut[0] = claim == ProviderState.PROBE;
    if (probeOut[0]) {
      log.debug("llmpool[{}] provider {} probing after eviction", name, s.name());
      emit(() -> new PoolEvent.Probing(s.name(), s.tier));
    } else if (claim == ProviderState.RETURNED) {
      log.info("llmpool[{}] provider {} restored: the delay its server named is over", name, s.name());
      emit(() -> new PoolEvent.Restored(s.name(), s.tier));
    }
  }

  // ------------------------------------------------------------------ budgets

  /** Whether the pool has any budget (else none of the methods below is needed). */
  public boolean hasBudgets() {
    return hasBudgets;
  }

  /**
   * At the start of a request (pools with budgets): resets the windows that have ended, then
   * refuses the request at once, with a {@link io.github.llmpool.BudgetExhaustedException}, if a
   * pool-wide budget is spent.
   */
  public void budgetsAtStart(long now) throws io.github.llmpool.BudgetExhaustedException {
    budgets.atRequestStart(now);
  }

  /**
   * When {@link #choose} found no provider: if a shared budget short only until a lease already
   * asked for is all that keeps a provider out (weight above 0, not drained, evicted or excluded,
   * with quota headroom), waits for that lease on the pool's ticker and chooses again; a provider
   * claimed then, or null (no such budget, or still short after the bound: at most
   * {@code BudgetState.LEASE_WAIT_BOUND_NANOS}, 60 ms, from this call and from the oldest
   * unanswered lease request, so a stalled or down store never makes a request wait longer). Not
   * the pick path: only after a pick found nothing; at once null without shared budgets.
   */
  public Slot chooseAfterLease(long now, Exclusion exclusion, boolean[] probeOut) {
    if (!hasBudgets || !budgets.shared() || drainedAll) {
      return null;
    }
    io.github.llmpool.internal.health.BudgetState.LeaseWait wait =
        new io.github.llmpool.internal.health.BudgetState.LeaseWait(now);
    long prompt = exclusion == null ? 0 : exclusion.promptTokens();
    long max = exclusion == null ? -1 : exclusion.maxTokens();
    for (int round = 0; round <= io.github.llmpool.internal.health.BudgetState.LEASE_WAIT_PARKS
        && wait.open(now); round++) {
      io.github.llmpool.internal.health.BudgetGate g = leaseToWaitFor(now, exclusion);
      if (g == null || !g.state.awaitLease(g.estimate(prompt, max), wait)) {
        return null;
      }
      now = now();
      Slot s = choose(now, exclusion, probeOut);
      if (s != null) {
        return s;
      }
    }
    return null;
  }

  /**
   * The budget to wait for: of the first provider kept out by nothing but a shared budget short
   * only until a lease ({@code BudgetState.LEASE}); null when none, or when some provider is kept
   * out by nothing at all (its claim was refused: waiting for a lease would not help).
   */
  private io.github.llmpool.internal.health.BudgetGate leaseToWaitFor(long now, Exclusion exclusion) {
    Router r = router;
    long tokens = exclusion == null ? 0 : exclusion.tokens();
    long prompt = exclusion == null ? 0 : exclusion.promptTokens();
    long max = exclusion == null ? -1 : exclusion.maxTokens();
    io.github.llmpool.internal.health.BudgetGate found = null;
    for (Slot s : r.slots()) {
      if (s.weight == 0 || s.state.drained() || !s.state.isAvailable(now) || (exclusion != null && exclusion.excludes(s))
          || (r.quotaRouting() && !s.state.headroom().admits(now, tokens))) {
        continue;
      }
      io.github.llmpool.internal.health.BudgetGate g = Budgets.refusing(s, exclusion);
      if (g == null) {
        return null;
      }
      if (found == null && g.state.shared()
          && g.state.shortfall(g.estimate(prompt, max)) == io.github.llmpool.internal.health.BudgetState.LEASE) {
        found = g;
      }
    }
    return found;
  }

  /** Reserved nothing: the slot has no budget. */
  public static final long[] NO_BUDGET = new long[0];

  /**
   * Reserves a request's estimate ({@code prompt} tokens, {@code maxTokens} or -1) from every
   * budget of a claimed slot: what to settle later ({@link #NO_BUDGET} when it has none), or null
   * when a budget refused it (nothing is then held).
   */
  public long[] reserveBudgets(Slot slot, long prompt, long maxTokens) {
    return slot.budgets == null ? NO_BUDGET : budgets.reserve(slot, prompt, maxTokens);
  }

  /** Gives back what {@link #reserveBudgets} held for an attempt that was never sent. */
  public void releaseBudgets(Slot slot, long[] held) {
    Budgets.release(slot, held);
  }

  /**
   * Settles an attempt's budget reservations to what it cost: {@code cost} (money), the reported
   * tokens (-1: none), or the estimate itself when {@code keepEstimate}.
   */
  public void settleBudgets(Slot slot, long[] held, io.github.llmpool.Cost cost, long reportedTokens,
      boolean keepEstimate) {
    if (held != null && held.length > 0) {
      budgets.settle(slot, held, cost, reportedTokens, keepEstimate);
    }
  }

  // ------------------------------------------------------------------ quota headroom

  /**
   * Takes the attempt's request and token estimate from the provider's headroom at dispatch
   * (whether or not the pool routes on it: the count stays right when routing is switched on by a
   * reconfiguration), and emits the events of a provider running out of headroom or recovering.
   */
  public void reserve(Slot slot, long tokens, long now, Headroom.Reservation into) {
    Headroom h = slot.state.headroom();
    if (!h.tracked()) {
      into.clear();
      return;
    }
    h.reserve(now, tokens, into);
    if (publisher != null && (h.requestWindow() != null || h.tokenWindow() != null)) {
      publishDispatched(slot, h, 1, into.tokens()); // others count it against the header window too
    }
    if (!router.quotaRouting()) {
      return;
    }
    noteRoom(slot, h, now, tokens);
  }

  /**
   * For a request that waited for room ({@code quotaWait}) and was woken with others: takes the
   * attempt's request and token estimate from the claimed slot's headroom only if they still fit
   * ({@link Headroom#tryReserve}), so that waiters woken together take no more than the room.
   * False, holding nothing, when another took it first (the caller releases the claim and waits
   * again). True with nothing held when the headroom is not tracked or the pool does not route on
   * it (the dispatch then reserves as usual); true holding the units otherwise (hand them to the
   * attempt's lease at dispatch, or {@link #release} them).
   */
  public boolean tryReserve(Slot slot, long tokens, long now, Headroom.Reservation into) {
    Headroom h = slot.state.headroom();
    if (!h.tracked() || !router.quotaRouting()) {
      into.clear();
      return true;
    }
    if (!h.tryReserve(now, tokens, into)) {
      return false;
    }
    noteRoom(slot, h, now, tokens);
    return true;
  }

  /** Gives back what {@link #tryReserve} held for an attempt that was never dispatched. */
  public void release(Headroom.Reservation r) {
    if (r != null && r.held()) {
      r.headroom().release(r);
    }
  }

  /**
   * How much later than the earliest return a waiting request wakes: a draw from the pool's
   * {@code RandomSource}, up to the time one more such request takes to refill at the provider
   * that returns first ({@link Headroom#refillNanos}), so that requests waiting together wake one
   * refill apart on average instead of all at one instant. 0 when that provider does not refill
   * gradually (or the pool does not route on headroom).
   */
  public long wakeJitter(long now, Exclusion exclusion) {
    Router r = router;
    if (!r.quotaRouting() || drainedAll) {
      return 0;
    }
    long tokens = exclusion == null ? 0 : exclusion.tokens();
    long best = -1;
    Slot first = null;
    for (Slot s : r.slots()) {
      if (s.weight == 0 || s.state.drained() || (exclusion != null && exclusion.excludes(s))) {
        continue;
      }
      long left = s.state.evicted() ? Math.max(0, s.state.evictedUntil() - now) : 0;
      left += s.state.headroom().untilRoom(now + left, tokens);
      if (best < 0 || left < best) {
        best = left;
        first = s;
      }
    }
    long spread = first == null ? 0 : first.state.headroom().refillNanos(tokens);
    return spread <= 0 ? 0 : (long) (spread * (settings.random().nextInt(WAKE_STEPS) / (double) WAKE_STEPS));
  }

  /** The resolution of {@link #wakeJitter}'s draw. */
  static final int WAKE_STEPS = 1024;

  /** The events of a reservation that left the provider without room, or gave it room again. */
  private void noteRoom(Slot slot, Headroom h, long now, long tokens) {
    boolean room = h.admits(now, tokens);
    int change = h.noteRoom(room);
    if (change > 0) {
      headroomExhausted(slot, h, now, tokens);
    } else if (change < 0) {
      log.info("llmpool[{}] provider {} has quota headroom again", name, slot.name());
      emit(() -> new PoolEvent.HeadroomRestored(slot.name(), slot.tier, h.group()));
    }
  }

  /**
   * A response's rate-limit headers were stored: if they leave the provider without room for a
   * request, the out-of-headroom event (once per spell).
   */
  public void observedHeadroom(Slot slot, long now) {
    if (!router.quotaRouting()) {
      return;
    }
    Headroom h = slot.state.headroom();
    if (!h.admits(now, 0) && h.noteRoom(false) > 0) {
      headroomExhausted(slot, h, now, 0);
    }
  }

  /** The log line and event of a provider that just ran out of headroom for a request of {@code tokens}. */
  private void headroomExhausted(Slot slot, Headroom h, long now, long tokens) {
    long until = h.untilRoom(now, tokens);
    log.info("llmpool[{}] provider {} out of quota headroom{} for about {} ms", name, slot.name(),
        h.group() == null ? "" : " (quota group " + h.group() + ")", Duration.ofNanos(until).toMillis());
    emit(() -> new PoolEvent.HeadroomExhausted(slot.name(), slot.tier, h.group(), Duration.ofNanos(until)));
  }

  /** Corrects an attempt's reservation to the tokens the answer reported (-1: unknown). */
  public void settle(Slot slot, Headroom.Reservation r, long actualTokens) {
    if (r.held()) {
      Headroom h = r.headroom();
      long estimate = r.tokens();
      h.settle(r, actualTokens);
      if (publisher != null && actualTokens >= 0 && actualTokens != estimate && h.tokenWindow() != null) {
        publishDispatched(slot, h, 0, actualTokens - estimate);
      }
    }
  }

  /** Tells the shared state what was dispatched against a header window (others count it too). */
  private void publishDispatched(Slot slot, Headroom h, long requests, long tokens) {
    try {
      String group = h.group();
      publisher.publishDispatched(group != null ? group : slot.name(), group != null, requests, tokens);
    } catch (RuntimeException e) {
      log.warn("llmpool[{}] SharedState publisher threw {}; ignored", name, Failures.describe(e));
    }
  }

  /**
   * Nanoseconds until some provider this request may still use (weight above 0, not drained, not
   * excluded) returns: its eviction's end or its headroom's, whichever is later; 0 if one is
   * eligible now; -1 if none will (every provider excluded or drained).
   */
  public long earliestReturn(long now, Exclusion exclusion) {
    if (drainedAll) {
      return -1;
    }
    Router r = router;
    long tokens = exclusion == null ? 0 : exclusion.tokens();
    long best = -1;
    for (Slot s : r.slots()) {
      if (s.weight == 0 || s.state.drained() || (exclusion != null && exclusion.excludes(s))) {
        continue;
      }
      long left = s.state.evicted() ? Math.max(0, s.state.evictedUntil() - now) : 0;
      if (r.quotaRouting()) {
        left += s.state.headroom().untilRoom(now + left, tokens);
      }
      io.github.llmpool.internal.health.BudgetGate over = hasBudgets ? Budgets.refusing(s, exclusion) : null;
      if (over != null) { // a shared budget not spent is back with its next lease; else at its window's reset
        left = Math.max(left, over.state.awaitingLease() ? Budgets.LEASE_WAIT.toNanos()
            : Math.max(1, budgets.resetInMillis(over.state)) * 1_000_000L);
      }
      if (best < 0 || left < best) {
        best = left;
      }
    }
    return best;
  }


  /**
   * The fail-open choice when every tier is out (never a drained provider), or null under
   * {@link AllEvictedPolicy#FAIL_FAST} or when the pool is drained.
   */
  public Slot failOpen(long now, Exclusion exclusion) {
    if (settings.allEvictedPolicy() != AllEvictedPolicy.FAIL_OPEN || drainedAll) {
      return null;
    }
    Slot s = router.pickLeastEvicted(now, exclusion);
    if (s != null) {
      log.debug("llmpool[{}] every provider is evicted; failing open to {}", name, s.name());
    }
    return s;
  }

  /**
   * The exception for "nothing to send this request to", naming every provider and when it
   * returns, or saying that the pool is drained.
   */
  public NoProviderAvailableException noProvider(long now, List<Attempt> attempts, Exclusion exclusion) {
    Router r = router;
    if (drainedAll || allDrained(r)) {
      return new NoProviderAvailableException("no provider available: pool '" + name + "' is drained ("
          + (drainedAll ? "drainAll" : "every provider") + "; resume puts it back in rotation)", Duration.ZERO,
          attempts);
    }
    StringBuilder sb = new StringBuilder("no provider available (policy ")
        .append(settings.allEvictedPolicy()).append("):");
    long earliest = Long.MAX_VALUE;
    for (Slot s : r.slots()) {
      sb.append(' ').append(s.name()).append(" (tier ").append(s.tier).append(") ");
      boolean tried = exclusion != null && exclusion.excludes(s);
      boolean drained = s.state.drained();
      long left = s.state.evicted() ? Math.max(0, s.state.evictedUntil() - now) : 0;
      boolean overBudget = false;
      io.github.llmpool.internal.health.BudgetGate over = null; // read once: a shared budget's lease may land meanwhile
      if (s.weight == 0) {
        sb.append("has weight 0");
      } else if (drained) {
        sb.append("drained");
      } else if (s.state.evicted() && left > 0) {
        sb.append("evicted for ").append(Duration.ofNanos(left).toMillis()).append(" ms more");
      } else if (s.state.evicted()) {
        sb.append("probe in flight");
      } else if (overBudget = hasBudgets && (over = Budgets.refusing(s, exclusion)) != null) {
        left = budgets.resetInMillis(over.state) * 1_000_000L;
        sb.append(budgets.describe(over, exclusion));
      } else if (r.quotaRouting() && !tried && !s.state.headroom().admits(now, exclusion == null ? 0 : exclusion.tokens())) {
        left = s.state.headroom().untilRoom(now, exclusion == null ? 0 : exclusion.tokens());
        sb.append("out of quota headroom for ").append(Duration.ofNanos(left).toMillis()).append(" ms more");
      } else {
        sb.append(tried ? "already tried" : "available");
      }
      sb.append(tried && (drained || s.state.evicted()) ? ", already tried;" : ";");
      if (s.weight > 0 && (!tried || overBudget) && !drained) {
        earliest = Math.min(earliest, left);
      }
    }
    if (earliest == Long.MAX_VALUE) {
      earliest = 0;
    }
    sb.append(" earliest return in ").append(Duration.ofNanos(earliest).toMillis()).append(" ms");
    if (hasBudgets) {
      NoProviderAvailableException onlyBudgets = budgets.onlyBudgets(r, now, exclusion, sb.toString(), attempts);
      if (onlyBudgets != null) {
        return onlyBudgets;
      }
    }
    return new NoProviderAvailableException(sb.toString(), Duration.ofNanos(earliest), attempts);
  }

  /** Whether every provider that could take traffic (weight above 0) is drained. */
  private static boolean allDrained(Router r) {
    boolean any = false;
    for (int t = 0; t < r.tierCount(); t++) {
      for (int i = 0; i < r.tierSize(t); i++) {
        Slot s = r.slot(t, i);
        if (s.weight > 0) {
          if (!s.state.drained()) {
            return false;
          }
          any = true;
        }
      }
    }
    return any;
  }

  // ------------------------------------------------------------------ drain

  /**
   * Takes one provider out of rotation ({@code drain}) or puts it back: no new attempt goes to a
   * drained provider, not even as the fail-open choice or a probe; attempts in flight finish and
   * count. The flag lives in the provider's state, so it survives a reconfiguration that keeps the
   * name. An event and a log line for each provider whose place in the rotation changes.
   *
   * @throws IllegalArgumentException if the pool has no provider of that name
   */
  public void drain(String provider, boolean drain) {
    List<Slot> changed = new ArrayList<>(1);
    synchronized (reconfigureLock) {
      Slot s = router.slot(provider);
      if (s == null) {
        throw new IllegalArgumentException("provider must be one of " + names(router) + " but was '" + provider + "'");
      }
      if (s.state.drain(drain) != drain && !drainedAll) {
        changed.add(s);
      }
    }
    announce(changed, drain);
  }

  /**
   * {@link #drain(String, boolean)} for every provider of {@code tier} now (a later reconfiguration
   * that moves a provider takes its drain with it).
   *
   * @throws IllegalArgumentException if there is no such tier
   */
  public void drainTier(int tier, boolean drain) {
    List<Slot> changed = new ArrayList<>();
    synchronized (reconfigureLock) {
      Router r = router;
      if (tier < 0 || tier >= r.tierCount()) {
        throw new IllegalArgumentException("tier must be in [0, " + (r.tierCount() - 1) + "] but was " + tier);
      }
      for (int i = 0; i < r.tierSize(tier); i++) {
        Slot s = r.slot(tier, i);
        if (s.state.drain(drain) != drain && !drainedAll) {
          changed.add(s);
        }
      }
    }
    announce(changed, drain);
  }

  /**
   * Drains the whole pool ({@code true}): every request is refused at once with a
   * {@link NoProviderAvailableException} saying so, providers added later included; or puts
   * everything back ({@code false}): the pool and every provider drained one by one or by tier.
   */
  public void drainAll(boolean drain) {
    List<Slot> changed = new ArrayList<>();
    synchronized (reconfigureLock) {
      if (drain == drainedAll && drain) {
        return;
      }
      boolean was = drainedAll;
      for (Slot s : router.slots()) {
        boolean before = was || s.state.drained();
        if (!drain) {
          s.state.drain(false);
        }
        if (before != drain) {
          changed.add(s);
        }
      }
      drainedAll = drain;
      if (drain != was) {
        log.info("llmpool[{}] pool {}", name, drain ? "drained: every request is refused until resumed" : "resumed");
      }
    }
    announce(changed, drain);
  }

  /** Whether the whole pool is drained ({@link #drainAll(boolean)}). */
  public boolean drainedAll() {
    return drainedAll;
  }

  private void announce(List<Slot> changed, boolean drained) {
    for (Slot s : changed) {
      log.info("llmpool[{}] provider {} {} ({} in flight)", name, s.name(), drained ? "drained" : "resumed",
          s.state.inFlight());
      emit(drained ? () -> new PoolEvent.Drained(s.name(), s.tier) : () -> new PoolEvent.Resumed(s.name(), s.tier));
    }
  }

  private static List<String> names(Router r) {
    List<String> out = new ArrayList<>();
    for (int t = 0; t < r.tierCount(); t++) {
      for (int i = 0; i < r.tierSize(t); i++) {
        out.add(r.slot(t, i).name());
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ health

  /** An answer that proves the provider is up. */
  public void onHealthy(Slot slot) {
    onHealthy(slot, now());
  }

  /** As above, for an attempt dispatched at {@code dispatchedAt} (a success that predates the eviction does not restore). */
  public void onHealthy(Slot slot, long dispatchedAt) {
    if (settings.health().onHealthy(slot.state, dispatchedAt)) {
      log.info("llmpool[{}] provider {} restored", name, slot.name());
      emit(() -> new PoolEvent.Restored(slot.name(), slot.tier));
    }
  }

  /** A retryable failure: may evict (never shortening an eviction in force). */
  public void onFailure(Slot slot, Outcome outcome, int status, long hintNanos, long now, boolean probe) {
    onFailure(slot, outcome, status, hintNanos, now, now, probe);
  }

  /** As above, for an attempt dispatched at {@code dispatchedAt} (one that predates the eviction does not change it). */
  public void onFailure(Slot slot, Outcome outcome, int status, long hintNanos, long now, long dispatchedAt,
      boolean probe) {
    boolean wasEvicted = slot.state.evicted();
    long before = slot.state.evictedUntil();
    Health.Eviction e = settings.health().onFailure(slot.state, outcome, hintNanos, now, dispatchedAt, probe,
        mayEvict(slot));
    if (e != null && e.serverHint() && outcome == Outcome.RATE_LIMITED && endsWithOthers(slot, e.untilNanos(), now)) {
      long until = settings.health().spread(slot.state, now);
      e = new Health.Eviction(until, until - now, true, e.ejections());
    }
    if (e != null) {
      Health.Eviction ev = e;
      if (!wasEvicted || probe) {
        log.warn("llmpool[{}] provider {} evicted for {} ms after {}{} (ejection {})", name, slot.name(),
            Duration.ofNanos(e.durationNanos()).toMillis(), outcome, status >= 0 ? " " + status : "", e.ejections());
      } else {
        log.debug("llmpool[{}] provider {} eviction kept until +{} ms", name, slot.name(),
            Duration.ofNanos(e.durationNanos()).toMillis());
      }
      emit(() -> new PoolEvent.Evicted(slot.name(), slot.tier, outcome, status, Duration.ofNanos(ev.durationNanos()),
          ev.serverHint(), ev.ejections()));
      if (publisher != null && (!wasEvicted || probe || e.untilNanos() != before)) {
        publish(slot, outcome, e); // decided now: a new eviction or a later deadline
      }
      if (outcome == Outcome.QUOTA_EXHAUSTED && slot.endpoint.quotaGroup != null) {
        evictGroup(slot, outcome, status, e, now);
      }
    }
  }

  /**
   * An account-wide signal on one member of a quota group ({@code insufficient_quota}, a billing
   * limit) takes every other member out for as long (never shortening an eviction in force).
   */
  private void evictGroup(Slot from, Outcome outcome, int status, Health.Eviction e, long now) {
    String group = from.endpoint.quotaGroup;
    for (Slot s : router.slots()) {
      if (s == from || !group.equals(s.endpoint.quotaGroup)) {
        continue;
      }
      long deadline = settings.health().applyShared(s.state, e.untilNanos() - now, now, true);
      if (deadline != Long.MIN_VALUE) {
        log.warn("llmpool[{}] provider {} evicted for {} ms with its quota group {}: {} on {}", name, s.name(),
            Duration.ofNanos(deadline - now).toMillis(), group, outcome, from.name());
        emit(() -> new PoolEvent.Evicted(s.name(), s.tier, outcome, status, Duration.ofNanos(deadline - now), false,
            s.state.ejections()));
      }
    }
  }

  /**
   * Whether another provider's eviction ends within 1% (at least 10 ms) of {@code until}: fixed
   * rate-limit windows that reset together, whose {@code Retry-After}s point at one instant.
   */
  private boolean endsWithOthers(Slot slot, long until, long now) {
    long slack = Math.max(TimeUnit.MILLISECONDS.toNanos(10), (until - now) / 100);
    for (Slot s : router.slots()) {
      if (s != slot && s.state.evicted() && Math.abs(s.state.evictedUntil() - until) <= slack) {
        return true;
      }
    }
    return false;
  }

  /** Whether the tier's max-ejection share still lets {@code slot} be evicted. */
  private boolean mayEvict(Slot slot) {
    Router r = router;
    int pct = settings.health().policy().maxEjectionPercent();
    if (pct < 100 && slot.tier < r.tierCount()) {
      int size = r.tierSize(slot.tier);
      int evicted = r.evictedIn(slot.tier);
      return evicted == 0 || (evicted + 1) * 100 <= pct * size;
    }
    return true;
  }

  // ------------------------------------------------------------------ shared state

  /** Publishes an eviction this pool decided; off the pick path, after the decision. */
  private void publish(Slot slot, Outcome cause, Health.Eviction e) {
    try {
      long deadline = settings.ticker().wallMillis() + TimeUnit.NANOSECONDS.toMillis(e.durationNanos());
      publisher.publish(SharedEviction.builder().pool(name).provider(slot.name())
          .deadlineEpochMillis(Math.max(0, deadline)).cause(cause).serverHint(e.serverHint()).build());
    } catch (RuntimeException | Error t) {
      if (t instanceof VirtualMachineError) {
        throw t;
      }
      log.warn("llmpool[{}] SharedState publisher threw {}; ignored", name, Failures.describe(t));
    }
  }

  /**
   * Applies an eviction another instance decided: the same merge rule as a local one (the later
   * deadline wins), its epoch-millisecond deadline turned into this pool's ticker time through
   * {@code ticker.wallMillis()}. Ignored when already past or for a provider this pool does not
   * have; never published again.
   */
  void applyShared(SharedEviction e) {
    Objects.requireNonNull(e, "eviction");
    if (!e.pool().equals(name)) {
      throw new IllegalArgumentException("pool must be '" + name + "' but was '" + e.pool() + "'");
    }
    Slot slot = router.slot(e.provider());
    if (slot == null) {
      log.debug("llmpool[{}] shared eviction of a provider this pool does not have; ignored", name);
      return;
    }
    long now = now();
    long leftMillis = e.deadlineEpochMillis() - settings.ticker().wallMillis();
    if (leftMillis <= 0) {
      return;
    }
    long left = leftMillis >= Long.MAX_VALUE / 1_000_000 ? Long.MAX_VALUE : leftMillis * 1_000_000;
    long deadline = settings.health().applyShared(slot.state, left, now, mayEvict(slot));
    if (deadline != Long.MIN_VALUE) {
      log.info("llmpool[{}] provider {} evicted for {} ms as another instance decided ({}{})", name, slot.name(),
          Duration.ofNanos(deadline - now).toMillis(), e.cause(), e.serverHint() ? ", server hint" : "");
    }
  }

  /** Whether the pool publishes to a shared state (it is not local-only). */
  public boolean sharesState() {
    return publisher != null;
  }

  /**
   * Publishes the rate-limit windows a response announced, those the provider's state stored
   * (superseded what it had); after {@code observeRateLimits}, off the pick path. Nothing when
   * local-only.
   */
  public void publishRateLimits(Slot slot, RateWindow requests, RateWindow tokens) {
    if (publisher == null) {
      return;
    }
    RateWindow r = requests != null && slot.state.requestWindow() == requests ? requests : null;
    RateWindow t = tokens != null && slot.state.tokenWindow() == tokens ? tokens : null;
    if (r == null && t == null) {
      return;
    }
    try {
      long now = now();
      long wall = settings.ticker().wallMillis();
      String group = slot.state.headroom().group();
      publisher.publishQuota(group != null
          ? SharedQuota.ofGroup(name, group, toShared(r, now, wall), toShared(t, now, wall)) // the group's window
          : SharedQuota.of(name, slot.name(), toShared(r, now, wall), toShared(t, now, wall)));
    } catch (RuntimeException | Error e) {
      if (e instanceof VirtualMachineError) {
        throw e;
      }
      log.warn("llmpool[{}] SharedState publisher threw {}; ignored", name, Failures.describe(e));
    }
  }

  private static SharedQuota.Window toShared(RateWindow w, long now, long wall) {
    if (w == null) {
      return null;
    }
    long reset = w.hasReset ? Math.max(0, wall + TimeUnit.NANOSECONDS.toMillis(w.resetAt - now)) : -1;
    long seen = Math.max(0, wall - TimeUnit.NANOSECONDS.toMillis(now - w.seenAt));
    return SharedQuota.Window.of(Math.max(-1, w.limit), Math.max(-1, w.remaining), reset, seen, w.dated);
  }

  private static RateWindow fromShared(SharedQuota.Window w, long now, long wall) {
    if (w == null) {
      return null;
    }
    boolean hasReset = w.resetEpochMillis() >= 0;
    long resetAt = hasReset ? now + millisToNanos(w.resetEpochMillis() - wall) : 0;
    long seenAt = now - millisToNanos(wall - w.seenEpochMillis());
    return new RateWindow(w.limit(), w.remaining(), hasReset, resetAt, seenAt, w.dated()); // read as its reader read it
  }

  /** Milliseconds to nanoseconds, saturating at a day either way (a window never spans more). */
  private static long millisToNanos(long millis) {
    long day = 86_400_000L;
    return Math.max(-day, Math.min(day, millis)) * 1_000_000L;
  }

  /**
   * Publishes that the affinity {@code key} now goes to {@code provider} (a changed binding);
   * nothing when local-only or without affinity.
   */
  public void publishAffinity(String key, String provider) {
    if (publisher == null || affinity == null) {
      return;
    }
    try {
      long idle = affinity.spec().idleExpiry().toMillis();
      long expires = settings.ticker().wallMillis() + Math.min(idle, 366L * 86_400_000L);
      publisher.publishAffinity(SharedAffinity.of(name, key, provider, Math.max(0, expires)));
    } catch (RuntimeException | Error e) {
      if (e instanceof VirtualMachineError) {
        throw e;
      }
      log.warn("llmpool[{}] SharedState publisher threw {}; ignored", name, Failures.describe(e));
    }
  }

  /** Applies a quota window another instance learned, through the merge of local ones. */
  void applySharedQuota(SharedQuota q) {
    Objects.requireNonNull(q, "quota");
    if (!q.pool().equals(name)) {
      throw new IllegalArgumentException("pool must be '" + name + "' but was '" + q.pool() + "'");
    }
    Slot slot = q.group() ? groupMember(q.provider()) : router.slot(q.provider());
    if (slot == null) {
      return;
    }
    long now = now();
    long wall = settings.ticker().wallMillis();
    slot.state.observeRateLimits(fromShared(q.requests(), now, wall), fromShared(q.tokens(), now, wall), 0, now);
  }

  /** A provider of quota group {@code group} (one that routes on the group's headroom), or null. */
  private Slot groupMember(String group) {
    Router r = router;
    for (int i = 0; i < r.size(); i++) {
      Slot s = r.slotAt(i);
      if (group.equals(s.state.headroom().group())) {
        return s;
      }
    }
    return null;
  }

  /** Counts what another instance dispatched against the provider's (or group's) header window. */
  void applySharedDispatch(SharedDispatch d) {
    Objects.requireNonNull(d, "dispatch");
    if (!d.pool().equals(name)) {
      throw new IllegalArgumentException("pool must be '" + name + "' but was '" + d.pool() + "'");
    }
    Slot slot = d.group() ? groupMember(d.scope()) : router.slot(d.scope());
    if (slot == null) {
      return;
    }
    Headroom h = slot.state.headroom();
    if (d.group() != (h.group() != null)) {
      return; // a provider's own dispatches, but it routes on a group here (or the reverse): not this window
    }
    long now = now();
    long to = now - millisToNanos(settings.ticker().wallMillis() - d.toEpochMillis());
    h.othersDispatched(d.requests(), d.tokens(), to);
  }

  /** Remembers an affinity entry another instance wrote (ignored without affinity, expired, or for an unknown provider). */
  void applySharedAffinity(SharedAffinity a) {
    Objects.requireNonNull(a, "affinity");
    if (!a.pool().equals(name)) {
      throw new IllegalArgumentException("pool must be '" + name + "' but was '" + a.pool() + "'");
    }
    if (affinity == null || router.slot(a.provider()) == null
        || a.expiresEpochMillis() <= settings.ticker().wallMillis()) {
      return;
    }
    affinity.remember(a.key(), a.provider(), null);
  }

  private final java.util.concurrent.atomic.AtomicBoolean sharedDown = new java.util.concurrent.atomic.AtomicBoolean();

  /** Whether the shared state said its store is down (and has not said it is back). */
  public boolean sharedStateDown() {
    return sharedDown.get();
  }

  private void sharedStateDown(String reason) {
    String r = reason == null ? "unknown" : reason;
    if (sharedDown.compareAndSet(false, true)) {
      log.warn("llmpool[{}] shared state down ({}): deciding from this instance's answers only until it is back",
          name, r);
      emit(() -> new PoolEvent.SharedStateDown(r));
    }
  }

  private void sharedStateUp() {
    if (sharedDown.compareAndSet(true, false)) {
      log.info("llmpool[{}] shared state back up and resynchronised", name);
      emit(PoolEvent.SharedStateUp::new);
    }
  }

  /** What the shared state calls: the pool's side of {@link SharedState.Receiver}. */
  private final class SharedReceiver implements SharedState.Receiver {
    @Override
    public void onEviction(SharedEviction eviction) {
      applyShared(eviction);
    }

    @Override
    public void onQuota(SharedQuota quota) {
      applySharedQuota(quota);
    }

    @Override
    public void onAffinity(SharedAffinity entry) {
      applySharedAffinity(entry);
    }

    @Override
    public void onDispatched(SharedDispatch dispatch) {
      applySharedDispatch(dispatch);
    }

    @Override
    public void onSharedStateDown(String reason) {
      sharedStateDown(reason);
    }

    @Override
    public void onSharedStateUp() {
      sharedStateUp();
    }

    @Override
    public String toString() {
      return "SharedState.Receiver[pool " + name + "]";
    }
  }

  /** An attempt that ended without a verdict (cancelled). */
  public void onNeutral(Slot slot, boolean probe) {
    settings.health().onNeutral(slot.state, probe);
  }

  private final java.util.concurrent.atomic.AtomicBoolean unguardedRedirectsWarned =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Logs once per pool that a client follows redirects without the redirect guard while a
   * provider sends a credential OkHttp would not strip on a cross-host redirect.
   */
  public void warnUnguardedRedirects(String provider) {
    if (unguardedRedirectsWarned.compareAndSet(false, true)) {
      log.warn("llmpool[{}] provider {} sends a credential in a header other than Authorization (or extra headers),"
          + " and this OkHttpClient follows redirects without pool.redirectGuard(): a redirect to another host would"
          + " carry them. Add addNetworkInterceptor(pool.redirectGuard()) or followRedirects(false).", name, provider);
    }
  }

  private final java.util.concurrent.atomic.AtomicBoolean credentialRemovedWarned =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Logs once per pool that a credential the pool set was removed before it reached the wire (a
   * client stack that strips it: see the exception the call fails with).
   */
  public void warnCredentialRemoved(String provider, String header) {
    if (credentialRemovedWarned.compareAndSet(false, true)) {
      log.warn("llmpool provider {} got a request without the {} header the pool set: a network interceptor of this"
          + " client removed it (the OpenAI Java SDK's own OkHttp transport does). Calls fail at once and evict"
          + " nothing; use an HTTP client that keeps the header.", provider, header);
    }
  }

  /** Whether {@link #warnUnguardedRedirects} has fired. */
  public boolean warnedUnguardedRedirects() {
    return unguardedRedirectsWarned.get();
  }

  // ------------------------------------------------------------------ events and usage

  public boolean hasPoolListener() {
    return poolListeners.length > 0;
  }

  /**
   * Builds an event only if someone listens, once, and delivers it to every listener in
   * registration order. A throwing listener is logged by class and origin
   * ({@link Failures#describe}), never by its message, and the next listener still gets the event.
   */
  public void emit(Supplier<PoolEvent> event) {
    PoolListener[] ls = poolListeners;
    if (ls.length == 0) {
      return;
    }
    PoolEvent e = event.get();
    for (int i = 0; i < ls.length; i++) {
      try {
        ls[i].onEvent(e);
      } catch (RuntimeException | Error t) {
        if (t instanceof VirtualMachineError) {
          throw t;
        }
        // no message: it may quote the event
        log.warn("llmpool[{}] PoolListener threw {}; ignored (listener {} of {})", name, Failures.describe(t), i + 1,
            ls.length);
      }
    }
  }

  public boolean hasUsageListener() {
    return usageListeners.length > 0;
  }

  /**
   * Delivers a usage record to every listener in registration order; a throwing listener is
   * logged by class and origin, never by its message (which may quote the record's requested
   * model, the caller's own text), and the next listener still gets the record.
   */
  public void deliver(TokenUsage usage) {
    UsageListener[] ls = usageListeners;
    for (int i = 0; i < ls.length; i++) {
      try {
        ls[i].onUsage(usage);
      } catch (RuntimeException | Error t) {
        if (t instanceof VirtualMachineError) {
          throw t;
        }
        // no message: it may quote the record
        log.warn("llmpool[{}] UsageListener threw {}; ignored (listener {} of {})", name, Failures.describe(t), i + 1,
            ls.length);
      }
    }
  }

  // ------------------------------------------------------------------ request hooks

  /**
   * A logical request begins: returns its hook (an id for the attempt hooks; the start value,
   * already given to every request hook), or null when no attempt or request hook is registered
   * (nothing is built, no id is taken).
   */
  public RequestHook requestStarted(String requestedModel, boolean streaming) {
    if (!hooked) {
      return null;
    }
    long id = requestIds.incrementAndGet();
    RequestListener[] ls = requestListeners;
    if (ls.length == 0) {
      return new RequestHook(this, id, null);
    }
    RequestStart start = RequestStart.builder().pool(name).id(id).requestedModel(requestedModel).streaming(streaming)
        .startNanos(now()).build();
    for (int i = 0; i < ls.length; i++) {
      try {
        ls[i].onStart(start);
      } catch (RuntimeException | Error t) {
        hookFailed(t, "RequestListener.onStart", i, ls.length);
      }
    }
    return new RequestHook(this, id, start);
  }

  /** Tells every request hook that a request ended (called once per request by its {@link RequestHook}). */
  void requestEnded(RequestEnd end) {
    RequestListener[] ls = requestListeners;
    for (int i = 0; i < ls.length; i++) {
      try {
        ls[i].onEnd(end);
      } catch (RuntimeException | Error t) {
        hookFailed(t, "RequestListener.onEnd", i, ls.length);
      }
    }
  }

  // ------------------------------------------------------------------ attempt hooks

  /** Whether an attempt hook is registered (when none is, no start or end value is built). */
  public boolean hasAttemptListeners() {
    return attemptListeners.length > 0;
  }

  /**
   * Tells every attempt hook that an attempt was dispatched; returns the start value to hand to
   * {@link #attemptEnded}, or null when no hook is registered (nothing is built).
   */
  public AttemptStart attemptStarted(Slot slot, int attempt, boolean probe, boolean latencyProbe, String requestedModel,
      boolean streaming, long requestId) {
    AttemptListener[] ls = attemptListeners;
    if (ls.length == 0) {
      return null;
    }
    AttemptStart start = AttemptStart.builder().pool(name).provider(slot.name()).tier(slot.tier).attempt(attempt)
        .probe(probe).latencyProbe(latencyProbe).requestedModel(requestedModel).streaming(streaming)
        .requestId(requestId).build();
    for (int i = 0; i < ls.length; i++) {
      try {
        ls[i].onStart(start);
      } catch (RuntimeException | Error t) {
        hookFailed(t, "AttemptListener.onStart", i, ls.length);
      }
    }
    return start;
  }

  /**
   * Tells every attempt hook that the attempt begun with {@code start} ended (nothing when
   * {@code start} is null). Times in nanoseconds from dispatch; negative: none.
   */
  public void attemptEnded(AttemptStart start, Outcome outcome, int status, long durationNanos, long headersNanos,
      long firstTokenNanos, TokenUsage.End bodyEnd) {
    attemptEnded(start, outcome, status, durationNanos, headersNanos, firstTokenNanos, bodyEnd, -1, -1);
  }

  /** As above, with the rate-limit window the response announced (-1: unknown). */
  public void attemptEnded(AttemptStart start, Outcome outcome, int status, long durationNanos, long headersNanos,
      long firstTokenNanos, TokenUsage.End bodyEnd, long remainingRequests, long remainingTokens) {
    attemptEnded(start, outcome, status, durationNanos, headersNanos, firstTokenNanos, bodyEnd, remainingRequests,
        remainingTokens, io.github.llmpool.Cost.UNPRICED);
  }

  /** As above, with what the attempt cost. */
  public void attemptEnded(AttemptStart start, Outcome outcome, int status, long durationNanos, long headersNanos,
      long firstTokenNanos, TokenUsage.End bodyEnd, long remainingRequests, long remainingTokens,
      io.github.llmpool.Cost cost) {
    if (start == null) {
      return;
    }
    AttemptListener[] ls = attemptListeners;
    AttemptEnd end = AttemptEnd.builder(start).outcome(outcome).status(status)
        .duration(Duration.ofNanos(Math.max(0, durationNanos)))
        .timeToHeaders(headersNanos >= 0 ? Duration.ofNanos(headersNanos) : null)
        .timeToFirstToken(firstTokenNanos >= 0 ? Duration.ofNanos(firstTokenNanos) : null)
        .bodyEnd(bodyEnd).remainingRequests(remainingRequests).remainingTokens(remainingTokens).cost(cost).build();
    for (int i = 0; i < ls.length; i++) {
      try {
        ls[i].onEnd(end);
      } catch (RuntimeException | Error t) {
        hookFailed(t, "AttemptListener.onEnd", i, ls.length);
      }
    }
  }

  private void hookFailed(Throwable t, String method, int i, int n) {
    if (t instanceof VirtualMachineError) {
      throw (VirtualMachineError) t;
    }
    // no message: it may quote the requested model
    log.warn("llmpool[{}] {} threw {}; ignored (listener {} of {})", name, method, Failures.describe(t),
        i + 1, n);
  }

  // ------------------------------------------------------------------ snapshot

  public PoolSnapshot snapshot() {
    Router r = router;
    long now = now();
    PoolSnapshot.Builder out = PoolSnapshot.builder(r.strategy());
    for (int t = 0; t < r.tierCount(); t++) {
      P2cPicker.Reference ref = r.tierReference(t, now);
      for (int i = 0; i < r.tierSize(t); i++) {
        out.provider(snapshot(r.slot(t, i), now, ref.forSlot(i)));
      }
    }
    if (hasBudgets) {
      budgets.snapshot().forEach(out::budget);
    }
    return out.build();
  }

  private ProviderSnapshot snapshot(Slot s, long now, double reference) {
    ProviderState st = s.state;
    ProviderSnapshot.Status status;
    boolean inForce = st.evicted() && now - st.evictedUntil() < 0;
    // present while an eviction is in force (also for a drained provider), absent otherwise
    Duration left = inForce ? Duration.ofNanos(st.evictedUntil() - now) : null;
    if (drainedAll || st.drained()) {
      status = ProviderSnapshot.Status.DRAINED;
    } else if (!st.evicted()) {
      status = ProviderSnapshot.Status.AVAILABLE;
    } else if (inForce) {
      status = ProviderSnapshot.Status.EVICTED;
    } else if (st.namedEnd()) {
      status = ProviderSnapshot.Status.AVAILABLE; // the named delay is over: back for every request
    } else {
      status = ProviderSnapshot.Status.PROBING;
    }
    TokenCounts tokens = TokenCounts.builder().prompt(count(st.promptTokens())).completion(count(st.completionTokens()))
        .total(count(st.totalTokens())).cached(count(st.cachedTokens())).reasoning(count(st.reasoningTokens()))
        .cacheWrite(count(st.spend.cacheWriteTokens())).build();
    io.github.llmpool.internal.health.Spend sp = st.spend;
    TokenCounts unpriced = TokenCounts.builder().prompt(count(sp.unpricedPrompt()))
        .completion(count(sp.unpricedCompletion())).total(count(sp.unpricedTotal())).cached(count(sp.unpricedCached()))
        .reasoning(count(sp.unpricedReasoning())).cacheWrite(count(sp.unpricedCacheWrite())).build();
    ProviderSnapshot.Builder b = ProviderSnapshot.builder(s.name()).tier(s.tier).weight(s.weight).status(status)
        .evictedFor(left)
        .ejections(st.ejections()).inFlight(st.inFlight())
        .latencyEstimate(Duration.ofNanos(Math.max(0, (long) st.latencyEstimate(now, settings.latency(), reference))))
        .requests(count(st.requests())).probes(count(st.probes())).successes(count(st.successes())).clientErrors(count(st.clientErrors()))
        .failures(count(st.failures())).tokens(tokens)
        .requestQuota(quota(st.requestWindow(), s.endpoint.requestsPerMinute, s.configuredAt, now,
            st.headroom().requestRoom(now)))
        .tokenQuota(quota(st.tokenWindow(), s.endpoint.tokensPerMinute, s.configuredAt, now,
            st.headroom().tokenRoom(now)))
        .ignoredQuotaValues(count(st.ignoredRateLimitValues()))
        .unpricedTokens(unpriced).unpricedAttempts(count(sp.unpricedAttempts()));
    sp.byCurrency().forEach(b::spend);
    return b.build();
  }

  /**
   * A rate-limit dimension for a snapshot: what the headers last said when they said anything,
   * else the configured per-minute limit, else absent.
   */
  private static Quota quota(RateWindow w, long configured, long configuredAt, long now, double room) {
    if (w != null) {
      return Quota.builder(Quota.Source.HEADER).limit(w.limit).remaining(w.remaining)
          .resetIn(w.hasReset ? Duration.ofNanos(Math.max(0, w.resetAt - now)) : null)
          .age(Duration.ofNanos(Math.max(0, now - w.seenAt))).build();
    }
    if (configured > 0) {
      return Quota.builder(Quota.Source.CONFIGURATION).limit(configured)
          .remaining(room < 0 ? 0 : (long) Math.min(configured, Math.floor(room)))
          .age(Duration.ofNanos(Math.max(0, now - configuredAt))).build();
    }
    return null;
  }

  /**
   * A cumulative count for a snapshot: a sum that overflowed (an upstream reporting absurd token
   * counts, each at most {@link Long#MAX_VALUE}) saturates instead of reading negative.
   */
  private static long count(long sum) {
    return sum < 0 ? Long.MAX_VALUE : sum;
  }
}
