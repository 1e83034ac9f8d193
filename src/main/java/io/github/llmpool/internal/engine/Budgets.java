package io.github.llmpool.internal.engine;

import io.github.llmpool.Attempt;
import io.github.llmpool.Budget;
import io.github.llmpool.BudgetExhaustedException;
import io.github.llmpool.BudgetSnapshot;
import io.github.llmpool.Cost;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.internal.health.BudgetGate;
import io.github.llmpool.internal.health.BudgetState;
import io.github.llmpool.internal.route.Endpoint;
import io.github.llmpool.internal.route.Exclusion;
import io.github.llmpool.internal.route.Router;
import io.github.llmpool.internal.route.Slot;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool's budgets: their live states (fixed at build time, kept across reconfigurations), the
 * gates each provider's slot carries, window resets, reservation and settlement per attempt, and
 * the events, log lines and exceptions they cause. Thread-safe.
 */
final class Budgets {
  private static final Logger log = LoggerFactory.getLogger("io.github.llmpool");

  /** What a refusal says a shared budget's next lease takes: about a round trip to the store. */
  static final Duration LEASE_WAIT = Duration.ofMillis(20);
  /** The longest a request waits for a lease already asked for ({@link BudgetState#LEASE_WAIT_BOUND_NANOS}). */
  static final Duration LEASE_WAIT_BOUND = Duration.ofNanos(BudgetState.LEASE_WAIT_BOUND_NANOS);

  private final PoolCore core;
  private final BudgetState[] states;
  /** The pool-wide ones (refuse every request at once when spent). */
  private final BudgetState[] poolWide;
  /** The earliest window end of any budget (epoch millis): a request start reads it, and resets when due. */
  private volatile long nextEnd;
  /** Whether the budgets are the fleet's (a shared store counts them). */
  private final boolean shared;

  Budgets(PoolCore core, List<Budget> budgets, long wallMillis) {
    this.core = core;
    this.states = new BudgetState[budgets.size()];
    List<BudgetState> pool = new ArrayList<>();
    for (int i = 0; i < states.length; i++) {
      states[i] = new BudgetState(budgets.get(i), wallMillis);
      if (budgets.get(i).scope() == Budget.Scope.POOL) {
        pool.add(states[i]);
      }
    }
    this.poolWide = pool.toArray(new BudgetState[0]);
    this.nextEnd = earliestEnd();
    io.github.llmpool.spi.SharedBudgets shared = states.length == 0 ? null
        : core.settings().sharedState().budgets();
    this.shared = shared != null;
    if (shared != null) {
      BudgetState.Listener listener = new BudgetState.Listener() {
        @Override
        public void spent(BudgetState s) {
          Budgets.this.spent(s);
        }

        @Override
        public void restored(BudgetState s) {
          Budgets.this.restored(s, "units came back to the fleet");
        }
      };
      for (BudgetState s : states) {
        s.share(shared, core.settings().name(), listener, core.settings().ticker());
      }
    }
  }

  boolean isEmpty() {
    return states.length == 0;
  }

  /** Whether the budgets are counted for the fleet by a shared store (leases may be waited for). */
  boolean shared() {
    return shared;
  }

  private long earliestEnd() {
    long e = Long.MAX_VALUE;
    for (BudgetState s : states) {
      e = Math.min(e, s.endMillis());
    }
    return e;
  }

  /** The gates of the budgets whose scope holds {@code e} (null: none), priced at its price. */
  BudgetGate[] gatesFor(Endpoint e) {
    List<BudgetGate> out = null;
    for (BudgetState s : states) {
      if (inScope(s.budget(), e)) {
        if (out == null) {
          out = new ArrayList<>(2);
        }
        out.add(new BudgetGate(s, e.price));
      }
    }
    return out == null ? null : out.toArray(new BudgetGate[0]);
  }

  static boolean inScope(Budget b, Endpoint e) {
    return switch (b.scope()) {
      case POOL -> true;
      case PROVIDER -> b.scopeName().orElseThrow().equals(e.name);
      case QUOTA_GROUP -> b.scopeName().orElseThrow().equals(e.quotaGroup);
    };
  }

  // ------------------------------------------------------------------ request start

  /**
   * At the start of a request: resets every window that has ended (one volatile read when none
   * has), then refuses the request at once if a pool-wide budget is spent.
   */
  void atRequestStart(long now) throws BudgetExhaustedException {
    long wall = core.settings().ticker().wallMillis();
    if (wall >= nextEnd) {
      roll(wall);
    }
    for (BudgetState s : poolWide) {
      if (s.exhaustedNow()) {
        throw refusal(s, wall, "budget '" + s.budget().name() + "' is spent: ", List.of());
      }
    }
  }

  /** Resets the windows that ended by {@code wall}, with their restored events. */
  void roll(long wall) {
    for (BudgetState s : states) {
      if (s.due(wall) && s.roll(wall)) {
        restored(s, "a new " + s.budget().window() + " window began");
      }
    }
    nextEnd = earliestEnd();
  }

