package io.github.llmpool.bench.quality;

import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.bench.NoDelay;
import io.github.llmpool.redis.RedisSharedState;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * The time the pool adds per call with Redis against local mode, paired in one JVM (issue 18's
 * "p50 added per call within 2 µs of local mode"; the fleet runs' own figures are taken on 8
 * processes sharing the machine's cores, too noisy for microseconds). Pools over the same
 * instant loopback fake (OpenAI headers of a bucket with ample room, the count changing with every
 * answer), each with the same timing interceptors as {@link FleetInstance} (the
 * pool's own time = the call's time minus the time below the pool's interceptor):
 * {@code local} ({@code SharedState.LOCAL_ONLY}) and {@code redis} (a {@link RedisSharedState} of
 * its own, the library's default intervals), and the same two with configured limits
 * ({@code localConfigured}: local buckets; {@code redisConfigured}: leases of fleet-wide windows,
 * where llmpool-redis has them), while a peer instance (another
 * {@code RedisSharedState}, another pool of the same name) sends calls in the background so that
 * the others' windows keep arriving. Every answer carries OpenAI headers with a changing remaining
 * count, so every call of a redis pool publishes a window. One calling thread; after a warm-up,
 * blocks of calls go through the pools forwards, then backwards; the report is each pool's
 * percentiles and the median over blocks of the p50 difference of each pair. Real time (no world
 * scaling).
 *
 * <pre>
 *   java -cp target/benchmarks.jar io.github.llmpool.bench.quality.FleetOverhead [--smoke] [--out DIR]
 * </pre>
 */
public final class FleetOverhead {
  private static final MediaType JSON = MediaType.get("application/json");

  private FleetOverhead() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
    java.util.logging.Logger.getLogger("mockwebserver3.MockWebServer").setLevel(java.util.logging.Level.SEVERE);
    boolean smoke = false;
    Path out = Path.of("fleet-results");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--smoke" -> smoke = true;
        case "--out" -> out = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; usage: [--smoke] [--out DIR]");
      }
    }
    int warm = smoke ? 4_000 : 20_000;
    int blocks = smoke ? 4 : 20;
    int perBlock = smoke ? 500 : 2_000;
    String loadStart = loadAverage();
    long started = System.nanoTime();
    try (io.github.llmpool.redis.RedisServerProcess redis = io.github.llmpool.redis.RedisServerProcess.start(); MockWebServer server = instantFake()) {
      String base = "http://127.0.0.1:" + server.getPort() + "/v1";
      RedisSharedState mine = RedisSharedState.builder().uri(redis.uri()).build();
      RedisSharedState peers = RedisSharedState.builder().uri(redis.uri()).build();
      // local / redis: header windows only; the same two with configured limits (redis: leases of a fleet window).
      String[] names = {"local", "redis", "localConfigured", "redisConfigured"};
      ProviderPool[] pools = {pool(base, null, false), pool(base, mine, false), pool(base, null, true),
          pool(base, mine, true)};
      ProviderPool peer = pool(base, peers, false);
      ProviderPool peerConfigured = pool(base, peers, true);
      OkHttpClient[] clients = new OkHttpClient[pools.length];
      for (int i = 0; i < pools.length; i++) {
        clients[i] = FleetInstance.client(pools[i]);
      }
      OkHttpClient pc = FleetInstance.client(peer);
      OkHttpClient pcc = FleetInstance.client(peerConfigured);
      String url = pools[0].baseUrl().resolve("chat/completions").toString();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger peerCalls = new AtomicInteger();
      Thread peerThread = new Thread(() -> {
        while (!stop.get()) {
          call(peerCalls.incrementAndGet() % 2 == 0 ? pc : pcc, url);
          java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L); // ~200 calls/s
        }
      }, "fleet-overhead-peer");
      peerThread.setDaemon(true);
      peerThread.start();

      for (int i = 0; i < warm; i++) {
        call(clients[i % clients.length], url);
      }
      List<List<long[]>> byPool = new ArrayList<>();
      for (int i = 0; i < pools.length; i++) {
        byPool.add(new ArrayList<>());
      }
      for (int b = 0; b < blocks; b++) {
        for (int k = 0; k < pools.length; k++) {
          int i = b % 2 == 0 ? k : pools.length - 1 - k; // forwards, then backwards
          long[] t = new long[perBlock];
          for (int j = 0; j < perBlock; j++) {
            t[j] = call(clients[i], url);
          }
          byPool.get(i).add(t);
        }
      }
      stop.set(true);
      peerThread.join(5_000);

      Map<String, Object> doc = Json.obj();
      Map<String, Object> meta = Json.obj();
      meta.put("smoke", smoke);
      meta.put("warmupCalls", warm);
      meta.put("blocks", blocks);
      meta.put("callsPerBlock", perBlock);
      meta.put("peerCalls", peerCalls.get());
      meta.put("configuredRpm", CONFIGURED_RPM);
      meta.put("redisDownAtEnd", mine.isDown());
      meta.put("redisResyncs", mine.resyncCount());
      meta.put("cpus", Runtime.getRuntime().availableProcessors());
      meta.put("java", System.getProperty("java.version"));
      meta.put("loadAverage", loadStart);
      meta.put("loadAverageEnd", loadAverage());
      meta.put("elapsedSec", Stats.round((System.nanoTime() - started) / 1e9, 1));
      doc.put("meta", meta);
      Map<String, Object> refused = Json.obj();
      for (int i = 0; i < pools.length; i++) {
        doc.put(names[i], FleetExperiment.latency(concat(byPool.get(i))));
        java.util.concurrent.atomic.AtomicLong n = REFUSED.get(clients[i]);
        refused.put(names[i], n == null ? 0 : n.get());
      }
      meta.put("refusedCalls", refused);
      doc.put("redisMinusLocal", diff(byPool.get(1), byPool.get(0)));
      doc.put("redisConfiguredMinusLocalConfigured", diff(byPool.get(3), byPool.get(2)));
      Files.createDirectories(out);
      Json.write(out.resolve("fleet-overhead.json"), doc);
      System.out.printf(Locale.ROOT, "fleet overhead: %s; redis - local p50 per block %s; configured: %s; refused %s%n",
          java.util.Arrays.stream(names).map(n -> n + " " + doc.get(n)).toList(), doc.get("redisMinusLocal"),
          doc.get("redisConfiguredMinusLocalConfigured"), refused);
      mine.close();
      peers.close();
    }
  }

  /** Configured limits of the configured pools: high enough (1,000,000 a second) that the pairing never waits for room. */
  static final int CONFIGURED_RPM = 60_000_000;

  private static ProviderPool pool(String base, RedisSharedState shared, boolean configured) {
    ProviderPool.Builder b = ProviderPool.builder().name(configured ? "overhead-configured" : "overhead");
    if (shared != null) {
      b.sharedState(shared);
    }
    Provider.Builder a = Provider.builder("a").baseUrl(base).apiKey("sk-overhead");
    Provider.Builder c = Provider.builder("b").baseUrl(base).apiKey("sk-overhead");
    if (configured) {
      a.requestsPerMinute(CONFIGURED_RPM).tokensPerMinute(100L * CONFIGURED_RPM);
      c.requestsPerMinute(CONFIGURED_RPM).tokensPerMinute(100L * CONFIGURED_RPM);
    }
    return b.tier(a.build(), c.build()).build();
  }

  /** The median, least and greatest over blocks of the p50 difference {@code a - b}, microseconds. */
  private static Map<String, Object> diff(List<long[]> a, List<long[]> b) {
    double[] d = new double[a.size()];
    for (int i = 0; i < d.length; i++) {
      d[i] = p50(a.get(i)) - p50(b.get(i));
    }
    Arrays.sort(d);
    int n = d.length;
    double median = n % 2 == 1 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
    Map<String, Object> m = Json.obj();
    m.put("medianOfBlockP50DiffUs", Stats.round(median / 1e3, 2));
    m.put("minBlockP50DiffUs", Stats.round(d[0] / 1e3, 2));
    m.put("maxBlockP50DiffUs", Stats.round(d[n - 1] / 1e3, 2));
    return m;
  }

  private static long call(OkHttpClient client, String url) {
    Request req = new Request.Builder().url(url)
        .post(RequestBody.create("{\"model\":\"fake-model\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\","
            + "\"content\":\"hello\"}]}", JSON)).build();
    FleetInstance.Timing t = FleetInstance.TIMING.get();
    try (Response r = client.newCall(req).execute()) {
      long pool = t.total - t.below;
      r.body().string();
      return pool;
    } catch (io.github.llmpool.NoProviderAvailableException e) {
      REFUSED.computeIfAbsent(client, c -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet();
      return -1; // refused by the pool (no headroom): not a sample
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static MockWebServer instantFake() throws java.io.IOException {
    MockWebServer server = new MockWebServer();
    server.setServerSocketFactory(NoDelay.server());
    String body = QuotaFake.completion(20, 30);
    AtomicInteger seq = new AtomicInteger();
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        int k = seq.incrementAndGet();
        return new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
            .setHeader("x-ratelimit-limit-requests", "100000")
              .setHeader("x-ratelimit-remaining-requests", Integer.toString(100_000 - 1 - k % 50))
              .setHeader("x-ratelimit-reset-requests", Dialect.goDuration((1 + k % 50) * 600_000L))
              .setHeader("x-ratelimit-limit-tokens", "100000000")
              .setHeader("x-ratelimit-remaining-tokens", Integer.toString(100_000_000 - 100 * (1 + k % 1000)))
              .setHeader("x-ratelimit-reset-tokens", Dialect.goDuration((1 + k % 1000) * 60_000L)).body(body).build();
      }
    });
    server.start(InetAddress.getByName("127.0.0.1"), 0);
    return server;
  }

  /** Calls a pool refused (NoProviderAvailableException), per client. */
  private static final Map<OkHttpClient, java.util.concurrent.atomic.AtomicLong> REFUSED =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static long[] concat(List<long[]> blocks) {
    return blocks.stream().flatMapToLong(Arrays::stream).filter(v -> v >= 0).toArray();
  }

  private static double p50(long[] a) {
    long[] s = Arrays.stream(a).filter(v -> v >= 0).toArray();
    Arrays.sort(s);
    return s[(s.length - 1) / 2];
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (Exception e) {
      return "unknown";
    }
  }
}
