package io.github.llmpool.internal.route;

import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.Strategy;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.route.Slot;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One immutable routing snapshot: the tiers in priority order, each with its picker. The first
 * tier that has an eligible provider serves; a tier with none spills to the next at once, and
 * traffic returns as soon as a provider of a higher tier is eligible again. Published through a
 * volatile reference by the pool and replaced whole on reconfiguration. Thread-safe.
 */
public final class Router {
  private final Strategy strategy;
  private final boolean quotaRouting;
  /** The strategy as a small int: every tier's picker is of its class (see pickIn). */
  private final int kind;
  private final TierPicker[] tiers;
  private final Slot[] all;
  private final Map<String, Slot> byName;

  public Router(Strategy strategy, List<List<Slot>> tiers, RandomSource random, LatencyModel model) {
    this(strategy, tiers, random, model, false);
  }

  /**
   * As above; {@code quotaRouting}: a provider without quota headroom for a request is not eligible
   * for it (a tier without one spills to the next), and P2C's cost rises as headroom shrinks.
   */
  public Router(Strategy strategy, List<List<Slot>> tiers, RandomSource random, LatencyModel model,
      boolean quotaRouting) {
    this(strategy, tiers, random, model, quotaRouting, null);
  }

  /** As above; {@code probes}: where P2C tiers hand a provider due a probe (null: none; see {@link ProbeSink}). */
  public Router(Strategy strategy, List<List<Slot>> tiers, RandomSource random, LatencyModel model,
      boolean quotaRouting, ProbeSink probes) {
    this.strategy = strategy;
    this.quotaRouting = quotaRouting;
    this.kind = switch (strategy) {
      case POWER_OF_TWO_CHOICES -> P2C;
      case WEIGHTED -> WEIGHTED;
      case ROUND_ROBIN -> ROUND_ROBIN;
    };
    this.tiers = new TierPicker[tiers.size()];
    List<Slot> flat = new ArrayList<>();
    for (int t = 0; t < tiers.size(); t++) {
      Slot[] slots = tiers.get(t).toArray(new Slot[0]);
      this.tiers[t] = switch (strategy) {
        case WEIGHTED -> new WeightedPicker(slots, random, quotaRouting);
        case ROUND_ROBIN -> new RoundRobinPicker(slots, random, quotaRouting);
        case POWER_OF_TWO_CHOICES -> new P2cPicker(slots, random, model, quotaRouting, probes);
      };
      Collections.addAll(flat, slots);
    }
    this.all = flat.toArray(new Slot[0]);
    Map<String, Slot> names = new HashMap<>();
    for (Slot s : all) {
      names.put(s.name(), s);
    }
    this.byName = names;
  }

  public Strategy strategy() {
    return strategy;
  }

  /** Whether a provider without quota headroom for a request is passed over. */
  public boolean quotaRouting() {
    return quotaRouting;
  }

  /** The chosen provider of the first tier with an eligible one, or null when none is eligible. */
  public Slot pick(long now, Exclusion exclusion) {
    for (TierPicker tier : tiers) {
      if (tier.knownOut(now)) {
        continue; // every provider of the tier is out: O(1), not a pass over it
      }
      int i = pickIn(tier, now, exclusion);
      if (i >= 0) {
        return tier.slot(i);
      }
      tier.noteNothingEligible(now);
    }
    return null;
  }

  /**
   * {@code tier.pick}, called on its concrete (final) class: one call site per strategy, each of
   * a single type, so the JIT binds and inlines it even when one JVM runs pools of several
   * strategies (a shared virtual call site would see them all and stay a virtual call).
   */
  private int pickIn(TierPicker tier, long now, Exclusion exclusion) {
    return switch (kind) {
      case P2C -> ((P2cPicker) tier).pick(now, exclusion);
      case WEIGHTED -> ((WeightedPicker) tier).pick(now, exclusion);
      default -> ((RoundRobinPicker) tier).pick(now, exclusion);
    };
  }

  private static final int P2C = 0;
  private static final int WEIGHTED = 1;
  private static final int ROUND_ROBIN = 2;

  /**
   * For the fail-open policy: the non-excluded, non-drained provider (weight > 0) whose eviction
   * ends first, higher tiers first on a tie; null if every provider is excluded or drained. Never
   * a provider over a budget, nor, with quota routing, one whose headroom cannot take the request
   * (fail-open is for evictions, whose end is a guess; a provider that says it has no room would
   * answer 429): the request is then refused with the earliest return.
   */
  public Slot pickLeastEvicted(long now, Exclusion exclusion) {
    Slot best = null;
    long bestLeft = Long.MAX_VALUE;
    for (Slot s : all) {
      if (s.weight == 0 || s.state.drained() || (exclusion != null && exclusion.excludes(s))
          || !withinBudgets(s, exclusion)) {
        continue; // fail-open never overrides a budget
      }
      if (quotaRouting && !s.state.headroom().admits(now, exclusion == null ? 0 : exclusion.tokens())) {
        continue; // nor the provider's own word that it has no room: that would be a sure 429
      }
      long left = s.state.evicted() ? Math.max(0, s.state.evictedUntil() - now) : 0;
      if (best == null || left < bestLeft) {
        best = s;
        bestLeft = left;
      }
    }
    return best;
  }

  /** Whether the request fits every budget of {@code s} (true without budgets). */
  public static boolean withinBudgets(Slot s, Exclusion exclusion) {
    return s.budgets == null || io.github.llmpool.internal.health.BudgetGate.admitsAll(s.budgets,
        exclusion == null ? 0 : exclusion.promptTokens(), exclusion == null ? -1 : exclusion.maxTokens());
  }

  /** Number of slots over all tiers (no copy, unlike {@link #slots()}). */
  public int size() {
    return all.length;
  }

  /** Slot {@code i} of {@link #slots()} (no copy). */
  public Slot slotAt(int i) {
    return all[i];
  }

  /** Every slot, tier by tier. */
  public Slot[] slots() {
    return all.clone();
  }

  /** The slot of the provider named {@code name}, or null. Takes no lock, allocates nothing. */
  public Slot slot(String name) {
    return byName.get(name);
  }

  /**
   * Whether a tier before {@code tier} has an eligible provider now (weight above 0, available,
   * not excluded): then that tier serves, not {@code tier}.
   */
  public boolean eligibleBefore(int tier, long now, Exclusion exclusion) {
    for (int t = 0; t < tier && t < tiers.length; t++) {
      TierPicker p = tiers[t];
      if (p.knownOut(now)) {
        continue;
      }
      for (int i = 0; i < p.size(); i++) {
        if (p.eligible(i, now, exclusion)) {
          return true;
        }
      }
    }
    return false;
  }

  public int tierCount() {
    return tiers.length;
  }

  /** Providers of {@code tier} evicted now (deadline in force or probing), and the tier's size. */
  public int evictedIn(int tier) {
    TierPicker p = tiers[tier];
    int n = 0;
    for (int i = 0; i < p.size(); i++) {
      if (p.slot(i).state.evicted()) {
        n++;
      }
    }
    return n;
  }

  /** The slot at {@code index} of {@code tier}. */
  public Slot slot(int tier, int index) {
    return tiers[tier].slot(index);
  }

  /** The tier's estimates now (see {@link P2cPicker#reference(Slot[], long)}). */
  public P2cPicker.Reference tierReference(int tier, long now) {
    return P2cPicker.reference(tiers[tier].slots, now);
  }

  public int tierSize(int tier) {
    return tiers[tier].size();
  }
}
