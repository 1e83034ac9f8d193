package io.github.llmpool.spring.boot.metrics;

import io.github.llmpool.telemetry.GenAiNaming;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code llmpool.metrics.*} properties: how the pools of {@code llmpool.pools.*} are bound to
 * the application's {@code MeterRegistry} ({@code io.github.llmpool.micrometer.LlmPoolMetrics}).
 *
 * <pre>
 * llmpool.metrics.naming=inference
 * llmpool.metrics.audit-log=true
 * llmpool.metrics.pools.embed.operation=embeddings
 * llmpool.metrics.pools.chat.gen-ai-providers.local=ollama
 * </pre>
 *
 * @param enabled whether to bind the pools at all; default true (false: no hooks, no meters)
 * @param naming the names of the GenAI metrics: {@code current} ({@code gen_ai.client.operation.duration},
 *     {@code gen_ai.client.token.usage}: what Spring AI and LangChain4j emit) or {@code inference}
 *     ({@code gen_ai.client.inference.*}); default {@code current}
 * @param auditLog whether to write the audit log (one line per request on the SLF4J logger
 *     {@code llmpool.audit}) from the same hooks; default false
 * @param models models to tag by name besides the providers' configured ones, in every pool (a
 *     request or response model neither configured nor listed is tagged {@code other})
 * @param tokenUnit the Micrometer base unit of the GenAI token meters; default none (set
 *     {@code {token}} for a registry that carries units, such as OTLP)
 * @param pools settings of single pools, by the pool's name under {@code llmpool.pools}
 */
@ConfigurationProperties("llmpool.metrics")
public record LlmPoolMetricsProperties(@DefaultValue("true") boolean enabled, @DefaultValue("current") GenAiNaming naming,
    @DefaultValue("false") boolean auditLog, List<String> models, String tokenUnit, Map<String, Pool> pools) {

  /**
   * Binds the properties; null lists and maps become empty.
   *
   * @param enabled whether to bind the pools
   * @param naming the GenAI metrics' names
   * @param auditLog whether to write the audit log
   * @param models extra models to tag by name
   * @param tokenUnit the token meters' base unit, or null
   * @param pools per-pool settings
   */
  public LlmPoolMetricsProperties {
    naming = naming == null ? GenAiNaming.CURRENT : naming;
    models = models == null ? List.of() : List.copyOf(models);
    pools = pools == null ? Map.of() : new LinkedHashMap<>(pools);
  }

  /**
   * The settings of one pool ({@code llmpool.metrics.pools.<name>.*}).
   *
   * @param enabled whether to bind this pool; default true
   * @param operation its {@code gen_ai.operation.name}: {@code chat} (default), {@code embeddings},
   *     {@code text_completion} or another
   * @param models models to tag by name in this pool, besides the global ones
   * @param genAiProviders {@code gen_ai.provider.name} by provider name (the provider's {@code name}
   *     in this pool), e.g. {@code local: ollama}; by default it comes from the provider's host
   */
  public record Pool(@DefaultValue("true") boolean enabled, String operation, List<String> models,
      Map<String, String> genAiProviders) {

    /**
     * Binds one pool's settings; null lists and maps become empty.
     *
     * @param enabled whether to bind this pool
     * @param operation the operation name, or null for {@code chat}
     * @param models extra models to tag by name
     * @param genAiProviders {@code gen_ai.provider.name} by provider name
     */
    public Pool {
      models = models == null ? List.of() : List.copyOf(models);
      genAiProviders = genAiProviders == null ? Map.of() : new LinkedHashMap<>(genAiProviders);
    }
  }
}
