package io.github.llmpool;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.Optional;

/**
 * An immutable view of one provider at one instant, one of {@link PoolSnapshot#providers()}.
 *
 * <pre>{@code
 * ProviderSnapshot p = pool.snapshot().provider("mini").orElseThrow();
 * if (p.status() == ProviderSnapshot.Status.EVICTED) {
 *   log.warn("{} out for {}", p.name(), p.evictedFor().orElseThrow());
 * }
 * long spent = p.tokens().total();
 * BigDecimal usd = p.spend().getOrDefault("USD", BigDecimal.ZERO); // priced attempts only
 * }</pre>
 *
 * <p>Counters are cumulative since the provider joined the pool (a reconfiguration that keeps its
 * name keeps them); a count that is "none" is 0. Values that may be absent are {@link Optional}
 * (see the package documentation).
 *
 * <p>Immutable and thread-safe. A final class rather than a record, made by
 * {@link #builder(String)}, so that a field can be added later without breaking code that builds or
 * reads snapshots.
 */
public final class ProviderSnapshot {

  /** A provider's place in the rotation. Switches over it should have a default branch: a state may be added. */
  public enum Status {
    /** In the rotation. */
    AVAILABLE,
    /** Out of the rotation until its eviction ends ({@link ProviderSnapshot#evictedFor()}). */
    EVICTED,
    /** The eviction ended; one probe request decides (in flight, or waiting for the next request). */
    PROBING,
    /**
     * Taken out of rotation by {@code pool.drain}, {@code drainTier} or {@code drainAll}: no new
     * attempt, not even a probe; attempts in flight finish and count. {@link ProviderSnapshot#evictedFor()}
     * still shows an eviction in force.
     */
    DRAINED
  }

  private final String name;
  private final int tier;
  private final int weight;
  private final Status status;
  private final Duration evictedFor; // null: absent
  private final int ejections;
  private final long inFlight;
  private final Duration latencyEstimate;
  private final long requests;
  private final long probes;
  private final long successes;
  private final long clientErrors;
  private final long failures;
  private final TokenCounts tokens;
  private final Quota requestQuota; // null: absent
  private final Quota tokenQuota; // null: absent
  private final long ignoredQuotaValues;
  private final Map<String, BigDecimal> spend;
  private final TokenCounts unpricedTokens;
  private final long unpricedAttempts;

