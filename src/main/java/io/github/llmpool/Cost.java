package io.github.llmpool;

import java.math.BigDecimal;
import java.util.Objects;
import java.util.Optional;

/**
 * What one attempt cost in money: an exact decimal amount in a currency, and how sure it is
 * ({@link Status}). Carried by every usage record ({@link TokenUsage#cost()}) and attempt end
 * ({@code AttemptEnd.cost()}), failed-over attempts included.
 *
 * <p>A provider without a {@link Price} gives {@link #UNPRICED}: no amount and no currency, never
 * a zero. Amounts are computed with {@link BigDecimal} without rounding (see {@link Price}).
 *
 * <p>Immutable and thread-safe.
 */
public final class Cost {

  /** How an amount was arrived at. */
  public enum Status {
    /**
     * The provider's reported token counts of a complete answer, times the configured price; or
     * zero for an error answer (a status outside 2xx), which providers do not bill.
     */
    EXACT,
    /**
     * A lower bound: a successful (2xx) answer whose usage is partial or missing (a stream cut,
     * closed early or truncated before its final usage; an answer without a usage report), or
     * whose counts contradict each other (more cached than prompt tokens), priced from the
     * tokens that were reported.
     */
    ESTIMATED,
    /** The provider has no price: no amount, no currency. */
    UNPRICED
  }

  /** The cost of an attempt on a provider without a price. */
  public static final Cost UNPRICED = new Cost(null, null, Status.UNPRICED);

  private final BigDecimal amount; // null: unpriced
  private final String currency; // null: unpriced
  private final Status status;

  private Cost(BigDecimal amount, String currency, Status status) {
    this.amount = amount;
    this.currency = currency;
    this.status = status;
  }

  /**
   * A priced cost.
   *
   * @param amount the amount, not negative; kept with the smallest scale that represents it
   *     exactly (trailing zeros stripped, never a negative scale)
   * @param currency an ISO 4217 code such as {@code USD}
   * @param status {@link Status#EXACT} or {@link Status#ESTIMATED}
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code amount} is negative, {@code currency} is not an ISO
   *     4217 code, or {@code status} is {@link Status#UNPRICED} (use {@link #UNPRICED})
   */
  public static Cost of(BigDecimal amount, String currency, Status status) {
    Objects.requireNonNull(amount, "amount");
    Objects.requireNonNull(status, "status");
    if (amount.signum() < 0) {
      throw new IllegalArgumentException("amount must not be negative but was " + amount.toPlainString());
    }
    if (status == Status.UNPRICED) {
      throw new IllegalArgumentException("status must be EXACT or ESTIMATED but was UNPRICED (use Cost.UNPRICED)");
    }
    return new Cost(normalize(amount), Price.currencyCode("currency", currency), status);
  }

  /** For {@link Price}: arguments already checked. */
  static Cost trusted(BigDecimal amount, String currency, Status status) {
    return new Cost(amount, currency, status);
  }

  static BigDecimal normalize(BigDecimal amount) {
    BigDecimal a = amount.stripTrailingZeros();
    return a.scale() < 0 ? a.setScale(0) : a;
  }

  /** The amount; empty when {@link Status#UNPRICED}. */
  public Optional<BigDecimal> amount() {
    return Optional.ofNullable(amount);
  }

  /** The ISO 4217 currency code; empty when {@link Status#UNPRICED}. */
  public Optional<String> currency() {
    return Optional.ofNullable(currency);
  }

  /** How the amount was arrived at. */
  public Status status() {
    return status;
  }

  /** Whether there is an amount ({@link Status#EXACT} or {@link Status#ESTIMATED}). */
  public boolean priced() {
    return amount != null;
  }

  /** Equal when status, currency and amount are equal (amounts compared by value). */
  @Override
  public boolean equals(Object o) {
    return o instanceof Cost c && status == c.status && Objects.equals(currency, c.currency)
        && (amount == null ? c.amount == null : c.amount != null && amount.compareTo(c.amount) == 0);
  }

  @Override
  public int hashCode() {
    return Objects.hash(status, currency, amount == null ? null : amount.stripTrailingZeros());
  }

  /** For example {@code 0.054399 USD EXACT}, or {@code UNPRICED}. */
  @Override
  public String toString() {
    return amount == null ? "UNPRICED" : amount.toPlainString() + " " + currency + " " + status;
  }
}
