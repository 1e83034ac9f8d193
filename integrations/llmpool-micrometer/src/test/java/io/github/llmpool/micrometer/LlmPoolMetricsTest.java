package io.github.llmpool.micrometer;

import io.github.llmpool.telemetry.GenAiNaming;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.AttemptsExhaustedException;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.Strategy;
import io.github.llmpool.TruncatedStreamException;
import io.github.llmpool.testing.FakeLlmServer;
import io.github.llmpool.testing.WireFixtures;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.search.RequiredSearch;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Metrics read back from a {@link SimpleMeterRegistry} after real calls through a pool on loopback
 * (llmpool-testing's FakeLlmServer answering with OpenAI's recorded wire shapes): names, units,
 * bucket boundaries, tag values and counts.
 */
class LlmPoolMetricsTest {
  static final double[] DURATION_BUCKETS = {0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24,
      20.48, 40.96, 81.92};
  static final double[] TOKEN_BUCKETS = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
      16777216, 67108864};

  private final List<FakeLlmServer> upstreams = new ArrayList<>();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @AfterEach
  void close() {
    upstreams.forEach(FakeLlmServer::close);
  }

  private FakeLlmServer ok(String name) {
    FakeLlmServer u = FakeLlmServer.start(name).answerWith(r -> WireFixtures.response("openai-chat.json").build());
    upstreams.add(u);
    return u;
  }

  private FakeLlmServer streaming(String name) {
    FakeLlmServer u = FakeLlmServer.start(name)
        .answerWith(r -> WireFixtures.response("openai-chat-stream-usage.sse").build());
    upstreams.add(u);
    return u;
  }

  private FakeLlmServer answering(String name, String httpFixture) {
    FakeLlmServer u = FakeLlmServer.start(name).answerWith(r -> WireFixtures.response(httpFixture).build());
    upstreams.add(u);
    return u;
  }

  static double[] seconds(CountAtBucket[] buckets) {
    return Arrays.stream(buckets).mapToDouble(b -> b.bucket(TimeUnit.SECONDS)).toArray();
  }

  static double[] bounds(CountAtBucket[] buckets) {
    return Arrays.stream(buckets).mapToDouble(CountAtBucket::bucket).toArray();
  }

  static Map<String, String> tags(Meter m) {
    Map<String, String> t = new TreeMap<>();
    for (Tag tag : m.getId().getTags()) {
      t.put(tag.getKey(), tag.getValue());
    }
    return t;
  }

  RequiredSearch get(String name, String... tags) {
    return registry.get(name).tags(tags);
  }

  double count(String name, String... tags) {
    return get(name, tags).counters().stream().mapToDouble(Counter::count).sum();
  }

  @Test
  void spendIsCountedPerProviderAndCurrencyAndUnpricedAttemptsAddNothing() throws IOException {
    FakeLlmServer a = ok("a");
    FakeLlmServer b = ok("b");
    io.github.llmpool.Price mini = io.github.llmpool.Price.builder("USD").input("0.15").cachedInput("0.075")
        .output("0.60").build();
    ProviderPool priced = LlmPoolMetrics.bind(ProviderPool.builder().name("chat")
        .tier(a.provider().model("gpt-4o-mini").price(mini).build()), registry);
    ProviderPool free = LlmPoolMetrics.bind(ProviderPool.builder().name("free").tier(b.provider().build()), registry);
    Calls.chat(priced.newHttpClient(), priced, "gpt-4o-mini", false);
    Calls.chat(priced.newHttpClient(), priced, "gpt-4o-mini", false);
    Calls.chat(free.newHttpClient(), free, "gpt-4o-mini", false);
    // openai-chat.json: (23-12) x 0.15 + 12 x 0.075 + 57 x 0.60 = 36.75 per 1M, twice
    assertEquals(0.0000735, count("llmpool.spend", "pool", "chat", "provider", "a", "currency", "USD"), 1e-12);
    assertTrue(registry.find("llmpool.spend").tag("provider", "b").meters().isEmpty(), "unpriced is never zero spend");
  }

  @Test
  void eachBudgetExportsItsSpendLimitRemainingAndWhetherItIsSpentTaggedByNameScopeAndUnit() throws IOException {
    FakeLlmServer a = ok("a");
    io.github.llmpool.Price mini = io.github.llmpool.Price.builder("USD").input("0.15").cachedInput("0.075")
        .output("0.60").build();
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat")
        .tier(a.provider().model("gpt-4o-mini").price(mini).build())
        .budget(io.github.llmpool.Budget.builder("daily").amount("0.001", "USD").window(io.github.llmpool.Budget.Window.DAY)
            .provider("a").build())
        .budget(io.github.llmpool.Budget.builder("tokens").tokens(100).window(io.github.llmpool.Budget.Window.HOUR)
            .reservationCap(0).build()), registry);
    String[] daily = {"pool", "chat", "budget", "daily", "scope", "provider", "unit", "USD"};
    String[] tokens = {"pool", "chat", "budget", "tokens", "scope", "pool", "unit", "tokens"};
    assertEquals(0, get("llmpool.budget.spent", daily).gauge().value());
    assertEquals(0.001, get("llmpool.budget.limit", daily).gauge().value(), 1e-15);
    assertEquals(0.001, get("llmpool.budget.remaining", daily).gauge().value(), 1e-15);
    assertEquals(100, get("llmpool.budget.remaining", tokens).gauge().value());

    Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false);
    // openai-chat.json: 36.75 per 1M = 0.00003675 USD; 80 tokens
    assertEquals(0.00003675, get("llmpool.budget.spent", daily).gauge().value(), 1e-15);
    assertEquals(0.00096325, get("llmpool.budget.remaining", daily).gauge().value(), 1e-15);
    assertEquals(0, get("llmpool.budget.exhausted", daily).gauge().value());
    assertEquals(80, get("llmpool.budget.spent", tokens).gauge().value());
    assertEquals(100, get("llmpool.budget.limit", tokens).gauge().value());
    assertEquals(20, get("llmpool.budget.remaining", tokens).gauge().value());
    assertEquals(1, get("llmpool.budget.exhausted", tokens).gauge().value(),
        "20 left is less than the smallest reservation taken: spent for the window");
    assertEquals(pool.snapshot().budget("tokens").orElseThrow().remaining().doubleValue(),
        get("llmpool.budget.remaining", tokens).gauge().value(), "the snapshot's figures");
    assertEquals(8, registry.find("llmpool.budget.spent").meters().size()
        + registry.find("llmpool.budget.limit").meters().size() + registry.find("llmpool.budget.remaining").meters().size()
        + registry.find("llmpool.budget.exhausted").meters().size(), "4 gauges per budget, nothing else");
  }

  @Test
  void successRecordsTheGenAiClientMetricsWithTheirUnitsBucketsAndAttributes() throws IOException {
    FakeLlmServer a = ok("a");
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat")
        .tier(a.provider().model("gpt-4o-mini").build()), registry);
    OkHttpClient client = pool.newHttpClient();

    assertEquals(200, Calls.chat(client, pool, "gpt-4o-mini", false).status());

    Timer duration = get("gen_ai.client.operation.duration").timer();
    assertEquals(Map.of("gen_ai.operation.name", "chat", "gen_ai.provider.name", "openai",
        "gen_ai.request.model", "gpt-4o-mini", "gen_ai.response.model", "gpt-4o-mini-2024-07-18",
        "server.address", "127.0.0.1", "server.port", Integer.toString(a.port()), "error.type", "none"),
        tags(duration));
    assertEquals(1, duration.count());
    assertEquals("seconds", duration.getId().getBaseUnit());
    assertArrayEquals(DURATION_BUCKETS, seconds(duration.takeSnapshot().histogramCounts()), 1e-12);
    assertTrue(duration.totalTime(TimeUnit.NANOSECONDS) > 0);

    DistributionSummary input = get("gen_ai.client.token.usage", "gen_ai.token.type", "input").summary();
    DistributionSummary output = get("gen_ai.client.token.usage", "gen_ai.token.type", "output").summary();
    assertNull(input.getId().getBaseUnit(), "no base unit unless asked: see tokenUnit");
    assertEquals(1, input.count());
    assertEquals(23, input.totalAmount()); // prompt_tokens of openai-chat.json
    assertEquals(57, output.totalAmount()); // completion_tokens
    assertArrayEquals(TOKEN_BUCKETS, bounds(input.takeSnapshot().histogramCounts()), 0);
    // 23 falls in (16, 64]: the cumulative count is 0 up to 16 and 1 from 64
    CountAtBucket[] in = input.takeSnapshot().histogramCounts();
    assertEquals(0, in[2].count());
    assertEquals(1, in[3].count());
    assertEquals("openai", tags(input).get("gen_ai.provider.name"));
    assertNull(tags(input).get("error.type"));

    // Not a stream: no chunk metrics.
    assertTrue(registry.find("gen_ai.client.operation.time_to_first_chunk").meters().isEmpty());
    assertTrue(registry.find("gen_ai.client.operation.time_per_output_chunk").meters().isEmpty());

    // The router's own metrics.
    assertEquals(1, count("llmpool.attempts", "pool", "chat", "provider", "a", "tier", "0", "outcome", "success"));
    assertEquals(1, get("llmpool.attempt.duration", "provider", "a", "outcome", "success").timer().count());
    assertEquals(1, count("llmpool.requests", "pool", "chat", "model", "gpt-4o-mini", "outcome", "success"));
    assertEquals(23, count("llmpool.tokens", "provider", "a", "model", "gpt-4o-mini", "type", "input"));
    assertEquals(57, count("llmpool.tokens", "provider", "a", "type", "output"));
    assertEquals(12, count("llmpool.tokens", "provider", "a", "type", "cached"));
    assertEquals(40, count("llmpool.tokens", "provider", "a", "type", "reasoning"));
    assertEquals(1.0, get("llmpool.provider.state", "provider", "a", "state", "available").gauge().value());
    assertEquals(0.0, get("llmpool.provider.state", "provider", "a", "state", "evicted").gauge().value());
    assertEquals(0.0, get("llmpool.provider.in_flight", "provider", "a").gauge().value());
    assertEquals(0.0, get("llmpool.in_flight", "pool", "chat").gauge().value());
    assertTrue(get("llmpool.provider.latency.estimate", "provider", "a").timeGauge().value(TimeUnit.SECONDS) > 0);
    assertEquals(0, count("llmpool.failovers"));
  }

  @Test
  void streamRecordsTimeToFirstChunkAndTimePerOutputChunk() throws IOException {
    FakeLlmServer a = streaming("a");
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat")
        .tier(a.provider().model("gpt-4o-mini").build()), registry);

    Calls.Result r = Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", true);
    assertEquals(200, r.status());
    assertTrue(r.body().contains("[DONE]"));

    Timer ttfc = get("gen_ai.client.operation.time_to_first_chunk").timer();
    assertEquals(1, ttfc.count());
    assertArrayEquals(DURATION_BUCKETS, seconds(ttfc.takeSnapshot().histogramCounts()), 1e-12);
    assertEquals("gpt-4o-mini", tags(ttfc).get("gen_ai.request.model"));
    assertNull(tags(ttfc).get("error.type"));
    Timer tpoc = get("gen_ai.client.operation.time_per_output_chunk").timer();
    assertEquals(1, tpoc.count()); // 2 output tokens: one interval after the first chunk
    assertArrayEquals(DURATION_BUCKETS, seconds(tpoc.takeSnapshot().histogramCounts()), 1e-12);
    Timer duration = get("gen_ai.client.operation.duration", "error.type", "none").timer();
    assertEquals(1, duration.count());
    assertTrue(duration.totalTime(TimeUnit.NANOSECONDS) >= ttfc.totalTime(TimeUnit.NANOSECONDS));
    assertEquals(19, get("gen_ai.client.token.usage", "gen_ai.token.type", "input").summary().totalAmount());
    assertEquals(2, get("gen_ai.client.token.usage", "gen_ai.token.type", "output").summary().totalAmount());
    assertEquals(1, count("llmpool.attempts", "provider", "a", "outcome", "success"));
  }

  @Test
  void rateLimitedFirstTierFailsOverToTheNextTier() throws IOException {
    FakeLlmServer a = answering("a", "openai-429-rate-limit.http");
    FakeLlmServer b = ok("b");
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat")
        .tier(a.provider().model("gpt-4o-mini").build())
        .tier(b.provider().model("gpt-4o-mini").build()), registry);

    assertEquals(200, Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false).status());

    assertEquals(1, count("llmpool.attempts", "provider", "a", "tier", "0", "outcome", "rate_limited"));
    assertEquals(1, count("llmpool.attempts", "provider", "b", "tier", "1", "outcome", "success"));
    assertEquals(1, count("llmpool.failovers", "provider", "b", "scope", "other_tier"));
    assertEquals(0, count("llmpool.failovers", "scope", "same_tier"));
    assertEquals(1, count("llmpool.retries", "provider", "a", "cause", "rate_limited"));
    assertEquals(1, count("llmpool.evictions", "provider", "a", "cause", "rate_limited"));
    assertEquals(1.0, get("llmpool.provider.state", "provider", "a", "state", "evicted").gauge().value());
    assertEquals(0.0, get("llmpool.provider.state", "provider", "a", "state", "available").gauge().value());
    assertEquals(1.0, get("llmpool.provider.state", "provider", "b", "state", "available").gauge().value());
    assertEquals(1.0, get("llmpool.provider.ejections", "provider", "a").gauge().value());
    assertEquals(0.0, get("llmpool.provider.remaining.requests", "provider", "a").gauge().value(), "the 429 said 0");
    assertEquals(18350.0, get("llmpool.provider.remaining.tokens", "provider", "a").gauge().value());
    // One logical request, served by b: one duration, on b's address, without an error.
    Timer duration = get("gen_ai.client.operation.duration").timer();
    assertEquals(1, registry.find("gen_ai.client.operation.duration").timers().size());
    assertEquals(1, duration.count());
    assertEquals(Integer.toString(b.port()), tags(duration).get("server.port"));
    assertEquals("none", tags(duration).get("error.type"));
    assertEquals(1, count("llmpool.requests", "outcome", "success"));
    assertEquals(0, registry.find("llmpool.exhausted").counters().size());
  }

  @Test
  void remainingRequestsAndTokensFollowTheLastResponse() throws IOException {
    FakeLlmServer a = answering("a", "openai-200-ratelimit.http");
    FakeLlmServer quiet = ok("quiet"); // sends no x-ratelimit-* headers
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat")
        .tier(a.provider().build()).tier(quiet.provider().build()), registry);

    assertTrue(Double.isNaN(get("llmpool.provider.remaining.requests", "provider", "a").gauge().value()), "unknown");
    assertEquals(200, Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false).status());

    assertEquals(499.0, get("llmpool.provider.remaining.requests", "provider", "a").gauge().value());
    assertEquals(199384.0, get("llmpool.provider.remaining.tokens", "provider", "a").gauge().value());
    assertTrue(Double.isNaN(get("llmpool.provider.remaining.tokens", "provider", "quiet").gauge().value()));
  }

  /**
   * A latency probe of the pool's own (P2cSettings.probes): counted in llmpool.latency_probes, not
   * in the callers' llmpool.attempts, and its tokens in llmpool.tokens (it is billed). Each answer
   * takes 50 ms on the pool's ticker, c's first 2 s ({@code FakeLlmServer.latencyOn}); 10 s later
   * c still looks slow and the next pick probes it. The probe client's one thread says when the probe has ended.
   */
  @Test
  void aLatencyProbeIsCountedApartFromTheCallersAttemptsAndItsTokensAreCounted() throws Exception {
    io.github.llmpool.testing.ManualTicker ticker = new io.github.llmpool.testing.ManualTicker();
    java.time.Duration fast = java.time.Duration.ofMillis(50);
    FakeLlmServer a = streaming("a").latencyOn(ticker, fast);
    FakeLlmServer b = streaming("b").latencyOn(ticker, fast);
    FakeLlmServer c = streaming("c").latencyOn(ticker, java.time.Duration.ofSeconds(2));
    java.util.concurrent.ExecutorService probeThread = java.util.concurrent.Executors.newSingleThreadExecutor();
    OkHttpClient probeClient = new OkHttpClient.Builder().dispatcher(new okhttp3.Dispatcher(probeThread)).build();
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat").ticker(ticker)
        .p2c(io.github.llmpool.P2cSettings.builder().probes(true).build()).probeClient(probeClient)
        .tier(a.provider().build(), b.provider().build(), c.provider().build()), registry);
    OkHttpClient client = pool.newHttpClient();
    for (String only : List.of("a", "b", "c")) { // one caller's stream each, c's slow
      callOnly(pool, client, only);
    }
    c.latencyOn(ticker, fast);
    ticker.advance(java.time.Duration.ofMillis(10_100));
    callOnly(pool, client, "a"); // a and b measured again; c's last sample is 10 s old
    callOnly(pool, client, "b");

    assertEquals(200, Calls.chat(client, pool, "gpt-4o-mini", true).status()); // the pick that probes c
    probeThread.shutdown(); // the probe was handed to it during the call
    assertTrue(probeThread.awaitTermination(10, TimeUnit.SECONDS), "the probe ended");

    assertEquals(2, c.requestCount(), "c: one caller's stream and the probe");
    assertEquals(1, count("llmpool.latency_probes", "provider", "c", "outcome", "success"));
    assertEquals(1, count("llmpool.attempts", "provider", "c"), "the callers' attempts do not count the probe");
    assertEquals(2 * 19, count("llmpool.tokens", "provider", "c", "type", "input"), "the fixture's 19, twice");
    assertEquals(1, pool.snapshot().provider("c").orElseThrow().probes());
  }

  private static void callOnly(ProviderPool pool, OkHttpClient client, String provider) throws IOException {
    for (String p : List.of("a", "b", "c")) {
      if (!p.equals(provider)) {
        pool.drain(p);
      }
    }
    assertEquals(200, Calls.chat(client, pool, "gpt-4o-mini", true).status());
    pool.resumeAll();
  }

  @Test
  void sameTierFailoverIsCountedAsSuch() throws IOException {
    FakeLlmServer a = answering("a", "openai-503.http");
    FakeLlmServer b = ok("b");
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat").strategy(Strategy.WEIGHTED)
        .random(bound -> 0) // the weighted draw picks the first provider of the tier
        .tier(a.provider().build(), b.provider().build()), registry);

    assertEquals(200, Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false).status());

    assertEquals(1, count("llmpool.attempts", "provider", "a", "outcome", "server_error"));
    assertEquals(1, count("llmpool.failovers", "provider", "b", "scope", "same_tier"));
    assertEquals(0, count("llmpool.failovers", "scope", "other_tier"));
    assertEquals(1, count("llmpool.retries", "provider", "a", "cause", "server_error"));
  }

  @Test
  void deadProviderIsAConnectionFailureAndTheNextTierServes() throws IOException {
    FakeLlmServer dead = FakeLlmServer.start("dead").down();
    FakeLlmServer b = ok("b");
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat")
        .tier(dead.provider().build()).tier(b.provider().build()), registry);

    assertEquals(200, Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false).status());

    assertEquals(1, count("llmpool.attempts", "provider", "dead", "outcome", "connection_failure"));
    assertEquals(1, count("llmpool.attempts", "provider", "b", "outcome", "success"));
    assertEquals(1, count("llmpool.failovers", "provider", "b", "scope", "other_tier"));
    assertEquals(1, get("gen_ai.client.operation.duration", "error.type", "none").timer().count());
    assertEquals(1, registry.find("gen_ai.client.operation.duration").timers().size());
  }

  @Test
  void onlyProviderDeadEndsTheRequestWithItsErrorType() {
    FakeLlmServer dead = FakeLlmServer.start("dead").down();
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("solo")
        .tier(dead.provider().model("gpt-4o-mini").build()), registry);

    assertThrows(AttemptsExhaustedException.class, () -> Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false));

    Timer duration = get("gen_ai.client.operation.duration").timer();
    assertEquals("connection_failure", tags(duration).get("error.type"));
    assertEquals("none", tags(duration).get("gen_ai.response.model"));
    assertEquals(1, duration.count());
    assertEquals(1, count("llmpool.requests", "pool", "solo", "outcome", "connection_failure"));
    assertEquals(1, count("llmpool.exhausted", "pool", "solo", "reason", "no_provider"));
    assertTrue(registry.find("gen_ai.client.token.usage").meters().isEmpty(), "no usage, no token metric");
  }

  @Test
  void aDrainedPoolsRefusedCallIsCountedAsARefusedRequestWithNoAttempt() {
    FakeLlmServer a = ok("a");
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat")
        .tier(a.provider().model("gpt-4o-mini").build()), registry);
    pool.drainAll();

    assertThrows(io.github.llmpool.NoProviderAvailableException.class,
        () -> Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false));

    assertEquals(0, a.requestCount());
    assertEquals(1, count("llmpool.requests", "pool", "chat", "model", "gpt-4o-mini", "outcome", "refused"));
    assertTrue(registry.find("llmpool.attempts").meters().isEmpty(), "no attempt");
    assertTrue(registry.find("gen_ai.client.operation.duration").meters().isEmpty(), "no provider to tag it with");
  }

  @Test
  void truncatedStreamIsAnErrorOfTheRequest() {
    String full = WireFixtures.text("openai-chat-stream-usage.sse");
    String cut = full.substring(0, full.indexOf("data:", full.indexOf("data:") + 1)); // the first event only
    FakeLlmServer a = FakeLlmServer.start("a").answerWith(r -> new MockResponse.Builder().code(200)
        .addHeader("content-type", "text/event-stream").body(cut).build());
    upstreams.add(a);
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat")
        .tier(a.provider().model("gpt-4o-mini").build()), registry);

    assertThrows(TruncatedStreamException.class, () -> Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", true));

    assertEquals(1, get("gen_ai.client.operation.duration", "error.type", "truncated_stream").timer().count());
    assertEquals(1, count("llmpool.attempts", "provider", "a", "outcome", "truncated_stream"));
    assertEquals(1, count("llmpool.requests", "outcome", "truncated_stream"));
    assertEquals(1, get("gen_ai.client.operation.time_to_first_chunk").timer().count(), "a first chunk arrived");
    assertTrue(registry.find("gen_ai.client.operation.time_per_output_chunk").meters().isEmpty());
  }

  @Test
  void retryBudgetRefusalIsCounted() throws IOException {
    FakeLlmServer a = answering("a", "openai-429-rate-limit.http");
    FakeLlmServer b = ok("b");
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat")
        .retry(RetryPolicy.builder().budgetRatio(0).minRetriesPerSecond(0).build())
        .tier(a.provider().build()).tier(b.provider().build()), registry);

    assertEquals(429, Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false).status());

    assertEquals(0, b.requestCount());
    assertEquals(1, count("llmpool.retry_budget.refusals", "pool", "chat"));
    assertEquals(1, count("llmpool.exhausted", "reason", "retry_budget"));
    assertEquals(1, get("gen_ai.client.operation.duration", "error.type", "429").timer().count());
    assertEquals(1, count("llmpool.requests", "outcome", "rate_limited"));
  }

  @ParameterizedTest
  @EnumSource(GenAiNaming.class)
  void bothNamingsOverASuccessAndAStream(GenAiNaming naming) throws IOException {
    FakeLlmServer a = ok("a");
    FakeLlmServer s = streaming("s");
    LlmPoolMetrics metrics = LlmPoolMetrics.builder(registry).naming(naming).tokenUnit("{token}").build();
    ProviderPool chat = metrics.build(ProviderPool.builder().name("chat").tier(a.provider().model("gpt-4o-mini").build()));
    ProviderPool stream = metrics.build(ProviderPool.builder().name("stream").tier(s.provider().model("gpt-4o-mini").build()));
    Calls.chat(chat.newHttpClient(), chat, "gpt-4o-mini", false);
    Calls.chat(stream.newHttpClient(), stream, "gpt-4o-mini", true);

    boolean current = naming == GenAiNaming.CURRENT;
    String duration = current ? "gen_ai.client.operation.duration" : "gen_ai.client.inference.duration";
    String ttfc = current ? "gen_ai.client.operation.time_to_first_chunk" : "gen_ai.client.inference.time_to_first_chunk";
    String tpoc = current ? "gen_ai.client.operation.time_per_output_chunk"
        : "gen_ai.client.inference.time_per_output_chunk";
    String other = current ? "gen_ai.client.inference.duration" : "gen_ai.client.operation.duration";
    assertEquals(2, registry.find(duration).timers().stream().mapToLong(Timer::count).sum());
    assertTrue(registry.find(other).meters().isEmpty());
    assertEquals(1, get(ttfc).timer().count());
    assertEquals(1, get(tpoc).timer().count());
    for (Timer t : registry.find(duration).timers()) {
      assertArrayEquals(DURATION_BUCKETS, seconds(t.takeSnapshot().histogramCounts()), 1e-12);
    }
    if (current) {
      assertEquals(23 + 19, registry.find("gen_ai.client.token.usage").tag("gen_ai.token.type", "input").summaries()
          .stream().mapToDouble(DistributionSummary::totalAmount).sum());
      assertTrue(registry.find("gen_ai.client.inference.usage.input_tokens").meters().isEmpty());
    } else {
      assertTrue(registry.find("gen_ai.client.token.usage").meters().isEmpty());
      DistributionSummary in = get("gen_ai.client.inference.operation.input_tokens", "server.port",
          Integer.toString(a.port())).summary();
      assertEquals(23, in.totalAmount());
      assertEquals("{token}", in.getId().getBaseUnit());
      assertArrayEquals(TOKEN_BUCKETS, bounds(in.takeSnapshot().histogramCounts()), 0);
      assertEquals(57, get("gen_ai.client.inference.operation.output_tokens", "server.port",
          Integer.toString(a.port())).summary().totalAmount());
      assertEquals(23 + 19, count("gen_ai.client.inference.usage.input_tokens", "gen_ai.token.modality", "text"));
      assertEquals(57 + 2, count("gen_ai.client.inference.usage.output_tokens", "gen_ai.token.modality", "text"));
      assertEquals(12, count("gen_ai.client.inference.usage.cache_read.input_tokens"));
      assertEquals(40, count("gen_ai.client.inference.usage.reasoning.output_tokens"));
      assertEquals("{token}", get("gen_ai.client.inference.usage.input_tokens").counters().iterator().next().getId()
          .getBaseUnit());
    }
    // The router's metrics do not depend on the naming.
    assertEquals(1, count("llmpool.attempts", "pool", "chat", "outcome", "success"));
    assertEquals(1, count("llmpool.attempts", "pool", "stream", "outcome", "success"));
  }

  @ParameterizedTest
  @EnumSource(GenAiNaming.class)
  void failuresUnderBothNamings(GenAiNaming naming) {
    String duration = naming == GenAiNaming.CURRENT ? "gen_ai.client.operation.duration"
        : "gen_ai.client.inference.duration";
    String full = WireFixtures.text("openai-chat-stream-usage.sse");
    String cut = full.substring(0, full.indexOf("data:", full.indexOf("data:") + 1));
    FakeLlmServer t = FakeLlmServer.start("t").answerWith(r -> new MockResponse.Builder().code(200)
        .addHeader("content-type", "text/event-stream").body(cut).build());
    upstreams.add(t);
    FakeLlmServer dead = FakeLlmServer.start("dead").down();
    LlmPoolMetrics metrics = LlmPoolMetrics.builder(registry).naming(naming).build();
    ProviderPool truncated = metrics.build(ProviderPool.builder().name("cut").tier(t.provider().model("gpt-4o-mini").build()));
    ProviderPool gone = metrics.build(ProviderPool.builder().name("gone").tier(dead.provider().model("gpt-4o-mini").build()));

    assertThrows(TruncatedStreamException.class, () -> Calls.chat(truncated.newHttpClient(), truncated, "m", true));
    assertThrows(AttemptsExhaustedException.class, () -> Calls.chat(gone.newHttpClient(), gone, "m", false));

    Timer cutTimer = get(duration, "error.type", "truncated_stream").timer();
    assertEquals(1, cutTimer.count());
    assertEquals(Integer.toString(t.port()), tags(cutTimer).get("server.port"));
    assertArrayEquals(DURATION_BUCKETS, seconds(cutTimer.takeSnapshot().histogramCounts()), 1e-12);
    Timer deadTimer = get(duration, "error.type", "connection_failure").timer();
    assertEquals(1, deadTimer.count());
    assertEquals(Integer.toString(dead.port()), tags(deadTimer).get("server.port"));
    assertEquals(2, registry.find(duration).timers().size());
  }

  @Test
  void aModelRoutersPoolsAreBoundOneByOne() throws IOException {
    FakeLlmServer fast = ok("fast-a");
    FakeLlmServer smart = ok("smart-a");
    LlmPoolMetrics metrics = LlmPoolMetrics.builder(registry).build();
    io.github.llmpool.ModelRouter router = io.github.llmpool.ModelRouter.builder()
        .route("fast", metrics.build(ProviderPool.builder().name("fast").virtualHost("fast.llmpool.invalid")
            .tier(fast.provider().model("gpt-4o-mini").build())))
        .route("smart", metrics.build(ProviderPool.builder().name("smart").virtualHost("smart.llmpool.invalid")
            .tier(smart.provider().model("gpt-4o").build())))
        .build();
    OkHttpClient client = new OkHttpClient.Builder().addInterceptor(router.interceptor()).build();
    for (String alias : List.of("smart", "smart", "fast")) {
      okhttp3.Request req = new okhttp3.Request.Builder().url(router.baseUrl().resolve("chat/completions").toString())
          .post(okhttp3.RequestBody.create(Calls.chatBody(alias, false), Calls.JSON)).build();
      try (okhttp3.Response r = client.newCall(req).execute()) {
        assertEquals(200, r.code());
        r.body().string();
      }
    }
    assertEquals(2, count("llmpool.requests", "pool", "smart", "model", "gpt-4o"));
    assertEquals(1, count("llmpool.requests", "pool", "fast", "model", "gpt-4o-mini"));
    assertEquals(2, get("gen_ai.client.operation.duration", "gen_ai.request.model", "gpt-4o").timer().count());
    assertEquals(1.0, get("llmpool.provider.state", "pool", "smart", "provider", "smart-a", "state", "available")
        .gauge().value());
    assertEquals(1.0, get("llmpool.provider.state", "pool", "fast", "provider", "fast-a", "state", "available")
        .gauge().value());
  }

  @Test
  void modelTagsComeFromConfigurationNeverFromTheRequest() throws IOException {
    FakeLlmServer a = ok("a"); // no model override: the caller's model passes through
    LlmPoolMetrics metrics = LlmPoolMetrics.builder(registry).models("gpt-4o-mini").build();
    ProviderPool pool = metrics.build(ProviderPool.builder().name("chat").tier(a.provider().build()));
    OkHttpClient client = pool.newHttpClient();

    Calls.chat(client, pool, "gpt-4o-mini", false);
    Calls.chat(client, pool, "user-typed-model-81734", false);
    Calls.chat(client, pool, "another-one-99", false);

    assertEquals(1, get("gen_ai.client.operation.duration", "gen_ai.request.model", "gpt-4o-mini").timer().count());
    assertEquals(2, get("gen_ai.client.operation.duration", "gen_ai.request.model", "other").timer().count());
    assertEquals(2, registry.find("gen_ai.client.operation.duration").timers().size());
    // the served model is a dated snapshot of the configured one: kept
    assertEquals(3, registry.find("gen_ai.client.operation.duration")
        .tag("gen_ai.response.model", "gpt-4o-mini-2024-07-18").timers().stream().mapToLong(Timer::count).sum());
    for (Meter m : registry.getMeters()) {
      for (Tag t : m.getId().getTags()) {
        assertTrue(!t.getValue().contains("user-typed") && !t.getValue().contains("another-one"), m.getId().toString());
      }
    }
  }

  @Test
  void aMeterFilterDropsTags() throws IOException {
    MeterRegistry filtered = new SimpleMeterRegistry();
    filtered.config().meterFilter(MeterFilter.ignoreTags("server.address", "server.port", "gen_ai.response.model"));
    FakeLlmServer a = ok("a");
    ProviderPool pool = LlmPoolMetrics.bind(ProviderPool.builder().name("chat")
        .tier(a.provider().model("gpt-4o-mini").build()), filtered);

    Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false);

    Timer duration = filtered.get("gen_ai.client.operation.duration").timer();
    assertEquals(Map.of("gen_ai.operation.name", "chat", "gen_ai.provider.name", "openai",
        "gen_ai.request.model", "gpt-4o-mini", "error.type", "none"), tags(duration));
    assertEquals(1, duration.count());
  }

  @Test
  void genAiProviderNameComesFromTheHostOrTheBinding() {
    assertEquals("openai", io.github.llmpool.telemetry.TelemetryValues.genAiProviderOf("api.openai.com"));
    assertEquals("azure.ai.openai", io.github.llmpool.telemetry.TelemetryValues.genAiProviderOf("my-res.openai.azure.com"));
    assertEquals("gcp.gemini", io.github.llmpool.telemetry.TelemetryValues.genAiProviderOf("generativelanguage.googleapis.com"));
    assertEquals("groq", io.github.llmpool.telemetry.TelemetryValues.genAiProviderOf("API.GROQ.COM"));
    assertEquals("openai", io.github.llmpool.telemetry.TelemetryValues.genAiProviderOf("127.0.0.1"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LlmPoolMetrics.builder(registry).genAiProvider("a", " "));
    assertEquals("genAiProviderName must not be blank but was ' '", e.getMessage());
  }

  @Test
  void genAiProviderOverrideIsUsed() throws IOException {
    FakeLlmServer a = ok("a");
    ProviderPool pool = LlmPoolMetrics.builder(registry).genAiProvider("a", "ibm.watsonx.ai").build()
        .build(ProviderPool.builder().tier(a.provider().build()));
    Calls.chat(pool.newHttpClient(), pool, "gpt-4o-mini", false);
    assertEquals("ibm.watsonx.ai", tags(get("gen_ai.client.operation.duration").timer()).get("gen_ai.provider.name"));
  }
}