  private ProviderSnapshot(Builder b) {
    this.spend = b.spend.isEmpty() ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(b.spend));
    this.unpricedTokens = b.unpricedTokens;
    this.unpricedAttempts = b.unpricedAttempts;
    this.name = b.name;
    this.tier = b.tier;
    this.weight = b.weight;
    this.status = b.status;
    this.evictedFor = b.evictedFor;
    this.ejections = b.ejections;
    this.inFlight = b.inFlight;
    this.latencyEstimate = b.latencyEstimate;
    this.requests = b.requests;
    this.probes = b.probes;
    this.successes = b.successes;
    this.clientErrors = b.clientErrors;
    this.failures = b.failures;
    this.tokens = b.tokens;
    this.requestQuota = b.requestQuota;
    this.tokenQuota = b.tokenQuota;
    this.ignoredQuotaValues = b.ignoredQuotaValues;
  }

  /**
   * A builder for the snapshot of provider {@code name}; every other field has the default its
   * setter documents. For the pool and for tests.
   *
   * @throws NullPointerException if {@code name} is null
   */
  public static Builder builder(String name) {
    return new Builder(Objects.requireNonNull(name, "name"));
  }

  /** The provider's name. */
  public String name() {
    return name;
  }

  /** Its tier, 0 = first. */
  public int tier() {
    return tier;
  }

  /** Its weight within the tier (0 takes no traffic). */
  public int weight() {
    return weight;
  }

  /** Available, evicted or probing. */
  public Status status() {
    return status;
  }

  /**
   * Time left until the eviction ends: present while an eviction is in force (status
   * {@link Status#EVICTED}, or {@link Status#DRAINED} with an eviction pending), empty otherwise
   * (available, or probing: its eviction has ended).
   */
  public Optional<Duration> evictedFor() {
    return Optional.ofNullable(evictedFor);
  }

  /** Consecutive ejections (reset by a success); 0 when none. */
  public int ejections() {
    return ejections;
  }

  /** Attempts dispatched whose response body has not finished. */
  public long inFlight() {
    return inFlight;
  }

  /**
   * The current (decayed) latency estimate used by power-of-two-choices; before the first sample,
   * the pool's initial estimate.
   */
  public Duration latencyEstimate() {
    return latencyEstimate;
  }

  /** Attempts dispatched, the pool's own probes included ({@link #probes()}). */
  public long requests() {
    return requests;
  }

  /**
   * Probes the pool sent of its own ({@code P2cSettings.probes}): one-token requests that
   * re-measured this provider while it looked slow; part of {@link #requests()}, no caller's.
   */
  public long probes() {
    return probes;
  }

  /** Attempts that ended well (2xx, body not failed). */
  public long successes() {
    return successes;
  }

  /** Attempts answered with the caller's fault (4xx other than 408/429). */
  public long clientErrors() {
    return clientErrors;
  }

  /** Attempts that failed (retryable status, exception, body cut). */
  public long failures() {
    return failures;
  }

  /**
   * Cumulative token counts reported by this provider's attempts. A running sum that overflows
   * (only absurd reported counts, each near {@link Long#MAX_VALUE}, get there) is no longer exact,
   * and reads as {@link Long#MAX_VALUE} rather than negative.
   */
  public TokenCounts tokens() {
    return tokens;
  }

  /** Cumulative {@code total_tokens} reported: the same as {@code tokens().total()}. */
  public long totalTokens() {
    return tokens.total();
  }

  /**
   * The provider's request rate limit as its latest accepted rate-limit headers said, or its
   * configured {@code requestsPerMinute} while no header said anything; empty when neither.
   * Information only: routing does not read it.
   */
  public Optional<Quota> requestQuota() {
    return Optional.ofNullable(requestQuota);
  }

  /** The provider's token rate limit, as for {@link #requestQuota()} ({@code tokensPerMinute}). */
  public Optional<Quota> tokenQuota() {
    return Optional.ofNullable(tokenQuota);
  }

  /**
   * Rate-limit header values this provider sent that the pool ignored: malformed (not a count, not
   * a duration or RFC 3339 time), negative or absurd (a count of {@code 10^15} or more, a reset more
   * than 7 days away). 0 when none.
   */
  public long ignoredQuotaValues() {
    return ignoredQuotaValues;
  }

  /**
   * What the provider's priced attempts cost, summed exactly per ISO 4217 currency code (sorted by
   * code; usually one entry, the currency of its {@link Price}; more when a reconfiguration changed
   * it). Includes the lower bounds of {@link Cost.Status#ESTIMATED} attempts. Empty when the
   * provider never had a price: its usage is in {@link #unpricedTokens()}, never counted as zero.
   */
  public Map<String, BigDecimal> spend() {
    return spend;
  }

  /**
   * The tokens of the attempts that had no price (the provider had none at the time), cumulative;
   * {@link TokenCounts#ZERO} when there were none.
   */
  public TokenCounts unpricedTokens() {
    return unpricedTokens;
  }

  /** How many attempts had no price (with or without reported usage). */
  public long unpricedAttempts() {
    return unpricedAttempts;
  }

  /** Equal when every field is equal (amounts compared by value). */
  @Override
  public boolean equals(Object o) {
    return o instanceof ProviderSnapshot p && sameSpend(spend, p.spend) && unpricedTokens.equals(p.unpricedTokens)
        && unpricedAttempts == p.unpricedAttempts && name.equals(p.name) && tier == p.tier && weight == p.weight
        && status == p.status && Objects.equals(evictedFor, p.evictedFor) && ejections == p.ejections
        && inFlight == p.inFlight && latencyEstimate.equals(p.latencyEstimate) && requests == p.requests && probes == p.probes
        && successes == p.successes && clientErrors == p.clientErrors && failures == p.failures
        && tokens.equals(p.tokens) && Objects.equals(requestQuota, p.requestQuota)
        && Objects.equals(tokenQuota, p.tokenQuota) && ignoredQuotaValues == p.ignoredQuotaValues;
  }

  private static boolean sameSpend(Map<String, BigDecimal> a, Map<String, BigDecimal> b) {
    if (!a.keySet().equals(b.keySet())) {
      return false;
    }
    for (Map.Entry<String, BigDecimal> e : a.entrySet()) {
      if (e.getValue().compareTo(b.get(e.getKey())) != 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, tier, weight, status, evictedFor, ejections, inFlight, latencyEstimate, requests, probes,
        successes, clientErrors, failures, tokens, requestQuota, tokenQuota, ignoredQuotaValues, spend.keySet(),
        unpricedTokens, unpricedAttempts);
  }

  /**
   * Every field, an absent {@code evictedFor}, quota, spend or unpriced count or a zero {@code ignoredQuotaValues} left out, e.g. {@code ProviderSnapshot{name=a, tier=0,
   * weight=1, status=AVAILABLE, ...}}. A snapshot holds no credential.
   */
  @Override
  public String toString() {
    return "ProviderSnapshot{name=" + name + ", tier=" + tier + ", weight=" + weight + ", status=" + status
        + (evictedFor == null ? "" : ", evictedFor=" + evictedFor) + ", ejections=" + ejections + ", inFlight="
        + inFlight + ", latencyEstimate=" + latencyEstimate + ", requests=" + requests + ", probes=" + probes + ", successes=" + successes
        + ", clientErrors=" + clientErrors + ", failures=" + failures + ", tokens=" + tokens
        + (requestQuota == null ? "" : ", requestQuota=" + requestQuota)
        + (tokenQuota == null ? "" : ", tokenQuota=" + tokenQuota)
        + (ignoredQuotaValues == 0 ? "" : ", ignoredQuotaValues=" + ignoredQuotaValues)
        + (spend.isEmpty() ? "" : ", spend=" + spendText())
        + (unpricedAttempts == 0 ? "" : ", unpricedAttempts=" + unpricedAttempts + ", unpricedTokens=" + unpricedTokens)
        + "}";
  }

  private String spendText() {
    StringBuilder sb = new StringBuilder("{");
    for (Map.Entry<String, BigDecimal> e : spend.entrySet()) {
      if (sb.length() > 1) {
        sb.append(", ");
      }
      sb.append(e.getKey()).append('=').append(e.getValue().toPlainString());
    }
    return sb.append('}').toString();
  }

  /**
   * Builds a {@link ProviderSnapshot}. Setters validate at once; mutable, not thread-safe; reusable
   * ({@link #build()} copies).
   */
  public static final class Builder {
    private final String name;
    private int tier;
    private int weight = 1; // Provider.DEFAULT_WEIGHT, not named: values do not depend on entry points
    private Status status = Status.AVAILABLE;
    private Duration evictedFor;
    private int ejections;
    private long inFlight;
    private Duration latencyEstimate = Duration.ZERO;
    private long requests;
    private long probes;
    private long successes;
    private long clientErrors;
    private long failures;
    private TokenCounts tokens = TokenCounts.ZERO;
    private Quota requestQuota;
    private Quota tokenQuota;
    private long ignoredQuotaValues;
    private final Map<String, BigDecimal> spend = new TreeMap<>();
    private TokenCounts unpricedTokens = TokenCounts.ZERO;
    private long unpricedAttempts;

    private Builder(String name) {
      this.name = name;
    }

    /**
     * The tier. Default 0.
     *
     * @throws IllegalArgumentException if {@code tier} is negative
     */
    public Builder tier(int tier) {
      this.tier = Checks.atLeast("tier", tier, 0);
      return this;
    }

    /**
     * The weight. Default 1 ({@link Provider#DEFAULT_WEIGHT}).
     *
     * @throws IllegalArgumentException if {@code weight} is negative
     */
    public Builder weight(int weight) {
      this.weight = Checks.atLeast("weight", weight, 0);
      return this;
    }

    /**
     * The place in the rotation. Default {@link Status#AVAILABLE}.
     *
     * @throws NullPointerException if {@code status} is null
     */
    public Builder status(Status status) {
      this.status = Objects.requireNonNull(status, "status");
      return this;
    }

    /**
     * Time left until the eviction ends; null (the default) when not evicted.
     *
     * @throws IllegalArgumentException if {@code left} is negative
     */
    public Builder evictedFor(Duration left) {
      this.evictedFor = left == null ? null : Checks.nonNegative("evictedFor", left);
      return this;
    }

    /**
     * Consecutive ejections. Default 0.
     *
     * @throws IllegalArgumentException if {@code ejections} is negative
     */
    public Builder ejections(int ejections) {
      this.ejections = Checks.atLeast("ejections", ejections, 0);
      return this;
    }

    /**
     * Attempts in flight. Default 0.
     *
     * @throws IllegalArgumentException if {@code inFlight} is negative
     */
    public Builder inFlight(long inFlight) {
      this.inFlight = Checks.atLeast("inFlight", inFlight, 0L);
      return this;
    }

    /**
     * The latency estimate. Default zero.
     *
     * @throws NullPointerException if {@code estimate} is null
     * @throws IllegalArgumentException if {@code estimate} is negative
     */
    public Builder latencyEstimate(Duration estimate) {
      this.latencyEstimate = Checks.nonNegative("latencyEstimate", Objects.requireNonNull(estimate, "latencyEstimate"));
      return this;
    }

    /**
     * Attempts dispatched. Default 0.
     *
     * @throws IllegalArgumentException if {@code requests} is negative
     */
    public Builder requests(long requests) {
      this.requests = Checks.atLeast("requests", requests, 0L);
      return this;
    }

    /**
     * Probes the pool sent of its own. Default 0.
     *
     * @throws IllegalArgumentException if {@code probes} is negative
     */
    public Builder probes(long probes) {
      this.probes = Checks.atLeast("probes", probes, 0L);
      return this;
    }

    /**
     * Attempts that ended well. Default 0.
     *
     * @throws IllegalArgumentException if {@code successes} is negative
     */
    public Builder successes(long successes) {
      this.successes = Checks.atLeast("successes", successes, 0L);
      return this;
    }

    /**
     * Attempts answered with the caller's fault. Default 0.
     *
     * @throws IllegalArgumentException if {@code clientErrors} is negative
     */
    public Builder clientErrors(long clientErrors) {
      this.clientErrors = Checks.atLeast("clientErrors", clientErrors, 0L);
      return this;
    }

    /**
     * Attempts that failed. Default 0.
     *
     * @throws IllegalArgumentException if {@code failures} is negative
     */
    public Builder failures(long failures) {
      this.failures = Checks.atLeast("failures", failures, 0L);
      return this;
    }

    /**
     * Cumulative token counts. Default {@link TokenCounts#ZERO}.
     *
     * @throws NullPointerException if {@code tokens} is null
     */
    public Builder tokens(TokenCounts tokens) {
      this.tokens = Objects.requireNonNull(tokens, "tokens");
      return this;
    }

    /** The request rate limit; null (the default) when unknown. */
    public Builder requestQuota(Quota quota) {
      this.requestQuota = quota;
      return this;
    }

    /** The token rate limit; null (the default) when unknown. */
    public Builder tokenQuota(Quota quota) {
      this.tokenQuota = quota;
      return this;
    }

    /**
     * Rate-limit header values ignored. Default 0.
     *
     * @throws IllegalArgumentException if {@code count} is negative
     */
    public Builder ignoredQuotaValues(long count) {
      this.ignoredQuotaValues = Checks.atLeast("ignoredQuotaValues", count, 0L);
      return this;
    }

    /**
     * Sets the spend in {@code currency} (replacing an earlier value for it). Default: none.
     *
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code currency} is not an ISO 4217 code or {@code amount}
     *     is negative
     */
    public Builder spend(String currency, BigDecimal amount) {
      Objects.requireNonNull(amount, "amount");
      if (amount.signum() < 0) {
        throw new IllegalArgumentException("spend must not be negative but was " + amount.toPlainString());
      }
      spend.put(Price.currencyCode("currency", currency), Cost.normalize(amount));
      return this;
    }

    /**
     * The tokens of unpriced attempts. Default {@link TokenCounts#ZERO}.
     *
     * @throws NullPointerException if {@code tokens} is null
     */
    public Builder unpricedTokens(TokenCounts tokens) {
      this.unpricedTokens = Objects.requireNonNull(tokens, "unpricedTokens");
      return this;
    }

    /**
     * How many attempts had no price. Default 0.
     *
     * @throws IllegalArgumentException if {@code count} is negative
     */
    public Builder unpricedAttempts(long count) {
      this.unpricedAttempts = Checks.atLeast("unpricedAttempts", count, 0L);
      return this;
    }

    /** The immutable snapshot. */
    public ProviderSnapshot build() {
      return new ProviderSnapshot(this);
    }
  }
}
