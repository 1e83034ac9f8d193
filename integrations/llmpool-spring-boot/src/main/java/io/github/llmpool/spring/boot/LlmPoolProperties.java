package io.github.llmpool.spring.boot;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.Strategy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code llmpool.*} properties: one entry of {@code llmpool.pools} per pool, keyed by the
 * pool's name. The shape is that of llmpool's JSON configuration file
 * ({@link io.github.llmpool.config.PoolConfig}): the same keys, in Spring's kebab case
 * ({@code base-url} for {@code baseUrl}; Spring's relaxed binding accepts either), so a file and a
 * properties block read alike.
 *
 * <pre>
 * llmpool.pools.main.strategy=weighted
 * llmpool.pools.main.providers[0].name=mini
 * llmpool.pools.main.providers[0].base-url=https://api.openai.com/v1
 * llmpool.pools.main.providers[0].api-key=${OPENAI_API_KEY}
 * llmpool.pools.main.providers[0].model=gpt-4o-mini
 * llmpool.pools.main.providers[0].weight=80
 * </pre>
 *
 * <p>Every value is handed to the core's builders unchanged, so validation and its messages are
 * the builders' own; a setting left out keeps the builder's default. Only the property binding is
 * Spring's: durations take Spring's formats ({@code 500ms}, {@code 5s}, {@code 10m}, ISO-8601
 * {@code PT1M30S}; a bare number means milliseconds), enums any case and {@code -} or {@code _}.
 *
 * <p>This class is bound by the auto-configuration and never registered as a bean, so the
 * {@code configprops} endpoint does not list it (it holds API keys). Its {@link #toString()} and
 * those of its parts show no key or header value.
 *
 * @param pools the pools by name; the name becomes {@code ProviderPool.name()} and the prefix of
 *     the pool's bean names ({@code <name>ProviderPool}, {@code <name>OkHttpClient})
 * @param primary with several pools, the name of the one whose beans are {@code @Primary}; with
 *     exactly one pool it is primary anyway
 * @param springAi how Spring AI's OpenAI chat model is routed through a pool
 */
@ConfigurationProperties("llmpool")
public record LlmPoolProperties(Map<String, Pool> pools, String primary, SpringAi springAi) {

  /**
   * Binds the properties; a null map becomes empty.
   *
   * @param pools the pools by name
   * @param primary the primary pool's name, or null
   * @param springAi the Spring AI settings, or null
   */
  public LlmPoolProperties {
    pools = pools == null ? Map.of() : new LinkedHashMap<>(pools);
    springAi = springAi == null ? new SpringAi(null, null) : springAi;
  }

  /**
   * One pool ({@code llmpool.pools.<name>.*}): the root of llmpool's configuration file.
   *
   * @param virtualHost the virtual host ({@code ProviderPool.Builder.virtualHost}); default {@code llmpool.invalid}
   * @param strategy {@code power-of-two-choices} (default), {@code weighted} or {@code round-robin}
   * @param whenAllEvicted {@code fail-open} (default) or {@code fail-fast}
   * @param eviction eviction settings ({@code EvictionPolicy.Builder})
   * @param retry retry settings ({@code RetryPolicy.Builder})
   * @param affinity session affinity, off unless {@code affinity.key} is set
   * @param tiers the tiers, first tier first, each with its {@code providers}
   * @param providers shorthand for a pool of one tier: {@code providers[i]} instead of
   *     {@code tiers[0].providers[i]}; not together with {@code tiers}
   * @param http the pool's {@code OkHttpClient} bean
   * @param quota quota routing ({@code quota.routing}, {@code quota.max-wait}); default on, no wait
   * @param budgets spend limits ({@code budgets[i].*}, the configuration file's {@code "budgets"});
   *     default none
   * @param p2c power-of-two-choices settings ({@code p2c.*}, {@code P2cSettings.Builder}); default the library's
   */
  public record Pool(String virtualHost, Strategy strategy, AllEvictedPolicy whenAllEvicted, Eviction eviction,
      Retry retry, Affinity affinity, List<Tier> tiers, List<ProviderEntry> providers, Http http, Quota quota,
      List<BudgetEntry> budgets, P2c p2c) {
  }

  /**
   * Power-of-two-choices settings ({@code p2c.*}): the settings of {@code P2cSettings.Builder}, the
   * configuration file's {@code "p2c"} in kebab case. Each left unset keeps the library's default.
   *
   * @param latencyDecay the estimates' time constant tau; default 10 s
   * @param initialLatency the estimate of a provider with no sample yet; default 100 ms
   * @param llmAware the LLM-aware latency signal; default true
   * @param exploration the largest share of exploring picks, 0 to 0.05; default 0.02
   * @param probes re-measure a provider that still looks slow with a one-token probe of the pool's
   *     own instead of a caller's request; default false
   */
  public record P2c(Duration latencyDecay, Duration initialLatency, Boolean llmAware, Double exploration,
      Boolean probes) {
  }

  /**
   * One spend limit ({@code budgets[i].*}): the settings of {@code io.github.llmpool.Budget.Builder},
   * the configuration file's {@code "budgets"} entries in kebab case. With
   * {@code llmpool.shared.redis.uri} set, budgets are shared by the application's instances.
   *
   * @param name required; 1 to 64 letters, digits, {@code .}, {@code _} or {@code -}
   * @param amount a money limit, with {@code currency}; exactly one of {@code amount} and {@code tokens}
   * @param currency the ISO 4217 code of a money limit, e.g. {@code USD}
   * @param tokens a token limit (total tokens)
   * @param window required: {@code minute}, {@code hour}, {@code day} or {@code month} (calendar windows)
   * @param zone the time zone the windows align in, e.g. {@code Europe/Berlin}; default UTC
   * @param provider the provider whose attempts it counts; default the whole pool
   * @param quotaGroup the quota group whose attempts it counts (not with {@code provider})
   * @param reservationCap the most completion tokens one request reserves; default 1024
   */
  public record BudgetEntry(String name, java.math.BigDecimal amount, String currency, Long tokens,
      io.github.llmpool.Budget.Window window, String zone, String provider, String quotaGroup, Long reservationCap) {
  }

  /**
   * Quota routing ({@code quota.*}): see {@code ProviderPool.Builder.quotaRouting} and {@code quotaWait}.
   *
   * @param routing route on quota headroom; default true
   * @param maxWait how long a request may wait for headroom when no provider has it ({@code quotaWait}); default none
   */
  public record Quota(Boolean routing, java.time.Duration maxWait) {
  }

  /**
   * One tier ({@code tiers[i].*}).
   *
   * @param providers the tier's providers
   */
  public record Tier(List<ProviderEntry> providers) {
  }

  /**
   * One provider ({@code providers[i].*} or {@code tiers[i].providers[j].*}); the settings of
   * {@code Provider.Builder}.
   *
   * @param name required; unique within the pool
   * @param baseUrl required; http or https with its path prefix, e.g. {@code https://api.openai.com/v1}
   * @param apiKey the API key, usually a placeholder such as {@code ${OPENAI_API_KEY}}; never shown
   * @param apiKeyHeader the header that carries the key; default {@code Authorization} (as a Bearer token)
   * @param model the model that replaces the request's {@code model}
   * @param weight weight within the tier, {@code >= 0}; default 1
   * @param concurrency requests the provider serves in parallel, {@code >= 1}; default 1
   * @param requestsPerMinute the provider's known requests-per-minute limit, {@code >= 1}; default none
   * @param tokensPerMinute the provider's known tokens-per-minute limit, {@code >= 1}; default none
   * @param headers extra headers sent to this provider; values are never shown
   * @param includeUsage whether streaming requests get {@code stream_options.include_usage}; default true
   * @param allowPlaintextKey allow the key over plain http to a non-loopback host; default false
   * @param price what the provider charges per 1M tokens ({@code price.*}); default none (unpriced)
   * @param quotaGroup the quota group: providers sharing one account's limits; default none
   */
  public record ProviderEntry(String name, String baseUrl, String apiKey, String apiKeyHeader, String model,
      Integer weight, Integer concurrency, Integer requestsPerMinute, Long tokensPerMinute, Map<String, String> headers,
      Boolean includeUsage, Boolean allowPlaintextKey, PriceEntry price, String quotaGroup) {

    /** Shows every setting but the key and the header values. */
    @Override
    public String toString() {
      return "ProviderEntry{name=" + name + ", baseUrl=" + baseUrl + ", apiKey=" + (apiKey == null ? "none" : "(set)")
          + ", apiKeyHeader=" + apiKeyHeader + ", model=" + model + ", weight=" + weight + ", concurrency="
          + concurrency + ", requestsPerMinute=" + requestsPerMinute + ", tokensPerMinute=" + tokensPerMinute
          + ", headers=" + (headers == null ? "{}" : headers.keySet()) + ", includeUsage="
          + includeUsage + ", allowPlaintextKey=" + allowPlaintextKey + (price == null ? "" : ", price=" + price)
          + (quotaGroup == null ? "" : ", quotaGroup=" + quotaGroup) + "}";
    }
  }

  /**
   * A provider's price ({@code providers[i].price.*}): rates per 1M tokens, read exactly from their
   * text; see {@code io.github.llmpool.Price}.
   *
   * @param currency required; an ISO 4217 code such as {@code USD}
   * @param input required; uncached input tokens
   * @param cachedInput input tokens read from the prompt cache; default {@code input}
   * @param cacheWrite input tokens written to the prompt cache; default {@code input}
   * @param output required; output tokens
   * @param reasoning reasoning tokens where billed apart; default {@code output}
   * @param tiers context tiers, ascending {@code above}
   */
  public record PriceEntry(String currency, java.math.BigDecimal input, java.math.BigDecimal cachedInput,
      java.math.BigDecimal cacheWrite, java.math.BigDecimal output, java.math.BigDecimal reasoning,
      List<PriceTier> tiers) {
  }

  /**
   * A context tier of a price ({@code price.tiers[k].*}).
   *
   * @param above the rates apply to attempts with more prompt tokens than this
   * @param input required; uncached input tokens
   * @param cachedInput default the tier's {@code input}
   * @param cacheWrite default the tier's {@code input}
   * @param output required
   * @param reasoning default the tier's {@code output}
   */
  public record PriceTier(Long above, java.math.BigDecimal input, java.math.BigDecimal cachedInput,
      java.math.BigDecimal cacheWrite, java.math.BigDecimal output, java.math.BigDecimal reasoning) {
  }

  /**
   * {@code eviction.*}: the settings of {@code EvictionPolicy.Builder}.
   *
   * @param baseDuration first eviction's length
   * @param maxDuration longest eviction
   * @param quotaDuration eviction after a quota-exhausted answer
   * @param jitter random spread of eviction lengths, 0 to 1
   * @param rateLimitThreshold consecutive 429s that evict
   * @param failureThreshold consecutive failures that evict
   * @param maxEjectionPercent most of a tier that may be evicted at once, in percent
   */
  public record Eviction(Duration baseDuration, Duration maxDuration, Duration quotaDuration, Double jitter,
      Integer rateLimitThreshold, Integer failureThreshold, Integer maxEjectionPercent) {
  }

  /**
   * {@code retry.*}: the settings of {@code RetryPolicy.Builder}.
   *
   * @param maxAttempts attempts per request, first one included
   * @param budgetRatio retries allowed as a share of requests
   * @param minRetriesPerSecond retries always allowed per second
   * @param budgetWindow window over which the budget is counted
   */
  public record Retry(Integer maxAttempts, Double budgetRatio, Integer minRetriesPerSecond, Duration budgetWindow) {
  }

  /**
   * {@code affinity.*}: session affinity, as in the configuration file.
   *
   * @param key {@code user}, {@code prompt_cache_key} or {@code header:<name>}; affinity is off when unset
   * @param maxSize most sessions remembered
   * @param idleExpiry how long an idle session is remembered
   */
  public record Affinity(String key, Long maxSize, Duration idleExpiry) {
  }

  /**
   * {@code http.*}: the pool's {@code OkHttpClient} bean (built with {@code pool.configure(builder)}:
   * the pool's interceptor, its redirect guard and a dispatcher for {@code max-concurrent-calls}).
   *
   * @param connectTimeout OkHttp's connect timeout; default OkHttp's (10 s)
   * @param readTimeout OkHttp's read timeout (between two reads); default OkHttp's (10 s)
   * @param writeTimeout OkHttp's write timeout; default OkHttp's (10 s)
   * @param callTimeout OkHttp's whole-call timeout; default none
   * @param maxConcurrentCalls async calls that run at once, all to the pool's one virtual host; default 64
   */
  public record Http(Duration connectTimeout, Duration readTimeout, Duration writeTimeout, Duration callTimeout,
      Integer maxConcurrentCalls) {
  }

  /**
   * {@code spring-ai.*}: Spring AI 2's OpenAI chat model through a pool (when Spring AI's OpenAI
   * auto-configuration and {@code llmpool-openai-java} are on the class path).
   *
   * @param enabled whether to define the pooled {@code OpenAiChatModel}; default true
   * @param pool the pool to route through; default the only (or primary) pool
   */
  public record SpringAi(Boolean enabled, String pool) {
  }
}
