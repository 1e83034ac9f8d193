package io.github.llmpool.config;

import io.github.llmpool.Affinity;
import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.P2cSettings;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.Strategy;
import io.github.llmpool.spi.SharedStateFactory;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a pool configuration file into a {@link PoolConfig}: a Jackson tree walked field by
 * field, every error naming its JSONPath. Secrets: an API key must be an environment-variable
 * reference, and neither a key nor a header value is ever put in a message. Not thread-safe; one
 * per file.
 */
final class ConfigParser {
  static final List<String> ROOT_FIELDS =
      List.of("name", "virtualHost", "strategy", "whenAllEvicted", "eviction", "retry", "affinity", "quota", "tiers",
          "p2c", "shared", "budgets");
  static final List<String> TIER_FIELDS = List.of("providers");
  static final List<String> PROVIDER_FIELDS = List.of("name", "baseUrl", "apiKey", "apiKeyHeader", "model", "weight",
      "concurrency", "requestsPerMinute", "tokensPerMinute", "quotaGroup", "headers", "includeUsage",
      "allowPlaintextKey", "price");
  static final List<String> PRICE_FIELDS = List.of("currency", "input", "cachedInput", "cacheWrite", "output",
      "reasoning", "tiers");
  static final List<String> PRICE_TIER_FIELDS = List.of("above", "input", "cachedInput", "cacheWrite", "output",
      "reasoning");
  static final List<String> EVICTION_FIELDS = List.of("baseDuration", "maxDuration", "quotaDuration", "jitter",
      "rateLimitThreshold", "failureThreshold", "maxEjectionPercent");
  static final List<String> RETRY_FIELDS = List.of("maxAttempts", "budgetRatio", "minRetriesPerSecond", "budgetWindow");
  static final List<String> AFFINITY_FIELDS = List.of("key", "maxSize", "idleExpiry");
  static final List<String> QUOTA_FIELDS = List.of("routing", "wait");
  static final List<String> P2C_FIELDS = List.of("latencyDecay", "initialLatency", "llmAware", "exploration", "probes");
  static final List<String> BUDGET_FIELDS = List.of("name", "amount", "currency", "tokens", "window", "zone",
      "provider", "quotaGroup", "reservationCap");

