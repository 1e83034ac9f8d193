package io.github.llmpool.spring.boot;

import io.github.llmpool.Affinity;
import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.spring.boot.LlmPoolProperties.Pool;
import io.github.llmpool.spring.boot.LlmPoolProperties.ProviderEntry;
import io.github.llmpool.spring.boot.LlmPoolProperties.Tier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;

/**
 * Turns bound {@link Pool} properties into core builder calls. Every value goes to the builder
 * setter of the same name; an {@link IllegalArgumentException} from a setter or a {@code build()}
 * is re-thrown with the property's full name in front of the builder's own message, e.g.
 * {@code llmpool.pools.main.providers[0].weight: weight must be >= 0 but was -1 (provider 'a')}.
 * The builders never put a key or header value in a message, and neither does this class.
 */
final class PoolFactory {

  private PoolFactory() {
  }

  /** A pool builder holding everything the properties state (name included), not yet built. */
  static ProviderPool.Builder poolBuilder(String name, Pool pool) {
    String root = "llmpool.pools." + name;
    ProviderPool.Builder b = ProviderPool.builder();
    set(root, () -> b.name(name));
    if (pool == null) {
      return b;
    }
    if (pool.virtualHost() != null) {
      set(root + ".virtual-host", () -> b.virtualHost(pool.virtualHost()));
    }
    if (pool.strategy() != null) {
      b.strategy(pool.strategy());
    }
    if (pool.whenAllEvicted() != null) {
      b.whenAllEvicted(pool.whenAllEvicted());
    }
    if (pool.eviction() != null) {
      b.eviction(eviction(root + ".eviction", pool.eviction()));
    }
    if (pool.retry() != null) {
      b.retry(retry(root + ".retry", pool.retry()));
    }
    if (pool.quota() != null) {
      if (pool.quota().routing() != null) {
        b.quotaRouting(pool.quota().routing());
      }
      if (pool.quota().maxWait() != null) {
        set(root + ".quota.max-wait", () -> b.quotaWait(pool.quota().maxWait()));
      }
    }
    if (pool.p2c() != null) {
      b.p2c(p2c(root + ".p2c", pool.p2c()));
    }
    if (pool.affinity() != null) {
      Affinity a = affinity(root + ".affinity", pool.affinity());
      if (a != null) {
        b.affinity(a);
      }
    }
    if (pool.tiers() != null && pool.providers() != null) {
      throw new InvalidPoolPropertyException(root + ": set either providers[i] (one tier) or tiers[i].providers[j], not both");
    }
    if (pool.providers() != null) {
      List<Provider> tier = providers(root + ".providers", pool.providers());
      set(root + ".providers", () -> b.tier(tier));
    } else if (pool.tiers() != null) {
      for (int i = 0; i < pool.tiers().size(); i++) {
        Tier t = pool.tiers().get(i);
        String tp = root + ".tiers[" + i + "].providers";
        List<Provider> tier = providers(tp, t == null || t.providers() == null ? List.of() : t.providers());
        set(tp, () -> b.tier(tier));
      }
    }
    if (pool.budgets() != null) {
      for (int i = 0; i < pool.budgets().size(); i++) {
        io.github.llmpool.Budget budget = budget(root + ".budgets[" + i + "]", pool.budgets().get(i));
        b.budget(budget);
      }
    }
    return b;
  }

