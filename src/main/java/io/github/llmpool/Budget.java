package io.github.llmpool;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.util.Objects;
import java.util.Optional;

/**
 * A spend limit: money (in one currency, against the priced cost of attempts) or tokens (total
 * tokens), per calendar window (minute, hour, day or month in a stated time zone, UTC by default;
 * not rolling), for the whole pool, one provider or one quota group. Set with
 * {@link ProviderPool.Builder#budget(Budget)}.
 *
 * <pre>{@code
 * Budget daily = Budget.builder("daily-gpt4o").amount("20.00", "USD").window(Budget.Window.DAY)
 *     .zone(ZoneId.of("Europe/Berlin")).provider("gpt-4o").build();
 * Budget pool = Budget.builder("monthly").tokens(50_000_000).window(Budget.Window.MONTH).build();
 * }</pre>
 *
 * <p>Before an attempt is dispatched it reserves its estimate from every budget whose scope holds
 * its provider: the prompt estimate plus {@code min(max_tokens, reservationCap)} completion tokens
 * ({@link #reservationCap()} when the request names none), priced at the provider's {@link Price}
 * for that prompt size. It is admitted only while {@code spent + reserved + estimate <= limit}
 * (atomically); when the attempt ends the reservation is settled to what it cost. See
 * {@code docs/cost.md#budgets} for the bound this gives under concurrency.
 *
 * <p>Immutable and thread-safe; equal by value.
 */
public final class Budget {
  /** Default completion tokens a request reserves when it names no {@code max_tokens}: {@value}. */
  public static final long DEFAULT_RESERVATION_CAP = 1024;
  /** Largest money limit: {@value} units of the currency (amounts are kept in units of 10^-9). */
  public static final long MAX_AMOUNT = 100_000_000L;
  /** Largest token limit: {@value}. */
  public static final long MAX_TOKENS = 1L << 50;
  /** Longest budget name: {@value} characters. */
  public static final int MAX_NAME_LENGTH = 64;

  /** The calendar window a budget counts in; each starts at the unit's boundary in the budget's zone. */
  public enum Window {
    /** From second 0 of each minute. */
    MINUTE,
    /** From minute 0 of each hour. */
    HOUR,
    /** From midnight of each day. */
    DAY,
    /** From midnight of the first day of each month. */
    MONTH
  }

  /** What a budget counts. */
  public enum Unit {
    /** The priced cost of attempts, in the budget's currency. */
    MONEY,
    /** Total tokens of attempts (prompt plus completion, as the provider reports). */
    TOKENS
  }

  /** Whose attempts a budget counts. */
  public enum Scope {
    /** Every provider of the pool. */
    POOL,
    /** One provider, by name. */
    PROVIDER,
    /** Every member of one quota group, by name. */
    QUOTA_GROUP
  }

  private final String name;
  private final Unit unit;
  private final BigDecimal limit;
  private final String currency;
  private final Window window;
  private final ZoneId zone;
  private final Scope scope;
  private final String scopeName;
  private final long reservationCap;

  private Budget(Builder b) {
    this.name = b.name;
    this.unit = b.unit;
    this.limit = b.limit;
    this.currency = b.currency;
    this.window = b.window;
    this.zone = b.zone;
    this.scope = b.scope;
    this.scopeName = b.scopeName;
    this.reservationCap = b.reservationCap;
  }

  /**
   * A builder for a budget named {@code name}: 1 to 64 letters, digits, {@code .}, {@code _} or
   * {@code -}, starting with a letter or digit (it tags events, log lines and exceptions).
   *
   * @throws NullPointerException if {@code name} is null
   * @throws IllegalArgumentException if {@code name} is not such a token
   */
  public static Builder builder(String name) {
    Objects.requireNonNull(name, "budget.name");
    if (name.length() > MAX_NAME_LENGTH || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new IllegalArgumentException("budget.name must be 1 to " + MAX_NAME_LENGTH + " letters, digits, '.', '_'"
          + " or '-', starting with a letter or digit, but was '" + name + "'");
    }
    return new Builder(name);
  }

  /** The budget's name. */
  public String name() {
    return name;
  }

  /** Whether it counts money or tokens. */
  public Unit unit() {
    return unit;
  }

  /** The limit: an amount of {@link #currency()}, or a number of tokens. */
  public BigDecimal limit() {
    return limit;
  }

  /** The ISO 4217 currency of a money budget; empty for a token budget. */
  public Optional<String> currency() {
    return Optional.ofNullable(currency);
  }

  /** The calendar window it counts in. */
  public Window window() {
    return window;
  }

