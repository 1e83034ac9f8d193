package io.github.llmpool.bench.jmh;

import io.github.llmpool.Provider;
import io.github.llmpool.ProviderPool;
import io.github.llmpool.Strategy;
import io.github.llmpool.micrometer.LlmPoolAuditLog;
import io.github.llmpool.micrometer.LlmPoolMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
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
 * What binding llmpool-micrometer adds to a call, side by side in one run: the same chat call
 * through the pool's interceptor without any network (a last application interceptor answers with
 * the ~1 KB completion of {@link InterceptorBenchmark}, usage included), read to its end.
 *
 * <ul>
 *   <li>{@code direct}: no pool (the floor: OkHttp's own chain and the body read).</li>
 *   <li>{@code pool}: the pool with a usage listener adding up tokens, as in
 *       {@code InterceptorBenchmark.poolCanned}.</li>
 *   <li>{@code poolMetrics}: the same pool bound with {@code LlmPoolMetrics.bind} to a
 *       {@link SimpleMeterRegistry} (GenAI and router meters, attempt hooks on).</li>
 *   <li>{@code poolMetricsAuditOff}: metrics and the audit log, its logger off for INFO (the
 *       default here: slf4j-simple at warn).</li>
 *   <li>{@code poolAuditOff}: the audit log alone, its logger off: what the audit hooks cost when
 *       nobody reads them.</li>
 * </ul>
 *
 * <p>Read {@code poolMetrics - pool} as the binding's cost per call (time with {@code -prof gc}'s
 * {@code gc.alloc.rate.norm} for bytes). Warm-up as {@code InterceptorBenchmark}: the pooled path
 * needs ~10 one-second iterations to be compiled.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 12, time = 1)
@Measurement(iterations = 8, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
@State(Scope.Benchmark)
public class MetricsBenchmark {
  static final String KEY = "sk-bench-not-a-secret";
  static final String MODEL = "gpt-4o-mini-2024-07-18";
  private static final MediaType JSON = MediaType.get("application/json");
  private static final byte[] CHAT_BYTES = Fixtures.CHAT_RESPONSE.getBytes(StandardCharsets.UTF_8);

  private OkHttpClient direct;
  private OkHttpClient plain;
  private OkHttpClient metrics;
  private OkHttpClient metricsAudit;
  private OkHttpClient audit;
  private Request directRequest;
  private Request poolRequest;
  private SimpleMeterRegistry registry;
  private SimpleMeterRegistry registryAudit;
  final LongAdder tokens = new LongAdder();

  private static ProviderPool.Builder pool(String name) {
    return ProviderPool.builder().name(name)
        .tier(Provider.builder("local").baseUrl("http://127.0.0.1:9/v1").apiKey(KEY).model(MODEL).build())
        .strategy(Strategy.POWER_OF_TWO_CHOICES);
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    Interceptor canned = chain -> new Response.Builder()
        .request(chain.request())
        .protocol(Protocol.HTTP_1_1)
        .code(200)
        .message("OK")
        .header("Content-Type", "application/json")
        .header("x-request-id", "req_6a2b5c9d0e1f")
        .body(ResponseBody.create(CHAT_BYTES, JSON))
        .build();
    ProviderPool plainPool = pool("plain").onUsage(u -> tokens.add(u.totalTokens())).build();
    registry = new SimpleMeterRegistry();
    ProviderPool metricsPool = LlmPoolMetrics.bind(pool("metrics").onUsage(u -> tokens.add(u.totalTokens())), registry);
    registryAudit = new SimpleMeterRegistry();
    ProviderPool metricsAuditPool = LlmPoolMetrics.builder(registryAudit).auditLog(true).build()
        .build(pool("audited").onUsage(u -> tokens.add(u.totalTokens())));
    ProviderPool auditPool = LlmPoolAuditLog.configure(pool("audit").onUsage(u -> tokens.add(u.totalTokens()))).build();

    direct = new OkHttpClient.Builder().addInterceptor(canned).build();
    plain = new OkHttpClient.Builder().addInterceptor(plainPool.interceptor()).addInterceptor(canned).build();
    metrics = new OkHttpClient.Builder().addInterceptor(metricsPool.interceptor()).addInterceptor(canned).build();
    metricsAudit = new OkHttpClient.Builder().addInterceptor(metricsAuditPool.interceptor()).addInterceptor(canned)
        .build();
    audit = new OkHttpClient.Builder().addInterceptor(auditPool.interceptor()).addInterceptor(canned).build();

    String body = Fixtures.CHAT_REQUEST;
    directRequest = new Request.Builder().url("http://127.0.0.1:9/v1/chat/completions")
        .header("Authorization", "Bearer " + KEY)
        .post(RequestBody.create(body.replace("\"gpt-4o-mini\"", "\"" + MODEL + "\""), JSON)).build();
    poolRequest = new Request.Builder().url(plainPool.baseUrl().resolve("chat/completions").toString())
        .post(RequestBody.create(body, JSON)).build();
    check();
  }

  /** Every variant reads the whole completion and the bound pools record it: fail the run otherwise. */
  private void check() throws IOException {
    long size = CHAT_BYTES.length;
    for (long got : new long[] {direct(), pool(), poolMetrics(), poolMetricsAuditOff(), poolAuditOff()}) {
      if (got != size) {
        throw new IllegalStateException("read " + got + " bytes, expected " + size);
      }
    }
    checkRecorded(registry, 1);
    checkRecorded(registryAudit, 1);
  }

  private static void checkRecorded(SimpleMeterRegistry r, long atLeast) {
    long n = r.get("gen_ai.client.operation.duration").timer().count();
    double in = r.get("gen_ai.client.token.usage").tag("gen_ai.token.type", "input").summary().totalAmount();
    if (n < atLeast || in <= 0) {
      throw new IllegalStateException("the binding recorded nothing: duration count " + n + ", input tokens " + in);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    checkRecorded(registry, 1);
    if (tokens.sum() == 0) {
      throw new IllegalStateException("no usage was reported");
    }
  }

  private static long call(OkHttpClient client, Request request) throws IOException {
    try (Response r = client.newCall(request).execute()) {
      return InterceptorBenchmark.read(r);
    }
  }

  @Benchmark
  public long direct() throws IOException {
    return call(direct, directRequest);
  }

  @Benchmark
  public long pool() throws IOException {
    return call(plain, poolRequest);
  }

  @Benchmark
  public long poolMetrics() throws IOException {
    return call(metrics, poolRequest);
  }

  @Benchmark
  public long poolMetricsAuditOff() throws IOException {
    return call(metricsAudit, poolRequest);
  }

  @Benchmark
  public long poolAuditOff() throws IOException {
    return call(audit, poolRequest);
  }
}
