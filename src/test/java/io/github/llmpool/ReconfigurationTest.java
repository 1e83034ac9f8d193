package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** update(): weights, providers and tiers change atomically; surviving providers keep their state. */
class ReconfigurationTest {
  private final Upstreams up = new Upstreams();
  private final FakeTicker ticker = new FakeTicker();

  @AfterEach
  void close() {
    up.close();
  }

  @Test
  void survivingProvidersKeepHealthAndCountersAndNewOnesTakeTraffic() throws Exception {
    boolean[] limited = {true};
    MockWebServer a = up.start(r -> limited[0] ? Fixtures.http("openai-429-rate-limit.http") : Fixtures.json("openai-chat.json"));
    MockWebServer b = up.startChat();
    MockWebServer c = up.startChat();
    Provider pa = Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).build();
    Provider pb = Provider.builder("b").baseUrl(Upstreams.baseUrl(b)).build();
    Provider pc = Provider.builder("c").baseUrl(Upstreams.baseUrl(c)).build();
    // Reactive only: this test is about state surviving reconfiguration, not about the 429's quota headers.
    ProviderPool pool = ProviderPool.builder().quotaRouting(false).strategy(Strategy.ROUND_ROBIN).ticker(ticker)
        .random(ScriptedRandom.seeded(5))
        .tier(pa, pb).build();
    OkHttpClient client = up.client(pool);
    for (int i = 0; i < 4; i++) {
      Upstreams.call(client, Upstreams.chat(pool));
    }
    assertEquals(1, up.count(a)); // evicted for 2 s after its 429
    long bRequests = pool.snapshot().provider("b").orElseThrow().requests();

    pool.update(List.of(List.of(pa.withWeight(5), pb.withWeight(1), pc.withWeight(1))));
    ProviderSnapshot sa = pool.snapshot().provider("a").orElseThrow();
    assertEquals(ProviderSnapshot.Status.EVICTED, sa.status()); // kept its eviction
    assertEquals(5, sa.weight());
    assertEquals(bRequests, pool.snapshot().provider("b").orElseThrow().requests()); // kept its counters
    for (int i = 0; i < 20; i++) {
      Upstreams.call(client, Upstreams.chat(pool));
    }
    assertEquals(1, up.count(a)); // still evicted: no traffic
    // round robin 5/1/1 with a out: a's turns are spread over b and c by weight, so c expects
    // 20 x (1/7 + 5/14) = 10 (seeded)
    assertTrue(up.count(c) >= 7 && up.count(c) <= 13, "new provider c got " + up.count(c));

    limited[0] = false;
    ticker.advance(Duration.ofSeconds(2));
    pool.update(Strategy.WEIGHTED, List.of(List.of(pa), List.of(pc))); // b removed, c moved to tier 1
    int b0 = up.count(b);
    for (int i = 0; i < 10; i++) {
      Upstreams.call(client, Upstreams.chat(pool));
    }
    assertEquals(b0, up.count(b));
    assertEquals(11, up.count(a)); // probe succeeded, tier 0 serves everything
    assertEquals(Strategy.WEIGHTED, pool.strategy());
    assertEquals(List.of("a", "c"), pool.snapshot().providers().stream().map(ProviderSnapshot::name).toList());
  }

  @Test
  void requestInFlightFinishesOnItsProviderAcrossAnUpdate() throws Exception {
    MockWebServer a = up.start(r -> Fixtures.sse("openai-chat-stream-usage.sse"));
    MockWebServer b = up.startChat();
    Provider pa = Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).build();
    Provider pb = Provider.builder("b").baseUrl(Upstreams.baseUrl(b)).build();
    ProviderPool pool = ProviderPool.builder().tier(pa).build();
    OkHttpClient client = up.client(pool);
    try (Response r = client.newCall(Upstreams.post(pool, "chat/completions", "{\"stream\":true}")).execute()) {
      assertEquals(1, pool.snapshot().provider("a").orElseThrow().inFlight());
      pool.update(List.of(List.of(pb))); // a removed while its stream is open
      assertTrue(r.body().string().contains("[DONE]"));
    }
    pool.update(List.of(List.of(pa, pb)));
    ProviderSnapshot sa = pool.snapshot().provider("a").orElseThrow();
    assertEquals(0, sa.inFlight());
    assertEquals(0, sa.requests()); // a removed provider's state is dropped; coming back, it starts afresh
  }

  @Test
  void invalidUpdateIsRefusedAndLeavesThePoolAsItWas() {
    Provider pa = Provider.builder("a").baseUrl("http://127.0.0.1:9").build();
    ProviderPool pool = ProviderPool.builder().tier(pa).build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.update(List.of(List.of(pa, pa))));
    assertEquals("provider names must be unique but 'a' appears twice", e.getMessage());
    assertEquals(List.of(List.of(pa)), pool.tiers());
  }
}
