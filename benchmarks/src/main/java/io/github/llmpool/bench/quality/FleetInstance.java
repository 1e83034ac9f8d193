package io.github.llmpool.bench.quality;

import io.github.llmpool.LlmPoolException;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.bench.NoDelay;
import io.github.llmpool.redis.RedisSharedState;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.ConnectionPool;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSource;

/**
 * One application instance of the fleet experiment, in its own JVM (started by
 * {@link FleetExperiment}): its own {@link ProviderPool}, OkHttp client and, for the Redis
 * contenders, its own {@link RedisSharedState} (its own Redis connections). It rebuilds the seeded
 * workload, warms up its JIT against a local instant fake, says {@code READY} on its standard
 * output and reads {@code GO <origin> <providers>} from its standard input (the world origin, a
 * {@link System#nanoTime()} value: the monotonic clock is the machine's, one for every process on
 * Linux; the fakes' URLs), builds its pool at the origin, then sends the requests assigned to it at their scheduled world times (open loop, one
 * client thread per request) and writes one line per request to {@code --out}.
 *
 * <p><b>The time the pool adds.</b> The client has an application interceptor before the pool's
 * and one after it: the pool's own time per call is the outer one's elapsed time minus the time
 * spent below the inner one (the network, the fake's service time, every attempt's). It is what
 * the interceptor does on the calling thread: the pick, the rewrite, the reservation, reading the
 * headers of each answer, publishing, failover; a retry's backoff too, when there is one.
 */
public final class FleetInstance {
  private static final MediaType JSON = MediaType.get("application/json");

  /** Per calling thread: what the two timing interceptors measured of the current call. */
  static final class Timing {
    long total;
    long below;
    int attempts;
    String lastPort;
    int lastStatus;
  }

  static final ThreadLocal<Timing> TIMING = ThreadLocal.withInitial(Timing::new);
  /** {@code PoolEvent.SharedStateDown} events of the measured pools (Redis counted as down mid-run). */
  static final java.util.concurrent.atomic.LongAdder SHARED_DOWN = new java.util.concurrent.atomic.LongAdder();
  /** What the run's pool took from the fleet windows (diagnosis of issue 18's 429s with leases). */
  static final LeaseLog LEASES = new LeaseLog();

  /** Before the pool's interceptor: the whole call as the application sees it (up to the response). */
  static final Interceptor OUTER = chain -> {
    Timing t = TIMING.get();
    t.below = 0;
    t.attempts = 0;
    t.lastPort = null;
    t.lastStatus = 0;
    long start = System.nanoTime();
    try {
      return chain.proceed(chain.request());
    } finally {
      t.total = System.nanoTime() - start;
    }
  };

  /** After the pool's interceptor: each attempt the pool sends, to the network and back. */
  static final Interceptor INNER = chain -> {
    Timing t = TIMING.get();
    t.attempts++;
    t.lastPort = Integer.toString(chain.request().url().port());
    long start = System.nanoTime();
    try {
      Response r = chain.proceed(chain.request());
      t.lastStatus = r.code();
      return r;
    } finally {
      t.below += System.nanoTime() - start;
    }
  };

  private FleetInstance() {}

  /** A ticker that reads another, which can be switched once (the warm-up's world, then the run's). */
  static final class Switch implements io.github.llmpool.Ticker {
    volatile ScaledTicker to;

    Switch(ScaledTicker to) {
      this.to = to;
    }

    @Override
    public long read() {
      return to.read();
    }

