package io.github.llmpool.opentelemetry;

import io.github.llmpool.ProviderPool;
import io.github.llmpool.telemetry.GenAiNaming;
import io.github.llmpool.telemetry.RequestTracker;
import io.github.llmpool.telemetry.TelemetryOptions;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import okhttp3.Interceptor;
import okhttp3.Request;

/**
 * Binds llmpool pools to the OpenTelemetry API: the GenAI client metrics ({@code gen_ai.client.*},
 * names per {@link GenAiNaming}) and the router's own metrics ({@code llmpool.*}), the same as
 * {@code llmpool-micrometer} emits, and traces: a span per logical request, whose parent is the
 * context current on the calling thread, with a child span per attempt. The pool's hooks are
 * builder-time, so the binding takes the pool's builder and builds it:
 *
 * <pre>{@code
 * ProviderPool pool = LlmPoolTelemetry.bind(ProviderPool.builder().name("chat").tier(a, b).tier(c), openTelemetry);
 * // or, with options, for several pools:
 * LlmPoolTelemetry telemetry = LlmPoolTelemetry.builder(openTelemetry).naming(GenAiNaming.INFERENCE).build();
 * ProviderPool chat = telemetry.build(ProviderPool.builder().name("chat").tier(a, b));
 * }</pre>
 *
 * <p>Attribute values come from configuration only (as in {@code llmpool-micrometer}): a model a
 * request or response names that is not configured is {@code other}. Drop an attribute with an SDK
 * {@code View}. An async call ({@code enqueue}) runs the pool on OkHttp's dispatcher thread, where
 * the caller's context is not current: see {@link #contextInterceptor()}. Thread-safe.
 */
public final class LlmPoolTelemetry {
  /** The instrumentation scope name of the meter and the tracer. */
  public static final String INSTRUMENTATION_NAME = "io.github.llmpool";

  /** The class the OpenTelemetry Java agent puts on the bootstrap class path. */
  static final String AGENT_CLASS = "io.opentelemetry.javaagent.bootstrap.AgentInitializer";

  private final OpenTelemetry openTelemetry;
  private final TelemetryOptions options;
  private final boolean metrics;
  private final boolean traces;
  private final SpanKinds spanKinds;
  private final SpanKind kind;

  private LlmPoolTelemetry(Builder b) {
    this.openTelemetry = b.openTelemetry;
    this.options = b.options.build();
    this.metrics = b.metrics;
    this.traces = b.traces;
    this.spanKinds = b.spanKinds;
    this.kind = spanKind(b.spanKinds, agentAttached(AGENT_CLASS));
  }

  /**
   * Binds the pool {@code builder} describes with the defaults and builds it:
   * {@code builder(openTelemetry).build().build(builder)}.
   *
   * @param builder the pool's builder; pass it once (a second {@code build()} of the same builder
   *     would share the first pool's hooks)
   * @param openTelemetry where the metrics and spans go (an SDK, or {@code GlobalOpenTelemetry.get()}
   *     under the Java agent)
   * @return the pool, bound
   * @throws NullPointerException if an argument is null
   */
  public static ProviderPool bind(ProviderPool.Builder builder, OpenTelemetry openTelemetry) {
    return builder(openTelemetry).build().build(builder);
  }

  /**
   * A builder of a binding to {@code openTelemetry}.
   *
   * @param openTelemetry where the metrics and spans go
   * @return a new builder
   * @throws NullPointerException if {@code openTelemetry} is null
   */
  public static Builder builder(OpenTelemetry openTelemetry) {
    return new Builder(Objects.requireNonNull(openTelemetry, "openTelemetry"));
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
    return build(builder, ProviderPool.Builder::build);
  }

  /**
   * Adds this binding's hooks to {@code builder}, then lets {@code buildWith} build the pool, and
   * registers its gauges: for a pool that another binding builds too, e.g.
   * {@code telemetry.build(builder, b -> LlmPoolMetrics.bind(b, registry))}.
   *
   * @param builder the pool's builder; pass it once
   * @param buildWith builds the pool from {@code builder} (it may add hooks of its own first)
   * @return the pool {@code buildWith} returned, bound
   * @throws NullPointerException if an argument is null, or {@code buildWith} returned null
   * @throws IllegalArgumentException if the builder's configuration is invalid
   */
  public ProviderPool build(ProviderPool.Builder builder, Function<ProviderPool.Builder, ProviderPool> buildWith) {
    Objects.requireNonNull(builder, "builder");
    Objects.requireNonNull(buildWith, "buildWith");
    PoolView view = new PoolView(options.operation(), options.genAiProviders(), options.models());
    List<RequestTracker.Sink> sinks = new ArrayList<>(2);
    PoolInstruments instruments = null;
    if (metrics) {
      instruments = new PoolInstruments(openTelemetry.getMeter(INSTRUMENTATION_NAME), view, options.naming());
      sinks.add(instruments);
    }
    if (traces) {
      sinks.add(new PoolSpans(openTelemetry.getTracer(INSTRUMENTATION_NAME), view, kind));
    }
    if (!sinks.isEmpty()) {
      RequestTracker tracker = new RequestTracker(false, sinks.toArray(new RequestTracker.Sink[0]));
      builder.onRequest(tracker).onAttempt(tracker).onEvent(tracker).onUsage(tracker);
    }
    ProviderPool pool;
    try {
      pool = Objects.requireNonNull(buildWith.apply(builder), "buildWith returned null");
    } catch (RuntimeException e) {
      if (instruments != null) {
        instruments.close();
      }
      throw e;
    }
    view.bind(pool);
    return pool;
  }

