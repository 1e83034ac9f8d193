package io.github.llmpool;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Objects;

/**
 * One {@link Budget} at one instant, as {@link PoolSnapshot#budgets()} shows it: what its window
 * has spent (settled attempts) and what attempts in flight have reserved, in its unit (an amount
 * of its currency, or tokens), the window, and whether it is spent for the rest of the window.
 *
 * <p>Immutable and thread-safe; made by {@link #builder(Budget)}.
 */
public final class BudgetSnapshot {
  private final Budget budget;
  private final BigDecimal spent;
  private final BigDecimal reserved;
  private final Instant windowStart;
  private final Instant resetAt;
  private final boolean exhausted;
  private final long attempts;
  private final long unpricedAttempts;
  private final boolean shared;
  private final BigDecimal fleetSpent;

  private BudgetSnapshot(Builder b) {
    this.budget = b.budget;
    this.spent = b.spent;
    this.reserved = b.reserved;
    this.windowStart = b.windowStart;
    this.resetAt = b.resetAt;
    this.exhausted = b.exhausted;
    this.attempts = b.attempts;
    this.unpricedAttempts = b.unpricedAttempts;
    this.shared = b.shared;
    this.fleetSpent = b.fleetSpent == null ? b.spent : b.fleetSpent;
  }

  /**
   * A builder for a snapshot of {@code budget}: nothing spent or reserved, window from the epoch.
   *
   * @throws NullPointerException if {@code budget} is null
   */
  public static Builder builder(Budget budget) {
    return new Builder(Objects.requireNonNull(budget, "budget"));
  }

  /** The budget (its name, limit, window, scope). */
  public Budget budget() {
    return budget;
  }

  /** The budget's name. */
  public String name() {
    return budget.name();
  }

  /** Its scope. */
  public Budget.Scope scope() {
    return budget.scope();
  }

  /** Its limit, in its unit. */
  public BigDecimal limit() {
    return budget.limit();
  }

  /** What this window's settled attempts cost (money budgets: rounded up to 10^-9 per attempt). */
  public BigDecimal spent() {
    return spent;
  }

  /** What attempts in flight have reserved (this instance's). */
  public BigDecimal reserved() {
    return reserved;
  }

  /**
   * What is left: limit minus {@link #fleetSpent()} minus {@link #reserved()} (negative after an
   * overshoot). For a local budget that is limit minus spent minus reserved; for a shared one the
   * fleet's settled spend as last reported, less what this instance has in flight.
   */
  public BigDecimal remaining() {
    return budget.limit().subtract(fleetSpent).subtract(reserved);
  }

  /**
   * Whether the budget is shared by the instances of the pool (through the shared state's
   * {@code SharedBudgets}, e.g. {@code llmpool-redis}): then {@link #spent()} and
   * {@link #reserved()} are this instance's, {@link #fleetSpent()} the fleet's.
   */
  public boolean shared() {
    return shared;
  }

  /**
   * What the settled attempts of every instance spent in this window: for a shared budget as the
   * store last reported it (at most a lease round old, and at least {@link #spent()}); for a local
   * one, {@link #spent()}.
   */
  public BigDecimal fleetSpent() {
    return fleetSpent;
  }

  /** The start of the window in force. */
  public Instant windowStart() {
    return windowStart;
  }

  /** When the window in force ends and the next starts. */
  public Instant resetAt() {
    return resetAt;
  }

  /** Whether the budget is spent for the rest of its window (its providers take no request). */
  public boolean exhausted() {
    return exhausted;
  }

  /** Attempts settled in this window. */
  public long attempts() {
    return attempts;
  }

  /** Attempts settled in this window on providers without a price (a money budget counts them as 0). */
  public long unpricedAttempts() {
    return unpricedAttempts;
  }

  /** Equal when every value is equal (amounts by value). */
  @Override
  public boolean equals(Object o) {
    return o instanceof BudgetSnapshot s && budget.equals(s.budget) && spent.compareTo(s.spent) == 0
        && reserved.compareTo(s.reserved) == 0 && windowStart.equals(s.windowStart) && resetAt.equals(s.resetAt)
        && exhausted == s.exhausted && attempts == s.attempts && unpricedAttempts == s.unpricedAttempts
        && shared == s.shared && fleetSpent.compareTo(s.fleetSpent) == 0;
  }

  @Override
  public int hashCode() {
    return Objects.hash(budget, spent.stripTrailingZeros(), reserved.stripTrailingZeros(), windowStart, resetAt,
        exhausted, attempts, unpricedAttempts, shared, fleetSpent.stripTrailingZeros());
  }

  @Override
  public String toString() {
    return "BudgetSnapshot{" + budget.name() + ", spent=" + budget.describe(spent) + ", reserved="
        + reserved.toPlainString() + ", limit=" + budget.describeLimit() + ", window=" + windowStart + ".." + resetAt
        + (exhausted ? ", exhausted" : "") + ", attempts=" + attempts + ", unpricedAttempts=" + unpricedAttempts
        + (shared ? ", shared, fleetSpent=" + fleetSpent.toPlainString() : "") + "}";
  }

  /** Builds a {@link BudgetSnapshot}. Mutable, not thread-safe. */
  public static final class Builder {
    private final Budget budget;
    private BigDecimal spent = BigDecimal.ZERO;
    private BigDecimal reserved = BigDecimal.ZERO;
    private Instant windowStart = Instant.EPOCH;
    private Instant resetAt = Instant.EPOCH;
    private boolean exhausted;
    private long attempts;
    private long unpricedAttempts;
    private boolean shared;
    private BigDecimal fleetSpent;

    private Builder(Budget budget) {
      this.budget = budget;
    }

    /** What the window spent. */
    public Builder spent(BigDecimal spent) {
      this.spent = Objects.requireNonNull(spent, "spent");
      return this;
    }

    /** What attempts in flight reserved. */
    public Builder reserved(BigDecimal reserved) {
      this.reserved = Objects.requireNonNull(reserved, "reserved");
      return this;
    }

    /** The window in force: from {@code start} until {@code resetAt}. */
    public Builder window(Instant start, Instant resetAt) {
      this.windowStart = Objects.requireNonNull(start, "windowStart");
      this.resetAt = Objects.requireNonNull(resetAt, "resetAt");
      return this;
    }

    /** Whether it is spent for the rest of the window. */
    public Builder exhausted(boolean exhausted) {
      this.exhausted = exhausted;
      return this;
    }

    /** Attempts settled in the window, and how many of them were unpriced. */
    public Builder attempts(long attempts, long unpriced) {
      this.attempts = Checks.atLeast("attempts", attempts, 0);
      this.unpricedAttempts = Checks.atLeast("unpricedAttempts", unpriced, 0);
      return this;
    }

    /**
     * Whether the budget is shared by the fleet, and what the fleet spent in the window (default:
     * not shared, the fleet's spend being {@link #spent}).
     */
    public Builder shared(boolean shared, BigDecimal fleetSpent) {
      this.shared = shared;
      this.fleetSpent = Objects.requireNonNull(fleetSpent, "fleetSpent");
      return this;
    }

    /** The snapshot. */
    public BudgetSnapshot build() {
      return new BudgetSnapshot(this);
    }
  }
}
