package io.github.llmpool.micrometer;

import io.github.llmpool.telemetry.GenAiNaming;
import io.github.llmpool.telemetry.ModelNames;
import io.github.llmpool.telemetry.RequestTracker;
import io.github.llmpool.telemetry.TelemetryValues;
import io.github.llmpool.telemetry.TrackedRequest;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.PoolSnapshot;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptStart;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import java.lang.ref.WeakReference;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The meters of one pool: a {@link RequestTracker.Sink} that records attempts, requests and events,
 * and the gauges over {@link ProviderPool#snapshot()}. Meters are looked up once per tag
 * combination and cached, so a call costs map reads and increments, not registrations.
 */
final class PoolMeters implements RequestTracker.Sink {
  /** gen_ai.client.token.usage and the token histograms: semantic conventions v1.41.0. */
  static final double[] TOKEN_BUCKETS = TelemetryValues.TOKEN_BUCKETS.stream().mapToDouble(Double::doubleValue).toArray();
  /** gen_ai.client.operation.duration, time_to_first_chunk, time_per_output_chunk (seconds). */
  static final double[] DURATION_BUCKETS = TelemetryValues.DURATION_BUCKETS.stream().mapToDouble(Double::doubleValue)
      .toArray();

  static final String[] STATES = {"available", "evicted", "probing", "drained"};

  private final MeterRegistry registry;
  private final GenAiNaming naming;
  private final String operation;
  private final Map<String, String> genAiProviders;
  private final Set<String> extraModels;
  private final String tokenUnit;
  private volatile WeakReference<ProviderPool> pool = new WeakReference<>(null);
  private volatile String poolName = "unbound";
  private volatile List<List<Provider>> tiersSeen;
  private volatile Map<String, ProviderInfo> providers = Map.of();
  private volatile Set<String> configuredModels = Set.of();
  private final ModelNames modelNames = new ModelNames();
  private final Object lock = new Object();

  // pool-level meters (registered at bind)
  private Counter budgetRefusals;
  private final ConcurrentHashMap<String, Counter> exhausted = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Counter>> requests = new ConcurrentHashMap<>();

  PoolMeters(MeterRegistry registry, GenAiNaming naming, String operation, Map<String, String> genAiProviders,
      Set<String> models, String tokenUnit) {
    this.registry = registry;
    this.tokenUnit = tokenUnit;
    this.naming = naming;
    this.operation = operation;
    this.genAiProviders = genAiProviders;
    this.extraModels = models;
  }

  /** After build: the pool's name, its providers' meters and gauges. */
  void bind(ProviderPool p) {
    this.pool = new WeakReference<>(p);
    this.poolName = p.name();
    this.budgetRefusals = Counter.builder("llmpool.retry_budget.refusals")
        .description("Failovers the pool's retry budget refused").tag("pool", poolName).register(registry);
    Gauge.builder("llmpool.in_flight", this, m -> m.snapshot().map(s -> (double) s.inFlight()).orElse(Double.NaN))
        .description("Attempts in flight in the pool").tag("pool", poolName).register(registry);
    for (io.github.llmpool.Budget b : p.budgets()) {
      budgetGauges(b);
    }
    refresh(p.tiers());
  }

  /**
   * A budget's gauges (budgets are fixed at build): what its window spent, its limit, what remains,
   * and whether it is spent; tagged {@code pool}, {@code budget}, {@code scope}
   * ({@code pool}/{@code provider}/{@code quota_group}) and {@code unit} (currency code or
   * {@code tokens}).
   */
  private void budgetGauges(io.github.llmpool.Budget b) {
    String name = b.name();
    String[] tags = {"pool", poolName, "budget", name, "scope", TelemetryValues.budgetScope(b), "unit",
        TelemetryValues.budgetUnit(b)};
    Gauge.builder("llmpool.budget.spent", this, m -> m.budget(name, s -> s.spent().doubleValue()))
        .description("What the budget's window has spent on this instance (settled attempts), in its unit;"
            + " summed over a fleet's instances for a shared budget")
        .tags(tags).register(registry);
    Gauge.builder("llmpool.budget.limit", this, m -> b.limit().doubleValue())
        .description("The budget's limit per window, in its unit").tags(tags).register(registry);
    Gauge.builder("llmpool.budget.remaining", this, m -> m.budget(name, s -> s.remaining().doubleValue()))
        .description("What the budget has left in its window (limit less spent less reserved; a shared budget:"
            + " less the fleet's spend as last reported), in its unit; negative after an overshoot")
        .tags(tags).register(registry);
    Gauge.builder("llmpool.budget.exhausted", this, m -> m.budget(name, s -> s.exhausted() ? 1.0 : 0.0))
        .description("1 while the budget is spent for the rest of its window (its providers take no request), else 0")
        .tags(tags).register(registry);
  }

  private double budget(String name, java.util.function.ToDoubleFunction<io.github.llmpool.BudgetSnapshot> f) {
    return snapshot().flatMap(s -> s.budget(name)).map(f::applyAsDouble).orElse(Double.NaN);
  }

  private Optional<PoolSnapshot> snapshot() {
    ProviderPool p = pool.get();
    return p == null ? Optional.empty() : Optional.of(p.snapshot());
  }

  /** The providers as configured now (rebuilt when {@code update} replaced the tiers). */
  private Map<String, ProviderInfo> providers() {
    ProviderPool p = pool.get();
    if (p != null && p.tiers() != tiersSeen) {
      refresh(p.tiers());
    }
    return providers;
  }

  private void refresh(List<List<Provider>> tiers) {
    synchronized (lock) {
      if (tiers == tiersSeen) {
        return;
      }
      Map<String, ProviderInfo> next = new HashMap<>(providers);
      Set<String> models = new HashSet<>(extraModels);
      for (List<Provider> tier : tiers) {
        for (Provider pr : tier) {
          pr.model().ifPresent(models::add);
          ProviderInfo old = next.get(pr.name());
          if (old == null || !old.sameConfig(pr)) {
            next.put(pr.name(), new ProviderInfo(pr));
          }
          if (old == null) {
            gauges(pr.name());
          }
        }
      }
      this.configuredModels = Set.copyOf(models);
      modelNames.configure(configuredModels);
      this.providers = Map.copyOf(next);
      this.tiersSeen = tiers;
    }
  }

  private void gauges(String provider) {
    for (int i = 0; i < STATES.length; i++) {
      ProviderSnapshot.Status status = ProviderSnapshot.Status.values()[0];
      for (ProviderSnapshot.Status st : ProviderSnapshot.Status.values()) {
        if (st.name().toLowerCase(Locale.ROOT).equals(STATES[i])) {
          status = st;
        }
      }
      ProviderSnapshot.Status want = status;
      Gauge.builder("llmpool.provider.state", this, m -> m.provider(provider)
              .map(s -> s.status() == want ? 1.0 : 0.0).orElse(Double.NaN))
          .description("1 for the provider's current state (available, evicted, probing, drained), 0 for the others")
          .tags("pool", poolName, "provider", provider, "state", STATES[i]).register(registry);
    }
    Gauge.builder("llmpool.provider.in_flight", this, m -> m.provider(provider)
            .map(s -> (double) s.inFlight()).orElse(Double.NaN))
        .description("Attempts in flight on the provider").tags("pool", poolName, "provider", provider)
        .register(registry);
    TimeGauge.builder("llmpool.provider.latency.estimate", this, TimeUnit.NANOSECONDS, m -> m.provider(provider)
            .map(s -> (double) s.latencyEstimate().toNanos()).orElse(Double.NaN))
        .description("The provider's latency estimate P2C compares (decayed, LLM-aware signal)")
        .tags("pool", poolName, "provider", provider).register(registry);
    Gauge.builder("llmpool.provider.remaining.requests", this, m -> m.remaining(provider, true))
        .description("Requests left in the provider's rate-limit window, as its last response said"
            + " (x-ratelimit-remaining-requests); NaN until one did")
        .tags("pool", poolName, "provider", provider).register(registry);
    Gauge.builder("llmpool.provider.remaining.tokens", this, m -> m.remaining(provider, false))
        .description("Tokens left in the provider's rate-limit window, as its last response said"
            + " (x-ratelimit-remaining-tokens); NaN until one did")
        .tags("pool", poolName, "provider", provider).register(registry);
    Gauge.builder("llmpool.provider.ejections", this, m -> m.provider(provider)
            .map(s -> (double) s.ejections()).orElse(Double.NaN))
        .description("Consecutive ejections of the provider (its backoff step)").tags("pool", poolName, "provider", provider)
        .register(registry);
  }

  private double remaining(String name, boolean requests) {
    ProviderInfo info = providers.get(name);
    return info == null ? Double.NaN : requests ? info.remainingRequests : info.remainingTokens;
  }

  private Optional<ProviderSnapshot> provider(String name) {
    ProviderPool p = pool.get();
    return p == null ? Optional.empty() : p.snapshot().provider(name);
  }

  /** A model name as a tag value: configured ones by name, at most {@link ModelNames#MAX}, else {@code other}. */
  String modelTag(String model) {
    return modelNames.value(model);
  }

  /** The model the attempt sent: the provider's override, else the caller's (bounded). */
  private String sentModel(ProviderInfo info, String requested) {
    return info != null && info.model != null ? info.model : modelTag(requested);
  }

  // ------------------------------------------------------------------ sink

  @Override
  public void started(TrackedRequest r, AttemptStart s, Boolean sameTier) {
    ProviderInfo info = providers().get(s.provider());
    if (sameTier != null && info != null) {
      (sameTier ? info.failoversSameTier : info.failoversOtherTier).increment();
    }
  }

  @Override
  public void attemptEnded(TrackedRequest r, AttemptStart s, AttemptEnd e, TokenUsage usage) {
    ProviderInfo info = providers().get(s.provider());
    if (info == null) {
      return;
    }
    String result = TelemetryValues.result(e);
    java.util.OptionalLong left = e.remainingRequests();
    if (left.isPresent()) {
      info.remainingRequests = left.getAsLong();
    }
    left = e.remainingTokens();
    if (left.isPresent()) {
      info.remainingTokens = left.getAsLong();
    }
    AttemptMeters m = info.attempt(result, s.tier());
    m.count.increment();
    m.duration.record(e.duration().toNanos(), TimeUnit.NANOSECONDS);
    if (usage != null && usage.reported()) {
      info.tokens(sentModel(info, r.requestedModel())).add(usage);
    }
    spend(info, e.cost());
  }

  /**
   * A latency probe of the pool's own: counted in {@code llmpool.latency_probes} by outcome (not in
   * {@code llmpool.attempts}, which are the callers'), its tokens and spend where every attempt's
   * go (it is billed like one), its rate-limit headers in the remaining gauges.
   */
  @Override
  public void probeEnded(AttemptStart s, AttemptEnd e, TokenUsage usage) {
    ProviderInfo info = providers().get(s.provider());
    if (info == null) {
      return;
    }
    e.remainingRequests().ifPresent(v -> info.remainingRequests = v);
    e.remainingTokens().ifPresent(v -> info.remainingTokens = v);
    info.counter("llmpool.latency_probes", "Latency probes of the pool's own (P2cSettings.probes), by provider and how"
        + " they ended", "outcome", TelemetryValues.result(e)).increment();
    if (usage != null && usage.reported()) {
      info.tokens(sentModel(info, s.requestedModel().orElse(null))).add(usage);
    }
    spend(info, e.cost());
  }

  private static void spend(ProviderInfo info, io.github.llmpool.Cost cost) {
    if (cost.priced()) { // an unpriced attempt is never counted as zero spend
      info.counter("llmpool.spend", "Money the provider's priced attempts cost (exact and estimated), by currency;"
          + " the provider's Price, per 1M tokens", "currency", cost.currency().get())
          .increment(cost.amount().get().doubleValue());
    }
  }

  @Override
  public void requestEnded(TrackedRequest r, AttemptStart last, AttemptEnd end) {
    String outcome = r.outcome(end);
    if (last == null) { // refused before any attempt: no provider to tag a GenAI duration with
      countRequest(sentModel(null, r.requestedModel()), outcome);
      return;
    }
    ProviderInfo info = providers().get(last.provider());
    if (info == null) {
      return;
    }
    String requestModel = sentModel(info, r.requestedModel());
    String responseModel = modelTag(r.servedModel().orElse(null));
    String errorType = r.errorType(end);
    GenAi g = info.genAi(requestModel, responseModel);
    long total = r.durationNanos(end);
    g.duration(errorType).record(total, TimeUnit.NANOSECONDS);
    if (r.tokensReported()) {
      g.recordTokens(r);
    }
    if (r.streaming() && end.timeToFirstToken().isPresent() && end.bodyEnd().isPresent()) {
      long ttft = end.timeToFirstToken().get().toNanos();
      g.ttfc().record(r.priorNanos() + ttft, TimeUnit.NANOSECONDS);
      long chunks = r.outputTokens(); // one output token per chunk: OpenAI-compatible streams send one or a few
      if (chunks >= 2 && "none".equals(errorType)) {
        g.tpoc().record((end.duration().toNanos() - ttft) / (chunks - 1), TimeUnit.NANOSECONDS);
      }
    }
    countRequest(requestModel, outcome);
  }

  private void countRequest(String requestModel, String outcome) {
    ConcurrentHashMap<String, Counter> byOutcome = requests.get(requestModel);
    if (byOutcome == null) {
      byOutcome = requests.computeIfAbsent(requestModel, m -> new ConcurrentHashMap<>());
    }
    Counter c = byOutcome.get(outcome);
    if (c == null) {
      c = byOutcome.computeIfAbsent(outcome, o -> Counter.builder("llmpool.requests")
          .description("Logical requests, by how they ended (refused: before any attempt)")
          .tags("pool", poolName, "model", requestModel, "outcome", o).register(registry));
    }
    c.increment();
  }

  @Override
  public void event(PoolEvent e) {
    Map<String, ProviderInfo> ps = providers();
    ProviderInfo info = ps.get(e.provider());
    if (e instanceof PoolEvent.Evicted x && info != null) {
      info.counter("llmpool.evictions", "Evictions of the provider, by cause", "cause", TelemetryValues.outcome(x.cause()))
          .increment();
    } else if (e instanceof PoolEvent.Retried x && info != null) {
      info.counter("llmpool.retries", "Attempts the pool retried on another provider, by the failed one's cause",
          "cause", TelemetryValues.outcome(x.cause())).increment();
    } else if (e instanceof PoolEvent.Probing && info != null) {
      info.counter("llmpool.probes", "Probes of a provider whose eviction ended", null, null).increment();
    } else if (e instanceof PoolEvent.Exhausted x) {
      String reason = TelemetryValues.exhaustedReason(x.reason());
      if ("retry_budget".equals(reason) && budgetRefusals != null) {
        budgetRefusals.increment();
      }
      exhausted.computeIfAbsent(reason, k -> Counter.builder("llmpool.exhausted")
          .description("Requests the pool stopped trying before a success, by why")
          .tags("pool", poolName, "reason", k).register(registry)).increment();
    }
  }

  private record AttemptKey(String result, int tier) {}

  private record AttemptMeters(Counter count, Timer duration) {}

  /** One configured provider: its tag values and its meters. */
  private final class ProviderInfo {
    final String name;
    final URI baseUrl;
    final String model;
    final String genAiProvider;
    final String address;
    final String port;
    final Counter failoversSameTier;
    final Counter failoversOtherTier;
    volatile double remainingRequests = Double.NaN;
    volatile double remainingTokens = Double.NaN;
    /** By tier, then by result. A provider keeps its tier unless update() moves it: the last one is cached. */
    final ConcurrentHashMap<Integer, ConcurrentHashMap<String, AttemptMeters>> attempts = new ConcurrentHashMap<>();
    private volatile ConcurrentHashMap<String, AttemptMeters> lastTierMeters;
    private volatile int lastTier = -1;
    final ConcurrentHashMap<String, TokenMeters> tokens = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, ConcurrentHashMap<String, GenAi>> genAi = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

    ProviderInfo(Provider p) {
      this.name = p.name();
      this.baseUrl = p.baseUrl();
      this.model = p.model().orElse(null);
      String host = TelemetryValues.serverAddress(p.baseUrl());
      this.address = host;
      this.port = Integer.toString(TelemetryValues.serverPort(p.baseUrl()));
      this.genAiProvider = genAiProviders.getOrDefault(name, TelemetryValues.genAiProviderOf(host));
      this.failoversSameTier = failovers("same_tier");
      this.failoversOtherTier = failovers("other_tier");
    }

    boolean sameConfig(Provider p) {
      return p.baseUrl().equals(baseUrl) && java.util.Objects.equals(p.model().orElse(null), model);
    }

    private Counter failovers(String scope) {
      return Counter.builder("llmpool.failovers")
          .description("Attempts after the first of a request, to a provider of the same tier or of another tier")
          .tags("pool", poolName, "provider", name, "scope", scope).register(registry);
    }

    AttemptMeters attempt(String result, int tier) {
      ConcurrentHashMap<String, AttemptMeters> byResult = tier == lastTier ? lastTierMeters : null;
      if (byResult == null) {
        byResult = attempts.computeIfAbsent(tier, t -> new ConcurrentHashMap<>());
      }
      AttemptMeters t = byResult.get(result);
      if (t == null) {
        AttemptKey k = new AttemptKey(result, tier);
        t = byResult.computeIfAbsent(result, r -> new AttemptMeters(
            Counter.builder("llmpool.attempts").description("Attempts, by provider and how they ended")
                .tags("pool", poolName, "provider", name, "tier", TelemetryValues.tier(k.tier), "outcome", k.result)
                .register(registry),
            Timer.builder("llmpool.attempt.duration")
                .description("Attempt durations, from dispatch to the end of the body, by provider and outcome")
                .tags("pool", poolName, "provider", name, "tier", TelemetryValues.tier(k.tier), "outcome", k.result)
                .register(registry)));
      }
      if (tier != lastTier) {
        lastTierMeters = byResult;
        lastTier = tier;
      }
      return t;
    }

    Counter counter(String meter, String description, String tagKey, String tagValue) {
      String k = meter + '\n' + tagValue;
      Counter c = counters.get(k);
      if (c == null) {
        c = counters.computeIfAbsent(k, key -> {
          Counter.Builder b = Counter.builder(meter).description(description).tags("pool", poolName, "provider", name);
          if (tagKey != null) {
            b.tag(tagKey, tagValue);
          }
          return b.register(registry);
        });
      }
      return c;
    }

    TokenMeters tokens(String model) {
      TokenMeters t = tokens.get(model);
      return t != null ? t : tokens.computeIfAbsent(model, m -> new TokenMeters(name, m));
    }

    GenAi genAi(String requestModel, String responseModel) {
      ConcurrentHashMap<String, GenAi> byResponse = genAi.get(requestModel);
      if (byResponse == null) {
        byResponse = genAi.computeIfAbsent(requestModel, m -> new ConcurrentHashMap<>());
      }
      GenAi g = byResponse.get(responseModel);
      return g != null ? g : byResponse.computeIfAbsent(responseModel, m -> new GenAi(this, requestModel, m));
    }
  }

  /** llmpool.tokens of one provider and model, by type. */
  private final class TokenMeters {
    final Counter input;
    final Counter output;
    final Counter cached;
    final Counter reasoning;

    TokenMeters(String provider, String model) {
      Function<String, Counter> c = type -> Counter.builder("llmpool.tokens").baseUnit("tokens")
          .description("Tokens the provider reported, by type (cached is part of input, reasoning part of output)")
          .tags("pool", poolName, "provider", provider, "model", model, "type", type).register(registry);
      input = c.apply("input");
      output = c.apply("output");
      cached = c.apply("cached");
      reasoning = c.apply("reasoning");
    }

    void add(TokenUsage u) {
      input.increment(u.tokens().prompt());
      output.increment(u.tokens().completion());
      cached.increment(u.tokens().cached());
      reasoning.increment(u.tokens().reasoning());
    }
  }

  /** The GenAI client meters of one (provider, request model, response model). */
  private final class GenAi {
    final ProviderInfo p;
    final String requestModel;
    final String responseModel;
    final ConcurrentHashMap<String, Timer> durations = new ConcurrentHashMap<>();
    private volatile Timer ttfc;
    private volatile Timer tpoc;
    private volatile DistributionSummary inputTokens;
    private volatile DistributionSummary outputTokens;
    private volatile Counter[] usageCounters;

    GenAi(ProviderInfo p, String requestModel, String responseModel) {
      this.p = p;
      this.requestModel = requestModel;
      this.responseModel = responseModel;
    }

    private String[] tags() {
      return new String[] {"gen_ai.operation.name", operation, "gen_ai.provider.name", p.genAiProvider,
          "gen_ai.request.model", requestModel, "gen_ai.response.model", responseModel, "server.address", p.address,
          "server.port", p.port};
    }

    private Timer timer(String name, String description, String... extra) {
      Duration[] slos = new Duration[DURATION_BUCKETS.length];
      for (int i = 0; i < slos.length; i++) {
        slos[i] = Duration.ofNanos(Math.round(DURATION_BUCKETS[i] * 1e9));
      }
      return Timer.builder(name).description(description).tags(tags()).tags(extra).serviceLevelObjectives(slos)
          .register(registry);
    }

    Timer duration(String errorType) {
      Timer t = durations.get(errorType);
      return t != null ? t : durations.computeIfAbsent(errorType, e -> timer(
          naming == GenAiNaming.CURRENT ? "gen_ai.client.operation.duration" : "gen_ai.client.inference.duration",
          "GenAI operation duration.", "error.type", e));
    }

    Timer ttfc() {
      Timer t = ttfc;
      if (t == null) {
        t = timer(naming == GenAiNaming.CURRENT ? "gen_ai.client.operation.time_to_first_chunk"
            : "gen_ai.client.inference.time_to_first_chunk", "Time to receive the first chunk of a stream.");
        ttfc = t;
      }
      return t;
    }

    Timer tpoc() {
      Timer t = tpoc;
      if (t == null) {
        t = timer(naming == GenAiNaming.CURRENT ? "gen_ai.client.operation.time_per_output_chunk"
            : "gen_ai.client.inference.time_per_output_chunk", "Time per output chunk after the first.");
        tpoc = t;
      }
      return t;
    }

    private DistributionSummary tokenHistogram(String name, String description, String... extra) {
      return DistributionSummary.builder(name).baseUnit(tokenUnit).description(description).tags(tags()).tags(extra)
          .serviceLevelObjectives(TOKEN_BUCKETS).register(registry);
    }

    void recordTokens(TrackedRequest r) {
      if (outputTokens == null) {
        initTokens();
      }
      inputTokens.record(r.inputTokens());
      outputTokens.record(r.outputTokens());
      Counter[] u = usageCounters;
      if (u != null) {
        u[0].increment(r.inputTokens());
        u[1].increment(r.outputTokens());
        u[2].increment(r.cachedTokens());
        u[3].increment(r.reasoningTokens());
      }
    }

    private synchronized void initTokens() {
      if (outputTokens == null) {
        if (naming == GenAiNaming.CURRENT) {
          inputTokens = tokenHistogram("gen_ai.client.token.usage", "Number of input and output tokens used.",
              "gen_ai.token.type", "input");
          outputTokens = tokenHistogram("gen_ai.client.token.usage", "Number of input and output tokens used.",
              "gen_ai.token.type", "output");
        } else {
          inputTokens = tokenHistogram("gen_ai.client.inference.operation.input_tokens",
              "Input tokens of one inference operation.");
          Function<String, Counter> c = n -> Counter.builder(n).baseUnit(tokenUnit).description("Tokens used.")
              .tags(tags()).tag("gen_ai.token.modality", "text").register(registry);
          usageCounters = new Counter[] {c.apply("gen_ai.client.inference.usage.input_tokens"),
              c.apply("gen_ai.client.inference.usage.output_tokens"),
              c.apply("gen_ai.client.inference.usage.cache_read.input_tokens"),
              c.apply("gen_ai.client.inference.usage.reasoning.output_tokens")};
          outputTokens = tokenHistogram("gen_ai.client.inference.operation.output_tokens",
              "Output tokens of one inference operation.");
        }
      }
    }
  }
}
