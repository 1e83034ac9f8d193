package io.github.llmpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Dispatcher;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A client built by hand keeps OkHttp's per-host limit (5), and every call of a pool names its one
 * virtual host: the sixth concurrent async call waits. That cap is loud: when the pool's calls wait
 * in a client's dispatcher queue behind its per-host limit, one WARN per pool and client names the
 * limit, the pool and the fix. Clients whose limit is not the cap (the documented ones, a raised
 * limit, a deliberate cap with both limits equal), synchronous and sequential calls stay quiet; a
 * call that is not OkHttp's own (a wrapped chain) is skipped without failing. Upstreams are real
 * servers on loopback; every wait is a latch or a semaphore with a timeout. The pools run on a
 * {@link FakeTicker}, so which call samples the client (at most once per 100 ms of the pool's clock)
 * is decided by the test, not by timing.
 */
class DispatcherCapWarningTest {
  private static final String WARNING = "async calls wait in this OkHttpClient's dispatcher queue";
  private static final Duration PAST_THE_PERIOD = Duration.ofSeconds(1);

  private final Upstreams up = new Upstreams();
  private final List<OkHttpClient> clients = new ArrayList<>();
  private final FakeTicker ticker = new FakeTicker();

  /** The upstream answers each request once the gate opens; {@link #arrived} counts requests. */
  private final Semaphore arrived = new Semaphore(0);
  private final AtomicReference<CountDownLatch> gate = new AtomicReference<>(new CountDownLatch(0));

  @AfterEach
  void close() {
    for (OkHttpClient c : clients) {
      c.dispatcher().executorService().shutdown();
      c.connectionPool().evictAll();
    }
    up.close();
  }

  private MockWebServer heldUpstream() {
    return up.start(r -> {
      arrived.release();
      try {
        gate.get().await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return Fixtures.json("openai-chat.json");
    });
  }

  private ProviderPool pool(String name, MockWebServer s) {
    return ProviderPool.builder().name(name).ticker(ticker)
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).build()).build();
  }

  private OkHttpClient track(OkHttpClient c) {
    clients.add(c);
    return c;
  }

  private OkHttpClient handBuilt(Interceptor interceptor) {
    return track(new OkHttpClient.Builder().addInterceptor(interceptor).build());
  }

  private OkHttpClient withDispatcher(Interceptor interceptor, int maxRequests, int maxRequestsPerHost) {
    Dispatcher d = new Dispatcher();
    d.setMaxRequests(maxRequests);
    d.setMaxRequestsPerHost(maxRequestsPerHost);
    return track(new OkHttpClient.Builder().addInterceptor(interceptor).dispatcher(d).build());
  }

  /** Enqueues {@code request}; the future completes with the status once the body is read. */
  private static CompletableFuture<Integer> enqueue(OkHttpClient client, Request request) {
    CompletableFuture<Integer> f = new CompletableFuture<>();
    client.newCall(request).enqueue(new Callback() {
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
    return f;
  }

  /**
   * One burst against the held upstream: {@code running} calls are enqueued and reach it, then
   * {@code more} calls are enqueued while those are still held, then the gate opens. Returns how
   * many calls waited in the dispatcher's queue just before it opened; every call must get a 200.
   */
  private int burst(OkHttpClient client, Request request, int running, int more) throws Exception {
    CountDownLatch held = new CountDownLatch(1);
    gate.set(held);
    arrived.drainPermits();
    List<CompletableFuture<Integer>> all = new ArrayList<>();
    for (int i = 0; i < running; i++) {
      all.add(enqueue(client, request));
    }
    assertTrue(arrived.tryAcquire(running, 20, TimeUnit.SECONDS), "the first calls reached the upstream");
    for (int i = 0; i < more; i++) {
      all.add(enqueue(client, request)); // Dispatcher.enqueue decides at once: run now or queue
    }
    int queued = client.dispatcher().queuedCallsCount();
    ticker.advance(PAST_THE_PERIOD); // the next call to get its headers samples the client
    held.countDown();
    for (CompletableFuture<Integer> f : all) {
      assertEquals(200, f.get(20, TimeUnit.SECONDS));
    }
    return queued;
  }

  private static int count(String log, String s) {
    int n = 0;
    for (int i = log.indexOf(s); i >= 0; i = log.indexOf(s, i + 1)) {
      n++;
    }
    return n;
  }

  @Test
  void aHandBuiltClientWithTheDefaultDispatcherWarnsOnceWhenTheSixthCallWaits() throws Exception {
    MockWebServer s = heldUpstream();
    ProviderPool pool = pool("chat", s);
    OkHttpClient client = handBuilt(pool.interceptor());
    int[] queued = new int[2];
    String log = ListenerCompositionTest.capturingStderr(() -> {
      queued[0] = burst(client, Upstreams.chat(pool), 5, 1);
      queued[1] = burst(client, Upstreams.chat(pool), 5, 3); // the same pool and client: said once
    });
    assertEquals(1, queued[0], "OkHttp's default maxRequestsPerHost (5) held the sixth call back");
    assertEquals(3, queued[1]);
    assertEquals(1, count(log, WARNING), log);
    assertTrue(log.contains("WARN io.github.llmpool.dispatcher - llmpool[chat] " + WARNING + " (1 now): its"
        + " maxRequestsPerHost (5) caps the pool at 5 concurrent calls, since every call names the one virtual host"
        + " llmpool.invalid (maxRequests is 64). Fix: build the client with pool.newHttpClient() or"
        + " pool.configure(builder), or raise the limit: dispatcher.setMaxRequestsPerHost(n)."), log);
    assertEquals(14, up.count(s));
  }

  @Test
  void eachClientOfAPoolIsWarnedAboutOnce() throws Exception {
    MockWebServer s = heldUpstream();
    ProviderPool pool = pool("chat", s);
    OkHttpClient one = handBuilt(pool.interceptor());
    OkHttpClient two = handBuilt(pool.interceptor());
    String log = ListenerCompositionTest.capturingStderr(() -> {
      burst(one, Upstreams.chat(pool), 5, 1);
      burst(two, Upstreams.chat(pool), 5, 2);
      burst(one, Upstreams.chat(pool), 5, 1);
    });
    assertEquals(2, count(log, WARNING), log);
    assertTrue(log.contains(WARNING + " (1 now)") && log.contains(WARNING + " (2 now)"), log);
  }

  @Test
  void callsHeldBackBehindLongStreamsAreSeenWhenAStreamEnds() throws Exception {
    // Five streams hold their dispatcher slots in their callbacks; the sixth call waits. No call gets
    // headers while it waits (the five got theirs before it was enqueued): the end of a stream's body,
    // with the call still in its slot, is where the queue shows.
    MockWebServer s = up.start(r -> new MockResponse.Builder().addHeader("Content-Type", "text/event-stream")
        .body(Fixtures.text("openai-chat-stream-usage.sse")).build());
    ProviderPool pool = pool("streams", s);
    OkHttpClient client = handBuilt(pool.interceptor());
    Request stream = Upstreams.post(pool, "chat/completions", "{\"model\":\"m\",\"stream\":true,\"messages\":[]}");
    Semaphore inCallback = new Semaphore(0);
    CountDownLatch hold = new CountDownLatch(1);
    List<CompletableFuture<Integer>> all = new ArrayList<>();
    String log = ListenerCompositionTest.capturingStderr(() -> {
      for (int i = 0; i < 5; i++) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        all.add(f);
        client.newCall(stream).enqueue(new Callback() {
          @Override
          public void onFailure(Call call, IOException e) {
            f.completeExceptionally(e);
          }

          @Override
          public void onResponse(Call call, Response response) throws IOException {
            try (response) {
              inCallback.release();
              hold.await(20, TimeUnit.SECONDS);
              response.body().string();
              f.complete(response.code());
            } catch (InterruptedException e) {
              f.completeExceptionally(e);
            }
          }
        });
      }
      assertTrue(inCallback.tryAcquire(5, 20, TimeUnit.SECONDS), "five streams answered and held");
      all.add(enqueue(client, stream));
      assertEquals(1, client.dispatcher().queuedCallsCount());
      ticker.advance(PAST_THE_PERIOD);
      hold.countDown();
      for (CompletableFuture<Integer> f : all) {
        assertEquals(200, f.get(20, TimeUnit.SECONDS));
      }
    });
    assertEquals(1, count(log, WARNING), log);
    assertTrue(log.contains("llmpool[streams] " + WARNING + " (1 now): its maxRequestsPerHost (5)"), log);
  }

  @Test
  void clientsWhoseLimitIsNotTheCapStayQuiet() throws Exception {
    MockWebServer s = heldUpstream();
    ProviderPool pool = pool("chat", s);
    OkHttpClient documented = track(pool.newHttpClient());
    OkHttpClient configured = track(pool.configure(new OkHttpClient.Builder()).build());
    OkHttpClient raised = withDispatcher(pool.interceptor(), 64, 64);
    OkHttpClient deliberate = withDispatcher(pool.interceptor(), 5, 5); // a cap of 5 calls, on purpose
    int[] queued = new int[4];
    String log = ListenerCompositionTest.capturingStderr(() -> {
      queued[0] = burst(documented, Upstreams.chat(pool), 8, 0);
      queued[1] = burst(configured, Upstreams.chat(pool), 8, 0);
      queued[2] = burst(raised, Upstreams.chat(pool), 8, 0);
      queued[3] = burst(deliberate, Upstreams.chat(pool), 5, 2);
    });
    // eight calls at the upstream at once through each of the first three; the deliberate cap queues
    assertEquals(List.of(0, 0, 0, 2), List.of(queued[0], queued[1], queued[2], queued[3]));
    assertFalse(log.contains(WARNING), log);
  }

  @Test
  void sequentialAndSynchronousCallsThroughTheDefaultDispatcherStayQuiet() throws Exception {
    MockWebServer s = heldUpstream();
    ProviderPool pool = pool("chat", s);
    OkHttpClient client = handBuilt(pool.interceptor());
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      String log = ListenerCompositionTest.capturingStderr(() -> {
        for (int i = 0; i < 10; i++) { // one at a time, every one sampling the client
          ticker.advance(PAST_THE_PERIOD);
          assertEquals(200, enqueue(client, Upstreams.chat(pool)).get(20, TimeUnit.SECONDS));
        }
        // execute() is not limited per host: eight synchronous calls reach the upstream at once
        CountDownLatch held = new CountDownLatch(1);
        gate.set(held);
        arrived.drainPermits();
        List<Future<String>> sync = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          sync.add(threads.submit(() -> Upstreams.call(client, Upstreams.chat(pool))[0]));
        }
        assertTrue(arrived.tryAcquire(8, 20, TimeUnit.SECONDS), "eight synchronous calls at once");
        ticker.advance(PAST_THE_PERIOD);
        held.countDown();
        for (Future<String> f : sync) {
          assertEquals("200", f.get(20, TimeUnit.SECONDS));
        }
      });
      assertFalse(log.contains(WARNING), log);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void aCallThatIsNotOkHttpsOwnIsSkippedWithoutFailing() throws Exception {
    // An interceptor hands the pool's interceptor a wrapped chain whose call() is not OkHttp's
    // RealCall: the pool cannot find the client behind it, and the calls go on unharmed.
    MockWebServer s = heldUpstream();
    ProviderPool pool = pool("chat", s);
    Interceptor pooled = pool.interceptor();
    OkHttpClient client = handBuilt(chain -> pooled.intercept(wrapped(chain)));
    int[] queued = new int[1];
    String log = ListenerCompositionTest.capturingStderr(() -> queued[0] = burst(client, Upstreams.chat(pool), 5, 1));
    assertEquals(1, queued[0], "the cap is there; only the check cannot see it");
    assertFalse(log.contains(WARNING), log);
    assertFalse(log.contains("Exception"), log);
  }

  @Test
  void aRoutersCallsAreWatchedToo() throws Exception {
    MockWebServer s = heldUpstream();
    ProviderPool pool = ProviderPool.builder().name("fast").ticker(ticker)
        .tier(Provider.builder("p").baseUrl(Upstreams.baseUrl(s)).model("gpt-4o-mini").build()).build();
    ModelRouter router = ModelRouter.builder().route("fast", pool).build();
    OkHttpClient client = handBuilt(router.interceptor());
    Request request = new Request.Builder().url(router.baseUrl().resolve("chat/completions").toString())
        .post(okhttp3.RequestBody.create("{\"model\":\"fast\",\"messages\":[]}", Upstreams.JSON)).build();
    String log = ListenerCompositionTest.capturingStderr(() -> {
      burst(client, request, 5, 1);
      burst(client, request, 5, 1);
    });
    assertEquals(1, count(log, WARNING), log);
    assertTrue(log.contains("llmpool[fast] (through the ModelRouter of " + router.baseUrl().getHost() + ") " + WARNING
        + " (1 now): its maxRequestsPerHost (5)"), log);
    assertTrue(log.contains("Fix: give the client a dispatcher whose maxRequestsPerHost is as high as its maxRequests"),
        log);
  }

  /** {@code chain}, except that its call is a proxy of the real one (not OkHttp's RealCall). */
  private static Interceptor.Chain wrapped(Interceptor.Chain chain) {
    Call call = proxy(Call.class, chain.call());
    ClassLoader loader = Interceptor.Chain.class.getClassLoader();
    InvocationHandler h = (p, m, args) -> m.getName().equals("call") && m.getParameterCount() == 0
        ? call : delegate(chain, m, args);
    return (Interceptor.Chain) Proxy.newProxyInstance(loader, new Class<?>[] {Interceptor.Chain.class}, h);
  }

  private static <T> T proxy(Class<T> type, T target) {
    return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
        (p, m, args) -> delegate(target, m, args)));
  }

  private static Object delegate(Object target, java.lang.reflect.Method m, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
