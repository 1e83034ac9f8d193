package io.github.llmpool.config;

import io.github.llmpool.Internals;

import io.github.llmpool.Affinity;
import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.P2cSettings;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.Strategy;
import io.github.llmpool.Upstreams;

import io.github.llmpool.config.ConfigNode;
import io.github.llmpool.config.PoolConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalInt;
import java.util.OptionalLong;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A JSON file builds the same pool as the equivalent builder; keys come from the environment. */
class ConfigFileTest {
  static final Map<String, String> ENV = Map.of(
      "OPENAI_API_KEY", "sk-test-openai",
      "AZURE_OPENAI_API_KEY", "azure-test-key",
      "OPENAI_PROJECT", "proj_test");

  private final Upstreams up = new Upstreams();

  @AfterEach
  void close() {
    up.close();
  }

  static InputStream sample() {
    return ConfigFileTest.class.getResourceAsStream("/config/llmpool.json");
  }

  @Test
  void p2cSectionSetsThePoolsP2cSettings() throws Exception {
    PoolConfig c = PoolConfig.read(json("{\"p2c\":{\"latencyDecay\":\"30s\",\"initialLatency\":\"250ms\","
        + "\"llmAware\":false,\"exploration\":0.02,\"probes\":true},\"tiers\":[{\"providers\":[{\"name\":\"a\","
        + "\"baseUrl\":\"http://127.0.0.1:9/v1\"}]}]}"), ENV::get);
    P2cSettings expected = P2cSettings.builder().latencyDecay(java.time.Duration.ofSeconds(30))
        .initialLatency(java.time.Duration.ofMillis(250)).llmAware(false).exploration(0.02).probes(true).build();
    assertTrue(c.p2c().probes());
    assertEquals(expected, c.p2c());
    assertEquals(expected, c.toPoolBuilder().build().p2c());
    PoolConfig none = PoolConfig.read(json("{\"tiers\":[{\"providers\":[{\"name\":\"a\","
        + "\"baseUrl\":\"http://127.0.0.1:9/v1\"}]}]}"), ENV::get);
    assertEquals(P2cSettings.defaults(), none.p2c());
  }

  static InputStream json(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
  }

  /** Everything a provider is, its credential as sent included (Provider has no equals). */
  static String describe(Provider p) {
    return p + " credential=" + Internals.credentialValue(p) + " header=" + p.apiKeyHeader() + " headers=" + p.headers();
  }

  static List<List<String>> describe(List<List<Provider>> tiers) {
    return tiers.stream().map(t -> t.stream().map(ConfigFileTest::describe).toList()).toList();
  }

  static List<String> layout(ProviderPool pool) {
    return pool.snapshot().providers().stream().map(p -> p.name() + "/" + p.tier() + "/" + p.weight() + "/" + p.status()).toList();
  }

  @Test
  void sampleFileBuildsTheSamePoolAsTheEquivalentBuilder() throws Exception {
    ProviderPool fromFile = PoolConfig.read(sample(), ENV::get).toPoolBuilder().build();
    ProviderPool fromCode = ProviderPool.builder()
        .strategy(Strategy.POWER_OF_TWO_CHOICES)
        .whenAllEvicted(AllEvictedPolicy.FAIL_OPEN)
        .eviction(EvictionPolicy.builder().baseDuration(Duration.ofSeconds(5)).maxDuration(Duration.ofMinutes(5))
            .quotaDuration(Duration.ofMinutes(10)).jitter(0.2).rateLimitThreshold(1).failureThreshold(2)
            .maxEjectionPercent(50).build())
        .retry(RetryPolicy.builder().maxAttempts(3).budgetRatio(0.2).minRetriesPerSecond(10)
            .budgetWindow(Duration.ofSeconds(10)).build())
        .affinity(Affinity.header("X-Session-Id").maxSize(10_000).idleExpiry(Duration.ofMinutes(30)))
        .tier(Provider.builder("openai-mini").baseUrl("https://api.openai.com/v1").apiKey("sk-test-openai")
                .model("gpt-4o-mini").weight(80).header("OpenAI-Project", "proj_test").build(),
            Provider.builder("azure-mini").baseUrl("https://example.openai.azure.com/openai/deployments/gpt-4o-mini")
                .apiKey("azure-test-key").apiKeyHeader("api-key").model("gpt-4o-mini").weight(20).concurrency(8).build())
        .tier(Provider.builder("local").baseUrl("http://localhost:8090/v1").model("llama-3.1-8b-instruct")
            .requestsPerMinute(120).tokensPerMinute(100_000).includeUsage(false).build())
        .build();

    assertEquals(describe(fromCode.tiers()), describe(fromFile.tiers()));
    assertEquals(fromCode.strategy(), fromFile.strategy());
    assertEquals(fromCode.affinity(), fromFile.affinity());
    assertEquals(fromCode.baseUrl(), fromFile.baseUrl());
    assertEquals(layout(fromCode), layout(fromFile));
    var a = Internals.core(fromCode).settings();
    var b = Internals.core(fromFile).settings();
    assertEquals(a.health().policy().toString(), b.health().policy().toString());
    assertEquals(a.retry().toString(), b.retry().toString());
    assertEquals(a.allEvictedPolicy(), b.allEvictedPolicy());
    assertEquals(a.virtualHost(), b.virtualHost());
    assertEquals("Bearer sk-test-openai", Internals.credentialValue(fromFile.tiers().get(0).get(0)));
    assertEquals("azure-test-key", Internals.credentialValue(fromFile.tiers().get(0).get(1)));
    assertFalse(fromFile.toString().contains("sk-test-openai"));
    assertFalse(PoolConfig.read(sample(), ENV::get).toString().contains("sk-test-openai"));
  }

