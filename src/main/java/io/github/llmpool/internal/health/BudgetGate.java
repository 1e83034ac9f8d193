package io.github.llmpool.internal.health;

import io.github.llmpool.Budget;
import io.github.llmpool.Price;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;

/**
 * One budget as one provider sees it: how much a request reserves from it there. A token budget
 * reserves the prompt estimate plus {@code min(max_tokens, cap)} completion tokens (the cap when
 * the request names none); a money budget prices those at the provider's {@link Price} for that
 * prompt size (its context tier: prompt tokens at the uncached input rate, completion at the output
 * rate), in units of 10^-9 of the currency, rounded up; a money budget on a provider without a
 * price reserves 0. Rates are turned into longs once, so the pick prices an estimate with a few
 * multiplications and no allocation (exact for rates of at most 9 decimal places per 1M tokens,
 * rounded up otherwise). Immutable.
 */
public final class BudgetGate {
  public final BudgetState state;
  private final boolean tokens;
  private final boolean unpriced;
  private final long cap;
  /** Tier thresholds, ascending: a prompt above {@code above[i]} uses rates {@code i + 1}. */
  private final long[] above;
  /** Units of 10^-9 of the currency per 1M tokens, per rate set (0: base). */
  private final long[] input;
  private final long[] output;
  /**
   * The most any request the pool reads can reserve here: a prompt of {@link #PROMPT_BOUND} tokens
   * (a 64 MiB body, the most the pool reads; a larger one counts 0) and the cap, at the dearest rate
   * set. While that fits, every request does, and the pick skips pricing it.
   */
  private final long worst;
  /**
   * {@code limit - worst}: while what the budget has spent and reserved is at most this, every
   * request the pool reads fits ({@link #ample}). Negative when not even the worst request fits an
   * empty budget (the pick then prices each estimate).
   */
  private final long ampleAt;
  /** The largest prompt estimate the pool makes: 64 MiB / 4, plus one for rounding. */
  public static final long PROMPT_BOUND = (64L << 20) / 4 + 1;

  public BudgetGate(BudgetState state, Price price) {
    this.state = state;
    Budget b = state.budget();
    this.tokens = b.unit() == Budget.Unit.TOKENS;
    this.unpriced = !tokens && price == null;
    this.cap = b.reservationCap();
    if (tokens || price == null) {
      above = new long[0];
      input = new long[] {0};
      output = new long[] {0};
      worst = estimate(PROMPT_BOUND, -1);
      ampleAt = state.limitUnits() - worst;
      return;
    }
    List<Price.Tier> tiers = price.tiers();
    above = new long[tiers.size()];
    input = new long[tiers.size() + 1];
    output = new long[tiers.size() + 1];
    input[0] = perMillion(price.input());
    output[0] = perMillion(price.output());
    for (int i = 0; i < tiers.size(); i++) {
      above[i] = tiers.get(i).above();
      input[i + 1] = perMillion(tiers.get(i).price().input());
      output[i + 1] = perMillion(tiers.get(i).price().output());
    }
    long w = 0;
    for (int t = 0; t < input.length; t++) {
      w = Math.max(w, priced(PROMPT_BOUND, cap, t));
    }
    worst = w;
    ampleAt = state.limitUnits() - worst;
  }

  private static long perMillion(BigDecimal rate) {
    BigDecimal u = rate.movePointRight(9).setScale(0, RoundingMode.CEILING);
    return u.compareTo(BigDecimal.valueOf(BudgetState.MAX_UNITS)) >= 0 ? BudgetState.MAX_UNITS : u.longValue();
  }

  /** Whether this is a money budget on a provider without a price (reserves and settles 0). */
  public boolean unpriced() {
    return unpriced;
  }

  /** Whether the budget counts tokens. */
  public boolean tokens() {
    return tokens;
  }

  /** The completion tokens a request with {@code maxTokens} (-1: none) reserves. */
  public long completion(long maxTokens) {
    return maxTokens < 0 ? cap : Math.min(maxTokens, cap);
  }

  /** What a request of {@code prompt} estimated prompt tokens and {@code maxTokens} (-1: none) reserves, in units. */
  public long estimate(long prompt, long maxTokens) {
    long p = Math.max(0, prompt);
    long c = completion(maxTokens);
    if (tokens) {
      return Math.min(BudgetState.MAX_UNITS, p + c);
    }
    if (unpriced) {
      return 0;
    }
    int t = 0;
    while (t < above.length && p > above[t]) {
      t++;
    }
    return priced(p, c, t);
  }

  /** {@code p} prompt and {@code c} completion tokens at rate set {@code t}, in units, rounded up. */
  private long priced(long p, long c, int t) {
    long a = times(p, input[t]);
    long b = times(c, output[t]);
    if (a < 0 || b < 0) {
      return BudgetState.MAX_UNITS; // more than any limit: never fits
    }
    long sum = a + b; // each below 2^62: no overflow
    long units = sum / 1_000_000 + (sum % 1_000_000 == 0 ? 0 : 1);
    return Math.min(BudgetState.MAX_UNITS, units);
  }

  /** {@code a x b}, or -1 when it is 2^62 or more. */
  private static long times(long a, long b) {
    long hi = Math.multiplyHigh(a, b);
    long lo = a * b;
    return hi != 0 || lo < 0 || lo >= (1L << 62) ? -1 : lo;
  }

  /**
   * Whether a request fits this budget now (the pick path): one volatile read and a comparison
   * while the budget has room for any request; pricing the estimate only when it is nearly spent.
   */
  public boolean admits(long prompt, long maxTokens) {
    return (prompt <= PROMPT_BOUND && ample()) || state.admits(estimate(prompt, maxTokens));
  }

  /**
   * Whether any request of a prompt of at most {@link #PROMPT_BOUND} tokens fits now, whatever its
   * {@code max_tokens}: one volatile read compared with a threshold computed once (no pricing).
   */
  public boolean ample() {
    return state.committedAtMost(ampleAt);
  }

  /** See {@link #ample}: the spent-and-reserved units up to which every request the pool reads fits. */
  public long ampleAt() {
    return ampleAt;
  }

  /** Whether a request fits every one of {@code gates} (null: no budget). */
  public static boolean admitsAll(BudgetGate[] gates, long prompt, long maxTokens) {
    if (gates == null) {
      return true;
    }
    for (BudgetGate g : gates) {
      if (!g.admits(prompt, maxTokens)) {
        return false;
      }
    }
    return true;
  }
}
