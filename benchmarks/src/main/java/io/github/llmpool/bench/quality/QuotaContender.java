package io.github.llmpool.bench.quality;

import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.Strategy;
import java.lang.reflect.Method;

/**
 * The routing configurations the quota experiment compares. Each pool runs the library's defaults
 * (in world time: see {@link ScaledTicker}); they differ in strategy, in quota routing and in
 * whether the providers' limits are configured.
 *
 * <p><b>Switching the core's quota routing on is one line each</b>, in {@link #configure} and
 * {@link #provider}: {@code ProviderPool.Builder.quotaRouting(boolean)} (planned; true becomes the
 * default) is called reflectively while the core does not have it yet ({@link #CORE_QUOTA_ROUTING}
 * says whether it does, and the results record it): until then "header-aware" and
 * "configured-limits" run what exists and behave like "reactive" (configured limits are then only
 * shown in the snapshot).
 */
enum QuotaContender {
  /** Today's behaviour: P2C, quotas learned from 429s only. */
  REACTIVE("reactive", Strategy.POWER_OF_TWO_CHOICES, false, false),
  /** Weighted random with today's reactive eviction, for reference. */
  WEIGHTED("weighted", Strategy.WEIGHTED, false, false),
  /** P2C routing on the headroom the providers' rate-limit headers report. */
  HEADER_AWARE("header-aware", Strategy.POWER_OF_TWO_CHOICES, true, false),
  /** As header-aware, with every provider's RPM/TPM configured ({@code Provider.Builder}). */
  CONFIGURED("configured-limits", Strategy.POWER_OF_TWO_CHOICES, true, true),
  /** No pool: the client-side pacer of {@link Pacer} reading the same headers (the upper bound). */
  PACER("pacer", null, false, false);

  /** Whether the core has {@code ProviderPool.Builder.quotaRouting(boolean)}. */
  static final boolean CORE_QUOTA_ROUTING = quotaRoutingMethod() != null;

  final String label;
  final Strategy strategy;
  final boolean quotaRouting;
  final boolean configuredLimits;

  QuotaContender(String label, Strategy strategy, boolean quotaRouting, boolean configuredLimits) {
    this.label = label;
    this.strategy = strategy;
    this.quotaRouting = quotaRouting;
    this.configuredLimits = configuredLimits;
  }

  boolean pooled() {
    return this != PACER;
  }

  void configure(ProviderPool.Builder b) {
    b.strategy(strategy);
    quotaRouting(b, quotaRouting); // once the core has it: b.quotaRouting(quotaRouting);
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

  private static Method quotaRoutingMethod() {
    try {
      return ProviderPool.Builder.class.getMethod("quotaRouting", boolean.class);
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  private static void quotaRouting(ProviderPool.Builder b, boolean on) {
    Method m = quotaRoutingMethod();
    if (m == null) {
      return; // the core routes reactively: nothing to switch
    }
    try {
      m.invoke(b, on);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("ProviderPool.Builder.quotaRouting(" + on + ") failed", e);
    }
  }
}
