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
 * processes sharing the machine's cores, too noisy for microseconds). Two pools over the same
 * instant loopback fake, each with the same timing interceptors as {@link FleetInstance} (the
 * pool's own time = the call's time minus the time below the pool's interceptor):
 * {@code local} ({@code SharedState.LOCAL_ONLY}) and {@code redis} (a {@link RedisSharedState} of
 * its own, the library's default intervals), while a peer instance (another
 * {@code RedisSharedState}, another pool of the same name) sends calls in the background so that
 * the others' windows keep arriving. Every answer carries OpenAI headers with a changing remaining
 * count, so every call of the redis pool publishes a window. One calling thread; after a warm-up,
 * blocks of calls alternate local / redis / redis / local; the report is each pool's percentiles
 * and the median over blocks of the p50 difference. Real time (no world scaling).
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
    try (FleetRedis redis = FleetRedis.start(); MockWebServer server = instantFake()) {
      String base = "http://127.0.0.1:" + server.getPort() + "/v1";
      RedisSharedState mine = RedisSharedState.builder().uri(redis.uri()).build();
      RedisSharedState peers = RedisSharedState.builder().uri(redis.uri()).build();
      ProviderPool local = pool(base, null);
      ProviderPool shared = pool(base, mine);
      ProviderPool peer = pool(base, peers);
      OkHttpClient lc = FleetInstance.client(local);
      OkHttpClient rc = FleetInstance.client(shared);
      OkHttpClient pc = FleetInstance.client(peer);
      String url = local.baseUrl().resolve("chat/completions").toString();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger peerCalls = new AtomicInteger();
      Thread peerThread = new Thread(() -> {
        while (!stop.get()) {
          call(pc, url);
          peerCalls.incrementAndGet();
          java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L); // ~200 calls/s
        }
      }, "fleet-overhead-peer");
      peerThread.setDaemon(true);
      peerThread.start();

      for (int i = 0; i < warm; i++) {
        call(i % 2 == 0 ? lc : rc, url);
      }
      List<long[]> localBlocks = new ArrayList<>();
      List<long[]> redisBlocks = new ArrayList<>();
      for (int b = 0; b < blocks; b++) {
        boolean localFirst = b % 2 == 0; // local, redis, redis, local, ...
        for (int half = 0; half < 2; half++) {
          boolean isLocal = (half == 0) == localFirst;
          long[] t = new long[perBlock];
          for (int i = 0; i < perBlock; i++) {
            t[i] = call(isLocal ? lc : rc, url);
          }
          (isLocal ? localBlocks : redisBlocks).add(t);
        }
      }
      stop.set(true);
      peerThread.join(5_000);

      double[] diffs = new double[blocks];
      for (int b = 0; b < blocks; b++) {
        diffs[b] = p50(redisBlocks.get(b)) - p50(localBlocks.get(b));
      }
      Arrays.sort(diffs);
      Map<String, Object> doc = Json.obj();
      Map<String, Object> meta = Json.obj();
      meta.put("smoke", smoke);
      meta.put("warmupCalls", warm);
      meta.put("blocks", blocks);
      meta.put("callsPerBlock", perBlock);
      meta.put("peerCalls", peerCalls.get());
      meta.put("redisDownAtEnd", mine.isDown());
      meta.put("redisResyncs", mine.resyncCount());
      meta.put("cpus", Runtime.getRuntime().availableProcessors());
      meta.put("java", System.getProperty("java.version"));
      meta.put("loadAverage", loadStart);
      meta.put("loadAverageEnd", loadAverage());
      meta.put("elapsedSec", Stats.round((System.nanoTime() - started) / 1e9, 1));
      doc.put("meta", meta);
      doc.put("local", FleetExperiment.latency(concat(localBlocks)));
      doc.put("redis", FleetExperiment.latency(concat(redisBlocks)));
      Map<String, Object> d = Json.obj();
      double median = blocks % 2 == 1 ? diffs[blocks / 2] : (diffs[blocks / 2 - 1] + diffs[blocks / 2]) / 2;
      d.put("medianOfBlockP50DiffUs", Stats.round(median / 1e3, 2));
      d.put("minBlockP50DiffUs", Stats.round(diffs[0] / 1e3, 2));
      d.put("maxBlockP50DiffUs", Stats.round(diffs[diffs.length - 1] / 1e3, 2));
      doc.put("redisMinusLocal", d);
      Files.createDirectories(out);
      Json.write(out.resolve("fleet-overhead.json"), doc);
      System.out.printf(Locale.ROOT, "fleet overhead: local %s, redis %s, redis - local p50 per block: median %.2f us"
          + " (%.2f .. %.2f)%n", doc.get("local"), doc.get("redis"), median / 1e3, diffs[0] / 1e3,
          diffs[blocks - 1] / 1e3);
      mine.close();
      peers.close();
    }
  }

  private static ProviderPool pool(String base, RedisSharedState shared) {
    ProviderPool.Builder b = ProviderPool.builder().name("overhead");
    if (shared != null) {
      b.sharedState(shared);
    }
    return b.tier(Provider.builder("a").baseUrl(base).apiKey("sk-overhead").build(),
        Provider.builder("b").baseUrl(base).apiKey("sk-overhead").build()).build();
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
            .setHeader("x-ratelimit-remaining-requests", Integer.toString(99_999 - k % 50_000))
            .setHeader("x-ratelimit-reset-requests", (1 + k % 500) + "ms").setHeader("x-ratelimit-limit-tokens", "100000000")
            .setHeader("x-ratelimit-remaining-tokens", Integer.toString(99_999_000 - k % 1_000_000))
            .setHeader("x-ratelimit-reset-tokens", (1 + k % 500) + "ms").body(body).build();
      }
    });
    server.start(InetAddress.getByName("127.0.0.1"), 0);
    return server;
  }

  private static long[] concat(List<long[]> blocks) {
    return blocks.stream().flatMapToLong(Arrays::stream).toArray();
  }

  private static double p50(long[] a) {
    long[] s = a.clone();
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
