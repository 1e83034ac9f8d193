package io.github.llmpool.reliability;

import io.github.llmpool.AllEvictedPolicy;
import io.github.llmpool.EvictionPolicy;
import io.github.llmpool.FakeTicker;
import io.github.llmpool.Fixtures;
import io.github.llmpool.PoolEvent;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.ProviderSnapshot;
import io.github.llmpool.RetryPolicy;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.Upstreams;
import io.github.llmpool.spi.AttemptEnd;
import io.github.llmpool.spi.AttemptListener;
import io.github.llmpool.spi.AttemptStart;
import io.github.llmpool.spi.SharedState;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * The workload of {@link SecurityTest#logsAtTraceCarryNoKeyAndNoBody}, run in a child JVM whose
 * SLF4J logs at TRACE to a file. Drives every path of the library that logs or builds a message
 * (evictions, probes, restorations, fail-open, failover, exhaustion, fail-fast, reconfiguration,
 * throwing listeners, truncated streams, a cross-host redirect through the guard) with the keys,
 * the caller's key and the body markers it is given, and writes every {@code toString}, event,
 * usage record, exception (message and stack trace) and OkHttp {@code java.util.logging} line it
 * sees to the surface file. Exits 0 when the workload ran as planned, 1 otherwise.
 *
 * <p>Arguments: surface file, key A (Bearer), key B (api-key), key C (x-api-key), extra header
 * value, caller key, request marker, response marker.
 */
public final class SecurityLogScenario {
  private SecurityLogScenario() {}

  public static void main(String[] args) throws Exception {
    Path surfaceFile = Path.of(args[0]);
    String keyA = args[1];
    String keyB = args[2];
    String keyC = args[3];
    String extra = args[4];
    String callerKey = args[5];
    String requestMarker = args[6];
    String responseMarker = args[7];
    StringBuilder surface = new StringBuilder();
    Handler jul = new Handler() {
      @Override
      public synchronized void publish(LogRecord r) {
        surface.append("jul ").append(r.getLevel()).append(' ').append(r.getLoggerName()).append(' ')
            .append(r.getMessage()).append('\n');
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    jul.setLevel(Level.ALL);
    Logger okhttp = Logger.getLogger("okhttp3");
    okhttp.setLevel(Level.ALL);
    okhttp.addHandler(jul);
    int status = 0;
    try {
      run(surface, keyA, keyB, keyC, extra, callerKey, requestMarker, responseMarker);
    } catch (Throwable t) {
      StringWriter w = new StringWriter();
      t.printStackTrace(new PrintWriter(w));
      System.out.println("scenario failed: " + w);
      status = 1;
    } finally {
      synchronized (jul) {
        Files.writeString(surfaceFile, surface.toString(), StandardCharsets.UTF_8);
      }
    }
    System.exit(status);
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new AssertionError(what);
    }
  }

  private static void run(StringBuilder surface, String keyA, String keyB, String keyC, String extra,
      String callerKey, String requestMarker, String responseMarker) throws Exception {
    String chatBody = Fixtures.text("openai-chat.json").replace("agentgateway works", responseMarker);
    String sseBody = Fixtures.text("openai-chat-stream-usage.sse").replace("pool", responseMarker);
    List<PoolEvent> events = new CopyOnWriteArrayList<>();
    List<TokenUsage> usages = new CopyOnWriteArrayList<>();
    List<Throwable> thrown = new CopyOnWriteArrayList<>();
    FakeTicker ticker = new FakeTicker();
    AtomicInteger openaiCalls = new AtomicInteger();
    try (Upstreams up = new Upstreams()) {
      MockWebServer openai = up.start(r -> openaiCalls.getAndIncrement() == 0
          ? Fixtures.http("openai-429-rate-limit.http")
          : new MockResponse.Builder().addHeader("content-type", "application/json").body(chatBody).build());
      MockWebServer azure = up.start(r -> Fixtures.http("openai-503.http").newBuilder()
          .removeHeader("retry-after").body("{\"error\":{\"message\":\"" + responseMarker + "\"}}").build());
      MockWebServer anthropic = up.start(r -> new MockResponse.Builder().addHeader("content-type", "text/event-stream")
          .body(sseBody).build());
      MockWebServer cut = up.start(r -> new MockResponse.Builder().addHeader("content-type", "text/event-stream")
          .body("data: {\"choices\":[{\"delta\":{\"content\":\"" + responseMarker + "\"},\"finish_reason\":null}]}\n\n")
          .build());
      MockWebServer elsewhere = up.startChat();
      MockWebServer redirecting = up.start(r -> new MockResponse.Builder().code(307)
          .addHeader("Location", "http://localhost:" + elsewhere.getPort() + "/v1/chat/completions").build());
      String dead = deadUrl();

      Provider pOpenai = Provider.builder("openai").baseUrl(Upstreams.baseUrl(openai)).apiKey(keyA).build();
      Provider pAzure = Provider.builder("azure").baseUrl(Upstreams.baseUrl(azure)).apiKey(keyB)
          .apiKeyHeader("api-key").header("x-goog-api-key", extra).build();
      Provider pAnthropic = Provider.builder("anthropic").baseUrl(Upstreams.baseUrl(anthropic)).apiKey(keyC)
          .apiKeyHeader("x-api-key").build();
      Provider pDead = Provider.builder("dead").baseUrl(dead).apiKey(keyC).build();
      ProviderPool pool = ProviderPool.builder().ticker(ticker).strategy(Strategy.POWER_OF_TWO_CHOICES)
          .eviction(EvictionPolicy.builder().failureThreshold(1).build())
          .retry(RetryPolicy.builder().maxAttempts(4).build())
          .onEvent(events::add)
          .onEvent(e -> {
            throw new IllegalStateException("listener bug");
          })
          .onUsage(usages::add)
          .onUsage(u -> {
            throw new IllegalStateException("usage listener bug");
          })
          .tier(pOpenai, pAzure).tier(pAnthropic).tier(pDead).build();
      OkHttpClient client = up.client(pool, new OkHttpClient.Builder().addNetworkInterceptor(pool.redirectGuard()));

      // Traffic: failovers, evictions, streams; every request carries the caller's key and a marker.
      for (int i = 0; i < 12; i++) {
        boolean stream = i % 3 == 0;
        String body = "{\"model\":\"gpt-4o-mini\"," + (stream ? "\"stream\":true," : "")
            + "\"messages\":[{\"role\":\"user\",\"content\":\"" + requestMarker + "\"}]}";
        Request req = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
            .header("Authorization", "Bearer " + callerKey).header("api-key", callerKey)
            .post(RequestBody.create(body, Upstreams.JSON)).build();
        exchange(client, req, thrown);
        if (i == 5) {
          ticker.advance(Duration.ofMinutes(6)); // past every eviction: probes, restorations
        }
      }
      // Fail open: every provider of a one-provider pool evicted.
      ProviderPool lonely = ProviderPool.builder().ticker(ticker).onEvent(events::add).onUsage(usages::add)
          .tier(Provider.builder("azure").baseUrl(Upstreams.baseUrl(azure)).apiKey(keyB).apiKeyHeader("api-key")
              .build()).build();
      OkHttpClient lonelyClient = up.client(lonely);
      for (int i = 0; i < 3; i++) {
        exchange(lonelyClient, Upstreams.chat(lonely), thrown);
      }
      // Exhaustion ending in an exception.
      ProviderPool exhausted = ProviderPool.builder().ticker(ticker).onEvent(events::add).onUsage(usages::add)
          .tier(Provider.builder("azure").baseUrl(Upstreams.baseUrl(azure)).apiKey(keyB).apiKeyHeader("api-key")
              .header("x-goog-api-key", extra).build())
          .tier(Provider.builder("dead").baseUrl(dead).apiKey(keyA).build()).build();
      exchange(up.client(exhausted), Upstreams.chat(exhausted), thrown);
      // Fail fast.
      ProviderPool failFast = ProviderPool.builder().ticker(ticker).whenAllEvicted(AllEvictedPolicy.FAIL_FAST)
          .onEvent(events::add).onUsage(usages::add)
          .tier(Provider.builder("azure").baseUrl(Upstreams.baseUrl(azure)).apiKey(keyB).apiKeyHeader("api-key")
              .build()).build();
      OkHttpClient ffClient = up.client(failFast);
      for (int i = 0; i < 3; i++) {
        exchange(ffClient, Upstreams.chat(failFast), thrown);
      }
      // A truncated stream.
      ProviderPool streams = ProviderPool.builder().onEvent(events::add).onUsage(usages::add)
          .tier(Provider.builder("cut").baseUrl(Upstreams.baseUrl(cut)).apiKey(keyA).build()).build();
      exchange(up.client(streams), Upstreams.post(streams, "chat/completions", "{\"stream\":true,\"messages\":[{\""
          + "content\":\"" + requestMarker + "\"}]}"), thrown);
      // A connection reset, then a cross-host redirect through the guard.
      MockWebServer reset = up.start(r -> new MockResponse.Builder().onResponseStart(new SocketEffect.CloseSocket())
          .build());
      ProviderPool redirect = ProviderPool.builder().onEvent(events::add).onUsage(usages::add)
          .tier(Provider.builder("reset").baseUrl(Upstreams.baseUrl(reset)).apiKey(keyC).apiKeyHeader("x-api-key")
              .build())
          .tier(Provider.builder("redirecting").baseUrl(Upstreams.baseUrl(redirecting)).apiKey(keyB)
              .apiKeyHeader("api-key").header("x-goog-api-key", extra).build()).build();
      exchange(up.client(redirect, new OkHttpClient.Builder().addNetworkInterceptor(redirect.redirectGuard())),
          Upstreams.chat(redirect), thrown);
      // Reconfiguration.
      pool.update(Strategy.ROUND_ROBIN, List.of(List.of(pOpenai.withWeight(3), pAzure), List.of(pAnthropic)));
      // Two instances of one pool sharing evictions, with attempt hooks; then the kill switch.
      List<SharedState.Receiver> receivers = new CopyOnWriteArrayList<>();
      SharedState relay = (poolName, receiver) -> {
        receivers.add(receiver);
        return e -> {
          surface.append("shared ").append(e).append('\n');
          for (SharedState.Receiver r : receivers) {
            if (r != receiver) {
              r.onEviction(e);
            }
          }
        };
      };
      AttemptListener hooks = new AttemptListener() {
        @Override
        public void onStart(AttemptStart a) {
          surface.append("start ").append(a).append('\n');
        }

        @Override
        public void onEnd(AttemptEnd a) {
          surface.append("end ").append(a).append('\n');
        }
      };
      ProviderPool[] instances = new ProviderPool[2];
      for (int i = 0; i < 2; i++) {
        instances[i] = ProviderPool.builder().name("shared").ticker(ticker).sharedState(relay).onAttempt(hooks)
            .onEvent(events::add).eviction(EvictionPolicy.builder().failureThreshold(1).build())
            .tier(Provider.builder("azure").baseUrl(Upstreams.baseUrl(azure)).apiKey(keyB).apiKeyHeader("api-key")
                .header("x-goog-api-key", extra).build())
            .tier(Provider.builder("anthropic").baseUrl(Upstreams.baseUrl(anthropic)).apiKey(keyC).build())
            .build();
      }
      exchange(up.client(instances[0]), Upstreams.chat(instances[0]), thrown); // azure 503: evicted, shared
      check(instances[1].snapshot().provider("azure").orElseThrow().status() == ProviderSnapshot.Status.EVICTED,
          "the shared eviction did not arrive");
      instances[1].drain("anthropic");
      instances[1].drainAll();
      exchange(up.client(instances[1]), Upstreams.chat(instances[1]), thrown); // refused: drained
      instances[1].resumeAll();
      ticker.advance(Duration.ofMinutes(6)); // past azure's 503 eviction (nobody named its end): one probe
      exchange(up.client(instances[0]), Upstreams.chat(instances[0]), thrown);

      // What a user can print.
      for (ProviderPool p : List.of(pool, lonely, exhausted, failFast, streams, redirect, instances[0], instances[1])) {
        surface.append(p).append('\n').append(p.snapshot()).append('\n').append(p.tiers()).append('\n');
      }
      for (Provider p : List.of(pOpenai, pAzure, pAnthropic, pDead, pAzure.toBuilder().weight(9).build())) {
        surface.append(p).append('\n');
      }
      for (PoolEvent e : events) {
        surface.append("event ").append(e).append('\n');
      }
      for (TokenUsage u : usages) {
        surface.append("usage ").append(u).append('\n');
      }
      for (Throwable t : thrown) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        surface.append("thrown ").append(w).append('\n');
      }
      check(events.stream().anyMatch(e -> e instanceof PoolEvent.Evicted), "no eviction");
      check(events.stream().anyMatch(e -> e instanceof PoolEvent.Restored), "no restoration");
      check(events.stream().anyMatch(e -> e instanceof PoolEvent.Probing), "no probe");
      check(events.stream().anyMatch(e -> e instanceof PoolEvent.FailedOver), "no failover");
      check(events.stream().anyMatch(e -> e instanceof PoolEvent.Exhausted), "no exhaustion");
      check(events.stream().anyMatch(e -> e instanceof PoolEvent.Drained), "no drain");
      check(events.stream().anyMatch(e -> e instanceof PoolEvent.Resumed), "no resume");
      check(up.count(elsewhere) == 1, "the redirect was not followed");
      check(!SecurityTest.everything(elsewhere.takeRequest()).contains(keyB), "the guard let the key through");
    }
  }

  /** One call, body read to its end; exceptions kept for the surface file. */
  private static void exchange(OkHttpClient client, Request request, List<Throwable> thrown) {
    try (Response r = client.newCall(request).execute()) {
      r.body().string();
    } catch (IOException e) {
      thrown.add(e);
    }
  }

  private static String deadUrl() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    return "http://127.0.0.1:" + port + "/v1";
  }
}
