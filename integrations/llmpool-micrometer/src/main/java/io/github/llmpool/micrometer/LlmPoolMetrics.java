package io.github.llmpool.micrometer;

import io.github.llmpool.telemetry.GenAiNaming;
import io.github.llmpool.telemetry.RequestTracker;
import io.github.llmpool.telemetry.TelemetryOptions;
import io.github.llmpool.ProviderPool;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Objects;

/**
 * Binds llmpool pools to a Micrometer {@link MeterRegistry}: the OpenTelemetry GenAI client
 * metrics ({@code gen_ai.client.*}, names per {@link GenAiNaming}) and the router's own metrics
 * ({@code llmpool.*}: attempts, retries, failovers, evictions, provider state, in-flight, the P2C
 * latency estimate, tokens). The pool's hooks are builder-time ({@code onAttempt},
 * {@code onEvent}, {@code onUsage}), so the binding takes the pool's builder and builds it:
 *
 * <pre>{@code
 * ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat").tier(a, b).tier(c), registry);
 * // or, with options:
 * LlmPoolMetrics metrics = LlmPoolMetrics.builder(registry).naming(GenAiNaming.INFERENCE).auditLog(true).build();
 * ProviderPool chat = metrics.build(ProviderPool.builder().name("chat").tier(a, b));
 * ModelRouter router = ModelRouter.builder().route("fast", metrics.build(fastPool)).route("smart", chat).build();
 * }</pre>
 *
 * <p>Tag values come from configuration only: pool and provider names, the configured models
 * (each provider's {@code model}, plus {@link Builder#models}), the provider's base URL. A model a
 * request or a response names that is not configured is tagged {@code other}. Drop a tag with a
 * Micrometer {@code MeterFilter} (see the module's documentation). Thread-safe; one instance can
 * bind any number of pools (name them distinctly: their meters are told apart by the {@code pool}
 * tag).
 */
public final class LlmPoolMetrics {
  private final MeterRegistry registry;
  private final TelemetryOptions options;
  private final boolean auditLog;
  private final String tokenUnit;

  private LlmPoolMetrics(Builder b) {
    this.tokenUnit = b.tokenUnit;
    this.registry = b.registry;
    this.options = b.options.build();
    this.auditLog = b.auditLog;
  }

  /**
   * Binds the pool {@code builder} describes to {@code registry} with the defaults and builds it:
   * {@code builder(registry).build().build(builder)}.
   *
   * @param builder the pool's builder; pass it once (a second {@code build()} of the same builder
   *     would share the first pool's hooks)
   * @param registry where the meters go
   * @return the pool, bound
   * @throws NullPointerException if an argument is null
   */
  public static ProviderPool bind(ProviderPool.Builder builder, MeterRegistry registry) {
    return builder(registry).build().build(builder);
  }

  /**
   * A builder of a binding to {@code registry}.
   *
   * @param registry where the meters go
   * @return a new builder
   * @throws NullPointerException if {@code registry} is null
   */
  public static Builder builder(MeterRegistry registry) {
    return new Builder(Objects.requireNonNull(registry, "registry"));
  }

  /**
   * Adds this binding's hooks to {@code builder}, builds the pool and registers its gauges.
   *
   * @param builder the pool's builder; pass it once
   * @return the pool, bound
   * @throws NullPointerException if {@code builder} is null
   * @throws IllegalArgumentException if the builder's configuration is invalid (as
   *     {@link ProviderPool.Builder#build()} says)
   */
  public ProviderPool build(ProviderPool.Builder builder) {
    Objects.requireNonNull(builder, "builder");
    PoolMeters meters = new PoolMeters(registry, options.naming(), options.operation(), options.genAiProviders(),
        options.models(), tokenUnit);
    RequestTracker tracker = auditLog
        ? new RequestTracker(true, meters, new AuditSink(LlmPoolAuditLog.DEFAULT_LOGGER_NAME))
        : new RequestTracker(false, meters);
    builder.onRequest(tracker).onAttempt(tracker).onEvent(tracker).onUsage(tracker);
    ProviderPool pool = builder.build();
    meters.bind(pool);
    return pool;
  }

  /**
   * The naming of the GenAI metrics in force.
   *
   * @return the naming
   */
  public GenAiNaming naming() {
    return options.naming();
  }