  private static final Pattern ENV_REF = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
  private static final Pattern UNRECOGNIZED_TOKEN = Pattern.compile("Unrecognized token '[^']*'");
  private static final JsonMapper MAPPER = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
      .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS) // prices are read exactly
      .build();

  private final Function<String, String> env;

  ConfigParser(Function<String, String> env) {
    this.env = env;
  }

  /** Affinity on header {@code name}, or null when {@code name} is not a header name. */
  private static Affinity headerAffinity(String name) {
    try {
      return Affinity.header(name);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  PoolConfig parse(InputStream in) throws IOException {
    JsonNode root;
    try {
      root = MAPPER.readTree(in);
    } catch (JsonProcessingException e) {
      // The parser's own message, minus any token it quotes (it could be an unquoted key).
      String m = UNRECOGNIZED_TOKEN.matcher(e.getOriginalMessage()).replaceAll("Unrecognized token");
      if (m.startsWith("Trailing token")) {
        m = "content after the root object";
      }
      var loc = e.getLocation();
      throw new IllegalArgumentException("config is not valid JSON" + (loc == null ? "" : " at line " + loc.getLineNr()
          + ", column " + loc.getColumnNr()) + ": " + m, null);
    }
    if (root == null || root.isMissingNode()) {
      throw new IllegalArgumentException("config is empty");
    }
    ConfigNode r = new ConfigNode(root, "$").object().only(ROOT_FIELDS);
    Set<String> stated = new HashSet<>();
    for (String f : ROOT_FIELDS) {
      if (r.get(f).present()) {
        stated.add(f);
      }
    }
    String name = ProviderPool.DEFAULT_NAME;
    ConfigNode nm = r.get("name");
    if (nm.present()) {
      String n = nm.text();
      set(nm, "name", null, () -> ProviderPool.builder().name(n));
      name = n;
    }
    String virtualHost = ProviderPool.DEFAULT_VIRTUAL_HOST;
    ConfigNode vh = r.get("virtualHost");
    if (vh.present()) {
      String h = vh.text();
      set(vh, "virtualHost", null, () -> ProviderPool.builder().virtualHost(h));
      virtualHost = h.toLowerCase(java.util.Locale.ROOT);
    }
    ConfigNode s = r.get("strategy");
    Strategy strategy = s.present() ? s.enumValue(Strategy.class) : ProviderPool.DEFAULT_STRATEGY;
    ConfigNode w = r.get("whenAllEvicted");
    AllEvictedPolicy whenAllEvicted = w.present() ? w.enumValue(AllEvictedPolicy.class)
        : ProviderPool.DEFAULT_ALL_EVICTED_POLICY;
    EvictionPolicy eviction = eviction(r.get("eviction"));
    RetryPolicy retry = retry(r.get("retry"));
    Affinity affinity = affinity(r.get("affinity"));
    boolean quotaRouting = true;
    Duration[] quotaWait = {Duration.ZERO};
    ConfigNode q = r.get("quota");
    if (q.present()) {
      q.object().only(QUOTA_FIELDS);
      ConfigNode routing = q.get("routing");
      if (routing.present()) {
        quotaRouting = routing.bool();
      }
      duration(q, "wait", d -> quotaWait[0] = d);
      ConfigNode wait = q.get("wait");
      if (wait.present()) {
        set(wait, "wait", null, () -> ProviderPool.builder().quotaWait(quotaWait[0]));
      }
    }
    P2cSettings p2c = p2c(r.get("p2c"));
    List<List<Provider>> tiers = tiers(r.get("tiers").required());
    PoolConfig.Shared shared = shared(r.get("shared"));
    List<io.github.llmpool.Budget> budgets = budgets(r.get("budgets"), tiers);
    return new PoolConfig(name, tiers, strategy, eviction, retry, whenAllEvicted, affinity, virtualHost, p2c, stated,
        quotaRouting, quotaWait[0], shared, budgets);
  }

  // ------------------------------------------------------------------ sections

  /**
   * {@code "shared": {"redis": "${REDIS_URL}"}}: one field, naming the {@link SharedStateFactory}
   * (found with {@link ServiceLoader}) that makes the pool's shared state from the value, a
   * {@code ${VAR}} reference or a literal without credentials.
   */
  private PoolConfig.Shared shared(ConfigNode n) {
    if (!n.present()) {
      return null;
    }
    n.object();
    List<String> kinds = new ArrayList<>();
    n.node.fieldNames().forEachRemaining(kinds::add);
    if (kinds.size() != 1) {
      throw n.error("must name exactly one shared state, such as {\"redis\": \"${REDIS_URL}\"}, but named "
          + (kinds.isEmpty() ? "none" : kinds.size() + ": " + kinds));
    }
    String kind = kinds.get(0);
    ConfigNode v = n.get(kind);
    if (!v.present() || !v.node.isTextual()) {
      throw v.error("must be a string such as \"${REDIS_URL}\" (the value is not shown)");
    }
    String raw = v.node.textValue();
    if (!ENV_REF.matcher(raw.trim()).matches() && raw.contains("@")) {
      throw v.error("must be an environment variable reference such as \"${REDIS_URL}\" when it holds credentials,"
          + " not a literal (the value is not shown)");
    }
    String value = resolve(v, raw, false);
    SharedStateFactory factory = factories().stream().filter(f -> kind.equals(f.kind())).findFirst().orElse(null);
    if (factory == null) {
      List<String> known = factories().stream().map(SharedStateFactory::kind).sorted().toList();
      throw v.error("names shared state '" + kind + "' but no SharedStateFactory for it is on the class path"
          + (kind.equals("redis") ? " (add the dependency io.github.llmpool:llmpool-redis)" : "")
          + (known.isEmpty() ? "" : "; available: " + known));
    }
    return new PoolConfig.Shared(kind, value, factory, v.path);
  }

  /** The shared-state factories on the class path (the context class loader's, else this library's). */
  private static List<SharedStateFactory> factories() {
    List<SharedStateFactory> out = new ArrayList<>();
    ClassLoader tccl = Thread.currentThread().getContextClassLoader();
    if (tccl != null) {
      ServiceLoader.load(SharedStateFactory.class, tccl).forEach(out::add);
    }
    if (out.isEmpty()) {
      ServiceLoader.load(SharedStateFactory.class, ConfigParser.class.getClassLoader()).forEach(out::add);
    }
    return out;
  }

  private EvictionPolicy eviction(ConfigNode n) {
    if (!n.present()) {
      return EvictionPolicy.defaults();
    }
    n.object().only(EVICTION_FIELDS);
    EvictionPolicy.Builder b = EvictionPolicy.builder();
    duration(n, "baseDuration", b::baseDuration);
    duration(n, "maxDuration", b::maxDuration);
    duration(n, "quotaDuration", b::quotaDuration);
    number(n, "jitter", b::jitter);
    integer(n, "rateLimitThreshold", b::rateLimitThreshold);
    integer(n, "failureThreshold", b::failureThreshold);
    integer(n, "maxEjectionPercent", b::maxEjectionPercent);
    return built(n, EVICTION_FIELDS, b::build);
  }

  private P2cSettings p2c(ConfigNode n) {
    if (!n.present()) {
      return P2cSettings.defaults();
    }
    n.object().only(P2C_FIELDS);
    P2cSettings.Builder b = P2cSettings.builder();
    duration(n, "latencyDecay", b::latencyDecay);
    duration(n, "initialLatency", b::initialLatency);
    ConfigNode aware = n.get("llmAware");
    if (aware.present()) {
      b.llmAware(aware.bool());
    }
    number(n, "exploration", b::exploration);
    ConfigNode probes = n.get("probes");
    if (probes.present()) {
      b.probes(probes.bool());
    }
    return built(n, P2C_FIELDS, b::build);
  }

  private RetryPolicy retry(ConfigNode n) {
    if (!n.present()) {
      return RetryPolicy.defaults();
    }
    n.object().only(RETRY_FIELDS);
    RetryPolicy.Builder b = RetryPolicy.builder();
    integer(n, "maxAttempts", b::maxAttempts);
    number(n, "budgetRatio", b::budgetRatio);
    integer(n, "minRetriesPerSecond", b::minRetriesPerSecond);
    duration(n, "budgetWindow", b::budgetWindow);
    return built(n, RETRY_FIELDS, b::build);
  }

  private Affinity affinity(ConfigNode n) {
    if (!n.present()) {
      return null;
    }
    n.object().only(AFFINITY_FIELDS);
    ConfigNode k = n.get("key").required();
    String key = k.text();
    Affinity a;
    if (key.equals("user")) {
      a = Affinity.user();
    } else if (key.equals("prompt_cache_key")) {
      a = Affinity.promptCacheKey();
    } else if (key.startsWith("header:") && headerAffinity(key.substring("header:".length())) != null) {
      a = headerAffinity(key.substring("header:".length()));
    } else {
      throw k.bad("\"user\", \"prompt_cache_key\" or \"header:<name>\"");
    }
    Affinity[] out = {a};
    ConfigNode size = n.get("maxSize");
    if (size.present()) {
      long v = size.longInteger();
      set(size, "maxSize", null, () -> out[0] = out[0].maxSize(v));
    }
    duration(n, "idleExpiry", d -> out[0] = out[0].idleExpiry(d));
    return out[0];
  }

  /** {@code budgets}: an array of spend limits, checked against the tiers as the pool builder would. */
  private static List<io.github.llmpool.Budget> budgets(ConfigNode n, List<List<Provider>> tiers) {
    if (!n.present()) {
      return List.of();
    }
    List<io.github.llmpool.Budget> out = new ArrayList<>();
    List<ConfigNode> nodes = n.array();
    for (ConfigNode b : nodes) {
      b.object().only(BUDGET_FIELDS);
      ConfigNode nameNode = b.get("name").required();
      String name = nameNode.text();
      io.github.llmpool.Budget.Builder[] bb = new io.github.llmpool.Budget.Builder[1];
      set(nameNode, "budget.name", null, () -> bb[0] = io.github.llmpool.Budget.builder(name));
      ConfigNode amount = b.get("amount");
      ConfigNode tokens = b.get("tokens");
      if (amount.present() == tokens.present()) {
        throw b.error("must state exactly one of amount (with currency) or tokens");
      }
      if (amount.present()) {
        java.math.BigDecimal v = decimal(amount, "a decimal amount");
        ConfigNode currency = b.get("currency").required();
        String code = currency.text();
        set(currency, "budget.currency", null, () -> io.github.llmpool.Budget.builder("check")
            .amount(java.math.BigDecimal.ONE, code));
        set(amount, "budget.amount", null, () -> bb[0].amount(v, code));
      } else {
        if (b.get("currency").present()) {
          throw b.get("currency").error("must not be set for a token budget");
        }
        long v = tokens.longInteger();
        set(tokens, "budget.tokens", null, () -> bb[0].tokens(v));
      }
      ConfigNode window = b.get("window").required();
      io.github.llmpool.Budget.Window w = window.enumValue(io.github.llmpool.Budget.Window.class);
      bb[0].window(w);
      ConfigNode zone = b.get("zone");
      if (zone.present()) {
        String z = zone.text();
        java.time.ZoneId id;
        try {
          id = java.time.ZoneId.of(z);
        } catch (java.time.DateTimeException e) {
          throw zone.error("must be a time zone id such as UTC or Europe/Berlin but was '" + z + "'");
        }
        bb[0].zone(id);
      }
      ConfigNode provider = b.get("provider");
      ConfigNode group = b.get("quotaGroup");
      if (provider.present() && group.present()) {
        throw b.error("must state at most one of provider or quotaGroup (neither: the whole pool)");
      }
      if (provider.present()) {
        String v = provider.text();
        set(provider, "budget.provider", null, () -> bb[0].provider(v));
      }
      if (group.present()) {
        String v = group.text();
        set(group, "budget.quotaGroup", null, () -> bb[0].quotaGroup(v));
      }
      ConfigNode cap = b.get("reservationCap");
      if (cap.present()) {
        long v = cap.longInteger();
        set(cap, "budget.reservationCap", null, () -> bb[0].reservationCap(v));
      }
      io.github.llmpool.Budget built = bb[0].build();
      out.add(built);
      ConfigNode at = b;
      try {
        checkBudgets(out, tiers);
      } catch (IllegalArgumentException e) {
        String m = e.getMessage();
        ConfigNode field = m.startsWith("budget.provider ") ? provider : m.startsWith("budget.quotaGroup ") ? group
            : m.startsWith("budget.currency ") ? b.get("currency") : m.startsWith("budget names ") ? nameNode : at;
        String rest = m.startsWith("budget names ") ? m.substring("budget names".length())
            : m.startsWith("budget.") && m.indexOf(' ') > 0 ? m.substring(m.indexOf(' ')) : ": " + m;
        throw new IllegalArgumentException(field.path + rest);
      }
    }
    return List.copyOf(out);
  }

  /** What {@code ProviderPool.Builder.build()} checks of budgets (names, scopes, currencies). */
  private static void checkBudgets(List<io.github.llmpool.Budget> budgets, List<List<Provider>> tiers) {
    ProviderPool.Builder b = ProviderPool.builder();
    tiers.forEach(b::tier);
    budgets.forEach(b::budget);
    b.quotaRouting(false).build(); // builds nothing that runs: no client, no thread; checks everything
  }

  private static java.math.BigDecimal decimal(ConfigNode r, String what) {
    if (r.node.isNumber()) {
      return r.node.decimalValue();
    }
    if (r.node.isTextual()) {
      try {
        return new java.math.BigDecimal(r.node.textValue().trim());
      } catch (NumberFormatException e) {
        throw r.error("must be " + what + " but was '" + r.node.textValue() + "'");
      }
    }
    throw r.error("must be " + what + " but was " + r.node.getNodeType());
  }

  private List<List<Provider>> tiers(ConfigNode n) {
    List<ConfigNode> tierNodes = n.array();
    if (tierNodes.isEmpty()) {
      throw n.error("must hold at least one tier but was empty");
    }
    Set<String> names = new HashSet<>();
    List<List<Provider>> tiers = new ArrayList<>();
    for (ConfigNode t : tierNodes) {
      t.object().only(TIER_FIELDS);
      ConfigNode ps = t.get("providers").required();
      List<ConfigNode> providerNodes = ps.array();
      if (providerNodes.isEmpty()) {
        throw ps.error("must hold at least one provider but was empty");
      }
      List<Provider> tier = new ArrayList<>();
      long sum = 0;
      for (ConfigNode p : providerNodes) {
        Provider provider = provider(p);
        if (!names.add(provider.name())) {
          throw p.get("name").error("must be unique but '" + provider.name() + "' appears twice");
        }
        tier.add(provider);
        sum += provider.weight();
      }
      if (sum == 0) {
        throw t.error("weights must not all be 0 but were " + tier.stream().map(x -> x.name() + "=0").toList());
      }
      if (sum > Integer.MAX_VALUE) {
        throw t.error("sum of weights must be <= " + Integer.MAX_VALUE + " but was " + sum);
      }
      tiers.add(List.copyOf(tier));
    }
    return List.copyOf(tiers);
  }

  private Provider provider(ConfigNode p) {
    p.object().only(PROVIDER_FIELDS);
    ConfigNode nameNode = p.get("name").required();
    String name = nameNode.text();
    Provider.Builder[] b = new Provider.Builder[1];
    set(nameNode, "name", null, () -> b[0] = Provider.builder(name));
    Provider.Builder pb = b[0];
    pb.baseUrl(p.get("baseUrl").required().text());
    ConfigNode key = p.get("apiKey");
    if (key.present()) {
      if (!key.node.isTextual()) {
        throw key.error("must be an environment variable reference such as \"${OPENAI_API_KEY}\" (the value is not shown)");
      }
      String resolved = resolve(key, key.node.textValue(), true);
      set(key, "apiKey", name, () -> pb.apiKey(resolved));
    }
    text(p, "apiKeyHeader", name, pb::apiKeyHeader);
    text(p, "model", name, pb::model);
    ConfigNode weight = p.get("weight");
    if (weight.present()) {
      int v = weight.integer();
      set(weight, "weight", name, () -> pb.weight(v));
    }
    ConfigNode concurrency = p.get("concurrency");
    if (concurrency.present()) {
      int v = concurrency.integer();
      set(concurrency, "concurrency", name, () -> pb.concurrency(v));
    }
    ConfigNode rpm = p.get("requestsPerMinute");
    if (rpm.present()) {
      int v = rpm.integer();
      set(rpm, "requestsPerMinute", name, () -> pb.requestsPerMinute(v));
    }
    ConfigNode tpm = p.get("tokensPerMinute");
    if (tpm.present()) {
      long v = tpm.longInteger();
      set(tpm, "tokensPerMinute", name, () -> pb.tokensPerMinute(v));
    }
    ConfigNode group = p.get("quotaGroup");
    if (group.present()) {
      String g = group.text();
      set(group, "quotaGroup", name, () -> pb.quotaGroup(g));
    }
    ConfigNode headers = p.get("headers");
    if (headers.present()) {
      headers.object();
      for (Map.Entry<String, JsonNode> e : headers.node.properties()) {
        ConfigNode h = headers.get(e.getKey());
        if (!h.present() || !h.node.isTextual()) {
          throw h.error("must be a string (the value is not shown)");
        }
        String value = resolve(h, h.node.textValue(), false);
        set(h, "header", name, () -> pb.header(e.getKey(), value));
      }
    }
    ConfigNode usage = p.get("includeUsage");
    if (usage.present()) {
      pb.includeUsage(usage.bool());
    }
    ConfigNode plain = p.get("allowPlaintextKey");
    if (plain.present()) {
      pb.allowPlaintextKey(plain.bool());
    }
    ConfigNode price = p.get("price");
    if (price.present()) {
      pb.price(price(price));
    }
    return built(p, PROVIDER_FIELDS, pb::build, name);
  }

  /** A provider's {@code price}: rates per 1M tokens as JSON numbers or decimal strings, read exactly. */
  private static io.github.llmpool.Price price(ConfigNode n) {
    n.object().only(PRICE_FIELDS);
    ConfigNode currency = n.get("currency").required();
    String code = currency.text();
    io.github.llmpool.Price.Builder[] b = new io.github.llmpool.Price.Builder[1];
    set(currency, "currency", null, () -> b[0] = io.github.llmpool.Price.builder(code));
    rates(n, b[0]);
    ConfigNode tiers = n.get("tiers");
    if (tiers.present()) {
      for (ConfigNode t : tiers.array()) {
        t.object().only(PRICE_TIER_FIELDS);
        ConfigNode above = t.get("above").required();
        long threshold = above.longInteger();
        io.github.llmpool.Price.Builder tb = io.github.llmpool.Price.builder(code);
        rates(t, tb);
        io.github.llmpool.Price rates = built(t, PRICE_TIER_FIELDS, tb::build);
        set(above, "above", null, () -> b[0].above(threshold, rates));
      }
    }
    return built(n, PRICE_FIELDS, b[0]::build);
  }

  private static void rates(ConfigNode n, io.github.llmpool.Price.Builder b) {
    rate(n, "input", b::input);
    rate(n, "cachedInput", b::cachedInput);
    rate(n, "cacheWrite", b::cacheWrite);
    rate(n, "output", b::output);
    rate(n, "reasoning", b::reasoning);
  }

  private static void rate(ConfigNode n, String field, java.util.function.Consumer<java.math.BigDecimal> setter) {
    ConfigNode r = n.get(field);
    if (!r.present()) {
      return;
    }
    java.math.BigDecimal v;
    if (r.node.isNumber()) {
      v = r.node.decimalValue();
    } else if (r.node.isTextual()) {
      try {
        v = new java.math.BigDecimal(r.node.textValue().trim());
      } catch (NumberFormatException e) {
        throw r.error("must be a decimal number (per 1M tokens) but was '" + r.node.textValue() + "'");
      }
    } else {
      throw r.error("must be a decimal number (per 1M tokens) but was " + r.node.getNodeType());
    }
    java.math.BigDecimal value = v;
    set(r, "price." + field, null, () -> setter.accept(value));
  }

  // ------------------------------------------------------------------ secrets

  /**
   * Resolves a whole-string {@code ${NAME}} reference through the env lookup. An API key must be
   * one; a header value may be one or a literal. Messages name the variable, never a value.
   */
  private String resolve(ConfigNode n, String raw, boolean mustBeReference) {
    Matcher m = ENV_REF.matcher(raw.trim());
    if (!m.matches()) {
      if (mustBeReference) {
        throw n.error("must be an environment variable reference such as \"${OPENAI_API_KEY}\", "
            + "not a literal key (the value is not shown)");
      }
      return raw;
    }
    String var = m.group(1);
    String value = env.apply(var);
    if (value == null) {
      throw n.error("names environment variable " + var + ", which is not set");
    }
    if (value.isBlank()) {
      throw n.error("names environment variable " + var + ", which is blank");
    }
    return value;
  }

  // ------------------------------------------------------------------ typed setters

  private static void duration(ConfigNode parent, String field, Consumer<Duration> setter) {
    ConfigNode n = parent.get(field);
    if (n.present()) {
      Duration d = n.duration();
      set(n, field, null, () -> setter.accept(d));
    }
  }

  private static void integer(ConfigNode parent, String field, Consumer<Integer> setter) {
    ConfigNode n = parent.get(field);
    if (n.present()) {
      int v = n.integer();
      set(n, field, null, () -> setter.accept(v));
    }
  }

  private static void number(ConfigNode parent, String field, Consumer<Double> setter) {
    ConfigNode n = parent.get(field);
    if (n.present()) {
      double v = n.number();
      set(n, field, null, () -> setter.accept(v));
    }
  }

  private static void text(ConfigNode parent, String field, String provider, Consumer<String> setter) {
    ConfigNode n = parent.get(field);
    if (n.present()) {
      String v = n.text();
      set(n, field, provider, () -> setter.accept(v));
    }
  }

  /** Runs a builder setter; its IllegalArgumentException is re-thrown with the JSON path. */
  private static void set(ConfigNode n, String setting, String provider, Runnable setter) {
    try {
      setter.run();
    } catch (IllegalArgumentException e) {
      String m = strip(e.getMessage(), provider);
      throw new IllegalArgumentException(n.path + (m.startsWith(setting + " ") ? m.substring(setting.length()) : ": " + m));
    }
  }

  private static <T> T built(ConfigNode n, List<String> fields, java.util.function.Supplier<T> build) {
    return built(n, fields, build, null);
  }

  /** Runs {@code build()}; a cross-field error is re-thrown with the path of the field it starts with. */
  private static <T> T built(ConfigNode n, List<String> fields, java.util.function.Supplier<T> build, String provider) {
    try {
      return build.get();
    } catch (IllegalArgumentException e) {
      String m = strip(e.getMessage(), provider);
      for (String f : fields) {
        if (m.startsWith(f + " ")) {
          throw new IllegalArgumentException(n.get(f).path + m.substring(f.length()));
        }
      }
      throw new IllegalArgumentException(n.path + ": " + m);
    }
  }

  /** Drops the builder's "of provider 'x'" / "(provider 'x')": the path already says which. */
  private static String strip(String message, String provider) {
    if (provider == null || message == null) {
      return String.valueOf(message);
    }
    return message.replace(" of provider '" + provider + "'", "").replace(" (provider '" + provider + "')", "");
  }
}