  @Test
  void concurrencyIsReadPerProvider() throws Exception {
    PoolConfig c = PoolConfig.read(json("{\"tiers\":[{\"providers\":[{\"name\":\"a\",\"baseUrl\":\"http://127.0.0.1:9/v1\","
        + "\"concurrency\":16},{\"name\":\"b\",\"baseUrl\":\"http://127.0.0.1:9/v1\"}]}]}"), ENV::get);
    assertEquals(16, c.tiers().get(0).get(0).concurrency());
    assertEquals(1, c.tiers().get(0).get(1).concurrency());
  }

  @Test
  void rateLimitsAreReadPerProvider() throws Exception {
    PoolConfig c = PoolConfig.read(json("{\"tiers\":[{\"providers\":[{\"name\":\"a\",\"baseUrl\":\"http://127.0.0.1:9/v1\","
        + "\"requestsPerMinute\":500,\"tokensPerMinute\":3000000000},{\"name\":\"b\",\"baseUrl\":\"http://127.0.0.1:9/v1\"}]}]}"),
        ENV::get);
    assertEquals(OptionalInt.of(500), c.tiers().get(0).get(0).requestsPerMinute());
    assertEquals(OptionalLong.of(3_000_000_000L), c.tiers().get(0).get(0).tokensPerMinute());
    assertEquals(OptionalInt.empty(), c.tiers().get(0).get(1).requestsPerMinute());
    assertEquals(OptionalLong.empty(), c.tiers().get(0).get(1).tokensPerMinute());
  }

  @Test
  void thePoolNameIsRead() throws Exception {
    PoolConfig c = PoolConfig.read(json("{\"name\":\"chat-eu\",\"tiers\":[{\"providers\":[{\"name\":\"a\","
        + "\"baseUrl\":\"http://127.0.0.1:9/v1\"}]}]}"), ENV::get);
    assertEquals("chat-eu", c.name());
    assertTrue(c.states("name"));
    assertEquals("chat-eu", c.toPoolBuilder().build().name());
    assertTrue(c.toString().startsWith("PoolConfig{name=chat-eu, "), c.toString());
  }

  @Test
  void omittedSettingsTakeTheBuilderDefaults() throws Exception {
    PoolConfig c = PoolConfig.read(json("{\"tiers\":[{\"providers\":[{\"name\":\"a\",\"baseUrl\":\"http://127.0.0.1:9/v1\"}]}]}"), ENV::get);
    assertEquals(ProviderPool.DEFAULT_STRATEGY, c.strategy());
    assertEquals(EvictionPolicy.defaults(), c.eviction());
    assertEquals(RetryPolicy.defaults(), c.retry());
    assertEquals(ProviderPool.DEFAULT_ALL_EVICTED_POLICY, c.whenAllEvicted());
    assertEquals(ProviderPool.DEFAULT_VIRTUAL_HOST, c.virtualHost());
    assertEquals(ProviderPool.DEFAULT_NAME, c.name());
    assertEquals(ProviderPool.DEFAULT_NAME, c.toPoolBuilder().build().name());
    assertTrue(c.affinity().isEmpty());
    assertFalse(c.states("strategy"));
    assertFalse(c.states("name"));
    assertTrue(c.states("tiers"));
    Provider p = c.tiers().get(0).get(0);
    assertEquals(Provider.DEFAULT_WEIGHT, p.weight());
    assertEquals(Provider.DEFAULT_CONCURRENCY, p.concurrency());
    assertFalse(p.hasApiKey());
    assertTrue(p.model().isEmpty());
    assertTrue(p.includeUsage());
  }

