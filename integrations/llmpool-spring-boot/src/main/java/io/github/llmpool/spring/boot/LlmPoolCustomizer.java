package io.github.llmpool.spring.boot;

import io.github.llmpool.ProviderPool;

/**
 * Adds to a pool's builder what properties cannot say (usage and event listeners, attempt hooks,
 * a classifier, shared state, a ticker...) before the auto-configuration builds the pool. Define
 * one or more as beans; they run in {@code @Order} order for every pool from
 * {@code llmpool.pools.*}.
 *
 * <pre>{@code
 * @Bean
 * LlmPoolCustomizer usageMetrics(MeterRegistry meters) {
 *   return (pool, builder) -> builder.onUsage(u -> meters.counter("llm.tokens", "pool", pool,
 *       "provider", u.provider()).increment(u.totalTokens()));
 * }
 * }</pre>
 */
@FunctionalInterface
public interface LlmPoolCustomizer {

  /**
   * Customizes the builder of one pool.
   *
   * @param poolName the pool's name (its key under {@code llmpool.pools})
   * @param builder the builder, holding the pool's properties; not yet built
   */
  void customize(String poolName, ProviderPool.Builder builder);
}
