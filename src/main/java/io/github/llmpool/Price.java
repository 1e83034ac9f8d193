package io.github.llmpool;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Currency;
import java.util.List;
import java.util.Objects;

/**
 * What a provider charges, per one million tokens of each kind, in one currency; set with
 * {@link Provider.Builder#price(Price)}. There is no built-in price list: a provider without a
 * price reports {@link Cost#UNPRICED}, never a zero (load a catalog with {@link io.github.llmpool.config.PriceCatalog}).
 *
 * <pre>{@code
 * Price gemini25Pro = Price.builder("USD")
 *     .input("1.25").cachedInput("0.31").output("10")        // up to 200k prompt tokens
 *     .above(200_000, Price.builder("USD").input("2.50").cachedInput("0.625").output("15").build())
 *     .build();
 * }</pre>
 *
 * <p><b>How an attempt is priced.</b> The pool's token counts follow one convention whatever the
 * provider's dialect ({@link TokenCounts}): cached and cache-write tokens are part of the prompt,
 * reasoning tokens part of the completion. So the amount is
 * <pre>
 *   (prompt - cached - cacheWrite) x input + cached x cachedInput + cacheWrite x cacheWrite
 * + (completion - reasoning) x output + reasoning x reasoning
 * </pre>
 * divided by 1,000,000, each token counted once, at the rates of the tier that the prompt size
 * selects ({@link #forPrompt(long)}). Arithmetic is exact {@link BigDecimal} with no rounding at
 * any step: the amount's scale is the rate's scale plus six, then trailing zeros are stripped
 * ({@link Cost#of}); round it yourself where you display or bill it.
 *
 * <p>Defaults: {@code cachedInput} and {@code cacheWrite} default to {@code input} (no discount,
 * no surcharge), {@code reasoning} to {@code output} (providers that bill reasoning as output).
 * {@code input} and {@code output} are required.
 *
 * <p>Immutable and thread-safe.
 */
public final class Price {

