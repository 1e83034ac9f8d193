package io.github.llmpool.spring.boot;

import io.github.llmpool.ProviderPool;

/**
 * Builds each pool of {@code llmpool.pools.*} from its finished builder (the properties and every
 * {@link LlmPoolCustomizer} applied), for a binding that needs both the builder and the built pool,
 * as {@code io.github.llmpool.micrometer.LlmPoolMetrics#build(ProviderPool.Builder)} does (hooks on
 * the builder, gauges on the pool). The metrics auto-configuration defines one when
 * {@code llmpool-micrometer} and a {@code MeterRegistry} bean are present; a bean of your own
 * replaces it. Without one the auto-configuration calls {@code builder.build()}.
 *
 * <p>Called while the pool's bean is created, so the binder's own dependencies (such as the
 * {@code MeterRegistry}) are fully initialised beans by then.
 */
@FunctionalInterface
public interface LlmPoolBinder {

  /**
   * Builds one pool.
   *
   * @param poolName the pool's name (its key under {@code llmpool.pools})
   * @param builder the pool's builder; build it once
   * @return the pool
   * @throws IllegalArgumentException if the builder's configuration is invalid (as
   *     {@link ProviderPool.Builder#build()} says); it is reported behind the pool's property prefix
   */
  ProviderPool build(String poolName, ProviderPool.Builder builder);
}