  /** As the configuration file's {@code "budgets"} entries; a scope the pool lacks fails its build. */
  private static io.github.llmpool.Budget budget(String path, LlmPoolProperties.BudgetEntry e) {
    if (e == null || e.name() == null) {
      throw new InvalidPoolPropertyException(path + ".name is required");
    }
    io.github.llmpool.Budget.Builder b = get(path + ".name", () -> io.github.llmpool.Budget.builder(e.name()));
    if ((e.amount() == null) == (e.tokens() == null)) {
      throw new InvalidPoolPropertyException(path + ": set exactly one of amount (with currency) or tokens (budget '"
          + e.name() + "')");
    }
    if (e.amount() != null) {
      if (e.currency() == null) {
        throw new InvalidPoolPropertyException(path + ".currency is required with amount (budget '" + e.name() + "')");
      }
      set(path + ".amount", () -> b.amount(e.amount(), e.currency()));
    } else {
      if (e.currency() != null) {
        throw new InvalidPoolPropertyException(path + ".currency must not be set for a token budget (budget '"
            + e.name() + "')");
      }
      set(path + ".tokens", () -> b.tokens(e.tokens()));
    }
    if (e.window() == null) {
      throw new InvalidPoolPropertyException(path + ".window is required: one of minute, hour, day, month (budget '"
          + e.name() + "')");
    }
    b.window(e.window());
    if (e.zone() != null) {
      java.time.ZoneId zone;
      try {
        zone = java.time.ZoneId.of(e.zone().trim());
      } catch (java.time.DateTimeException bad) {
        throw new InvalidPoolPropertyException(path + ".zone must be a time zone id such as UTC or Europe/Berlin but was '"
            + e.zone() + "'");
      }
      b.zone(zone);
    }
    if (e.provider() != null && e.quotaGroup() != null) {
      throw new InvalidPoolPropertyException(path + ": set at most one of provider or quota-group (neither: the whole"
          + " pool; budget '" + e.name() + "')");
    }
    if (e.provider() != null) {
      set(path + ".provider", () -> b.provider(e.provider()));
    }
    if (e.quotaGroup() != null) {
      set(path + ".quota-group", () -> b.quotaGroup(e.quotaGroup()));
    }
    if (e.reservationCap() != null) {
      set(path + ".reservation-cap", () -> b.reservationCap(e.reservationCap()));
    }
    return get(path, b::build);
  }

  /** Builds the pool; an error of the pool's {@code build()} names the pool's property prefix. */
  static ProviderPool build(String name, ProviderPool.Builder builder) {
    return get("llmpool.pools." + name, builder::build);
  }

  /** Builds the pool through {@code build} (an {@link LlmPoolBinder}); its errors name the pool's prefix. */
  static ProviderPool build(String name, Supplier<ProviderPool> build) {
    return get("llmpool.pools." + name, build);
  }

  /**
   * Applies {@code http.*} to a builder already configured with {@code pool.configure(builder)}.
   */
  static OkHttpClient.Builder http(String name, LlmPoolProperties.Http http, OkHttpClient.Builder b) {
    if (http == null) {
      return b;
    }
    String root = "llmpool.pools." + name + ".http";
    timeout(root + ".connect-timeout", http.connectTimeout(), d -> b.connectTimeout(d.toMillis(), TimeUnit.MILLISECONDS));
    timeout(root + ".read-timeout", http.readTimeout(), d -> b.readTimeout(d.toMillis(), TimeUnit.MILLISECONDS));
    timeout(root + ".write-timeout", http.writeTimeout(), d -> b.writeTimeout(d.toMillis(), TimeUnit.MILLISECONDS));
    timeout(root + ".call-timeout", http.callTimeout(), d -> b.callTimeout(d.toMillis(), TimeUnit.MILLISECONDS));
    if (http.maxConcurrentCalls() != null) {
      int n = http.maxConcurrentCalls();
      if (n < 1) {
        throw new InvalidPoolPropertyException(root + ".max-concurrent-calls must be >= 1 but was " + n);
      }
      Dispatcher d = new Dispatcher();
      d.setMaxRequests(n);
      d.setMaxRequestsPerHost(n); // every call names the pool's one virtual host
      b.dispatcher(d);
    }
    return b;
  }

  private static void timeout(String path, Duration d, Consumer<Duration> setter) {
    if (d != null) {
      set(path, () -> setter.accept(d));
    }
  }

