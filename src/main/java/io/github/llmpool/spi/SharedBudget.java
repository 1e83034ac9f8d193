package io.github.llmpool.spi;

import io.github.llmpool.Budget;
import java.util.Objects;

/**
 * One {@link Budget} of one pool as the instances of the pool share it ({@link SharedBudgets}):
 * the pool's name, the budget (its name, unit, calendar window and zone) and its limit in exact
 * integer units: for a money budget units of 10^-9 of its currency ({@code 20 USD} is
 * {@code 20_000_000_000}), for a token budget tokens. Budgets are shared by pool and budget name.
 * Immutable and thread-safe.
 */
public final class SharedBudget {
  private final String pool;
  private final Budget budget;
  private final long limitUnits;

  private SharedBudget(String pool, Budget budget, long limitUnits) {
    this.pool = pool;
    this.budget = budget;
    this.limitUnits = limitUnits;
  }

  /**
   * A shared budget.
   *
   * @param pool the pool's name
   * @param budget the budget
   * @param limitUnits its limit in units ({@code >= 1})
   * @return the value
   * @throws NullPointerException if {@code pool} or {@code budget} is null
   * @throws IllegalArgumentException if {@code limitUnits} is below 1 ({@code limitUnits must be >= 1 but was 0})
   */
  public static SharedBudget of(String pool, Budget budget, long limitUnits) {
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(budget, "budget");
    if (limitUnits < 1) {
      throw new IllegalArgumentException("limitUnits must be >= 1 but was " + limitUnits);
    }
    return new SharedBudget(pool, budget, limitUnits);
  }

  /** The pool's name. */
  public String pool() {
    return pool;
  }

  /** The budget: name, unit, window, zone, scope. */
  public Budget budget() {
    return budget;
  }

  /** The budget's name: its identity within the pool. */
  public String name() {
    return budget.name();
  }

  /** The limit in units: 10^-9 of the currency (money) or tokens. */
  public long limitUnits() {
    return limitUnits;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SharedBudget b && pool.equals(b.pool) && budget.equals(b.budget) && limitUnits == b.limitUnits;
  }

  @Override
  public int hashCode() {
    return Objects.hash(pool, budget, limitUnits);
  }

  @Override
  public String toString() {
    return "SharedBudget{pool=" + pool + ", budget=" + budget.name() + ", limitUnits=" + limitUnits + "}";
  }
}
