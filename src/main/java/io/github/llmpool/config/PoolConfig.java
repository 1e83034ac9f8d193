package io.github.llmpool.config;

import io.github.llmpool.Affinity;
import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.P2cSettings;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.Strategy;
import io.github.llmpool.spi.SharedState;
import io.github.llmpool.spi.SharedStateFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * A pool configuration read from a JSON file: name, tiers of providers, strategy, eviction, retry,
 * all-evicted policy, session affinity and virtual host. Build a pool from it with
 * {@link #toPoolBuilder()} (adding listeners and the like in code), and apply an edited file to a
 * running pool with {@link #applyTo(ProviderPool)}.
 *
 * <pre>{@code
 * // llmpool.json:
 * // {"name": "chat", "strategy": "weighted",
 * //  "eviction": {"baseDuration": "5s", "maxDuration": "5m"},
 * //  "tiers": [{"providers": [
 * //     {"name": "mini", "baseUrl": "https://api.openai.com/v1", "apiKey": "${OPENAI_API_KEY}",
 * //      "model": "gpt-4o-mini", "weight": 80},
 * //     {"name": "big", "baseUrl": "https://api.openai.com/v1", "apiKey": "${OPENAI_API_KEY}",
 * //      "model": "gpt-4o", "weight": 20}]}]}
 * PoolConfig config = PoolConfig.read(Path.of("llmpool.json"));
 * ProviderPool pool = config.toPoolBuilder()
 *     .onUsage(u -> meter.record(u.provider(), u.totalTokens()))
 *     .build();
 * // later, after editing weights in the file:
 * PoolConfig.read(Path.of("llmpool.json")).applyTo(pool);
 * }</pre>
 *
 * <p>The format (every field but {@code tiers}, and in a provider {@code name} and
 * {@code baseUrl}, is optional and defaults as its builder setter does):
 * <ul>
 *   <li>root: {@code name} (the pool's name, see {@link ProviderPool.Builder#name(String)}),
 *       {@code virtualHost}, {@code strategy} ({@code power_of_two_choices},
 *       {@code weighted}, {@code round_robin}; any case), {@code whenAllEvicted}
 *       ({@code fail_open}, {@code fail_fast}), {@code eviction}, {@code retry},
 *       {@code affinity}, {@code quota}, {@code tiers}, {@code shared}, {@code budgets}.</li>
 *   <li>{@code shared}: the state the pool's instances share, one field naming a
 *       {@link io.github.llmpool.spi.SharedStateFactory} found on the class path, its value an
 *       environment variable reference or a literal without credentials:
 *       {@code "shared": {"redis": "${REDIS_URL}"}} (with {@code llmpool-redis}). Read at build time
 *       ({@link #sharedState()}, set by {@link #toPoolBuilder()}); a reload keeps the pool's.</li>
 *   <li>{@code budgets}: an array of spend limits ({@link io.github.llmpool.Budget}), each
 *       {@code {"name", "amount" + "currency" | "tokens", "window" (minute, hour, day, month),
 *       "zone"?, "provider"? | "quotaGroup"?, "reservationCap"?}}; neither provider nor
 *       quotaGroup: the whole pool. Fixed at build time: a reload that changes them is refused.</li>
 *   <li>{@code quota}: {@code routing} (true: route on quota headroom, the default; false: only a
 *       429 takes a provider out), {@code wait} (how long a request may wait for headroom when no
 *       provider has it; default none).</li>
 *   <li>{@code eviction}: {@code baseDuration}, {@code maxDuration}, {@code quotaDuration},
 *       {@code jitter}, {@code rateLimitThreshold}, {@code failureThreshold},
 *       {@code maxEjectionPercent}. {@code retry}: {@code maxAttempts}, {@code budgetRatio},
 *       {@code minRetriesPerSecond}, {@code budgetWindow}. {@code affinity}: {@code key}
 *       ({@code "user"}, {@code "prompt_cache_key"} or {@code "header:X-Session-Id"}),
 *       {@code maxSize}, {@code idleExpiry}.</li>
 *   <li>{@code tiers}: an array of {@code {"providers": [...]}}, first tier first. A provider:
 *       {@code name}, {@code baseUrl}, {@code apiKey}, {@code apiKeyHeader}, {@code model},
 *       {@code weight}, {@code concurrency}, {@code requestsPerMinute}, {@code tokensPerMinute},
 *       {@code quotaGroup},
 *       {@code headers} (an object of name to value), {@code includeUsage},
 *       {@code allowPlaintextKey}.</li>
 *   <li>Durations are strings: ISO-8601 ({@code "PT5S"}) or integer + unit, units {@code ms},
 *       {@code s}, {@code m}, {@code h}, {@code d}, combinable ({@code "500ms"}, {@code "1m30s"}).
 *       A bare number is refused: its unit would be a guess.</li>
 *   <li>Secrets stay out of the file: {@code apiKey} must be a reference {@code "${ENV_VAR}"},
 *       resolved through the environment (or the lookup given); a literal key is refused. A
 *       header value may be a literal or a reference. Neither a key nor a header value appears
 *       in any message.</li>
 *   <li>Unknown fields are refused; {@code //} and {@code /* *}{@code /} comments are allowed;
 *       duplicate fields are refused; JSON {@code null} means "not set".</li>
 * </ul>
 * Every error is an {@link IllegalArgumentException} naming the JSONPath and the bad value, e.g.
 * {@code $.tiers[0].providers[1].weight must be >= 0 but was -1}.
 *
 * <p>Immutable and thread-safe. {@link #toString()} shows no key.
 */
public final class PoolConfig {
  private final String name;
  private final List<List<Provider>> tiers;
  private final Strategy strategy;
  private final EvictionPolicy eviction;
  private final RetryPolicy retry;
  private final AllEvictedPolicy whenAllEvicted;
  private final Affinity affinity;
  private final String virtualHost;
  private final P2cSettings p2c;
  private final Set<String> stated;
  private final boolean quotaRouting;
  private final java.time.Duration quotaWait;
  private final Shared shared;
  private final List<io.github.llmpool.Budget> budgets;
  private SharedState sharedState; // made once, on first use; guarded by this

  /** The {@code shared} section: the factory's kind, the resolved value (may hold credentials), the factory. */
  static final class Shared {
    final String kind;
    final String value;
    final SharedStateFactory factory;
    final String path;

    Shared(String kind, String value, SharedStateFactory factory, String path) {
      this.kind = kind;
      this.value = value;
      this.factory = factory;
      this.path = path;
    }
  }

  PoolConfig(String name, List<List<Provider>> tiers, Strategy strategy, EvictionPolicy eviction, RetryPolicy retry,
      AllEvictedPolicy whenAllEvicted, Affinity affinity, String virtualHost, P2cSettings p2c, Set<String> stated,
      boolean quotaRouting, java.time.Duration quotaWait, Shared shared, List<io.github.llmpool.Budget> budgets) {
    this.shared = shared;
    this.budgets = List.copyOf(budgets);
    this.quotaRouting = quotaRouting;
    this.quotaWait = quotaWait;
    this.name = name;
    this.tiers = tiers;
    this.strategy = strategy;
    this.eviction = eviction;
    this.retry = retry;
    this.whenAllEvicted = whenAllEvicted;
    this.affinity = affinity;
    this.virtualHost = virtualHost;
    this.p2c = p2c;
    this.stated = Set.copyOf(stated);
  }

  /**
   * Reads a configuration file; {@code ${VAR}} references resolve through {@link System#getenv(String)}.
   *
   * @throws IllegalArgumentException naming the JSONPath and the bad value of the first error
   * @throws IOException if the file cannot be read
   */
  public static PoolConfig read(Path path) throws IOException {
    return read(path, System::getenv);
  }

  /**
   * Reads a configuration file; {@code ${VAR}} references resolve through {@code env} (a null
   * answer: not set).
   *
   * @throws IllegalArgumentException naming the JSONPath and the bad value of the first error
   * @throws IOException if the file cannot be read
   */
  public static PoolConfig read(Path path, Function<String, String> env) throws IOException {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(env, "env");
    try (InputStream in = Files.newInputStream(path)) {
      return read(in, env);
    }
  }

  /**
   * Reads a configuration from a stream (not closed); {@code ${VAR}} references resolve through
   * {@code env} ({@code System::getenv} for the environment; a null answer: not set).
   *
   * @throws IllegalArgumentException naming the JSONPath and the bad value of the first error
   * @throws IOException if the stream cannot be read
   */
  public static PoolConfig read(InputStream in, Function<String, String> env) throws IOException {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(env, "env");
    return new ConfigParser(env).parse(in);
  }

  /** The pool's name ({@link ProviderPool#DEFAULT_NAME} when the file states none). */
  public String name() {
    return name;
  }

  /** The providers, tier by tier. */
  public List<List<Provider>> tiers() {
    return tiers;
  }

  /** The strategy ({@link ProviderPool#DEFAULT_STRATEGY} when the file states none). */
  public Strategy strategy() {
    return strategy;
  }

  /** The eviction settings ({@link EvictionPolicy#defaults()} when the file states none). */
  public EvictionPolicy eviction() {
    return eviction;
  }

  /** The retry settings ({@link RetryPolicy#defaults()} when the file states none). */
  public RetryPolicy retry() {
    return retry;
  }

  /** The all-evicted policy ({@link ProviderPool#DEFAULT_ALL_EVICTED_POLICY} when the file states none). */
  public AllEvictedPolicy whenAllEvicted() {
    return whenAllEvicted;
  }

  /** Session affinity, if the file states it. */
  public Optional<Affinity> affinity() {
    return Optional.ofNullable(affinity);
  }

  /** {@code quota.routing}: whether the pool routes on quota headroom (default true). */
  public boolean quotaRouting() {
    return quotaRouting;
  }

  /** {@code budgets}: the spend limits the file states, in order (empty: none). */
  public List<io.github.llmpool.Budget> budgets() {
    return budgets;
  }

  /** {@code quota.wait}: how long a request may wait for quota headroom (default zero). */
  public java.time.Duration quotaWait() {
    return quotaWait;
  }

  /** The kind of shared state the file names ({@code "redis"}), if it has a {@code shared} section. */
  public Optional<String> sharedKind() {
    return Optional.ofNullable(shared == null ? null : shared.kind);
  }

  /**
   * The shared state the file's {@code shared} section names, made by its factory on the first
   * call and the same afterwards (every pool built from this configuration shares it); empty
   * without the section. Close it after the pools when it is {@link AutoCloseable}
   * ({@code RedisSharedState} is).
   *
   * @return the shared state, if the file names one
   * @throws IllegalArgumentException if the factory refuses the value (naming the JSONPath, never the value)
   */
  public synchronized Optional<SharedState> sharedState() {
    if (shared == null) {
      return Optional.empty();
    }
    if (sharedState == null) {
      SharedState made;
      try {
        made = shared.factory.create(shared.value);
      } catch (IllegalArgumentException e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        throw new IllegalArgumentException(shared.path + ": " + (shared.value.isEmpty() || !m.contains(shared.value) ? m
            : "refused by the " + shared.kind + " shared state (the value is not shown)"));
      }
      sharedState = Objects.requireNonNull(made, "SharedStateFactory.create returned null");
    }
    return Optional.of(sharedState);
  }

  /** The virtual host ({@link ProviderPool#DEFAULT_VIRTUAL_HOST} when the file states none). */
  public String virtualHost() {
    return virtualHost;
  }

  /** The P2C settings of the file's {@code p2c} section; the defaults where it says nothing. */
  public P2cSettings p2c() {
    return p2c;
  }

  /**
   * Whether the file states the top-level setting {@code name} ({@code "strategy"},
   * {@code "eviction"}, ...). A reload compares and applies only what the file states.
   */
  public boolean states(String name) {
    return stated.contains(name);
  }

  /**
   * A pool builder holding everything in the file (the {@code shared} state included, see {@link #sharedState()}); add what only code can give (listeners,
   * classifier, ticker, a key function for affinity...) and {@code build()}.
   */
  public ProviderPool.Builder toPoolBuilder() {
    ProviderPool.Builder b = ProviderPool.builder().name(name).strategy(strategy).eviction(eviction).retry(retry)
        .whenAllEvicted(whenAllEvicted).virtualHost(virtualHost).p2c(p2c).quotaRouting(quotaRouting)
        .quotaWait(quotaWait);
    if (affinity != null) {
      b.affinity(affinity);
    }
    sharedState().ifPresent(b::sharedState);
    for (List<Provider> tier : tiers) {
      b.tier(tier);
    }
    budgets.forEach(b::budget);
    return b;
  }

  /**
   * Applies this configuration to a running pool, atomically: its tiers (providers, weights,
   * order) and, if it states one, its strategy, through {@link ProviderPool#update(Strategy, List)};
   * providers whose name stays keep their health, evictions, drains, estimates and counters.
   * Settings fixed at build time (name, virtual host, eviction, retry, all-evicted policy,
   * affinity, P2C) are compared where the file states them: any difference refuses the whole update,
   * listing each one ({@code $.eviction.baseDuration is PT10S in the file but PT5S in force}), and
   * nothing changes. Settings the file does not state, and code-only settings (listeners, attempt
   * hooks, shared state, classifier, ticker, random), are kept. The P2C settings ({@code p2c}) are
   * fixed at build time like the eviction policy. A reload is
   * {@code PoolConfig.read(path).applyTo(pool)}, called from your own trigger (an admin endpoint,
   * a signal, a file watcher).
   *
   * @throws IllegalArgumentException if the configuration changes a setting that cannot change at
   *     runtime, or its tiers are invalid; the pool is then left as it was
   */
  public void applyTo(ProviderPool pool) {
    Objects.requireNonNull(pool, "pool");
    synchronized (pool) {
      requireCompatible(pool);
      pool.update(states("strategy") ? strategy : pool.strategy(), tiers);
    }
  }

  private void requireCompatible(ProviderPool pool) {
    List<String> diffs = new ArrayList<>();
    if (states("name")) {
      diff(diffs, "$.name", name, pool.name());
    }
    if (states("virtualHost")) {
      diff(diffs, "$.virtualHost", virtualHost, pool.baseUrl().getHost());
    }
    if (states("whenAllEvicted")) {
      diff(diffs, "$.whenAllEvicted", whenAllEvicted, pool.whenAllEvicted());
    }
    if (states("eviction")) {
      EvictionPolicy e = pool.eviction();
      diff(diffs, "$.eviction.baseDuration", eviction.baseDuration(), e.baseDuration());
      diff(diffs, "$.eviction.maxDuration", eviction.maxDuration(), e.maxDuration());
      diff(diffs, "$.eviction.quotaDuration", eviction.quotaDuration(), e.quotaDuration());
      diff(diffs, "$.eviction.jitter", eviction.jitter(), e.jitter());
      diff(diffs, "$.eviction.rateLimitThreshold", eviction.rateLimitThreshold(), e.rateLimitThreshold());
      diff(diffs, "$.eviction.failureThreshold", eviction.failureThreshold(), e.failureThreshold());
      diff(diffs, "$.eviction.maxEjectionPercent", eviction.maxEjectionPercent(), e.maxEjectionPercent());
    }
    if (states("retry")) {
      RetryPolicy r = pool.retry();
      diff(diffs, "$.retry.maxAttempts", retry.maxAttempts(), r.maxAttempts());
      diff(diffs, "$.retry.budgetRatio", retry.budgetRatio(), r.budgetRatio());
      diff(diffs, "$.retry.minRetriesPerSecond", retry.minRetriesPerSecond(), r.minRetriesPerSecond());
      diff(diffs, "$.retry.budgetWindow", retry.budgetWindow(), r.budgetWindow());
    }
    if (states("quota")) {
      diff(diffs, "$.quota.routing", quotaRouting, pool.quotaRouting());
      diff(diffs, "$.quota.wait", quotaWait, pool.quotaWait());
    }
    if (states("p2c")) {
      P2cSettings p = pool.p2c();
      diff(diffs, "$.p2c.latencyDecay", p2c.latencyDecay(), p.latencyDecay());
      diff(diffs, "$.p2c.initialLatency", p2c.initialLatency(), p.initialLatency());
      diff(diffs, "$.p2c.llmAware", p2c.llmAware(), p.llmAware());
      diff(diffs, "$.p2c.exploration", p2c.exploration(), p.exploration());
      diff(diffs, "$.p2c.probes", p2c.probes(), p.probes());
    }
    if (states("budgets")) {
      diff(diffs, "$.budgets", budgets, pool.budgets());
    }
    if (states("affinity")) {
      diff(diffs, "$.affinity", affinity, pool.affinity().map(Object.class::cast).orElse("none"));
    }
    if (!diffs.isEmpty()) {
      throw new IllegalArgumentException("reload refused, nothing was changed: settings that cannot change at runtime "
          + "differ from the pool's (restart to apply them): " + String.join("; ", diffs));
    }
  }

  private static void diff(List<String> out, String path, Object inFile, Object inForce) {
    if (!inFile.equals(inForce)) {
      out.add(path + " is " + inFile + " in the file but " + inForce + " in force");
    }
  }

  @Override
  public String toString() {
    return "PoolConfig{name=" + name + ", strategy=" + strategy + ", eviction=" + eviction + ", retry=" + retry
        + ", whenAllEvicted=" + whenAllEvicted + (affinity == null ? "" : ", affinity=" + affinity)
        + ", virtualHost=" + virtualHost + ", p2c=" + p2c + (shared == null ? "" : ", shared=" + shared.kind)
        + ", tiers=" + tiers + "}";
  }
}
