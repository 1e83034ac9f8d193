package io.github.llmpool.bench.quality;

import io.github.llmpool.Provider;

/**
 * What the fleet experiment's instances share (issue 18). Every instance runs the library's
 * default pool (P2C, quota routing on the providers' rate-limit headers, fail-open) over the same
 * fake providers, each with its own OkHttp client and, when shared, its own
 * {@code RedisSharedState} (its own Redis connections).
 */
enum FleetContender {
  /** Independent pools: nothing shared ({@code SharedState.LOCAL_ONLY}), the "local mode". */
  INDEPENDENT("independent", false, false),
  /** Shared through Redis: evictions and the quota windows read from the rate-limit headers. */
  REDIS_HEADERS("redis-headers", true, false),
  /**
   * As redis-headers, with every provider's RPM/TPM configured on the providers
   * ({@code Provider.Builder.requestsPerMinute/tokensPerMinute}). Where llmpool-redis shares
   * configured limits ({@link #CONFIGURED_LIMITS_SHARED}) they are fleet-wide windows with local
   * leases; otherwise each instance keeps its own configured window at the whole limit (recorded
   * as {@code configuredLimitsShared} in the results).
   */
  REDIS_CONFIGURED("redis-configured", true, true);

  /**
   * Whether llmpool-redis on this class path shares configured limits: whether
   * {@code RedisSharedState} implements the core's {@code SharedState.limits()} (fleet-wide windows
   * with local leases, issue 18 phase 2) rather than inheriting the local-only default.
   */
  static final boolean CONFIGURED_LIMITS_SHARED = java.util.Arrays.stream(
      io.github.llmpool.redis.RedisSharedState.class.getDeclaredMethods())
      .anyMatch(m -> m.getName().equals("limits") && m.getParameterCount() == 0);

  final String label;
  final boolean redis;
  final boolean configuredLimits;

  FleetContender(String label, boolean redis, boolean configuredLimits) {
    this.label = label;
    this.redis = redis;
    this.configuredLimits = configuredLimits;
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

  static FleetContender byLabel(String label) {
    for (FleetContender c : values()) {
      if (c.label.equals(label)) {
        return c;
      }
    }
    throw new IllegalArgumentException("unknown fleet contender '" + label + "'; known: independent, redis-headers,"
        + " redis-configured");
  }
}