  private static List<Provider> providers(String path, List<ProviderEntry> entries) {
    List<Provider> out = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      out.add(provider(path + "[" + i + "]", entries.get(i)));
    }
    return out;
  }

  private static Provider provider(String path, ProviderEntry p) {
    if (p == null || p.name() == null) {
      throw new InvalidPoolPropertyException(path + ".name is required");
    }
    Provider.Builder b = get(path + ".name", () -> Provider.builder(p.name()));
    if (p.baseUrl() != null) {
      set(path + ".base-url", () -> b.baseUrl(p.baseUrl()));
    }
    if (p.apiKey() != null) {
      set(path + ".api-key", () -> b.apiKey(p.apiKey()));
    }
    if (p.apiKeyHeader() != null) {
      set(path + ".api-key-header", () -> b.apiKeyHeader(p.apiKeyHeader()));
    }
    if (p.model() != null) {
      set(path + ".model", () -> b.model(p.model()));
    }
    if (p.weight() != null) {
      set(path + ".weight", () -> b.weight(p.weight()));
    }
    if (p.concurrency() != null) {
      set(path + ".concurrency", () -> b.concurrency(p.concurrency()));
    }
    if (p.requestsPerMinute() != null) {
      set(path + ".requests-per-minute", () -> b.requestsPerMinute(p.requestsPerMinute()));
    }
    if (p.tokensPerMinute() != null) {
      set(path + ".tokens-per-minute", () -> b.tokensPerMinute(p.tokensPerMinute()));
    }
    if (p.quotaGroup() != null) {
      set(path + ".quota-group", () -> b.quotaGroup(p.quotaGroup()));
    }
    if (p.headers() != null) {
      for (Map.Entry<String, String> h : p.headers().entrySet()) {
        set(path + ".headers[" + h.getKey() + "]", () -> b.header(h.getKey(), h.getValue() == null ? "" : h.getValue()));
      }
    }
    if (p.includeUsage() != null) {
      b.includeUsage(p.includeUsage());
    }
    if (p.allowPlaintextKey() != null) {
      b.allowPlaintextKey(p.allowPlaintextKey());
    }
    if (p.price() != null) {
      io.github.llmpool.Price price = price(path + ".price", p.price());
      b.price(price);
    }
    return get(path, b::build);
  }

  private static io.github.llmpool.Price price(String path, LlmPoolProperties.PriceEntry e) {
    if (e.currency() == null) {
      throw new InvalidPoolPropertyException(path + ".currency is required");
    }
    io.github.llmpool.Price.Builder b = get(path + ".currency", () -> io.github.llmpool.Price.builder(e.currency()));
    rates(path, b, e.input(), e.cachedInput(), e.cacheWrite(), e.output(), e.reasoning());
    if (e.tiers() != null) {
      for (int k = 0; k < e.tiers().size(); k++) {
        LlmPoolProperties.PriceTier t = e.tiers().get(k);
        String tp = path + ".tiers[" + k + "]";
        if (t.above() == null) {
          throw new InvalidPoolPropertyException(tp + ".above is required");
        }
        io.github.llmpool.Price.Builder tb = io.github.llmpool.Price.builder(e.currency());
        rates(tp, tb, t.input(), t.cachedInput(), t.cacheWrite(), t.output(), t.reasoning());
        io.github.llmpool.Price rates = get(tp, tb::build);
        set(tp + ".above", () -> b.above(t.above(), rates));
      }
    }
    return get(path, b::build);
  }

  private static void rates(String path, io.github.llmpool.Price.Builder b, java.math.BigDecimal input,
      java.math.BigDecimal cachedInput, java.math.BigDecimal cacheWrite, java.math.BigDecimal output,
      java.math.BigDecimal reasoning) {
    if (input != null) {
      set(path + ".input", () -> b.input(input));
    }
    if (cachedInput != null) {
      set(path + ".cached-input", () -> b.cachedInput(cachedInput));
    }
    if (cacheWrite != null) {
      set(path + ".cache-write", () -> b.cacheWrite(cacheWrite));
    }
    if (output != null) {
      set(path + ".output", () -> b.output(output));
    }
    if (reasoning != null) {
      set(path + ".reasoning", () -> b.reasoning(reasoning));
    }
  }

  private static io.github.llmpool.P2cSettings p2c(String path, LlmPoolProperties.P2c p) {
    io.github.llmpool.P2cSettings.Builder b = io.github.llmpool.P2cSettings.builder();
    if (p.latencyDecay() != null) {
      set(path + ".latency-decay", () -> b.latencyDecay(p.latencyDecay()));
    }
    if (p.initialLatency() != null) {
      set(path + ".initial-latency", () -> b.initialLatency(p.initialLatency()));
    }
    if (p.llmAware() != null) {
      b.llmAware(p.llmAware());
    }
    if (p.exploration() != null) {
      set(path + ".exploration", () -> b.exploration(p.exploration()));
    }
    if (p.probes() != null) {
      b.probes(p.probes());
    }
    return b.build();
  }

  private static EvictionPolicy eviction(String path, LlmPoolProperties.Eviction e) {
    EvictionPolicy.Builder b = EvictionPolicy.builder();
    if (e.baseDuration() != null) {
      set(path + ".base-duration", () -> b.baseDuration(e.baseDuration()));
    }
    if (e.maxDuration() != null) {
      set(path + ".max-duration", () -> b.maxDuration(e.maxDuration()));
    }
    if (e.quotaDuration() != null) {
      set(path + ".quota-duration", () -> b.quotaDuration(e.quotaDuration()));
    }
    if (e.jitter() != null) {
      set(path + ".jitter", () -> b.jitter(e.jitter()));
    }
    if (e.rateLimitThreshold() != null) {
      set(path + ".rate-limit-threshold", () -> b.rateLimitThreshold(e.rateLimitThreshold()));
    }
    if (e.failureThreshold() != null) {
      set(path + ".failure-threshold", () -> b.failureThreshold(e.failureThreshold()));
    }
    if (e.maxEjectionPercent() != null) {
      set(path + ".max-ejection-percent", () -> b.maxEjectionPercent(e.maxEjectionPercent()));
    }
    return get(path, b::build);
  }

  private static RetryPolicy retry(String path, LlmPoolProperties.Retry r) {
    RetryPolicy.Builder b = RetryPolicy.builder();
    if (r.maxAttempts() != null) {
      set(path + ".max-attempts", () -> b.maxAttempts(r.maxAttempts()));
    }
    if (r.budgetRatio() != null) {
      set(path + ".budget-ratio", () -> b.budgetRatio(r.budgetRatio()));
    }
    if (r.minRetriesPerSecond() != null) {
      set(path + ".min-retries-per-second", () -> b.minRetriesPerSecond(r.minRetriesPerSecond()));
    }
    if (r.budgetWindow() != null) {
      set(path + ".budget-window", () -> b.budgetWindow(r.budgetWindow()));
    }
    return get(path, b::build);
  }

  /** As the configuration file: {@code user}, {@code prompt_cache_key} or {@code header:<name>}. */
  private static Affinity affinity(String path, LlmPoolProperties.Affinity a) {
    if (a.key() == null) {
      if (a.maxSize() != null || a.idleExpiry() != null) {
        throw new InvalidPoolPropertyException(path + ".key is required when affinity is configured");
      }
      return null;
    }
    String key = a.key();
    Affinity out;
    if (key.equals("user")) {
      out = Affinity.user();
    } else if (key.equals("prompt_cache_key") || key.equals("prompt-cache-key")) {
      out = Affinity.promptCacheKey();
    } else if (key.startsWith("header:")) {
      out = get(path + ".key", () -> Affinity.header(key.substring("header:".length())));
    } else {
      throw new InvalidPoolPropertyException(path + ".key must be \"user\", \"prompt_cache_key\" or \"header:<name>\" but was '"
          + key + "'");
    }
    Affinity[] holder = {out};
    if (a.maxSize() != null) {
      set(path + ".max-size", () -> holder[0] = holder[0].maxSize(a.maxSize()));
    }
    if (a.idleExpiry() != null) {
      set(path + ".idle-expiry", () -> holder[0] = holder[0].idleExpiry(a.idleExpiry()));
    }
    return holder[0];
  }

  private static void set(String path, Runnable setter) {
    get(path, () -> {
      setter.run();
      return null;
    });
  }

  /** Runs a builder call; its IllegalArgumentException is re-thrown with the property name first. */
  private static <T> T get(String path, Supplier<T> call) {
    try {
      return call.get();
    } catch (IllegalArgumentException e) {
      // No cause: this message holds the builder's whole message, and stays the root cause Spring reports.
      throw new InvalidPoolPropertyException(path + ": " + e.getMessage());
    }
  }
}