  /** The time zone its windows are aligned in (UTC unless set). */
  public ZoneId zone() {
    return zone;
  }

  /** Whose attempts it counts. */
  public Scope scope() {
    return scope;
  }

  /** The provider or quota group it is scoped to; empty for {@link Scope#POOL}. */
  public Optional<String> scopeName() {
    return Optional.ofNullable(scopeName);
  }

  /**
   * The most completion tokens a request reserves: a request without {@code max_tokens} (or
   * {@code max_completion_tokens}) reserves this many, one with a larger value this many too.
   */
  public long reservationCap() {
    return reservationCap;
  }

  /**
   * The start of the window that holds {@code instant}: the unit's boundary in {@link #zone()}.
   *
   * @throws NullPointerException if {@code instant} is null
   */
  public Instant windowStart(Instant instant) {
    ZonedDateTime t = Objects.requireNonNull(instant, "instant").atZone(zone);
    ZonedDateTime start = switch (window) {
      case MINUTE -> t.truncatedTo(ChronoUnit.MINUTES);
      case HOUR -> t.truncatedTo(ChronoUnit.HOURS);
      case DAY -> t.toLocalDate().atStartOfDay(zone);
      case MONTH -> t.toLocalDate().with(TemporalAdjusters.firstDayOfMonth()).atStartOfDay(zone);
    };
    return start.toInstant();
  }

  /**
   * The end (exclusive) of the window that holds {@code instant}: the next window's start.
   *
   * @throws NullPointerException if {@code instant} is null
   */
  public Instant windowEnd(Instant instant) {
    ZonedDateTime start = windowStart(instant).atZone(zone);
    ZonedDateTime end = switch (window) {
      case MINUTE -> start.plusMinutes(1);
      case HOUR -> start.plusHours(1);
      case DAY -> start.toLocalDate().plusDays(1).atStartOfDay(zone);
      case MONTH -> start.toLocalDate().plusMonths(1).atStartOfDay(zone);
    };
    Instant e = end.toInstant();
    // A zone whose offset changes on the hour may map the next start onto this one: step on.
    return e.isAfter(instant) ? e : windowEnd(e.plusSeconds(1));
  }

  /** The limit as text: {@code 20 USD} or {@code 1000000 tokens}. */
  public String describeLimit() {
    return describe(limit);
  }

  /** {@code amount} in this budget's unit: {@code 0.5 USD} or {@code 1200 tokens}. */
  String describe(BigDecimal amount) {
    return amount.toPlainString() + (unit == Unit.MONEY ? " " + currency : " tokens");
  }

