package io.github.llmpool.config;

import io.github.llmpool.Affinity;
import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.FakeTicker;
import io.github.llmpool.Fixtures;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.ScriptedRandom;
import io.github.llmpool.Strategy;
import io.github.llmpool.Upstreams;

import io.github.llmpool.config.PoolConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PoolConfig.read(file).applyTo(pool): tiers, weights and strategy change atomically; providers keep their state. */
class ConfigReloadTest {
  private static final Function<String, String> ENV = Map.of("KEY", "k-test")::get;

  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();
  @TempDir Path dir;
  private Path file;
  private MockWebServer a;
  private MockWebServer b;
  private MockWebServer c;

  @BeforeEach
  void start() {
    a = up.start(r -> Fixtures.http("openai-429-rate-limit.http")); // evicted 2 s by its retry-after
    b = up.startChat();
    c = up.startChat();
    file = dir.resolve("llmpool.json");
  }

  @AfterEach
  void close() {
    up.close();
  }

  private String provider(String name, MockWebServer s, int weight) {
    return "{\"name\":\"" + name + "\",\"baseUrl\":\"" + Upstreams.baseUrl(s) + "\",\"apiKey\":\"${KEY}\",\"weight\":" + weight + "}";
  }

  private void write(String root, String... providers) throws Exception {
    Files.writeString(file, "{" + root + "\"tiers\":[{\"providers\":[" + String.join(",", providers) + "]}]}");
  }

  private ProviderPool pool() throws Exception {
    return PoolConfig.read(file, ENV).toPoolBuilder().ticker(ticker).random(ScriptedRandom.seeded(5)).build();
  }

  private static ProviderSnapshot snap(ProviderPool pool, String name) {
    return pool.snapshot().provider(name).orElseThrow();
  }

  @Test
  void reloadChangesWeightsAndKeepsEvictionsAndCounters() throws Exception {
    write("\"strategy\":\"round_robin\",\"eviction\":{\"maxDuration\":\"1m\"},", provider("a", a, 1), provider("b", b, 1));
    ProviderPool pool = pool();
    OkHttpClient client = up.client(pool);
    for (int i = 0; i < 4; i++) {
      assertEquals("200", Upstreams.call(client, Upstreams.chat(pool))[0]);
    }
    assertEquals(1, up.count(a)); // one 429, then evicted
    ProviderSnapshot before = snap(pool, "a");
    assertEquals(ProviderSnapshot.Status.EVICTED, before.status());
    long bRequests = snap(pool, "b").requests();

    write("\"strategy\":\"round_robin\",\"eviction\":{\"maxDuration\":\"1m\"},",
        provider("a", a, 5), provider("b", b, 1), provider("c", c, 2));
    PoolConfig.read(file, ENV).applyTo(pool);

    ProviderSnapshot after = snap(pool, "a");
    assertEquals(ProviderSnapshot.Status.EVICTED, after.status()); // still evicted
    // same deadline (the ticker did not move)
    assertEquals(before.evictedFor().orElseThrow(), after.evictedFor().orElseThrow());
    assertEquals(before.ejections(), after.ejections());
    assertEquals(before.requests(), after.requests());
    assertEquals(before.failures(), after.failures());
    assertEquals(5, after.weight());
    assertEquals(bRequests, snap(pool, "b").requests()); // counters kept
    assertEquals(List.of(5, 1, 2), pool.tiers().get(0).stream().map(Provider::weight).toList());
    assertEquals(List.of("a/0/5/EVICTED", "b/0/1/AVAILABLE", "c/0/2/AVAILABLE"), ConfigFileTest.layout(pool));
    int served = up.count(b) + up.count(c);
    for (int i = 0; i < 9; i++) {
      Upstreams.call(client, Upstreams.chat(pool));
    }
    assertEquals(1, up.count(a)); // still no traffic while evicted
    assertEquals(served + 9, up.count(b) + up.count(c));
    assertEquals(true, up.count(c) > 0); // the new provider takes traffic
  }

  @Test
  void reloadAppliesAStatedStrategyAndKeepsAnUnstatedOne() throws Exception {
    write("\"strategy\":\"weighted\",", provider("b", b, 1));
    ProviderPool pool = pool();
    write("\"strategy\":\"round_robin\",", provider("b", b, 1));
    PoolConfig.read(file, ENV).applyTo(pool);
    assertEquals(Strategy.ROUND_ROBIN, pool.strategy());
    write("", provider("b", b, 1), provider("c", c, 1)); // no strategy stated: kept
    PoolConfig.read(file, ENV).applyTo(pool);
    assertEquals(Strategy.ROUND_ROBIN, pool.strategy());
    assertEquals(2, pool.tiers().get(0).size());
  }

