package io.github.llmpool.bench;

import com.sun.net.httpserver.HttpServer;
import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.Strategy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.LongAdder;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSource;

/**
 * The pool's cost per chat call measured from outside, paired call by call: a loopback
 * OpenAI-compatible fake upstream (the JDK's {@code HttpServer}, in this JVM: no third-party mock
 * server can be installed offline here), two default OkHttp clients (one plain, one with the
 * pool's interceptor), and for each pair one chat completion straight to the upstream, then the
 * same call through a two-provider pool whose providers both point at that upstream. The
 * difference of the two wall-clock times is the pool's cost for that call, with the server's and
 * the loopback's noise largely shared by the pair. Many pairs after a warm-up; prints the median,
 * p90 and p99 of the differences and of each side, and writes them as JSON.
 *
 * <p>Both requests carry the same body (the direct one with the model the pool would set) and an
 * API key; the server answers every POST with the same ~1 KB completion with usage. The pooled
 * client is the direct client's {@code newBuilder()} plus the interceptor, so both share one
 * connection pool and dispatcher, like an application that adds the pool to its client.
 *
 * <pre>
 *   java -cp target/benchmarks.jar io.github.llmpool.bench.PairedLatency [pairs] [warmup pairs] [out.json]
 * </pre>
 */
public final class PairedLatency {
  static final String KEY = "sk-bench-not-a-secret";
  static final String MODEL = "gpt-4o-mini-2024-07-18";
  private static final MediaType JSON = MediaType.get("application/json");

  static final String REQUEST = "{\"model\":\"gpt-4o-mini\",\"temperature\":0.2,\"max_tokens\":256,"
      + "\"messages\":[{\"role\":\"system\",\"content\":\"You are a terse assistant that answers in one paragraph.\"},"
      + "{\"role\":\"user\",\"content\":\"Explain in a few sentences why client-side load balancing avoids a network hop.\"}]}";

  static final String RESPONSE = "{\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion\","
      + "\"created\":1743015077,\"model\":\"" + MODEL + "\",\"choices\":[{\"index\":0,\"message\":"
      + "{\"role\":\"assistant\",\"content\":\"Client-side load balancing runs inside the calling process: the client"
      + " keeps a live view of every upstream endpoint, picks one per request with a cheap in-memory decision, and"
      + " connects to it directly. A proxy or gateway puts another process between the two, so every request pays an"
      + " extra network round trip, an extra TLS session and another queue, and the proxy itself must be deployed,"
      + " scaled and monitored.\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":41,\"completion_tokens\":96,\"total_tokens\":137,\"prompt_tokens_details\":"
      + "{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,"
      + "\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},"
      + "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b376dfbbd5\"}";

  private PairedLatency() {}