  /** Equal when every setting is equal (the limit by value). */
  @Override
  public boolean equals(Object o) {
    return o instanceof Budget b && name.equals(b.name) && unit == b.unit && limit.compareTo(b.limit) == 0
        && Objects.equals(currency, b.currency) && window == b.window && zone.equals(b.zone) && scope == b.scope
        && Objects.equals(scopeName, b.scopeName) && reservationCap == b.reservationCap;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, unit, limit.stripTrailingZeros(), currency, window, zone, scope, scopeName,
        reservationCap);
  }

  /** For example {@code Budget{daily, 20 USD per DAY (UTC), provider gpt-4o, reservationCap=1024}}. */
  @Override
  public String toString() {
    return "Budget{" + name + ", " + describeLimit() + " per " + window + " (" + zone + "), "
        + (scope == Scope.POOL ? "pool" : (scope == Scope.PROVIDER ? "provider " : "quota group ") + scopeName)
        + ", reservationCap=" + reservationCap + "}";
  }

  /** Builds a {@link Budget}. Mutable, not thread-safe. */
  public static final class Builder {
    private final String name;
    private Unit unit;
    private BigDecimal limit;
    private String currency;
    private Window window;
    private ZoneId zone = ZoneId.of("UTC");
    private Scope scope = Scope.POOL;
    private String scopeName;
    private long reservationCap = DEFAULT_RESERVATION_CAP;

    private Builder(String name) {
      this.name = name;
    }

    /**
     * A money limit: {@code limit} of {@code currency}, compared against the priced cost of attempts
     * (whose provider's {@link Price} must be in this currency; attempts of unpriced providers count
     * 0 and are counted as unpriced).
     *
     * @param limit above 0, at most {@value Budget#MAX_AMOUNT}, at most 9 decimal places
     * @param currency an ISO 4217 code such as {@code USD}
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code limit} or {@code currency} is out of range
     */
    public Builder amount(BigDecimal limit, String currency) {
      Objects.requireNonNull(limit, "budget.amount");
      String c = Price.currencyCode("budget.currency", currency);
      if (limit.signum() <= 0) {
        throw new IllegalArgumentException("budget.amount must be > 0 but was " + limit.toPlainString());
      }
      if (limit.compareTo(BigDecimal.valueOf(MAX_AMOUNT)) > 0) {
        throw new IllegalArgumentException("budget.amount must be <= " + MAX_AMOUNT + " but was "
            + limit.toPlainString());
      }
      BigDecimal l = Cost.normalize(limit);
      if (l.scale() > 9) {
        throw new IllegalArgumentException("budget.amount must have at most 9 decimal places but was "
            + limit.toPlainString());
      }
      this.unit = Unit.MONEY;
      this.limit = l;
      this.currency = c;
      return this;
    }

    /**
     * As {@link #amount(BigDecimal, String)}, from a decimal string ({@code "20.00"}).
     *
     * @throws IllegalArgumentException if {@code limit} is not a decimal number, or as above
     */
    public Builder amount(String limit, String currency) {
      Objects.requireNonNull(limit, "budget.amount");
      BigDecimal v;
      try {
        v = new BigDecimal(limit.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("budget.amount must be a decimal number but was '" + limit + "'");
      }
      return amount(v, currency);
    }

    /**
     * A token limit: total tokens of attempts (the provider's {@code total_tokens}, or prompt plus
     * completion when larger).
     *
     * @throws IllegalArgumentException if {@code limit} is below 1 or above {@link Budget#MAX_TOKENS}
     */
    public Builder tokens(long limit) {
      if (limit < 1 || limit > MAX_TOKENS) {
        throw new IllegalArgumentException("budget.tokens must be in [1, " + MAX_TOKENS + "] but was " + limit);
      }
      this.unit = Unit.TOKENS;
      this.limit = BigDecimal.valueOf(limit);
      this.currency = null;
      return this;
    }

    /** The calendar window (required). */
    public Builder window(Window window) {
      this.window = Objects.requireNonNull(window, "budget.window");
      return this;
    }

    /** The time zone windows align in. Default UTC. */
    public Builder zone(ZoneId zone) {
      this.zone = Objects.requireNonNull(zone, "budget.zone");
      return this;
    }

    /** Counts every provider of the pool (the default). */
    public Builder pool() {
      this.scope = Scope.POOL;
      this.scopeName = null;
      return this;
    }

    /**
     * Counts one provider's attempts; the pool refuses to build when it has no provider of this name.
     *
     * @throws NullPointerException if {@code provider} is null
     */
    public Builder provider(String provider) {
      this.scopeName = requireName("budget.provider", provider);
      this.scope = Scope.PROVIDER;
      return this;
    }

    /**
     * Counts the attempts of every member of one quota group ({@link Provider.Builder#quotaGroup});
     * the pool refuses to build when no provider is in it.
     *
     * @throws NullPointerException if {@code group} is null
     */
    public Builder quotaGroup(String group) {
      this.scopeName = requireName("budget.quotaGroup", group);
      this.scope = Scope.QUOTA_GROUP;
      return this;
    }

    /**
     * The most completion tokens one request reserves (a request without {@code max_tokens}, or
     * with a larger one). Default {@value Budget#DEFAULT_RESERVATION_CAP}. A request that generates
     * more than it reserved can take its budget past the limit by the difference (see the bound in
     * {@code docs/cost.md}).
     *
     * @throws IllegalArgumentException if {@code tokens} is below 0 or above 2^40
     */
    public Builder reservationCap(long tokens) {
      if (tokens < 0 || tokens > (1L << 40)) {
        throw new IllegalArgumentException("budget.reservationCap must be in [0, " + (1L << 40) + "] but was " + tokens);
      }
      this.reservationCap = tokens;
      return this;
    }

    private static String requireName(String setting, String v) {
      Objects.requireNonNull(v, setting);
      if (v.isBlank()) {
        throw new IllegalArgumentException(setting + " must not be blank but was '" + v + "'");
      }
      return v;
    }

    /**
     * The budget.
     *
     * @throws IllegalArgumentException if no limit ({@link #amount} or {@link #tokens}) or no
     *     {@link #window} was set
     */
    public Budget build() {
      if (unit == null) {
        throw new IllegalArgumentException("budget.amount or budget.tokens is required (budget '" + name + "')");
      }
      if (window == null) {
        throw new IllegalArgumentException("budget.window is required: one of MINUTE, HOUR, DAY, MONTH (budget '"
            + name + "')");
      }
      return new Budget(this);
    }
  }
}