  @Test
  void reloadChangingFixedSettingsIsRefusedAndChangesNothing() throws Exception {
    write("\"eviction\":{\"baseDuration\":\"5s\"},\"retry\":{\"maxAttempts\":3},", provider("b", b, 1));
    ProviderPool pool = pool();
    write("\"strategy\":\"weighted\",\"eviction\":{\"baseDuration\":\"10s\"},\"retry\":{\"maxAttempts\":5},"
        + "\"whenAllEvicted\":\"fail_fast\",\"virtualHost\":\"other.invalid\",\"affinity\":{\"key\":\"user\"},"
        + "\"name\":\"renamed\",", provider("b", b, 7));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PoolConfig.read(file, ENV).applyTo(pool));
    assertEquals("reload refused, nothing was changed: settings that cannot change at runtime differ from the pool's "
        + "(restart to apply them): $.name is renamed in the file but default in force; "
        + "$.virtualHost is other.invalid in the file but llmpool.invalid in force; "
        + "$.whenAllEvicted is FAIL_FAST in the file but FAIL_OPEN in force; "
        + "$.eviction.baseDuration is PT10S in the file but PT5S in force; "
        + "$.retry.maxAttempts is 5 in the file but 3 in force; "
        + "$.affinity is Affinity{body user, maxSize=10000, idleExpiry=PT30M} in the file but none in force", e.getMessage());
    assertEquals(1, pool.tiers().get(0).get(0).weight());
    assertEquals(ProviderPool.DEFAULT_STRATEGY, pool.strategy());
  }

  @Test
  void reloadStatingThePoolsOwnNameApplies() throws Exception {
    write("\"name\":\"chat\",", provider("b", b, 1));
    ProviderPool pool = pool();
    assertEquals("chat", pool.name());
    write("\"name\":\"chat\",", provider("b", b, 4));
    PoolConfig.read(file, ENV).applyTo(pool);
    assertEquals(4, pool.tiers().get(0).get(0).weight());
  }

  @Test
  void reloadLeavesOutSettingsTheFileDoesNotState() throws Exception {
    ProviderPool pool = ProviderPool.builder().ticker(ticker)
        .eviction(EvictionPolicy.builder().baseDuration(java.time.Duration.ofSeconds(1)).build())
        .affinity(Affinity.key(r -> r.header("X-Tenant").orElse(null)))
        .tier(Provider.builder("b").baseUrl(Upstreams.baseUrl(b)).build()).build();
    write("", provider("b", b, 3));
    PoolConfig.read(file, ENV).applyTo(pool); // eviction, affinity set in code: not compared
    assertEquals(3, pool.tiers().get(0).get(0).weight());
  }

  @Test
  void reloadChangingP2cSettingsIsRefused() throws Exception {
    write("\"p2c\":{\"exploration\":0.01},", provider("b", b, 1));
    ProviderPool pool = pool();
    write("\"p2c\":{\"exploration\":0.02},", provider("b", b, 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PoolConfig.read(file, ENV).applyTo(pool));
    assertEquals("reload refused, nothing was changed: settings that cannot change at runtime differ from the pool's "
        + "(restart to apply them): $.p2c.exploration is 0.02 in the file but 0.01 in force", e.getMessage());
    assertEquals(1, pool.tiers().get(0).get(0).weight());
    write("\"p2c\":{\"exploration\":0.01},", provider("b", b, 2));
    PoolConfig.read(file, ENV).applyTo(pool);
    assertEquals(2, pool.tiers().get(0).get(0).weight());
    write("\"p2c\":{\"exploration\":0.01,\"probes\":true},", provider("b", b, 2));
    IllegalArgumentException p = assertThrows(IllegalArgumentException.class,
        () -> PoolConfig.read(file, ENV).applyTo(pool));
    assertTrue(p.getMessage().endsWith("$.p2c.probes is true in the file but false in force"), p.getMessage());
  }

  @Test
  void invalidFileLeavesThePoolAsItWas() throws Exception {
    write("", provider("b", b, 1));
    ProviderPool pool = pool();
    List<List<Provider>> before = pool.tiers();
    write("", provider("b", b, 2), provider("b", c, 1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PoolConfig.read(file, ENV).applyTo(pool));
    assertEquals("$.tiers[0].providers[1].name must be unique but 'b' appears twice", e.getMessage());
    assertEquals(before, pool.tiers());
  }
}