  public static void main(String[] args) throws Exception {
    int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    Path out = args.length > 2 ? Path.of(args[2]) : null;
    // The JDK server sets TCP_NODELAY only when asked; without it a response written in two
    // segments waits ~40 ms for the client's delayed ACK (see NoDelay).
    System.setProperty("sun.net.httpserver.nodelay", "true");
    byte[] answer = RESPONSE.getBytes(StandardCharsets.UTF_8);
    LongAdder served = new LongAdder();
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    ExecutorService workers = Executors.newFixedThreadPool(2);
    server.setExecutor(workers);
    server.createContext("/v1/chat/completions", exchange -> {
      try (InputStream in = exchange.getRequestBody()) {
        in.readAllBytes();
      }
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.getResponseHeaders().add("x-request-id", "req_6a2b5c9d0e1f");
      exchange.sendResponseHeaders(200, answer.length);
      try (OutputStream o = exchange.getResponseBody()) {
        o.write(answer);
      }
      served.increment();
    });
    server.start();
    String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";

    LongAdder tokens = new LongAdder();
    ProviderPool pool = ProviderPool.builder()
        .tier(Provider.builder("a").baseUrl(base).apiKey(KEY).model(MODEL).build(),
            Provider.builder("b").baseUrl(base).apiKey(KEY).model(MODEL).build())
        .strategy(Strategy.POWER_OF_TWO_CHOICES)
        .onUsage(u -> tokens.add(u.totalTokens()))
        .build();
    OkHttpClient direct = new OkHttpClient();
    OkHttpClient pooled = direct.newBuilder().addInterceptor(pool.interceptor()).build();
    Request directCall = new Request.Builder().url(base + "/chat/completions")
        .header("Authorization", "Bearer " + KEY)
        .post(RequestBody.create(REQUEST.replace("\"gpt-4o-mini\"", "\"" + MODEL + "\""), JSON)).build();
    Request pooledCall = new Request.Builder().url(pool.baseUrl().resolve("chat/completions").toString())
        .post(RequestBody.create(REQUEST, JSON)).build();

    byte[] buf = new byte[8192];
    for (int i = 0; i < warmup; i++) {
      call(direct, directCall, buf, answer.length);
      call(pooled, pooledCall, buf, answer.length);
    }
    long tokens0 = tokens.sum();
    long[] d = new long[pairs];
    long[] p = new long[pairs];
    long[] diff = new long[pairs];
    for (int i = 0; i < pairs; i++) {
      long t0 = System.nanoTime();
      call(direct, directCall, buf, answer.length);
      long t1 = System.nanoTime();
      call(pooled, pooledCall, buf, answer.length);
      long t2 = System.nanoTime();
      d[i] = t1 - t0;
      p[i] = t2 - t1;
      diff[i] = p[i] - d[i];
    }
    if (tokens.sum() - tokens0 != 137L * pairs) {
      throw new IllegalStateException("the pool did not report usage for every call");
    }
    server.stop(0);
    workers.shutdown();
    direct.dispatcher().executorService().shutdown();
    direct.connectionPool().evictAll();

    String json = String.format(Locale.ROOT,
        "{\"pairs\":%d,\"warmup\":%d,\"direct\":%s,\"pooled\":%s,\"added\":%s,\"served\":%d}",
        pairs, warmup, stats(d), stats(p), stats(diff), served.sum());
    System.out.println(json);
    System.out.printf(Locale.ROOT, "paired over %d calls: direct median %.1f us, pooled median %.1f us;"
        + " added by the pool: median %.1f us, p90 %.1f us, p99 %.1f us, mean %.1f us%n", pairs,
        pct(d, 50) / 1e3, pct(p, 50) / 1e3, pct(diff, 50) / 1e3, pct(diff, 90) / 1e3, pct(diff, 99) / 1e3,
        Arrays.stream(diff).average().orElse(0) / 1e3);
    if (out != null) {
      Files.writeString(out, json + "\n");
    }
  }

  private static void call(OkHttpClient client, Request request, byte[] buf, int expect) throws IOException {
    try (Response r = client.newCall(request).execute()) {
      if (r.code() != 200) {
        throw new IOException("HTTP " + r.code());
      }
      BufferedSource s = r.body().source();
      int total = 0;
      for (int n; (n = s.read(buf)) != -1; ) {
        total += n;
      }
      if (total != expect) {
        throw new IOException("short body: " + total);
      }
    }
  }

  private static String stats(long[] v) {
    return String.format(Locale.ROOT, "{\"median_us\":%.2f,\"p10_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"mean_us\":%.2f}",
        pct(v, 50) / 1e3, pct(v, 10) / 1e3, pct(v, 90) / 1e3, pct(v, 99) / 1e3,
        Arrays.stream(v).average().orElse(0) / 1e3);
  }

  private static double pct(long[] v, double q) {
    long[] s = v.clone();
    Arrays.sort(s);
    int i = (int) Math.min(s.length - 1, Math.max(0, Math.round(q / 100 * (s.length - 1))));
    return s[i];
  }
}
