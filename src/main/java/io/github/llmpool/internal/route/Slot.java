package io.github.llmpool.internal.route;

import io.github.llmpool.internal.health.ProviderState;

/**
 * One provider's place in a routing snapshot: its endpoint, its live state (shared across
 * snapshots), its tier and weight. Immutable; the state it points to is thread-safe.
 */
public final class Slot {
  public final Endpoint endpoint;
  public final ProviderState state;
  public final int tier;
  public final int weight;
  /** Ticker time this slot's configuration took effect (the age of its configured limits). */
  public final long configuredAt;
  /** The budgets whose scope holds this provider, or null when none does (the pick then checks nothing). */
  public final io.github.llmpool.internal.health.BudgetGate[] budgets;

  public Slot(Endpoint endpoint, ProviderState state, int tier, int weight) {
    this(endpoint, state, tier, weight, 0);
  }

  public Slot(Endpoint endpoint, ProviderState state, int tier, int weight, long configuredAt) {
    this(endpoint, state, tier, weight, configuredAt, null);
  }

  /** As above, under {@code budgets} (null or empty: none). */
  public Slot(Endpoint endpoint, ProviderState state, int tier, int weight, long configuredAt,
      io.github.llmpool.internal.health.BudgetGate[] budgets) {
    this.budgets = budgets == null || budgets.length == 0 ? null : budgets.clone();
    this.configuredAt = configuredAt;
    this.endpoint = endpoint;
    this.state = state;
    this.tier = tier;
    this.weight = weight;
  }

  public String name() {
    return endpoint.name;
  }

  @Override
  public String toString() {
    return "Slot{" + endpoint.name + ", tier=" + tier + ", weight=" + weight + "}";
  }
}
