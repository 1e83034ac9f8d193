package io.github.llmpool;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A request refused because of a {@link Budget}: a pool-wide budget is spent for its window (the
 * request is refused at once, before any provider is tried), or every provider that could take the
 * request is kept out by budgets. The message names the budget, its limit, what was spent and when
 * it resets ({@code budget 'monthly' is spent: 20.000312 of 20 USD in the window from
 * 2026-09-01T00:00Z, resets in PT212H}). A {@link NoProviderAvailableException}, so existing
 * handlers keep working; {@link #earliestReturn()} is the time to the reset.
 */
public final class BudgetExhaustedException extends NoProviderAvailableException {
  private static final long serialVersionUID = 1L;

  private final transient Budget budget;
  private final BigDecimal spent;

  /**
   * For the pool (and tests).
   *
   * @param message what was refused and why
   * @param budget the budget that refused it
   * @param spent what the budget's window has spent (settled attempts), in its unit
   * @param resetIn time until the budget's window resets
   * @param attempts attempts made before the refusal, in order (copied)
   * @throws NullPointerException if an argument is null
   */
  public BudgetExhaustedException(String message, Budget budget, BigDecimal spent, Duration resetIn,
      List<Attempt> attempts) {
    super(message, Objects.requireNonNull(resetIn, "resetIn"), attempts);
    this.budget = Objects.requireNonNull(budget, "budget");
    this.spent = Objects.requireNonNull(spent, "spent");
  }

  /** The budget that refused the request. */
  public Budget budget() {
    return budget;
  }

  /** What the budget's window had spent when the request was refused (money or tokens). */
  public BigDecimal spent() {
    return spent;
  }

  /** Time until the budget's window resets (the same as {@link #earliestReturn()}). */
  public Duration resetIn() {
    return earliestReturn();
  }
}