  private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);
  private static final BigDecimal MAX_RATE = BigDecimal.valueOf(1_000_000_000);

  private final String currency;
  private final BigDecimal input;
  private final BigDecimal cachedInput;
  private final BigDecimal cacheWrite;
  private final BigDecimal output;
  private final BigDecimal reasoning;
  private final List<Tier> tiers;

  private Price(Builder b) {
    this.currency = b.currency;
    this.input = b.input;
    this.cachedInput = b.cachedInput != null ? b.cachedInput : b.input;
    this.cacheWrite = b.cacheWrite != null ? b.cacheWrite : b.input;
    this.output = b.output;
    this.reasoning = b.reasoning != null ? b.reasoning : b.output;
    this.tiers = Collections.unmodifiableList(new ArrayList<>(b.tiers));
  }

  /**
   * A builder for prices in {@code currency}.
   *
   * @param currency an ISO 4217 code in upper case, such as {@code USD} or {@code EUR}
   * @throws NullPointerException if {@code currency} is null
   * @throws IllegalArgumentException if {@code currency} is not an ISO 4217 code
   */
  public static Builder builder(String currency) {
    return new Builder(currencyCode("currency", currency));
  }

  static String currencyCode(String setting, String code) {
    Objects.requireNonNull(code, setting);
    boolean shape = code.length() == 3;
    for (int i = 0; shape && i < 3; i++) {
      char c = code.charAt(i);
      shape = c >= 'A' && c <= 'Z';
    }
    if (shape) {
      try {
        Currency.getInstance(code);
        return code;
      } catch (IllegalArgumentException e) {
        // fall through
      }
    }
    throw new IllegalArgumentException(setting + " must be an ISO 4217 currency code such as USD but was '" + code
        + "'");
  }

  /** The ISO 4217 currency code of every rate. */
  public String currency() {
    return currency;
  }

  /** Uncached input (prompt) tokens, per 1M tokens. */
  public BigDecimal input() {
    return input;
  }

  /** Input tokens read from the provider's prompt cache, per 1M tokens (default {@link #input()}). */
  public BigDecimal cachedInput() {
    return cachedInput;
  }

  /** Input tokens written to the provider's prompt cache, per 1M tokens (default {@link #input()}). */
  public BigDecimal cacheWrite() {
    return cacheWrite;
  }

  /** Output (completion) tokens other than reasoning, per 1M tokens. */
  public BigDecimal output() {
    return output;
  }

  /** Reasoning tokens, per 1M tokens (default {@link #output()}). */
  public BigDecimal reasoning() {
    return reasoning;
  }

  /** The higher rate sets, by ascending threshold; empty when the price has one rate set. */
  public List<Tier> tiers() {
    return tiers;
  }

  /**
   * The rate set that applies to an attempt with {@code promptTokens} prompt tokens (cached and
   * cache-write tokens included): the tier with the highest threshold below {@code promptTokens},
   * else this price itself. A tier "above 200,000" applies from 200,001 prompt tokens on.
   */
  public Price forPrompt(long promptTokens) {
    Price p = this;
    for (int i = 0; i < tiers.size(); i++) {
      Tier t = tiers.get(i);
      if (promptTokens > t.above) {
        p = t.price;
      } else {
        break;
      }
    }
    return p;
  }

  /**
   * The exact amount for these counts, at the rates of the tier their prompt selects (see the
   * class documentation). A count that exceeds the one it is part of (more cached than prompt
   * tokens) is priced as reported with the remainder taken as 0; {@link #consistent} tells.
   *
   * @throws NullPointerException if {@code tokens} is null
   */
  public BigDecimal amount(TokenCounts tokens) {
    Price r = forPrompt(tokens.prompt());
    long uncached = Math.max(0, tokens.prompt() - tokens.cached() - tokens.cacheWrite());
    long text = Math.max(0, tokens.completion() - tokens.reasoning());
    BigDecimal sum = r.input.multiply(BigDecimal.valueOf(uncached))
        .add(r.cachedInput.multiply(BigDecimal.valueOf(tokens.cached())))
        .add(r.cacheWrite.multiply(BigDecimal.valueOf(tokens.cacheWrite())))
        .add(r.output.multiply(BigDecimal.valueOf(text)))
        .add(r.reasoning.multiply(BigDecimal.valueOf(tokens.reasoning())));
    return Cost.normalize(sum.divide(MILLION)); // exact: dividing by 10^6 only moves the point
  }

  /**
   * Whether the counts fit the convention: {@code cached + cacheWrite <= prompt} and
   * {@code reasoning <= completion}.
   */
  public static boolean consistent(TokenCounts tokens) {
    return tokens.cached() + tokens.cacheWrite() <= tokens.prompt() && tokens.reasoning() <= tokens.completion()
        && tokens.cached() + tokens.cacheWrite() >= 0;
  }

  /**
   * {@link #amount} as a {@link Cost} with this currency and {@code status}: what a budget uses to
   * price an estimate (prompt estimate and capped completion, {@link Cost.Status#ESTIMATED}).
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code status} is {@link Cost.Status#UNPRICED}
   */
  public Cost cost(TokenCounts tokens, Cost.Status status) {
    Objects.requireNonNull(status, "status");
    if (status == Cost.Status.UNPRICED) {
      throw new IllegalArgumentException("status must be EXACT or ESTIMATED but was UNPRICED");
    }
    return Cost.trusted(amount(tokens), currency, status);
  }

  /** Equal when currency, every rate (by value) and every tier are equal. */
  @Override
  public boolean equals(Object o) {
    return o instanceof Price p && currency.equals(p.currency) && input.compareTo(p.input) == 0
        && cachedInput.compareTo(p.cachedInput) == 0 && cacheWrite.compareTo(p.cacheWrite) == 0
        && output.compareTo(p.output) == 0 && reasoning.compareTo(p.reasoning) == 0 && tiers.equals(p.tiers);
  }

  @Override
  public int hashCode() {
    return Objects.hash(currency, input.stripTrailingZeros(), cachedInput.stripTrailingZeros(),
        cacheWrite.stripTrailingZeros(), output.stripTrailingZeros(), reasoning.stripTrailingZeros(), tiers);
  }

  /**
   * For example {@code Price{USD per 1M: input=1.25, cachedInput=0.31, cacheWrite=1.25, output=10,
   * reasoning=10, above 200000: {...}}}.
   */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Price{").append(currency).append(" per 1M: ");
    rates(sb);
    for (Tier t : tiers) {
      sb.append(", above ").append(t.above).append(": {");
      t.price.rates(sb);
      sb.append('}');
    }
    return sb.append('}').toString();
  }

  private void rates(StringBuilder sb) {
    sb.append("input=").append(input.toPlainString()).append(", cachedInput=").append(cachedInput.toPlainString())
        .append(", cacheWrite=").append(cacheWrite.toPlainString()).append(", output=").append(output.toPlainString())
        .append(", reasoning=").append(reasoning.toPlainString());
  }

  /** A higher rate set that applies above a number of prompt tokens. Immutable. */
  public static final class Tier {
    private final long above;
    private final Price price;

    private Tier(long above, Price price) {
      this.above = above;
      this.price = price;
    }

    /** The threshold: the tier applies to attempts with more prompt tokens than this. */
    public long above() {
      return above;
    }

    /** The rates of the tier (a price without tiers of its own). */
    public Price price() {
      return price;
    }

    /** Equal when threshold and rates are equal. */
    @Override
    public boolean equals(Object o) {
      return o instanceof Tier t && above == t.above && price.equals(t.price);
    }

    @Override
    public int hashCode() {
      return Objects.hash(above, price);
    }

    @Override
    public String toString() {
      return "above " + above + ": " + price;
    }
  }

  /**
   * Builds a {@link Price}. Setters validate at once and name the setting in their message;
   * mutable, not thread-safe; reusable ({@link #build()} copies).
   */
  public static final class Builder {
    private final String currency;
    private BigDecimal input;
    private BigDecimal cachedInput;
    private BigDecimal cacheWrite;
    private BigDecimal output;
    private BigDecimal reasoning;
    private final List<Tier> tiers = new ArrayList<>();

    private Builder(String currency) {
      this.currency = currency;
    }

    /**
     * Required. Uncached input tokens, per 1M tokens.
     *
     * @throws NullPointerException if {@code perMillion} is null
     * @throws IllegalArgumentException if it is negative, not below 10^9 or has more than 18
     *     decimal places
     */
    public Builder input(BigDecimal perMillion) {
      this.input = rate("price.input", perMillion);
      return this;
    }

    /**
     * As {@link #input(BigDecimal)}, from a decimal string such as {@code "2.50"}.
     *
     * @throws NullPointerException if {@code perMillion} is null
     * @throws IllegalArgumentException if it is not a decimal number or is negative
     */
    public Builder input(String perMillion) {
      return input(parse("price.input", perMillion));
    }

    /**
     * Input tokens read from the prompt cache, per 1M tokens. Default: {@link #input(BigDecimal)}.
     *
     * @throws NullPointerException if {@code perMillion} is null
     * @throws IllegalArgumentException if it is negative, not below 10^9 or has more than 18
     *     decimal places
     */
    public Builder cachedInput(BigDecimal perMillion) {
      this.cachedInput = rate("price.cachedInput", perMillion);
      return this;
    }

    /**
     * As {@link #cachedInput(BigDecimal)}, from a decimal string.
     *
     * @throws NullPointerException if {@code perMillion} is null
     * @throws IllegalArgumentException if it is not a decimal number or is negative
     */
    public Builder cachedInput(String perMillion) {
      return cachedInput(parse("price.cachedInput", perMillion));
    }

    /**
     * Input tokens written to the prompt cache, where the provider bills them (Anthropic's
     * {@code cache_creation_input_tokens}), per 1M tokens. Default: {@link #input(BigDecimal)}.
     *
     * @throws NullPointerException if {@code perMillion} is null
     * @throws IllegalArgumentException if it is negative, not below 10^9 or has more than 18
     *     decimal places
     */
    public Builder cacheWrite(BigDecimal perMillion) {
      this.cacheWrite = rate("price.cacheWrite", perMillion);
      return this;
    }

    /**
     * As {@link #cacheWrite(BigDecimal)}, from a decimal string.
     *
     * @throws NullPointerException if {@code perMillion} is null
     * @throws IllegalArgumentException if it is not a decimal number or is negative
     */
    public Builder cacheWrite(String perMillion) {
      return cacheWrite(parse("price.cacheWrite", perMillion));
    }

    /**
     * Required. Output tokens, per 1M tokens.
     *
     * @throws NullPointerException if {@code perMillion} is null
     * @throws IllegalArgumentException if it is negative, not below 10^9 or has more than 18
     *     decimal places
     */
    public Builder output(BigDecimal perMillion) {
      this.output = rate("price.output", perMillion);
      return this;
    }

    /**
     * As {@link #output(BigDecimal)}, from a decimal string.
     *
     * @throws NullPointerException if {@code perMillion} is null
     * @throws IllegalArgumentException if it is not a decimal number or is negative
     */
    public Builder output(String perMillion) {
      return output(parse("price.output", perMillion));
    }

    /**
     * Reasoning tokens, where billed apart from output, per 1M tokens. Default:
     * {@link #output(BigDecimal)}.
     *
     * @throws NullPointerException if {@code perMillion} is null
     * @throws IllegalArgumentException if it is negative, not below 10^9 or has more than 18
     *     decimal places
     */
    public Builder reasoning(BigDecimal perMillion) {
      this.reasoning = rate("price.reasoning", perMillion);
      return this;
    }

    /**
     * As {@link #reasoning(BigDecimal)}, from a decimal string.
     *
     * @throws NullPointerException if {@code perMillion} is null
     * @throws IllegalArgumentException if it is not a decimal number or is negative
     */
    public Builder reasoning(String perMillion) {
      return reasoning(parse("price.reasoning", perMillion));
    }

    /**
     * Adds a context tier: {@code rates} apply to attempts with more than {@code promptTokens}
     * prompt tokens (e.g. 200,000). Tiers must be added in ascending order of threshold.
     *
     * @throws NullPointerException if {@code rates} is null
     * @throws IllegalArgumentException if {@code promptTokens} is below 1 or not above the previous
     *     tier's, or {@code rates} has another currency or tiers of its own
     */
    public Builder above(long promptTokens, Price rates) {
      Objects.requireNonNull(rates, "rates");
      if (promptTokens < 1) {
        throw new IllegalArgumentException("price tier threshold (above) must be >= 1 but was " + promptTokens);
      }
      if (!tiers.isEmpty() && promptTokens <= tiers.get(tiers.size() - 1).above) {
        throw new IllegalArgumentException("price tier thresholds must ascend: above " + promptTokens
            + " follows above " + tiers.get(tiers.size() - 1).above);
      }
      if (!rates.currency.equals(currency)) {
        throw new IllegalArgumentException("price tier above " + promptTokens + " must be in " + currency + " but was in "
            + rates.currency);
      }
      if (!rates.tiers.isEmpty()) {
        throw new IllegalArgumentException("price tier above " + promptTokens + " must not have tiers of its own");
      }
      tiers.add(new Tier(promptTokens, rates));
      return this;
    }

    /**
     * The immutable price.
     *
     * @throws IllegalArgumentException if {@code input} or {@code output} is not set
     */
    public Price build() {
      if (input == null) {
        throw new IllegalArgumentException("price.input is required (per 1M tokens, in " + currency + ")");
      }
      if (output == null) {
        throw new IllegalArgumentException("price.output is required (per 1M tokens, in " + currency + ")");
      }
      return new Price(this);
    }

    private static BigDecimal rate(String setting, BigDecimal v) {
      Objects.requireNonNull(v, setting);
      if (v.signum() < 0) {
        throw new IllegalArgumentException(setting + " must not be negative but was " + v.toPlainString());
      }
      if (v.compareTo(MAX_RATE) >= 0 || v.stripTrailingZeros().scale() > 18) {
        throw new IllegalArgumentException(setting + " must be below 1000000000 per 1M tokens with at most 18 decimal"
            + " places but was " + (v.precision() > 40 ? v.toString() : v.toPlainString()));
      }
      return v.stripTrailingZeros().scale() < 0 ? v.setScale(0) : v;
    }

    private static BigDecimal parse(String setting, String v) {
      Objects.requireNonNull(v, setting);
      try {
        return new BigDecimal(v.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(setting + " must be a decimal number (per 1M tokens) but was '" + v + "'");
      }
    }
  }
}
