package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** P2C on real loopback providers: the LLM-aware signal, a slow provider, exact in-flight counts. */
class SelectionLoopbackTest {
  private final Upstreams up = new Upstreams();

  @AfterEach
  void close() {
    up.close();
  }

  static MockResponse chat(int completionTokens) {
    return new MockResponse.Builder().addHeader("content-type", "application/json")
        .body("{\"model\":\"m\",\"choices\":[{\"message\":{\"content\":\"...\"}}],\"usage\":{\"prompt_tokens\":5,"
            + "\"completion_tokens\":" + completionTokens + ",\"total_tokens\":" + (5 + completionTokens) + "}}")
        .build();
  }

  /**
   * "short" is a slow model writing 10-token answers in 200 ms; "long" a fast one writing
   * 1,000-token answers in 400 ms. The fake clock moves inside each provider by its latency, so the
   * pool measures exactly that. Plain latency prefers "short"; the LLM-aware signal (latency x 32 /
   * (tokens + 32): 152 ms vs 12 ms) prefers "long".
   */
  private int[] run(boolean llmAware) throws Exception {
    FakeTicker ticker = new FakeTicker();
    MockWebServer shortAnswers = up.start(r -> {
      ticker.advance(Duration.ofMillis(200));
      return chat(10);
    });
    MockWebServer longAnswers = up.start(r -> {
      ticker.advance(Duration.ofMillis(400));
      return chat(1000);
    });
    ProviderPool pool = ProviderPool.builder().ticker(ticker).random(ScriptedRandom.seeded(3)).p2c(P2cSettings.builder().llmAware(llmAware).build())
        .tier(Provider.builder("short").baseUrl(Upstreams.baseUrl(shortAnswers)).build(),
            Provider.builder("long").baseUrl(Upstreams.baseUrl(longAnswers)).build())
        .build();
    OkHttpClient c = up.client(pool);
    for (int i = 0; i < 110; i++) {
      Upstreams.call(c, Upstreams.chat(pool));
    }
    return new int[] {up.count(shortAnswers), up.count(longAnswers)};
  }

  @Test
  void llmAwareSignalPrefersTheFastModelWritingLongAnswers() throws Exception {
    int[] aware = run(true);
    // at most the first request goes to "short" (the two start equal); then "long" wins every pick
    // (plus, once "short" is tau / 2 stale, the 2% of picks that explore it)
    assertTrue(aware[0] <= 4 && aware[1] >= 106, "LLM-aware: short " + aware[0] + ", long " + aware[1]);
  }

  @Test
  void plainLatencyWouldPreferTheSlowModelWritingShortAnswers() throws Exception {
    int[] plain = run(false);
    // "long" is tried (first pick, or its decayed estimate is explored) yet "short" wins nearly always
    assertTrue(plain[0] >= 100 && plain[1] >= 1, "plain latency: short " + plain[0] + ", long " + plain[1]);
  }

  @Test
  void providerTenTimesSlowerGetsUnderTenPercentAfterWarmUp() throws Exception {
    MockWebServer a = up.start(r -> new MockResponse.Builder().headersDelay(4, TimeUnit.MILLISECONDS).body("{}").build());
    MockWebServer b = up.start(r -> new MockResponse.Builder().headersDelay(4, TimeUnit.MILLISECONDS).body("{}").build());
    MockWebServer slow = up.start(r -> new MockResponse.Builder().headersDelay(40, TimeUnit.MILLISECONDS).body("{}").build());
    // Latencies here are 4 and 40 ms, so the decay constant is scaled down with them (10 s suits
    // LLM latencies of seconds): a connection set-up spike in the warm-up must not last the test.
    ProviderPool pool = ProviderPool.builder().strategy(Strategy.POWER_OF_TWO_CHOICES)
        .p2c(P2cSettings.builder().latencyDecay(Duration.ofMillis(300)).build())
        .tier(Provider.builder("a").baseUrl(Upstreams.baseUrl(a)).build(),
            Provider.builder("b").baseUrl(Upstreams.baseUrl(b)).build(),
            Provider.builder("slow").baseUrl(Upstreams.baseUrl(slow)).build())
        .build();
    OkHttpClient c = up.client(pool);
    ExecutorService pool4 = Executors.newFixedThreadPool(4);
    try {
      runConcurrently(pool4, 4, 25, c, pool); // warm-up
      int before = up.count(slow);
      int total0 = up.count(a) + up.count(b) + before;
      runConcurrently(pool4, 4, 100, c, pool);
      int slowShare = up.count(slow) - before;
      int total = up.count(a) + up.count(b) + up.count(slow) - total0;
      assertEquals(400, total);
      assertTrue(slowShare < 40, "slow provider got " + slowShare + " of 400");
      int aShare = up.count(a);
      int bShare = up.count(b);
      assertTrue(Math.abs(aShare - bShare) < 0.3 * (aShare + bShare), "a " + aShare + ", b " + bShare);
    } finally {
      pool4.shutdownNow();
    }
    assertEquals(0, pool.snapshot().inFlight());
  }

  private static void runConcurrently(ExecutorService ex, int threads, int perThread, OkHttpClient c, ProviderPool pool)
      throws Exception {
    List<Future<?>> fs = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      fs.add(ex.submit(() -> {
        for (int i = 0; i < perThread; i++) {
          Upstreams.call(c, Upstreams.chat(pool));
        }
        return null;
      }));
    }
    for (Future<?> f : fs) {
      f.get(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void inFlightReturnsToZeroAfterConcurrentFaultyTraffic() throws Exception {
    List<MockWebServer> servers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      servers.add(up.start(r -> {
        int roll = ThreadLocalRandom.current().nextInt(10);
        if (roll == 0) {
          return new MockResponse.Builder().code(503).body("{}").build();
        }
        if (roll == 1) {
          return new MockResponse.Builder().onResponseStart(new SocketEffect.CloseSocket()).build();
        }
        if (roll == 2) {
          return Fixtures.sse("openai-chat-stream-usage.sse");
        }
        return Fixtures.json("openai-chat.json");
      }));
    }
    ProviderPool.Builder b = ProviderPool.builder().eviction(EvictionPolicy.builder().baseDuration(Duration.ofMillis(50)).build());
    for (int i = 0; i < servers.size(); i++) {
      b.tier(Provider.builder("p" + i).baseUrl(Upstreams.baseUrl(servers.get(i))).build());
    }
    ProviderPool pool = b.build();
    OkHttpClient c = up.client(pool);
    ExecutorService ex = Executors.newFixedThreadPool(8);
    List<Future<Integer>> fs = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      fs.add(ex.submit(() -> {
        int done = 0;
        for (int i = 0; i < 100; i++) {
          try (okhttp3.Response r = c.newCall(Upstreams.chat(pool)).execute()) {
            if (i % 3 == 0) {
              r.body().source().request(1); // close early
            } else {
              r.body().bytes();
            }
          } catch (java.io.IOException expected) {
            // every attempt may fail; the point is the accounting
          }
          done++;
        }
        return done;
      }));
    }
    int calls = 0;
    for (Future<Integer> f : fs) {
      calls += f.get(120, TimeUnit.SECONDS);
    }
    ex.shutdownNow();
    assertEquals(800, calls);
    for (ProviderSnapshot p : pool.snapshot().providers()) {
      assertEquals(0, p.inFlight(), p.name());
      assertEquals(p.requests(), p.successes() + p.failures() + p.clientErrors(), p.toString());
    }
  }
}
