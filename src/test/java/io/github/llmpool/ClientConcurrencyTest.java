package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A client built the documented way ({@code pool.newHttpClient()}, or {@code pool.configure(builder)})
 * carries 32 concurrent streamed calls at once through one pool: every call names the pool's one
 * virtual host, and OkHttp's default dispatcher would let only 5 of them run (and the pool logs one
 * WARN saying so). The upstream holds each stream open until all 32 are in flight at the same moment.
 */
class ClientConcurrencyTest {
  private static final int CALLS = 32;
  private final Upstreams up = new Upstreams();
  private final List<TokenUsage> usage = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    up.close();
  }

  private static String stream() {
    return Fixtures.text("openai-chat-stream-usage.sse");
  }

  private int peakInFlight(OkHttpClient client, ProviderPool pool, CountDownLatch allIn, AtomicInteger peak)
      throws Exception {
    List<CompletableFuture<Integer>> done = new CopyOnWriteArrayList<>();
    for (int i = 0; i < CALLS; i++) {
      CompletableFuture<Integer> f = new CompletableFuture<>();
      done.add(f);
      String body = "{\"model\":\"m\",\"stream\":true,\"messages\":[]}";
      client.newCall(Upstreams.post(pool, "chat/completions", body)).enqueue(new Callback() {
        @Override
        public void onFailure(Call call, IOException e) {
          f.completeExceptionally(e);
        }

        @Override
        public void onResponse(Call call, Response response) throws IOException {
          try (response) {
            response.body().string();
            f.complete(response.code());
          }
        }
      });
    }
    boolean together = allIn.await(20, TimeUnit.SECONDS);
    for (CompletableFuture<Integer> f : done) {
      f.get(20, TimeUnit.SECONDS);
    }
    return together ? peak.get() : -peak.get();
  }

  private MockWebServer holdingUpstream(CountDownLatch allIn, AtomicInteger inFlight, AtomicInteger peak) {
    return up.start(r -> {
      int now = inFlight.incrementAndGet();
      peak.accumulateAndGet(now, Math::max);
      allIn.countDown();
      try {
        allIn.await(20, TimeUnit.SECONDS); // answer only once every call is in flight
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      inFlight.decrementAndGet();
      return new MockResponse.Builder().addHeader("Content-Type", "text/event-stream").body(stream()).build();
    });
  }

  @Test
  void aClientFromTheDocumentedCallCarries32ConcurrentStreamsThroughOnePool() throws Exception {
    CountDownLatch allIn = new CountDownLatch(CALLS);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    MockWebServer s = holdingUpstream(allIn, inFlight, peak);
    ProviderPool pool = ProviderPool.builder().onUsage(usage::add)
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build()).build();
    OkHttpClient client = pool.newHttpClient();
    try {
      assertEquals(CALLS, peakInFlight(client, pool, allIn, peak), "all 32 streams at the provider at once");
    } finally {
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
    }
    assertEquals(CALLS, usage.size());
    assertTrue(usage.stream().allMatch(u -> u.reported() && u.streamed()), usage::toString);
    assertEquals(0, pool.snapshot().inFlight());
  }

  @Test
  void configureKeepsTheCallersSettingsAndLiftsTheCap() throws Exception {
    CountDownLatch allIn = new CountDownLatch(CALLS);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    MockWebServer s = holdingUpstream(allIn, inFlight, peak);
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build()).build();
    OkHttpClient client = pool.configure(new OkHttpClient.Builder().readTimeout(java.time.Duration.ofSeconds(42))).build();
    try {
      assertEquals(42_000, client.readTimeoutMillis());
      assertEquals(ProviderPool.DEFAULT_MAX_CONCURRENT_CALLS, client.dispatcher().getMaxRequestsPerHost());
      assertEquals(CALLS, peakInFlight(client, pool, allIn, peak));
    } finally {
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
    }
  }

  @Test
  void withOkHttpsDefaultDispatcherOnlyFiveRunAtOnceAndThePoolSaysSo() throws Exception {
    // the control: the cap the documented call lifts is real, and loud (DispatcherCapWarningTest)
    CountDownLatch allIn = new CountDownLatch(CALLS);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    CountDownLatch five = new CountDownLatch(5);
    MockWebServer s = up.start(r -> {
      peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      five.countDown();
      try {
        five.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      inFlight.decrementAndGet();
      allIn.countDown();
      return new MockResponse.Builder().addHeader("Content-Type", "text/event-stream").body(stream()).build();
    });
    ProviderPool pool = ProviderPool.builder().tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build()).build();
    OkHttpClient client = new OkHttpClient.Builder().addInterceptor(pool.interceptor()).build();
    try {
      String log = ListenerCompositionTest.capturingStderr(() -> peakInFlight(client, pool, allIn, new AtomicInteger()));
      assertEquals(5, peak.get(), "OkHttp's default maxRequestsPerHost");
      assertTrue(log.contains("WARN io.github.llmpool.dispatcher - llmpool[default] async calls wait in this"
          + " OkHttpClient's dispatcher queue"), log);
      assertTrue(log.contains("its maxRequestsPerHost (5) caps the pool at 5 concurrent calls"), log);
    } finally {
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
    }
  }
}
