package io.github.llmpool;

/**
 * What the pool does when every provider of every tier is evicted (or already tried by this
 * request).
 */
public enum AllEvictedPolicy {
  /**
   * The default: send the first attempt of the request to the provider whose eviction ends first
   * (Envoy's "panic" routing). Evictions are estimates; when all of them are in force, one more
   * request costs little and keeps the application serving if the estimates were wrong. Fail-open
   * applies to the first attempt of a logical request only, so an outage cannot turn into a
   * retry storm; a request that already failed over is not sent to an evicted provider.
   */
  FAIL_OPEN,

  /**
   * Throw {@link NoProviderAvailableException} at once, naming every provider and when the
   * earliest comes back, without sending anything upstream.
   */
  FAIL_FAST
}
