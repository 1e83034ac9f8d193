package io.github.llmpool.spring.boot.metrics;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.micrometer.LlmPoolMetrics;
import io.github.llmpool.spring.boot.LlmPoolBinder;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Binds each pool to the application's {@link MeterRegistry} with {@link LlmPoolMetrics}: one
 * binding per pool, made (and its settings checked) when the binder is created.
 */
final class MicrometerPoolBinder implements LlmPoolBinder {
  private final LlmPoolMetrics defaults;
  private final Map<String, LlmPoolMetrics> byPool = new HashMap<>();

  MicrometerPoolBinder(MeterRegistry registry, LlmPoolMetricsProperties props, Set<String> poolNames) {
    this.defaults = metrics(registry, props, null, "llmpool.metrics");
    for (Map.Entry<String, LlmPoolMetricsProperties.Pool> e : props.pools().entrySet()) {
      String path = "llmpool.metrics.pools." + e.getKey();
      if (!poolNames.contains(e.getKey())) {
        throw new IllegalArgumentException(path + ": there is no pool '" + e.getKey() + "' under llmpool.pools (the pools are "
            + poolNames + ")");
      }
      LlmPoolMetricsProperties.Pool pool = e.getValue();
      byPool.put(e.getKey(), pool == null || pool.enabled() ? metrics(registry, props, pool, path) : null);
    }
  }

  @Override
  public ProviderPool build(String poolName, ProviderPool.Builder builder) {
    LlmPoolMetrics metrics = byPool.containsKey(poolName) ? byPool.get(poolName) : defaults;
    return metrics == null ? builder.build() : metrics.build(builder);
  }

  private static LlmPoolMetrics metrics(MeterRegistry registry, LlmPoolMetricsProperties props,
      LlmPoolMetricsProperties.Pool pool, String path) {
    LlmPoolMetrics.Builder b = LlmPoolMetrics.builder(registry).naming(props.naming()).auditLog(props.auditLog());
    set("llmpool.metrics.models", b, m -> props.models().forEach(m::models));
    set("llmpool.metrics.token-unit", b, m -> m.tokenUnit(props.tokenUnit()));
    if (pool != null) {
      if (pool.operation() != null) {
        set(path + ".operation", b, m -> m.operation(pool.operation()));
      }
      set(path + ".models", b, m -> pool.models().forEach(m::models));
      pool.genAiProviders().forEach((provider, value) ->
          set(path + ".gen-ai-providers." + provider, b, m -> m.genAiProvider(provider, value == null ? "" : value)));
    }
    return b.build();
  }

  /** One builder call; its IllegalArgumentException is re-thrown with the property's name first. */
  private static void set(String path, LlmPoolMetrics.Builder b, Consumer<LlmPoolMetrics.Builder> call) {
    try {
      call.accept(b);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(path + ": " + e.getMessage());
    }
  }
}