    @Override
    public long wallMillis() {
      return to.wallMillis();
    }
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
    java.util.logging.Logger.getLogger("mockwebserver3.MockWebServer").setLevel(java.util.logging.Level.SEVERE);
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --name value pairs but got " + args[i]);
      }
      a.put(args[i].substring(2), args[i + 1]);
    }
    int instance = Integer.parseInt(need(a, "instance"));
    int instances = Integer.parseInt(need(a, "instances"));
    FleetContender contender = FleetContender.byLabel(need(a, "contender"));
    double durationMin = Double.parseDouble(need(a, "duration"));
    long seed = Long.parseLong(need(a, "seed"));
    long scale = Long.parseLong(need(a, "scale"));

    // The Redis state's wall clock: the warm-up's world first, then each run's (known at GO).
    Switch clock = new Switch(new ScaledTicker(System.nanoTime(), scale));
    RedisSharedState shared = null;
    if (contender.redis) {
      // The library's defaults in world time (20 ms publish, 250 ms resync): the loopback runs scale x faster.
      shared = RedisSharedState.builder().uri(need(a, "redis")).keyPrefix(need(a, "prefix")).ticker(clock)
          .publishInterval(Duration.ofNanos(Math.max(1_000_000, RedisSharedState.DEFAULT_PUBLISH_INTERVAL.toNanos() / scale)))
          .resyncInterval(Duration.ofNanos(Math.max(10_000_000, RedisSharedState.DEFAULT_RESYNC_INTERVAL.toNanos() / scale)))
          .build();
    }

    long warmStart = System.nanoTime();
    long warmCalls = warmUp(contender, shared, clock.to, Long.parseLong(a.getOrDefault("warmup-calls", "15000")),
        TimeUnit.SECONDS.toNanos(Long.parseLong(a.getOrDefault("warmup-max-sec", "15"))));
    long warmNanos = System.nanoTime() - warmStart;
    java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8));
    boolean allFinished = true;
    for (int run = 0; ; run++) {
      // Ready: the coordinator answers, once every instance is, with the run's world origin, load, providers, output.
      System.out.println("READY");
      System.out.flush();
      String go = in.readLine();
      if (go == null || go.equals("EXIT")) {
        break;
      }
      if (!go.startsWith("GO ")) {
        throw new IllegalStateException("expected 'GO <origin> <load> <pool> <providers> <out>' but got " + go);
      }
      String[] g = go.split(" ");
      long origin = Long.parseLong(g[1]);
      double load = Double.parseDouble(g[2]);
      String poolName = g[3];
      Map<String, String> urls = new HashMap<>();
      for (String kv : g[4].split(",")) {
        int eq = kv.indexOf('=');
        urls.put(kv.substring(0, eq), kv.substring(eq + 1));
      }
      Path out = Path.of(g[5]);
      QuotaScenario sc = FleetScenario.of(load, durationMin, instances);
      ScaledTicker ticker = new ScaledTicker(origin, scale);
      long lateNanos = System.nanoTime() - origin;
      FakeProvider.sleepUntil(origin); // the pool is built at world time 0, as the fakes start
      clock.to = ticker;
      boolean finished = runOnce(instance, contender, shared, ticker, sc, seed, poolName, urls, out, warmCalls, warmNanos,
          lateNanos, run);
      allFinished &= finished;
      System.out.println("DONE");
    }
    if (shared != null) {
      shared.close();
    }
    System.exit(allFinished ? 0 : 3);
  }

  private static boolean runOnce(int instance, FleetContender contender, RedisSharedState shared, ScaledTicker ticker,
      QuotaScenario sc, long seed, String poolName, Map<String, String> urls, Path out, long warmCalls, long warmNanos,
      long lateNanos, int run) throws Exception {
    Map<String, String> portToName = new HashMap<>();
    for (QuotaScenario.Spec s : sc.providers()) {
      portToName.put(Integer.toString(okhttp3.HttpUrl.get(urls.get(s.name())).port()), s.name());
    }
    ProviderPool pool = pool(contender, shared, ticker, sc, urls, poolName);
    OkHttpClient client = client(pool);
    String url = pool.baseUrl().resolve("chat/completions").toString();
    List<QuotaScenario.Req> mine = new ArrayList<>();
    for (QuotaScenario.Req r : sc.workload(seed)) {
      if (r.instance() == instance) {
        mine.add(r);
      }
    }
    String[] lines = new String[mine.size()];
    AtomicInteger threadNo = new AtomicInteger();
    ThreadPoolExecutor exec = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 5, TimeUnit.SECONDS, new SynchronousQueue<>(),
        r -> {
          Thread th = new Thread(r, "fleet-client-" + threadNo.incrementAndGet());
          th.setDaemon(true);
          return th;
        });
    for (int i = 0; i < mine.size(); i++) {
      QuotaScenario.Req req = mine.get(i);
      FakeProvider.sleepUntil(ticker.loopbackAt(req.at()));
      int k = i;
      exec.execute(() -> lines[k] = call(client, url, req, ticker, portToName));
    }
    exec.shutdown();
    boolean finished = exec.awaitTermination(120, TimeUnit.SECONDS);
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8))) {
      w.printf(Locale.ROOT, "# instance=%d contender=%s run=%d requests=%d warmupCalls=%d warmupSec=%.1f lateStartMs=%.1f"
          + " finished=%s sharedDown=%s sharedDownEvents=%d resyncs=%d%n", instance, contender.label, run, mine.size(),
          warmCalls, warmNanos / 1e9, lateNanos / 1e6, finished, shared != null && shared.isDown(), SHARED_DOWN.sumThenReset(),
          shared == null ? 0 : shared.resyncCount());
      for (String l : LEASES.report()) {
        w.println("# lease " + l);
      }
      w.println("# at_ns\tend_ns\tok\tattempts\tprovider\tstatus\tpool_ns\tbelow_ns\terror");
      for (String l : lines) {
        if (l != null) {
          w.println(l);
        }
      }
    }
    client.connectionPool().evictAll();
    client.dispatcher().executorService().shutdown();
    return finished;
  }

  private static String need(Map<String, String> a, String key) {
    String v = a.get(key);
    if (v == null) {
      throw new IllegalArgumentException("missing --" + key);
    }
    return v;
  }

  static ProviderPool pool(FleetContender c, RedisSharedState shared, io.github.llmpool.Ticker ticker, QuotaScenario sc,
      Map<String, String> urls, String name) {
    ProviderPool.Builder b = ProviderPool.builder().name(name).ticker(ticker)
        .onEvent(e -> {
          if (e instanceof io.github.llmpool.PoolEvent.SharedStateDown) {
            SHARED_DOWN.increment();
          }
        });
    if (shared != null) {
      b.sharedState(LEASES.wrap(shared, ticker));
    }
    for (List<QuotaScenario.Spec> tier : sc.tiers()) {
      List<Provider> ps = new ArrayList<>();
      for (QuotaScenario.Spec s : tier) {
        Provider.Builder p = Provider.builder(s.name()).baseUrl(urls.get(s.name())).apiKey("sk-fleet-fake")
            .weight(s.weight());
        ps.add(c.provider(p, s).build());
      }
      b.tier(ps);
    }
    return b.build();
  }

  static OkHttpClient client(ProviderPool pool) {
    okhttp3.Dispatcher d = new okhttp3.Dispatcher();
    d.setMaxRequests(1024);
    d.setMaxRequestsPerHost(1024);
    return new OkHttpClient.Builder().dispatcher(d).connectionPool(new ConnectionPool(256, 1, TimeUnit.MINUTES))
        .socketFactory(NoDelay.client()).connectTimeout(2, TimeUnit.SECONDS).readTimeout(60, TimeUnit.SECONDS)
        .addInterceptor(OUTER).addInterceptor(pool.interceptor()).addInterceptor(INNER)
        .addNetworkInterceptor(pool.redirectGuard()).build();
  }

  private static String call(OkHttpClient client, String url, QuotaScenario.Req q, ScaledTicker ticker,
      Map<String, String> portToName) {
    String body = QuotaRun.body(q);
    Request req = new Request.Builder().url(url).post(RequestBody.create(body, JSON))
        .header(QuotaFake.ANSWER_HEADER, Integer.toString(q.answer()))
        .header(QuotaFake.PROMPT_HEADER, Integer.toString((q.promptChars() + 3) / 4)).build();
    boolean ok = false;
    String error = "-";
    Timing t = TIMING.get();
    long pool;
    int attempts;
    String provider;
    int status;
    long below;
    try {
      try (Response resp = client.newCall(req).execute()) {
        pool = t.total - t.below;
        below = t.below;
        attempts = t.attempts;
        provider = t.lastPort == null ? "-" : portToName.getOrDefault(t.lastPort, t.lastPort);
        status = resp.code();
        ok = read(resp, q);
        if (!ok) {
          error = "HTTP_" + resp.code();
        }
      }
    } catch (LlmPoolException e) {
      pool = t.total - t.below;
      below = t.below;
      attempts = Math.max(t.attempts, e.attempts().size());
      provider = "-";
      status = t.lastStatus;
      error = e.getClass().getSimpleName();
    } catch (IOException | RuntimeException e) {
      pool = t.total - t.below;
      below = t.below;
      attempts = t.attempts;
      provider = "-";
      status = t.lastStatus;
      error = e.getClass().getSimpleName();
    }
    long end = ticker.read();
    return q.at() + "\t" + end + "\t" + (ok ? 1 : 0) + "\t" + Math.max(1, attempts) + "\t" + provider + "\t" + status
        + "\t" + pool + "\t" + below + "\t" + error;
  }

  /** Reads the whole answer: whether it was a complete one. */
  private static boolean read(Response resp, QuotaScenario.Req q) throws IOException {
    if (resp.code() != 200) {
      resp.body().string();
      return false;
    }
    if (q.stream()) {
      BufferedSource src = resp.body().source();
      String line;
      boolean done = false;
      while ((line = src.readUtf8Line()) != null) {
        if (line.equals("data: [DONE]")) {
          done = true;
        }
      }
      return done;
    }
    return resp.body().string().contains("\"usage\"");
  }

  /**
   * Warms the JIT on the same code paths before anything is measured: a pool of the same contender
   * (a pool name of its own, the same Redis connections) over a local fake that answers at once
   * with OpenAI headers (the remaining count changing, so windows are published), streamed or not,
   * one in 20 a 429 with {@code retry-after: 1} (eviction and failover), from 3 threads, until
   * {@code maxCalls} or {@code maxNanos}. Returns the calls made.
   */
  static long warmUp(FleetContender c, RedisSharedState shared, ScaledTicker worldTicker, long maxCalls, long maxNanos)
      throws Exception {
    try (MockWebServer server = new MockWebServer()) {
      server.setServerSocketFactory(NoDelay.server());
      String usage = QuotaFake.completion(20, 30);
      String sse = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"content\":\"tok \"}}]}\n\ndata: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
          + "\"usage\":" + QuotaFake.usage(20, 30) + "}\n\ndata: [DONE]\n\n";
      AtomicInteger seq = new AtomicInteger();
      server.setDispatcher(new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest request) {
          int k = seq.incrementAndGet();
          MockResponse.Builder r = new MockResponse.Builder()
              .setHeader("x-ratelimit-limit-requests", "100000")
              .setHeader("x-ratelimit-remaining-requests", Integer.toString(100_000 - 1 - k % 50))
              .setHeader("x-ratelimit-reset-requests", Dialect.goDuration((1 + k % 50) * 600_000L))
              .setHeader("x-ratelimit-limit-tokens", "100000000")
              .setHeader("x-ratelimit-remaining-tokens", Integer.toString(100_000_000 - 100 * (1 + k % 1000)))
              .setHeader("x-ratelimit-reset-tokens", Dialect.goDuration((1 + k % 1000) * 60_000L));
          if (k % 20 == 0) {
            return r.code(429).setHeader("retry-after", "1").setHeader("Content-Type", "application/json")
                .body(Dialect.OPENAI.rateLimitBody(false)).build();
          }
          String body = request.getBody() == null ? "" : request.getBody().utf8();
          if (body.contains("\"stream\":true")) {
            return r.code(200).setHeader("Content-Type", "text/event-stream").body(sse).build();
          }
          return r.code(200).setHeader("Content-Type", "application/json").body(usage).build();
        }
      });
      server.start(InetAddress.getByName("127.0.0.1"), 0);
      String base = "http://127.0.0.1:" + server.getPort() + "/v1";
      QuotaScenario warm = new QuotaScenario("warm", "warm", "", List.of(List.of(
          new QuotaScenario.Spec("w1", 1, 100_000, 100_000_000, QuotaLimit.Kind.BUCKET, Dialect.OPENAI),
          new QuotaScenario.Spec("w2", 1, 100_000, 100_000_000, QuotaLimit.Kind.BUCKET, Dialect.OPENAI))), 1, false, 1, 1);
      ProviderPool.Builder b = ProviderPool.builder().name("fleet-warm").ticker(worldTicker);
      if (shared != null) {
        b.sharedState(shared);
      }
      List<Provider> ps = new ArrayList<>();
      for (QuotaScenario.Spec s : warm.providers()) {
        ps.add(c.provider(Provider.builder(s.name()).baseUrl(base).apiKey("sk-fleet-warm"), s).build());
      }
      ProviderPool pool = b.tier(ps).build();
      OkHttpClient client = client(pool);
      String url = pool.baseUrl().resolve("chat/completions").toString();
      long stopAt = System.nanoTime() + maxNanos;
      AtomicInteger calls = new AtomicInteger();
      CountDownLatch done = new CountDownLatch(3);
      QuotaScenario.Req plain = new QuotaScenario.Req(0, 0, false, 400, 64, 20);
      QuotaScenario.Req streamed = new QuotaScenario.Req(0, 0, true, 400, 64, 20);
      for (int i = 0; i < 3; i++) {
        Thread th = new Thread(() -> {
          try {
            for (int k; System.nanoTime() - stopAt < 0 && (k = calls.incrementAndGet()) <= maxCalls; ) {
              call(client, url, k % 2 == 0 ? plain : streamed, worldTicker, Map.of());
            }
          } finally {
            done.countDown();
          }
        }, "fleet-warm-" + i);
        th.setDaemon(true);
        th.start();
      }
      if (!done.await(120, TimeUnit.SECONDS)) {
        throw new IllegalStateException("warm-up did not end");
      }
      client.connectionPool().evictAll();
      client.dispatcher().executorService().shutdown();
      return Math.min(calls.get(), maxCalls);
    }
  }
}
