package io.github.llmpool.bench.jmh;

import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.Strategy;
import io.github.llmpool.TokenUsage;
import io.github.llmpool.bench.NoDelay;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The same POST over loopback HTTP/1.1 to a MockWebServer, once with a plain OkHttp client
 * ({@code direct*}) and once through the pool's interceptor ({@code pool*}), the response body
 * read to its end through an 8 KiB array. The pool has one provider (the same server) with a
 * model override and an API key, and a usage listener that adds up tokens; the direct request
 * carries the same key and model itself, so both send equivalent requests and the server does the
 * same work: the difference is what the interceptor adds (plan, pick, rewrite, lease, usage tap,
 * usage record).
 *
 * <ul>
 *   <li>{@code directChat} / {@code poolChat}: a ~1 KB chat completion with usage (JSON).</li>
 *   <li>{@code directCanned} / {@code poolCanned}: the chat call without any network: a last
 *       application interceptor answers with the same completion. The difference is the pool's own
 *       CPU time and allocation per call, free of loopback and server noise.</li>
 *   <li>{@code directStream} / {@code poolStream}: a 4 MiB {@code chat.completion.chunk} stream
 *       ({@link Fixtures#sseStream}), chunked transfer encoding, usage in the last chunk: the usage
 *       tap's throughput over a real socket. {@code directStreamForwarded}: the direct call read
 *       through the tap's extra buffering layer, without parsing (a control).</li>
 * </ul>
 *
 * <p>Both ends set {@code TCP_NODELAY} (as production servers and proxies do): with Nagle's
 * algorithm on, a response written in two segments waits for the client's delayed ACK and every
 * call takes ~40 ms on Linux loopback, which would measure the kernel's timer, not the pool.
 *
 * <p>Warm-up is 15 one-second iterations: the pooled path (request plan, JSON scan and rewrite,
 * usage parser) is still being compiled after 3 (per call: ~1,800, 500, 270, 210, 160 µs in the
 * first iterations, ~95 µs from the tenth on, on the 2-core machine of the README), and a short
 * warm-up would charge JIT time to the pool.
 *
 * <p>The server runs in the benchmark's JVM, so its time and allocation are in every figure, the
 * same in both variants; read the difference, not the absolute value. The server records every
 * request; the queue is drained after each iteration.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 15, time = 1)
@Measurement(iterations = 10, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
@State(Scope.Benchmark)
public class InterceptorBenchmark {
  static final String KEY = "sk-bench-not-a-secret";
  static final String MODEL = "gpt-4o-mini-2024-07-18";
  static final int STREAM_BYTES = 4 << 20;
  private static final MediaType JSON = MediaType.get("application/json");
  private static final byte[] CHAT_BYTES = Fixtures.CHAT_RESPONSE.getBytes(StandardCharsets.UTF_8);

  private MockWebServer server;
  private OkHttpClient direct;
  private OkHttpClient pooled;
  private ProviderPool pool;
  private Request directChat;
  private Request poolChat;
  private Request directStream;
  private Request poolStream;
  private OkHttpClient cannedDirect;
  private OkHttpClient cannedPooled;
  private Request cannedDirectChat;
  final LongAdder tokens = new LongAdder();
  final LongAdder records = new LongAdder();
  final AtomicReference<TokenUsage> last = new AtomicReference<>();
  private byte[] stream;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    stream = Fixtures.sseStream(STREAM_BYTES);
    MockResponse chat = new MockResponse.Builder()
        .code(200)
        .addHeader("Content-Type", "application/json")
        .addHeader("x-request-id", "req_6a2b5c9d0e1f")
        .addHeader("openai-processing-ms", "412")
        .addHeader("x-ratelimit-remaining-requests", "9999")
        .addHeader("x-ratelimit-remaining-tokens", "199863")
        .body(Fixtures.CHAT_RESPONSE)
        .build();
    MockResponse sse = new MockResponse.Builder()
        .code(200)
        .addHeader("Content-Type", "text/event-stream; charset=utf-8")
        .addHeader("x-request-id", "req_6a2b5c9d0e20")
        .chunkedBody(new Buffer().write(stream), 8192)
        .build();
    server = new MockWebServer();
    server.setServerSocketFactory(NoDelay.server());
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return request.getHeaders().get("x-bench-stream") != null ? sse : chat;
      }
    });
    server.start(InetAddress.getLoopbackAddress(), 0);

    direct = new OkHttpClient.Builder().socketFactory(NoDelay.client()).build();
    pool = ProviderPool.builder()
        .tier(Provider.builder("local")
            .baseUrl(server.url("/v1").toString())
            .apiKey(KEY)
            .model(MODEL)
            .build())
        .strategy(Strategy.POWER_OF_TWO_CHOICES)
        .onUsage(u -> {
          tokens.add(u.totalTokens());
          records.increment();
          last.set(u);
        })
        .build();
    pooled = new OkHttpClient.Builder().socketFactory(NoDelay.client())
        .addInterceptor(pool.interceptor()).build();

    // No network: a last application interceptor answers every request itself.
    Interceptor canned = chain -> new Response.Builder()
        .request(chain.request())
        .protocol(Protocol.HTTP_1_1)
        .code(200)
        .message("OK")
        .header("Content-Type", "application/json")
        .header("x-request-id", "req_6a2b5c9d0e1f")
        .body(ResponseBody.create(CHAT_BYTES, JSON))
        .build();
    cannedDirect = new OkHttpClient.Builder().addInterceptor(canned).build();
    cannedPooled = new OkHttpClient.Builder().addInterceptor(pool.interceptor()).addInterceptor(canned).build();

    String chatBody = Fixtures.CHAT_REQUEST;
    String streamBody = chatBody.substring(0, chatBody.length() - 1)
        + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
    String directChatBody = chatBody.replace("\"gpt-4o-mini\"", "\"" + MODEL + "\"");
    String directStreamBody = streamBody.replace("\"gpt-4o-mini\"", "\"" + MODEL + "\"");
    String directUrl = server.url("/v1/chat/completions").toString();
    String poolUrl = pool.baseUrl().resolve("chat/completions").toString();
    directChat = new Request.Builder().url(directUrl).header("Authorization", "Bearer " + KEY)
        .post(RequestBody.create(directChatBody, JSON)).build();
    directStream = new Request.Builder().url(directUrl).header("Authorization", "Bearer " + KEY)
        .header("x-bench-stream", "1").post(RequestBody.create(directStreamBody, JSON)).build();
    poolChat = new Request.Builder().url(poolUrl).post(RequestBody.create(chatBody, JSON)).build();
    cannedDirectChat = directChat;
    poolStream = new Request.Builder().url(poolUrl).header("x-bench-stream", "1")
        .post(RequestBody.create(streamBody, JSON)).build();
    check();
  }

  /** Both paths send the same request and the pool reports usage: fail the run otherwise. */
  private void check() throws Exception {
    long size = Fixtures.CHAT_RESPONSE.getBytes(StandardCharsets.UTF_8).length;
    expect(directChat(), size, "directChat");
    RecordedRequest d = server.takeRequest(5, TimeUnit.SECONDS);
    expect(poolChat(), size, "poolChat");
    RecordedRequest p = server.takeRequest(5, TimeUnit.SECONDS);
    if (!d.getUrl().encodedPath().equals(p.getUrl().encodedPath())
        || !("Bearer " + KEY).equals(p.getHeaders().get("Authorization"))
        || !d.getBody().utf8().equals(p.getBody().utf8())) {
      throw new IllegalStateException("direct and pooled requests differ:\n" + d + " " + d.getBody().utf8()
          + "\n" + p + " " + p.getBody().utf8() + " auth=" + p.getHeaders().get("Authorization"));
    }
    TokenUsage u = last.get();
    if (u == null || u.totalTokens() != 137 || !u.reported()) {
      throw new IllegalStateException("usage not reported: " + u);
    }
    long records0 = records.sum();
    expect(directCanned(), size, "directCanned");
    expect(poolCanned(), size, "poolCanned");
    if (records.sum() != records0 + 1 || last.get().totalTokens() != 137) {
      throw new IllegalStateException("canned pooled call reported no usage: " + last.get());
    }
    expect(directStream(), stream.length, "directStream");
    expect(poolStream(), stream.length, "poolStream");
    expect(directStreamForwarded(), stream.length, "directStreamForwarded");
    u = last.get();
    if (!u.streamed() || u.tokens().completion() != Fixtures.sseCompletionTokens(stream)) {
      throw new IllegalStateException("stream usage not reported: " + u);
    }
    drain();
  }

  private static void expect(long got, long want, String what) {
    if (got != want) {
      throw new IllegalStateException(what + " read " + got + " bytes, expected " + want);
    }
  }

  @TearDown(Level.Iteration)
  public void drain() throws InterruptedException {
    while (server.takeRequest(0, TimeUnit.MILLISECONDS) != null) {
      // the server keeps every request it received; do not let them pile up
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    direct.dispatcher().executorService().shutdown();
    direct.connectionPool().evictAll();
    pooled.dispatcher().executorService().shutdown();
    pooled.connectionPool().evictAll();
    cannedDirect.dispatcher().executorService().shutdown();
    cannedPooled.dispatcher().executorService().shutdown();
    server.close();
    if (records.sum() == 0 || tokens.sum() == 0) {
      throw new IllegalStateException("the usage listener saw nothing");
    }
  }

  /** Reads a body to its end through an 8 KiB array; returns the byte count. */
  static long read(Response response) throws IOException {
    if (!response.isSuccessful()) {
      throw new IOException("HTTP " + response.code());
    }
    ResponseBody body = response.body();
    BufferedSource source = body.source();
    byte[] buf = new byte[8192];
    long total = 0;
    for (int n; (n = source.read(buf)) != -1; ) {
      total += n;
    }
    return total;
  }

  @Benchmark
  public long directChat() throws IOException {
    try (Response r = direct.newCall(directChat).execute()) {
      return read(r);
    }
  }

  @Benchmark
  public long poolChat() throws IOException {
    try (Response r = pooled.newCall(poolChat).execute()) {
      return read(r);
    }
  }

  /** {@code directChat} without the network: the response comes from an interceptor. */
  @Benchmark
  public long directCanned() throws IOException {
    try (Response r = cannedDirect.newCall(cannedDirectChat).execute()) {
      return read(r);
    }
  }

  /** {@code poolChat} without the network: the pool's own CPU time and allocation per call. */
  @Benchmark
  public long poolCanned() throws IOException {
    try (Response r = cannedPooled.newCall(poolChat).execute()) {
      return read(r);
    }
  }

  @Benchmark
  public long directStream() throws IOException {
    try (Response r = direct.newCall(directStream).execute()) {
      return read(r);
    }
  }

  /**
   * A control for {@code poolStream}: the direct call, read through the same extra layer the usage
   * tap puts around a body ({@code Okio.buffer(new ForwardingSource(body.source()))}), without
   * parsing. The difference to {@code directStream} is what that layering costs; the rest of
   * {@code poolStream - directStream} is the pool and the parser.
   */
  @Benchmark
  public long directStreamForwarded() throws IOException {
    try (Response r = direct.newCall(directStream).execute()) {
      if (!r.isSuccessful()) {
        throw new IOException("HTTP " + r.code());
      }
      BufferedSource source = Okio.buffer(new ForwardingSource(r.body().source()) {});
      byte[] buf = new byte[8192];
      long total = 0;
      for (int n; (n = source.read(buf)) != -1; ) {
        total += n;
      }
      return total;
    }
  }

  @Benchmark
  public long poolStream() throws IOException {
    try (Response r = pooled.newCall(poolStream).execute()) {
      return read(r);
    }
  }
}
