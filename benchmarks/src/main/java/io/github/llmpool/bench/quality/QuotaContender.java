package io.github.llmpool.bench.quality;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.Strategy;
import java.time.Duration;

/**
 * The routing configurations the quota experiment compares. Each pool runs the library's defaults
 * (in world time: see {@link ScaledTicker}); they differ in strategy, in quota routing
 * ({@code ProviderPool.Builder.quotaRouting}, on by default), in whether the providers' limits are
 * configured ({@code Provider.Builder.requestsPerMinute/tokensPerMinute}), and, for the overload
 * contenders, in what happens when no provider has room: {@code quotaWait} (queue up to a bound)
 * and {@link AllEvictedPolicy#FAIL_FAST} (refuse with {@code NoProviderAvailableException}).
 */
enum QuotaContender {
  /** Today's behaviour: P2C, quotas learned from 429s only ({@code quotaRouting(false)}). */
  REACTIVE("reactive", Strategy.POWER_OF_TWO_CHOICES, false, false, null, null, false),
  /** Weighted random with the reactive eviction, for reference. */
  WEIGHTED("weighted", Strategy.WEIGHTED, false, false, null, null, false),
  /** The default pool: P2C routing on the headroom the providers' rate-limit headers report. */
  HEADER_AWARE("header-aware", Strategy.POWER_OF_TWO_CHOICES, true, false, null, null, false),
  /** As header-aware, with every provider's RPM/TPM configured ({@code Provider.Builder}). */
  CONFIGURED("configured-limits", Strategy.POWER_OF_TWO_CHOICES, true, true, null, null, false),
  /**
   * Overload only: header-aware that refuses what no provider has room for
   * ({@code whenAllEvicted(FAIL_FAST)}): "the excess refused fast with a clear error".
   */
  FAIL_FAST("fail-fast", Strategy.POWER_OF_TWO_CHOICES, true, false, null, AllEvictedPolicy.FAIL_FAST, true),
  /**
   * Overload only: header-aware that queues what no provider has room for, up to
   * {@link #QUEUE_BOUND} (world time), then refuses ({@code quotaWait(2 s)}, {@code FAIL_FAST}):
   * "queued within the caller's bound" (the pacer's bound is the same).
   */
  QUEUED("queued-2s", Strategy.POWER_OF_TWO_CHOICES, true, false, Duration.ofSeconds(2), AllEvictedPolicy.FAIL_FAST,
      true),
  /** No pool: the client-side pacer of {@link Pacer} reading the same headers (the upper bound). */
  PACER("pacer", null, false, false, null, null, false);

  /** The core has quota routing (kept in the results for comparison with the phase-1 results). */
  static final boolean CORE_QUOTA_ROUTING = true;
  /** The queued contender's wait bound (world time), the pacer's too. */
  static final Duration QUEUE_BOUND = Duration.ofSeconds(2);

  final String label;
  final Strategy strategy;
  final boolean quotaRouting;
  final boolean configuredLimits;
  /** {@code quotaWait}, or null (the default: none). */
  final Duration quotaWait;
  /** {@code whenAllEvicted}, or null (the default, {@code FAIL_OPEN}). */
  final AllEvictedPolicy allEvicted;
  /** Only in the scenarios past capacity ({@link #runsIn}). */
  final boolean overloadOnly;

  QuotaContender(String label, Strategy strategy, boolean quotaRouting, boolean configuredLimits, Duration quotaWait,
      AllEvictedPolicy allEvicted, boolean overloadOnly) {
    this.label = label;
    this.strategy = strategy;
    this.quotaRouting = quotaRouting;
    this.configuredLimits = configuredLimits;
    this.quotaWait = quotaWait;
    this.allEvicted = allEvicted;
    this.overloadOnly = overloadOnly;
  }

  boolean pooled() {
    return this != PACER;
  }

  /** Whether this contender runs in a scenario of offered {@code load} (a share of the capacity). */
  boolean runsIn(double load) {
    return !overloadOnly || load >= 1.2 - 1e-9;
  }

  void configure(ProviderPool.Builder b) {
    b.strategy(strategy).quotaRouting(quotaRouting);
    if (quotaWait != null) {
      b.quotaWait(quotaWait);
    }
    if (allEvicted != null) {
      b.whenAllEvicted(allEvicted);
    }
  }

  /** The all-evicted policy this contender runs (the pool's default when not set). */
  AllEvictedPolicy allEvictedPolicy() {
    return allEvicted != null ? allEvicted : ProviderPool.DEFAULT_ALL_EVICTED_POLICY;
  }

  Provider.Builder provider(Provider.Builder p, QuotaScenario.Spec spec) {
    if (configuredLimits) {
      p.requestsPerMinute((int) spec.rpm()); // world minutes: the pool runs on the world's ticker
      if (spec.tpm() > 0) {
        p.tokensPerMinute(spec.tpm());
      }
    }
    return p;
  }

  static QuotaContender byLabel(String label) {
    for (QuotaContender c : values()) {
      if (c.label.equals(label)) {
        return c;
      }
    }
    throw new IllegalArgumentException("unknown contender '" + label + "'");
  }
}