  /** A spent budget has room again: the log line and, per provider of its scope, the event. */
  private void restored(BudgetState s, String why) {
    Budget b = s.budget();
    log.info("llmpool[{}] budget {} restored: {}", core.name(), b.name(), why);
    for (Slot slot : scope(s)) {
      core.emit(() -> new PoolEvent.BudgetRestored(slot.name(), slot.tier, b.name()));
    }
  }

  private List<Slot> scope(BudgetState s) {
    List<Slot> out = new ArrayList<>();
    Router router = core.router();
    if (router == null) {
      return out; // still building
    }
    for (Slot slot : router.slots()) {
      if (slot.budgets != null) {
        for (BudgetGate g : slot.budgets) {
          if (g.state == s) {
            out.add(slot);
            break;
          }
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ reservations

  /**
   * Reserves a request's estimate from every budget of {@code slot}, all or none: the amounts
   * held (one per gate), or null when a budget refused (what was taken from the others is given
   * back). A shared budget short only until a lease already asked for (the pick saw room, another
   * request took it first) is waited for, within {@link #LEASE_WAIT_BOUND}.
   */
  long[] reserve(Slot slot, long prompt, long maxTokens) {
    BudgetGate[] gates = slot.budgets;
    long[] held = new long[gates.length];
    for (int i = 0; i < gates.length; i++) {
      long est = gates[i].estimate(prompt, maxTokens);
      if (gates[i].state.reserve(est) || (shared && reserveAfterLease(gates[i].state, est))) {
        held[i] = est;
        continue;
      }
      for (int j = 0; j < i; j++) {
        gates[j].state.release(held[j]);
      }
      return null;
    }
    return held;
  }

  /** Waits for a lease to hold {@code est} and reserves it (bounded: see {@link BudgetState#awaitLease}). */
  private boolean reserveAfterLease(BudgetState s, long est) {
    BudgetState.LeaseWait w = new BudgetState.LeaseWait(core.settings().ticker().read());
    for (int tries = 0; tries <= BudgetState.LEASE_WAIT_PARKS && s.awaitLease(est, w); tries++) {
      if (s.reserve(est)) {
        return true;
      }
    }
    return false;
  }

  /** Gives back a reservation whose attempt was never sent. */
  static void release(Slot slot, long[] held) {
    if (held == null || slot.budgets == null) {
      return;
    }
    for (int i = 0; i < held.length; i++) {
      slot.budgets[i].state.release(held[i]);
    }
  }

  /**
   * Settles an attempt's reservations: a money budget to its cost (rounded up to 10^-9), a token
   * budget to its reported tokens; {@code keepEstimate} (a 2xx answer without a usage report: the
   * provider billed something nobody knows) keeps the reservation as the spend.
   */
  void settle(Slot slot, long[] held, Cost cost, long reportedTokens, boolean keepEstimate) {
    BudgetGate[] gates = slot.budgets;
    if (held == null || gates == null) {
      return;
    }
    for (int i = 0; i < held.length; i++) {
      BudgetGate g = gates[i];
      long actual;
      boolean unpriced = false;
      if (keepEstimate) {
        actual = held[i];
        unpriced = g.unpriced();
      } else if (g.tokens()) {
        actual = Math.max(0, reportedTokens);
      } else if (g.unpriced() || !cost.priced()) {
        actual = 0;
        unpriced = true;
      } else {
        actual = BudgetState.moneyUnits(cost.amount().orElseThrow());
      }
      if (g.state.settle(held[i], actual, unpriced)) {
        BudgetState st = g.state;
        st.tellSpent(() -> spent(st)); // in order with the shared store's spent / restored events
      }
    }
  }

  /** A budget just became spent: the log line and, per provider of its scope, the event. */
  private void spent(BudgetState s) {
    long wall = core.settings().ticker().wallMillis();
    Budget b = s.budget();
    BudgetState.View v = s.view();
    Duration resetIn = Duration.ofMillis(Math.max(0, v.endMillis() - wall));
    log.warn("llmpool[{}] budget {} spent: {} of {} in the {} window from {}; its providers take no request for {}",
        core.name(), b.name(), s.amount(v.spent()).toPlainString(), b.describeLimit(), b.window(),
        Instant.ofEpochMilli(v.startMillis()), resetIn);
    for (Slot slot : scope(s)) {
      core.emit(() -> new PoolEvent.BudgetExhausted(slot.name(), slot.tier, b.name(), resetIn));
    }
  }

  // ------------------------------------------------------------------ refusals

  /** The first budget of {@code slot} that does not admit the request, or null. */
  static BudgetGate refusing(Slot slot, Exclusion exclusion) {
    if (slot.budgets == null) {
      return null;
    }
    long prompt = exclusion == null ? 0 : exclusion.promptTokens();
    long max = exclusion == null ? -1 : exclusion.maxTokens();
    for (BudgetGate g : slot.budgets) {
      if (!g.admits(prompt, max)) {
        if (g.state.shared()) {
          g.state.wanted(g.estimate(prompt, max)); // the next lease holds a request like this one
        }
        return g;
      }
    }
    return null;
  }

  /** Milliseconds of wall time until {@code s}'s window resets. */
  long resetInMillis(BudgetState s) {
    return Math.max(0, s.endMillis() - core.settings().ticker().wallMillis());
  }

  /** "over budget 'x' (9.5 of 10 USD spent, 0.6 reserved, this request needs 0.7; resets in 3600000 ms)". */
  String describe(BudgetGate g, Exclusion exclusion) {
    BudgetState s = g.state;
    BudgetState.View v = s.view();
    long need = g.estimate(exclusion == null ? 0 : exclusion.promptTokens(), exclusion == null ? -1 : exclusion.maxTokens());
    Budget b = s.budget();
    return "over budget '" + b.name() + "' (" + s.amount(v.spent()).toPlainString() + " of " + b.describeLimit()
        + " spent, " + s.amount(v.reserved()).toPlainString() + " reserved, this request needs "
        + s.amount(need).toPlainString() + (v.exhausted() ? "; spent for this window" : !s.awaitingLease() ? ""
            : s.shortfall(need) == BudgetState.LEASE ? "; shared: this instance's lease is used up, the next is on its way"
            : "; shared: the fleet's window is leased out for now, no instance holds units spare (they come back as"
                + " attempts in flight settle or leases expire)") + "; resets in " + resetInMillis(s) + " ms)";
  }

  /** The exception naming budget {@code s}: its limit, what it spent, when it resets. */
  BudgetExhaustedException refusal(BudgetState s, long wall, String head, List<Attempt> attempts) {
    Budget b = s.budget();
    BudgetState.View v = s.view();
    Duration resetIn = Duration.ofMillis(Math.max(0, v.endMillis() - wall));
    BigDecimal spent = s.amount(v.spent());
    String msg = head + spent.toPlainString() + " of " + b.describeLimit() + " spent ("
        + s.amount(v.reserved()).toPlainString() + " reserved by requests in flight) in the " + b.window()
        + " window from " + Instant.ofEpochMilli(v.startMillis()) + " (" + b.zone() + "), resets at "
        + Instant.ofEpochMilli(v.endMillis()) + " (in " + resetIn + "); request refused by pool '" + core.name() + "'";
    return new BudgetExhaustedException(msg, b, spent, resetIn, attempts);
  }

  /**
   * When no provider could take a request and budgets alone kept out every one that could
   * otherwise have (weight above 0, not drained, not evicted, not already tried): the exception
   * naming the budget that resets first, with every provider's reason (a plain refusal returning in
   * {@link #LEASE_WAIT} when a shared budget not spent is short only until its next lease); else null.
   */
  io.github.llmpool.NoProviderAvailableException onlyBudgets(Router r, long now, Exclusion exclusion, String reasons,
      List<Attempt> attempts) {
    BudgetState first = null;
    boolean any = false;
    boolean leasing = false;
    for (Slot s : r.slots()) {
      if (s.weight == 0 || s.state.drained()) {
        continue;
      }
      BudgetGate g = refusing(s, exclusion);
      if (g == null) {
        if (s.state.evicted() || (exclusion != null && exclusion.excludes(s))) {
          continue; // evicted or already tried: not what keeps this request out
        }
        return null; // something other than a budget keeps it out (or nothing: then it was not refused)
      }
      any = true;
      leasing |= g.state.awaitingLease();
      if (first == null || g.state.endMillis() < first.endMillis()) {
        first = g.state;
      }
    }
    if (!any) {
      return null;
    }
    String each = reasons.substring(reasons.indexOf("):") + 2).trim();
    if (leasing) {
      // A shared budget not spent: short until this instance's next lease lands (it waited up to
      // LEASE_WAIT_BOUND for it), or while the fleet's units are all leased or reserved.
      return new io.github.llmpool.NoProviderAvailableException("no provider available within budgets for now: " + each
          + (each.contains("the next is on its way") ? "; the fleet's next lease is on its way (waited up to "
              + LEASE_WAIT_BOUND.toMillis() + " ms)" : "; the fleet's window is leased out for now"), LEASE_WAIT, attempts);
    }
    long wall = core.settings().ticker().wallMillis();
    return refusal(first, wall, "no provider available within budgets: " + each + "; the first to reset is budget '"
        + first.budget().name() + "': ", attempts);
  }

  // ------------------------------------------------------------------ snapshot

  List<BudgetSnapshot> snapshot() {
    long wall = core.settings().ticker().wallMillis();
    if (wall >= nextEnd) {
      roll(wall);
    }
    List<BudgetSnapshot> out = new ArrayList<>(states.length);
    for (BudgetState s : states) {
      BudgetState.View v = s.view();
      out.add(BudgetSnapshot.builder(s.budget()).spent(s.amount(v.spent())).reserved(s.amount(v.reserved()))
          .window(Instant.ofEpochMilli(v.startMillis()), Instant.ofEpochMilli(v.endMillis()))
          .exhausted(v.exhausted()).attempts(v.attempts(), v.unpricedAttempts())
          .shared(v.shared(), s.amount(v.fleetSpent())).build());
    }
    return out;
  }
}
