package io.github.llmpool;

import io.github.llmpool.internal.health.Health;
import io.github.llmpool.internal.health.LatencyModel;
import io.github.llmpool.internal.engine.AffinityTable;
import io.github.llmpool.internal.route.Endpoint;
import io.github.llmpool.internal.engine.PoolCore;
import io.github.llmpool.internal.okhttp.PoolInterceptor;
import io.github.llmpool.internal.okhttp.RedirectGuard;
import io.github.llmpool.spi.AttemptListener;
import io.github.llmpool.spi.RequestListener;
import io.github.llmpool.spi.RandomSource;
import io.github.llmpool.spi.SharedState;
import io.github.llmpool.internal.okhttp.Clients;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * A pool of OpenAI-compatible providers in priority tiers, and the OkHttp interceptor that spreads
 * requests over them.
 *
 * <pre>{@code
 * ProviderPool pool = ProviderPool.builder()
 *     .tier(Provider.builder("mini").baseUrl("https://api.openai.com/v1")
 *               .apiKey(System.getenv("OPENAI_API_KEY")).model("gpt-4o-mini").weight(80).build(),
 *           Provider.builder("big").baseUrl("https://api.openai.com/v1")
 *               .apiKey(System.getenv("OPENAI_API_KEY")).model("gpt-4o").weight(20).build())
 *     .tier(Provider.builder("local").baseUrl("http://localhost:8090/v1").build())
 *     .strategy(Strategy.POWER_OF_TWO_CHOICES)
 *     .onUsage(u -> System.out.println(u.provider() + " " + u.totalTokens()))
 *     .build();
 * OkHttpClient http = pool.newHttpClient(); // interceptor, redirect guard, 64 calls at once
 * Request req = new Request.Builder()
 *     .url(pool.baseUrl().resolve("chat/completions").toString())
 *     .post(RequestBody.create(json, MediaType.get("application/json")))
 *     .build();
 * }</pre>
 *
 * <p>At run time: {@link #snapshot()} shows every provider, {@link #update} replaces the tiers,
 * and the kill switch takes a provider, a tier or the whole pool out of rotation and puts it
 * back ({@link #drain(String)}, {@link #drainTier(int)}, {@link #drainAll()} and their
 * {@code resume} counterparts). Metrics and tracing hook in through {@link Builder#onUsage},
 * {@link Builder#onEvent}, {@link Builder#onAttempt} and {@link Builder#onRequest}, tagged with {@link #name()}; instances of
 * one pool on several machines share evictions through {@link Builder#sharedState}.
 *
 * <p>Thread-safe. The routing snapshot is immutable and replaced atomically by {@link #update}.
 */
public final class ProviderPool {

  /**
   * Default pool name: {@value}. Name pools distinctly when an application has several: the name
   * tags their log lines and, through listeners, their metrics.
   */
  /** Concurrent calls a client from {@link #newHttpClient()} or {@link #configure} lets through at once. */
  public static final int DEFAULT_MAX_CONCURRENT_CALLS = 64;

  public static final String DEFAULT_NAME = "default";
  /** Longest pool name: {@value} characters. */
  public static final int MAX_NAME_LENGTH = 64;
  /** Default virtual host: {@value}. A reserved name (RFC 2606), so a client without the interceptor fails fast. */
  public static final String DEFAULT_VIRTUAL_HOST = "llmpool.invalid";
  /** Default strategy: power of two choices. */
  public static final Strategy DEFAULT_STRATEGY = Strategy.POWER_OF_TWO_CHOICES;
  /** Default all-evicted policy: fail open. */
  public static final AllEvictedPolicy DEFAULT_ALL_EVICTED_POLICY = AllEvictedPolicy.FAIL_OPEN;

  private static final String VIRTUAL_PREFIX = "/v1";

  private final PoolCore core;
  private final PoolInterceptor interceptor;
  private final URI baseUrl;
  private final P2cSettings p2c;
  private volatile List<List<Provider>> tiers;
  private final List<Budget> budgets;

  private ProviderPool(Builder b) {
    this.budgets = List.copyOf(b.budgets);
    this.tiers = b.copyTiers();
    this.p2c = b.p2c;
    Health health = new Health(b.eviction, b.latencyModel(), b.random);
    PoolCore.Settings settings = new PoolCore.Settings(b.name, b.ticker, b.random, health, b.retry, b.classifier,
        b.allEvictedPolicy, b.latencyModel(), b.usageListeners, b.poolListeners, b.attemptListeners, b.sharedState,
        b.failOnTruncatedStream,
        b.virtualHost, VIRTUAL_PREFIX, b.requestListeners, b.quotaRouting, b.quotaWait.toNanos());
    this.core = new PoolCore(settings, b.strategy, endpoints(tiers), weights(tiers),
        b.affinity == null ? null : new AffinityTable(b.affinity, b.ticker), budgets);
    this.interceptor = new PoolInterceptor(core);
    if (b.probeClient != null) {
      io.github.llmpool.internal.okhttp.Prober.install(core, b.probeClient);
    }
    this.baseUrl = URI.create("http://" + b.virtualHost + VIRTUAL_PREFIX + "/");
  }

  /** A new, empty builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The pool's name ({@value #DEFAULT_NAME} unless {@link Builder#name(String)} set one): it tags
   * the pool's log lines ({@code llmpool[name] provider ... evicted}), its attempt hooks and, for
   * metrics, whatever its listeners record.
   */
  public String name() {
    return core.name();
  }

  /**
   * A new OkHttp client for this pool: {@link #interceptor()}, {@link #redirectGuard()} as a network
   * interceptor, and a dispatcher that lets {@value #DEFAULT_MAX_CONCURRENT_CALLS} calls run at once,
   * all to the pool's one virtual host (OkHttp's default, 5 per host, would queue the sixth). Other
   * settings are OkHttp's defaults; use {@link #configure(OkHttpClient.Builder)} to start from yours.
   * Build one per application and share it, as OkHttp advises.
   *
   * @return a client whose calls to {@link #baseUrl()} go through this pool
   */
  public OkHttpClient newHttpClient() {
    return configure(new OkHttpClient.Builder()).build();
  }

  /**
   * Adds this pool to {@code builder} in one call: {@link #interceptor()}, {@link #redirectGuard()}
   * as a network interceptor, and a new dispatcher allowing {@value #DEFAULT_MAX_CONCURRENT_CALLS}
   * concurrent calls, all to the pool's one virtual host. It replaces a dispatcher the builder had:
   * set your own after this call if you need other limits, keeping {@code maxRequestsPerHost} as high
   * as {@code maxRequests}.
   *
   * @param builder the builder to configure (timeouts, connection pool and the rest stay yours)
   * @return {@code builder}
   * @throws NullPointerException if {@code builder} is null
   */
  public OkHttpClient.Builder configure(OkHttpClient.Builder builder) {
    Objects.requireNonNull(builder, "builder");
    return Clients.configure(builder, interceptor, DEFAULT_MAX_CONCURRENT_CALLS);
  }

  /**
   * The OkHttp application interceptor that routes requests addressed to {@link #baseUrl()}. A
   * client built by hand with it needs a dispatcher whose {@code maxRequestsPerHost} is raised
   * (OkHttp's default, 5, would cap the whole pool at 5 concurrent async calls, since every call
   * names the one virtual host); where that limit holds the pool's calls in a client's queue, the
   * pool logs one WARN (logger {@code io.github.llmpool.dispatcher}) naming it and the fix.
   * {@link #newHttpClient()} and {@link #configure(OkHttpClient.Builder)} set it.
   */
  public Interceptor interceptor() {
    return interceptor;
  }

  /**
   * A network interceptor that strips the provider's credential and extra headers from any
   * redirect hop to another host (OkHttp itself strips only {@code Authorization}). Add it with
   * {@code addNetworkInterceptor(pool.redirectGuard())}, or build the client with
   * {@code followRedirects(false)}.
   */
  public Interceptor redirectGuard() {
    return RedirectGuard.get();
  }

  /**
   * The virtual base URL to address requests to, {@code http://llmpool.invalid/v1/} by default:
   * {@code pool.baseUrl().resolve("chat/completions").toString()}. A {@link URI} rather than
   * OkHttp's {@code HttpUrl} so that the API package does not depend on OkHttp.
   */
  public URI baseUrl() {
    return baseUrl;
  }

  /** An immutable view of every provider: tier, weight, state, in-flight, estimate, counters, tokens. */
  public PoolSnapshot snapshot() {
    return core.snapshot();
  }

  /** The providers in force, tier by tier. */
  public List<List<Provider>> tiers() {
    return tiers;
  }

  /** Session affinity, if configured. */
  public Optional<Affinity> affinity() {
    AffinityTable t = core.affinity();
    return t == null ? Optional.empty() : Optional.of(t.spec());
  }

  /** The strategy in force. */
  public Strategy strategy() {
    return core.router().strategy();
  }

  /**
   * Replaces the tiers atomically without a restart: change weights, add or remove providers,
   * reorder tiers. Validated like {@link Builder#build()}. Providers whose name stays keep their
   * health, drain, estimates, counters and in-flight requests; requests in flight finish on the
   * provider they started on.
   *
   * @throws NullPointerException if {@code newTiers}, a tier or a provider is null
   * @throws IllegalArgumentException if the tiers are invalid (as {@link Builder#build()} says)
   */
  public void update(List<List<Provider>> newTiers) {
    update(strategy(), newTiers);
  }

  /**
   * As {@link #update(List)}, changing the strategy too.
   *
   * @throws NullPointerException if {@code strategy}, {@code newTiers}, a tier or a provider is null
   * @throws IllegalArgumentException if the tiers are invalid
   */
  public void update(Strategy strategy, List<List<Provider>> newTiers) {
    Objects.requireNonNull(strategy, "strategy");
    Objects.requireNonNull(newTiers, "tiers");
    List<List<Provider>> copy = new ArrayList<>();
    for (List<Provider> t : newTiers) {
      copy.add(List.copyOf(Objects.requireNonNull(t, "tier")));
    }
    validate(copy);
    validateBudgets(budgets, copy);
    synchronized (this) {
      core.reconfigure(strategy, endpoints(copy), weights(copy));
      this.tiers = List.copyOf(copy);
    }
  }

  // ------------------------------------------------------------------ kill switch

  /**
   * Takes one provider out of rotation at run time: no new attempt goes to it, not even as the
   * fail-open choice or a probe; requests in flight on it finish normally and are counted. A tier
   * whose providers are all drained spills to the next, as if they were evicted. Its eviction
   * state, estimates and counters are kept. Survives {@link #update} while the provider's name
   * stays; {@link #resume(String)} puts it back. Emits {@link PoolEvent.Drained} (unless it was
   * already out of rotation) and {@link ProviderSnapshot.Status#DRAINED} shows in the snapshot.
   * Lock-free for requests: the pick path reads one flag.
   *
   * @throws NullPointerException if {@code provider} is null
   * @throws IllegalArgumentException if the pool has no provider of that name
   *     ({@code provider must be one of [a, b] but was 'c'})
   */
  public void drain(String provider) {
    core.drain(Objects.requireNonNull(provider, "provider"), true);
  }

  /**
   * Puts a provider drained by {@link #drain(String)} or {@link #drainTier(int)} back into
   * rotation (as it was: an eviction still in force stays in force). Emits
   * {@link PoolEvent.Resumed} if it was drained. While the whole pool is drained
   * ({@link #drainAll()}) it stays out until {@link #resumeAll()}.
   *
   * @throws NullPointerException if {@code provider} is null
   * @throws IllegalArgumentException if the pool has no provider of that name
   */
  public void resume(String provider) {
    core.drain(Objects.requireNonNull(provider, "provider"), false);
  }

  /**
   * {@link #drain(String)} for every provider of {@code tier} (0 = first) as the tiers are now; a
   * later {@link #update} that moves one of them to another tier moves its drain with it. Traffic
   * spills to the next tier at once.
   *
   * @throws IllegalArgumentException if there is no such tier ({@code tier must be in [0, 1] but was 2})
   */
  public void drainTier(int tier) {
    core.drainTier(tier, true);
  }

  /**
   * {@link #resume(String)} for every provider of {@code tier} (0 = first) as the tiers are now.
   *
   * @throws IllegalArgumentException if there is no such tier
   */
  public void resumeTier(int tier) {
    core.drainTier(tier, false);
  }

  /**
   * Takes the whole pool out of rotation: every new request is refused at once with a
   * {@link NoProviderAvailableException} whose message says the pool is drained (no provider is
   * tried, nothing fails open), providers added later by {@link #update} included; requests in
   * flight finish normally (but make no further attempt). {@link #resumeAll()} puts it back.
   * Emits {@link PoolEvent.Drained} for each provider that was still in rotation.
   */
  public void drainAll() {
    core.drainAll(true);
  }

  /**
   * Puts everything back into rotation: ends {@link #drainAll()} and every drain of a provider
   * or tier. Emits {@link PoolEvent.Resumed} for each provider that was out of rotation.
   */
  public void resumeAll() {
    core.drainAll(false);
  }

  /** The eviction settings in force (fixed at build time). */
  public EvictionPolicy eviction() {
    return core.settings().health().policy();
  }

  /** The retry settings in force (fixed at build time). */
  public RetryPolicy retry() {
    return core.settings().retry();
  }

  /** What the pool shares with other instances of it (fixed at build time). */
  public SharedState sharedState() {
    return core.settings().sharedState();
  }

  /** The settings of P2C's latency estimates in force (fixed at build time). */
  public P2cSettings p2c() {
    return p2c;
  }

  /** Whether the pool routes on quota headroom ({@link Builder#quotaRouting}; fixed at build time). */
  public boolean quotaRouting() {
    return core.settings().quotaRouting();
  }

  /** How long a request may wait for quota headroom ({@link Builder#quotaWait}; fixed at build time). */
  public Duration quotaWait() {
    return Duration.ofNanos(core.settings().quotaWaitNanos());
  }

  /** The budgets in force, in the order they were added (fixed at build time). */
  public List<Budget> budgets() {
    return budgets;
  }

  /** What a request gets when every provider is out (fixed at build time). */
  public AllEvictedPolicy whenAllEvicted() {
    return core.settings().allEvictedPolicy();
  }

  /** The engine, for the package's router. */
  PoolCore core() {
    return core;
  }

  @Override
  public String toString() {
    return "ProviderPool{" + name() + ", " + baseUrl + ", strategy=" + strategy() + ", tiers=" + tiers + "}";
  }

  /** Validates a pool name: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit. */
  static String checkName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.length() > MAX_NAME_LENGTH || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new IllegalArgumentException("name must be 1 to " + MAX_NAME_LENGTH + " letters, digits, '.', '_' or '-',"
          + " starting with a letter or digit, but was '" + (name.length() > MAX_NAME_LENGTH
              ? name.substring(0, MAX_NAME_LENGTH) + "...' (" + name.length() + " characters)" : name + "'"));
    }
    return name;
  }

  /** Validates a virtual host name (shared by pools and routers) and returns it in lower case. */
  static String checkVirtualHost(String host) {
    Objects.requireNonNull(host, "virtualHost");
    if (!host.matches("[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")) {
      throw new IllegalArgumentException("virtualHost must be a host name but was '" + host + "'");
    }
    return host.toLowerCase(Locale.ROOT);
  }

  static void validate(List<List<Provider>> tiers) {
    if (tiers.isEmpty()) {
      throw new IllegalArgumentException("tiers must hold at least one provider but the pool has none");
    }
    Set<String> names = new HashSet<>();
    Map<String, Provider> groups = new HashMap<>();
    for (int t = 0; t < tiers.size(); t++) {
      List<Provider> tier = tiers.get(t);
      if (tier.isEmpty()) {
        throw new IllegalArgumentException("tier " + t + " must hold at least one provider but was empty");
      }
      long sum = 0;
      for (Provider p : tier) {
        Objects.requireNonNull(p, "provider");
        if (!names.add(p.name())) {
          throw new IllegalArgumentException("provider names must be unique but '" + p.name() + "' appears twice");
        }
        sum += p.weight();
        checkGroupLimits(groups, p);
      }
      if (sum == 0) {
        throw new IllegalArgumentException("weights of tier " + t + " must not all be 0 but were "
            + tier.stream().map(p -> p.name() + "=0").toList());
      }
      if (sum > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("sum of weights of tier " + t + " must be <= " + Integer.MAX_VALUE
            + " but was " + sum);
      }
    }
  }

  /**
   * Budgets must have distinct names, and a scoped one must name a provider or quota group the
   * tiers have; a money budget counts only providers priced in its currency (or unpriced).
   */
  static void validateBudgets(List<Budget> budgets, List<List<Provider>> tiers) {
    Set<String> names = new HashSet<>();
    for (Budget b : budgets) {
      if (!names.add(b.name())) {
        throw new IllegalArgumentException("budget names must be unique but '" + b.name() + "' appears twice");
      }
      List<Provider> inScope = new ArrayList<>();
      List<String> providers = new ArrayList<>();
      Set<String> groups = new java.util.TreeSet<>();
      for (List<Provider> tier : tiers) {
        for (Provider p : tier) {
          providers.add(p.name());
          p.quotaGroup().ifPresent(groups::add);
          boolean in = switch (b.scope()) {
            case POOL -> true;
            case PROVIDER -> p.name().equals(b.scopeName().orElseThrow());
            case QUOTA_GROUP -> p.quotaGroup().equals(b.scopeName());
          };
          if (in) {
            inScope.add(p);
          }
        }
      }
      if (inScope.isEmpty() && b.scope() == Budget.Scope.PROVIDER) {
        throw new IllegalArgumentException("budget.provider must be one of " + providers + " but was '"
            + b.scopeName().orElseThrow() + "' (budget '" + b.name() + "')");
      }
      if (inScope.isEmpty() && b.scope() == Budget.Scope.QUOTA_GROUP) {
        throw new IllegalArgumentException("budget.quotaGroup must be one of " + groups + " but was '"
            + b.scopeName().orElseThrow() + "' (budget '" + b.name() + "')");
      }
      if (b.unit() == Budget.Unit.MONEY) {
        String currency = b.currency().orElseThrow();
        for (Provider p : inScope) {
          Optional<Price> price = p.price();
          if (price.isPresent() && !price.get().currency().equals(currency)) {
            throw new IllegalArgumentException("budget.currency must be the currency of every priced provider in its"
                + " scope but budget '" + b.name() + "' is in " + currency + " and provider '" + p.name()
                + "' is priced in " + price.get().currency());
          }
        }
      }
    }
  }

  /**
   * Members of one quota group share its configured limits: a member that configures a per-minute
   * limit must configure the one the first member that set it did.
   */
  private static void checkGroupLimits(Map<String, Provider> groups, Provider p) {
    String g = p.quotaGroup().orElse(null);
    if (g == null || (p.requestsPerMinute().isEmpty() && p.tokensPerMinute().isEmpty())) {
      return;
    }
    Provider first = groups.putIfAbsent(g, p);
    if (first == null) {
      return;
    }
    if (!first.requestsPerMinute().equals(p.requestsPerMinute())) {
      throw new IllegalArgumentException("requestsPerMinute of quota group '" + g + "' must be the same for every"
          + " member that sets limits but '" + first.name() + "' has " + describe(first.requestsPerMinute()) + " and '"
          + p.name() + "' has " + describe(p.requestsPerMinute()));
    }
    if (!first.tokensPerMinute().equals(p.tokensPerMinute())) {
      throw new IllegalArgumentException("tokensPerMinute of quota group '" + g + "' must be the same for every"
          + " member that sets limits but '" + first.name() + "' has " + describe(first.tokensPerMinute()) + " and '"
          + p.name() + "' has " + describe(p.tokensPerMinute()));
    }
  }

  private static String describe(java.util.OptionalInt v) {
    return v.isPresent() ? String.valueOf(v.getAsInt()) : "none";
  }

  private static String describe(java.util.OptionalLong v) {
    return v.isPresent() ? String.valueOf(v.getAsLong()) : "none";
  }

  private static List<List<Endpoint>> endpoints(List<List<Provider>> tiers) {
    List<List<Endpoint>> out = new ArrayList<>();
    for (List<Provider> tier : tiers) {
      List<Endpoint> eps = new ArrayList<>();
      for (Provider p : tier) {
        URI u = p.baseUrl();
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        int port = u.getPort() != -1 ? u.getPort() : ("https".equals(scheme) ? 443 : 80);
        String host = u.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
          host = host.substring(1, host.length() - 1);
        }
        List<Map.Entry<String, String>> headers = new ArrayList<>(p.headers().entrySet());
        eps.add(new Endpoint(p.name(), scheme, host, port, u.getRawPath() == null ? "" : u.getRawPath(),
            p.apiKeyHeader(), p.credentialValue(), p.model().orElse(null), headers, p.includeUsage(), p.concurrency(),
            p.requestsPerMinute().orElse(-1), p.tokensPerMinute().orElse(-1), p.quotaGroup().orElse(null),
            p.price().orElse(null)));
      }
      out.add(eps);
    }
    return out;
  }

  private static List<List<Integer>> weights(List<List<Provider>> tiers) {
    return tiers.stream().map(t -> t.stream().map(Provider::weight).toList()).toList();
  }

  /**
   * A mutable, not thread-safe builder. {@link #build()} validates the whole configuration, copies
   * it and returns an immutable, thread-safe pool.
   */
  public static final class Builder {
    private final List<List<Provider>> tiers = new ArrayList<>();
    private Strategy strategy = DEFAULT_STRATEGY;
    private EvictionPolicy eviction = EvictionPolicy.defaults();
    private RetryPolicy retry = RetryPolicy.defaults();
    private OutcomeClassifier classifier = OutcomeClassifier.defaults();
    private AllEvictedPolicy allEvictedPolicy = DEFAULT_ALL_EVICTED_POLICY;
    private String name = DEFAULT_NAME;
    private final List<UsageListener> usageListeners = new ArrayList<>();
    private final List<PoolListener> poolListeners = new ArrayList<>();
    private final List<AttemptListener> attemptListeners = new ArrayList<>();
    private final List<RequestListener> requestListeners = new ArrayList<>();
    private SharedState sharedState = SharedState.LOCAL_ONLY;
    private Ticker ticker = Ticker.system();
    private RandomSource random = RandomSource.threadLocal();
    private P2cSettings p2c = P2cSettings.defaults();
    private boolean failOnTruncatedStream = true;
    private String virtualHost = DEFAULT_VIRTUAL_HOST;
    private Affinity affinity;
    private boolean quotaRouting = true;
    private Duration quotaWait = Duration.ZERO;
    private OkHttpClient probeClient;
    private final List<Budget> budgets = new ArrayList<>();

    private Builder() {}

    /** Adds the next priority tier (the first call is tier 0, served first). */
    public Builder tier(Provider... providers) {
      Objects.requireNonNull(providers, "providers");
      return tier(Arrays.asList(providers));
    }

    /** Adds the next priority tier. */
    public Builder tier(List<Provider> providers) {
      Objects.requireNonNull(providers, "providers");
      for (Provider p : providers) {
        Objects.requireNonNull(p, "provider");
      }
      tiers.add(new ArrayList<>(providers));
      return this;
    }

    /** Selection within a tier. Default {@link Strategy#POWER_OF_TWO_CHOICES}. */
    public Builder strategy(Strategy strategy) {
      this.strategy = Objects.requireNonNull(strategy, "strategy");
      return this;
    }

    /** Eviction settings. Default {@link EvictionPolicy#defaults()}. */
    public Builder eviction(EvictionPolicy eviction) {
      this.eviction = Objects.requireNonNull(eviction, "eviction");
      return this;
    }

    /** Failover settings. Default {@link RetryPolicy#defaults()} (3 attempts, 20% budget). */
    public Builder retry(RetryPolicy retry) {
      this.retry = Objects.requireNonNull(retry, "retry");
      return this;
    }

    /** Outcome classification. Default {@link OutcomeClassifier#defaults()}. */
    public Builder classifier(OutcomeClassifier classifier) {
      this.classifier = Objects.requireNonNull(classifier, "classifier");
      return this;
    }

    /** What to do when every provider is evicted. Default {@link AllEvictedPolicy#FAIL_OPEN}. */
    public Builder whenAllEvicted(AllEvictedPolicy policy) {
      this.allEvictedPolicy = Objects.requireNonNull(policy, "whenAllEvicted");
      return this;
    }

    /**
     * The pool's name, for metric tags and log lines ({@code llmpool[chat] provider a evicted ...}).
     * Default {@value ProviderPool#DEFAULT_NAME}; 1 to {@value ProviderPool#MAX_NAME_LENGTH}
     * letters, digits, {@code .}, {@code _} or {@code -}, starting with a letter or digit. Pools
     * sharing a {@link #sharedState(SharedState) shared state} share by name.
     *
     * @throws NullPointerException if {@code name} is null
     * @throws IllegalArgumentException if it is not such a token ({@code name must be 1 to 64
     *     letters, digits, '.', '_' or '-', starting with a letter or digit, but was 'my pool'})
     */
    public Builder name(String name) {
      this.name = checkName(name);
      return this;
    }

    /**
     * Adds a listener that receives one {@link TokenUsage} per attempt that got a response. Default:
     * none. May be called several times: every listener gets every record, in registration order,
     * and one that throws is logged (by class and origin, never its message) without keeping the
     * others from the record.
     *
     * @throws NullPointerException if {@code listener} is null
     */
    public Builder onUsage(UsageListener listener) {
      usageListeners.add(Objects.requireNonNull(listener, "onUsage"));
      return this;
    }

    /**
     * Adds a listener that receives the pool's {@link PoolEvent}s (evictions, restorations, probes,
     * retries, failovers, exhaustion, drains). Default: none; no event is built while none is
     * registered. May be called several times: every listener gets every event, in registration
     * order, and one that throws is logged (by class and origin, never its message) without
     * keeping the others from the event. Replaces {@code listener(PoolListener)}.
     *
     * @throws NullPointerException if {@code listener} is null
     */
    public Builder onEvent(PoolListener listener) {
      poolListeners.add(Objects.requireNonNull(listener, "onEvent"));
      return this;
    }

    /**
     * Adds hooks called when each attempt is dispatched ({@link AttemptListener#onStart}) and when
     * it ends ({@link AttemptListener#onEnd}), for metrics and tracing without the engine's
     * internals. Default: none; while none is registered no start or end value is built. May be
     * called several times: every listener gets every call, in registration order, and one that
     * throws is logged (by class and origin, never its message) without keeping the others from
     * it.
     *
     * @throws NullPointerException if {@code listener} is null
     */
    public Builder onAttempt(AttemptListener listener) {
      attemptListeners.add(Objects.requireNonNull(listener, "onAttempt"));
      return this;
    }

    /**
     * Adds hooks called when each logical request begins ({@link RequestListener#onStart}, before
     * a provider is chosen) and exactly once when it ends ({@link RequestListener#onEnd}: at the
     * end or close of the final body, or when the call throws, a request refused before any
     * attempt included), for request-level metrics, spans and audit logs; the request's id ties
     * its attempts to it ({@link io.github.llmpool.spi.AttemptStart#requestId()}). Default: none;
     * while none is registered no start or end value is built. May be called several times: every
     * listener gets every call, in registration order, and one that throws is logged (by class
     * and origin, never its message) without keeping the others from it.
     *
     * @throws NullPointerException if {@code listener} is null
     */
    public Builder onRequest(RequestListener listener) {
      requestListeners.add(Objects.requireNonNull(listener, "onRequest"));
      return this;
    }

    /**
     * What this pool shares with the other instances of it (pools of the same {@link #name(String)
     * name} in other processes): today the evictions each one decides, so that a provider that
     * answered one instance with a 429 and {@code Retry-After: 30} is kept out by all. Publishing
     * never happens on the pick path (once per eviction decided, on the thread that got the
     * answer); an eviction learned from another instance is applied with the local rule (an
     * eviction in force is never shortened). Default {@link SharedState#LOCAL_ONLY}: nothing is
     * shared. {@link SharedState#join} is called once, by {@link #build()}.
     *
     * @throws NullPointerException if {@code sharedState} is null
     */
    public Builder sharedState(SharedState sharedState) {
      this.sharedState = Objects.requireNonNull(sharedState, "sharedState");
      return this;
    }

    /** The clock. Default {@link Ticker#system()}. Inject a fake in tests. */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /** The randomness. Default {@link RandomSource#threadLocal()}. Inject a seeded one in tests. */
    public Builder random(RandomSource random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * The settings of the latency estimates P2C compares (decay, estimate of a new provider, LLM-aware
     * signal). Default {@link P2cSettings#defaults()}: 10 s, 100 ms, LLM-aware.
     *
     * @throws NullPointerException if {@code settings} is null
     */
    public Builder p2c(P2cSettings settings) {
      this.p2c = Objects.requireNonNull(settings, "p2c");
      return this;
    }

    /**
     * Whether a stream that ends without its terminal event fails the caller's read with
     * {@link TruncatedStreamException} (it is always flagged in its {@link TokenUsage}). Default
     * true: a cut answer should not look like a complete one.
     */
    public Builder failOnTruncatedStream(boolean enabled) {
      this.failOnTruncatedStream = enabled;
      return this;
    }

    /**
     * The virtual host requests are addressed to. Default {@value ProviderPool#DEFAULT_VIRTUAL_HOST};
     * use distinct names (e.g. {@code fast.llmpool.invalid}) for several pools on one client.
     */
    public Builder virtualHost(String host) {
      this.virtualHost = ProviderPool.checkVirtualHost(host);
      return this;
    }

    /**
     * Session affinity: requests with the same key (a header, the body's {@code user} or
     * {@code prompt_cache_key}, or a function) go to the same provider while it is available.
     * Default: none. See {@link Affinity}.
     */
    public Builder affinity(Affinity affinity) {
      this.affinity = Objects.requireNonNull(affinity, "affinity");
      return this;
    }

    /**
     * Whether the pool routes on quota headroom. Default true: a provider whose rate-limit headers
     * (OpenAI, Azure OpenAI, Groq, Anthropic) or configured per-minute limits ({@link
     * Provider.Builder#requestsPerMinute}, {@link Provider.Builder#tokensPerMinute}) say it cannot
     * take a request before its reset is not chosen for it while another provider can; P2C's cost
     * rises as a provider's headroom shrinks, so load moves before the limit is hit; when no
     * provider of a tier has headroom the tier spills to the next, and when none anywhere has it the
     * {@link #whenAllEvicted all-evicted policy} applies, with the earliest reset as the return time
     * (or the request waits for it, up to {@link #quotaWait}). A request's cost is one request plus
     * its token estimate (prompt bytes / 4 plus {@code max_completion_tokens} or {@code max_tokens}),
     * counted when it is dispatched and corrected to the reported usage when it ends. False: today's
     * reactive behaviour, where only a 429 takes a provider out (headers are still read and shown in
     * {@code snapshot()}).
     */
    public Builder quotaRouting(boolean enabled) {
      this.quotaRouting = enabled;
      return this;
    }

    /**
     * How long a request may wait for quota headroom when no provider anywhere has it (batch
     * workloads), instead of the all-evicted policy applying at once: the request waits until the
     * earliest reset if that is within this bound, then is routed as usual. Default {@link
     * Duration#ZERO}: never wait. The wait counts against the call's own timeout.
     *
     * @throws IllegalArgumentException if {@code wait} is negative
     */
    public Builder quotaWait(Duration wait) {
      Objects.requireNonNull(wait, "quotaWait");
      if (wait.isNegative()) {
        throw new IllegalArgumentException("quotaWait must be >= 0 but was " + wait);
      }
      this.quotaWait = wait;
      return this;
    }

    /**
     * Adds a spend limit: money or tokens per calendar window, for the whole pool, one provider or
     * one quota group (see {@link Budget}). May be called several times; an attempt must fit every
     * budget whose scope holds its provider. Before each attempt is dispatched its estimate (prompt
     * estimate plus {@code min(max_tokens, reservationCap)}, at its provider's price) is reserved
     * atomically, and it goes only while {@code spent + reserved + estimate <= limit}; when it ends the
     * reservation is settled to its cost. A provider- or group-scoped budget that is spent takes its
     * providers out of rotation until its window resets (the tier spills, as for an eviction;
     * {@link PoolEvent.BudgetExhausted}); a spent pool-wide budget refuses every request at once
     * with a {@link BudgetExhaustedException}. Shown in {@link PoolSnapshot#budgets()}. Budgets are
     * local to this instance (not shared through {@link #sharedState}). Default: none.
     *
     * @throws NullPointerException if {@code budget} is null
     */
    public Builder budget(Budget budget) {
      budgets.add(Objects.requireNonNull(budget, "budget"));
      return this;
    }

    /**
     * The OkHttp client the pool's probes are sent with ({@link P2cSettings.Builder#probes}): set it
     * when your providers are reached through a proxy, with your own TLS set-up or timeouts. A
     * client built with {@link ProviderPool#newHttpClient()} or {@link ProviderPool#configure} of
     * another pool works too (a probe names its provider's host, which the pool's interceptor passes
     * through). Default: a client with OkHttp's defaults (60-s read timeout), made at the first
     * probe. Ignored while probes are off.
     *
     * @throws NullPointerException if {@code client} is null
     */
    public Builder probeClient(OkHttpClient client) {
      this.probeClient = Objects.requireNonNull(client, "probeClient");
      return this;
    }

    /** Validates and builds the pool. */
    public ProviderPool build() {
      validate(tiers);
      validateBudgets(budgets, tiers);
      return new ProviderPool(this);
    }

    LatencyModel latencyModel() {
      long tau = p2c.latencyDecay().toNanos();
      long initial = p2c.initialLatency().toNanos();
      return p2c.legacyDecay ? LatencyModel.legacy(tau, initial, p2c.llmAware())
          : new LatencyModel(tau, initial, p2c.llmAware(), p2c.exploration()).withProbes(p2c.probes());
    }

    List<List<Provider>> copyTiers() {
      return tiers.stream().map(List::copyOf).toList();
    }
  }
}
