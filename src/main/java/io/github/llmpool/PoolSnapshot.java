package io.github.llmpool;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An immutable view of every provider of a pool at one instant, in tier order: what
 * {@link ProviderPool#snapshot()} returns.
 *
 * <p>Immutable and thread-safe. A final class rather than a record, made by
 * {@link #builder(Strategy)}, so that a field can be added later without breaking code that builds
 * or reads snapshots.
 */
public final class PoolSnapshot {
  private final Strategy strategy;
  private final List<ProviderSnapshot> providers;
  private final List<BudgetSnapshot> budgets;

  private PoolSnapshot(Strategy strategy, List<ProviderSnapshot> providers, List<BudgetSnapshot> budgets) {
    this.strategy = strategy;
    this.providers = providers;
    this.budgets = budgets;
  }

  /**
   * A builder for a snapshot of a pool that selects with {@code strategy}, with no provider yet.
   * For the pool and for tests.
   *
   * @throws NullPointerException if {@code strategy} is null
   */
  public static Builder builder(Strategy strategy) {
    return new Builder(Objects.requireNonNull(strategy, "strategy"));
  }

  /** The selection strategy in force. */
  public Strategy strategy() {
    return strategy;
  }

  /** Every provider, tier by tier; an unmodifiable list. */
  public List<ProviderSnapshot> providers() {
    return providers;
  }

  /**
   * The provider with this name; empty when the pool has none by that name.
   *
   * @throws NullPointerException if {@code name} is null
   */
  public Optional<ProviderSnapshot> provider(String name) {
    Objects.requireNonNull(name, "name");
    for (ProviderSnapshot p : providers) {
      if (p.name().equals(name)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** Every budget of the pool, in the order they were added; an unmodifiable list (empty: none). */
  public List<BudgetSnapshot> budgets() {
    return budgets;
  }

  /**
   * The budget with this name; empty when the pool has none by that name.
   *
   * @throws NullPointerException if {@code name} is null
   */
  public Optional<BudgetSnapshot> budget(String name) {
    Objects.requireNonNull(name, "name");
    for (BudgetSnapshot b : budgets) {
      if (b.name().equals(name)) {
        return Optional.of(b);
      }
    }
    return Optional.empty();
  }

  /** Sum of in-flight attempts over all providers. */
  public long inFlight() {
    long sum = 0;
    for (ProviderSnapshot p : providers) {
      sum += p.inFlight();
    }
    return sum;
  }

  /** Equal when the strategy, the providers and the budgets, in order, are equal. */
  @Override
  public boolean equals(Object o) {
    return o instanceof PoolSnapshot s && strategy == s.strategy && providers.equals(s.providers)
        && budgets.equals(s.budgets);
  }

  @Override
  public int hashCode() {
    return budgets.isEmpty() ? Objects.hash(strategy, providers) : Objects.hash(strategy, providers, budgets);
  }

  /** {@code PoolSnapshot{strategy=..., providers=[...]}} (and {@code budgets=[...]} when any); holds no credential. */
  @Override
  public String toString() {
    return "PoolSnapshot{strategy=" + strategy + ", providers=" + providers
        + (budgets.isEmpty() ? "" : ", budgets=" + budgets) + "}";
  }

  /**
   * Builds a {@link PoolSnapshot}. Mutable, not thread-safe; reusable ({@link #build()} copies).
   */
  public static final class Builder {
    private final Strategy strategy;
    private final List<ProviderSnapshot> providers = new ArrayList<>();
    private final List<BudgetSnapshot> budgets = new ArrayList<>();

    private Builder(Strategy strategy) {
      this.strategy = strategy;
    }

    /**
     * Adds a provider after those added so far (the pool adds them tier by tier).
     *
     * @throws NullPointerException if {@code provider} is null
     */
    public Builder provider(ProviderSnapshot provider) {
      providers.add(Objects.requireNonNull(provider, "provider"));
      return this;
    }

    /**
     * Adds every provider of {@code list}, in order, after those added so far.
     *
     * @throws NullPointerException if {@code list} or one of its elements is null
     */
    public Builder providers(List<ProviderSnapshot> list) {
      Objects.requireNonNull(list, "providers");
      for (ProviderSnapshot p : list) {
        provider(p);
      }
      return this;
    }

    /**
     * Adds a budget after those added so far.
     *
     * @throws NullPointerException if {@code budget} is null
     */
    public Builder budget(BudgetSnapshot budget) {
      budgets.add(Objects.requireNonNull(budget, "budget"));
      return this;
    }

    /**
     * The immutable snapshot.
     *
     * @throws IllegalArgumentException if two providers (or two budgets) have the same name
     */
    public PoolSnapshot build() {
      Set<String> names = new HashSet<>();
      for (ProviderSnapshot p : providers) {
        if (!names.add(p.name())) {
          throw new IllegalArgumentException("provider names must be unique but '" + p.name() + "' appears twice");
        }
      }
      Set<String> budgetNames = new HashSet<>();
      for (BudgetSnapshot b : budgets) {
        if (!budgetNames.add(b.name())) {
          throw new IllegalArgumentException("budget names must be unique but '" + b.name() + "' appears twice");
        }
      }
      return new PoolSnapshot(strategy, List.copyOf(providers), List.copyOf(budgets));
    }
  }
}
