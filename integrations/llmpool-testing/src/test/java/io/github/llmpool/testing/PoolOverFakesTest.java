package io.github.llmpool.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.TokenUsage;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The core pool end to end over two fake providers, a first tier and a fallback tier, on a
 * {@link ManualTicker}: the pool reads the fake's answers as it reads a real provider's (usage
 * exactly, from JSON and from the SSE usage chunk; 429 with Retry-After; refused connections).
 */
class PoolOverFakesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private FakeLlmServer a;
  private FakeLlmServer b;
  private ManualTicker ticker;
  private ProviderPool pool;
  private OkHttpClient http;
  private final BlockingQueue<TokenUsage> usages = new LinkedBlockingQueue<>();
  private final List<PoolEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() {
    a = FakeLlmServer.start("a").requireApiKey(true).usage(23, 57);
    b = FakeLlmServer.start("b").requireApiKey(true).usage(23, 57);
    ticker = new ManualTicker();
    pool = ProviderPool.builder()
        .tier(a.provider().model("model-a").build())
        .tier(b.provider().model("model-b").build())
        .eviction(EvictionPolicy.builder().baseDuration(Duration.ofSeconds(5)).jitter(0).build())
        .ticker(ticker)
        .onUsage(usages::add)
        .onEvent(events::add)
        .build();
    http = pool.newHttpClient();
  }

  @AfterEach
  void tearDown() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
    a.close();
    b.close();
  }

  private String call(boolean stream) throws IOException {
    String body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"
        + (stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "") + "}";
    Request r = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
        .post(RequestBody.create(body, MediaType.get("application/json"))).build();
    try (Response response = http.newCall(r).execute()) {
      assertEquals(200, response.code());
      return response.body().string();
    }
  }

  private TokenUsage nextUsageOf(String provider) throws InterruptedException {
    for (;;) {
      TokenUsage u = usages.poll(10, TimeUnit.SECONDS);
      assertNotNull(u, "onUsage was not called within 10 s");
      if (u.provider().equals(provider)) {
        return u;
      }
    }
  }

  private ProviderSnapshot.Status status(String provider) {
    return pool.snapshot().provider(provider).orElseThrow().status();
  }

  @Test
  void usageIsReportedExactlyFromJsonAndFromTheStreamsUsageChunk() throws Exception {
    String json = call(false);
    assertEquals("model-a", JSON.readTree(json).path("model").asText(), "the fake echoes the model the pool rewrote");
    assertEquals("Bearer key-a", a.lastRequest().authorization(), "the pool signed with a's key");
    TokenUsage u = nextUsageOf("a");
    assertEquals(23, u.tokens().prompt());
    assertEquals(57, u.tokens().completion());
    assertEquals(80, u.totalTokens());

    a.usage(19, 2);
    call(true);
    TokenUsage s = nextUsageOf("a");
    assertTrue(s.streamed());
    assertEquals(19, s.tokens().prompt());
    assertEquals(2, s.tokens().completion());
    assertEquals(21, s.totalTokens());
  }

  @Test
  void aScripted429WithRetryAfterFailsOverEvictsForThatLongThenItIsBackWithoutAProbe() throws Exception {
    a.rateLimitNext(1, Duration.ofSeconds(2));

    call(false);
    assertEquals(List.of(429), a.requests().stream().map(ReceivedRequest::status).toList());
    assertEquals(1, b.successCount());
    assertEquals(80, nextUsageOf("b").totalTokens());
    PoolEvent.Evicted evicted = events.stream().filter(PoolEvent.Evicted.class::isInstance)
        .map(PoolEvent.Evicted.class::cast).findFirst().orElseThrow();
    assertEquals("a", evicted.provider());
    assertEquals(429, evicted.status());
    assertEquals(Duration.ofSeconds(2), evicted.duration(), "the Retry-After the fake sent");
    assertTrue(evicted.serverHint());
    assertTrue(events.stream().anyMatch(e -> e instanceof PoolEvent.FailedOver f && f.provider().equals("b")), events.toString());
    assertEquals(ProviderSnapshot.Status.EVICTED, status("a"));

    call(false);
    assertEquals(1, a.requestCount(), "still evicted: the call went to b");

    ticker.advance(Duration.ofSeconds(2));
    call(false);
    assertEquals(2, a.requestCount(), "the delay the 429 named passed: the next call went to a");
    assertEquals(200, a.lastRequest().status());
    // a rate-limit delay the server named ends on time, for every request: no single probe
    assertTrue(events.stream().noneMatch(e -> e instanceof PoolEvent.Probing), events.toString());
    // back: Restored when its eviction ended, HeadroomRestored when it took a request with room again
    assertEquals(List.of(new PoolEvent.Restored("a", 0), new PoolEvent.HeadroomRestored("a", 0, null)),
        events.subList(events.size() - 2, events.size()), events.toString());
    assertEquals(ProviderSnapshot.Status.AVAILABLE, status("a"));
  }

  @Test
  void anOutageSpillsToTheFallbackTierAndTheProviderComesBackAfterUp() throws Exception {
    a.down();
    for (int i = 0; i < 3; i++) {
      call(false);
    }
    assertEquals(3, b.successCount(), "every call spilled to tier 1");
    assertEquals(0, a.requestCount(), "refused connections never reach the server");
    assertEquals(ProviderSnapshot.Status.EVICTED, status("a"), "two refused connections evict (failureThreshold 2)");

    a.up();
    ticker.advance(Duration.ofSeconds(5));
    call(false);
    assertEquals(1, a.successCount(), "the probe after the eviction reached a again");
    assertEquals(ProviderSnapshot.Status.AVAILABLE, status("a"));
    call(false);
    assertEquals(2, a.successCount(), "tier 0 has the traffic back");
    assertEquals(3, b.successCount());
  }
}