  @Override
  public String toString() {
    return "LlmPoolMetrics{" + options + ", auditLog=" + auditLog
        + (tokenUnit == null ? "" : ", tokenUnit=" + tokenUnit) + "}";
  }

  /** A mutable, not thread-safe builder of a binding. */
  public static final class Builder {
    private final MeterRegistry registry;
    private final TelemetryOptions.Builder options = TelemetryOptions.builder();
    private boolean auditLog;
    private String tokenUnit;

    private Builder(MeterRegistry registry) {
      this.registry = registry;
    }

    /**
     * Which names the GenAI metrics get. Default {@link GenAiNaming#CURRENT}, what Spring AI and
     * LangChain4j emit today.
     *
     * @param naming the naming
     * @return this builder
     * @throws NullPointerException if {@code naming} is null
     */
    public Builder naming(GenAiNaming naming) {
      options.naming(naming);
      return this;
    }

    /**
     * The {@code gen_ai.operation.name} of the pool's requests. Default {@code chat}; use
     * {@code embeddings} or {@code text_completion} for a pool that serves those.
     *
     * @param operation a name from the conventions' list, or a custom one
     * @return this builder
     * @throws NullPointerException if {@code operation} is null
     * @throws IllegalArgumentException if it is blank ({@code operation must not be blank but was ''})
     */
    public Builder operation(String operation) {
      options.operation(operation);
      return this;
    }

    /**
     * The {@code gen_ai.provider.name} of one of the pool's providers (by its llmpool name). By
     * default it comes from the provider's base URL host ({@code api.openai.com} is {@code openai},
     * {@code *.openai.azure.com} is {@code azure.ai.openai}, {@code api.anthropic.com} is
     * {@code anthropic}, {@code api.groq.com} {@code groq}, {@code api.deepseek.com}
     * {@code deepseek}, {@code api.mistral.ai} {@code mistral_ai}, {@code api.x.ai} {@code x_ai},
     * {@code generativelanguage.googleapis.com} {@code gcp.gemini}; see
     * {@code TelemetryValues.genAiProviderOf}); any other host is {@code openai}, the API the pool
     * speaks.
     *
     * @param provider the provider's llmpool name
     * @param genAiProviderName the value, e.g. {@code ibm.watsonx.ai}
     * @return this builder
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if one is blank
     */
    public Builder genAiProvider(String provider, String genAiProviderName) {
      options.genAiProvider(provider, genAiProviderName);
      return this;
    }

    /**
     * Models to tag by name besides the providers' configured ones (a provider without a
     * {@code model} passes the request's model through): a request or response naming a model
     * neither configured nor listed here is tagged {@code other}.
     *
     * @param models model names
     * @return this builder
     * @throws NullPointerException if {@code models} or one of them is null
     * @throws IllegalArgumentException if one is blank
     */
    public Builder models(String... models) {
      options.models(models);
      return this;
    }

    /**
     * Whether to write the audit log ({@link LlmPoolAuditLog}) too, from the same hooks (cheaper
     * than binding both separately). Default false.
     *
     * @param enabled whether to write it
     * @return this builder
     */
    public Builder auditLog(boolean enabled) {
      this.auditLog = enabled;
      return this;
    }

    /**
     * The Micrometer base unit of the GenAI token meters. Default none: the conventions' unit is
     * {@code {token}}, a UCUM annotation (dimensionless), and Micrometer's Prometheus naming would
     * append it to the name ({@code gen_ai_client_token_usage__token__bucket}); without it the
     * exposition name is {@code gen_ai_client_token_usage_bucket}, what an OpenTelemetry
     * Collector's Prometheus exporter makes of {@code {token}}. Set {@code "{token}"} for a
     * registry that carries units as such (Micrometer's OTLP registry exports the base unit as the
     * OTLP unit).
     *
     * @param unit the base unit, or null for none
     * @return this builder
     * @throws IllegalArgumentException if it is blank
     */
    public Builder tokenUnit(String unit) {
      this.tokenUnit = unit == null ? null : TelemetryOptions.requireToken("tokenUnit", unit);
      return this;
    }

    /**
     * The binding.
     *
     * @return a new binding
     */
    public LlmPoolMetrics build() {
      return new LlmPoolMetrics(this);
    }
  }
}
