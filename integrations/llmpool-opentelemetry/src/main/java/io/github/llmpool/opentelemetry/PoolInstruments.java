package io.github.llmpool.opentelemetry;

import static io.github.llmpool.opentelemetry.PoolView.ERROR_TYPE;
import static io.github.llmpool.opentelemetry.PoolView.GEN_AI_PROVIDER;
import static io.github.llmpool.opentelemetry.PoolView.OPERATION;
import static io.github.llmpool.opentelemetry.PoolView.POOL;
import static io.github.llmpool.opentelemetry.PoolView.PROVIDER;
import static io.github.llmpool.opentelemetry.PoolView.REQUEST_MODEL;
import static io.github.llmpool.opentelemetry.PoolView.RESPONSE_MODEL;
import static io.github.llmpool.opentelemetry.PoolView.SERVER_ADDRESS;
import static io.github.llmpool.opentelemetry.PoolView.SERVER_PORT;

import io.github.llmpool.PoolEvent;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptStart;
import io.github.llmpool.telemetry.GenAiNaming;
import io.github.llmpool.telemetry.RequestTracker;
import io.github.llmpool.telemetry.TelemetryValues;
import io.github.llmpool.telemetry.TrackedRequest;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The instruments of one pool: a {@link RequestTracker.Sink} recording the same measurements as
 * {@code llmpool-micrometer}'s meters (names, units, attributes, buckets), and the observable
 * gauges over {@link ProviderPool#snapshot()}. Attribute sets are built once per combination and
 * cached.
 */
final class PoolInstruments implements RequestTracker.Sink {
  static final AttributeKey<String> TIER = AttributeKey.stringKey("tier");
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("outcome");
  static final AttributeKey<String> MODEL = AttributeKey.stringKey("model");
  static final AttributeKey<String> TYPE = AttributeKey.stringKey("type");
  static final AttributeKey<String> CAUSE = AttributeKey.stringKey("cause");
  static final AttributeKey<String> SCOPE = AttributeKey.stringKey("scope");
  static final AttributeKey<String> REASON = AttributeKey.stringKey("reason");
  static final AttributeKey<String> STATE = AttributeKey.stringKey("state");
  static final AttributeKey<String> TOKEN_TYPE = AttributeKey.stringKey("gen_ai.token.type");
  static final AttributeKey<String> TOKEN_MODALITY = AttributeKey.stringKey("gen_ai.token.modality");
  static final String TOKEN_UNIT = "{token}";
  static final String[] STATES = {"available", "evicted", "probing", "drained"};

  private static final List<Long> TOKEN_BUCKETS = TelemetryValues.TOKEN_BUCKETS.stream().map(Double::longValue).toList();

  private final PoolView view;
  private final GenAiNaming naming;
  private final List<AutoCloseable> callbacks = new ArrayList<>();

  // GenAI
  private final DoubleHistogram operationDuration;
  private final DoubleHistogram timeToFirstChunk;
  private final DoubleHistogram timePerOutputChunk;
  private final LongHistogram inputTokens; // CURRENT: gen_ai.client.token.usage (both types)
  private final LongHistogram outputTokens;
  private final LongCounter[] usageCounters; // INFERENCE only: input, output, cache_read, reasoning
  // router
  private final LongCounter attempts;
  private final DoubleHistogram attemptDuration;
  private final LongCounter requests;
  private final LongCounter retries;
  private final LongCounter failovers;
  private final LongCounter evictions;
  private final LongCounter probes;
  private final LongCounter latencyProbes;
  private final LongCounter exhausted;
  private final LongCounter budgetRefusals;
  private final LongCounter tokens;
  private final io.opentelemetry.api.metrics.DoubleCounter spend;
  private static final AttributeKey<String> CURRENCY = AttributeKey.stringKey("currency");

  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Attributes>> attemptAttributes =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, GenAi> genAi = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Attributes[]> tokenAttributes = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Attributes> eventAttributes = new ConcurrentHashMap<>();

  PoolInstruments(Meter meter, PoolView view, GenAiNaming naming) {
    this.view = view;
    this.naming = naming;
    boolean current = naming == GenAiNaming.CURRENT;
    operationDuration = seconds(meter, current ? "gen_ai.client.operation.duration" : "gen_ai.client.inference.duration",
        "GenAI operation duration.");
    timeToFirstChunk = seconds(meter, current ? "gen_ai.client.operation.time_to_first_chunk"
        : "gen_ai.client.inference.time_to_first_chunk", "Time to receive the first chunk of a stream.");
    timePerOutputChunk = seconds(meter, current ? "gen_ai.client.operation.time_per_output_chunk"
        : "gen_ai.client.inference.time_per_output_chunk", "Time per output chunk after the first.");
    if (current) {
      inputTokens = tokenHistogram(meter, "gen_ai.client.token.usage", "Number of input and output tokens used.");
      outputTokens = inputTokens;
      usageCounters = null;
    } else {
      inputTokens = tokenHistogram(meter, "gen_ai.client.inference.operation.input_tokens",
          "Input tokens of one inference operation.");
      outputTokens = tokenHistogram(meter, "gen_ai.client.inference.operation.output_tokens",
          "Output tokens of one inference operation.");
      usageCounters = new LongCounter[] {tokenCounter(meter, "gen_ai.client.inference.usage.input_tokens"),
          tokenCounter(meter, "gen_ai.client.inference.usage.output_tokens"),
          tokenCounter(meter, "gen_ai.client.inference.usage.cache_read.input_tokens"),
          tokenCounter(meter, "gen_ai.client.inference.usage.reasoning.output_tokens")};
    }
    attempts = meter.counterBuilder("llmpool.attempts").setDescription("Attempts, by provider and how they ended").build();
    attemptDuration = seconds(meter, "llmpool.attempt.duration",
        "Attempt durations, from dispatch to the end of the body, by provider and outcome");
    requests = meter.counterBuilder("llmpool.requests").setDescription("Logical requests, by how they ended (refused: before any attempt)")
        .build();
    retries = meter.counterBuilder("llmpool.retries")
        .setDescription("Attempts the pool retried on another provider, by the failed one's cause").build();
    failovers = meter.counterBuilder("llmpool.failovers")
        .setDescription("Attempts after the first of a request, to a provider of the same tier or of another tier").build();
    evictions = meter.counterBuilder("llmpool.evictions").setDescription("Evictions of the provider, by cause").build();
    probes = meter.counterBuilder("llmpool.probes").setDescription("Probes of a provider whose eviction ended").build();
    latencyProbes = meter.counterBuilder("llmpool.latency_probes")
        .setDescription("Latency probes of the pool's own (P2cSettings.probes), by provider and how they ended").build();
    exhausted = meter.counterBuilder("llmpool.exhausted")
        .setDescription("Requests the pool stopped trying before a success, by why").build();
    budgetRefusals = meter.counterBuilder("llmpool.retry_budget.refusals")
        .setDescription("Failovers the pool's retry budget refused").build();
    tokens = meter.counterBuilder("llmpool.tokens").setUnit(TOKEN_UNIT)
        .setDescription("Tokens the provider reported, by type (cached is part of input, reasoning part of output)")
        .build();
    spend = meter.counterBuilder("llmpool.spend").ofDoubles().setUnit("{currency}")
        .setDescription("Money the provider's priced attempts cost (exact and estimated), by currency;"
            + " the provider's Price, per 1M tokens").build();
    gauges(meter);
  }

  private static DoubleHistogram seconds(Meter meter, String name, String description) {
    return meter.histogramBuilder(name).setUnit("s").setDescription(description)
        .setExplicitBucketBoundariesAdvice(TelemetryValues.DURATION_BUCKETS).build();
  }

  private static LongHistogram tokenHistogram(Meter meter, String name, String description) {
    return meter.histogramBuilder(name).ofLongs().setUnit(TOKEN_UNIT).setDescription(description)
        .setExplicitBucketBoundariesAdvice(TOKEN_BUCKETS).build();
  }

  private static LongCounter tokenCounter(Meter meter, String name) {
    return meter.counterBuilder(name).setUnit(TOKEN_UNIT).setDescription("Tokens used.").build();
  }

  private void gauges(Meter meter) {
    callbacks.add(meter.gaugeBuilder("llmpool.provider.state").ofLongs()
        .setDescription("1 for the provider's current state (available, evicted, probing, drained), 0 for the others")
        .buildWithCallback(this::observeState));
    callbacks.add(meter.gaugeBuilder("llmpool.provider.in_flight").ofLongs()
        .setDescription("Attempts in flight on the provider")
        .buildWithCallback(m -> eachProvider((s, a) -> m.record(s.inFlight(), a))));
    callbacks.add(meter.gaugeBuilder("llmpool.provider.latency.estimate").setUnit("s")
        .setDescription("The provider's latency estimate P2C compares (decayed, LLM-aware signal)")
        .buildWithCallback(m -> eachProvider((s, a) -> m.record(s.latencyEstimate().toNanos() / 1e9, a))));
    callbacks.add(meter.gaugeBuilder("llmpool.provider.ejections").ofLongs()
        .setDescription("Consecutive ejections of the provider (its backoff step)")
        .buildWithCallback(m -> eachProvider((s, a) -> m.record(s.ejections(), a))));
    callbacks.add(meter.gaugeBuilder("llmpool.provider.remaining.requests").ofLongs()
        .setDescription("Requests left in the provider's rate-limit window, as its last response said"
            + " (x-ratelimit-remaining-requests); absent until one did")
        .buildWithCallback(m -> remaining(m, true)));
    callbacks.add(meter.gaugeBuilder("llmpool.provider.remaining.tokens").ofLongs()
        .setDescription("Tokens left in the provider's rate-limit window, as its last response said"
            + " (x-ratelimit-remaining-tokens); absent until one did")
        .buildWithCallback(m -> remaining(m, false)));
    callbacks.add(meter.gaugeBuilder("llmpool.in_flight").ofLongs().setDescription("Attempts in flight in the pool")
        .buildWithCallback(m -> {
          ProviderPool p = view.pool();
          if (p != null) {
            m.record(p.snapshot().inFlight(), Attributes.of(POOL, view.poolName));
          }
        }));
    budgetGauges(meter);
  }

  private static final AttributeKey<String> BUDGET = AttributeKey.stringKey("budget");
  private static final AttributeKey<String> BUDGET_SCOPE = AttributeKey.stringKey("scope");
  private static final AttributeKey<String> BUDGET_UNIT = AttributeKey.stringKey("unit");

  /**
   * The budgets' gauges (budgets are fixed at build): what each window spent on this instance, the
   * limit, what remains (fleet-aware for a shared budget) and whether it is spent; attributes
   * {@code pool}, {@code budget}, {@code scope} and {@code unit} (currency code or {@code tokens}).
   */
  private void budgetGauges(Meter meter) {
    callbacks.add(meter.gaugeBuilder("llmpool.budget.spent")
        .setDescription("What the budget's window has spent on this instance (settled attempts), in its unit;"
            + " summed over a fleet's instances for a shared budget")
        .buildWithCallback(m -> eachBudget((b, a) -> m.record(b.spent().doubleValue(), a))));
    callbacks.add(meter.gaugeBuilder("llmpool.budget.limit").setDescription("The budget's limit per window, in its unit")
        .buildWithCallback(m -> eachBudget((b, a) -> m.record(b.limit().doubleValue(), a))));
    callbacks.add(meter.gaugeBuilder("llmpool.budget.remaining")
        .setDescription("What the budget has left in its window (limit less spent less reserved; a shared budget:"
            + " less the fleet's spend as last reported), in its unit; negative after an overshoot")
        .buildWithCallback(m -> eachBudget((b, a) -> m.record(b.remaining().doubleValue(), a))));
    callbacks.add(meter.gaugeBuilder("llmpool.budget.exhausted").ofLongs()
        .setDescription("1 while the budget is spent for the rest of its window (its providers take no request), else 0")
        .buildWithCallback(m -> eachBudget((b, a) -> m.record(b.exhausted() ? 1 : 0, a))));
  }

  private void eachBudget(java.util.function.BiConsumer<io.github.llmpool.BudgetSnapshot, Attributes> o) {
    ProviderPool p = view.pool();
    if (p == null) {
      return;
    }
    for (io.github.llmpool.BudgetSnapshot b : p.snapshot().budgets()) {
      o.accept(b, Attributes.of(POOL, view.poolName, BUDGET, b.name(), BUDGET_SCOPE,
          TelemetryValues.budgetScope(b.budget()), BUDGET_UNIT, TelemetryValues.budgetUnit(b.budget())));
    }
  }

  private interface ProviderObserver {
    void observe(ProviderSnapshot s, Attributes poolProvider);
  }

  private void eachProvider(ProviderObserver o) {
    ProviderPool p = view.pool();
    if (p == null) {
      return;
    }
    Map<String, PoolView.Info> infos = view.providers();
    for (ProviderSnapshot s : p.snapshot().providers()) {
      PoolView.Info info = infos.get(s.name());
      if (info != null) {
        o.observe(s, info.poolProvider);
      }
    }
  }

  private void observeState(ObservableLongMeasurement m) {
    eachProvider((s, a) -> {
      String now = s.status().name().toLowerCase(Locale.ROOT);
      for (String state : STATES) {
        m.record(state.equals(now) ? 1 : 0, a.toBuilder().put(STATE, state).build());
      }
    });
  }

  private void remaining(ObservableLongMeasurement m, boolean requests) {
    if (view.pool() == null) {
      return;
    }
    for (PoolView.Info info : view.providers().values()) {
      long v = requests ? info.remainingRequests : info.remainingTokens;
      if (v >= 0) {
        m.record(v, info.poolProvider);
      }
    }
  }

  /** Stops the gauges' callbacks. */
  void close() {
    for (AutoCloseable c : callbacks) {
      try {
        c.close();
      } catch (Exception e) {
        // ObservableLongGauge.close() declares none
      }
    }
  }

  // ------------------------------------------------------------------ sink

  @Override
  public void started(TrackedRequest r, AttemptStart s, Boolean sameTier) {
    PoolView.Info info = view.provider(s.provider());
    if (sameTier != null && info != null) {
      failovers.add(1, event(info, SCOPE, sameTier ? "same_tier" : "other_tier"));
    }
  }

  @Override
  public void attemptEnded(TrackedRequest r, AttemptStart s, AttemptEnd e, TokenUsage usage) {
    PoolView.Info info = view.provider(s.provider());
    if (info == null) {
      return;
    }
    e.remainingRequests().ifPresent(v -> info.remainingRequests = v);
    e.remainingTokens().ifPresent(v -> info.remainingTokens = v);
    Attributes a = attemptAttributes(info, s.tier(), TelemetryValues.result(e));
    attempts.add(1, a);
    attemptDuration.record(e.duration().toNanos() / 1e9, a);
    if (usage != null && usage.reported()) {
      addTokens(usage, tokenAttributes(info, view.sentModel(info, r.requestedModel())));
    }
    addSpend(info, e.cost());
  }

  /**
   * A latency probe of the pool's own: counted in {@code llmpool.latency_probes} by outcome (not in
   * {@code llmpool.attempts}, which are the callers'), its tokens and spend where every attempt's
   * go (it is billed like one), its rate-limit headers in the remaining gauges.
   */
  @Override
  public void probeEnded(AttemptStart s, AttemptEnd e, TokenUsage usage) {
    PoolView.Info info = view.provider(s.provider());
    if (info == null) {
      return;
    }
    e.remainingRequests().ifPresent(v -> info.remainingRequests = v);
    e.remainingTokens().ifPresent(v -> info.remainingTokens = v);
    latencyProbes.add(1, info.poolProvider.toBuilder().put(OUTCOME, TelemetryValues.result(e)).build());
    if (usage != null && usage.reported()) {
      addTokens(usage, tokenAttributes(info, view.sentModel(info, s.requestedModel().orElse(null))));
    }
    addSpend(info, e.cost());
  }

  private void addTokens(TokenUsage usage, Attributes[] t) {
    tokens.add(usage.tokens().prompt(), t[0]);
    tokens.add(usage.tokens().completion(), t[1]);
    tokens.add(usage.tokens().cached(), t[2]);
    tokens.add(usage.tokens().reasoning(), t[3]);
  }

  private void addSpend(PoolView.Info info, io.github.llmpool.Cost cost) {
    if (cost.priced()) { // an unpriced attempt is never counted as zero spend
      spend.add(cost.amount().get().doubleValue(), info.poolProvider.toBuilder()
          .put(CURRENCY, cost.currency().get()).build());
    }
  }

  @Override
  public void requestEnded(TrackedRequest r, AttemptStart last, AttemptEnd end) {
    String outcome = r.outcome(end);
    if (last == null) { // refused before any attempt: no provider to tag a GenAI duration with
      countRequest(view.sentModel(null, r.requestedModel()), outcome);
      return;
    }
    PoolView.Info info = view.provider(last.provider());
    if (info == null) {
      return;
    }
    String requestModel = view.sentModel(info, r.requestedModel());
    String responseModel = view.models.value(r.servedModel().orElse(null));
    String errorType = r.errorType(end);
    GenAi g = genAi(info, requestModel, responseModel);
    long total = r.durationNanos(end);
    operationDuration.record(total / 1e9, g.withErrorType(errorType));
    if (r.tokensReported()) {
      inputTokens.record(r.inputTokens(), g.input);
      outputTokens.record(r.outputTokens(), g.output);
      if (usageCounters != null) {
        usageCounters[0].add(r.inputTokens(), g.modality);
        usageCounters[1].add(r.outputTokens(), g.modality);
        usageCounters[2].add(r.cachedTokens(), g.modality);
        usageCounters[3].add(r.reasoningTokens(), g.modality);
      }
    }
    if (r.streaming() && end.timeToFirstToken().isPresent() && end.bodyEnd().isPresent()) {
      long ttft = end.timeToFirstToken().get().toNanos();
      timeToFirstChunk.record((r.priorNanos() + ttft) / 1e9, g.base);
      long chunks = r.outputTokens(); // one output token per chunk, as llmpool-micrometer counts them
      if (chunks >= 2 && TelemetryValues.NONE.equals(errorType)) {
        timePerOutputChunk.record((end.duration().toNanos() - ttft) / 1e9 / (chunks - 1), g.base);
      }
    }
    countRequest(requestModel, outcome);
  }

  private void countRequest(String requestModel, String outcome) {
    requests.add(1, eventAttributes.computeIfAbsent("requests\n" + requestModel + "\n" + outcome,
        k -> Attributes.of(POOL, view.poolName, MODEL, requestModel, OUTCOME, outcome)));
  }

  @Override
  public void event(PoolEvent e) {
    PoolView.Info info = view.provider(e.provider());
    if (e instanceof PoolEvent.Evicted x && info != null) {
      evictions.add(1, event(info, CAUSE, TelemetryValues.outcome(x.cause())));
    } else if (e instanceof PoolEvent.Retried x && info != null) {
      retries.add(1, event(info, CAUSE, TelemetryValues.outcome(x.cause())));
    } else if (e instanceof PoolEvent.Probing && info != null) {
      probes.add(1, info.poolProvider);
    } else if (e instanceof PoolEvent.Exhausted x) {
      String reason = TelemetryValues.exhaustedReason(x.reason());
      Attributes pool = Attributes.of(POOL, view.poolName);
      if ("retry_budget".equals(reason)) {
        budgetRefusals.add(1, pool);
      }
      exhausted.add(1, eventAttributes.computeIfAbsent("exhausted\n" + reason,
          k -> pool.toBuilder().put(REASON, reason).build()));
    }
  }

  private Attributes event(PoolView.Info info, AttributeKey<String> key, String value) {
    return eventAttributes.computeIfAbsent(info.name + '\n' + key.getKey() + '\n' + value,
        k -> info.poolProvider.toBuilder().put(key, value).build());
  }

  private Attributes attemptAttributes(PoolView.Info info, int tier, String result) {
    ConcurrentHashMap<String, Attributes> byResult = attemptAttributes.computeIfAbsent(
        info.name + '\n' + tier, k -> new ConcurrentHashMap<>());
    Attributes a = byResult.get(result);
    return a != null ? a : byResult.computeIfAbsent(result, r -> info.poolProvider.toBuilder()
        .put(TIER, TelemetryValues.tier(tier)).put(OUTCOME, r).build());
  }

  private Attributes[] tokenAttributes(PoolView.Info info, String model) {
    return tokenAttributes.computeIfAbsent(info.name + '\n' + model, k -> {
      Attributes base = info.poolProvider.toBuilder().put(MODEL, model).build();
      return new Attributes[] {base.toBuilder().put(TYPE, "input").build(), base.toBuilder().put(TYPE, "output").build(),
          base.toBuilder().put(TYPE, "cached").build(), base.toBuilder().put(TYPE, "reasoning").build()};
    });
  }

  private GenAi genAi(PoolView.Info info, String requestModel, String responseModel) {
    String k = info.name + '\n' + requestModel + '\n' + responseModel;
    GenAi g = genAi.get(k);
    return g != null ? g : genAi.computeIfAbsent(k, x -> new GenAi(info, requestModel, responseModel));
  }

  /** The GenAI attribute sets of one (provider, request model, response model). */
  private final class GenAi {
    final Attributes base;
    final Attributes input;
    final Attributes output;
    final Attributes modality;
    final ConcurrentHashMap<String, Attributes> byErrorType = new ConcurrentHashMap<>();

    GenAi(PoolView.Info info, String requestModel, String responseModel) {
      base = Attributes.builder().put(OPERATION, view.operation).put(GEN_AI_PROVIDER, info.genAiProvider)
          .put(REQUEST_MODEL, requestModel).put(RESPONSE_MODEL, responseModel).put(SERVER_ADDRESS, info.address)
          .put(SERVER_PORT, info.port).build();
      if (naming == GenAiNaming.CURRENT) {
        input = base.toBuilder().put(TOKEN_TYPE, "input").build();
        output = base.toBuilder().put(TOKEN_TYPE, "output").build();
      } else {
        input = base;
        output = base;
      }
      modality = base.toBuilder().put(TOKEN_MODALITY, "text").build();
    }

    Attributes withErrorType(String errorType) {
      Attributes a = byErrorType.get(errorType);
      return a != null ? a : byErrorType.computeIfAbsent(errorType, e -> base.toBuilder().put(ERROR_TYPE, e).build());
    }
  }
}