  /**
   * An OkHttp application interceptor that makes the {@link Context} a request carries as its
   * tag ({@code Context.class}, see {@link #withCurrentContext(Request)}) current while the pool
   * handles it. Add it before the pool's interceptor
   * ({@code builder.addInterceptor(LlmPoolTelemetry.contextInterceptor()); pool.configure(builder)}):
   * an async call ({@code enqueue}) then gets the caller's span as its parent, although OkHttp runs
   * it on a dispatcher thread. A request without the tag passes through unchanged.
   *
   * @return the interceptor (one shared, stateless instance)
   */
  public static Interceptor contextInterceptor() {
    return ContextInterceptor.INSTANCE;
  }

  /**
   * {@code request} tagged with the context current on this thread, for
   * {@link #contextInterceptor()} to restore on the thread that runs the call.
   *
   * @param request the request, before {@code newCall(request).enqueue(...)}
   * @return a copy tagged with {@code Context.current()}
   * @throws NullPointerException if {@code request} is null
   */
  public static Request withCurrentContext(Request request) {
    return Objects.requireNonNull(request, "request").newBuilder().tag(Context.class, Context.current()).build();
  }

  /**
   * The naming of the GenAI metrics in force.
   *
   * @return the naming
   */
  public GenAiNaming naming() {
    return options.naming();
  }

  /**
   * The kind the request and attempt spans get, once {@link SpanKinds#AUTO} is resolved.
   *
   * @return {@code CLIENT} or {@code INTERNAL}
   */
  public SpanKind spanKind() {
    return kind;
  }

  @Override
  public String toString() {
    return "LlmPoolTelemetry{" + options + ", metrics=" + metrics + ", traces=" + traces + ", spanKinds=" + spanKinds
        + " (" + kind + ")}";
  }

  static SpanKind spanKind(SpanKinds kinds, boolean agent) {
    switch (kinds) {
      case CLIENT:
        return SpanKind.CLIENT;
      case INTERNAL:
        return SpanKind.INTERNAL;
      default:
        return agent ? SpanKind.INTERNAL : SpanKind.CLIENT;
    }
  }

  /** Whether {@code className} is loadable from the bootstrap or the system class loader (the agent's marker). */
  static boolean agentAttached(String className) {
    for (ClassLoader loader : new ClassLoader[] {null, ClassLoader.getSystemClassLoader()}) {
      try {
        Class.forName(className, false, loader);
        return true;
      } catch (ClassNotFoundException | LinkageError e) {
        // not there
      }
    }
    return false;
  }

  /** A mutable, not thread-safe builder of a binding. */
  public static final class Builder {
    private final OpenTelemetry openTelemetry;
    private final TelemetryOptions.Builder options = TelemetryOptions.builder();
    private boolean metrics = true;
    private boolean traces = true;
    private SpanKinds spanKinds = SpanKinds.AUTO;

    private Builder(OpenTelemetry openTelemetry) {
      this.openTelemetry = openTelemetry;
    }

    /**
     * Which names the GenAI metrics get. Default {@link GenAiNaming#CURRENT}, what Spring AI and
     * LangChain4j emit today (the same switch as {@code llmpool-micrometer}'s).
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
     * The {@code gen_ai.operation.name} of the pool's requests (and the first word of the span
     * names). Default {@code chat}; use {@code embeddings} or {@code text_completion} for a pool
     * that serves those.
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
     * default it comes from the provider's base URL host, as in {@code llmpool-micrometer}
     * ({@code TelemetryValues.genAiProviderOf}); any unknown host is {@code openai}.
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
     * Models to name in attributes besides the providers' configured ones: a request or response
     * naming a model neither configured nor listed here is {@code other}.
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
     * Whether to record metrics. Default true.
     *
     * @param enabled whether to
     * @return this builder
     */
    public Builder metrics(boolean enabled) {
      this.metrics = enabled;
      return this;
    }

    /**
     * Whether to record spans. Default true.
     *
     * @param enabled whether to
     * @return this builder
     */
    public Builder traces(boolean enabled) {
      this.traces = enabled;
      return this;
    }

    /**
     * The kinds of the request and attempt spans. Default {@link SpanKinds#AUTO}: {@code INTERNAL}
     * when the OpenTelemetry Java agent is attached (it makes the client spans of the same call),
     * {@code CLIENT} otherwise.
     *
     * @param kinds the choice
     * @return this builder
     * @throws NullPointerException if {@code kinds} is null
     */
    public Builder spanKinds(SpanKinds kinds) {
      this.spanKinds = Objects.requireNonNull(kinds, "kinds");
      return this;
    }

    /**
     * The binding.
     *
     * @return a new binding
     */
    public LlmPoolTelemetry build() {
      return new LlmPoolTelemetry(this);
    }
  }
}