  @Test
  void fileAndBuilderPoolsSendTheSameRequests() throws Exception {
    MockWebServer sa = up.startChat();
    MockWebServer sb = up.startChat();
    String file = """
        {"strategy": "weighted",
         "tiers": [{"providers": [
           {"name": "a", "baseUrl": "%s", "apiKey": "${KEY_A}", "model": "model-a", "headers": {"X-Org": "${ORG}"}},
           {"name": "b", "baseUrl": "%s", "apiKey": "${KEY_B}", "apiKeyHeader": "api-key", "includeUsage": false}]}]}
        """.formatted(Upstreams.baseUrl(sa), Upstreams.baseUrl(sb));
    Function<String, String> env = Map.of("KEY_A", "ka", "KEY_B", "kb", "ORG", "org-1")::get;
    ProviderPool fromFile = PoolConfig.read(json(file), env).toPoolBuilder().random(new ScriptedRandom(1, 0, 1)).build();
    ProviderPool fromCode = ProviderPool.builder().strategy(Strategy.WEIGHTED).random(new ScriptedRandom(1, 0, 1))
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(sa)).apiKey("ka").model("model-a").header("X-Org", "org-1").build(),
            Provider.builder("b").baseUrl(Upstreams.baseUrl(sb)).apiKey("kb").apiKeyHeader("api-key").includeUsage(false).build())
        .build();
    assertEquals(sent(fromCode, sa, sb), sent(fromFile, sa, sb));
  }

  private List<String> sent(ProviderPool pool, MockWebServer sa, MockWebServer sb) throws Exception {
    OkHttpClient client = up.client(pool);
    List<String> out = new ArrayList<>();
    for (MockWebServer s : List.of(sa, sb)) {
      Upstreams.call(client, Upstreams.post(pool, "chat/completions", "{\"model\":\"m\",\"stream\":true}"));
      RecordedRequest r = s.takeRequest(5, TimeUnit.SECONDS);
      out.add(r.getTarget() + " auth=" + r.getHeaders().get("Authorization") + " api-key=" + r.getHeaders().get("api-key")
          + " org=" + r.getHeaders().get("X-Org") + " body=" + r.getBody().utf8());
    }
    return out;
  }

  @Test
  void pathOverloadsReadTheFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("llmpool.json");
    try (InputStream in = sample()) {
      Files.write(f, in.readAllBytes());
    }
    ProviderPool pool = PoolConfig.read(f, ENV::get).toPoolBuilder().build();
    assertEquals(List.of("openai-mini", "azure-mini", "local"),
        pool.snapshot().providers().stream().map(ProviderSnapshot::name).toList());
    assertEquals(50, PoolConfig.read(f, ENV::get).eviction().maxEjectionPercent());
    assertThrows(NoSuchFileException.class, () -> PoolConfig.read(dir.resolve("missing.json"), ENV::get).toPoolBuilder().build());
  }

  @Test
  void headerValueMayBeALiteralOrAReference() throws Exception {
    PoolConfig c = PoolConfig.read(json("""
        {"tiers":[{"providers":[{"name":"a","baseUrl":"http://127.0.0.1:9/v1",
          "headers":{"X-Literal":"plain","X-Ref":"${ORG}"}}]}]}"""), Map.of("ORG", "org-9")::get);
    assertEquals(Map.of("X-Literal", "plain", "X-Ref", "org-9"), c.tiers().get(0).get(0).headers());
  }

  @Test
  void durationsAcceptIsoAndShortForms() {
    assertEquals(Duration.ofMillis(500), ConfigNode.parseDuration("500ms"));
    assertEquals(Duration.ofSeconds(5), ConfigNode.parseDuration("5s"));
    assertEquals(Duration.ofSeconds(90), ConfigNode.parseDuration("1m30s"));
    assertEquals(Duration.ofHours(2), ConfigNode.parseDuration("2h"));
    assertEquals(Duration.ofDays(1), ConfigNode.parseDuration("1d"));
    assertEquals(Duration.ofSeconds(5), ConfigNode.parseDuration("PT5S"));
    assertEquals(Duration.ofSeconds(90), ConfigNode.parseDuration("pt1m30s"));
    assertEquals(null, ConfigNode.parseDuration("5"));
    assertEquals(null, ConfigNode.parseDuration("5 s"));
    assertEquals(null, ConfigNode.parseDuration("1.5s"));
    assertEquals(null, ConfigNode.parseDuration("PT"));
    assertEquals(null, ConfigNode.parseDuration(""));
  }

  @Test
  void enumsAreCaseInsensitive() throws Exception {
    PoolConfig c = PoolConfig.read(json("{\"strategy\":\"Round_Robin\",\"whenAllEvicted\":\"FAIL_FAST\","
        + "\"tiers\":[{\"providers\":[{\"name\":\"a\",\"baseUrl\":\"http://127.0.0.1:9\"}]}]}"), ENV::get);
    assertEquals(Strategy.ROUND_ROBIN, c.strategy());
    assertEquals(AllEvictedPolicy.FAIL_FAST, c.whenAllEvicted());
  }

  @Test
  void affinitySourcesFromTheFile() throws Exception {
    String tiers = ",\"tiers\":[{\"providers\":[{\"name\":\"a\",\"baseUrl\":\"http://127.0.0.1:9\"}]}]}";
    assertEquals(Affinity.user(), PoolConfig.read(json("{\"affinity\":{\"key\":\"user\"}" + tiers), System::getenv).affinity().orElseThrow());
    assertEquals(Affinity.promptCacheKey().maxSize(5).idleExpiry(Duration.ofSeconds(90)),
        PoolConfig.read(json("{\"affinity\":{\"key\":\"prompt_cache_key\",\"maxSize\":5,\"idleExpiry\":\"1m30s\"}"
            + tiers), System::getenv).affinity().orElseThrow());
  }
}
