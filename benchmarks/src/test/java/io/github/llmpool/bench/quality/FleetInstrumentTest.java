package io.github.llmpool.bench.quality;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/**
 * The fleet experiment's instrument: the interceptor pair that separates the pool's own time from
 * the time below it, the attempt and provider it records, the per-minute counts of the fakes, and
 * the scenario's capacity arithmetic.
 */
class FleetInstrumentTest {
  private static final MediaType JSON = MediaType.get("application/json");

  @Test
  void thePoolsOwnTimeLeavesOutTheTimeBelowItAndCountsEveryAttempt() throws Exception {
    try (MockWebServer limited = new MockWebServer(); MockWebServer slow = new MockWebServer()) {
      limited.enqueue(new MockResponse.Builder().code(429).setHeader("retry-after", "30")
          .body("{\"error\":{\"message\":\"rate limited\"}}").build());
      slow.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
          .headersDelay(200, TimeUnit.MILLISECONDS).body(QuotaFake.completion(5, 5)).build());
      limited.start(InetAddress.getByName("127.0.0.1"), 0);
      slow.start(InetAddress.getByName("127.0.0.1"), 0);
      // Priority tiers: the 429 on tier 0 fails over to tier 1.
      ProviderPool pool = ProviderPool.builder()
          .tier(Provider.builder("a").baseUrl("http://127.0.0.1:" + limited.getPort() + "/v1").apiKey("sk-a").build())
          .tier(Provider.builder("b").baseUrl("http://127.0.0.1:" + slow.getPort() + "/v1").apiKey("sk-b").build())
          .build();
      OkHttpClient client = FleetInstance.client(pool);
      Request req = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
          .post(RequestBody.create("{\"model\":\"m\",\"max_tokens\":5}", JSON)).build();
      long start = System.nanoTime();
      FleetInstance.Timing t = FleetInstance.TIMING.get();
      try (Response r = client.newCall(req).execute()) {
        long wall = System.nanoTime() - start;
        assertEquals(200, r.code());
        assertEquals(2, t.attempts, "the 429 and the answer");
        assertEquals(Integer.toString(slow.getPort()), t.lastPort, "the last attempt went to tier 1");
        assertTrue(t.below >= TimeUnit.MILLISECONDS.toNanos(200), "below the pool: the server's 200 ms, " + t.below);
        long pool0 = t.total - t.below;
        assertTrue(pool0 >= 0 && pool0 < TimeUnit.MILLISECONDS.toNanos(150), "the pool's own time " + pool0);
        assertTrue(t.total <= wall, "measured inside the call");
      }
    }
  }

  @Test
  void perMinuteCountsFallInTheirWorldMinuteAndDropTheRest() {
    long m = QuotaLimit.MINUTE;
    long[] times = {0, m - 1, m, m + 5, 2 * m + 1, 3 * m, -1};
    assertArrayEquals(new long[] {2, 2, 1}, FleetExperiment.perMinute(times, 3, m));
  }

  @Test
  void theLoadIsAShareOfTheLimitedTiersCapacity() {
    QuotaScenario sc = FleetScenario.of(1.5, 4, 8);
    assertEquals(2, sc.tiers().size());
    assertEquals(3, sc.tiers().get(0).size());
    assertEquals(FleetScenario.FALLBACK_RPM, sc.tiers().get(1).get(0).rpm());
    // The request limit binds first: capacity is the RPM.
    assertEquals(3 * FleetScenario.RPM, sc.capacityOf(sc.tiers().get(0)), 1e-9);
    assertEquals(450, sc.offeredPerMinute(), 1e-9);
    List<QuotaScenario.Req> w = sc.workload(18);
    assertEquals(w, sc.workload(18), "seeded: every instance process rebuilds the same workload");
    long[] perInstance = new long[8];
    w.forEach(r -> perInstance[r.instance()]++);
    for (long n : perInstance) {
      assertTrue(n > w.size() / 16, "every instance has a share: " + java.util.Arrays.toString(perInstance));
    }
    double perMinute = w.size() / 4.0;
    assertTrue(Math.abs(perMinute - 450) < 450 * 0.1, "Poisson arrivals at the offered rate: " + perMinute);
  }
}
