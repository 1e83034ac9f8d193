package io.github.llmpool;

import io.github.llmpool.internal.engine.PoolCore;
import io.github.llmpool.internal.okhttp.RedirectGuard;
import okhttp3.Interceptor;
import io.github.llmpool.internal.okhttp.RouterInterceptor;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One entry point in front of several pools: each request goes to the pool routed under its
 * model alias, and that pool handles it exactly as its own interceptor would (failover,
 * rewriting, eviction, usage).
 *
 * <pre>{@code
 * ModelRouter router = ModelRouter.builder()
 *     .route("fast", fastPool)     // providers with model("gpt-4o-mini"), model("llama-3.1-8b"), ...
 *     .route("smart", smartPool)   // providers with model("gpt-4o"), model("claude-sonnet-4"), ...
 *     .header("X-Model-Tier")      // optional: a header may name the alias too
 *     .defaultPool(fastPool)       // for requests that name no alias
 *     .build();
 * Dispatcher dispatcher = new Dispatcher();
 * dispatcher.setMaxRequestsPerHost(64); // every call names the router's one virtual host (OkHttp's default: 5)
 * OkHttpClient http = new OkHttpClient.Builder().addInterceptor(router.interceptor())
 *     .addNetworkInterceptor(router.redirectGuard()).dispatcher(dispatcher).build();
 * Request req = new Request.Builder()
 *     .url(router.baseUrl().resolve("chat/completions").toString())
 *     .post(RequestBody.create("{\"model\":\"smart\",\"messages\":[...]}", MediaType.get("application/json")))
 *     .build(); // served by smartPool
 * }</pre>
 *
 * <p>How the pool is chosen, in order:
 * <ol>
 *   <li>the routing {@link Builder#header(String) header}, if configured and present (it wins
 *       over the body: code that sets a header means it, while SDKs always fill in a model);
 *       it is removed before the request goes upstream;</li>
 *   <li>the JSON body's top-level {@code model} (bodies the pool can read: JSON up to 64 MiB, not
 *       one-shot; a multipart upload names no alias);</li>
 *   <li>a request naming neither goes to the {@link Builder#defaultPool default pool}, or is
 *       answered {@code 400} with an OpenAI-style error body when there is none.</li>
 * </ol>
 * An alias no route names goes to the default pool under
 * {@link UnknownAlias#DEFAULT_POOL}, or (the default, {@link UnknownAlias#REJECT}) is answered
 * {@code 404} at once with an OpenAI-style body ({@code "code":"model_not_found"}) naming the
 * alias and the known ones. A locally answered error never reaches any provider and carries
 * {@code x-should-retry: false}. Aliases match exactly (case-sensitive).
 *
 * <p>Aliases and model overrides: the alias is what the caller wrote in {@code model}, and the
 * chosen pool rewrites {@code model} for each provider that has an override
 * ({@link Provider.Builder#model}). A provider without one would receive the alias itself, which
 * upstream rarely knows, so {@link Builder#build()} refuses a routed pool whose providers lack
 * an override unless {@link Builder#requireModelOverrides(boolean) requireModelOverrides(false)}
 * (for aliases that are real model names). The default pool is not checked: it receives whatever
 * the request says. Providers added later by {@link ProviderPool#update} are not checked.
 *
 * <p>Requests are addressed to the router's virtual host ({@link #baseUrl()}); the pools' own
 * virtual hosts and interceptors stay usable on their own. Each pool keeps its own providers,
 * health, retry budget, affinity and listeners.
 *
 * <p>Immutable and thread-safe.
 */
public final class ModelRouter {

  /** Default virtual host of a router: {@value}, the pools' default too. */
  public static final String DEFAULT_VIRTUAL_HOST = ProviderPool.DEFAULT_VIRTUAL_HOST;
  /** Default handling of an alias no route names: {@link UnknownAlias#REJECT}. */
  public static final UnknownAlias DEFAULT_UNKNOWN_ALIAS = UnknownAlias.REJECT;

  private static final String VIRTUAL_PREFIX = "/v1";

  /** What happens to a request whose alias no route names. */
  public enum UnknownAlias {
    /** Answer {@code 404} locally, naming the alias and the known ones (the default). */
    REJECT,
    /** Send it to the default pool, with its model unchanged (e.g. a real model name). */
    DEFAULT_POOL
  }

  private final Map<String, ProviderPool> routes;
  private final ProviderPool defaultPool;
  private final String header;
  private final UnknownAlias unknownAlias;
  private final URI baseUrl;
  private final RouterInterceptor interceptor;

  private ModelRouter(Builder b) {
    this.routes = Collections.unmodifiableMap(new LinkedHashMap<>(b.routes));
    this.defaultPool = b.defaultPool;
    this.header = b.header;
    this.unknownAlias = b.unknownAlias;
    this.baseUrl = URI.create("http://" + b.virtualHost + VIRTUAL_PREFIX + "/");
    Map<String, PoolCore> cores = new LinkedHashMap<>();
    routes.forEach((alias, pool) -> cores.put(alias, pool.core()));
    this.interceptor = new RouterInterceptor(b.virtualHost, VIRTUAL_PREFIX, header, cores, new ArrayList<>(routes.keySet()),
        defaultPool == null ? null : defaultPool.core(), unknownAlias == UnknownAlias.DEFAULT_POOL);
  }

  /** A new, empty builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The OkHttp application interceptor that routes requests addressed to {@link #baseUrl()}. */
  public Interceptor interceptor() {
    return interceptor;
  }

  /**
   * The network interceptor that keeps each provider's credential on its own host across
   * redirects; the same as {@link ProviderPool#redirectGuard()}:
   * {@code addNetworkInterceptor(router.redirectGuard())}.
   */
  public Interceptor redirectGuard() {
    return RedirectGuard.get();
  }

  /** The virtual base URL to address requests to, {@code http://llmpool.invalid/v1/} by default. */
  public URI baseUrl() {
    return baseUrl;
  }

  /** The pools by alias, in the order they were routed. */
  public Map<String, ProviderPool> routes() {
    return routes;
  }

  /** The pool for requests that name no alias (and unknown ones under {@link UnknownAlias#DEFAULT_POOL}). */
  public Optional<ProviderPool> defaultPool() {
    return Optional.ofNullable(defaultPool);
  }

  /** The routing header, if any. */
  public Optional<String> header() {
    return Optional.ofNullable(header);
  }

  /** What happens to an unknown alias. */
  public UnknownAlias unknownAlias() {
    return unknownAlias;
  }

  @Override
  public String toString() {
    return "ModelRouter{" + baseUrl + ", aliases=" + routes.keySet() + (header == null ? "" : ", header=" + header)
        + ", default=" + (defaultPool == null ? "none" : "set") + ", unknownAlias=" + unknownAlias + "}";
  }

  /**
   * A mutable, not thread-safe builder. {@link #build()} validates and returns an immutable,
   * thread-safe router.
   */
  public static final class Builder {
    private final Map<String, ProviderPool> routes = new LinkedHashMap<>();
    private ProviderPool defaultPool;
    private String header;
    private UnknownAlias unknownAlias = DEFAULT_UNKNOWN_ALIAS;
    private String virtualHost = DEFAULT_VIRTUAL_HOST;
    private boolean requireModelOverrides = true;

    private Builder() {}

    /** Routes requests whose alias is {@code alias} (non-blank, unique) to {@code pool}. Required at least once. */
    public Builder route(String alias, ProviderPool pool) {
      Objects.requireNonNull(alias, "alias");
      Objects.requireNonNull(pool, "pool");
      if (alias.isBlank()) {
        throw new IllegalArgumentException("alias must not be blank but was '" + alias + "'");
      }
      if (routes.containsKey(alias)) {
        throw new IllegalArgumentException("alias must be unique but '" + alias + "' is routed twice");
      }
      routes.put(alias, pool);
      return this;
    }

    /** A request header that names the alias and wins over the body's {@code model}. Default: none. */
    public Builder header(String name) {
      Objects.requireNonNull(name, "header");
      if (!Affinity.isToken(name)) {
        throw new IllegalArgumentException("header must be a header name but was '" + name + "'");
      }
      this.header = name;
      return this;
    }

    /** The pool for requests that name no alias. Default: none (such requests get a local 400). */
    public Builder defaultPool(ProviderPool pool) {
      this.defaultPool = Objects.requireNonNull(pool, "defaultPool");
      return this;
    }

    /** What to do with an alias no route names. Default {@link UnknownAlias#REJECT} (a local 404). */
    public Builder unknownAlias(UnknownAlias policy) {
      this.unknownAlias = Objects.requireNonNull(policy, "unknownAlias");
      return this;
    }

    /** The router's virtual host. Default {@value ModelRouter#DEFAULT_VIRTUAL_HOST}. */
    public Builder virtualHost(String host) {
      this.virtualHost = ProviderPool.checkVirtualHost(host);
      return this;
    }

    /**
     * Whether {@link #build()} refuses a routed pool with a provider that has no model override
     * (it would receive the alias as its model). Default true; turn it off when aliases are real
     * model names.
     */
    public Builder requireModelOverrides(boolean require) {
      this.requireModelOverrides = require;
      return this;
    }

    /** Validates and builds the router. */
    public ModelRouter build() {
      if (routes.isEmpty()) {
        throw new IllegalArgumentException("routes must hold at least one alias but the router has none");
      }
      if (unknownAlias == UnknownAlias.DEFAULT_POOL && defaultPool == null) {
        throw new IllegalArgumentException("unknownAlias DEFAULT_POOL needs a defaultPool but none was set");
      }
      if (requireModelOverrides) {
        for (Map.Entry<String, ProviderPool> r : routes.entrySet()) {
          for (List<Provider> tier : r.getValue().tiers()) {
            for (Provider p : tier) {
              if (p.model().isEmpty()) {
                throw new IllegalArgumentException("route '" + r.getKey() + "': provider '" + p.name()
                    + "' has no model override and would receive the model '" + r.getKey()
                    + "'; give it Provider.Builder.model(...) or call requireModelOverrides(false)");
              }
            }
          }
        }
      }
      return new ModelRouter(this);
    }
  }
}
